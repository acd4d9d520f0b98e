// What an optimiser needs to know about the space it searches, independent of
// what the points mean: the NAS search space and the synthetic benchmark
// problems implement the same interface.
//
// Points are vectors in [0, 1]^d. Several vectors may stand for the same
// candidate (genes that do not apply, rounding of choices); Canonicalize
// picks one, and optimisers only hand out canonical points, so that equal
// candidates compare equal.
#pragma once

#include <any>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "hilnas/optimizer/matrix.h"

namespace hilnas::optimizer {

using Rng = std::mt19937_64;

// A point derived from a parent by a function-preserving change (a network
// morphism): the child can start from the parent's weights.
struct Morphism {
    Vector child;           // canonical
    std::string operation;  // e.g. "widen b1"
    std::any detail;        // domain-specific (NasDomain: hilnas::arch::Morphed)
};

// What the cost model knows about a point before it is evaluated.
struct Assessment {
    bool feasible = true;
    // One entry per objective: the exact value where the domain computes it
    // (e.g. flash bytes), NaN where it must be learnt from evaluations.
    Vector known;
    // Extra GP inputs in [0, 1] that the domain computes exactly and that are
    // expected to explain the learnt objectives (NasDomain: log parameter
    // count and log MACs); the same length for every point, possibly empty.
    Vector features;
};

class Domain {
  public:
    virtual ~Domain() = default;

    virtual int dimension() const = 0;
    virtual int num_objectives() const = 0;
    // Per objective: true when Assess computes it exactly (never NaN there).
    virtual std::vector<bool> known_objectives() const;

    // The canonical form of u (entries outside [0, 1] are clamped first).
    // Default: the clamped vector.
    virtual Vector Canonicalize(const Vector& u) const;

    // One random local change of the canonical point x, canonical and (where
    // possible) different from x. Default: a Gaussian perturbation of a few
    // coordinates or of all of them, at a random scale, then Canonicalize.
    virtual Vector Mutate(const Vector& x, Rng& rng) const;

    // A random morphism of x, or nullopt when the domain has none or none fits.
    // Default: nullopt.
    virtual std::optional<Morphism> Morph(const Vector& x, Rng& rng) const;

    // Feasibility and known objectives of the canonical point x. Default:
    // feasible, every objective learnt.
    virtual Assessment Assess(const Vector& x) const;
};

// The unit cube with `objectives` learnt objectives and no constraints: the
// synthetic benchmark problems.
class BoxDomain : public Domain {
  public:
    BoxDomain(int dimension, int objectives);
    int dimension() const override { return dimension_; }
    int num_objectives() const override { return objectives_; }

  private:
    int dimension_;
    int objectives_;
};

}  // namespace hilnas::optimizer
