// The three gRPC services. Wiring only: each handler checks the caller's
// role, validates the request and calls the store (and the scheduler) on the
// executor.
#pragma once

#include "hilnas/v1/farm_service.grpc.pb.h"
#include "hilnas/v1/search_service.grpc.pb.h"
#include "hilnas/v1/work_service.grpc.pb.h"
#include "service_base.h"

namespace hilnas::controller {

class SearchServiceImpl final : public v1::SearchService::CallbackService {
  public:
    explicit SearchServiceImpl(ServiceDeps deps) : deps_(std::move(deps)) {}
    grpc::ServerUnaryReactor* SubmitJob(grpc::CallbackServerContext*, const v1::SubmitJobRequest*,
                                        v1::Job*) override;
    grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext*, const v1::GetJobRequest*,
                                     v1::Job*) override;
    grpc::ServerUnaryReactor* ListJobs(grpc::CallbackServerContext*, const v1::ListJobsRequest*,
                                       v1::ListJobsResponse*) override;
    grpc::ServerWriteReactor<v1::JobEvent>* WatchJob(grpc::CallbackServerContext*,
                                                     const v1::WatchJobRequest*) override;
    grpc::ServerUnaryReactor* CancelJob(grpc::CallbackServerContext*, const v1::CancelJobRequest*,
                                        v1::Job*) override;
    grpc::ServerUnaryReactor* ListTrials(grpc::CallbackServerContext*, const v1::ListTrialsRequest*,
                                         v1::ListTrialsResponse*) override;
    grpc::ServerUnaryReactor* GetTrial(grpc::CallbackServerContext*, const v1::GetTrialRequest*,
                                       v1::Trial*) override;
    grpc::ServerUnaryReactor* GetParetoFront(grpc::CallbackServerContext*,
                                             const v1::GetParetoFrontRequest*,
                                             v1::ParetoFront*) override;
    grpc::ServerWriteReactor<v1::ArtifactChunk>* GetArtifact(
        grpc::CallbackServerContext*, const v1::GetArtifactRequest*) override;

  private:
    ServiceDeps deps_;
};

class WorkServiceImpl final : public v1::WorkService::CallbackService {
  public:
    explicit WorkServiceImpl(ServiceDeps deps) : deps_(std::move(deps)) {}
    grpc::ServerUnaryReactor* LeaseTrial(grpc::CallbackServerContext*, const v1::LeaseTrialRequest*,
                                         v1::LeaseTrialResponse*) override;
    grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext*,
                                        const v1::LeaseHeartbeatRequest*,
                                        v1::LeaseHeartbeatResponse*) override;
    grpc::ServerUnaryReactor* ReportProgress(grpc::CallbackServerContext*,
                                             const v1::ReportProgressRequest*,
                                             v1::ReportProgressResponse*) override;
    grpc::ServerUnaryReactor* CompleteTrial(grpc::CallbackServerContext*,
                                            const v1::CompleteTrialRequest*,
                                            v1::CompleteTrialResponse*) override;
    grpc::ServerUnaryReactor* FailTrial(grpc::CallbackServerContext*, const v1::FailTrialRequest*,
                                        v1::FailTrialResponse*) override;
    grpc::ServerWriteReactor<v1::ArtifactChunk>* FetchArtifact(
        grpc::CallbackServerContext*, const v1::FetchArtifactRequest*) override;

  private:
    ServiceDeps deps_;
};

class FarmServiceImpl final : public v1::FarmService::CallbackService {
  public:
    explicit FarmServiceImpl(ServiceDeps deps) : deps_(std::move(deps)) {}
    grpc::ServerUnaryReactor* RegisterAgent(grpc::CallbackServerContext*,
                                            const v1::RegisterAgentRequest*,
                                            v1::RegisterAgentResponse*) override;
    grpc::ServerUnaryReactor* LeaseMeasurement(grpc::CallbackServerContext*,
                                               const v1::LeaseMeasurementRequest*,
                                               v1::LeaseMeasurementResponse*) override;
    grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext*,
                                        const v1::LeaseHeartbeatRequest*,
                                        v1::LeaseHeartbeatResponse*) override;
    grpc::ServerUnaryReactor* CompleteMeasurement(grpc::CallbackServerContext*,
                                                  const v1::CompleteMeasurementRequest*,
                                                  v1::CompleteMeasurementResponse*) override;
    grpc::ServerUnaryReactor* FailMeasurement(grpc::CallbackServerContext*,
                                              const v1::FailMeasurementRequest*,
                                              v1::FailMeasurementResponse*) override;
    grpc::ServerUnaryReactor* ReportBoardHealth(grpc::CallbackServerContext*,
                                                const v1::ReportBoardHealthRequest*,
                                                v1::ReportBoardHealthResponse*) override;

  private:
    ServiceDeps deps_;
};

}  // namespace hilnas::controller
