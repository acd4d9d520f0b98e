#include "hilnas/controller/scheduler.h"

#include <google/protobuf/util/time_util.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <limits>

#include "hilnas/common/errors.h"
#include "hilnas/controller/candidate.h"
#include "hilnas/controller/job_spec.h"
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

std::vector<v1::Trial> AllTrials(store::Store& store, const std::string& job_id) {
    std::vector<v1::Trial> all;
    std::string token;
    do {
        store::TrialPage page = store.ListTrials(job_id, v1::TRIAL_STATE_UNSPECIFIED, 1000, token);
        for (auto& t : page.trials) all.push_back(std::move(t));
        token = page.next_page_token;
    } while (!token.empty());
    return all;
}

}  // namespace

Scheduler::Scheduler(store::Store& store, SchedulerOptions options)
    : store_(store), options_(options) {}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Start() {
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

void Scheduler::Loop() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
        lock.unlock();
        try {
            RunOnce();
        } catch (const std::exception& e) {
            spdlog::warn("scheduler pass failed (retrying next tick): {}", e.what());
        }
        lock.lock();
        cv_.wait_for(lock, options_.tick, [this] { return stopping_ || woken_; });
        woken_ = false;
    }
}

void Scheduler::RunOnce() {
    std::lock_guard pass(pass_mu_);
    const store::ReapReport reaped = store_.ReapExpiredLeases(options_.reap_limit);
    for (const auto& r : reaped.reaped) {
        spdlog::info("lease {} of trial {} expired: {}", r.lease_id, r.trial_id, r.reason);
    }
    for (const v1::JobState state : {v1::JOB_PENDING, v1::JOB_RUNNING}) {
        std::string token;
        do {
            store::JobFilter filter;
            filter.state = state;
            store::JobPage page = store_.ListJobs(filter, 1000, token);
            for (const v1::Job& job : page.jobs) {
                try {
                    AdvanceJob(job);
                } catch (const Error& e) {
                    if (IsCallersFault(e.code()) && e.code() == ErrorCode::kInvalidArgument) {
                        // A spec this controller cannot run: fail the job, keep the others going.
                        spdlog::error("job {}: {}", job.job_id(), e.what());
                        store_.SetJobState(job.job_id(), v1::JOB_FAILED, e.what());
                    } else {
                        spdlog::warn("job {}: {} (retrying next tick)", job.job_id(), e.what());
                    }
                }
            }
            token = page.next_page_token;
        } while (!token.empty());
    }
}

void Scheduler::AdvanceJob(const v1::Job& job_in) {
    v1::Job job = job_in;
    const v1::JobSpec spec = job.spec();  // a copy: `job` is replaced below
    if (job.state() == v1::JOB_PENDING) {
        job = store_.SetJobState(job.job_id(), v1::JOB_RUNNING, "started");
        spdlog::info("job {} ({}) running", job.job_id(), spec.name());
    }
    const auto trials = AllTrials(store_, job.job_id());
    int in_flight = 0, finished = 0, infeasible = 0;
    std::vector<v1::Trial> complete;
    std::vector<optimizer::Observation> observed;
    std::vector<std::string> observed_ids;
    std::vector<Vector> pending;
    for (const v1::Trial& t : trials) {
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
                    observed.push_back({EncodingOf(t), *y});
                    observed_ids.push_back(t.trial_id());
                    complete.push_back(t);
                }
                break;
            case v1::TRIAL_INFEASIBLE:
                ++infeasible;
                [[fallthrough]];
            case v1::TRIAL_FAILED:
            case v1::TRIAL_STALE:
                if (t.state() != v1::TRIAL_INFEASIBLE) ++finished;
                // Known bad: the optimiser must not suggest it again.
                observed.push_back(
                    {EncodingOf(t), Vector(static_cast<size_t>(spec.objectives_size()),
                                           std::numeric_limits<double>::quiet_NaN())});
                observed_ids.push_back(t.trial_id());
                break;
            default:
                break;
        }
    }
    RecordFront(job, complete);

    const auto& budget = spec.budget();
    const bool out_of_time = budget.has_max_wall_time() && job.has_started_at() &&
                             google::protobuf::util::TimeUtil::GetCurrentTime() - job.started_at() >
                                 budget.max_wall_time();
    const int spent = static_cast<int>(trials.size()) - infeasible;
    if (out_of_time || (finished >= budget.max_trials() && in_flight == 0)) {
        store_.SetJobState(job.job_id(), v1::JOB_COMPLETED,
                           out_of_time ? "wall-time budget spent" : "trial budget spent");
        spdlog::info("job {} completed ({} trials)", job.job_id(), finished);
        return;
    }
    if (infeasible > 20 * budget.max_trials()) {
        store_.SetJobState(
            job.job_id(), v1::JOB_FAILED,
            "the search space yields almost only infeasible candidates for this board");
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
        const auto ids = store_.InsertTrials(job.job_id(), fresh);
        spdlog::info("job {}: {} new trial(s) from {}", job.job_id(), ids.size(), opt->name());
    }
}

void Scheduler::RecordFront(const v1::Job& job, const std::vector<v1::Trial>& complete) {
    const int n = static_cast<int>(complete.size());
    auto& last = recorded_[job.job_id()];
    if (n == 0 || n == last) return;
    const v1::JobSpec& spec = job.spec();
    std::vector<Vector> ys;
    for (const auto& t : complete) ys.push_back(*ObjectivesOf(spec, t));
    // One scale for the whole job: objectives divided by the job's reference
    // point (fixed at submission), so the reference is 1 in every objective and
    // the series can only grow as trials complete.
    const Vector ref = ReferencePointOf(spec);
    const auto front = optimizer::NonDominatedIndices(ys);
    std::vector<Vector> front_points;
    std::set<std::string> ids;
    for (int i : front) {
        front_points.push_back(ys[static_cast<size_t>(i)]);
        ids.insert(complete[static_cast<size_t>(i)].trial_id());
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
    store_.RecordHypervolume(job.job_id(), hv);
    auto& previous = fronts_[job.job_id()];
    if (ids != previous) {
        v1::JobEvent e;
        auto* f = e.mutable_front();
        for (const auto& id : ids) {
            if (!previous.count(id)) f->add_added_trial_ids(id);
        }
        for (const auto& id : previous) {
            if (!ids.count(id)) f->add_removed_trial_ids(id);
        }
        f->set_front_size(static_cast<int>(ids.size()));
        store_.AppendJobEvent(job.job_id(), e);
        previous = ids;
    }
    last = n;
}

}  // namespace hilnas::controller
