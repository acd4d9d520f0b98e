// The trainer's worker loop against WorkService: lease a trial, train it with
// heartbeats and progress reports, complete it with metrics and the int8
// artifact or fail it with a reason; on a stop request (SIGTERM) give the
// lease back as a retryable failure. The controller is reached through the
// small WorkClient interface, so the loop can be driven by any implementation.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "hilnas/dataset/dataset.h"
#include "hilnas/rpc/controller_client.h"
#include "hilnas/trainer/pipeline.h"
#include "hilnas/v1/work_service.pb.h"

namespace hilnas::trainer {

// WorkService as the worker sees it. Implementations throw hilnas errors:
// FailedPrecondition or NotFound when the lease is no longer held,
// Unavailable / DeadlineExceeded for the world's failures.
class WorkClient {
  public:
    virtual ~WorkClient() = default;
    virtual v1::LeaseTrialResponse LeaseTrial(const v1::LeaseTrialRequest& request) = 0;
    virtual v1::LeaseHeartbeatResponse Heartbeat(const v1::LeaseHeartbeatRequest& request) = 0;
    virtual v1::ReportProgressResponse ReportProgress(const v1::ReportProgressRequest& request) = 0;
    virtual v1::CompleteTrialResponse CompleteTrial(const v1::CompleteTrialRequest& request) = 0;
    virtual v1::FailTrialResponse FailTrial(const v1::FailTrialRequest& request) = 0;
    // The whole artifact (FetchArtifact's stream joined), checked against its sha256.
    virtual std::string FetchArtifact(const std::string& artifact_id) = 0;
};

using GrpcClientOptions = rpc::ControllerClientOptions;
// WorkClient over gRPC; every call has a deadline (LeaseTrial's adds its wait).
std::unique_ptr<WorkClient> MakeGrpcWorkClient(const GrpcClientOptions& options);

struct WorkerOptions {
    std::string worker_id;        // empty: hostname-pid
    std::string device = "auto";  // cpu | cuda | auto
    int threads = 0;
    std::chrono::milliseconds lease_wait{10000};    // long-poll per LeaseTrial
    std::chrono::milliseconds heartbeat{10000};     // when the lease names none
    std::chrono::milliseconds retry_backoff{2000};  // after an Unavailable
    dataset::Locations datasets;                    // where this host keeps its datasets
    int max_trials = 0;                             // stop after this many (0: until stopped)
};

// Runs one trial: RunTrial in production; tests may substitute.
using TrainFn =
    std::function<TrialResult(const TrialSpec&, const ProgressFn&, const std::atomic<bool>*)>;

class Worker {
  public:
    Worker(WorkClient& client, WorkerOptions options, TrainFn train = RunTrial);

    // Leases and runs trials until `stop` becomes true (or max_trials). A trial
    // running when `stop` is set is interrupted and failed as retryable so the
    // controller hands it to another worker at once. Returns the number of
    // trials completed.
    int Run(const std::atomic<bool>& stop);

    // One lease attempt and, if a trial came, its whole run. Returns true when
    // a trial was leased.
    bool RunOnce(const std::atomic<bool>& stop);

    v1::WorkerCapabilities Capabilities() const;

  private:
    void RunTask(const v1::LeaseTrialResponse& lease, const std::atomic<bool>& stop);

    WorkClient& client_;
    WorkerOptions options_;
    TrainFn train_;
    int completed_ = 0;
};

// Lowercase hex sha256 of `bytes`.
std::string Sha256Hex(const std::string& bytes);

}  // namespace hilnas::trainer
