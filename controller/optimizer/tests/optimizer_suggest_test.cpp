#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <set>

#include "../bench/problems.h"
#include "hilnas/arch/space.h"
#include "hilnas/common/errors.h"
#include "hilnas/optimizer/nas_domain.h"
#include "hilnas/optimizer/optimizer.h"

namespace hilnas::optimizer {
namespace {

// Runs `rounds` of Suggest(batch) with `pending` extra pending points per call
// and checks every suggestion's invariants.
void CheckSuggestions(const std::string& algorithm, const bench::Problem& problem, int rounds,
                      int batch, OptimizerSettings settings = {}) {
    SCOPED_TRACE(algorithm + " on " + problem.name);
    auto optimizer = MakeOptimizer(algorithm, problem.domain, settings);
    Rng rng(42);
    std::vector<Observation> observed;
    std::vector<Vector> pending;  // suggested last round, evaluated one round late
    for (int r = 0; r < rounds; ++r) {
        const std::vector<Suggestion> s = optimizer->Suggest(batch, observed, pending, rng);
        ASSERT_EQ(static_cast<int>(s.size()), batch);
        std::set<Vector> seen;
        for (const Observation& o : observed) seen.insert(o.x);
        seen.insert(pending.begin(), pending.end());
        for (const Suggestion& sug : s) {
            ASSERT_EQ(static_cast<int>(sug.x.size()), problem.domain->dimension());
            for (double v : sug.x) {
                EXPECT_GE(v, 0.0);
                EXPECT_LE(v, 1.0);
            }
            EXPECT_EQ(problem.domain->Canonicalize(sug.x), sug.x) << "not canonical";
            EXPECT_TRUE(problem.domain->Assess(sug.x).feasible);
            EXPECT_TRUE(seen.insert(sug.x).second) << "duplicate suggestion from " << sug.source;
            if (sug.parent >= 0) {
                ASSERT_LT(sug.parent, static_cast<int>(observed.size()));
                EXPECT_EQ(sug.source, "morphism");
            }
        }
        for (const Vector& p : pending) observed.push_back(Observation{p, problem.evaluate(p)});
        pending.clear();
        for (const Suggestion& sug : s) pending.push_back(sug.x);
    }
}

TEST(SuggestTest, EveryAlgorithmSuggestsCanonicalFeasibleDistinctPoints) {
    const bench::Problem zdt1 = bench::MakeProblem("zdt1");
    const bench::Problem dtlz2 = bench::MakeProblem("dtlz2");
    OptimizerSettings settings;
    settings.population = 8;
    settings.random_candidates = 300;
    settings.local_candidates = 200;
    for (const std::string algorithm : {"random", "nsga2", "mobo"}) {
        CheckSuggestions(algorithm, zdt1, 6, 4, settings);
        CheckSuggestions(algorithm, dtlz2, 6, 4, settings);
    }
}

TEST(SuggestTest, NasSuggestionsRespectTheCostModelLimits) {
    auto domain = std::make_shared<NasDomain>(
        arch::SearchSpace{},
        std::vector<NasObjective>{NasObjective::kError, NasObjective::kFlashBytes,
                                  NasObjective::kSramBytes},
        NasLimits{200 * 1024, 48 * 1024, 0});
    bench::Problem problem = bench::MakeProblem("nas-proxy");
    problem.domain = domain;
    OptimizerSettings settings;
    settings.population = 8;
    settings.random_candidates = 300;
    settings.local_candidates = 200;
    for (const std::string algorithm : {"random", "nsga2", "mobo"}) {
        CheckSuggestions(algorithm, problem, 5, 3, settings);
    }
    // The known objectives are exactly the cost model's.
    Rng rng(1);
    const Vector x = domain->Canonicalize(Vector(static_cast<size_t>(domain->dimension()), 0.3));
    const Assessment a = domain->Assess(x);
    const arch::CostReport cost = domain->Cost(x);
    EXPECT_TRUE(std::isnan(a.known[0]));
    EXPECT_EQ(a.known[1], static_cast<double>(cost.flash_bytes));
    EXPECT_EQ(a.known[2], static_cast<double>(cost.sram_bytes));  // what a board agent measures
    EXPECT_EQ(domain->known_objectives(), (std::vector<bool>{false, true, true}));
}

TEST(SuggestTest, MoboBatchWithPendingFantasiesIsDiverse) {
    const bench::Problem problem = bench::MakeProblem("dtlz2");
    OptimizerSettings settings;
    settings.random_candidates = 500;
    settings.local_candidates = 300;
    auto mobo = MakeOptimizer("mobo", problem.domain, settings);
    auto random = MakeOptimizer("random", problem.domain, settings);
    Rng rng(3);
    std::vector<Observation> observed;
    for (const Suggestion& s : random->Suggest(25, {}, {}, rng)) {
        observed.push_back(Observation{s.x, problem.evaluate(s.x)});
    }
    std::vector<Vector> pending;
    for (const Suggestion& s : random->Suggest(5, observed, {}, rng)) pending.push_back(s.x);
    const std::vector<Suggestion> batch = mobo->Suggest(12, observed, pending, rng);
    ASSERT_EQ(batch.size(), 12u);
    std::set<Vector> distinct;
    for (const Suggestion& s : batch) distinct.insert(s.x);
    for (const Vector& p : pending) distinct.insert(p);
    EXPECT_EQ(distinct.size(), 17u);
    // Spread: the batch is not a cluster around one point.
    double min_gap = INFINITY;
    double max_gap = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
        for (size_t j = 0; j < i; ++j) {
            double d2 = 0;
            for (size_t k = 0; k < batch[i].x.size(); ++k) {
                d2 += (batch[i].x[k] - batch[j].x[k]) * (batch[i].x[k] - batch[j].x[k]);
            }
            min_gap = std::min(min_gap, std::sqrt(d2));
            max_gap = std::max(max_gap, std::sqrt(d2));
        }
    }
    EXPECT_GT(min_gap, 0.0);
    EXPECT_GT(max_gap, 0.3);
}

TEST(SuggestTest, SuggestIsDeterministicGivenItsInputs) {
    const bench::Problem problem = bench::MakeProblem("zdt1");
    OptimizerSettings settings;
    settings.random_candidates = 300;
    settings.local_candidates = 200;
    for (const std::string algorithm : {"random", "nsga2", "mobo"}) {
        std::vector<Observation> observed;
        Rng data(5);
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        for (int i = 0; i < 24; ++i) {
            Vector x(30);
            for (double& v : x) v = unit(data);
            observed.push_back(Observation{x, problem.evaluate(x)});
        }
        observed[3].y[1] = NAN;  // a failed trial is tolerated
        auto first = MakeOptimizer(algorithm, problem.domain, settings);
        auto second = MakeOptimizer(algorithm, problem.domain, settings);
        Rng a(9);
        Rng b(9);
        const auto sa = first->Suggest(3, observed, {}, a);
        const auto sb = second->Suggest(3, observed, {}, b);
        ASSERT_EQ(sa.size(), sb.size());
        for (size_t i = 0; i < sa.size(); ++i) EXPECT_EQ(sa[i].x, sb[i].x) << algorithm;
    }
}

TEST(SuggestTest, MoboProposesMorphismsOfObservedParentsInLaterRounds) {
    const bench::Problem problem = bench::MakeProblem("nas-proxy");
    OptimizerSettings settings;
    settings.random_candidates = 200;
    settings.local_candidates = 200;
    settings.morph_after = 12;
    settings.morph_tolerance = 1e9;  // any morphism wins
    auto mobo = MakeOptimizer("mobo", problem.domain, settings);
    auto random = MakeOptimizer("random", problem.domain, settings);
    Rng rng(11);
    std::vector<Observation> observed;
    for (const Suggestion& s : random->Suggest(15, {}, {}, rng)) {
        observed.push_back(Observation{s.x, problem.evaluate(s.x)});
    }
    const auto batch = mobo->Suggest(3, observed, {}, rng);
    ASSERT_EQ(batch.size(), 3u);
    const auto& domain = dynamic_cast<const NasDomain&>(*problem.domain);
    for (const Suggestion& s : batch) {
        ASSERT_EQ(s.source, "morphism");
        ASSERT_GE(s.parent, 0);
        EXPECT_FALSE(s.operation.empty());
        const auto* morphed = std::any_cast<arch::Morphed>(&s.detail);
        ASSERT_NE(morphed, nullptr);
        EXPECT_EQ(domain.Encode(morphed->child), s.x);
        EXPECT_NE(observed[static_cast<size_t>(s.parent)].x, s.x);
    }
}

// A job of the default length (20 trials, 10 of them warm-up, one at a time)
// with the default settings has morphism children (issue #11): they are
// favoured from the first model-based round, not only after 20 observations.
// They do not crowd out the rest of the search either.
TEST(SuggestTest, ADefaultLengthJobHasMorphismChildren) {
    const bench::Problem problem = bench::MakeProblem("nas-proxy");
    const OptimizerSettings settings;
    auto mobo = MakeOptimizer("mobo", problem.domain, settings);
    Rng rng(5);
    std::vector<Observation> observed;
    int morphisms = 0, warmup = 0;
    for (int trial = 0; trial < 20; ++trial) {
        const auto batch = mobo->Suggest(1, observed, {}, rng);
        ASSERT_EQ(batch.size(), 1u);
        const Suggestion& s = batch.front();
        morphisms += s.source == "morphism" ? 1 : 0;
        warmup += s.source == "warmup" ? 1 : 0;
        if (s.source == "morphism") {
            EXPECT_LT(s.parent, static_cast<int>(observed.size()));
        }
        observed.push_back(Observation{s.x, problem.evaluate(s.x)});
    }
    EXPECT_EQ(warmup, settings.warmup);
    EXPECT_GE(morphisms, 2);
    EXPECT_LT(morphisms, 20 - settings.warmup);
    std::printf("morphism children in a 20-trial job: %d of %d model-based trials\n", morphisms,
                20 - warmup);
}

TEST(SuggestTest, UnknownAlgorithmIsAnInvalidArgument) {
    const bench::Problem problem = bench::MakeProblem("zdt1");
    EXPECT_THROW(MakeOptimizer("cma-es", problem.domain), InvalidArgument);
}

TEST(SuggestTest, ThompsonSamplingSuggestsDistinctPoints) {
    const bench::Problem problem = bench::MakeProblem("zdt1");
    OptimizerSettings settings;
    settings.acquisition = Acquisition::kThompson;
    settings.random_candidates = 300;
    settings.local_candidates = 200;
    CheckSuggestions("mobo", problem, 5, 4, settings);
}

}  // namespace
}  // namespace hilnas::optimizer
