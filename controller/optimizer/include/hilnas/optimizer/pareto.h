// Pareto dominance, non-dominated filtering and the hypervolume indicator.
// Every objective is minimised. A point dominates another when it is no worse
// in every objective and better in at least one; equal points do not dominate
// each other, so duplicates of a non-dominated point are all non-dominated.
#pragma once

#include <optional>
#include <vector>

#include "hilnas/optimizer/matrix.h"

namespace hilnas::optimizer {

bool Dominates(const Vector& a, const Vector& b);

// Indices (ascending) of the non-dominated points. All points have the same
// number of objectives m >= 1. O(n log n) for m <= 3, O(n * front * m) beyond.
std::vector<int> NonDominatedIndices(const std::vector<Vector>& points);

// Non-dominated sorting: rank[i] = 0 for the first front, 1 for the next, ...
std::vector<int> NonDominatedRanks(const std::vector<Vector>& points);

// The hypervolume dominated by `points` and bounded by `reference`: the
// measure of {z : z <= reference and some point p <= z}. Points not strictly
// better than the reference in every objective contribute nothing. Exact:
// a sweep for m = 2, the HV3D sweep with a balanced tree for m = 3 (both
// O(n log n)), and dimension slicing down to HV3D for m >= 4
// (O(n^(m-2) log n); intended for m <= 5 and fronts of a few hundred points).
double Hypervolume(const std::vector<Vector>& points, const Vector& reference);

// How much `point` would add to the hypervolume of `front` (bounded by
// `reference`): the volume it dominates that no front member does. 0 when a
// front member dominates or equals it, or when it is not strictly better than
// the reference in every objective.
double HypervolumeImprovement(const Vector& point, const std::vector<Vector>& front,
                              const Vector& reference);

// Per-objective bounds used to normalise objectives to [0, 1].
struct ObjectiveBounds {
    Vector ideal;  // per-objective minimum
    Vector nadir;  // per-objective maximum
};

// The bounds of a set: ideal = minimum, nadir = maximum over `points`.
ObjectiveBounds BoundsOf(const std::vector<Vector>& points);

// (y - ideal) / (nadir - ideal) per objective; a zero range divides by 1.
Vector Normalize(const Vector& y, const ObjectiveBounds& bounds);
std::vector<Vector> Normalize(const std::vector<Vector>& ys, const ObjectiveBounds& bounds);

// The reference point rule: `spec` when given; otherwise the nadir of the
// non-dominated points of `points` plus 10% of their range (ideal to nadir)
// per objective (plus 10% of max(|nadir|, 1) where the range is zero).
Vector ReferencePoint(const std::vector<Vector>& points, const std::optional<Vector>& spec = {});

}  // namespace hilnas::optimizer
