#include "hilnas/controller/job_spec.h"
#include "services.h"

namespace hilnas::controller {

namespace {

// A user's own jobs only; admins (and everyone without authentication) see all.
void CheckOwner(const Caller& caller, const v1::Job& job, const char* field) {
    if (caller.SeesAllJobs() || job.owner() == caller.principal) return;
    throw PermissionDenied("job " + job.job_id() + " belongs to another user", field);
}

// WatchJob: replays the job's events after the client's id, then follows new
// ones by re-reading the store on the timer, and finishes once the job has
// reached a final state and every event was sent.
class WatchReactor : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
  public:
    WatchReactor(ServiceDeps deps, grpc::CallbackServerContext* ctx, Caller caller,
                 std::string job_id, int64_t after)
        : deps_(std::move(deps)),
          ctx_(ctx),
          caller_(std::move(caller)),
          job_id_(std::move(job_id)),
          after_(after) {}

    void Poll() {
        if (ctx_->IsCancelled()) {
            Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
            return;
        }
        bool final_state = false;
        const grpc::Status status = rpc::Guard("WatchJob", [&] {
            const v1::Job job = deps_.store->GetJob(job_id_);  // NotFound for unknown ids
            CheckOwner(caller_, job, "job_id");
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
        const v1::JobEvent event = std::move(queue_.front());
        queue_.pop_front();
        after_ = event.event_id();
        current_.Clear();
        if (const grpc::Status s = SerializeMessage(event, &current_); !s.ok()) {
            Finish(s);
            return;
        }
        StartWrite(&current_);
    }

    ServiceDeps deps_;
    grpc::CallbackServerContext* ctx_;
    Caller caller_;
    std::string job_id_;
    int64_t after_;
    std::deque<v1::JobEvent> queue_;
    grpc::ByteBuffer current_;
};

}  // namespace

SearchServiceImpl::SearchServiceImpl(ServiceDeps deps)
    : BoundService(std::move(deps), Role::kUser) {
    BindUnary("SubmitJob", &SearchServiceImpl::SubmitJob);
    BindUnary("GetJob", &SearchServiceImpl::GetJob);
    BindUnary("ListJobs", &SearchServiceImpl::ListJobs);
    BindStream<v1::JobEvent>("WatchJob", &SearchServiceImpl::WatchJob);
    BindUnary("CancelJob", &SearchServiceImpl::CancelJob);
    BindUnary("ListTrials", &SearchServiceImpl::ListTrials);
    BindUnary("GetTrial", &SearchServiceImpl::GetTrial);
    BindUnary("GetParetoFront", &SearchServiceImpl::GetParetoFront);
    BindStream<v1::ArtifactChunk>("GetArtifact", &SearchServiceImpl::GetArtifact);
    BindUnary("ListBoards", &SearchServiceImpl::ListBoards);
    BindUnary("ListWorkers", &SearchServiceImpl::ListWorkers);
    CheckAllBound();
}

v1::Job SearchServiceImpl::OwnedJob(const Caller& caller, const std::string& job_id,
                                    const char* field) const {
    v1::Job job = deps_.store->GetJob(job_id);
    CheckOwner(caller, job, field);
    return job;
}

void SearchServiceImpl::SubmitJob(const Caller& caller, const v1::SubmitJobRequest& req,
                                  v1::Job* resp) {
    const std::string& path = req.spec().dataset().path();
    if (!path.empty() && !deps_.options.allow_dataset_paths) {
        throw InvalidArgument(
            "this controller does not accept dataset paths (jobs.allow_dataset_paths); trainers "
            "read datasets from their own datasets option",
            "spec.dataset.path");
    }
    if (!path.empty() && path.front() != '/') {
        throw InvalidArgument("must be an absolute path", "spec.dataset.path");
    }
    const v1::JobSpec spec = NormalizeJobSpec(req.spec());
    *resp = deps_.store->CreateJob(caller.principal, spec, req.request_id());
    deps_.wake_scheduler();
}

void SearchServiceImpl::GetJob(const Caller& caller, const v1::GetJobRequest& req, v1::Job* resp) {
    *resp = OwnedJob(caller, req.job_id(), "job_id");
    resp->set_waiting_reason(WaitingReason(*resp));
}

std::string SearchServiceImpl::WaitingReason(const v1::Job& job) const {
    const bool active = job.state() == v1::JOB_PENDING || job.state() == v1::JOB_RUNNING;
    if (!active || job.trials().pending() == 0) return "";
    const std::chrono::seconds window = LiveWindow();
    const store::Store::LiveWorkers live = deps_.store->LiveWorkerDatasets(window);
    const std::string& dataset = job.spec().dataset().name();
    if (live.workers == 0) {
        return "no live trainer worker (none seen in the last " + std::to_string(window.count()) +
               " s)";
    }
    if (live.any_dataset ||
        std::find(live.datasets.begin(), live.datasets.end(), dataset) != live.datasets.end()) {
        return "";
    }
    std::string have;
    for (const std::string& d : live.datasets) have += (have.empty() ? "" : ", ") + d;
    return "no live trainer worker serves dataset '" + dataset + "' (" +
           std::to_string(live.workers) + " live, serving: " + (have.empty() ? "none" : have) + ")";
}

std::chrono::seconds SearchServiceImpl::LiveWindow() const {
    // Workers long-poll for work, so a live one was seen within a few polls.
    return std::chrono::duration_cast<std::chrono::seconds>(
        std::max<std::chrono::milliseconds>(4 * deps_.options.max_wait, std::chrono::seconds(60)));
}

void SearchServiceImpl::ListJobs(const Caller& caller, const v1::ListJobsRequest& req,
                                 v1::ListJobsResponse* resp) {
    store::JobFilter filter;
    filter.state = req.state();
    filter.owner = req.owner();
    if (!caller.SeesAllJobs()) {
        if (!req.owner().empty() && req.owner() != caller.principal) {
            throw PermissionDenied("only an admin can list another user's jobs", "owner");
        }
        filter.owner = caller.principal;
    }
    store::JobPage page =
        deps_.store->ListJobs(filter, req.page().page_size(), req.page().page_token());
    for (auto& j : page.jobs) *resp->add_jobs() = std::move(j);
    resp->set_next_page_token(page.next_page_token);
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* SearchServiceImpl::WatchJob(
    const Caller& caller, grpc::CallbackServerContext* ctx, const v1::WatchJobRequest& req) {
    auto* reactor = new WatchReactor(deps_, ctx, caller, req.job_id(), req.after_event_id());
    if (!deps_.pool->Submit([reactor] { reactor->Poll(); })) {
        reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down"));
    }
    return reactor;
}

void SearchServiceImpl::CancelJob(const Caller& caller, const v1::CancelJobRequest& req,
                                  v1::Job* resp) {
    OwnedJob(caller, req.job_id(), "job_id");
    *resp = deps_.store->CancelJob(req.job_id(),
                                   req.reason().empty() ? "cancelled by the user" : req.reason());
    deps_.wake_scheduler();
}

void SearchServiceImpl::ListTrials(const Caller& caller, const v1::ListTrialsRequest& req,
                                   v1::ListTrialsResponse* resp) {
    OwnedJob(caller, req.job_id(), "job_id");
    store::TrialPage page = deps_.store->ListTrials(
        req.job_id(), req.state(), req.page().page_size(), req.page().page_token());
    for (auto& t : page.trials) *resp->add_trials() = std::move(t);
    resp->set_next_page_token(page.next_page_token);
}

void SearchServiceImpl::GetTrial(const Caller& caller, const v1::GetTrialRequest& req,
                                 v1::Trial* resp) {
    v1::Trial trial = deps_.store->GetTrial(req.trial_id());
    if (!caller.SeesAllJobs()) CheckOwner(caller, deps_.store->GetJob(trial.job_id()), "trial_id");
    *resp = std::move(trial);
}

void SearchServiceImpl::GetParetoFront(const Caller& caller, const v1::GetParetoFrontRequest& req,
                                       v1::ParetoFront* resp) {
    OwnedJob(caller, req.job_id(), "job_id");
    *resp = deps_.store->GetParetoFront(req.job_id());
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* SearchServiceImpl::GetArtifact(
    const Caller& caller, grpc::CallbackServerContext*, const v1::GetArtifactRequest& req) {
    const std::string trial_id = req.trial_id();
    const v1::ArtifactKind kind = req.kind();
    return ArtifactWriter::Serve(deps_, "GetArtifact", [this, caller, trial_id, kind] {
        if (!caller.SeesAllJobs()) {
            const v1::Trial trial = deps_.store->GetTrial(trial_id);
            CheckOwner(caller, deps_.store->GetJob(trial.job_id()), "trial_id");
        }
        return deps_.store->GetTrialArtifact(trial_id, kind);
    });
}

void SearchServiceImpl::ListBoards(const Caller& caller, const v1::ListBoardsRequest&,
                                   v1::ListBoardsResponse* resp) {
    const store::FarmView farm = deps_.store->ListBoardUtilisation();
    *resp->mutable_as_of() = ToTimestamp(farm.as_of);
    for (const store::BoardUtilisation& b : farm.boards) {
        v1::BoardStatus& out = *resp->add_boards();
        out.set_board_id(b.board_id);
        out.set_board_type(b.board_type);
        out.set_agent_id(b.agent_id);
        out.set_agent_hostname(b.agent_hostname);
        out.set_health(b.health);
        out.set_health_reason(b.health_reason);
        out.set_active(b.active);
        out.set_consecutive_failures(b.consecutive_failures);
        out.set_debugger(b.debugger);
        *out.mutable_last_seen() = ToTimestamp(b.last_seen);
        *out.mutable_agent_last_seen() = ToTimestamp(b.agent_last_seen);
        out.set_measuring(!b.measuring_trial_id.empty());
        // Another user's trial: the board is busy, whose job is not the caller's business.
        if (caller.SeesAllJobs() || b.measuring_job_owner == caller.principal) {
            out.set_measuring_trial_id(b.measuring_trial_id);
            out.set_measuring_job_id(b.measuring_job_id);
        }
        out.set_measurements_total(b.measurements_total);
        out.set_measurements_24h(b.measurements_24h);
        out.set_failed_leases_24h(b.failed_leases_24h);
        out.set_busy_seconds_24h(b.busy_seconds_24h);
        out.set_utilisation_24h(b.utilisation_24h);
    }
}

void SearchServiceImpl::ListWorkers(const Caller& caller, const v1::ListWorkersRequest&,
                                    v1::ListWorkersResponse* resp) {
    const std::chrono::seconds window = LiveWindow();
    const store::WorkerView view = deps_.store->ListWorkers(window);
    *resp->mutable_as_of() = ToTimestamp(view.as_of);
    SetDuration(window, resp->mutable_live_window());
    for (const store::WorkerInfo& w : view.workers) {
        v1::WorkerStatus& out = *resp->add_workers();
        out.set_worker_id(w.worker_id);
        out.set_hostname(w.hostname);
        out.set_version(w.version);
        out.set_device(w.device);
        out.set_device_name(w.device_name);
        out.set_memory_bytes(w.memory_bytes);
        out.set_cpu_threads(w.cpu_threads);
        for (const std::string& d : w.datasets) out.add_datasets(d);
        *out.mutable_first_seen() = ToTimestamp(w.first_seen);
        *out.mutable_last_seen() = ToTimestamp(w.last_seen);
        out.set_live(w.live);
        out.set_leases(static_cast<int32_t>(w.leases.size()));
        for (const store::WorkerTrialLease& l : w.leases) {
            if (!caller.SeesAllJobs() && l.job_owner != caller.principal) continue;
            v1::WorkerLease& t = *out.add_trials();
            t.set_trial_id(l.trial_id);
            t.set_job_id(l.job_id);
            t.set_trial_number(l.trial_number);
            *t.mutable_leased_at() = ToTimestamp(l.leased_at);
            *t.mutable_expires_at() = ToTimestamp(l.expires_at);
        }
    }
}

}  // namespace hilnas::controller
