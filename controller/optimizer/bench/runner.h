// One optimisation run of the bench: an optimiser (ours, in process, or a peer
// over the ask/tell protocol) against a black box, for a number of evaluations.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "hilnas/optimizer/optimizer.h"
#include "problems.h"

namespace hilnas::optimizer::bench {

struct Run {
    std::vector<Observation> observed;  // in evaluation order
    std::vector<Suggestion> suggestions;
    std::vector<int> round;  // the Suggest call each evaluation came from
    double seconds = 0;      // wall time of the whole run
};

// The settings of a bench run: the defaults with `seed`, then `overrides`
// ("name=value", see ApplyOverride) applied in order.
OptimizerSettings BenchSettings(int seed, const std::vector<std::string>& overrides);
// Sets one named field of `settings` from "name=value"; throws InvalidArgument
// for an unknown name or a value that is not a number. Names: warmup, kappa,
// rho, random_candidates, local_candidates, max_gp_points, scalarisation
// (0 Chebyshev, 1 hypervolume, 2 hypervolume improvement, 3 staged),
// chebyshev_per_dimension, thompson (0/1), restarts, iterations, fit_points,
// priors (0/1).
void ApplyOverride(OptimizerSettings& settings, const std::string& assignment);

// The random stream a bench run hands to Suggest: a pure function of the seed,
// so that the same seed gives the same run in every mode (stdio included).
Rng BenchRng(int seed);

// Answers a round of points: one Observation per point, x included.
using Evaluator = std::function<std::vector<Observation>(const std::vector<Vector>& points)>;

// Runs `algorithm` on `domain` until `evals` evaluations (or until it has no
// new point): rounds of up to `batch` suggestions, each round answered by
// `evaluate` before the next Suggest.
Run RunOptimizer(std::shared_ptr<const Domain> domain, const std::string& algorithm, int evals,
                 int batch, int seed, const std::vector<std::string>& overrides,
                 const Evaluator& evaluate);

// The objective vectors of `problem` for an optimiser run in process.
Run RunOnProblem(const Problem& problem, const std::string& algorithm, int evals, int batch,
                 int seed, const std::vector<std::string>& overrides);

// Runs a peer process (argv) that speaks the ask/tell protocol on `problem`
// for `evals` evaluations; the peer's points are canonicalised by the
// problem's domain before they are evaluated. Throws Unavailable when the
// peer cannot be started or ends early.
Run RunPeer(const Problem& problem, const std::vector<std::string>& argv, int evals);

std::vector<Vector> Objectives(const Run& run);

}  // namespace hilnas::optimizer::bench
