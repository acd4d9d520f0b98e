#include "hilnas/controller/job_spec.h"
#include "hilnas/controller/objectives.h"
#include "hilnas/firmware/artifact.h"
#include "long_poll.h"
#include "services.h"

namespace hilnas::controller {

namespace {

store::Failure ToFailure(const std::string& reason, bool retryable) {
    store::Failure f;
    f.reason = reason.empty() ? "no reason given" : reason;
    f.retryable = retryable;
    return f;
}

}  // namespace

grpc::ServerUnaryReactor* WorkServiceImpl::LeaseTrial(grpc::CallbackServerContext* ctx,
                                                      const v1::LeaseTrialRequest* req,
                                                      v1::LeaseTrialResponse* resp) {
    auto* reactor = ctx->DefaultReactor();
    if (const grpc::Status denied = deps_.auth->Check(*ctx, Role::kWorker); !denied.ok()) {
        reactor->Finish(denied);
        return reactor;
    }
    LongPoll(deps_, ctx, reactor, CappedWait(req->wait(), deps_.options.max_wait), "LeaseTrial",
             [this, req, resp] {
                 Require(req->worker_id(), "worker_id");
                 auto lease = deps_.store->ClaimTrial(req->worker_id(), req->capabilities(),
                                                      deps_.options.lease);
                 if (!lease) return false;
                 *resp->mutable_lease() = std::move(lease->lease);
                 *resp->mutable_task() = std::move(lease->task);
                 resp->mutable_task()->set_num_classes(
                     DatasetFor(resp->task().dataset().name(), "task.dataset.name").classes);
                 SetDuration(deps_.options.heartbeat_interval, resp->mutable_heartbeat_interval());
                 return true;
             });
    return reactor;
}

grpc::ServerUnaryReactor* WorkServiceImpl::Heartbeat(grpc::CallbackServerContext* ctx,
                                                     const v1::LeaseHeartbeatRequest* req,
                                                     v1::LeaseHeartbeatResponse* resp) {
    return RunUnary(deps_, ctx, Role::kWorker, "Heartbeat", [this, req, resp] {
        Require(req->holder_id(), "holder_id");
        Require(req->lease_id(), "lease_id");
        *resp = deps_.store->RenewLease(req->holder_id(), req->lease_id(), deps_.options.lease,
                                        store::LeaseKind::kTrain);
        return grpc::Status::OK;
    });
}

grpc::ServerUnaryReactor* WorkServiceImpl::ReportProgress(grpc::CallbackServerContext* ctx,
                                                          const v1::ReportProgressRequest* req,
                                                          v1::ReportProgressResponse* resp) {
    return RunUnary(deps_, ctx, Role::kWorker, "ReportProgress", [this, req, resp] {
        Require(req->worker_id(), "worker_id");
        Require(req->lease_id(), "lease_id");
        CheckText(req->progress().phase(), "progress.phase", 64);
        resp->set_action(deps_.store->ReportProgress(req->worker_id(), req->lease_id(),
                                                     req->progress(), store::LeaseKind::kTrain));
        return grpc::Status::OK;
    });
}

grpc::ServerUnaryReactor* WorkServiceImpl::CompleteTrial(grpc::CallbackServerContext* ctx,
                                                         const v1::CompleteTrialRequest* req,
                                                         v1::CompleteTrialResponse* resp) {
    return RunUnary(deps_, ctx, Role::kWorker, "CompleteTrial", [this, req, resp] {
        Require(req->worker_id(), "worker_id");
        Require(req->lease_id(), "lease_id");
        if (req->model().kind() != v1::ARTIFACT_INT8_MODEL) {
            throw InvalidArgument("must be an ARTIFACT_INT8_MODEL", "model.kind");
        }
        // The artifact must be one the boards can run: checked before anything is stored.
        v1::Int8Model artifact;
        try {
            artifact = firmware::ParseArtifact(req->model().data(), "model.data");
            firmware::ValidateArtifact(artifact);
        } catch (const InvalidArgument& e) {
            throw InvalidArgument(e.message(), e.field().rfind("model.data", 0) == 0
                                                   ? e.field()
                                                   : "model.data: " + e.field());
        }
        store::TrainingResult result;
        result.metrics.assign(req->metrics().begin(), req->metrics().end());
        result.objectives = TrainingObjectives(result.metrics, artifact.model());
        for (v1::Metric& m : PredictionMetrics(artifact.model())) {
            // Predictions are the controller's: a trainer's metric of the same name is replaced.
            std::erase_if(result.metrics,
                          [&](const v1::Metric& x) { return x.name() == m.name(); });
            result.metrics.push_back(std::move(m));
        }
        result.final_model = artifact.model();
        result.artifacts.push_back(req->model());
        if (req->has_checkpoint() && !req->checkpoint().data().empty()) {
            if (req->checkpoint().kind() != v1::ARTIFACT_CHECKPOINT) {
                throw InvalidArgument("must be an ARTIFACT_CHECKPOINT", "checkpoint.kind");
            }
            result.artifacts.push_back(req->checkpoint());
        }
        result.infeasible_reason =
            BreachedLimit(deps_.store->JobOfLease(req->lease_id()).spec(), result.objectives);
        resp->set_state(deps_.store->CompleteTrial(req->worker_id(), req->lease_id(), result));
        deps_.wake_scheduler();
        return grpc::Status::OK;
    });
}

grpc::ServerUnaryReactor* WorkServiceImpl::FailTrial(grpc::CallbackServerContext* ctx,
                                                     const v1::FailTrialRequest* req,
                                                     v1::FailTrialResponse* resp) {
    return RunUnary(deps_, ctx, Role::kWorker, "FailTrial", [this, req, resp] {
        Require(req->worker_id(), "worker_id");
        Require(req->lease_id(), "lease_id");
        resp->set_state(deps_.store->FailTrial(req->worker_id(), req->lease_id(),
                                               ToFailure(req->reason(), req->retryable())));
        deps_.wake_scheduler();
        return grpc::Status::OK;
    });
}

grpc::ServerWriteReactor<v1::ArtifactChunk>* WorkServiceImpl::FetchArtifact(
    grpc::CallbackServerContext* ctx, const v1::FetchArtifactRequest* req) {
    const std::string id = req->artifact_id();
    return ArtifactWriter::Serve(deps_, ctx, Role::kWorker, "FetchArtifact", [this, id] {
        Require(id, "artifact_id");
        return deps_.store->GetArtifact(id);
    });
}

}  // namespace hilnas::controller
