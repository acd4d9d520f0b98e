#include "acquisition.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "hilnas/optimizer/pareto.h"

namespace hilnas::optimizer::internal {

Vector SampleWeights(int objectives, Scalarisation scalarisation, Rng& rng) {
    std::gamma_distribution<double> exponential(1.0, 1.0);
    std::normal_distribution<double> normal(0.0, 1.0);
    Vector w(static_cast<size_t>(objectives));
    double sum = 0.0;
    for (double& v : w) {
        v = scalarisation == Scalarisation::kHypervolume ? std::abs(normal(rng)) + 1e-12
                                                         : exponential(rng) + 1e-12;
        sum += v;
    }
    for (double& v : w) v /= sum;
    return w;
}

double LowerConfidenceBound(double mean, double variance, double kappa) {
    return mean - kappa * std::sqrt(std::max(variance, 0.0));
}

double ProbabilityOfFeasibility(double mean, double variance) {
    const double sd = std::sqrt(std::max(variance, 0.0));
    if (sd <= 0.0) return mean <= 0.0 ? 1.0 : 0.0;
    return 0.5 * std::erfc(mean / (sd * std::numbers::sqrt2));
}

double Scalariser::Value(const double* y) const {
    const size_t m = ideal.size();
    double worst = -INFINITY;
    if (kind == Scalarisation::kHypervolumeImprovement) {
        Vector z(m);
        for (size_t j = 0; j < m; ++j) z[j] = (y[j] - ideal[j]) / range[j];
        const double gain = HypervolumeImprovement(z, front, reference);
        if (gain > 0.0) return -gain;
        // Dominated (or beyond the reference): how far from escaping.
        double lack = front.empty() ? -INFINITY : INFINITY;
        for (const Vector& q : front) {
            double gap = -INFINITY;
            for (size_t j = 0; j < m; ++j) gap = std::max(gap, z[j] - q[j]);
            lack = std::min(lack, gap);
        }
        for (size_t j = 0; j < m; ++j) lack = std::max(lack, z[j] - reference[j]);
        return std::max(lack, 0.0);
    }
    if (kind == Scalarisation::kHypervolume) {
        for (size_t j = 0; j < m; ++j) {
            const double z = (y[j] - ideal[j]) / range[j];
            worst = std::max(worst, (z - reference[j]) / weights[j]);
        }
        return worst;
    }
    double total = 0.0;
    for (size_t j = 0; j < m; ++j) {
        const double v = weights[j] * (y[j] - ideal[j]) / range[j];
        worst = std::max(worst, v);
        total += v;
    }
    return worst + rho * total;
}

double Scalariser::Score(const double* y, double feasibility) const {
    const double improvement = baseline - Value(y);
    const double p = std::clamp(feasibility, 1e-6, 1.0);
    return improvement > 0.0 ? -improvement * p : -improvement / p;
}

}  // namespace hilnas::optimizer::internal
