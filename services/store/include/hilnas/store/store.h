// The results store and the durable work queue, on PostgreSQL.
//
// Store owns a small connection pool. Every public call is one transaction
// (with a statement timeout set on it), so a crash or an error part-way leaves
// nothing half-written; every state transition locks the rows it changes.
// Errors are hilnas::Error with a canonical code and a message fit for
// clients (never SQL text):
//   InvalidArgument     a malformed value; field() names it ("trial_id", ...)
//   NotFound            an unknown job, trial, lease, artifact, agent or board
//   AlreadyExists       request_id reused with another spec; a second artifact of a kind
//   FailedPrecondition  valid but not in this state: a lease no longer held, an
//                       invalid state transition, a board out of service
//   ResourceExhausted   an artifact over StoreOptions::max_artifact_bytes
//   Unavailable         the database cannot be reached (retry with back-off)
//   DeadlineExceeded    a statement ran past the statement timeout
// A call that throws has changed nothing.
//
// The queue. Trainers claim pending trials, board agents claim trained ones for
// their board's type, each under a lease: a random lease id, the holder's id and
// an expiry computed with the database's clock. Claims use FOR UPDATE SKIP
// LOCKED, so any number of clients (and controller replicas) claim each trial
// exactly once. Holders renew their lease with heartbeats; ReapExpiredLeases()
// returns expired ones to the queue (attempts + 1) or fails the trial once it
// has used the job's max attempts. A lease is held until it ends (completed,
// failed, reaped or cancelled); a call on an ended lease is refused with
// FailedPrecondition saying why, and changes nothing. `attempts` counts the
// attempts that failed or expired, over training and measurement together;
// Lease.attempt is attempts + 1.
//
// Jobs that stop (cancelled, completed or failed) turn their unleased trials
// STALE at once; a leased trial turns STALE when its holder next calls (the
// heartbeat answers STOP) or its lease is reaped. A cancelled job stays
// CANCELLING until its last lease ends; ReapExpiredLeases() then makes it
// CANCELLED.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hilnas/v1/common.pb.h"
#include "hilnas/v1/farm_service.pb.h"
#include "hilnas/v1/job.pb.h"
#include "hilnas/v1/search_service.pb.h"
#include "hilnas/v1/trial.pb.h"
#include "hilnas/v1/work_service.pb.h"

namespace hilnas::store {

// Which queue a lease belongs to.
enum class LeaseKind { kTrain, kMeasure };

struct StoreOptions {
    std::string dsn;  // libpq connection string or URI
    int pool_size = 8;
    std::chrono::milliseconds pool_wait{5000};  // wait for a free connection, then Unavailable
    std::chrono::milliseconds statement_timeout{5000};  // SET LOCAL in every transaction
    std::chrono::milliseconds default_lease{60000};     // used when a claim passes 0
    std::chrono::milliseconds max_lease{3600000};
    int64_t max_artifact_bytes = 16 << 20;
    int board_failure_limit = 3;  // consecutive board faults before a board becomes BAD
    std::string application_name = "hilnas";
};

struct NewTrial {
    v1::Candidate candidate;
    std::string parent_trial_id;  // empty: none; else a trial of the same job
};

struct JobFilter {
    v1::JobState state = v1::JOB_STATE_UNSPECIFIED;  // UNSPECIFIED: any
    std::string owner;                               // empty: any
};

struct JobPage {
    std::vector<v1::Job> jobs;    // newest first
    std::string next_page_token;  // empty on the last page
};

struct TrialPage {
    std::vector<v1::Trial> trials;  // by number
    std::string next_page_token;
};

// A claimed training task. task.num_classes is left for the caller (it knows datasets).
struct TrialLease {
    v1::Lease lease;
    v1::TrainingTask task;
};

struct MeasurementLease {
    v1::Lease lease;
    v1::MeasurementTask task;  // with the int8 model artifact's bytes
    std::string board_id;
};

// What a trainer reports with CompleteTrial. Objectives are stored with the
// state change, so a trial never appears finished without them.
struct TrainingResult {
    std::vector<v1::Metric> metrics;
    std::vector<v1::ObjectiveValue> objectives;
    std::optional<v1::Model> final_model;
    std::vector<v1::Artifact> artifacts;  // int8 model, checkpoint
    // Set when a limit of the job is breached: everything is stored, and the
    // trial ends INFEASIBLE with this reason instead of going on.
    std::string infeasible_reason;
};

struct MeasurementResult {
    v1::Measurement measurement;  // board, agent and board type come from the lease
    std::vector<v1::ObjectiveValue> objectives;
    std::optional<v1::Artifact> firmware;  // ARTIFACT_FIRMWARE_ELF
    // As for TrainingResult: the measurement is kept, the trial ends INFEASIBLE.
    std::string infeasible_reason;
};

struct Failure {
    std::string reason;
    bool retryable = false;
    bool board_fault = false;  // measurement only: counts against the board, not the trial
    bool infeasible = false;   // measurement only: the model does not fit the board
};

struct ReapedLease {
    std::string lease_id;
    std::string trial_id;
    std::string job_id;
    v1::TrialState state;  // PENDING or TRAINED again, FAILED, or STALE
    std::string reason;
};

struct ReapReport {
    std::vector<ReapedLease> reaped;
    std::vector<std::string> cancelled_jobs;  // CANCELLING jobs whose last lease ended
};

struct StoredArtifact {
    v1::ArtifactRef ref;
    std::string data;
};

struct HypervolumePoint {
    int completed_trials = 0;
    std::string trial_id;  // the trial whose completion it follows; may be empty
    double hypervolume = 0;
    int front_size = 0;
    std::vector<double> reference_point;
};

// One board as v_board_utilisation sees it (the last 24 hours), with its agent.
struct BoardUtilisation {
    std::string board_id;
    std::string board_type;
    std::string agent_id;
    std::string agent_hostname;
    v1::BoardHealth health = v1::BOARD_HEALTH_UNSPECIFIED;
    std::string health_reason;
    bool active = false;
    int consecutive_failures = 0;
    v1::Debugger debugger = v1::DEBUGGER_UNSPECIFIED;
    std::chrono::system_clock::time_point last_seen;
    std::chrono::system_clock::time_point agent_last_seen;
    // The trial under a measurement lease on the board now; all empty when idle.
    std::string measuring_trial_id;
    std::string measuring_job_id;
    std::string measuring_job_owner;
    int64_t measurements_total = 0;
    int64_t measurements_24h = 0;
    int64_t failed_leases_24h = 0;
    double busy_seconds_24h = 0;
    double utilisation_24h = 0;  // busy fraction, [0, 1]
};

struct FarmView {
    std::chrono::system_clock::time_point as_of;  // the database's clock
    std::vector<BoardUtilisation> boards;         // by board id
};

struct WorkerTrialLease {
    std::string trial_id;
    std::string job_id;
    std::string job_owner;
    int trial_number = 0;
    std::chrono::system_clock::time_point leased_at;
    std::chrono::system_clock::time_point expires_at;
};

// A trainer worker as last recorded by a claim, and the training leases it holds.
struct WorkerInfo {
    std::string worker_id;
    std::string hostname;
    std::string version;
    v1::DeviceKind device = v1::DEVICE_KIND_UNSPECIFIED;
    std::string device_name;
    int64_t memory_bytes = 0;
    int cpu_threads = 0;
    std::vector<std::string> datasets;  // empty: any
    std::chrono::system_clock::time_point first_seen;
    std::chrono::system_clock::time_point last_seen;
    bool live = false;                     // as LiveWorkerDatasets counts it
    std::vector<WorkerTrialLease> leases;  // by trial number within a job
};

struct WorkerView {
    std::chrono::system_clock::time_point as_of;  // the database's clock
    std::vector<WorkerInfo> workers;              // by worker id
};

struct ActiveJobs {
    std::vector<v1::Job> jobs;
    uint64_t watermark = 0;
};

struct SchedulingView {
    // Fields set: trial_id, number, state, candidate.encoding, objectives.
    std::vector<v1::Trial> trials;
    int recorded_completed_trials = 0;
};

class Store {
  public:
    // Connects lazily. Calls fail with FailedPrecondition while the database's
    // schema is older than this binary's migrations (see migrations.h).
    explicit Store(StoreOptions options);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    const StoreOptions& options() const;

    // ---- Jobs ----
    // Stores a new PENDING job. The spec is kept whole (JSONB); dataset, board
    // type, objectives, max attempts and whether trials are measured are copied
    // into columns. With a request_id, a repeated call with the same spec returns
    // the existing job and one with another spec is AlreadyExists.
    v1::Job CreateJob(const std::string& owner, const v1::JobSpec& spec,
                      const std::string& request_id = {});
    v1::Job GetJob(const std::string& job_id);
    // page_size 0: 50; at most 1000. InvalidArgument for a token that is not ours.
    JobPage ListJobs(const JobFilter& filter, int page_size, const std::string& page_token);
    // RUNNING, COMPLETED or FAILED (reason becomes the job's error). Stopping a
    // job turns its unleased trials STALE. FailedPrecondition for a transition
    // the job state machine does not allow.
    v1::Job SetJobState(const std::string& job_id, v1::JobState state, const std::string& reason);
    // PENDING/RUNNING -> CANCELLING (trials under lease) or CANCELLED; a
    // CANCELLING job is returned as it is; FailedPrecondition for a finished job.
    v1::Job CancelJob(const std::string& job_id, const std::string& reason);

    // ---- Trials ----
    // Appends PENDING trials numbered after the job's last; returns their ids in
    // order. FailedPrecondition when the job has stopped. With `after_number`,
    // only when the job's last trial number is exactly that (0: no trials yet),
    // else FailedPrecondition: a scheduler that decided on a stale view of the
    // job adds nothing, so two schedulers never add the same trials twice.
    std::vector<std::string> InsertTrials(const std::string& job_id,
                                          const std::vector<NewTrial>& trials,
                                          std::optional<int> after_number = std::nullopt);
    // With metrics, objectives, measurements, artifact references and on_front.
    v1::Trial GetTrial(const std::string& trial_id);
    TrialPage ListTrials(const std::string& job_id, v1::TrialState state, int page_size,
                         const std::string& page_token);
    // PENDING -> INFEASIBLE (rejected by the cost model before training).
    void MarkTrialInfeasible(const std::string& trial_id, const std::string& reason);

    // ---- Training queue (trainer workers) ----
    // Claims the oldest pending trial of a running job whose dataset the worker
    // has (capabilities.datasets; empty: any), and records the worker. nullopt
    // when there is none. lease 0: options().default_lease.
    std::optional<TrialLease> ClaimTrial(const std::string& worker_id,
                                         const v1::WorkerCapabilities& capabilities,
                                         std::chrono::milliseconds lease = {});
    // Training result -> TRAINED (or COMPLETE when the job skips measurement).
    // Returns STALE instead when the job has stopped meanwhile.
    v1::TrialState CompleteTrial(const std::string& worker_id, const std::string& lease_id,
                                 const TrainingResult& result);
    // Retryable: PENDING again while attempts < max attempts; else FAILED.
    v1::TrialState FailTrial(const std::string& worker_id, const std::string& lease_id,
                             const Failure& failure);

    // ---- Measurement queue (board agents) ----
    // Idempotent: upserts the agent and its boards; boards it no longer lists
    // become inactive. A board's MAINTENANCE health, set by a person, is kept.
    void RegisterAgent(const v1::RegisterAgentRequest& request);
    // Claims the oldest trained trial whose job targets this board's type.
    // NotFound for an unknown board or one of another agent; FailedPrecondition
    // when the board is inactive, not GOOD/UNKNOWN, or already measuring.
    std::optional<MeasurementLease> ClaimMeasurement(const std::string& agent_id,
                                                     const std::string& board_id,
                                                     std::chrono::milliseconds lease = {});
    v1::TrialState CompleteMeasurement(const std::string& agent_id, const std::string& lease_id,
                                       const MeasurementResult& result);
    // infeasible: INFEASIBLE. board_fault: TRAINED again without spending an
    // attempt; the board becomes BAD after board_failure_limit faults in a row.
    // Otherwise like FailTrial (back to TRAINED while attempts remain).
    v1::TrialState FailMeasurement(const std::string& agent_id, const std::string& lease_id,
                                   const Failure& failure);
    void ReportBoardHealth(const std::string& agent_id, const std::string& board_id,
                           v1::BoardHealth health, const std::string& reason);
    std::vector<v1::Board> ListBoards();

    // Trainer workers seen (claiming or long-polling) within `window`, or training now.
    struct LiveWorkers {
        int workers = 0;
        bool any_dataset = false;           // one of them advertises no list: it takes any
        std::vector<std::string> datasets;  // what they advertise, sorted
    };
    LiveWorkers LiveWorkerDatasets(std::chrono::seconds window);
    // Every board (v_board_utilisation and its agent), by board id, in one transaction.
    FarmView ListBoardUtilisation();
    // Every worker ever seen, by id, live by the rule of LiveWorkerDatasets(window).
    WorkerView ListWorkers(std::chrono::seconds window);

    // ---- Leases, for both queues ----
    // The job whose trial `lease_id` is (or was) leasing. NotFound for a lease
    // never issued.
    v1::Job JobOfLease(const std::string& lease_id);
    // Extends the lease to now + `lease` (database clock). Answers STOP, and
    // ends the lease (trial STALE), when the job has stopped.
    // NotFound: unknown lease; FailedPrecondition: ended, held by another, or
    // of the other kind than `kind` (a trainer cannot renew a measurement's
    // lease, nor an agent a training lease).
    v1::LeaseHeartbeatResponse RenewLease(const std::string& holder_id, const std::string& lease_id,
                                          std::chrono::milliseconds lease = {},
                                          std::optional<LeaseKind> kind = std::nullopt);
    // Appends a progress event; the same checks and STOP as RenewLease.
    v1::LeaseAction ReportProgress(const std::string& holder_id, const std::string& lease_id,
                                   const v1::TrialProgress& progress,
                                   std::optional<LeaseKind> kind = std::nullopt);
    // Ends up to `limit` leases whose expiry (database clock) has passed, one
    // transaction each, and finishes cancellations whose last lease ended. Safe
    // to run from several processes at once.
    ReapReport ReapExpiredLeases(int limit = 100);

    // ---- Results ----
    // Upserts by (trial, name) / (trial, objective). NotFound for an unknown trial.
    void RecordMetrics(const std::string& trial_id, const std::vector<v1::Metric>& metrics);
    void RecordObjectives(const std::string& trial_id,
                          const std::vector<v1::ObjectiveValue>& objectives);
    // ResourceExhausted over max_artifact_bytes; InvalidArgument when a given
    // sha256 does not match the bytes; AlreadyExists for a second one of a kind.
    v1::ArtifactRef PutArtifact(const std::string& trial_id, const v1::Artifact& artifact);
    StoredArtifact GetArtifact(const std::string& artifact_id);
    StoredArtifact GetTrialArtifact(const std::string& trial_id, v1::ArtifactKind kind);

    // The job's front (v_pareto_front), sorted by its first objective, with the
    // latest recorded hypervolume and reference point.
    v1::ParetoFront GetParetoFront(const std::string& job_id);
    // One row of v_job_hypervolume, plus a HypervolumeUpdated event.
    void RecordHypervolume(const std::string& job_id, const HypervolumePoint& point);

    // ---- The scheduler's reads and writes (controller/src/scheduler.cpp) ----
    // Active (PENDING or RUNNING) jobs that may need the scheduler, oldest
    // first: with `since` unset, all of them; else those whose state or one of
    // whose trials' states was changed by a transaction at or after `since`
    // (see sql/0005_scheduler_changes.sql), RUNNING jobs past their wall-time
    // budget, and the active ones among `also`. `watermark` is what to pass as
    // `since` next time: no change the call did not see is below it.
    ActiveJobs ListActiveJobs(std::optional<uint64_t> since,
                              const std::vector<std::string>& also = {});
    // What the scheduler needs of one job, read in one transaction: every trial
    // by number with only its id, number, state, candidate encoding and
    // objective values; the latest hypervolume row's completed_trials (0: none).
    SchedulingView LoadSchedulingView(const std::string& job_id);
    // Records `point` with the front it covers (trial ids) unless a point for as
    // many or more completed trials is already recorded (then returns false):
    // in one transaction, the job_hypervolume row, its HypervolumeUpdated event
    // and, when the front differs from the latest row's, a FrontChanged event
    // with the trials added and removed.
    bool RecordFront(const std::string& job_id, const HypervolumePoint& point,
                     const std::vector<std::string>& front_trial_ids);

    // ---- Job events (WatchJob) ----
    // Appends a progress, front or hypervolume event (state events are written
    // by the database itself with each state change); returns its id.
    int64_t AppendJobEvent(const std::string& job_id, const v1::JobEvent& event);
    // Events with id > after_event_id, oldest first, at most `limit`.
    std::vector<v1::JobEvent> ReadJobEvents(const std::string& job_id, int64_t after_event_id,
                                            int limit = 1000);

    class Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace hilnas::store
