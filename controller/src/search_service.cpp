#include "hilnas/controller/job_spec.h"
#include "services.h"

namespace hilnas::controller {

namespace {

// WatchJob: replays the job's events after the client's id, then follows new
// ones by re-reading the store on the timer, and finishes once the job has
// reached a final state and every event was sent.
class WatchReactor : public grpc::ServerWriteReactor<v1::JobEvent> {
  public:
    WatchReactor(ServiceDeps deps, grpc::CallbackServerContext* ctx, std::string job_id,
                 int64_t after)
        : deps_(std::move(deps)), ctx_(ctx), job_id_(std::move(job_id)), after_(after) {}

    void Poll() {
        if (ctx_->IsCancelled()) {
            Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
            return;
        }
        bool final_state = false;
        const grpc::Status status = rpc::Guard("WatchJob", [&] {
            const v1::Job job = deps_.store->GetJob(job_id_);  // NotFound for unknown ids
            final_state = job.state() == v1::JOB_CANCELLED || job.state() == v1::JOB_COMPLETED ||
                          job.state() == v1::JOB_FAILED;
            for (auto& e : deps_.store->ReadJobEvents(job_id_, after_, 500))
                queue_.push_back(std::move(e));
            return grpc::Status::OK;
        });
        if (!status.ok()) {
            Finish(status);
        } else if (!queue_.empty()) {
            WriteNext();
        } else if (final_state) {
            Finish(grpc::Status::OK);
        } else if (!deps_.timer->After(deps_.options.poll_interval, [this] { Poll(); })) {
            Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down"));
        }
    }

    void OnWriteDone(bool ok) override {
        if (!ok) {
            Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
            return;
        }
        if (!queue_.empty()) {
            WriteNext();
        } else if (!deps_.pool->Submit([this] { Poll(); })) {
            Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down"));
        }
    }

    void OnDone() override { delete this; }

  private:
    void WriteNext() {
        current_ = std::move(queue_.front());
        queue_.pop_front();
        after_ = current_.event_id();
        StartWrite(&current_);
    }

    ServiceDeps deps_;
    grpc::CallbackServerContext* ctx_;
    std::string job_id_;
    int64_t after_;
    std::deque<v1::JobEvent> queue_;
    v1::JobEvent current_;
};

}  // namespace

grpc::ServerUnaryReactor* SearchServiceImpl::SubmitJob(grpc::CallbackServerContext* ctx,
                                                       const v1::SubmitJobRequest* req,
                                                       v1::Job* resp) {
    const std::string owner = deps_.auth->Principal(*ctx);
    return RunUnary(deps_, ctx, Role::kUser, "SubmitJob", [this, req, resp, owner] {
        if (req->request_id().size() > 200) {
            throw InvalidArgument("must be at most 200 characters", "request_id");
        }
        const v1::JobSpec spec = NormalizeJobSpec(req->spec());
        *resp = deps_.store->CreateJob(owner, spec, req->request_id());
        deps_.wake_scheduler();
        return grpc::Status::OK;
    });
}

grpc::ServerUnaryReactor* SearchServiceImpl::GetJob(grpc::CallbackServerContext* ctx,
                                                    const v1::GetJobRequest* req, v1::Job* resp) {
    return RunUnary(deps_, ctx, Role::kUser, "GetJob", [this, req, resp] {
        Require(req->job_id(), "job_id");
        *resp = deps_.store->GetJob(req->job_id());
        return grpc::Status::OK;
    });
}

grpc::ServerUnaryReactor* SearchServiceImpl::ListJobs(grpc::CallbackServerContext* ctx,
                                                      const v1::ListJobsRequest* req,
                                                      v1::ListJobsResponse* resp) {
    return RunUnary(deps_, ctx, Role::kUser, "ListJobs", [this, req, resp] {
        if (req->page().page_size() < 0) throw InvalidArgument("must be >= 0", "page.page_size");
        if (req->state() != v1::JOB_STATE_UNSPECIFIED && !v1::JobState_IsValid(req->state())) {
            throw InvalidArgument("unknown job state " + std::to_string(req->state()), "state");
        }
        store::JobFilter filter;
        filter.state = req->state();
        filter.owner = req->owner();
        store::JobPage page =
            deps_.store->ListJobs(filter, req->page().page_size(), req->page().page_token());
        for (auto& j : page.jobs) *resp->add_jobs() = std::move(j);
        resp->set_next_page_token(page.next_page_token);
        return grpc::Status::OK;
    });
}

grpc::ServerWriteReactor<v1::JobEvent>* SearchServiceImpl::WatchJob(
    grpc::CallbackServerContext* ctx, const v1::WatchJobRequest* req) {
    auto* reactor = new WatchReactor(deps_, ctx, req->job_id(), req->after_event_id());
    if (const grpc::Status denied = deps_.auth->Check(*ctx, Role::kUser); !denied.ok()) {
        reactor->Finish(denied);
    } else if (req->job_id().empty()) {
        reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "job_id: is required"));
    } else if (req->after_event_id() < 0) {
        reactor->Finish(
            grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "after_event_id: must be >= 0"));
    } else if (!deps_.pool->Submit([reactor] { reactor->Poll(); })) {
        reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down"));
    }
    return reactor;
}

grpc::ServerUnaryReactor* SearchServiceImpl::CancelJob(grpc::CallbackServerContext* ctx,
                                                       const v1::CancelJobRequest* req,
                                                       v1::Job* resp) {
    return RunUnary(deps_, ctx, Role::kUser, "CancelJob", [this, req, resp] {
        Require(req->job_id(), "job_id");
        CheckText(req->reason(), "reason", 1000);
        *resp = deps_.store->CancelJob(
            req->job_id(), req->reason().empty() ? "cancelled by the user" : req->reason());
        deps_.wake_scheduler();
        return grpc::Status::OK;
    });
}

grpc::ServerUnaryReactor* SearchServiceImpl::ListTrials(grpc::CallbackServerContext* ctx,
                                                        const v1::ListTrialsRequest* req,
                                                        v1::ListTrialsResponse* resp) {
    return RunUnary(deps_, ctx, Role::kUser, "ListTrials", [this, req, resp] {
        Require(req->job_id(), "job_id");
        if (req->page().page_size() < 0) throw InvalidArgument("must be >= 0", "page.page_size");
        store::TrialPage page = deps_.store->ListTrials(
            req->job_id(), req->state(), req->page().page_size(), req->page().page_token());
        for (auto& t : page.trials) *resp->add_trials() = std::move(t);
        resp->set_next_page_token(page.next_page_token);
        return grpc::Status::OK;
    });
}

grpc::ServerUnaryReactor* SearchServiceImpl::GetTrial(grpc::CallbackServerContext* ctx,
                                                      const v1::GetTrialRequest* req,
                                                      v1::Trial* resp) {
    return RunUnary(deps_, ctx, Role::kUser, "GetTrial", [this, req, resp] {
        Require(req->trial_id(), "trial_id");
        *resp = deps_.store->GetTrial(req->trial_id());
        return grpc::Status::OK;
    });
}

grpc::ServerUnaryReactor* SearchServiceImpl::GetParetoFront(grpc::CallbackServerContext* ctx,
                                                            const v1::GetParetoFrontRequest* req,
                                                            v1::ParetoFront* resp) {
    return RunUnary(deps_, ctx, Role::kUser, "GetParetoFront", [this, req, resp] {
        Require(req->job_id(), "job_id");
        *resp = deps_.store->GetParetoFront(req->job_id());
        return grpc::Status::OK;
    });
}

grpc::ServerWriteReactor<v1::ArtifactChunk>* SearchServiceImpl::GetArtifact(
    grpc::CallbackServerContext* ctx, const v1::GetArtifactRequest* req) {
    const std::string trial_id = req->trial_id();
    const v1::ArtifactKind kind = req->kind();
    return ArtifactWriter::Serve(deps_, ctx, Role::kUser, "GetArtifact", [this, trial_id, kind] {
        Require(trial_id, "trial_id");
        if (kind == v1::ARTIFACT_KIND_UNSPECIFIED) throw InvalidArgument("is required", "kind");
        return deps_.store->GetTrialArtifact(trial_id, kind);
    });
}

}  // namespace hilnas::controller
