// The scheduler on a real database: a submitted job starts, gets its first
// batch of trials from the optimiser, and respects its parallelism; a pass
// looks only at what changed; a restarted scheduler ends where one that ran
// throughout does; the front it records is the database view's front; and
// among schedulers on one database exactly one leads, another taking over
// when the leader's connection drops or it stops.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <map>
#include <pqxx/pqxx>
#include <random>
#include <set>
#include <thread>

#include "hilnas/arch/cost.h"
#include "hilnas/arch/model.h"
#include "hilnas/common/errors.h"
#include "hilnas/controller/job_spec.h"
#include "hilnas/controller/objectives.h"
#include "hilnas/controller/scheduler.h"
#include "hilnas/store/leader_lock.h"
#include "hilnas/store/migrations.h"
#include "hilnas/store/store.h"
#include "hilnas/testing/in_memory_scheduler_store.h"
#include "hilnas/testing/pg.h"
#include "hilnas/testing/scheduler_spec.h"
#include "hilnas/testing/scheduler_store_contract.h"
#include "store_test_support.h"

namespace hilnas::controller {
namespace {

using namespace std::chrono_literals;
using testing::SchedulerSpec;

// Objective values as a deterministic function of the candidate's encoding.
std::vector<v1::ObjectiveValue> FakeObjectives(const v1::Candidate& c) {
    double sum = 0;
    for (double x : c.encoding()) sum += x;
    const double n = std::max(1, c.encoding_size());
    std::vector<v1::ObjectiveValue> out(2);
    out[0].set_objective(v1::OBJECTIVE_ERROR);
    out[0].set_value(0.9 - 0.8 * std::clamp(sum / n, 0.0, 1.0));
    out[0].set_source(v1::METRIC_SOURCE_EVALUATED);
    out[1].set_objective(v1::OBJECTIVE_FLASH_BYTES);
    out[1].set_value(10000.0 + 50000.0 * std::clamp(sum / n, 0.0, 1.0) +
                     1000.0 * (c.encoding_size() > 0 ? c.encoding(0) : 0.0));
    out[1].set_source(v1::METRIC_SOURCE_COMPUTED);
    return out;
}

// Trains (as a worker that skips measurement) every trial pending now; returns how many.
int TrainPending(store::Store& store, int limit = 1000) {
    int done = 0;
    while (done < limit) {
        const auto lease = store.ClaimTrial("w", testing::Cpu(), 60s);
        if (!lease) break;
        store::TrainingResult result;
        result.objectives = FakeObjectives(lease->task.candidate());
        store.CompleteTrial("w", lease->lease.lease_id(), result);
        ++done;
    }
    return done;
}

store::StoreOptions Options(const std::string& dsn) {
    store::StoreOptions options;
    options.dsn = dsn;
    return options;
}

// The checks scheduler_test runs on InMemorySchedulerStore, here on the real
// store: the fake and PostgreSQL keep one contract.
TEST(SchedulerStore, ThePostgreSQLStoreKeepsTheContract) {
    const std::string dsn = testing::FreshDatabase("sched_contract");
    store::Migrate(dsn);
    store::Store store(Options(dsn));
    testing::ExpectSchedulerStoreContract(
        store, [&] { return store.CreateJob("u", SchedulerSpec(2)).job_id(); });
}

// The fake's job state machine is the schema's, pair by pair.
TEST(SchedulerStore, TheInMemoryJobStateMachineIsTheSchemas) {
    const std::string dsn = testing::FreshDatabase("sched_machine");
    store::Migrate(dsn);
    pqxx::connection conn(dsn);
    pqxx::nontransaction tx(conn);
    const v1::JobState states[] = {v1::JOB_PENDING,   v1::JOB_RUNNING,   v1::JOB_CANCELLING,
                                   v1::JOB_CANCELLED, v1::JOB_COMPLETED, v1::JOB_FAILED};
    auto name = [](v1::JobState s) {
        std::string n = v1::JobState_Name(s).substr(4);  // "JOB_"
        for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return n;
    };
    int allowed = 0;
    for (v1::JobState from : states) {
        for (v1::JobState to : states) {
            const bool schema =
                tx.exec_params1("SELECT hilnas_job_transition_ok($1, $2)", name(from), name(to))[0]
                    .as<bool>();
            EXPECT_EQ(testing::JobTransitionAllowed(from, to), schema)
                << name(from) << " -> " << name(to);
            allowed += schema;
        }
    }
    EXPECT_GT(allowed, 0);  // the names matched the schema's
}

TEST(Scheduler, StartsAJobAndFillsItsParallelTrials) {
    const std::string dsn = testing::FreshDatabase("sched");
    store::Migrate(dsn);
    store::StoreOptions options;
    options.dsn = dsn;
    store::Store store(options);
    const v1::Job job = store.CreateJob("user:0", SchedulerSpec(3));
    Scheduler scheduler(store, {});
    scheduler.RunOnce();
    EXPECT_EQ(store.GetJob(job.job_id()).state(), v1::JOB_RUNNING);
    auto page = store.ListTrials(job.job_id(), v1::TRIAL_STATE_UNSPECIFIED, 100, "");
    ASSERT_EQ(page.trials.size(), 3u);
    for (const auto& t : page.trials) {
        EXPECT_EQ(t.state(), v1::TRIAL_PENDING);
        EXPECT_TRUE(t.candidate().has_model());
        EXPECT_GT(t.candidate().encoding_size(), 0);
    }
    scheduler.RunOnce();  // idempotent: nothing finished, nothing new
    EXPECT_EQ(store.ListTrials(job.job_id(), v1::TRIAL_STATE_UNSPECIFIED, 100, "").trials.size(),
              3u);
}

TEST(Scheduler, APassLooksOnlyAtTheJobsThatChanged) {
    const std::string dsn = testing::FreshDatabase("sched_incr");
    store::Migrate(dsn);
    store::Store store(Options(dsn));
    std::vector<std::string> jobs;
    for (int i = 0; i < 4; ++i)
        jobs.push_back(store.CreateJob("u", SchedulerSpec(2, 6, false)).job_id());
    SchedulerOptions options;
    options.full_pass_interval = 1h;
    Scheduler scheduler(store, options);

    PassStats pass = scheduler.RunOnce();  // no watermark yet: every active job
    EXPECT_TRUE(pass.full);
    EXPECT_EQ(pass.jobs, 4);
    EXPECT_EQ(pass.trials_added, 8);
    pass = scheduler.RunOnce();  // its own inserts changed every job once more
    EXPECT_FALSE(pass.full);
    EXPECT_EQ(pass.jobs, 4);
    EXPECT_EQ(pass.trials_added, 0);
    pass = scheduler.RunOnce();  // nothing changed: nothing read
    EXPECT_FALSE(pass.full);
    EXPECT_EQ(pass.jobs, 0);
    EXPECT_EQ(pass.trials_read, 0);

    // One trial of one job is leased, then completed: each pass touches that job only.
    const auto lease = store.ClaimTrial("w", testing::Cpu(), 60s);
    ASSERT_TRUE(lease.has_value());
    pass = scheduler.RunOnce();
    EXPECT_EQ(pass.jobs, 1);
    EXPECT_EQ(pass.trials_read, 2);
    EXPECT_EQ(pass.trials_added, 0);
    store::TrainingResult result;
    result.objectives = FakeObjectives(lease->task.candidate());
    ASSERT_EQ(store.CompleteTrial("w", lease->lease.lease_id(), result), v1::TRIAL_COMPLETE);
    pass = scheduler.RunOnce();
    EXPECT_EQ(pass.jobs, 1);
    EXPECT_EQ(pass.trials_added, 1);  // its slot refilled
    const v1::Job changed = store.GetJob(lease->task.job_id());
    EXPECT_EQ(changed.trials().pending(), 2);
    EXPECT_EQ(changed.trials().complete(), 1);
    EXPECT_GT(changed.hypervolume(), 0.0);
    for (const std::string& id : jobs) {
        if (id == lease->task.job_id()) continue;
        const v1::Job other = store.GetJob(id);
        EXPECT_EQ(other.trials().pending(), 2) << id;
        EXPECT_EQ(other.trials().complete(), 0) << id;
    }
    scheduler.RunOnce();  // its own insert
    EXPECT_EQ(scheduler.RunOnce().jobs, 0);

    // A job cancelled by a user is a change too, and then no longer active.
    store.CancelJob(jobs[0], "test");
    EXPECT_EQ(scheduler.RunOnce().jobs, 0);

    // A scheduler without a watermark (another replica, a restart) does a full
    // pass, and finds nothing to do.
    Scheduler fresh(store, options);
    pass = fresh.RunOnce();
    EXPECT_TRUE(pass.full);
    EXPECT_EQ(pass.jobs, 3);
    EXPECT_EQ(pass.trials_added, 0);
}

TEST(Scheduler, AJobPastItsWallTimeIsCompletedByAnIncrementalPass) {
    const std::string dsn = testing::FreshDatabase("sched_wall");
    store::Migrate(dsn);
    store::Store store(Options(dsn));
    v1::JobSpec spec = SchedulerSpec(2, 6, false);
    spec.mutable_budget()->mutable_max_wall_time()->set_seconds(1);
    const std::string job = store.CreateJob("u", spec).job_id();
    const std::string other = store.CreateJob("u", SchedulerSpec(2, 6, false)).job_id();
    SchedulerOptions options;
    options.full_pass_interval = 1h;
    Scheduler scheduler(store, options);
    EXPECT_TRUE(scheduler.RunOnce().full);
    scheduler.RunOnce();  // its own inserts
    // Nothing changes, yet once the second has passed the job is looked at, alone.
    PassStats pass;
    const auto until = std::chrono::steady_clock::now() + 60s;  // a hang guard
    while (store.GetJob(job).state() == v1::JOB_RUNNING &&
           std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(100ms);
        pass = scheduler.RunOnce();
        EXPECT_FALSE(pass.full);
        EXPECT_LE(pass.jobs, 1);
    }
    EXPECT_EQ(store.GetJob(job).state(), v1::JOB_COMPLETED);
    EXPECT_EQ(pass.jobs, 1);
    EXPECT_EQ(store.GetJob(other).state(), v1::JOB_RUNNING);
    EXPECT_EQ(scheduler.RunOnce().jobs, 0);  // completed: no longer active
}

// Everything a run leaves in the database that the scheduler decides, with
// trial ids replaced by trial numbers so that two databases compare.
struct Outcome {
    std::string job_state;
    std::vector<std::string> trials;        // number, state, parent number, encoding
    std::vector<std::string> hypervolume;   // completed trials, value, front size, reference
    std::vector<std::string> front_events;  // added and removed trial numbers
    int hypervolume_events = 0;
};

Outcome OutcomeOf(const std::string& dsn, const std::string& job_id) {
    pqxx::connection conn(dsn);
    pqxx::read_transaction tx(conn);
    Outcome out;
    out.job_state = tx.exec_params1("SELECT state FROM jobs WHERE id = $1", job_id)[0].c_str();
    std::map<std::string, std::string> number;
    for (const auto& r :
         tx.exec_params("SELECT t.id, t.number, t.state, coalesce(p.number::text, '-'), "
                        "t.candidate -> 'encoding' FROM trials t LEFT JOIN trials p ON p.id = "
                        "t.parent_trial_id WHERE t.job_id = $1 ORDER BY t.number",
                        job_id)) {
        number[r[0].c_str()] = r[1].c_str();
        out.trials.push_back(std::string(r[1].c_str()) + " " + r[2].c_str() + " " + r[3].c_str() +
                             " " + r[4].c_str());
    }
    for (const auto& r :
         tx.exec_params("SELECT completed_trials, hypervolume, front_size, reference_point::text "
                        "FROM job_hypervolume WHERE job_id = $1 ORDER BY completed_trials",
                        job_id)) {
        out.hypervolume.push_back(std::string(r[0].c_str()) + " " + r[1].c_str() + " " +
                                  r[2].c_str() + " " + r[3].c_str());
    }
    for (const auto& r :
         tx.exec_params("SELECT kind, payload::text, "
                        "coalesce((SELECT string_agg(x, ',' ORDER BY x) FROM "
                        "jsonb_array_elements_text(payload -> 'added_trial_ids') x), ''), "
                        "coalesce((SELECT string_agg(x, ',' ORDER BY x) FROM "
                        "jsonb_array_elements_text(payload -> 'removed_trial_ids') x), '') "
                        "FROM job_events WHERE job_id = $1 AND kind IN ('front', 'hypervolume') "
                        "ORDER BY event_id",
                        job_id)) {
        if (std::string(r[0].c_str()) == "hypervolume") {
            ++out.hypervolume_events;
            continue;
        }
        auto numbers = [&](const std::string& csv) {
            std::set<int> n;
            size_t begin = 0;
            while (begin < csv.size()) {
                size_t end = csv.find(',', begin);
                if (end == std::string::npos) end = csv.size();
                n.insert(std::stoi(number.at(csv.substr(begin, end - begin))));
                begin = end + 1;
            }
            std::string s;
            for (int i : n) s += std::to_string(i) + ",";
            return s;
        };
        out.front_events.push_back("+" + numbers(r[2].c_str()) + " -" + numbers(r[3].c_str()));
    }
    return out;
}

// Runs a job to its end, training every pending trial between passes; with
// `restart_after`, the scheduler is replaced by a new one after that many passes.
Outcome RunToTheEnd(const std::string& prefix, int restart_after) {
    const std::string dsn = testing::FreshDatabase(prefix);
    store::Migrate(dsn);
    store::Store store(Options(dsn));
    const std::string job = store.CreateJob("u", SchedulerSpec(2, 8, false)).job_id();
    auto scheduler = std::make_unique<Scheduler>(store, SchedulerOptions{});
    for (int pass = 0; pass < 100; ++pass) {
        if (pass == restart_after)
            scheduler = std::make_unique<Scheduler>(store, SchedulerOptions{});
        scheduler->RunOnce();
        if (store.GetJob(job).state() != v1::JOB_RUNNING) break;
        TrainPending(store);
    }
    return OutcomeOf(dsn, job);
}

TEST(Scheduler, ARestartedSchedulerEndsWhereOneThatRanThroughoutDoes) {
    const Outcome throughout = RunToTheEnd("sched_through", -1);
    ASSERT_EQ(throughout.job_state, "completed");
    ASSERT_EQ(throughout.trials.size(), 8u);
    ASSERT_FALSE(throughout.front_events.empty());
    for (int restart_after : {1, 3}) {
        const Outcome restarted = RunToTheEnd("sched_restart", restart_after);
        EXPECT_EQ(restarted.job_state, throughout.job_state) << restart_after;
        EXPECT_EQ(restarted.trials, throughout.trials) << restart_after;
        EXPECT_EQ(restarted.hypervolume, throughout.hypervolume) << restart_after;
        // Not one front event more: the previous front comes from the database.
        EXPECT_EQ(restarted.front_events, throughout.front_events) << restart_after;
        EXPECT_EQ(restarted.hypervolume_events, throughout.hypervolume_events) << restart_after;
    }
}

// Error falling with the model's flash (computed exactly, as the optimiser
// computes it): 0.9 at 20 kB, 0.3 at 200 kB, on a log scale; and the flash.
std::vector<v1::ObjectiveValue> SizedObjectives(const v1::Candidate& c) {
    const double flash = static_cast<double>(
        arch::ComputeCost(arch::Analyze(arch::ModelFromProto(c.model()))).flash_bytes);
    std::vector<v1::ObjectiveValue> out(2);
    out[0].set_objective(v1::OBJECTIVE_ERROR);
    out[0].set_value(0.9 - 0.6 * std::clamp(std::log10(flash / 20000.0), 0.0, 1.0));
    out[0].set_source(v1::METRIC_SOURCE_EVALUATED);
    out[1].set_objective(v1::OBJECTIVE_FLASH_BYTES);
    out[1].set_value(flash);
    out[1].set_source(v1::METRIC_SOURCE_COMPUTED);
    return out;
}

// A job with max_error: trials over it end infeasible, as the WorkService
// ends them (never measured, so only their error is known). They spend the
// budget like any trial, and the optimiser learns the limit from them: past
// the warm-up, most suggestions keep it, although the other objective (flash)
// pulls towards the infeasible side (small models).
TEST(Scheduler, InfeasibleTrialsSpendTheBudgetAndTeachTheLimit) {
    const std::string dsn = testing::FreshDatabase("sched_limit");
    store::Migrate(dsn);
    store::Store store(Options(dsn));
    v1::JobSpec spec = SchedulerSpec(1, 24, false);
    spec.mutable_constraints()->set_max_error(0.5);
    spec.mutable_optimizer()->set_warmup_trials(8);
    const std::string job = store.CreateJob("u", spec).job_id();
    Scheduler scheduler(store, {});
    for (int pass = 0; pass < 100; ++pass) {
        scheduler.RunOnce();
        if (store.GetJob(job).state() != v1::JOB_RUNNING) break;
        while (const auto lease = store.ClaimTrial("w", testing::Cpu(), 60s)) {
            store::TrainingResult result;
            const std::vector<v1::ObjectiveValue> all = SizedObjectives(lease->task.candidate());
            result.objectives = {all[0]};  // the error only, as the trainer reports it
            result.infeasible_reason = BreachedLimit(spec, result.objectives);
            if (result.infeasible_reason.empty()) result.objectives = all;
            store.CompleteTrial("w", lease->lease.lease_id(), result);
        }
    }
    EXPECT_EQ(store.GetJob(job).state(), v1::JOB_COMPLETED);
    const auto trials = store.ListTrials(job, v1::TRIAL_STATE_UNSPECIFIED, 100, "").trials;
    ASSERT_EQ(trials.size(), 24u);  // infeasible ones included, not one more
    int infeasible_after_warmup = 0, infeasible_in_warmup = 0;
    for (const v1::Trial& t : trials) {
        ASSERT_TRUE(t.state() == v1::TRIAL_COMPLETE || t.state() == v1::TRIAL_INFEASIBLE)
            << t.number();
        if (t.state() != v1::TRIAL_INFEASIBLE) continue;
        EXPECT_NE(t.last_error().find("max_error"), std::string::npos) << t.last_error();
        (t.number() <= 8 ? infeasible_in_warmup : infeasible_after_warmup) += 1;
    }
    EXPECT_GT(infeasible_in_warmup, 0);  // the limit bites where the space is sampled
    EXPECT_LE(infeasible_after_warmup, 4) << "of 16 suggestions";
}

TEST(Scheduler, NewTrialsAreFencedOnTheLastTrialNumber) {
    const std::string dsn = testing::FreshDatabase("sched_fence");
    store::Migrate(dsn);
    store::Store store(Options(dsn));
    const std::string job = store.CreateJob("u", SchedulerSpec(2)).job_id();
    ASSERT_EQ(store.InsertTrials(job, testing::SomeTrials(2), 0).size(), 2u);
    // A second scheduler that decided on the empty job adds nothing.
    EXPECT_THROW(store.InsertTrials(job, testing::SomeTrials(2), 0), FailedPrecondition);
    EXPECT_THROW(store.InsertTrials(job, testing::SomeTrials(1), 1), FailedPrecondition);
    ASSERT_EQ(store.InsertTrials(job, testing::SomeTrials(1), 2).size(), 1u);
    ASSERT_EQ(store.InsertTrials(job, testing::SomeTrials(1)).size(), 1u);  // unfenced
    EXPECT_EQ(store.ListTrials(job, v1::TRIAL_STATE_UNSPECIFIED, 100, "").trials.size(), 4u);
}

// One Pareto rule: the front the scheduler records (C++, the optimiser's
// NonDominatedIndices) is the front the database's v_pareto_front computes
// (SQL), pass after pass, on random jobs with 2 to 4 objectives whose values
// come from a few levels (exact ties and duplicates), and with trials that
// lack an objective (on neither front).
TEST(Scheduler, TheRecordedFrontIsTheViewsFront) {
    const std::string dsn = testing::FreshDatabase("sched_front");
    store::Migrate(dsn);
    store::Store store(Options(dsn));
    pqxx::connection conn(dsn);
    const v1::Objective all[] = {v1::OBJECTIVE_ERROR, v1::OBJECTIVE_FLASH_BYTES,
                                 v1::OBJECTIVE_SRAM_BYTES, v1::OBJECTIVE_MACS};
    std::mt19937 rng(20261130);
    std::uniform_int_distribution<int> level(0, 3);
    std::uniform_int_distribution<int> one_in(0, 9);
    int compared = 0, ties_on_front = 0, with_gap = 0;
    for (int dims : {2, 3, 4}) {
        v1::JobSpec spec = SchedulerSpec(4, 24, false);
        spec.clear_objectives();
        spec.clear_reference_point();  // derived again for these objectives
        for (int k = 0; k < dims; ++k) spec.add_objectives(all[k]);
        const std::string job = store.CreateJob("u", NormalizeJobSpec(spec)).job_id();
        Scheduler scheduler(store, {});
        for (int pass = 0; pass < 40; ++pass) {
            scheduler.RunOnce();
            pqxx::nontransaction tx(conn);
            // The latest recorded front, one id per row (none before a trial completes).
            const pqxx::result latest = tx.exec_params(
                "SELECT unnest(front_trial_ids)::text FROM job_hypervolume WHERE job_id = $1 "
                "AND completed_trials = (SELECT max(completed_trials) FROM job_hypervolume "
                "WHERE job_id = $1)",
                job);
            if (!latest.empty()) {
                std::set<std::string> recorded;
                for (const pqxx::row& r : latest) recorded.insert(r[0].as<std::string>());
                std::set<std::string> view;
                std::map<std::string, int> points;  // the front's objective vectors
                for (const pqxx::row& r : tx.exec_params(
                         "SELECT trial_id, concat_ws(',', error, flash_bytes, sram_bytes, macs) "
                         "FROM v_pareto_front WHERE job_id = $1",
                         job)) {
                    view.insert(r[0].as<std::string>());
                    if (++points[r[1].as<std::string>()] == 2) ++ties_on_front;
                }
                EXPECT_EQ(recorded, view) << dims << " objectives, pass " << pass;
                ++compared;
            }
            if (store.GetJob(job).state() != v1::JOB_RUNNING) break;
            while (const auto lease = store.ClaimTrial("w", testing::Cpu(), 60s)) {
                store::TrainingResult result;
                for (int k = 0; k < dims; ++k) {
                    if (one_in(rng) == 0) {  // this objective was not reported
                        ++with_gap;
                        continue;
                    }
                    result.objectives.push_back(
                        testing::Objective(all[k], (1.0 + level(rng)) / (k == 0 ? 8.0 : 1.0)));
                }
                store.CompleteTrial("w", lease->lease.lease_id(), result);
            }
        }
        EXPECT_EQ(store.GetJob(job).state(), v1::JOB_COMPLETED);
    }
    // The data exercised what both rules must get right.
    EXPECT_GT(compared, 10);
    EXPECT_GT(ties_on_front, 0);
    EXPECT_GT(with_gap, 0);
}

// Polls `done` every 10 ms for up to `limit`: a hang guard, not a timing check.
template <typename Fn>
bool WaitFor(Fn done, std::chrono::milliseconds limit = 60s) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

void Terminate(const std::string& dsn, int pid) {
    pqxx::connection conn(dsn);
    pqxx::nontransaction tx(conn);
    ASSERT_TRUE(tx.exec_params1("SELECT pg_terminate_backend($1)", pid)[0].as<bool>());
}

TEST(LeaderLock, OneHolderAtATimeAndTheLockGoesWithItsSession) {
    const std::string dsn = testing::FreshDatabase("sched_lock");
    store::LeaderLock a(dsn, store::kSchedulerLeaderLock, "test-a");
    store::LeaderLock b(dsn, store::kSchedulerLeaderLock, "test-b");
    ASSERT_TRUE(a.TryAcquire());
    EXPECT_TRUE(a.TryAcquire());  // held already
    EXPECT_FALSE(b.TryAcquire());
    EXPECT_TRUE(a.Verify());
    EXPECT_TRUE(a.Alive());
    Terminate(dsn, a.backend_pid());  // as a dropped connection would
    EXPECT_TRUE(WaitFor([&] { return !a.Alive(); }));
    EXPECT_FALSE(a.held());
    EXPECT_FALSE(a.Verify());
    EXPECT_TRUE(WaitFor([&] { return b.TryAcquire(); }));
    EXPECT_TRUE(b.Verify());
    EXPECT_FALSE(a.TryAcquire());
    b.Release();
    EXPECT_TRUE(WaitFor([&] { return a.TryAcquire(); }));
}

TEST(Scheduler, OneOfTwoLeadsAndAnotherTakesOverWithoutAddingATrialTwice) {
    const std::string dsn = testing::FreshDatabase("sched_ha");
    store::Migrate(dsn);
    store::Store store_a(Options(dsn));  // two replicas: a store and a scheduler each
    store::Store store_b(Options(dsn));
    constexpr int kTrials = 12;
    const std::string job = store_a.CreateJob("u", SchedulerSpec(3, kTrials, false)).job_id();
    SchedulerOptions options;
    options.leader_dsn = dsn;
    options.tick = 20ms;
    options.election_interval = 50ms;
    options.full_pass_interval = 1h;
    Scheduler a(store_a, options);
    Scheduler b(store_b, options);
    a.Start();
    b.Start();
    ASSERT_TRUE(WaitFor([&] { return a.leader() || b.leader(); }));
    // While the first leads, the other never runs a pass.
    Scheduler* leader = a.leader() ? &a : &b;
    Scheduler* follower = leader == &a ? &b : &a;
    ASSERT_TRUE(WaitFor([&] { return store_a.GetJob(job).trials().pending() == 3; }));
    for (int i = 0; i < 2; ++i) {
        TrainPending(store_a, 3);
        ASSERT_TRUE(WaitFor([&] { return store_a.GetJob(job).trials().pending() > 0; }));
        EXPECT_FALSE(a.leader() && b.leader());
    }
    EXPECT_EQ(follower->passes(), 0);
    EXPECT_EQ(follower->terms(), 0);
    EXPECT_EQ(leader->terms(), 1);

    // The leader's lock connection drops: it stops scheduling, and a replica
    // (either: both try) takes the lead in a new term.
    Terminate(dsn, leader->lock_backend_pid());
    ASSERT_TRUE(WaitFor([&] { return a.terms() + b.terms() == 2 && (a.leader() || b.leader()); }))
        << a.terms() << " " << b.terms();
    // The old leader learns of its loss at its next check, and stops.
    ASSERT_TRUE(WaitFor([&] { return !(a.leader() && b.leader()); }));
    TrainPending(store_b, 3);
    ASSERT_TRUE(WaitFor([&] { return store_b.GetJob(job).trials().pending() > 0; }));

    // The leader stops (a controller shutting down): the other takes over.
    leader = a.leader() ? &a : &b;
    follower = leader == &a ? &b : &a;
    const int terms_before = follower->terms();
    leader->Stop();
    ASSERT_TRUE(WaitFor([&] { return follower->leader(); }));
    EXPECT_EQ(follower->terms(), terms_before + 1);
    EXPECT_FALSE(leader->leader());

    // And finishes the job.
    ASSERT_TRUE(WaitFor([&] {
        TrainPending(store_b);
        return store_b.GetJob(job).state() == v1::JOB_COMPLETED;
    }));
    follower->Stop();

    // Every trial once: numbers 1..kTrials, each candidate once, all complete.
    pqxx::connection conn(dsn);
    pqxx::read_transaction tx(conn);
    const pqxx::row counts = tx.exec_params1(
        "SELECT count(*), count(DISTINCT number), min(number), max(number), "
        "count(DISTINCT candidate -> 'model' ->> 'name'), count(*) FILTER (WHERE state = "
        "'complete') "
        "FROM trials WHERE job_id = $1",
        job);
    EXPECT_EQ(counts[0].as<int>(), kTrials);
    EXPECT_EQ(counts[1].as<int>(), kTrials);
    EXPECT_EQ(counts[2].as<int>(), 1);
    EXPECT_EQ(counts[3].as<int>(), kTrials);
    EXPECT_EQ(counts[4].as<int>(), kTrials);
    EXPECT_EQ(counts[5].as<int>(), kTrials);
    // One hypervolume point per completed-trial count, however many leaders.
    EXPECT_EQ(tx.exec_params1("SELECT count(*) - count(DISTINCT completed_trials) FROM "
                              "job_hypervolume WHERE job_id = $1",
                              job)[0]
                  .as<int>(),
              0);
}

}  // namespace
}  // namespace hilnas::controller
