// The job runner. Each pass reaps expired leases, then for every active job:
// starts it, stops it when its budget is spent, records its front and
// hypervolume as trials complete, and keeps up to max_parallel_trials in
// flight with the optimiser's suggestions. Everything it decides comes from
// the database, so a restarted controller carries on where it stopped, and a
// pass is idempotent.
//
// One scheduler per database: replicas beyond the first serve the gRPC
// services with the scheduler turned off (scheduler.enabled: false).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "hilnas/store/store.h"

namespace hilnas::controller {

struct SchedulerOptions {
    std::chrono::milliseconds tick{1000};
    int reap_limit = 200;
};

class Scheduler {
  public:
    Scheduler(store::Store& store, SchedulerOptions options);
    ~Scheduler();

    void Start();
    void Stop();
    // Runs a pass soon (a job arrived, a trial finished).
    void Wake();
    // One pass, on the calling thread (tests drive it directly).
    void RunOnce();

  private:
    void Loop();
    void AdvanceJob(const v1::Job& job);
    void RecordFront(const v1::Job& job, const std::vector<v1::Trial>& complete);

    store::Store& store_;
    SchedulerOptions options_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool woken_ = false;
    bool stopping_ = false;
    std::thread thread_;
    std::mutex pass_mu_;  // one pass at a time
    // Per job: completed trials the last recorded hypervolume covered, and the front.
    std::map<std::string, int> recorded_;
    std::map<std::string, std::set<std::string>> fronts_;
};

}  // namespace hilnas::controller
