// Benchmark problems for the optimisers (all objectives minimised).
//
//   zdt1       ZDT1 (Zitzler, Deb & Thiele 2000), 30 variables, 2 objectives.
//   zdt3       ZDT3 (ibid.), 30 variables, 2 objectives: a front of five
//              disconnected pieces.
//   dtlz2      DTLZ2 (Deb et al. 2002), 3 objectives, 12 variables (k = 10).
//   dtlz7      DTLZ7 (Deb et al. 2005), 3 objectives, 22 variables (k = 20): a
//              front of four disconnected pieces.
//   nas-proxy  the default arch::SearchSpace with objectives (error proxy,
//              flash_bytes, sram_bytes). The error is NOT a trained network's:
//              it is a smooth, noise-free synthetic function of capacity,
//                c = 0.5 ln(params) + 0.5 ln(MACs),
//                error = 0.04 + 0.8 / (1 + exp((c - 10.5) / 0.8))
//                        + 0.2 (log10(learning_rate) + 2.5)^2 + 0.01 (4 - blocks),
//              so that it falls with capacity while flash and SRAM (exact, from
//              arch::ComputeCost) rise. Flash and SRAM are known objectives
//              of the domain; the error must be learnt.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hilnas/optimizer/domain.h"
#include "hilnas/optimizer/pareto.h"

namespace hilnas::optimizer::bench {

struct Problem {
    std::string name;
    std::shared_ptr<const Domain> domain;
    std::function<Vector(const Vector&)> evaluate;  // canonical x -> objectives
    std::vector<std::string> objective_names;
    // The problem's objective bounds: hypervolumes are computed on objectives
    // normalised by these, with the reference point 1.1 in every objective
    // (nadir + 10% of the range). zdt1: f1 in [0, 1], f2 in [0, 10] (its
    // range over the domain); zdt3: f1 in [0, 1], f2 in [-1, 10]; dtlz2: the
    // true front's, [0, 1]^3; dtlz7: f1, f2 in [0, 1], f3 in [0, 6]; nas-proxy:
    // the ideal and nadir of the front of 4,000 random feasible points.
    ObjectiveBounds bounds;
};

// "zdt1", "zdt3", "dtlz2", "dtlz7" or "nas-proxy"; throws InvalidArgument otherwise.
Problem MakeProblem(std::string_view name);

// The normalised hypervolume of the first `count` rows of `ys`.
double NormalizedHypervolume(const Problem& problem, const std::vector<Vector>& ys, size_t count);

}  // namespace hilnas::optimizer::bench
