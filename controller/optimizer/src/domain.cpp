#include "hilnas/optimizer/domain.h"

#include <algorithm>
#include <cmath>

#include "hilnas/common/errors.h"
#include "search_util.h"

namespace hilnas::optimizer {

std::vector<bool> Domain::known_objectives() const {
    return std::vector<bool>(static_cast<size_t>(num_objectives()), false);
}

Vector Domain::Canonicalize(const Vector& u) const {
    Vector x = u;
    for (double& v : x) v = std::isfinite(v) ? std::clamp(v, 0.0, 1.0) : 0.5;
    return x;
}

Vector Domain::Mutate(const Vector& x, Rng& rng) const {
    static constexpr double kScales[] = {0.01, 0.03, 0.1, 0.3};
    std::uniform_int_distribution<int> pick_scale(0, 3);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::normal_distribution<double> normal(0.0, 1.0);
    const int d = static_cast<int>(x.size());
    for (int attempt = 0; attempt < 16; ++attempt) {
        Vector y = x;
        const double scale = kScales[pick_scale(rng)];
        if (unit(rng) < 0.5) {
            // A few coordinates: moves that matter in high dimension.
            std::uniform_int_distribution<int> pick_dim(0, d - 1);
            const int count = 1 + static_cast<int>(unit(rng) * std::min(d, 3));
            for (int k = 0; k < count; ++k) {
                y[static_cast<size_t>(pick_dim(rng))] += 3.0 * scale * normal(rng);
            }
        } else {
            for (double& v : y) v += scale * normal(rng);
        }
        for (double& v : y) v = internal::Reflect(v);
        y = Canonicalize(y);
        if (y != x) return y;
    }
    Vector y(x.size());
    for (double& v : y) v = unit(rng);
    return Canonicalize(y);
}

std::optional<Morphism> Domain::Morph(const Vector& /*x*/, Rng& /*rng*/) const {
    return std::nullopt;
}

Assessment Domain::Assess(const Vector& /*x*/) const {
    Assessment a;
    a.known.assign(static_cast<size_t>(num_objectives()), NAN);
    return a;
}

BoxDomain::BoxDomain(int dimension, int objectives)
    : dimension_(dimension), objectives_(objectives) {
    if (dimension < 1) throw InvalidArgument("domain: dimension must be >= 1");
    if (objectives < 1) throw InvalidArgument("domain: objectives must be >= 1");
}

}  // namespace hilnas::optimizer
