#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "hilnas/optimizer/pareto.h"

namespace hilnas::optimizer {
namespace {

std::vector<int> BruteForceNonDominated(const std::vector<Vector>& points) {
    std::vector<int> out;
    for (size_t i = 0; i < points.size(); ++i) {
        bool dominated = false;
        for (size_t j = 0; j < points.size() && !dominated; ++j) {
            dominated = Dominates(points[j], points[i]);
        }
        if (!dominated) out.push_back(static_cast<int>(i));
    }
    return out;
}

// Inclusion-exclusion over every non-empty subset: the volume of a union of
// boxes [p, r].
double BruteForceHypervolume(const std::vector<Vector>& points, const Vector& r) {
    const size_t n = points.size();
    double hv = 0.0;
    for (uint32_t mask = 1; mask < (1u << n); ++mask) {
        Vector corner(r.size(), -INFINITY);
        int count = 0;
        for (size_t i = 0; i < n; ++i) {
            if (!(mask & (1u << i))) continue;
            ++count;
            for (size_t k = 0; k < r.size(); ++k) corner[k] = std::max(corner[k], points[i][k]);
        }
        double volume = 1.0;
        for (size_t k = 0; k < r.size(); ++k) volume *= std::max(0.0, r[k] - corner[k]);
        hv += (count % 2 ? 1.0 : -1.0) * volume;
    }
    return hv;
}

// Small integer coordinates: many ties and duplicates.
std::vector<Vector> IntegerPoints(std::mt19937_64& rng, int n, int m, int levels) {
    std::uniform_int_distribution<int> value(0, levels - 1);
    std::vector<Vector> points;
    for (int i = 0; i < n; ++i) {
        Vector p(static_cast<size_t>(m));
        for (double& v : p) v = value(rng);
        points.push_back(p);
    }
    // Exact duplicates too.
    for (int i = 0; i < n / 5; ++i) points.push_back(points[static_cast<size_t>(i)]);
    std::shuffle(points.begin(), points.end(), rng);
    return points;
}

TEST(ParetoTest, NonDominatedMatchesBruteForceWithTiesAndDuplicates) {
    std::mt19937_64 rng(1);
    for (int m = 1; m <= 5; ++m) {
        for (int trial = 0; trial < 200; ++trial) {
            const int n = 1 + trial % 60;
            const int levels = 2 + trial % 7;
            const std::vector<Vector> points = IntegerPoints(rng, n, m, levels);
            ASSERT_EQ(NonDominatedIndices(points), BruteForceNonDominated(points))
                << "m=" << m << " trial=" << trial;
        }
    }
}

TEST(ParetoTest, NonDominatedMatchesBruteForceOnContinuousSets) {
    std::mt19937_64 rng(2);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    for (int m = 2; m <= 5; ++m) {
        for (int trial = 0; trial < 50; ++trial) {
            std::vector<Vector> points(300, Vector(static_cast<size_t>(m)));
            for (Vector& p : points) {
                for (double& v : p) v = unit(rng);
            }
            ASSERT_EQ(NonDominatedIndices(points), BruteForceNonDominated(points));
        }
    }
}

TEST(ParetoTest, RanksPeelFronts) {
    std::mt19937_64 rng(3);
    const std::vector<Vector> points = IntegerPoints(rng, 80, 3, 6);
    const std::vector<int> rank = NonDominatedRanks(points);
    for (size_t i = 0; i < points.size(); ++i) {
        for (size_t j = 0; j < points.size(); ++j) {
            if (Dominates(points[j], points[i])) {
                EXPECT_LT(rank[j], rank[i]);
            }
        }
        if (rank[i] > 0) {
            bool has_dominator_one_up = false;
            for (size_t j = 0; j < points.size(); ++j) {
                has_dominator_one_up |= rank[j] == rank[i] - 1 && Dominates(points[j], points[i]);
            }
            EXPECT_TRUE(has_dominator_one_up);
        }
    }
}

TEST(HypervolumeTest, EqualsInclusionExclusionExactly) {
    // Integer coordinates keep every product and sum exact in double.
    std::mt19937_64 rng(4);
    for (int m = 1; m <= 5; ++m) {
        for (int trial = 0; trial < 200; ++trial) {
            const int n = 1 + trial % 10;
            std::vector<Vector> points = IntegerPoints(rng, n, m, 9);
            if (points.size() > 12) points.resize(12);
            const Vector reference(static_cast<size_t>(m), 8.0);  // some points lie on it
            ASSERT_EQ(Hypervolume(points, reference), BruteForceHypervolume(points, reference))
                << "m=" << m << " trial=" << trial;
        }
    }
}

TEST(HypervolumeTest, MatchesMonteCarloWithinItsStandardError) {
    std::mt19937_64 rng(5);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    constexpr int kSamples = 200000;
    for (int m = 2; m <= 5; ++m) {
        for (int trial = 0; trial < 3; ++trial) {
            // Points near the simplex-like surface, so that the front is large.
            std::vector<Vector> points;
            for (int i = 0; i < 40; ++i) {
                Vector p(static_cast<size_t>(m));
                double s = 0;
                for (double& v : p) s += (v = -std::log(unit(rng)));
                for (double& v : p) v = v / s + 0.2 * unit(rng);
                points.push_back(p);
            }
            const Vector reference(static_cast<size_t>(m), 1.2);
            const double exact = Hypervolume(points, reference);
            int hits = 0;
            Vector z(static_cast<size_t>(m));
            for (int s = 0; s < kSamples; ++s) {
                for (double& v : z) v = 1.2 * unit(rng);
                for (const Vector& p : points) {
                    bool dom = true;
                    for (int k = 0; k < m && dom; ++k)
                        dom = p[static_cast<size_t>(k)] <= z[static_cast<size_t>(k)];
                    if (dom) {
                        ++hits;
                        break;
                    }
                }
            }
            const double box = std::pow(1.2, m);
            const double p_hat = static_cast<double>(hits) / kSamples;
            const double estimate = p_hat * box;
            const double se = box * std::sqrt(std::max(p_hat * (1 - p_hat), 1e-12) / kSamples);
            // Five standard errors: a false failure has probability below 1e-6.
            EXPECT_NEAR(exact, estimate, 5 * se) << "m=" << m;
        }
    }
}

TEST(HypervolumeTest, LargeFrontsAgreeAcrossMethods) {
    // The 3D sweep against the generic slicing (via a constant fourth objective).
    std::mt19937_64 rng(6);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::vector<Vector> p3;
    std::vector<Vector> p4;
    for (int i = 0; i < 500; ++i) {
        Vector p{unit(rng), unit(rng), unit(rng)};
        p3.push_back(p);
        p.push_back(0.0);
        p4.push_back(p);
    }
    EXPECT_NEAR(Hypervolume(p3, {1, 1, 1}), Hypervolume(p4, {1, 1, 1, 1}), 1e-12);
}

TEST(HypervolumeTest, ReferencePointRuleAndNormalisation) {
    const std::vector<Vector> points{{0, 10}, {1, 5}, {2, 0}, {3, 20}};
    const Vector r = ReferencePoint(points);  // the front's nadir (2, 10) plus 10% of its range
    ASSERT_EQ(r.size(), 2u);
    EXPECT_DOUBLE_EQ(r[0], 2.2);
    EXPECT_DOUBLE_EQ(r[1], 11.0);
    EXPECT_EQ(ReferencePoint(points, Vector{5, 5}), (Vector{5, 5}));
    const ObjectiveBounds b = BoundsOf(points);
    EXPECT_EQ(Normalize(Vector{3, 20}, b), (Vector{1, 1}));
    EXPECT_EQ(Normalize(Vector{0, 0}, b), (Vector{0, 0}));
    EXPECT_DOUBLE_EQ(Hypervolume({{0.5, 0.5}}, {1, 1}), 0.25);
    EXPECT_EQ(Hypervolume({{1.0, 0.5}}, {1, 1}), 0.0);
}

}  // namespace
}  // namespace hilnas::optimizer
