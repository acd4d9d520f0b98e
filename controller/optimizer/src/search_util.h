// Helpers shared by the optimisers (not part of the public API).
#pragma once

#include <set>
#include <vector>

#include "hilnas/optimizer/domain.h"
#include "hilnas/optimizer/optimizer.h"

namespace hilnas::optimizer::internal {

// Observed points whose objective vectors are complete and finite.
struct Valid {
    std::vector<int> index;  // into `observed`
    std::vector<Vector> x;
    std::vector<Vector> y;
};
Valid ValidObservations(const std::vector<Observation>& observed, int objectives);

// Every point that must not be suggested again.
std::set<Vector> TakenPoints(const std::vector<Observation>& observed,
                             const std::vector<Vector>& pending);

// Up to `count` warm-up suggestions: the scrambled Halton sequence of
// `settings.seed` from index `start`, canonical, feasible and not taken
// (added to `taken`); uniform random points when the sequence runs dry.
std::vector<Suggestion> Warmup(const Domain& domain, const OptimizerSettings& settings,
                               uint64_t start, int count, std::set<Vector>& taken, Rng& rng);

// One uniform random canonical feasible point not taken, or an empty vector
// after `tries` attempts.
Vector RandomFeasible(const Domain& domain, const std::set<Vector>& taken, Rng& rng,
                      int tries = 1000);

bool Feasible(const Domain& domain, const Vector& x);

// v folded back into [0, 1] at the bounds, as a mirror does: a step past a
// bound lands inside, not on the bound (clamping piles points on the faces of
// the cube, which on DTLZ-like problems are degenerate corners of the front).
// Non-finite values map to 0.5.
double Reflect(double v);

}  // namespace hilnas::optimizer::internal
