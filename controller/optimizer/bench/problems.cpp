#include "problems.h"

#include <cmath>
#include <numbers>

#include "hilnas/arch/cost.h"
#include "hilnas/common/errors.h"
#include "hilnas/optimizer/nas_domain.h"

namespace hilnas::optimizer::bench {
namespace {

Vector Zdt1(const Vector& x) {
    const size_t n = x.size();
    double s = 0.0;
    for (size_t i = 1; i < n; ++i) s += x[i];
    const double g = 1.0 + 9.0 * s / static_cast<double>(n - 1);
    const double f1 = x[0];
    return {f1, g * (1.0 - std::sqrt(f1 / g))};
}

// ZDT3: ZDT1's g with a sine in h, so the front falls into five pieces.
Vector Zdt3(const Vector& x) {
    const size_t n = x.size();
    double s = 0.0;
    for (size_t i = 1; i < n; ++i) s += x[i];
    const double g = 1.0 + 9.0 * s / static_cast<double>(n - 1);
    const double f1 = x[0];
    const double r = f1 / g;
    return {f1, g * (1.0 - std::sqrt(r) - r * std::sin(10.0 * std::numbers::pi * f1))};
}

// DTLZ7 (Deb et al. 2005): the first m - 1 objectives are the first
// variables; the last has a front of 2^(m-1) disconnected pieces.
Vector Dtlz7(const Vector& x, int m) {
    const size_t um = static_cast<size_t>(m);
    double s = 0.0;
    for (size_t i = um - 1; i < x.size(); ++i) s += x[i];
    const double g = 1.0 + 9.0 * s / static_cast<double>(x.size() - um + 1);
    Vector f(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(um - 1));
    double h = static_cast<double>(m);
    for (double fi : f) h -= fi / (1.0 + g) * (1.0 + std::sin(3.0 * std::numbers::pi * fi));
    f.push_back((1.0 + g) * h);
    return f;
}

Vector Dtlz2(const Vector& x, int m) {
    const size_t um = static_cast<size_t>(m);
    double g = 0.0;
    for (size_t i = um - 1; i < x.size(); ++i) g += (x[i] - 0.5) * (x[i] - 0.5);
    Vector f(um, 1.0 + g);
    for (size_t i = 0; i < um; ++i) {
        for (size_t j = 0; j + 1 < um - i; ++j) f[i] *= std::cos(x[j] * std::numbers::pi / 2);
        if (i > 0) f[i] *= std::sin(x[um - 1 - i] * std::numbers::pi / 2);
    }
    return f;
}

Vector NasProxy(const NasDomain& domain, const Vector& x) {
    const arch::Point p = domain.Decode(x);
    const arch::CostReport cost = domain.Cost(x);
    const double c = 0.5 * std::log(static_cast<double>(std::max<int64_t>(cost.params, 1))) +
                     0.5 * std::log(static_cast<double>(std::max<int64_t>(cost.macs, 1)));
    const double lr = std::log10(p.learning_rate) + 2.5;
    const double error = 0.04 + 0.8 / (1.0 + std::exp((c - 10.5) / 0.8)) + 0.2 * lr * lr +
                         0.01 * (4.0 - static_cast<double>(p.blocks.size()));
    return {error, static_cast<double>(cost.flash_bytes), static_cast<double>(cost.sram_bytes)};
}

}  // namespace

Problem MakeProblem(std::string_view name) {
    Problem p;
    p.name = std::string(name);
    if (name == "zdt1") {
        p.domain = std::make_shared<BoxDomain>(30, 2);
        p.evaluate = Zdt1;
        p.objective_names = {"f1", "f2"};
        // f1 in [0, 1], f2 in [0, 10] (g <= 10): the reference point (1.1, 11).
        p.bounds = {{0.0, 0.0}, {1.0, 10.0}};
    } else if (name == "zdt3") {
        p.domain = std::make_shared<BoxDomain>(30, 2);
        p.evaluate = Zdt3;
        p.objective_names = {"f1", "f2"};
        // f1 in [0, 1]; f2 in [-1, 10]: at most g <= 10, at least the front's
        // minimum, -0.773, rounded down. The reference point: (1.1, 11.1).
        p.bounds = {{0.0, -1.0}, {1.0, 10.0}};
    } else if (name == "dtlz7") {
        p.domain = std::make_shared<BoxDomain>(22, 3);
        p.evaluate = [](const Vector& x) { return Dtlz7(x, 3); };
        p.objective_names = {"f1", "f2", "f3"};
        // f1, f2 in [0, 1]; f3 in [0, 6]: the front's f3 lies in [2.61, 6].
        // The reference point: (1.1, 1.1, 6.6).
        p.bounds = {{0.0, 0.0, 0.0}, {1.0, 1.0, 6.0}};
    } else if (name == "dtlz2") {
        p.domain = std::make_shared<BoxDomain>(12, 3);
        p.evaluate = [](const Vector& x) { return Dtlz2(x, 3); };
        p.objective_names = {"f1", "f2", "f3"};
        // The true front: the unit sphere's positive orthant, so the reference
        // point is the customary (1.1, 1.1, 1.1).
        p.bounds = {{0.0, 0.0, 0.0}, {1.0, 1.0, 1.0}};
    } else if (name == "nas-proxy") {
        auto domain = std::make_shared<NasDomain>(
            arch::SearchSpace{},
            std::vector<NasObjective>{NasObjective::kError, NasObjective::kFlashBytes,
                                      NasObjective::kSramBytes});
        p.domain = domain;
        p.evaluate = [domain](const Vector& x) { return NasProxy(*domain, x); };
        p.objective_names = {"error", "flash_bytes", "sram_bytes"};
        // The ideal and nadir of the front of a fixed random sample of the space.
        std::vector<Vector> ys;
        Rng rng(12345);
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        for (int i = 0; i < 4000; ++i) {
            Vector u(static_cast<size_t>(domain->dimension()));
            for (double& v : u) v = unit(rng);
            const Vector x = domain->Canonicalize(u);
            if (domain->Assess(x).feasible) ys.push_back(NasProxy(*domain, x));
        }
        std::vector<Vector> front;
        for (int k : NonDominatedIndices(ys)) front.push_back(ys[static_cast<size_t>(k)]);
        p.bounds = BoundsOf(front);
    } else {
        throw InvalidArgument("unknown problem '" + std::string(name) +
                                  "' (expected zdt1, zdt3, dtlz2, dtlz7 or nas-proxy)",
                              "problem");
    }
    return p;
}

double NormalizedHypervolume(const Problem& problem, const std::vector<Vector>& ys, size_t count) {
    std::vector<Vector> first(ys.begin(),
                              ys.begin() + static_cast<std::ptrdiff_t>(std::min(count, ys.size())));
    const Vector reference(problem.bounds.ideal.size(), 1.1);
    return Hypervolume(Normalize(first, problem.bounds), reference);
}

}  // namespace hilnas::optimizer::bench
