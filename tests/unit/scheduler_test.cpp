// The scheduler's decisions, on a store in memory (no PostgreSQL): a new job
// starts with its parallel trials; completions refill it up to its budget,
// then it completes; the front it records is the non-dominated set, computed
// here by brute force; a spent wall-time budget stops a job; a cancelled job
// gets nothing more, even when cancelled in the middle of a pass; two replicas
// never add a trial twice; and a pass with nothing new changes nothing.
// scheduler_pgtest runs the scheduler on PostgreSQL, and checks that the store
// there keeps the contract (ExpectSchedulerStoreContract) the fake keeps here.
#include "hilnas/controller/scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "hilnas/common/errors.h"
#include "hilnas/controller/job_spec.h"
#include "hilnas/testing/in_memory_scheduler_store.h"
#include "hilnas/testing/scheduler_spec.h"
#include "hilnas/testing/scheduler_store_contract.h"

namespace hilnas::controller {
namespace {

using namespace std::chrono_literals;
using testing::InMemorySchedulerStore;
using testing::SchedulerSpec;

v1::ObjectiveValue Value(v1::Objective objective, double value) {
    v1::ObjectiveValue v;
    v.set_objective(objective);
    v.set_value(value);
    v.set_source(v1::METRIC_SOURCE_EVALUATED);
    return v;
}

// Error and flash from the trial's number: any values will do for the budget.
std::vector<v1::ObjectiveValue> SomeObjectives(const v1::Trial& t) {
    return {Value(v1::OBJECTIVE_ERROR, 0.9 / t.number()),
            Value(v1::OBJECTIVE_FLASH_BYTES, 10000.0 * t.number())};
}

bool InFlight(const v1::Trial& t) {
    return t.state() == v1::TRIAL_PENDING || t.state() == v1::TRIAL_TRAINING ||
           t.state() == v1::TRIAL_TRAINED || t.state() == v1::TRIAL_MEASURING;
}

int CountInFlight(const std::vector<v1::Trial>& trials) {
    return static_cast<int>(std::count_if(trials.begin(), trials.end(), InFlight));
}

// The job's lowest-numbered trial in flight; nullopt when none is.
std::optional<v1::Trial> FirstInFlight(const InMemorySchedulerStore& store,
                                       const std::string& job) {
    const std::vector<v1::Trial> trials = store.Trials(job);
    const auto it = std::find_if(trials.begin(), trials.end(), InFlight);
    if (it == trials.end()) return std::nullopt;
    return *it;
}

// Numbers 1..n in order, and one model name each: no trial was added twice.
void ExpectEachTrialOnce(const std::vector<v1::Trial>& trials) {
    std::set<std::string> names;
    for (size_t i = 0; i < trials.size(); ++i) {
        EXPECT_EQ(trials[i].number(), static_cast<int>(i) + 1);
        names.insert(trials[i].candidate().model().name());
    }
    EXPECT_EQ(names.size(), trials.size());
}

// What a pass could change, in a comparable form.
std::vector<std::string> Snapshot(const InMemorySchedulerStore& store, const std::string& job) {
    std::vector<std::string> out{v1::JobState_Name(store.GetJob(job).state())};
    for (const v1::Trial& t : store.Trials(job)) {
        out.push_back(t.trial_id() + " " + std::to_string(t.number()) + " " +
                      v1::TrialState_Name(t.state()) + " " + t.candidate().SerializeAsString());
    }
    out.push_back(std::to_string(store.Fronts(job).size()) + " fronts");
    return out;
}

// The fake these tests trust keeps the contract the PostgreSQL store keeps
// (scheduler_pgtest runs the same checks on it).
TEST(InMemorySchedulerStore, KeepsTheSchedulerStoreContract) {
    InMemorySchedulerStore store;
    testing::ExpectSchedulerStoreContract(store, [&] { return store.CreateJob(SchedulerSpec(2)); });
}

TEST(Scheduler, ANewJobStartsWithItsParallelTrials) {
    InMemorySchedulerStore store;
    const v1::JobSpec spec = SchedulerSpec(3, 10);
    const std::string job = store.CreateJob(spec);
    Scheduler scheduler(store, {});
    const PassStats pass = scheduler.RunOnce();
    const v1::Job started = store.GetJob(job);
    EXPECT_EQ(started.state(), v1::JOB_RUNNING);
    EXPECT_TRUE(started.has_started_at());
    const std::vector<v1::Trial> trials = store.Trials(job);
    ASSERT_EQ(static_cast<int>(trials.size()), spec.budget().max_parallel_trials());
    EXPECT_EQ(pass.trials_added, spec.budget().max_parallel_trials());
    for (const v1::Trial& t : trials) {
        EXPECT_EQ(t.state(), v1::TRIAL_PENDING);
        EXPECT_TRUE(t.candidate().has_model());
        EXPECT_GT(t.candidate().encoding_size(), 0);
    }
    ExpectEachTrialOnce(trials);
    EXPECT_TRUE(store.Fronts(job).empty());  // nothing complete, nothing to record
}

// One trial completes between passes: each pass refills its slot while the
// budget lasts, never more than max_parallel_trials in flight nor max_trials
// in all; the job completes on the pass after its last trial ends, not before.
TEST(Scheduler, CompletionsRefillTheJobUpToItsBudgetThenItCompletes) {
    InMemorySchedulerStore store;
    const v1::JobSpec spec = SchedulerSpec(3, 8);
    const int parallel = spec.budget().max_parallel_trials();
    const int budget = spec.budget().max_trials();
    const std::string job = store.CreateJob(spec);
    Scheduler scheduler(store, {});
    scheduler.RunOnce();
    int finished = 0;
    for (int round = 0; round < 100 && store.GetJob(job).state() == v1::JOB_RUNNING; ++round) {
        const std::optional<v1::Trial> next = FirstInFlight(store, job);
        ASSERT_TRUE(next.has_value()) << "a running job with nothing in flight, round " << round;
        ASSERT_EQ(store.Complete(next->trial_id(), SomeObjectives(*next)), v1::TRIAL_COMPLETE);
        ++finished;
        const int spent_before = static_cast<int>(store.Trials(job).size());
        const PassStats pass = scheduler.RunOnce();
        const std::vector<v1::Trial> trials = store.Trials(job);
        EXPECT_EQ(pass.trials_added, spent_before < budget ? 1 : 0) << "round " << round;
        EXPECT_EQ(CountInFlight(trials), std::min(parallel, budget - finished))
            << "round " << round;
        EXPECT_EQ(static_cast<int>(trials.size()), std::min(budget, finished + parallel));
        EXPECT_EQ(store.GetJob(job).state(),
                  finished == budget ? v1::JOB_COMPLETED : v1::JOB_RUNNING);
        ASSERT_FALSE(store.Fronts(job).empty());
        EXPECT_EQ(store.Fronts(job).back().point.completed_trials, finished);
    }
    EXPECT_EQ(store.GetJob(job).state(), v1::JOB_COMPLETED);
    const std::vector<v1::Trial> trials = store.Trials(job);
    ASSERT_EQ(static_cast<int>(trials.size()), budget);
    for (const v1::Trial& t : trials) EXPECT_EQ(t.state(), v1::TRIAL_COMPLETE) << t.number();
    ExpectEachTrialOnce(trials);
    EXPECT_EQ(scheduler.RunOnce().jobs, 0);  // completed: no longer active
}

// Every objective is minimised: `a` dominates `b` when no worse anywhere and
// better somewhere.
bool Dominates(const std::vector<double>& a, const std::vector<double>& b) {
    bool better = false;
    for (size_t k = 0; k < a.size(); ++k) {
        if (a[k] > b[k]) return false;
        better = better || a[k] < b[k];
    }
    return better;
}

// The volume of the union of the boxes [p, 1] over `points` in the unit cube,
// cell by cell of the grid their coordinates make.
double GridHypervolume(const std::vector<std::vector<double>>& points, size_t dims) {
    std::vector<std::vector<double>> grid(dims);
    for (size_t k = 0; k < dims; ++k) {
        grid[k].push_back(1.0);
        for (const auto& p : points) grid[k].push_back(std::min(p[k], 1.0));
        std::sort(grid[k].begin(), grid[k].end());
        grid[k].erase(std::unique(grid[k].begin(), grid[k].end()), grid[k].end());
    }
    std::vector<size_t> cell(dims, 0);  // lower corner: grid[k][cell[k]]
    double volume = 0;
    while (true) {
        bool inside = true;
        for (size_t k = 0; k < dims; ++k) inside = inside && cell[k] + 1 < grid[k].size();
        if (inside) {
            const bool covered = std::any_of(points.begin(), points.end(), [&](const auto& p) {
                for (size_t k = 0; k < dims; ++k) {
                    if (p[k] > grid[k][cell[k]]) return false;
                }
                return true;
            });
            if (covered) {
                double v = 1;
                for (size_t k = 0; k < dims; ++k) v *= grid[k][cell[k] + 1] - grid[k][cell[k]];
                volume += v;
            }
        }
        size_t k = 0;  // the next cell, as an odometer
        while (k < dims && ++cell[k] >= grid[k].size()) cell[k++] = 0;
        if (k == dims) return volume;
    }
}

// After every pass, the latest recorded front is the non-dominated set of the
// complete trials that have every objective (ties included), computed here by
// brute force; its hypervolume is the grid measure of that set scaled by the
// job's reference point. Values come from a few levels, so ties and duplicates
// occur; some trials lack an objective (on no front) and some fail.
TEST(Scheduler, TheRecordedFrontIsTheNonDominatedSetOfTheCompleteTrials) {
    const v1::Objective all[] = {v1::OBJECTIVE_ERROR, v1::OBJECTIVE_FLASH_BYTES,
                                 v1::OBJECTIVE_SRAM_BYTES};
    const double reference[] = {1.0, 8000.0, 8000.0};
    std::mt19937 rng(20261130);
    std::uniform_int_distribution<int> level(0, 3);
    std::uniform_int_distribution<int> one_in(0, 9);
    int compared = 0, ties_on_front = 0, with_gap = 0, dominated = 0;
    for (size_t dims : {2u, 3u}) {
        v1::JobSpec spec = SchedulerSpec(4, 24);
        spec.clear_objectives();
        spec.clear_reference_point();
        for (size_t k = 0; k < dims; ++k) {
            spec.add_objectives(all[k]);
            spec.add_reference_point(reference[k]);
        }
        spec = NormalizeJobSpec(spec);
        InMemorySchedulerStore store;
        const std::string job = store.CreateJob(spec);
        Scheduler scheduler(store, {});
        for (int pass = 0; pass < 40 && store.GetJob(job).state() != v1::JOB_COMPLETED; ++pass) {
            scheduler.RunOnce();
            // The complete trials with every objective, in number order.
            std::vector<std::string> ids;
            std::vector<std::vector<double>> ys;
            for (const v1::Trial& t : store.Trials(job)) {
                if (t.state() != v1::TRIAL_COMPLETE) continue;
                std::vector<double> y(dims, std::nan(""));
                for (const auto& v : t.objectives()) {
                    for (size_t k = 0; k < dims; ++k) {
                        if (v.objective() == all[k]) y[k] = v.value();
                    }
                }
                if (std::any_of(y.begin(), y.end(), [](double x) { return std::isnan(x); })) {
                    continue;
                }
                ids.push_back(t.trial_id());
                ys.push_back(y);
            }
            const auto fronts = store.Fronts(job);
            if (ids.empty()) {
                EXPECT_TRUE(fronts.empty()) << pass;
            } else {
                std::set<std::string> expected;
                std::vector<std::vector<double>> scaled;
                std::vector<std::vector<double>> on_front;
                for (size_t i = 0; i < ys.size(); ++i) {
                    const bool beaten = std::any_of(ys.begin(), ys.end(), [&](const auto& other) {
                        return Dominates(other, ys[i]);
                    });
                    if (beaten) {
                        ++dominated;
                        continue;
                    }
                    expected.insert(ids[i]);
                    // Equal to another on some objective: "no worse" must admit equality.
                    for (const auto& y : on_front) {
                        for (size_t k = 0; k < dims; ++k) ties_on_front += y[k] == ys[i][k];
                    }
                    on_front.push_back(ys[i]);
                    std::vector<double> z(dims);
                    for (size_t k = 0; k < dims; ++k) z[k] = ys[i][k] / reference[k];
                    scaled.push_back(z);
                }
                ASSERT_FALSE(fronts.empty()) << pass;
                const auto& latest = fronts.back();
                EXPECT_EQ(std::set<std::string>(latest.trial_ids.begin(), latest.trial_ids.end()),
                          expected)
                    << dims << " objectives, pass " << pass;
                EXPECT_EQ(latest.point.completed_trials, static_cast<int>(ids.size()));
                EXPECT_EQ(latest.point.front_size, static_cast<int>(expected.size()));
                EXPECT_EQ(latest.point.trial_id, ids.back());
                EXPECT_EQ(latest.point.reference_point,
                          std::vector<double>(reference, reference + dims));
                EXPECT_NEAR(latest.point.hypervolume, GridHypervolume(scaled, dims), 1e-9)
                    << dims << " objectives, pass " << pass;
                ++compared;
            }
            // Every trial in flight ends: most complete with values from a few
            // levels, some without one objective, some fail.
            for (const v1::Trial& t : store.Trials(job)) {
                if (!InFlight(t)) continue;
                if (one_in(rng) == 0) {
                    store.Fail(t.trial_id(), "out of memory");
                    continue;
                }
                std::vector<v1::ObjectiveValue> values;
                for (size_t k = 0; k < dims; ++k) {
                    if (one_in(rng) == 0) {
                        ++with_gap;
                        continue;
                    }
                    values.push_back(Value(all[k], reference[k] * (1.0 + level(rng)) / 8.0));
                }
                store.Complete(t.trial_id(), values);
            }
        }
        EXPECT_EQ(store.GetJob(job).state(), v1::JOB_COMPLETED) << dims << " objectives";
    }
    // The data exercised what the rule must get right.
    EXPECT_GT(compared, 8);
    EXPECT_GT(ties_on_front, 0);
    EXPECT_GT(with_gap, 0);
    EXPECT_GT(dominated, 0);
}

// Past its wall-time budget, a job is stopped by an incremental pass although
// nothing of it changed; its queued trials turn STALE and none is added.
TEST(Scheduler, AJobWhoseWallTimeIsSpentStops) {
    InMemorySchedulerStore store;
    v1::JobSpec spec = SchedulerSpec(2, 6);
    spec.mutable_budget()->mutable_max_wall_time()->set_seconds(3600);
    const std::string job = store.CreateJob(spec);
    const std::string other = store.CreateJob(SchedulerSpec(2, 6));
    SchedulerOptions options;
    options.full_pass_interval = 1h;
    Scheduler scheduler(store, options);
    EXPECT_TRUE(scheduler.RunOnce().full);
    scheduler.RunOnce();                     // its own inserts
    EXPECT_EQ(scheduler.RunOnce().jobs, 0);  // nothing changed, the budget not spent
    const size_t trials = store.Trials(job).size();

    store.BackdateStart(job, std::chrono::seconds(spec.budget().max_wall_time().seconds() + 1));
    const PassStats pass = scheduler.RunOnce();
    EXPECT_FALSE(pass.full);
    EXPECT_EQ(pass.jobs, 1);
    EXPECT_EQ(pass.trials_added, 0);
    EXPECT_EQ(store.GetJob(job).state(), v1::JOB_COMPLETED);
    ASSERT_EQ(store.Trials(job).size(), trials);
    for (const v1::Trial& t : store.Trials(job)) EXPECT_EQ(t.state(), v1::TRIAL_STALE);
    EXPECT_EQ(store.GetJob(other).state(), v1::JOB_RUNNING);
    EXPECT_EQ(scheduler.RunOnce().jobs, 0);  // completed: no longer active
}

// Cancelled between two passes, with a trial still training: nothing is added,
// and the cancellation ends when that trial does.
TEST(Scheduler, ACancelledJobGetsNoNewTrials) {
    InMemorySchedulerStore store;
    const std::string job = store.CreateJob(SchedulerSpec(2, 6));
    Scheduler scheduler(store, {});
    scheduler.RunOnce();
    const std::vector<v1::Trial> before = store.Trials(job);
    ASSERT_FALSE(before.empty());
    store.Claim(before[0].trial_id());
    EXPECT_EQ(store.CancelJob(job, "test").state(), v1::JOB_CANCELLING);
    EXPECT_EQ(scheduler.RunOnce().trials_added, 0);
    EXPECT_EQ(store.Complete(before[0].trial_id(), SomeObjectives(before[0])), v1::TRIAL_STALE);
    EXPECT_EQ(scheduler.RunOnce().trials_added, 0);
    EXPECT_EQ(store.GetJob(job).state(), v1::JOB_CANCELLED);
    const std::vector<v1::Trial> after = store.Trials(job);
    ASSERT_EQ(after.size(), before.size());
    for (const v1::Trial& t : after) EXPECT_EQ(t.state(), v1::TRIAL_STALE) << t.number();
}

// Cancelled while a pass runs, after it read the job and before it writes:
// its new trials are refused and the job keeps what it had.
TEST(Scheduler, AJobCancelledDuringAPassGetsNoNewTrials) {
    InMemorySchedulerStore store;
    const std::string job = store.CreateJob(SchedulerSpec(2, 6));
    Scheduler scheduler(store, {});
    scheduler.RunOnce();
    const std::vector<v1::Trial> before = store.Trials(job);
    ASSERT_EQ(store.Complete(before[0].trial_id(), SomeObjectives(before[0])), v1::TRIAL_COMPLETE);
    store.BeforeNextInsert([&] { store.CancelJob(job, "test"); });
    EXPECT_EQ(scheduler.RunOnce().trials_added, 0);
    EXPECT_EQ(store.GetJob(job).state(), v1::JOB_CANCELLED);
    EXPECT_EQ(store.Trials(job).size(), before.size());
    EXPECT_EQ(scheduler.RunOnce().trials_added, 0);
    EXPECT_EQ(store.Trials(job).size(), before.size());
}

// Two replicas on one store, their passes interleaved, and sometimes one
// running its whole pass between the other's read and write: the job gets
// each trial once and exactly its budget.
TEST(Scheduler, TwoReplicasNeverAddATrialTwice) {
    InMemorySchedulerStore store;
    const v1::JobSpec spec = SchedulerSpec(3, 12);
    const int parallel = spec.budget().max_parallel_trials();
    const int budget = spec.budget().max_trials();
    const std::string job = store.CreateJob(spec);
    Scheduler a(store, {});
    Scheduler b(store, {});
    // b decides and writes while a is between its read and its write: a's
    // insert, decided on an empty job, is refused.
    store.BeforeNextInsert([&] { EXPECT_EQ(b.RunOnce().trials_added, parallel); });
    EXPECT_EQ(a.RunOnce().trials_added, 0);
    EXPECT_EQ(static_cast<int>(store.Trials(job).size()), parallel);
    int fenced = 1;
    for (int round = 0; round < 100 && store.GetJob(job).state() == v1::JOB_RUNNING; ++round) {
        const std::optional<v1::Trial> next = FirstInFlight(store, job);
        ASSERT_TRUE(next.has_value()) << round;
        store.Complete(next->trial_id(), SomeObjectives(*next));
        Scheduler& first = round % 2 == 0 ? a : b;
        Scheduler& second = round % 2 == 0 ? b : a;
        if (round % 3 == 0) {
            int inner = 0;
            store.BeforeNextInsert([&] { inner = second.RunOnce().trials_added; });
            const int outer = first.RunOnce().trials_added;
            store.BeforeNextInsert(nullptr);  // unused when `first` had nothing to add
            if (inner > 0) {
                EXPECT_EQ(outer, 0) << "round " << round;
                ++fenced;
            }
        } else {
            first.RunOnce();
            second.RunOnce();
        }
        const std::vector<v1::Trial> now = store.Trials(job);
        EXPECT_LE(static_cast<int>(now.size()), budget);
        EXPECT_LE(CountInFlight(now), parallel);
    }
    EXPECT_EQ(store.GetJob(job).state(), v1::JOB_COMPLETED);
    const std::vector<v1::Trial> trials = store.Trials(job);
    ASSERT_EQ(static_cast<int>(trials.size()), budget);
    for (const v1::Trial& t : trials) EXPECT_EQ(t.state(), v1::TRIAL_COMPLETE) << t.number();
    ExpectEachTrialOnce(trials);
    EXPECT_GT(fenced, 1);  // the race happened more than once
    // One front per completed-trial count, whoever recorded it.
    std::set<int> counts;
    for (const auto& f : store.Fronts(job)) {
        EXPECT_TRUE(counts.insert(f.point.completed_trials).second) << f.point.completed_trials;
    }
}

// A second pass with nothing new, full or incremental, changes nothing: no
// trial, no state, no front.
TEST(Scheduler, APassWithNothingNewChangesNothing) {
    for (const auto full_pass_interval : {0ms, std::chrono::milliseconds(1h)}) {
        InMemorySchedulerStore store;
        const std::string job = store.CreateJob(SchedulerSpec(3, 10));
        SchedulerOptions options;
        options.full_pass_interval = full_pass_interval;
        Scheduler scheduler(store, options);
        scheduler.RunOnce();
        std::vector<std::string> before = Snapshot(store, job);
        EXPECT_EQ(scheduler.RunOnce().trials_added, 0);
        EXPECT_EQ(Snapshot(store, job), before);

        for (int i = 0; i < 2; ++i) {
            const std::optional<v1::Trial> next = FirstInFlight(store, job);
            ASSERT_TRUE(next.has_value());
            store.Complete(next->trial_id(), SomeObjectives(*next));
        }
        EXPECT_GT(scheduler.RunOnce().trials_added, 0);
        EXPECT_EQ(store.Fronts(job).size(), 1u);
        before = Snapshot(store, job);
        EXPECT_EQ(scheduler.RunOnce().trials_added, 0);
        EXPECT_EQ(Snapshot(store, job), before) << full_pass_interval.count();
    }
}

TEST(Scheduler, StartWithoutALeaderDatabaseIsRefused) {
    InMemorySchedulerStore store;
    Scheduler scheduler(store, {});
    EXPECT_THROW(scheduler.Start(), FailedPrecondition);
    EXPECT_FALSE(scheduler.leader());
    EXPECT_EQ(scheduler.terms(), 0);
}

}  // namespace
}  // namespace hilnas::controller
