// The job runner. Each pass reaps expired leases, then for every active job
// that may need it: starts it, stops it when its budget is spent, records its
// front and hypervolume as trials complete, and keeps up to
// max_parallel_trials in flight with the optimiser's suggestions.
//
// Stateless: everything a pass decides comes from the database, the front and
// the completed trials the last hypervolume covered included (job_hypervolume),
// so a restarted controller, or another replica, carries on where it stopped,
// and a pass is idempotent.
//
// Incremental: a pass looks only at the jobs whose state, or one of whose
// trials' states, changed since the previous pass began (a watermark on the
// transaction ids that stamp those rows: sql/0005_scheduler_changes.sql), plus
// running jobs past their wall-time budget and jobs whose last attempt failed.
// The watermark is kept in memory only and nothing depends on it surviving: a
// scheduler without one (just started, just elected) does a full pass over
// every active job, and so does every full_pass_interval.
//
// The store is any store::SchedulerStore (the PostgreSQL store::Store in the
// controller; one in memory in the unit tests); RunOnce() needs nothing else.
//
// One leader among replicas: Start() runs a loop that holds the PostgreSQL
// session-level advisory lock store::kSchedulerLeaderLock
// (hilnas/store/leader_lock.h) on a connection of its own to
// SchedulerOptions::leader_dsn (the store's database), and schedules only
// while it holds it. Any number of replicas may run the scheduler
// (scheduler.enabled); the others keep serving RPCs and try for the lock every
// election_interval, so when the leader stops, is killed or loses its
// connection, another takes over within about election_interval (plus up to
// ~15 s of TCP keepalives when the leader's host vanishes). A leader that finds
// its lock connection gone stops scheduling at once, between two jobs. Besides,
// new trials are added only if the job's last trial number is the one the
// decision was made on, so even two schedulers at once never add trials twice.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "hilnas/store/leader_lock.h"
#include "hilnas/store/repositories.h"

namespace hilnas::controller {

struct SchedulerOptions {
    // The database whose advisory lock elects the leader: the store's own. Empty:
    // Start() refuses (FailedPrecondition); RunOnce() works without it.
    std::string leader_dsn;
    std::chrono::milliseconds tick{1000};  // between passes, while leading
    int reap_limit = 200;
    // How often a replica that does not lead tries for the leader lock.
    std::chrono::milliseconds election_interval{2000};
    // A full pass over every active job at least this often (0: every pass).
    std::chrono::milliseconds full_pass_interval{300000};
    // Called on the scheduler's thread when this replica starts or stops leading.
    std::function<void(bool leader)> on_leadership;
};

// What one pass did.
struct PassStats {
    bool full = false;     // every active job, not only the changed ones
    int jobs = 0;          // jobs looked at
    int trials_read = 0;   // trial rows read for them
    int trials_added = 0;  // new trials inserted
};

class Scheduler {
  public:
    // The leader lock connects to options.leader_dsn, when Start() runs.
    Scheduler(store::SchedulerStore& store, SchedulerOptions options);
    ~Scheduler();

    // Runs the leader loop on a thread of its own: try for the lock, and while
    // holding it, a pass every tick (sooner after Wake()). FailedPrecondition
    // without a leader_dsn: a loop that could never lead would look like a
    // follower for ever.
    void Start();
    // Stops the loop and gives the lock up (another replica takes over).
    void Stop();
    // Runs a pass soon (a job arrived, a trial finished); nothing on a follower.
    void Wake();
    // One pass on the calling thread, without the leader lock (tests and tools).
    PassStats RunOnce();

    // Whether this replica holds the leader lock now.
    bool leader() const { return leader_.load(); }
    // How many times this replica became the leader.
    int terms() const { return terms_.load(); }
    // Passes the loop has run while leading.
    int64_t passes() const { return passes_.load(); }
    PassStats last_pass() const;
    // The server process of the leader lock's session (0: none); tests kill it.
    int lock_backend_pid() const { return lock_.backend_pid(); }

  private:
    struct LeadershipLost {};

    void Loop();
    void TryToLead();
    void StopLeading(const std::string& why);
    PassStats Pass(const std::function<bool()>& still_leader);
    void AdvanceJob(const v1::Job& job, PassStats& stats);
    void RecordFront(const v1::Job& job, const std::vector<v1::Trial>& complete,
                     int recorded_completed_trials);

    store::SchedulerStore& store_;
    SchedulerOptions options_;
    store::LeaderLock lock_;  // used by the loop's thread only
    std::atomic<bool> leader_{false};
    std::atomic<int> terms_{0};
    std::atomic<int64_t> passes_{0};
    bool standing_by_logged_ = false;

    std::mutex mu_;
    std::condition_variable cv_;
    bool woken_ = false;
    bool stopping_ = false;
    std::thread thread_;

    // Guarded by pass_mu_ (one pass at a time). A hint, not state: losing it
    // (a restart) costs one full pass.
    mutable std::mutex pass_mu_;
    std::optional<uint64_t> watermark_;
    std::chrono::steady_clock::time_point last_full_pass_{};
    std::set<std::string> retry_;  // jobs whose last attempt failed
    PassStats last_pass_;
};

}  // namespace hilnas::controller
