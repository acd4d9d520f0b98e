#include "hilnas/testing/in_memory_scheduler_store.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <utility>

#include "hilnas/common/errors.h"

namespace hilnas::testing {

namespace {

using google::protobuf::util::TimeUtil;

bool Active(v1::JobState s) { return s == v1::JOB_PENDING || s == v1::JOB_RUNNING; }

bool Finished(v1::TrialState s) {
    return s == v1::TRIAL_COMPLETE || s == v1::TRIAL_FAILED || s == v1::TRIAL_INFEASIBLE ||
           s == v1::TRIAL_STALE;
}

bool Leased(v1::TrialState s) { return s == v1::TRIAL_TRAINING || s == v1::TRIAL_MEASURING; }

// "running", as the database names states in reasons.
std::string Lower(const std::string& enum_name, size_t prefix) {
    std::string out = enum_name.substr(prefix);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
    return out;
}

std::string NameOf(v1::JobState s) { return Lower(v1::JobState_Name(s), 4); }
std::string NameOf(v1::TrialState s) { return Lower(v1::TrialState_Name(s), 6); }

// UUID-shaped, as the database's ids are.
std::string Uuid(uint64_t n) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012llx",
                  static_cast<unsigned long long>(n));
    return buf;
}

}  // namespace

bool JobTransitionAllowed(v1::JobState from, v1::JobState to) {
    switch (from) {
        case v1::JOB_PENDING:
            return to == v1::JOB_RUNNING || to == v1::JOB_CANCELLING || to == v1::JOB_CANCELLED ||
                   to == v1::JOB_FAILED;
        case v1::JOB_RUNNING:
            return to == v1::JOB_CANCELLING || to == v1::JOB_CANCELLED || to == v1::JOB_COMPLETED ||
                   to == v1::JOB_FAILED;
        case v1::JOB_CANCELLING:
            return to == v1::JOB_CANCELLED || to == v1::JOB_FAILED;
        default:
            return false;
    }
}

// ---- Helpers ----

std::string InMemorySchedulerStore::CreateJob(const v1::JobSpec& spec, const std::string& owner) {
    std::lock_guard lock(mu_);
    const std::string id = Uuid(++next_id_);
    Job& job = jobs_[id];
    job.job.set_job_id(id);
    job.job.set_owner(owner);
    *job.job.mutable_spec() = spec;
    job.job.set_state(v1::JOB_PENDING);
    *job.job.mutable_created_at() = TimeUtil::GetCurrentTime();
    StampLocked(job);
    job_order_.push_back(id);
    return id;
}

v1::Job InMemorySchedulerStore::GetJob(const std::string& job_id) const {
    std::lock_guard lock(mu_);
    return ViewLocked(JobLocked(job_id));
}

std::vector<v1::Trial> InMemorySchedulerStore::Trials(const std::string& job_id) const {
    std::lock_guard lock(mu_);
    std::vector<v1::Trial> out;
    for (const std::string& id : JobLocked(job_id).trials) out.push_back(trials_.at(id));
    return out;
}

std::vector<InMemorySchedulerStore::RecordedFront> InMemorySchedulerStore::Fronts(
    const std::string& job_id) const {
    std::lock_guard lock(mu_);
    return JobLocked(job_id).fronts;
}

v1::Job InMemorySchedulerStore::CancelJob(const std::string& job_id, const std::string& reason) {
    std::lock_guard lock(mu_);
    Job& job = JobLocked(job_id);
    const v1::JobState state = job.job.state();
    if (state == v1::JOB_CANCELLING) return ViewLocked(job);
    if (!Active(state)) {
        throw FailedPrecondition("job " + job_id + " has already finished (" + NameOf(state) + ")");
    }
    const std::string why = reason.empty() ? "cancelled" : "cancelled: " + reason;
    StaleUnleasedLocked(job, "job " + why);
    const bool leased = std::any_of(job.trials.begin(), job.trials.end(),
                                    [&](const auto& id) { return Leased(trials_.at(id).state()); });
    job.job.set_state(leased ? v1::JOB_CANCELLING : v1::JOB_CANCELLED);
    if (!leased) *job.job.mutable_finished_at() = TimeUtil::GetCurrentTime();
    StampLocked(job);
    return ViewLocked(job);
}

void InMemorySchedulerStore::Claim(const std::string& trial_id) {
    std::lock_guard lock(mu_);
    v1::Trial& trial = TrialLocked(trial_id);
    Job& job = JobLocked(trial.job_id());
    if (trial.state() != v1::TRIAL_PENDING || job.job.state() != v1::JOB_RUNNING) {
        throw FailedPrecondition("trial " + trial_id + " is " + NameOf(trial.state()) +
                                 " of a job " + NameOf(job.job.state()) + ": nothing to claim");
    }
    trial.set_state(v1::TRIAL_TRAINING);
    StampLocked(job);
}

v1::TrialState InMemorySchedulerStore::Complete(const std::string& trial_id,
                                                const std::vector<v1::ObjectiveValue>& objectives) {
    std::lock_guard lock(mu_);
    return FinishLocked(trial_id, v1::TRIAL_COMPLETE, "", objectives);
}

v1::TrialState InMemorySchedulerStore::Fail(const std::string& trial_id,
                                            const std::string& reason) {
    std::lock_guard lock(mu_);
    return FinishLocked(trial_id, v1::TRIAL_FAILED, reason, {});
}

v1::TrialState InMemorySchedulerStore::MarkInfeasible(
    const std::string& trial_id, const std::string& reason,
    const std::vector<v1::ObjectiveValue>& objectives) {
    std::lock_guard lock(mu_);
    return FinishLocked(trial_id, v1::TRIAL_INFEASIBLE, reason, objectives);
}

void InMemorySchedulerStore::BackdateStart(const std::string& job_id, std::chrono::seconds by) {
    std::lock_guard lock(mu_);
    Job& job = JobLocked(job_id);
    if (job.job.state() != v1::JOB_RUNNING || !job.job.has_started_at()) {
        throw FailedPrecondition("job " + job_id + " is not running");
    }
    *job.job.mutable_started_at() -= TimeUtil::SecondsToDuration(by.count());
}

void InMemorySchedulerStore::BeforeNextInsert(std::function<void()> hook) {
    std::lock_guard lock(mu_);
    before_insert_ = std::move(hook);
}

// ---- SchedulerStore ----

store::ReapReport InMemorySchedulerStore::ReapExpiredLeases(int /*limit*/) {
    std::lock_guard lock(mu_);
    store::ReapReport report;
    for (const std::string& id : job_order_) {
        Job& job = jobs_.at(id);
        if (job.job.state() != v1::JOB_CANCELLING) continue;
        const bool leased = std::any_of(job.trials.begin(), job.trials.end(), [&](const auto& t) {
            return Leased(trials_.at(t).state());
        });
        if (leased) continue;
        job.job.set_state(v1::JOB_CANCELLED);
        *job.job.mutable_finished_at() = TimeUtil::GetCurrentTime();
        StampLocked(job);
        report.cancelled_jobs.push_back(id);
    }
    return report;
}

store::ActiveJobs InMemorySchedulerStore::ListActiveJobs(std::optional<uint64_t> since,
                                                         const std::vector<std::string>& also) {
    std::lock_guard lock(mu_);
    store::ActiveJobs out;
    out.watermark = counter_ + 1;  // the stamp of the next change
    const auto now = TimeUtil::GetCurrentTime();
    const std::set<std::string> extra(also.begin(), also.end());
    for (const std::string& id : job_order_) {
        const Job& job = jobs_.at(id);
        if (!Active(job.job.state())) continue;
        const v1::JobSpec& spec = job.job.spec();
        const bool out_of_time = job.job.state() == v1::JOB_RUNNING &&
                                 spec.budget().has_max_wall_time() && job.job.has_started_at() &&
                                 job.job.started_at() + spec.budget().max_wall_time() <= now;
        if (!since || job.changed >= *since || out_of_time || extra.count(id)) {
            out.jobs.push_back(ViewLocked(job));
        }
    }
    return out;
}

v1::Job InMemorySchedulerStore::SetJobState(const std::string& job_id, v1::JobState state,
                                            const std::string& reason) {
    if (state != v1::JOB_RUNNING && state != v1::JOB_COMPLETED && state != v1::JOB_FAILED) {
        throw InvalidArgument("must be RUNNING, COMPLETED or FAILED (CancelJob cancels)", "state");
    }
    std::lock_guard lock(mu_);
    Job& job = JobLocked(job_id);
    const v1::JobState from = job.job.state();
    if (from == state) return ViewLocked(job);
    if (!JobTransitionAllowed(from, state)) {
        throw FailedPrecondition("job " + job_id + " cannot go from " + NameOf(from) + " to " +
                                 NameOf(state));
    }
    if (state != v1::JOB_RUNNING) {
        StaleUnleasedLocked(job, "job " + NameOf(state));
        *job.job.mutable_finished_at() = TimeUtil::GetCurrentTime();
    } else if (!job.job.has_started_at()) {
        *job.job.mutable_started_at() = TimeUtil::GetCurrentTime();
    }
    if (state == v1::JOB_FAILED) job.job.set_error(reason);
    job.job.set_state(state);
    StampLocked(job);
    return ViewLocked(job);
}

store::SchedulingView InMemorySchedulerStore::LoadSchedulingView(const std::string& job_id) {
    std::lock_guard lock(mu_);
    store::SchedulingView view;
    const auto it = jobs_.find(job_id);
    if (it == jobs_.end()) return view;
    for (const std::string& id : it->second.trials) {
        const v1::Trial& whole = trials_.at(id);
        v1::Trial& t = view.trials.emplace_back();
        t.set_trial_id(id);
        t.set_job_id(job_id);
        t.set_number(whole.number());
        t.set_state(whole.state());
        *t.mutable_candidate()->mutable_encoding() = whole.candidate().encoding();
        *t.mutable_objectives() = whole.objectives();
    }
    if (!it->second.fronts.empty()) {
        view.recorded_completed_trials = it->second.fronts.back().point.completed_trials;
    }
    return view;
}

std::vector<std::string> InMemorySchedulerStore::InsertTrials(
    const std::string& job_id, const std::vector<store::NewTrial>& trials,
    std::optional<int> after_number) {
    std::function<void()> hook;
    {
        std::lock_guard lock(mu_);
        std::swap(hook, before_insert_);
    }
    if (hook) hook();
    if (trials.empty()) return {};
    if (after_number && *after_number < 0) throw InvalidArgument("must be >= 0", "after_number");
    std::lock_guard lock(mu_);
    Job& job = JobLocked(job_id);
    if (!Active(job.job.state())) {
        throw FailedPrecondition("job " + job_id + " has stopped; it takes no new trials");
    }
    const int last = static_cast<int>(job.trials.size());
    if (after_number && *after_number != last) {
        throw FailedPrecondition("job " + job_id + " has trials up to number " +
                                 std::to_string(last) + ", not " + std::to_string(*after_number) +
                                 ": it changed meanwhile");
    }
    for (const store::NewTrial& t : trials) {
        if (t.parent_trial_id.empty()) continue;
        const auto parent = trials_.find(t.parent_trial_id);
        if (parent == trials_.end() || parent->second.job_id() != job_id) {
            throw NotFound("a parent is not a trial of job " + job_id, "parent_trial_id");
        }
    }
    std::vector<std::string> ids;
    for (size_t i = 0; i < trials.size(); ++i) {
        const std::string id = Uuid(++next_id_);
        v1::Trial& t = trials_[id];
        t.set_trial_id(id);
        t.set_job_id(job_id);
        t.set_number(last + static_cast<int>(i) + 1);
        t.set_parent_trial_id(trials[i].parent_trial_id);
        *t.mutable_candidate() = trials[i].candidate;
        t.set_state(v1::TRIAL_PENDING);
        job.trials.push_back(id);
        ids.push_back(id);
    }
    StampLocked(job);
    return ids;
}

bool InMemorySchedulerStore::RecordFront(const std::string& job_id,
                                         const store::HypervolumePoint& point,
                                         const std::vector<std::string>& front_trial_ids) {
    if (point.completed_trials < 0) throw InvalidArgument("must be >= 0", "completed_trials");
    if (point.front_size < 0) throw InvalidArgument("must be >= 0", "front_size");
    if (!std::isfinite(point.hypervolume) || point.hypervolume < 0) {
        throw InvalidArgument("must be finite and >= 0", "hypervolume");
    }
    std::lock_guard lock(mu_);
    Job& job = JobLocked(job_id);
    if (!job.fronts.empty() && job.fronts.back().point.completed_trials >= point.completed_trials) {
        return false;
    }
    if (!point.trial_id.empty()) {
        const auto trial = trials_.find(point.trial_id);
        if (trial == trials_.end()) throw NotFound("no trial " + point.trial_id, "trial_id");
        if (trial->second.job_id() != job_id) {
            throw InvalidArgument("trial " + point.trial_id + " is not of job " + job_id,
                                  "trial_id");
        }
    }
    const std::set<std::string> front(front_trial_ids.begin(), front_trial_ids.end());
    job.fronts.push_back({point, std::vector<std::string>(front.begin(), front.end())});
    return true;
}

// ---- Inside ----

InMemorySchedulerStore::Job& InMemorySchedulerStore::JobLocked(const std::string& job_id) {
    const auto it = jobs_.find(job_id);
    if (it == jobs_.end()) throw NotFound("no job " + job_id, "job_id");
    return it->second;
}

const InMemorySchedulerStore::Job& InMemorySchedulerStore::JobLocked(
    const std::string& job_id) const {
    const auto it = jobs_.find(job_id);
    if (it == jobs_.end()) throw NotFound("no job " + job_id, "job_id");
    return it->second;
}

v1::Trial& InMemorySchedulerStore::TrialLocked(const std::string& trial_id) {
    const auto it = trials_.find(trial_id);
    if (it == trials_.end()) throw NotFound("no trial " + trial_id, "trial_id");
    return it->second;
}

v1::Job InMemorySchedulerStore::ViewLocked(const Job& job) const {
    v1::Job out = job.job;
    // TrialCounts has a field named after each state ("pending", ...).
    v1::TrialCounts& counts = *out.mutable_trials();
    const auto* reflection = counts.GetReflection();
    for (const std::string& id : job.trials) {
        const auto* field =
            v1::TrialCounts::descriptor()->FindFieldByName(NameOf(trials_.at(id).state()));
        if (field) reflection->SetInt32(&counts, field, reflection->GetInt32(counts, field) + 1);
    }
    if (!job.fronts.empty()) {
        out.set_hypervolume(job.fronts.back().point.hypervolume);
        out.set_front_size(job.fronts.back().point.front_size);
    }
    return out;
}

void InMemorySchedulerStore::StaleUnleasedLocked(Job& job, const std::string& reason) {
    for (const std::string& id : job.trials) {
        v1::Trial& t = trials_.at(id);
        if (t.state() == v1::TRIAL_PENDING || t.state() == v1::TRIAL_TRAINED) {
            t.set_state(v1::TRIAL_STALE);
            t.set_last_error(reason);
        }
    }
}

v1::TrialState InMemorySchedulerStore::FinishLocked(
    const std::string& trial_id, v1::TrialState state, const std::string& reason,
    const std::vector<v1::ObjectiveValue>& objectives) {
    v1::Trial& trial = TrialLocked(trial_id);
    if (Finished(trial.state())) {
        throw FailedPrecondition("trial " + trial_id + " has already finished (" +
                                 NameOf(trial.state()) + ")");
    }
    Job& job = JobLocked(trial.job_id());
    if (trial.state() == v1::TRIAL_PENDING && job.job.state() != v1::JOB_RUNNING) {
        throw FailedPrecondition("trial " + trial_id + " of a job " + NameOf(job.job.state()) +
                                 " cannot be claimed");
    }
    if (!Active(job.job.state())) {
        // Only a leased trial of a stopped job is unfinished; its holder learns now.
        state = v1::TRIAL_STALE;
    } else {
        for (const v1::ObjectiveValue& o : objectives) *trial.add_objectives() = o;
    }
    trial.set_state(state);
    trial.set_last_error(state == v1::TRIAL_STALE ? "job " + NameOf(job.job.state()) : reason);
    StampLocked(job);
    return state;
}

}  // namespace hilnas::testing
