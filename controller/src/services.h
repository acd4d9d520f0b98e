// The three gRPC services. Wiring only: each handler sees an authenticated
// caller and a parsed request (see BoundService), validates it and calls the
// store (and the scheduler) on the executor.
#pragma once

#include "hilnas/v1/farm_service.grpc.pb.h"
#include "hilnas/v1/search_service.grpc.pb.h"
#include "hilnas/v1/work_service.grpc.pb.h"
#include "service_base.h"

namespace hilnas::controller {

// Users (and admins). A user sees and cancels only their own jobs; an admin
// sees all of them.
class SearchServiceImpl final : public BoundService<v1::SearchService> {
  public:
    explicit SearchServiceImpl(ServiceDeps deps);

    void SubmitJob(const Caller&, const v1::SubmitJobRequest&, v1::Job*);
    void GetJob(const Caller&, const v1::GetJobRequest&, v1::Job*);
    void ListJobs(const Caller&, const v1::ListJobsRequest&, v1::ListJobsResponse*);
    grpc::ServerWriteReactor<grpc::ByteBuffer>* WatchJob(const Caller&,
                                                         grpc::CallbackServerContext*,
                                                         const v1::WatchJobRequest&);
    void CancelJob(const Caller&, const v1::CancelJobRequest&, v1::Job*);
    void ListTrials(const Caller&, const v1::ListTrialsRequest&, v1::ListTrialsResponse*);
    void GetTrial(const Caller&, const v1::GetTrialRequest&, v1::Trial*);
    void GetParetoFront(const Caller&, const v1::GetParetoFrontRequest&, v1::ParetoFront*);
    grpc::ServerWriteReactor<grpc::ByteBuffer>* GetArtifact(const Caller&,
                                                            grpc::CallbackServerContext*,
                                                            const v1::GetArtifactRequest&);
    void ListBoards(const Caller&, const v1::ListBoardsRequest&, v1::ListBoardsResponse*);
    void ListWorkers(const Caller&, const v1::ListWorkersRequest&, v1::ListWorkersResponse*);

  private:
    // The job, if the caller may see it; PERMISSION_DENIED otherwise.
    v1::Job OwnedJob(const Caller& caller, const std::string& job_id, const char* field) const;
    // Why an active job with pending trials gets no trainer ("" when one serves it).
    std::string WaitingReason(const v1::Job& job) const;
    // How recently a worker must have asked for work to count as live.
    std::chrono::seconds LiveWindow() const;
};

class WorkServiceImpl final : public BoundService<v1::WorkService> {
  public:
    explicit WorkServiceImpl(ServiceDeps deps);

    bool LeaseTrial(const Caller&, const v1::LeaseTrialRequest&, v1::LeaseTrialResponse*);
    void Heartbeat(const Caller&, const v1::LeaseHeartbeatRequest&, v1::LeaseHeartbeatResponse*);
    void ReportProgress(const Caller&, const v1::ReportProgressRequest&,
                        v1::ReportProgressResponse*);
    void CompleteTrial(const Caller&, const v1::CompleteTrialRequest&, v1::CompleteTrialResponse*);
    void FailTrial(const Caller&, const v1::FailTrialRequest&, v1::FailTrialResponse*);
    grpc::ServerWriteReactor<grpc::ByteBuffer>* FetchArtifact(const Caller&,
                                                              grpc::CallbackServerContext*,
                                                              const v1::FetchArtifactRequest&);
};

class FarmServiceImpl final : public BoundService<v1::FarmService> {
  public:
    explicit FarmServiceImpl(ServiceDeps deps);

    void RegisterAgent(const Caller&, const v1::RegisterAgentRequest&, v1::RegisterAgentResponse*);
    bool LeaseMeasurement(const Caller&, const v1::LeaseMeasurementRequest&,
                          v1::LeaseMeasurementResponse*);
    void Heartbeat(const Caller&, const v1::LeaseHeartbeatRequest&, v1::LeaseHeartbeatResponse*);
    void CompleteMeasurement(const Caller&, const v1::CompleteMeasurementRequest&,
                             v1::CompleteMeasurementResponse*);
    void FailMeasurement(const Caller&, const v1::FailMeasurementRequest&,
                         v1::FailMeasurementResponse*);
    void ReportBoardHealth(const Caller&, const v1::ReportBoardHealthRequest&,
                           v1::ReportBoardHealthResponse*);
};

}  // namespace hilnas::controller
