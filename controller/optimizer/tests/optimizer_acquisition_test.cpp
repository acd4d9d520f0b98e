// mobo's acquisition in isolation: the scalarisations, the optimism of the
// lower confidence bound, and the weighting by the probability of
// feasibility. A sign turned the wrong way in any of them fails here.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "../src/acquisition.h"

namespace hilnas::optimizer::internal {
namespace {

Scalariser Make(Scalarisation kind, Vector weights) {
    Scalariser s;
    s.kind = kind;
    s.weights = std::move(weights);
    s.ideal = {0.0, 0.0};
    s.range = {1.0, 10.0};
    s.reference = {1.1, 1.1};
    s.rho = 0.05;
    return s;
}

TEST(AcquisitionTest, BothScalarisationsPreferDominatingPoints) {
    Rng rng(1);
    for (Scalarisation kind : {Scalarisation::kChebyshev, Scalarisation::kHypervolume}) {
        for (int trial = 0; trial < 50; ++trial) {
            const Scalariser s = Make(kind, SampleWeights(2, kind, rng));
            ASSERT_NEAR(s.weights[0] + s.weights[1], 1.0, 1e-12);
            const Vector better = {0.2, 3.0};
            const Vector worse = {0.3, 4.0};  // dominated by `better`
            EXPECT_LT(s.Value(better.data()), s.Value(worse.data()));
            EXPECT_LT(s.Score(better.data(), 1.0), s.Score(worse.data(), 1.0));
        }
    }
}

TEST(AcquisitionTest, WeightsDecideBetweenTradeOffs) {
    // Good in objective 0 against good in objective 1 (normalised: (0.1, 0.9)
    // and (0.9, 0.1)): a weight on objective 0 favours the point that is good
    // in objective 0, and the other way round, under both scalarisations.
    const Vector good0 = {0.1, 9.0};
    const Vector good1 = {0.9, 1.0};
    for (Scalarisation kind : {Scalarisation::kChebyshev, Scalarisation::kHypervolume}) {
        const Scalariser on0 = Make(kind, {0.8, 0.2});
        const Scalariser on1 = Make(kind, {0.2, 0.8});
        EXPECT_LT(on0.Value(good0.data()), on0.Value(good1.data()));
        EXPECT_LT(on1.Value(good1.data()), on1.Value(good0.data()));
    }
}

TEST(AcquisitionTest, HypervolumeScalarisationIsNegativeInsideTheReferenceBox) {
    const Scalariser s = Make(Scalarisation::kHypervolume, {0.5, 0.5});
    const Vector inside = {0.5, 5.0};   // normalised (0.5, 0.5) < (1.1, 1.1)
    const Vector outside = {1.2, 1.0};  // normalised (1.2, 0.1): beyond r in objective 0
    EXPECT_LT(s.Value(inside.data()), 0.0);
    EXPECT_GT(s.Value(outside.data()), 0.0);
    // -value is the side of the largest box below r along w: here 0.6 / 0.5.
    EXPECT_NEAR(s.Value(inside.data()), -1.2, 1e-12);
}

TEST(AcquisitionTest, TheLowerConfidenceBoundIsOptimistic) {
    // Objectives are minimised: more uncertainty means a lower bound, a lower
    // mean means a lower bound, and kappa = 0 is the mean.
    EXPECT_LT(LowerConfidenceBound(1.0, 0.25, 2.0), LowerConfidenceBound(1.0, 0.01, 2.0));
    EXPECT_LT(LowerConfidenceBound(0.5, 0.25, 2.0), LowerConfidenceBound(1.0, 0.25, 2.0));
    EXPECT_DOUBLE_EQ(LowerConfidenceBound(1.0, 0.25, 2.0), 0.0);
    EXPECT_DOUBLE_EQ(LowerConfidenceBound(1.0, 0.25, 0.0), 1.0);
    // An optimistic candidate ranks first under every scalarisation.
    for (Scalarisation kind : {Scalarisation::kChebyshev, Scalarisation::kHypervolume}) {
        const Scalariser s = Make(kind, {0.5, 0.5});
        const Vector certain = {LowerConfidenceBound(0.5, 0.0, 1.5),
                                LowerConfidenceBound(5.0, 0.0, 1.5)};
        const Vector uncertain = {LowerConfidenceBound(0.5, 0.04, 1.5),
                                  LowerConfidenceBound(5.0, 4.0, 1.5)};
        EXPECT_LT(s.Score(uncertain.data(), 1.0), s.Score(certain.data(), 1.0));
    }
}

TEST(AcquisitionTest, ProbabilityOfFeasibilityWeighsTheScore) {
    EXPECT_NEAR(ProbabilityOfFeasibility(0.0, 1.0), 0.5, 1e-12);
    EXPECT_NEAR(ProbabilityOfFeasibility(-1.0, 1.0), 0.841344746, 1e-8);
    EXPECT_NEAR(ProbabilityOfFeasibility(1.0, 1.0), 0.158655254, 1e-8);
    EXPECT_EQ(ProbabilityOfFeasibility(-0.1, 0.0), 1.0);
    EXPECT_EQ(ProbabilityOfFeasibility(0.1, 0.0), 0.0);

    Scalariser s = Make(Scalarisation::kChebyshev, {0.5, 0.5});
    s.baseline = 0.5;
    const Vector big_gain = {0.1, 1.0};    // value 0.055: gain 0.445
    const Vector small_gain = {0.3, 3.0};  // value 0.165: gain 0.335
    const Vector no_gain = {1.0, 10.0};    // value 0.55: no gain
    // A likely-feasible smaller gain beats an unlikely-feasible bigger one.
    EXPECT_LT(s.Score(small_gain.data(), 0.9), s.Score(big_gain.data(), 0.3));
    // At equal feasibility the bigger gain wins.
    EXPECT_LT(s.Score(big_gain.data(), 0.5), s.Score(small_gain.data(), 0.5));
    // Any gain beats no gain; without a gain, less feasible is worse.
    EXPECT_LT(s.Score(small_gain.data(), 0.01), s.Score(no_gain.data(), 1.0));
    EXPECT_LT(s.Score(no_gain.data(), 0.9), s.Score(no_gain.data(), 0.1));
    // Feasibility 1 keeps the scalarisation's order exactly.
    EXPECT_LT(s.Score(big_gain.data(), 1.0), s.Score(small_gain.data(), 1.0));
    EXPECT_LT(s.Score(small_gain.data(), 1.0), s.Score(no_gain.data(), 1.0));
}

TEST(AcquisitionTest, HypervolumeWeightsHaveDirectionsUniformOnTheSphere) {
    // On two objectives the angle of w's direction is uniform on [0, pi/2]:
    // its mean is pi/4 and a quarter of the draws fall in each eighth of a turn.
    Rng rng(7);
    const int n = 4000;
    double mean = 0;
    int low = 0;
    for (int i = 0; i < n; ++i) {
        const Vector w = SampleWeights(2, Scalarisation::kHypervolume, rng);
        const double angle = std::atan2(w[1], w[0]);
        mean += angle / n;
        low += angle < std::numbers::pi / 8;
    }
    EXPECT_NEAR(mean, std::numbers::pi / 4, 0.03);
    EXPECT_NEAR(low, n / 4, 120);
}

}  // namespace
}  // namespace hilnas::optimizer::internal
