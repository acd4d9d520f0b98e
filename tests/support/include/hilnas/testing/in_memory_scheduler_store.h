// A store::SchedulerStore in memory, for unit tests of the scheduler without
// PostgreSQL. It keeps the contracts of repositories.h for the six calls: the
// job state machine (stopping a job turns its unleased trials STALE), trials
// numbered after the last and fenced on `after_number`, a front refused when
// one for as many completed trials is recorded, the scheduling view, and a
// change watermark (here a counter that every job or trial state change bumps).
//
// It has no leases with expiries: a trial is "leased" while TRAINING or
// MEASURING (see Claim), and ReapExpiredLeases() reaps none, only finishing the
// cancellations whose last leased trial has ended. Users, trainers and the
// clock are played by the test through the helpers below. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "hilnas/store/repositories.h"

namespace hilnas::testing {

// Whether the job state machine allows `from` -> `to` (the one the schema
// enforces: hilnas_job_transition_ok in sql/0001_core.sql).
bool JobTransitionAllowed(v1::JobState from, v1::JobState to);

class InMemorySchedulerStore final : public store::SchedulerStore {
  public:
    // One call of RecordFront that recorded something.
    struct RecordedFront {
        store::HypervolumePoint point;
        std::vector<std::string> trial_ids;  // sorted
    };

    // ---- What users, trainers and the clock do (not SchedulerStore) ----
    // A new PENDING job with `spec` as it is (not normalised); returns its id.
    std::string CreateJob(const v1::JobSpec& spec, const std::string& owner = "test");
    // With its trial counts and latest hypervolume. NotFound for an unknown job.
    v1::Job GetJob(const std::string& job_id) const;
    // The job's trials by number, whole (candidate, parent, objectives, last_error).
    std::vector<v1::Trial> Trials(const std::string& job_id) const;
    // The fronts RecordFront recorded for the job, oldest first.
    std::vector<RecordedFront> Fronts(const std::string& job_id) const;
    // As store::Store::CancelJob: PENDING/RUNNING -> CANCELLING (leased
    // trials) or CANCELLED, unleased trials STALE; a CANCELLING job as it is;
    // FailedPrecondition for a finished job.
    v1::Job CancelJob(const std::string& job_id, const std::string& reason);
    // A trainer claims the trial: PENDING -> TRAINING (leased). FailedPrecondition
    // unless PENDING on a RUNNING job.
    void Claim(const std::string& trial_id);
    // A trainer reports the trial: PENDING (claimed on the way) or leased ->
    // COMPLETE with `objectives`; STALE instead when its job has stopped.
    // Returns the trial's new state. FailedPrecondition for a finished trial.
    v1::TrialState Complete(const std::string& trial_id,
                            const std::vector<v1::ObjectiveValue>& objectives);
    // As Complete, to FAILED with `reason` (no attempts left).
    v1::TrialState Fail(const std::string& trial_id, const std::string& reason);
    // As Complete, to INFEASIBLE with `reason` and what is known of its objectives.
    v1::TrialState MarkInfeasible(const std::string& trial_id, const std::string& reason,
                                  const std::vector<v1::ObjectiveValue>& objectives = {});
    // Moves the RUNNING job's start back by `by`, as time passing would: no change
    // the watermark sees, yet its wall-time budget may now be spent.
    void BackdateStart(const std::string& job_id, std::chrono::seconds by);
    // Runs `hook` once, at the start of the next InsertTrials call (with no lock
    // held, so it may call the store): what happens between a scheduler's read
    // of a job and its write.
    void BeforeNextInsert(std::function<void()> hook);

    // ---- store::SchedulerStore ----
    store::ReapReport ReapExpiredLeases(int limit = 100) override;
    store::ActiveJobs ListActiveJobs(std::optional<uint64_t> since,
                                     const std::vector<std::string>& also = {}) override;
    v1::Job SetJobState(const std::string& job_id, v1::JobState state,
                        const std::string& reason) override;
    store::SchedulingView LoadSchedulingView(const std::string& job_id) override;
    std::vector<std::string> InsertTrials(const std::string& job_id,
                                          const std::vector<store::NewTrial>& trials,
                                          std::optional<int> after_number = std::nullopt) override;
    bool RecordFront(const std::string& job_id, const store::HypervolumePoint& point,
                     const std::vector<std::string>& front_trial_ids) override;

  private:
    struct Job {
        v1::Job job;                      // without trial counts and hypervolume
        std::vector<std::string> trials;  // ids, by number
        std::vector<RecordedFront> fronts;
        uint64_t changed = 0;  // the counter at its last state change or a trial's
    };

    Job& JobLocked(const std::string& job_id);
    const Job& JobLocked(const std::string& job_id) const;
    v1::Trial& TrialLocked(const std::string& trial_id);
    v1::Job ViewLocked(const Job& job) const;
    void StampLocked(Job& job) { job.changed = ++counter_; }
    // The job's unleased trials (PENDING, TRAINED) -> STALE.
    void StaleUnleasedLocked(Job& job, const std::string& reason);
    // Ends an unfinished trial in `state`, or STALE when its job has stopped.
    v1::TrialState FinishLocked(const std::string& trial_id, v1::TrialState state,
                                const std::string& reason,
                                const std::vector<v1::ObjectiveValue>& objectives);

    mutable std::mutex mu_;
    std::map<std::string, Job> jobs_;
    std::vector<std::string> job_order_;  // oldest first
    std::map<std::string, v1::Trial> trials_;
    uint64_t counter_ = 0;
    uint64_t next_id_ = 0;
    std::function<void()> before_insert_;
};

}  // namespace hilnas::testing
