#include "hilnas/artifact/artifact.h"
#include "hilnas/controller/job_spec.h"
#include "hilnas/controller/objectives.h"
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

WorkServiceImpl::WorkServiceImpl(ServiceDeps deps) : BoundService(std::move(deps), Role::kWorker) {
    BindLongPoll("LeaseTrial", &WorkServiceImpl::LeaseTrial);
    BindUnary("Heartbeat", &WorkServiceImpl::Heartbeat);
    BindUnary("ReportProgress", &WorkServiceImpl::ReportProgress);
    BindUnary("CompleteTrial", &WorkServiceImpl::CompleteTrial);
    BindUnary("FailTrial", &WorkServiceImpl::FailTrial);
    BindStream<v1::ArtifactChunk>("FetchArtifact", &WorkServiceImpl::FetchArtifact);
    CheckAllBound();
}

bool WorkServiceImpl::LeaseTrial(const Caller&, const v1::LeaseTrialRequest& req,
                                 v1::LeaseTrialResponse* resp) {
    auto lease = deps_.store->ClaimTrial(req.worker_id(), req.capabilities(), deps_.options.lease);
    if (!lease) return false;
    *resp->mutable_lease() = std::move(lease->lease);
    *resp->mutable_task() = std::move(lease->task);
    resp->mutable_task()->set_num_classes(
        DatasetFor(resp->task().dataset().name(), "task.dataset.name").classes);
    SetDuration(deps_.options.heartbeat_interval, resp->mutable_heartbeat_interval());
    return true;
}

void WorkServiceImpl::Heartbeat(const Caller&, const v1::LeaseHeartbeatRequest& req,
                                v1::LeaseHeartbeatResponse* resp) {
    SetHeartbeat(deps_.store->RenewLease(req.holder_id(), req.lease_id(), deps_.options.lease,
                                         store::LeaseKind::kTrain),
                 resp);
}

void WorkServiceImpl::ReportProgress(const Caller&, const v1::ReportProgressRequest& req,
                                     v1::ReportProgressResponse* resp) {
    resp->set_action(deps_.store->ReportProgress(req.worker_id(), req.lease_id(), req.progress(),
                                                 store::LeaseKind::kTrain));
}

void WorkServiceImpl::CompleteTrial(const Caller&, const v1::CompleteTrialRequest& req,
                                    v1::CompleteTrialResponse* resp) {
    if (req.model().kind() != v1::ARTIFACT_INT8_MODEL) {
        throw InvalidArgument("must be an ARTIFACT_INT8_MODEL", "model.kind");
    }
    // The artifact must be one the boards can run: checked before anything is stored.
    v1::Int8Model artifact;
    try {
        artifact = artifact::ParseArtifact(req.model().data(), "model.data");
        artifact::ValidateArtifact(artifact);
    } catch (const InvalidArgument& e) {
        throw InvalidArgument(e.message(), e.field().rfind("model.data", 0) == 0
                                               ? e.field()
                                               : "model.data: " + e.field());
    }
    const v1::JobSpec spec = deps_.store->JobOfLease(req.lease_id()).spec();
    store::TrainingResult result;
    result.metrics.assign(req.metrics().begin(), req.metrics().end());
    result.objectives = TrainingObjectives(result.metrics, artifact, spec.board_type());
    for (v1::Metric& m : PredictionMetrics(artifact.model(), spec.board_type())) {
        // Predictions are the controller's: a trainer's metric of the same name is replaced.
        std::erase_if(result.metrics, [&](const v1::Metric& x) { return x.name() == m.name(); });
        result.metrics.push_back(std::move(m));
    }
    result.final_model = artifact.model();
    result.artifacts.push_back(req.model());
    if (req.has_checkpoint() && !req.checkpoint().data().empty()) {
        if (req.checkpoint().kind() != v1::ARTIFACT_CHECKPOINT) {
            throw InvalidArgument("must be an ARTIFACT_CHECKPOINT", "checkpoint.kind");
        }
        result.artifacts.push_back(req.checkpoint());
    }
    result.infeasible_reason = BreachedLimit(spec, result.objectives);
    resp->set_state(deps_.store->CompleteTrial(req.worker_id(), req.lease_id(), result));
    deps_.wake_scheduler();
}

void WorkServiceImpl::FailTrial(const Caller&, const v1::FailTrialRequest& req,
                                v1::FailTrialResponse* resp) {
    resp->set_state(deps_.store->FailTrial(req.worker_id(), req.lease_id(),
                                           ToFailure(req.reason(), req.retryable())));
    deps_.wake_scheduler();
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* WorkServiceImpl::FetchArtifact(
    const Caller&, grpc::CallbackServerContext*, const v1::FetchArtifactRequest& req) {
    const std::string id = req.artifact_id();
    return ArtifactWriter::Serve(deps_, "FetchArtifact",
                                 [this, id] { return deps_.store->GetArtifact(id); });
}

}  // namespace hilnas::controller
