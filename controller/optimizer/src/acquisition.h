// The pieces of mobo's acquisition that are worth testing on their own (not
// part of the public API): random weights, the two scalarisations, the
// optimistic value of a learnt objective, and the probability of feasibility
// that weighs the score. Every objective is minimised; scores are minimised.
#pragma once

#include <random>

#include "hilnas/optimizer/matrix.h"
#include "hilnas/optimizer/optimizer.h"

namespace hilnas::optimizer::internal {

// Weights for one suggestion, positive and summing to 1: uniform on the
// simplex (kChebyshev) or with a direction uniform on the positive orthant of
// the sphere (kHypervolume), as each scalarisation's theory asks.
Vector SampleWeights(int objectives, Scalarisation scalarisation, Rng& rng);

// The optimistic value of a learnt objective (minimised): the lower
// confidence bound mean - kappa * sd.
double LowerConfidenceBound(double mean, double variance, double kappa);

// The probability that a learnt constraint (posterior mean and variance)
// holds, i.e. that its value is <= 0.
double ProbabilityOfFeasibility(double mean, double variance);

// One suggestion's view of the objectives: objective vectors y are normalised,
// z = (y - ideal) / range (0 the best value observed, 1 the worst), then
// scalarised with `weights`.
struct Scalariser {
    Scalarisation kind = Scalarisation::kChebyshev;
    Vector weights;    // positive, summing to 1
    Vector ideal;      // per objective
    Vector range;      // per objective, positive
    Vector reference;  // normalised; kHypervolume and kHypervolumeImprovement
    // Normalised objective vectors of the front (observed, then the batch's
    // earlier picks at their predicted values); kHypervolumeImprovement only.
    std::vector<Vector> front;
    double rho = 0.05;
    // What an improvement is measured from (see Score).
    double baseline = 0.0;

    // The scalarised value of y, lower is better.
    //   kChebyshev    max_i w_i z_i + rho sum_i w_i z_i (Paria et al. 2019; ParEGO).
    //   kHypervolume  max_i (z_i - r_i) / w_i: negative inside the box below the
    //                 reference point r; (-value)^m averaged over directions w is
    //                 the hypervolume y dominates (Golovin & Zhang 2020).
    //   kHypervolumeImprovement  minus the hypervolume z adds to the front
    //                 (SMS-EGO, Ponweiser et al. 2008); for a z that adds none,
    //                 the distance it lacks to a non-dominated place,
    //                 min over front members q of max_i (z_i - q_i), >= 0.
    //                 The weights are not used.
    double Value(const double* y) const;

    // The acquisition score of a candidate (lower is better): y its optimistic
    // objective vector, `feasibility` the probability that every learnt
    // constraint holds. The improvement is baseline - Value(y); improving
    // candidates score -improvement * feasibility, the others
    // -improvement / feasibility, after every improving one. With
    // feasibility 1 the order is that of Value(y).
    double Score(const double* y, double feasibility) const;
};

}  // namespace hilnas::optimizer::internal
