// The store's public API, one small interface per concern, in the project's
// own types (types.h). store::Store (store.h, PostgreSQL) implements them all;
// a component depends on the one it uses, so it can be tested against an
// implementation in memory (the scheduler: SchedulerStore).
//
// What every implementation promises. Every call is atomic: a call that throws
// has changed nothing. Errors are hilnas::Error with a canonical code and a
// message fit for clients (never SQL text):
//   InvalidArgument     a malformed value; field() names it ("trial_id", ...)
//   NotFound            an unknown job, trial, lease, artifact, agent or board
//   AlreadyExists       request_id reused with another spec; a second artifact of a kind
//   FailedPrecondition  valid but not in this state: a lease no longer held, an
//                       invalid state transition, a board out of service
//   ResourceExhausted   an artifact over the store's artifact size limit
//   Unavailable         the database cannot be reached (retry with back-off)
//   DeadlineExceeded    a statement ran past the statement timeout
//
// The job state machine: PENDING -> RUNNING, CANCELLING, CANCELLED or FAILED;
// RUNNING -> CANCELLING, CANCELLED, COMPLETED or FAILED; CANCELLING ->
// CANCELLED or FAILED. CANCELLED, COMPLETED and FAILED are final. Setting a
// job to the state it is in changes nothing.
//
// The trial state machine: PENDING -> TRAINING -> (TRAINED -> MEASURING ->)
// COMPLETE; a leased trial may go back to PENDING (training) or TRAINED
// (measuring) for another attempt; any unfinished trial may end FAILED,
// INFEASIBLE or STALE. COMPLETE, FAILED, INFEASIBLE and STALE are final.
//
// The queue. Trainers claim pending trials, board agents claim trained ones for
// their board's type, each under a lease: a random lease id, the holder's id and
// an expiry computed with the store's clock. Any number of clients (and
// controller replicas) claim each trial exactly once. Holders renew their lease
// with heartbeats; ReapExpiredLeases() returns expired ones to the queue
// (attempts + 1) or fails the trial once it has used the job's max attempts. A
// lease is held until it ends (completed, failed, reaped or cancelled); a call
// on an ended lease is refused with FailedPrecondition saying why, and changes
// nothing. `attempts` counts the attempts that failed or expired, over training
// and measurement together; Lease.attempt is attempts + 1.
//
// Jobs that stop (cancelled, completed or failed) turn their unleased trials
// (PENDING, TRAINED) STALE at once; a leased trial turns STALE when its holder
// next calls (the heartbeat answers STOP) or its lease is reaped. A cancelled
// job stays CANCELLING until its last lease ends; ReapExpiredLeases() then
// makes it CANCELLED.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hilnas/store/types.h"
#include "hilnas/v1/common.pb.h"
#include "hilnas/v1/farm_service.pb.h"
#include "hilnas/v1/job.pb.h"
#include "hilnas/v1/search_service.pb.h"
#include "hilnas/v1/trial.pb.h"

namespace hilnas::store {

// Jobs and their trials, as users submit, list and cancel them.
class JobRepository {
  public:
    virtual ~JobRepository() = default;

    // Stores a new PENDING job. The spec is kept whole (JSONB); dataset, board
    // type, objectives, max attempts and whether trials are measured are copied
    // into columns. With a request_id, a repeated call with the same spec returns
    // the existing job and one with another spec is AlreadyExists.
    virtual v1::Job CreateJob(const std::string& owner, const v1::JobSpec& spec,
                              const std::string& request_id = {}) = 0;
    virtual v1::Job GetJob(const std::string& job_id) = 0;
    // page_size 0: 50; at most 1000. InvalidArgument for a token that is not ours.
    virtual JobPage ListJobs(const JobFilter& filter, int page_size,
                             const std::string& page_token) = 0;
    // RUNNING, COMPLETED or FAILED (reason becomes the job's error); anything
    // else is InvalidArgument. RUNNING sets started_at the first time. Stopping
    // a job turns its unleased trials STALE. FailedPrecondition for a
    // transition the job state machine does not allow.
    virtual v1::Job SetJobState(const std::string& job_id, v1::JobState state,
                                const std::string& reason) = 0;
    // PENDING/RUNNING -> CANCELLING (trials under lease) or CANCELLED; a
    // CANCELLING job is returned as it is; FailedPrecondition for a finished job.
    virtual v1::Job CancelJob(const std::string& job_id, const std::string& reason) = 0;

    // Appends PENDING trials numbered after the job's last; returns their ids in
    // order. FailedPrecondition when the job has stopped. With `after_number`,
    // only when the job's last trial number is exactly that (0: no trials yet),
    // else FailedPrecondition: a scheduler that decided on a stale view of the
    // job adds nothing, so two schedulers never add the same trials twice.
    // NotFound for a parent that is not a trial of the job.
    virtual std::vector<std::string> InsertTrials(
        const std::string& job_id, const std::vector<NewTrial>& trials,
        std::optional<int> after_number = std::nullopt) = 0;
    // With metrics, objectives, measurements, artifact references and on_front.
    virtual v1::Trial GetTrial(const std::string& trial_id) = 0;
    virtual TrialPage ListTrials(const std::string& job_id, v1::TrialState state, int page_size,
                                 const std::string& page_token) = 0;
    // PENDING -> INFEASIBLE (rejected by the cost model before training).
    virtual void MarkTrialInfeasible(const std::string& trial_id, const std::string& reason) = 0;
};

// The durable work queue: training (trainer workers), measurement (board
// agents), and the leases of both.
class TrialQueue {
  public:
    virtual ~TrialQueue() = default;

    // ---- Training ----
    // Claims the oldest pending trial of a running job whose dataset the worker
    // has (capabilities.datasets; empty: any), and records the worker. nullopt
    // when there is none. lease 0: the store's default lease.
    virtual std::optional<TrialLease> ClaimTrial(const std::string& worker_id,
                                                 const v1::WorkerCapabilities& capabilities,
                                                 std::chrono::milliseconds lease = {}) = 0;
    // Training result -> TRAINED (or COMPLETE when the job skips measurement).
    // Returns STALE instead when the job has stopped meanwhile.
    virtual v1::TrialState CompleteTrial(const std::string& worker_id, const std::string& lease_id,
                                         const TrainingResult& result) = 0;
    // Retryable: PENDING again while attempts < max attempts; else FAILED.
    virtual v1::TrialState FailTrial(const std::string& worker_id, const std::string& lease_id,
                                     const Failure& failure) = 0;

    // ---- Measurement ----
    // Claims the oldest trained trial whose job targets this board's type.
    // NotFound for an unknown board or one of another agent; FailedPrecondition
    // when the board is inactive, not GOOD/UNKNOWN, or already measuring.
    virtual std::optional<MeasurementLease> ClaimMeasurement(
        const std::string& agent_id, const std::string& board_id,
        std::chrono::milliseconds lease = {}) = 0;
    virtual v1::TrialState CompleteMeasurement(const std::string& agent_id,
                                               const std::string& lease_id,
                                               const MeasurementResult& result) = 0;
    // infeasible: INFEASIBLE. board_fault: TRAINED again without spending an
    // attempt; the board becomes BAD after the store's board failure limit of
    // faults in a row. Otherwise like FailTrial (back to TRAINED while attempts
    // remain).
    virtual v1::TrialState FailMeasurement(const std::string& agent_id, const std::string& lease_id,
                                           const Failure& failure) = 0;

    // ---- Leases, for both queues ----
    // The job whose trial `lease_id` is (or was) leasing. NotFound for a lease
    // never issued.
    virtual v1::Job JobOfLease(const std::string& lease_id) = 0;
    // Extends the lease to now + `lease` (the store's clock). Answers STOP, and
    // ends the lease (trial STALE), when the job has stopped.
    // NotFound: unknown lease; FailedPrecondition: ended, held by another, or
    // of the other kind than `kind` (a trainer cannot renew a measurement's
    // lease, nor an agent a training lease).
    virtual LeaseRenewal RenewLease(const std::string& holder_id, const std::string& lease_id,
                                    std::chrono::milliseconds lease = {},
                                    std::optional<LeaseKind> kind = std::nullopt) = 0;
    // Appends a progress event; the same checks and STOP as RenewLease.
    virtual v1::LeaseAction ReportProgress(const std::string& holder_id,
                                           const std::string& lease_id,
                                           const v1::TrialProgress& progress,
                                           std::optional<LeaseKind> kind = std::nullopt) = 0;
    // Ends up to `limit` leases whose expiry (the store's clock) has passed,
    // each atomically, and finishes cancellations whose last lease ended. Safe
    // to run from several processes at once.
    virtual ReapReport ReapExpiredLeases(int limit = 100) = 0;
};

// The lab: board agents and their boards, and the trainer workers.
class FarmRepository {
  public:
    virtual ~FarmRepository() = default;

    // Trainer workers seen (claiming or long-polling) within a window, or training now.
    struct LiveWorkers {
        int workers = 0;
        bool any_dataset = false;           // one of them advertises no list: it takes any
        std::vector<std::string> datasets;  // what they advertise, sorted
    };

    // Idempotent: upserts the agent and its boards; boards it no longer lists
    // become inactive. A board's MAINTENANCE health, set by a person, is kept.
    virtual void RegisterAgent(const AgentRegistration& agent) = 0;
    virtual void ReportBoardHealth(const std::string& agent_id, const std::string& board_id,
                                   v1::BoardHealth health, const std::string& reason) = 0;
    virtual std::vector<v1::Board> ListBoards() = 0;

    // Workers seen within `window`, or training now.
    virtual LiveWorkers LiveWorkerDatasets(std::chrono::seconds window) = 0;
    // Every board (v_board_utilisation and its agent), by board id, as of one instant.
    virtual FarmView ListBoardUtilisation() = 0;
    // Every worker ever seen, by id, live by the rule of LiveWorkerDatasets(window).
    virtual WorkerView ListWorkers(std::chrono::seconds window) = 0;
};

// What trials produce: metrics, objective values, artifacts; and the jobs'
// Pareto fronts and hypervolume series.
class ResultRepository {
  public:
    virtual ~ResultRepository() = default;

    // Upserts by (trial, name) / (trial, objective). NotFound for an unknown trial.
    virtual void RecordMetrics(const std::string& trial_id,
                               const std::vector<v1::Metric>& metrics) = 0;
    virtual void RecordObjectives(const std::string& trial_id,
                                  const std::vector<v1::ObjectiveValue>& objectives) = 0;
    // ResourceExhausted over the artifact size limit; InvalidArgument when a
    // given sha256 does not match the bytes; AlreadyExists for a second one of a kind.
    virtual v1::ArtifactRef PutArtifact(const std::string& trial_id,
                                        const v1::Artifact& artifact) = 0;
    virtual StoredArtifact GetArtifact(const std::string& artifact_id) = 0;
    virtual StoredArtifact GetTrialArtifact(const std::string& trial_id, v1::ArtifactKind kind) = 0;

    // The job's front (v_pareto_front), sorted by its first objective, with the
    // latest recorded hypervolume and reference point.
    virtual v1::ParetoFront GetParetoFront(const std::string& job_id) = 0;
    // One row of v_job_hypervolume, plus a HypervolumeUpdated event.
    virtual void RecordHypervolume(const std::string& job_id, const HypervolumePoint& point) = 0;
    // Records `point` with the front it covers (trial ids) unless a point for as
    // many or more completed trials is already recorded (then returns false):
    // atomically, the hypervolume row, its HypervolumeUpdated event and, when
    // the front differs from the latest row's, a FrontChanged event with the
    // trials added and removed. NotFound for an unknown job.
    virtual bool RecordFront(const std::string& job_id, const HypervolumePoint& point,
                             const std::vector<std::string>& front_trial_ids) = 0;
};

// Each job's event log, which WatchJob streams.
class EventLog {
  public:
    virtual ~EventLog() = default;

    // Appends a progress, front or hypervolume event (state events are written
    // by the store itself with each state change); returns its id.
    virtual int64_t AppendJobEvent(const std::string& job_id, const v1::JobEvent& event) = 0;
    // Events with id > after_event_id, oldest first, at most `limit`.
    virtual std::vector<v1::JobEvent> ReadJobEvents(const std::string& job_id,
                                                    int64_t after_event_id, int limit = 1000) = 0;
};

// Exactly what the job scheduler (controller/src/scheduler.cpp) reads and
// writes. Four of its calls belong to the interfaces above as well and keep
// their contracts there: ReapExpiredLeases (TrialQueue), SetJobState and
// InsertTrials (JobRepository), RecordFront (ResultRepository).
class SchedulerStore {
  public:
    virtual ~SchedulerStore() = default;

    // TrialQueue::ReapExpiredLeases.
    virtual ReapReport ReapExpiredLeases(int limit = 100) = 0;
    // Active (PENDING or RUNNING) jobs that may need the scheduler, oldest
    // first: with `since` unset, all of them; else those whose state or one of
    // whose trials' states changed at or after `since` (a change counter; on
    // PostgreSQL transaction ids, see sql/0005_scheduler_changes.sql), RUNNING
    // jobs past their wall-time budget, and the active ones among `also`.
    // `watermark` is what to pass as `since` next time: no change the call did
    // not see is below it.
    virtual ActiveJobs ListActiveJobs(std::optional<uint64_t> since,
                                      const std::vector<std::string>& also = {}) = 0;
    // JobRepository::SetJobState.
    virtual v1::Job SetJobState(const std::string& job_id, v1::JobState state,
                                const std::string& reason) = 0;
    // What the scheduler needs of one job, read atomically: every trial by
    // number with only its id, number, state, candidate encoding and objective
    // values; the latest recorded front's completed_trials (0: none). An
    // unknown job has no trials.
    virtual SchedulingView LoadSchedulingView(const std::string& job_id) = 0;
    // JobRepository::InsertTrials.
    virtual std::vector<std::string> InsertTrials(
        const std::string& job_id, const std::vector<NewTrial>& trials,
        std::optional<int> after_number = std::nullopt) = 0;
    // ResultRepository::RecordFront.
    virtual bool RecordFront(const std::string& job_id, const HypervolumePoint& point,
                             const std::vector<std::string>& front_trial_ids) = 0;
};

}  // namespace hilnas::store
