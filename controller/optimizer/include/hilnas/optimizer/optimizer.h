// The search strategy of a job: given everything observed so far and the
// trials still pending, suggest the next batch of points.
//
// Optimisers are stateless between calls: a restarted controller rebuilds the
// same behaviour by calling Suggest with the observations from the database.
// A call is a pure function of (settings, domain, batch, observed, pending,
// rng state). Every suggested point is canonical, feasible, in [0, 1]^d, and
// differs from every observed point, every pending point and every other
// suggestion of the batch. Every objective is minimised.
//
//   random  uniform random feasible points.
//   nsga2   NSGA-II (Deb et al. 2002): the parent population is rebuilt from the
//           observations by non-dominated sorting and crowding distance; the
//           batch is offspring by binary tournament, SBX and polynomial
//           mutation in [0, 1]^d, then canonicalised.
//   mobo    multi-objective BO with random scalarisations (Paria et al. 2019)
//           as SpArSe uses it: an independent GP per learnt objective, exact
//           values for the objectives the domain knows; per suggestion,
//           random weights and a Chebyshev scalarisation (see Scalarisation)
//           minimised under a lower confidence bound (UCB for
//           minimisation) or a Thompson sample over a pool of quasi-random
//           points plus mutations and morphisms of the observed front;
//           pending trials and earlier picks of the batch enter as fantasies.
//           Later rounds favour morphisms of front members (weights reused).
// All three start with the same scrambled-Halton warm-up (settings.seed).
#pragma once

#include <any>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hilnas/optimizer/domain.h"
#include "hilnas/optimizer/gp.h"

namespace hilnas::optimizer {

struct Observation {
    Vector x;  // canonical point
    Vector y;  // one value per objective; any NaN marks a failed evaluation
    // Measured constraints, each satisfied when <= 0 (e.g. latency / limit - 1):
    // the same order in every observation, empty or NaN where not measured.
    // mobo models each and weighs its acquisition by the probability that all
    // hold; a trial that breaks one still teaches the objective models, but
    // never counts towards the front. random and nsga2 ignore them.
    Vector constraints = {};
};

struct Suggestion {
    Vector x;  // canonical, feasible
    // For a morphism: the index in `observed` of the parent (its weights can be
    // reused); -1 otherwise.
    int parent = -1;
    std::string source;     // "warmup", "random", "nsga2", "mutation", "morphism", "pool"
    std::string operation;  // the morphism, e.g. "widen b1"; empty otherwise
    std::any detail;        // the Morphism's detail (NasDomain: arch::Morphed)
};

enum class Acquisition { kUcb, kThompson };

// How a weight vector turns objectives (normalised by the observed ranges)
// into one number to minimise. Both are Chebyshev (max over objectives of
// weighted distances):
//   kChebyshev    Paria et al.: max_i w_i (z_i - ideal_i) + rho sum_i w_i (z_i - ideal_i),
//                 w uniform on the simplex.
//   kHypervolume  Golovin & Zhang (2020): max_i (z_i - r_i) / w_i, anchored at the
//                 reference point r (the observed front's nadir + 10% of its
//                 range), w's direction uniform on the sphere (rescaled onto the
//                 simplex). Its expectation over w is the hypervolume, and
//                 points beyond the reference score worse than any inside.
//   kHypervolumeImprovement  no weights: the hypervolume the candidate's
//                optimistic objective vector adds to the observed front (with
//                the batch's earlier picks at their predicted values).
//   kStaged      while there are fewer observations than chebyshev_per_dimension
//                per input, each suggestion draws kChebyshev with a probability
//                equal to the share of the objectives that are learnt (1 when
//                the domain knows none exactly; no draw is made then), else
//                kHypervolume; after that, kHypervolume. Chosen by measurement
//                (the optimiser benchmark, 5 seeds): anchored at the ideal
//                point, Chebyshev pulls the first rounds towards the front
//                (DTLZ2, ZDT1 and ZDT3 with 12 to 30 inputs: up to 1.7x the
//                hypervolume at 50 evaluations); the hypervolume one then
//                spreads along it (DTLZ2 at 100); with cost objectives known
//                exactly (nas-proxy), a mixture beats each alone.
enum class Scalarisation { kChebyshev, kHypervolume, kHypervolumeImprovement, kStaged };

struct OptimizerSettings {
    uint64_t seed = 0;  // the warm-up sequence (fixed per job)
    int warmup = 10;    // quasi-random points before any model is used

    // NSGA-II.
    int population = 20;
    double crossover_probability = 0.9;
    double sbx_eta = 15.0;
    double mutation_eta = 20.0;

    // MOBO.
    Acquisition acquisition = Acquisition::kUcb;
    Scalarisation scalarisation = Scalarisation::kStaged;
    double ucb_kappa = 1.5;                // LCB = mean - kappa * sd on each learnt objective
    double chebyshev_rho = 0.05;           // augmentation: max_i w_i z_i + rho sum_i w_i z_i
    double chebyshev_per_dimension = 4.0;  // kStaged: Chebyshev's share of the history, per input
    int random_candidates = 2000;          // quasi-random part of the pool
    int local_candidates = 1000;           // mutations and morphisms of the front
    int min_parents = 5;      // the front is topped up with the next ranks to this size
    int max_gp_points = 200;  // GPs condition on at most this many observations
    // Observations with figures after which morphisms are favoured; 0: from
    // the first round that uses the models (after the warm-up), so that a
    // job of the default length (20 trials, 10 of warm-up) has them.
    int morph_after = 0;
    double morph_tolerance = 0.02;  // a morphism within this score of the best wins
    int thompson_candidates = 256;  // Thompson sampling: joint sample over this many
    GpFitOptions fit;
};

class Optimizer {
  public:
    virtual ~Optimizer() = default;
    virtual std::string_view name() const = 0;
    // Up to `batch` suggestions (fewer only when no new feasible point can be
    // found). `observed[i].x` and `pending[j]` are canonical points.
    virtual std::vector<Suggestion> Suggest(int batch, const std::vector<Observation>& observed,
                                            const std::vector<Vector>& pending, Rng& rng) = 0;
};

// "random", "nsga2" or "mobo"; throws InvalidArgument for any other name.
std::unique_ptr<Optimizer> MakeOptimizer(std::string_view name,
                                         std::shared_ptr<const Domain> domain,
                                         const OptimizerSettings& settings = {});

}  // namespace hilnas::optimizer
