#include "search_util.h"

#include <cmath>

#include "hilnas/optimizer/quasi_random.h"

namespace hilnas::optimizer::internal {

Valid ValidObservations(const std::vector<Observation>& observed, int objectives) {
    Valid v;
    for (size_t i = 0; i < observed.size(); ++i) {
        const Observation& o = observed[i];
        bool ok = static_cast<int>(o.y.size()) == objectives;
        for (double y : o.y) ok = ok && std::isfinite(y);
        if (!ok) continue;
        v.index.push_back(static_cast<int>(i));
        v.x.push_back(o.x);
        v.y.push_back(o.y);
    }
    return v;
}

std::set<Vector> TakenPoints(const std::vector<Observation>& observed,
                             const std::vector<Vector>& pending) {
    std::set<Vector> taken(pending.begin(), pending.end());
    for (const Observation& o : observed) taken.insert(o.x);
    return taken;
}

bool Feasible(const Domain& domain, const Vector& x) { return domain.Assess(x).feasible; }

double Reflect(double v) {
    if (!std::isfinite(v)) return 0.5;
    v = std::fmod(std::abs(v), 2.0);
    return v > 1.0 ? 2.0 - v : v;
}

std::vector<Suggestion> Warmup(const Domain& domain, const OptimizerSettings& settings,
                               uint64_t start, int count, std::set<Vector>& taken, Rng& rng) {
    std::vector<Suggestion> out;
    const ScrambledHalton halton(domain.dimension(), settings.seed);
    const uint64_t limit = start + 200 * static_cast<uint64_t>(std::max(count, 1));
    for (uint64_t i = start; i < limit && static_cast<int>(out.size()) < count; ++i) {
        Vector x = domain.Canonicalize(halton.Point(i));
        if (taken.count(x) || !Feasible(domain, x)) continue;
        taken.insert(x);
        out.push_back(Suggestion{std::move(x), -1, "warmup", "", {}});
    }
    while (static_cast<int>(out.size()) < count) {
        Vector x = RandomFeasible(domain, taken, rng);
        if (x.empty()) break;
        taken.insert(x);
        out.push_back(Suggestion{std::move(x), -1, "random", "", {}});
    }
    return out;
}

Vector RandomFeasible(const Domain& domain, const std::set<Vector>& taken, Rng& rng, int tries) {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    Vector u(static_cast<size_t>(domain.dimension()));
    for (int t = 0; t < tries; ++t) {
        for (double& v : u) v = unit(rng);
        Vector x = domain.Canonicalize(u);
        if (!taken.count(x) && Feasible(domain, x)) return x;
    }
    return {};
}

}  // namespace hilnas::optimizer::internal
