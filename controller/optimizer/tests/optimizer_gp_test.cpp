#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "hilnas/optimizer/gp.h"
#include "hilnas/optimizer/quasi_random.h"

namespace hilnas::optimizer {
namespace {

// A smooth function of three inputs, the third irrelevant.
double Target(const double* x) {
    return std::sin(6.0 * x[0]) + 0.5 * std::cos(4.0 * x[1]) + 2.0 * x[0] * x[1];
}

Matrix HaltonPoints(int n, int d, uint64_t seed) {
    const ScrambledHalton halton(d, seed);
    Matrix x(n, d);
    for (int i = 0; i < n; ++i) {
        const Vector p = halton.Point(static_cast<uint64_t>(i));
        std::copy(p.begin(), p.end(), x.row(i));
    }
    return x;
}

TEST(MatrixTest, CholeskyAndSolves) {
    std::mt19937_64 rng(1);
    std::normal_distribution<double> normal(0.0, 1.0);
    const int n = 70;
    Matrix b(n, n);
    for (double& v : b.data) v = normal(rng);
    Matrix a(n, n);
    for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j) {
            double s = i == j ? 1.0 : 0.0;
            for (int k = 0; k < n; ++k) s += b(i, k) * b(j, k);
            a(i, j) = s;
        }
    }
    Matrix l = a;
    EXPECT_EQ(CholeskyInPlace(l), 0.0);
    for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j) {
            double s = 0;
            for (int k = 0; k < n; ++k) s += l(i, k) * l(j, k);
            EXPECT_NEAR(s, a(i, j), 1e-9 * (1 + std::abs(a(i, j))));
        }
    }
    const Matrix inv = InverseFromCholesky(l);
    for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j) {
            double s = 0;
            for (int k = 0; k < n; ++k) s += a(i, k) * inv(k, j);
            EXPECT_NEAR(s, i == j ? 1.0 : 0.0, 1e-8);
        }
    }
    // A singular matrix (rank one) is factorised with jitter.
    Matrix s(4, 4, 1.0);
    EXPECT_GT(CholeskyInPlace(s), 0.0);
}

// The log marginal likelihood's gradient against central differences, with
// and without the additive part.
void CheckGradient(bool additive) {
    SCOPED_TRACE(additive ? "additive" : "joint only");
    const Matrix x = HaltonPoints(25, 3, 7);
    Vector y;
    for (int i = 0; i < x.rows; ++i) y.push_back(Target(x.row(i)));
    // Standardise as the GP does.
    double mean = 0;
    for (double v : y) mean += v;
    mean /= static_cast<double>(y.size());
    double var = 0;
    for (double v : y) var += (v - mean) * (v - mean);
    const double sd = std::sqrt(var / static_cast<double>(y.size()));
    for (double& v : y) v = (v - mean) / sd;
    GpHyperparameters h = DefaultHyperparameters(3, additive);
    h.log_lengthscales = {-1.0, -0.5, 0.3};
    h.log_signal_variance = 0.2;
    h.log_noise_variance = -3.0;
    h.log_additive_variance = -0.4;
    h.log_additive_lengthscale = -1.3;
    h.log_linear_variance = -0.8;
    Vector grad;
    GaussianProcess::LogMarginalLikelihood(x, y, h, &grad);
    ASSERT_EQ(grad.size(), additive ? 8u : 5u);
    const double eps = 1e-5;
    for (size_t k = 0; k < grad.size(); ++k) {
        GpHyperparameters plus = h;
        GpHyperparameters minus = h;
        auto at = [&](GpHyperparameters& g) -> double& {
            if (k < 3) return g.log_lengthscales[k];
            if (k == 3) return g.log_signal_variance;
            if (k == 4) return g.log_noise_variance;
            if (k == 5) return g.log_additive_variance;
            return k == 6 ? g.log_additive_lengthscale : g.log_linear_variance;
        };
        at(plus) += eps;
        at(minus) -= eps;
        const double fd = (GaussianProcess::LogMarginalLikelihood(x, y, plus, nullptr) -
                           GaussianProcess::LogMarginalLikelihood(x, y, minus, nullptr)) /
                          (2 * eps);
        EXPECT_NEAR(grad[k], fd, 1e-5 * (1 + std::abs(fd))) << "parameter " << k;
    }
}

TEST(GpTest, GradientMatchesFiniteDifferences) {
    CheckGradient(false);
    CheckGradient(true);
}

TEST(GpTest, RecoversAKnownFunctionAndFittingRaisesTheLikelihood) {
    const int d = 3;
    const Matrix x = HaltonPoints(60, d, 11);
    Vector y;
    for (int i = 0; i < x.rows; ++i) y.push_back(Target(x.row(i)));
    std::mt19937_64 rng(3);
    const GaussianProcess fitted = GaussianProcess::Fit(x, y, GpFitOptions{}, rng);
    const GaussianProcess initial(x, y, DefaultHyperparameters(d));
    EXPECT_GT(fitted.LogMarginalLikelihood(), initial.LogMarginalLikelihood() + 1.0);
    // The irrelevant input gets the longest length scale.
    const Vector& ls = fitted.hyperparameters().log_lengthscales;
    EXPECT_GT(ls[2], ls[0]);
    EXPECT_GT(ls[2], ls[1]);

    // Held-out error far below the function's spread.
    const int m = 500;
    Matrix xt(m, d);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    for (double& v : xt.data) v = unit(rng);
    Vector mean;
    Vector variance;
    fitted.Predict(xt, &mean, &variance);
    double se = 0;
    double spread = 0;
    double avg = 0;
    Vector truth;
    for (int i = 0; i < m; ++i) truth.push_back(Target(xt.row(i)));
    for (double t : truth) avg += t / m;
    int inside = 0;
    for (int i = 0; i < m; ++i) {
        const double err = mean[static_cast<size_t>(i)] - truth[static_cast<size_t>(i)];
        se += err * err;
        spread += (truth[static_cast<size_t>(i)] - avg) * (truth[static_cast<size_t>(i)] - avg);
        inside += std::abs(err) <= 3 * std::sqrt(variance[static_cast<size_t>(i)]) + 1e-3;
    }
    const double rmse = std::sqrt(se / m);
    const double sd = std::sqrt(spread / m);
    EXPECT_LT(rmse, 0.05 * sd) << "rmse " << rmse << " sd " << sd;
    EXPECT_GT(inside, m * 9 / 10);  // calibrated enough: 3 sd covers most errors
}

TEST(GpTest, FantasiesShrinkVarianceAndKeepTheMean) {
    const int d = 2;
    const Matrix x = HaltonPoints(20, d, 5);
    Vector y;
    for (int i = 0; i < x.rows; ++i) {
        const double p[3] = {x(i, 0), x(i, 1), 0.0};
        y.push_back(Target(p));
    }
    GpHyperparameters h = DefaultHyperparameters(d);
    h.log_lengthscales = {-1.5, -1.5};
    GaussianProcess a(x, y, h);
    GaussianProcess b(x, y, h);
    Matrix cand(50, d);
    std::mt19937_64 rng(9);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    for (double& v : cand.data) v = unit(rng);
    Vector mean0;
    Vector var0;
    a.Predict(cand, &mean0, &var0);

    // Incremental updates of a candidate state equal a fresh prediction.
    GaussianProcess::CandidateState state = a.Candidates(cand);
    a.AddFantasyFromCandidate(state, 3);
    a.AddFantasy(Vector{0.5, 0.5}, state);
    a.AddFantasyFromCandidate(state, 17);
    b.AddFantasy(Vector{cand(3, 0), cand(3, 1)});
    b.AddFantasy(Vector{0.5, 0.5});
    b.AddFantasy(Vector{cand(17, 0), cand(17, 1)});
    Vector mean1;
    Vector var1;
    b.Predict(cand, &mean1, &var1);
    for (int i = 0; i < cand.rows; ++i) {
        const size_t u = static_cast<size_t>(i);
        EXPECT_NEAR(mean1[u], mean0[u], 1e-9);
        EXPECT_NEAR(state.variance[u], var1[u], 1e-9);
        EXPECT_LE(var1[u], var0[u] + 1e-12);
    }
    EXPECT_LT(var1[3], 0.1 * var0[3]);
    EXPECT_LT(var1[17], 0.1 * var0[17]);
    // The joint covariance agrees with the variances on its diagonal.
    const Matrix cov = a.Covariance(state, {3, 17, 20});
    EXPECT_NEAR(cov(0, 0), var1[3], 1e-9);
    EXPECT_NEAR(cov(2, 2), var1[20], 1e-9);
    EXPECT_NEAR(cov(0, 1), cov(1, 0), 1e-15);
}

TEST(GpTest, FitAllIsExactlyFitsOneAfterAnother) {
    // FitAll runs every restart of every fit in parallel; it must draw from
    // the generator as fits one after another do, and give the same
    // hyperparameters and predictions to the last bit.
    const Matrix x = HaltonPoints(150, 3, 4);  // above max_points: a random subset too
    std::vector<Vector> ys(3);
    for (int i = 0; i < x.rows; ++i) {
        ys[0].push_back(Target(x.row(i)));
        ys[1].push_back(x(i, 0) - 2.0 * x(i, 2));
        ys[2].push_back(std::exp(x(i, 1)));
    }
    std::mt19937_64 a(17);
    std::mt19937_64 b(17);
    std::vector<GaussianProcess> one_by_one;
    for (const Vector& y : ys) one_by_one.push_back(GaussianProcess::Fit(x, y, GpFitOptions{}, a));
    const std::vector<GaussianProcess> all = GaussianProcess::FitAll(x, ys, GpFitOptions{}, b);
    ASSERT_EQ(all.size(), ys.size());
    EXPECT_EQ(a(), b());  // the same number of draws
    const Matrix xt = HaltonPoints(20, 3, 9);
    for (size_t g = 0; g < ys.size(); ++g) {
        EXPECT_EQ(all[g].hyperparameters().log_lengthscales,
                  one_by_one[g].hyperparameters().log_lengthscales);
        Vector m0, v0, m1, v1;
        one_by_one[g].Predict(xt, &m0, &v0);
        all[g].Predict(xt, &m1, &v1);
        EXPECT_EQ(m0, m1);
        EXPECT_EQ(v0, v1);
    }
}

TEST(QuasiRandomTest, HaltonIsInTheCubeDeterministicAndEvenlySpread) {
    const ScrambledHalton a(42, 1);
    const ScrambledHalton b(42, 1);
    const int n = 512;
    std::vector<int> halves(42, 0);
    for (int i = 0; i < n; ++i) {
        const Vector p = a.Point(static_cast<uint64_t>(i));
        EXPECT_EQ(p, b.Point(static_cast<uint64_t>(i)));
        for (size_t j = 0; j < p.size(); ++j) {
            ASSERT_GE(p[j], 0.0);
            ASSERT_LT(p[j], 1.0);
            halves[j] += p[j] < 0.5;
        }
    }
    // Low discrepancy: every one-dimensional half holds close to n / 2 points
    // (uniform random points would stray by about sqrt(n) / 2 = 11 per standard deviation).
    for (int h : halves) EXPECT_NEAR(h, n / 2, 10);
    EXPECT_EQ(FirstPrimes(6), (std::vector<int>{2, 3, 5, 7, 11, 13}));
}

}  // namespace
}  // namespace hilnas::optimizer
