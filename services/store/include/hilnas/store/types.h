// The records the store's interfaces (repositories.h) take and return: the
// project's own structs, next to the v1 data messages (v1::Job, v1::Trial, ...)
// they carry.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hilnas/v1/common.pb.h"
#include "hilnas/v1/farm_service.pb.h"
#include "hilnas/v1/job.pb.h"
#include "hilnas/v1/trial.pb.h"
#include "hilnas/v1/work_service.pb.h"

namespace hilnas::store {

// Which queue a lease belongs to.
enum class LeaseKind { kTrain, kMeasure };

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

// A lease renewed (CONTINUE, with its new expiry) or ended because its job
// stopped (STOP, with why).
struct LeaseRenewal {
    v1::LeaseAction action = v1::LEASE_ACTION_UNSPECIFIED;
    // CONTINUE: the new expiry, by the store's clock; absent with STOP.
    std::optional<std::chrono::system_clock::time_point> expires_at;
    std::string reason;  // STOP: why
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

// A board agent as it registers: who it is and every board it serves now.
struct AgentRegistration {
    std::string agent_id;
    std::string hostname;
    std::string version;
    std::vector<v1::Board> boards;  // its boards it no longer lists become inactive
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

}  // namespace hilnas::store
