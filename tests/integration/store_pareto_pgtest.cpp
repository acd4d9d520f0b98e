// v_pareto_front against an independent brute-force Pareto filter, over random
// jobs with 1 to 6 objectives, values drawn from a few levels (so ties and exact
// duplicates are common), missing objective values, trials that are not
// complete, and values of objectives the job does not use.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <pqxx/pqxx>
#include <random>
#include <set>

#include "hilnas/store/store.h"
#include "store_test_support.h"

namespace hilnas {
namespace {

using ::testing::UnorderedElementsAreArray;

constexpr v1::Objective kAll[] = {v1::OBJECTIVE_ERROR,      v1::OBJECTIVE_FLASH_BYTES,
                                  v1::OBJECTIVE_SRAM_BYTES, v1::OBJECTIVE_LATENCY_MS,
                                  v1::OBJECTIVE_ENERGY_UJ,  v1::OBJECTIVE_MACS};

// What the test generated for one trial (the test's own record, not the store's).
struct Generated {
    std::string id;
    bool complete = false;
    std::map<v1::Objective, double> values;  // every value recorded, used by the job or not
};

// The definition, written out: among complete trials with every job objective,
// those that no other such trial dominates (<= in all, < in at least one).
std::set<std::string> BruteForceFront(const std::vector<Generated>& trials,
                                      const std::vector<v1::Objective>& objectives) {
    std::vector<const Generated*> candidates;
    for (const Generated& t : trials) {
        const bool has_all = std::all_of(objectives.begin(), objectives.end(),
                                         [&](v1::Objective o) { return t.values.count(o) > 0; });
        if (t.complete && has_all) candidates.push_back(&t);
    }
    std::set<std::string> front;
    for (const Generated* a : candidates) {
        bool dominated = false;
        for (const Generated* b : candidates) {
            if (a == b) continue;
            bool no_worse = true;
            bool better = false;
            for (v1::Objective o : objectives) {
                if (b->values.at(o) > a->values.at(o)) no_worse = false;
                if (b->values.at(o) < a->values.at(o)) better = true;
            }
            if (no_worse && better) {
                dominated = true;
                break;
            }
        }
        if (!dominated) front.insert(a->id);
    }
    return front;
}

double RandomValue(v1::Objective o, std::mt19937& rng) {
    // Four levels per objective: ties and exact duplicates happen often.
    const int level = std::uniform_int_distribution<int>(0, 3)(rng);
    switch (o) {
        case v1::OBJECTIVE_ERROR:
            return 0.05 + 0.1 * level;
        case v1::OBJECTIVE_FLASH_BYTES:
            return 100000 + 50000 * level;
        case v1::OBJECTIVE_SRAM_BYTES:
            return 20000 + 16384 * level;
        case v1::OBJECTIVE_LATENCY_MS:
            return 1.5 * (1 + level);
        case v1::OBJECTIVE_ENERGY_UJ:
            return 30.25 * (1 + level);
        default:
            return 1e6 * (1 + level);
    }
}

class ParetoTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dsn_ = testing::MigratedDatabase("pareto");
        store_ = std::make_unique<store::Store>(testing::OptionsFor(dsn_));
    }

    // A job with `dims` random objectives and `n` random trials; returns the
    // job id and fills `trials` and `objectives`.
    std::string RandomJob(int dims, int n, std::mt19937& rng, std::vector<Generated>* trials,
                          std::vector<v1::Objective>* objectives) {
        std::vector<v1::Objective> all(std::begin(kAll), std::end(kAll));
        std::shuffle(all.begin(), all.end(), rng);
        objectives->assign(all.begin(), all.begin() + dims);
        const std::string job =
            store_->CreateJob("pareto", testing::Spec(*objectives, /*measure=*/true, 3)).job_id();
        store_->SetJobState(job, v1::JOB_RUNNING, "");
        store::AgentRegistration agent;
        agent.agent_id = "lab";
        agent.boards.push_back(testing::QemuBoard("lab/0"));
        store_->RegisterAgent(agent);
        store_->InsertTrials(job, testing::SomeTrials(n));

        std::bernoulli_distribution coin(0.5);
        std::bernoulli_distribution rarely(0.15);
        // About three quarters are trained; of those, some fail. The rest are
        // found infeasible before training.
        const int claimed = n * 3 / 4;
        for (int i = 0; i < n; ++i) {
            Generated g;
            std::vector<v1::ObjectiveValue> values;
            for (v1::Objective o : kAll) {
                const bool used =
                    std::find(objectives->begin(), objectives->end(), o) != objectives->end();
                // Used objectives are missing now and then; unused ones appear at random.
                if (used ? rarely(rng) : !coin(rng)) continue;
                g.values[o] = RandomValue(o, rng);
                values.push_back(testing::Objective(o, g.values[o]));
            }
            if (i < claimed) {
                const auto lease = store_->ClaimTrial("w", testing::Cpu());
                EXPECT_TRUE(lease.has_value());
                g.id = lease->lease.trial_id();
                if (rarely(rng)) {
                    store_->RecordObjectives(g.id, values);
                    store_->FailTrial("w", lease->lease.lease_id(), {"diverged", false});
                } else {
                    // Trained, then measured; the objectives arrive with the measurement.
                    EXPECT_EQ(store_->CompleteTrial("w", lease->lease.lease_id(), {}),
                              v1::TRIAL_TRAINED);
                    const auto measuring = store_->ClaimMeasurement("lab", "lab/0");
                    EXPECT_TRUE(measuring.has_value());
                    store::MeasurementResult result{testing::SomeMeasurement(), values,
                                                    std::nullopt, ""};
                    EXPECT_EQ(
                        store_->CompleteMeasurement("lab", measuring->lease.lease_id(), result),
                        v1::TRIAL_COMPLETE);
                    g.complete = true;
                }
            } else {
                // The cost model's objectives, then rejected: not complete, not on the front.
                g.id = store_->ListTrials(job, v1::TRIAL_PENDING, 1, "").trials.at(0).trial_id();
                store_->RecordObjectives(g.id, values);
                store_->MarkTrialInfeasible(g.id, "does not fit");
            }
            trials->push_back(std::move(g));
        }
        return job;
    }

    std::set<std::string> ViewFront(const std::string& job) {
        pqxx::connection conn(dsn_);
        pqxx::nontransaction tx(conn);
        std::set<std::string> ids;
        for (const pqxx::row& r :
             tx.exec_params("SELECT trial_id FROM v_pareto_front WHERE job_id = $1", job)) {
            ids.insert(r[0].as<std::string>());
        }
        return ids;
    }

    std::string dsn_;
    std::unique_ptr<store::Store> store_;
};

TEST_F(ParetoTest, EqualsABruteForceFilterFor2To4ObjectivesWithTiesAndGaps) {
    std::mt19937 rng(20240611);
    std::map<std::string, std::set<std::string>> expected_by_job;
    int exact_ties_on_front = 0;
    int complete_with_gap = 0;
    int unfinished_with_values = 0;
    for (int dims : {2, 3, 4}) {
        for (int round = 0; round < 4; ++round) {
            std::vector<Generated> trials;
            std::vector<v1::Objective> objectives;
            const std::string job = RandomJob(dims, 40, rng, &trials, &objectives);
            const std::set<std::string> expected = BruteForceFront(trials, objectives);
            ASSERT_FALSE(expected.empty());
            EXPECT_EQ(ViewFront(job), expected) << dims << " objectives, round " << round;

            // The API's front: same trials, sorted by the first objective.
            const v1::ParetoFront front = store_->GetParetoFront(job);
            std::vector<std::string> api_ids;
            for (const v1::Trial& t : front.trials()) {
                api_ids.push_back(t.trial_id());
                EXPECT_TRUE(t.on_front());
            }
            EXPECT_THAT(api_ids, UnorderedElementsAreArray(expected.begin(), expected.end()));
            ASSERT_EQ(front.objectives_size(), dims);
            for (int k = 0; k < dims; ++k) EXPECT_EQ(front.objectives(k), objectives[k]);
            std::vector<double> firsts;
            for (const v1::Trial& t : front.trials()) {
                for (const v1::ObjectiveValue& v : t.objectives()) {
                    if (v.objective() == objectives[0]) firsts.push_back(v.value());
                }
            }
            EXPECT_TRUE(std::is_sorted(firsts.begin(), firsts.end()));

            // on_front on every trial agrees too.
            for (const v1::Trial& t :
                 store_->ListTrials(job, v1::TRIAL_STATE_UNSPECIFIED, 1000, "").trials) {
                EXPECT_EQ(t.on_front(), expected.count(t.trial_id()) > 0) << t.trial_id();
            }
            expected_by_job[job] = expected;

            // Make sure the data exercised what the view must get right.
            std::map<std::vector<double>, int> front_points;
            for (const Generated& t : trials) {
                const bool has_all =
                    std::all_of(objectives.begin(), objectives.end(),
                                [&](v1::Objective o) { return t.values.count(o) > 0; });
                if (t.complete && !has_all) ++complete_with_gap;
                if (!t.complete && has_all) ++unfinished_with_values;
                if (expected.count(t.id) > 0) {
                    std::vector<double> point;
                    for (v1::Objective o : objectives) point.push_back(t.values.at(o));
                    if (++front_points[point] == 2) ++exact_ties_on_front;
                }
            }
        }
    }
    EXPECT_GT(exact_ties_on_front, 0);
    EXPECT_GT(complete_with_gap, 0);
    EXPECT_GT(unfinished_with_values, 0);
    // Unfiltered, the view holds every job's front and nothing else.
    pqxx::connection conn(dsn_);
    pqxx::nontransaction tx(conn);
    std::map<std::string, std::set<std::string>> all;
    for (const pqxx::row& r : tx.exec("SELECT job_id, trial_id FROM v_pareto_front")) {
        all[r[0].as<std::string>()].insert(r[1].as<std::string>());
    }
    EXPECT_EQ(all, expected_by_job);
}

TEST_F(ParetoTest, WorksForOneFiveAndSixObjectives) {
    std::mt19937 rng(7);
    for (int dims : {1, 5, 6}) {
        std::vector<Generated> trials;
        std::vector<v1::Objective> objectives;
        const std::string job = RandomJob(dims, 30, rng, &trials, &objectives);
        EXPECT_EQ(ViewFront(job), BruteForceFront(trials, objectives)) << dims << " objectives";
    }
}

TEST_F(ParetoTest, ExactTiesAreAllOnTheFrontAndAGapKeepsATrialOff) {
    const std::vector<v1::Objective> objectives = {v1::OBJECTIVE_ERROR, v1::OBJECTIVE_FLASH_BYTES};
    const std::string job = store_->CreateJob("t", testing::Spec(objectives, false)).job_id();
    store_->InsertTrials(job, testing::SomeTrials(4));
    std::vector<Generated> trials;
    // Two identical points, one dominated, and one that would dominate all but lacks flash.
    const std::vector<std::map<v1::Objective, double>> points = {
        {{v1::OBJECTIVE_ERROR, 0.1}, {v1::OBJECTIVE_FLASH_BYTES, 1000}},
        {{v1::OBJECTIVE_ERROR, 0.1}, {v1::OBJECTIVE_FLASH_BYTES, 1000}},
        {{v1::OBJECTIVE_ERROR, 0.2}, {v1::OBJECTIVE_FLASH_BYTES, 1000}},
        {{v1::OBJECTIVE_ERROR, 0.0}},
    };
    for (const auto& point : points) {
        const auto lease = store_->ClaimTrial("w", testing::Cpu());
        ASSERT_TRUE(lease);
        store::TrainingResult result;
        for (const auto& [o, v] : point) result.objectives.push_back(testing::Objective(o, v));
        store_->CompleteTrial("w", lease->lease.lease_id(), result);
        trials.push_back({lease->lease.trial_id(), true, point});
    }
    const std::set<std::string> front = ViewFront(job);
    EXPECT_EQ(front, (std::set<std::string>{trials[0].id, trials[1].id}));
    EXPECT_EQ(front, BruteForceFront(trials, objectives));
}

}  // namespace
}  // namespace hilnas
