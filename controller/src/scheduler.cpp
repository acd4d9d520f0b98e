#include "hilnas/controller/scheduler.h"

#include <google/protobuf/util/time_util.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "hilnas/common/errors.h"
#include "hilnas/controller/candidate.h"
#include "hilnas/controller/job_spec.h"
#include "hilnas/controller/objectives.h"
#include "hilnas/optimizer/nas_domain.h"
#include "hilnas/optimizer/optimizer.h"
#include "hilnas/optimizer/pareto.h"

namespace hilnas::controller {

namespace {

using optimizer::Vector;

optimizer::NasObjective NasObjectiveOf(v1::Objective o) {
    switch (o) {
        case v1::OBJECTIVE_ERROR:
            return optimizer::NasObjective::kError;
        case v1::OBJECTIVE_FLASH_BYTES:
            return optimizer::NasObjective::kFlashBytes;
        case v1::OBJECTIVE_SRAM_BYTES:
            return optimizer::NasObjective::kSramBytes;
        case v1::OBJECTIVE_MACS:
            return optimizer::NasObjective::kMacs;
        case v1::OBJECTIVE_MODEL_SIZE_BYTES:
            return optimizer::NasObjective::kModelSizeBytes;
        case v1::OBJECTIVE_LATENCY_MS:
            return optimizer::NasObjective::kLatency;
        case v1::OBJECTIVE_ENERGY_UJ:
            return optimizer::NasObjective::kEnergy;
        default:
            throw InvalidArgument("unsupported objective", "spec.objectives");
    }
}

std::string OptimizerName(v1::OptimizerKind k) {
    switch (k) {
        case v1::OPTIMIZER_NSGA2:
            return "nsga2";
        case v1::OPTIMIZER_RANDOM:
            return "random";
        default:
            return "mobo";
    }
}

// The trial's objective values in the job's order; nullopt when one is missing.
std::optional<Vector> ObjectivesOf(const v1::JobSpec& spec, const v1::Trial& t) {
    Vector y(static_cast<size_t>(spec.objectives_size()), std::numeric_limits<double>::quiet_NaN());
    for (const auto& v : t.objectives()) {
        for (int i = 0; i < spec.objectives_size(); ++i) {
            if (spec.objectives(i) == v.objective()) y[static_cast<size_t>(i)] = v.value();
        }
    }
    for (double v : y) {
        if (std::isnan(v)) return std::nullopt;
    }
    return y;
}

Vector EncodingOf(const v1::Trial& t) {
    return Vector(t.candidate().encoding().begin(), t.candidate().encoding().end());
}

}  // namespace

Scheduler::Scheduler(store::SchedulerStore& store, SchedulerOptions options)
    : store_(store),
      options_(std::move(options)),
      lock_(options_.leader_dsn, store::kSchedulerLeaderLock, "hilnas-scheduler-leader") {}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Start() {
    // An empty DSN would reach libpq's defaults: some database, maybe not the store's.
    if (options_.leader_dsn.empty()) {
        throw FailedPrecondition("the scheduler's leader loop needs a database for its lock",
                                 "leader_dsn");
    }
    std::lock_guard lock(mu_);
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this] { Loop(); });
}

void Scheduler::Stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void Scheduler::Wake() {
    {
        std::lock_guard lock(mu_);
        woken_ = true;
    }
    cv_.notify_all();
}

PassStats Scheduler::last_pass() const {
    std::lock_guard pass(pass_mu_);
    return last_pass_;
}

void Scheduler::Loop() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
        lock.unlock();
        if (!lock_.held()) TryToLead();
        if (lock_.held()) {
            if (!lock_.Verify()) {
                StopLeading("the leader lock's connection failed");
            } else {
                try {
                    Pass([this] { return lock_.Alive(); });
                    passes_.fetch_add(1);
                } catch (const LeadershipLost&) {
                    StopLeading("the leader lock's connection dropped during a pass");
                } catch (const std::exception& e) {
                    spdlog::warn("scheduler pass failed (retrying next tick): {}", e.what());
                }
            }
        }
        lock.lock();
        // A follower waits the whole election interval: RPCs wake the scheduler
        // often, and trying for the lock on each would be pointless.
        const bool leading = leader_.load();
        cv_.wait_for(lock, leading ? options_.tick : options_.election_interval,
                     [this, leading] { return stopping_ || (leading && woken_); });
        woken_ = false;
    }
    lock.unlock();
    if (leader_.load()) {
        lock_.Release();
        leader_ = false;
        spdlog::info("scheduler: stopped; gave up leadership (advisory lock {:#x})",
                     store::kSchedulerLeaderLock);
        if (options_.on_leadership) options_.on_leadership(false);
    } else {
        lock_.Release();
    }
}

void Scheduler::TryToLead() {
    bool acquired = false;
    try {
        acquired = lock_.TryAcquire();
    } catch (const Error& e) {
        spdlog::warn("scheduler: cannot try for leadership (retrying in {} ms): {}",
                     options_.election_interval.count(), e.what());
        return;
    }
    if (!acquired) {
        if (!standing_by_logged_) {
            spdlog::info(
                "scheduler: another replica leads (advisory lock {:#x}); standing by, trying "
                "every {} ms",
                store::kSchedulerLeaderLock, options_.election_interval.count());
            standing_by_logged_ = true;
        }
        return;
    }
    {
        std::lock_guard pass(pass_mu_);
        watermark_.reset();  // a new leader starts with a full pass
        retry_.clear();
    }
    leader_ = true;
    terms_.fetch_add(1);
    standing_by_logged_ = false;
    spdlog::info("scheduler: this replica is now the leader (advisory lock {:#x}, session {})",
                 store::kSchedulerLeaderLock, lock_.backend_pid());
    if (options_.on_leadership) options_.on_leadership(true);
}

void Scheduler::StopLeading(const std::string& why) {
    lock_.Release();
    {
        std::lock_guard pass(pass_mu_);
        watermark_.reset();
        retry_.clear();
    }
    leader_ = false;
    spdlog::warn("scheduler: lost leadership ({}); scheduling stopped, trying again in {} ms", why,
                 options_.election_interval.count());
    if (options_.on_leadership) options_.on_leadership(false);
}

PassStats Scheduler::RunOnce() {
    return Pass([] { return true; });
}

PassStats Scheduler::Pass(const std::function<bool()>& still_leader) {
    std::lock_guard pass(pass_mu_);
    PassStats stats;
    const store::ReapReport reaped = store_.ReapExpiredLeases(options_.reap_limit);
    for (const auto& r : reaped.reaped) {
        spdlog::info("lease {} of trial {} expired: {}", r.lease_id, r.trial_id, r.reason);
    }
    const auto now = std::chrono::steady_clock::now();
    stats.full = !watermark_ || options_.full_pass_interval.count() <= 0 ||
                 now - last_full_pass_ >= options_.full_pass_interval;
    const store::ActiveJobs active =
        stats.full ? store_.ListActiveJobs(std::nullopt)
                   : store_.ListActiveJobs(watermark_,
                                           std::vector<std::string>(retry_.begin(), retry_.end()));
    std::set<std::string> failed;
    for (const v1::Job& job : active.jobs) {
        if (!still_leader()) throw LeadershipLost{};
        try {
            AdvanceJob(job, stats);
        } catch (const Error& e) {
            if (IsCallersFault(e.code()) && e.code() == ErrorCode::kInvalidArgument) {
                // A spec this controller cannot run: fail the job, keep the others going.
                spdlog::error("job {}: {}", job.job_id(), e.what());
                try {
                    store_.SetJobState(job.job_id(), v1::JOB_FAILED, e.what());
                } catch (const Error& again) {
                    spdlog::warn("job {}: {} (retrying next tick)", job.job_id(), again.what());
                    failed.insert(job.job_id());
                }
            } else {
                spdlog::warn("job {}: {} (retrying next tick)", job.job_id(), e.what());
                failed.insert(job.job_id());
            }
        }
    }
    retry_ = std::move(failed);
    watermark_ = active.watermark;
    if (stats.full) last_full_pass_ = now;
    last_pass_ = stats;
    return stats;
}

void Scheduler::AdvanceJob(const v1::Job& job_in, PassStats& stats) {
    v1::Job job = job_in;
    const v1::JobSpec spec = job.spec();  // a copy: `job` is replaced below
    if (job.state() == v1::JOB_PENDING) {
        job = store_.SetJobState(job.job_id(), v1::JOB_RUNNING, "started");
        spdlog::info("job {} ({}) running", job.job_id(), spec.name());
    }
    const store::SchedulingView view = store_.LoadSchedulingView(job.job_id());
    const std::vector<v1::Trial>& trials = view.trials;
    ++stats.jobs;
    stats.trials_read += static_cast<int>(trials.size());
    int last_number = 0;
    int in_flight = 0, finished = 0;
    std::vector<v1::Trial> complete;
    std::vector<optimizer::Observation> observed;
    std::vector<std::string> observed_ids;
    // mobo models the measured limits; random and nsga2 would take a trial
    // that broke one for an ordinary observation, so they see it as failed.
    const bool models_constraints = OptimizerName(spec.optimizer().kind()) == "mobo";
    std::vector<Vector> pending;
    for (const v1::Trial& t : trials) {
        last_number = std::max(last_number, t.number());
        switch (t.state()) {
            case v1::TRIAL_PENDING:
            case v1::TRIAL_TRAINING:
            case v1::TRIAL_TRAINED:
            case v1::TRIAL_MEASURING:
                ++in_flight;
                pending.push_back(EncodingOf(t));
                break;
            case v1::TRIAL_COMPLETE:
                ++finished;
                if (auto y = ObjectivesOf(spec, t)) {
                    observed.push_back({EncodingOf(t), *y, LimitConstraints(spec, t.objectives())});
                    observed_ids.push_back(t.trial_id());
                    complete.push_back(t);
                }
                break;
            case v1::TRIAL_INFEASIBLE:
            case v1::TRIAL_FAILED:
            case v1::TRIAL_STALE: {
                // Every trial that ended spends the budget: an infeasible one
                // was trained (and maybe measured) as much as a complete one.
                ++finished;
                optimizer::Observation o{EncodingOf(t),
                                         Vector(static_cast<size_t>(spec.objectives_size()),
                                                std::numeric_limits<double>::quiet_NaN())};
                if (t.state() == v1::TRIAL_INFEASIBLE && models_constraints) {
                    // It broke a limit: its constraint values teach the model
                    // of each limit (which weighs the acquisition), whatever
                    // it has of them (a trial over max_error is never
                    // measured); with all its figures it also teaches the
                    // objective models. Never on the front.
                    o.constraints = LimitConstraints(spec, t.objectives());
                    if (auto y = ObjectivesOf(spec, t)) o.y = *y;
                }
                // With no figures, known bad: the optimiser must not suggest it again.
                observed.push_back(std::move(o));
                observed_ids.push_back(t.trial_id());
                break;
            }
            default:
                break;
        }
    }
    RecordFront(job, complete, view.recorded_completed_trials);

    const auto& budget = spec.budget();
    const bool out_of_time = budget.has_max_wall_time() && job.has_started_at() &&
                             google::protobuf::util::TimeUtil::GetCurrentTime() - job.started_at() >
                                 budget.max_wall_time();
    const int spent = static_cast<int>(trials.size());
    if (out_of_time || (finished >= budget.max_trials() && in_flight == 0)) {
        store_.SetJobState(job.job_id(), v1::JOB_COMPLETED,
                           out_of_time ? "wall-time budget spent" : "trial budget spent");
        spdlog::info("job {} completed ({} trials)", job.job_id(), finished);
        return;
    }
    const int room =
        std::min(budget.max_parallel_trials() - in_flight, budget.max_trials() - spent);
    if (room <= 0) return;

    // The optimiser, rebuilt from the database every pass: stateless by design.
    const arch::SearchSpace space = SpaceOf(spec);
    std::vector<optimizer::NasObjective> objectives;
    for (int o : spec.objectives())
        objectives.push_back(NasObjectiveOf(static_cast<v1::Objective>(o)));
    optimizer::NasLimits limits;
    limits.max_flash_bytes = spec.constraints().max_flash_bytes();
    limits.max_sram_bytes = spec.constraints().max_sram_bytes();
    limits.board = spec.board_type();
    if (spec.constraints().has_max_macs()) limits.max_macs = spec.constraints().max_macs();
    auto domain = std::make_shared<optimizer::NasDomain>(space, objectives, limits);
    optimizer::OptimizerSettings settings;
    settings.seed = spec.seed();
    settings.warmup = spec.optimizer().warmup_trials();
    settings.population = spec.optimizer().population();
    settings.acquisition = spec.optimizer().acquisition() == v1::ACQUISITION_THOMPSON
                               ? optimizer::Acquisition::kThompson
                               : optimizer::Acquisition::kUcb;
    settings.ucb_kappa = std::sqrt(spec.optimizer().ucb_beta());
    settings.random_candidates = spec.optimizer().candidate_pool();
    auto opt = optimizer::MakeOptimizer(OptimizerName(spec.optimizer().kind()), domain, settings);
    // Seeded by the job and how far it has got, so a restart suggests the same.
    optimizer::Rng rng(spec.seed() * 0x9E3779B97F4A7C15ULL + trials.size());
    const auto suggestions = opt->Suggest(room, observed, pending, rng);

    std::vector<store::NewTrial> fresh;
    for (size_t i = 0; i < suggestions.size(); ++i) {
        const auto& s = suggestions[i];
        const arch::Point point = domain->Decode(s.x);
        const std::string name = (spec.name().empty() ? "trial" : spec.name()) + "-" +
                                 std::to_string(trials.size() + i + 1);
        store::NewTrial t;
        std::optional<arch::Morphed> morph;
        if (s.parent >= 0 && s.detail.has_value()) {
            if (const auto* m = std::any_cast<arch::Morphed>(&s.detail)) morph = *m;
            t.parent_trial_id = observed_ids[static_cast<size_t>(s.parent)];
        }
        t.candidate = MakeCandidate(spec, space, point, name, morph, t.parent_trial_id);
        fresh.push_back(std::move(t));
    }
    if (!fresh.empty()) {
        // Fenced on the trials this decision saw: if another scheduler added some
        // meanwhile, this adds nothing (FailedPrecondition) and the job is looked at again.
        const auto ids = store_.InsertTrials(job.job_id(), fresh, last_number);
        stats.trials_added += static_cast<int>(ids.size());
        spdlog::info("job {}: {} new trial(s) from {}", job.job_id(), ids.size(), opt->name());
    }
}

void Scheduler::RecordFront(const v1::Job& job, const std::vector<v1::Trial>& complete,
                            int recorded_completed_trials) {
    const int n = static_cast<int>(complete.size());
    // Complete is a final state, so n only grows: a point for n is recorded once.
    if (n == 0 || n <= recorded_completed_trials) return;
    const v1::JobSpec& spec = job.spec();
    std::vector<Vector> ys;
    for (const auto& t : complete) ys.push_back(*ObjectivesOf(spec, t));
    // One scale for the whole job: objectives divided by the job's reference
    // point (fixed at submission), so the reference is 1 in every objective and
    // the series can only grow as trials complete.
    const Vector ref = ReferencePointOf(spec);
    const auto front = optimizer::NonDominatedIndices(ys);
    std::vector<Vector> front_points;
    std::vector<std::string> ids;
    for (int i : front) {
        front_points.push_back(ys[static_cast<size_t>(i)]);
        ids.push_back(complete[static_cast<size_t>(i)].trial_id());
    }
    store::HypervolumePoint hv;
    hv.completed_trials = n;
    hv.trial_id = complete.back().trial_id();
    std::vector<Vector> scaled;
    for (const Vector& y : front_points) {
        Vector z(y.size());
        for (size_t i = 0; i < y.size(); ++i) z[i] = y[i] / ref[i];
        scaled.push_back(std::move(z));
    }
    hv.hypervolume = optimizer::Hypervolume(scaled, Vector(ref.size(), 1.0));
    hv.front_size = static_cast<int>(front.size());
    hv.reference_point = ref;
    // With the front event against the latest recorded front, in one transaction.
    store_.RecordFront(job.job_id(), hv, ids);
}

}  // namespace hilnas::controller
