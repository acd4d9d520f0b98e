// The results store and the durable work queue, on PostgreSQL: every
// interface of repositories.h, whose contracts it keeps (documented there).
//
// Store owns a small connection pool. Every public call is one transaction
// (with a statement timeout set on it), so a crash or an error part-way leaves
// nothing half-written; every state transition locks the rows it changes, and
// the schema's triggers refuse what the job and trial state machines do not
// allow. Claims use FOR UPDATE SKIP LOCKED; lease expiries, the database's
// clock; the scheduler's change counter, transaction ids.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hilnas/store/repositories.h"
#include "hilnas/store/types.h"

namespace hilnas::store {

struct StoreOptions {
    std::string dsn;  // libpq connection string or URI
    int pool_size = 8;
    std::chrono::milliseconds pool_wait{5000};  // wait for a free connection, then Unavailable
    std::chrono::milliseconds statement_timeout{5000};  // SET LOCAL in every transaction
    std::chrono::milliseconds default_lease{60000};     // used when a claim passes 0
    std::chrono::milliseconds max_lease{3600000};
    int64_t max_artifact_bytes = 16 << 20;  // ResourceExhausted above
    int board_failure_limit = 3;            // consecutive board faults before a board becomes BAD
    std::string application_name = "hilnas";
};

class Store final : public JobRepository,
                    public TrialQueue,
                    public FarmRepository,
                    public ResultRepository,
                    public EventLog,
                    public SchedulerStore {
  public:
    // Connects lazily. Calls fail with FailedPrecondition while the database's
    // schema is older than this binary's migrations (see migrations.h).
    explicit Store(StoreOptions options);
    ~Store() override;
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    const StoreOptions& options() const;

    // ---- JobRepository ----
    v1::Job CreateJob(const std::string& owner, const v1::JobSpec& spec,
                      const std::string& request_id = {}) override;
    v1::Job GetJob(const std::string& job_id) override;
    JobPage ListJobs(const JobFilter& filter, int page_size,
                     const std::string& page_token) override;
    v1::Job SetJobState(const std::string& job_id, v1::JobState state,
                        const std::string& reason) override;
    v1::Job CancelJob(const std::string& job_id, const std::string& reason) override;
    std::vector<std::string> InsertTrials(const std::string& job_id,
                                          const std::vector<NewTrial>& trials,
                                          std::optional<int> after_number = std::nullopt) override;
    v1::Trial GetTrial(const std::string& trial_id) override;
    TrialPage ListTrials(const std::string& job_id, v1::TrialState state, int page_size,
                         const std::string& page_token) override;
    void MarkTrialInfeasible(const std::string& trial_id, const std::string& reason) override;

    // ---- TrialQueue ----
    std::optional<TrialLease> ClaimTrial(const std::string& worker_id,
                                         const v1::WorkerCapabilities& capabilities,
                                         std::chrono::milliseconds lease = {}) override;
    v1::TrialState CompleteTrial(const std::string& worker_id, const std::string& lease_id,
                                 const TrainingResult& result) override;
    v1::TrialState FailTrial(const std::string& worker_id, const std::string& lease_id,
                             const Failure& failure) override;
    std::optional<MeasurementLease> ClaimMeasurement(const std::string& agent_id,
                                                     const std::string& board_id,
                                                     std::chrono::milliseconds lease = {}) override;
    v1::TrialState CompleteMeasurement(const std::string& agent_id, const std::string& lease_id,
                                       const MeasurementResult& result) override;
    v1::TrialState FailMeasurement(const std::string& agent_id, const std::string& lease_id,
                                   const Failure& failure) override;
    v1::Job JobOfLease(const std::string& lease_id) override;
    LeaseRenewal RenewLease(const std::string& holder_id, const std::string& lease_id,
                            std::chrono::milliseconds lease = {},
                            std::optional<LeaseKind> kind = std::nullopt) override;
    v1::LeaseAction ReportProgress(const std::string& holder_id, const std::string& lease_id,
                                   const v1::TrialProgress& progress,
                                   std::optional<LeaseKind> kind = std::nullopt) override;
    ReapReport ReapExpiredLeases(int limit = 100) override;

    // ---- FarmRepository ----
    void RegisterAgent(const AgentRegistration& agent) override;
    void ReportBoardHealth(const std::string& agent_id, const std::string& board_id,
                           v1::BoardHealth health, const std::string& reason) override;
    std::vector<v1::Board> ListBoards() override;
    LiveWorkers LiveWorkerDatasets(std::chrono::seconds window) override;
    FarmView ListBoardUtilisation() override;
    WorkerView ListWorkers(std::chrono::seconds window) override;

    // ---- ResultRepository ----
    void RecordMetrics(const std::string& trial_id,
                       const std::vector<v1::Metric>& metrics) override;
    void RecordObjectives(const std::string& trial_id,
                          const std::vector<v1::ObjectiveValue>& objectives) override;
    v1::ArtifactRef PutArtifact(const std::string& trial_id, const v1::Artifact& artifact) override;
    StoredArtifact GetArtifact(const std::string& artifact_id) override;
    StoredArtifact GetTrialArtifact(const std::string& trial_id, v1::ArtifactKind kind) override;
    v1::ParetoFront GetParetoFront(const std::string& job_id) override;
    void RecordHypervolume(const std::string& job_id, const HypervolumePoint& point) override;
    bool RecordFront(const std::string& job_id, const HypervolumePoint& point,
                     const std::vector<std::string>& front_trial_ids) override;

    // ---- EventLog ----
    int64_t AppendJobEvent(const std::string& job_id, const v1::JobEvent& event) override;
    std::vector<v1::JobEvent> ReadJobEvents(const std::string& job_id, int64_t after_event_id,
                                            int limit = 1000) override;

    // ---- SchedulerStore (the rest of it is above) ----
    ActiveJobs ListActiveJobs(std::optional<uint64_t> since,
                              const std::vector<std::string>& also = {}) override;
    SchedulingView LoadSchedulingView(const std::string& job_id) override;

    class Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace hilnas::store
