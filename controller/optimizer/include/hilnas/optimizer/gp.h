// Gaussian-process regression for Bayesian optimisation.
//
// Kernel: Matérn-5/2 with one length scale per input (ARD), inputs in the unit
// cube, a signal variance and a Gaussian noise variance. Targets are
// standardised (zero mean, unit variance) before fitting; predictions are on
// the original scale. Hyperparameters are fitted by maximising the log
// marginal likelihood (optionally plus weak log-normal priors, which keep
// fits on a handful of points sane) with Adam over log-parameters from
// several starts. The covariance is factorised by Cholesky with jitter.
//
// Pending evaluations enter as fantasies (the "Kriging believer": the fantasy
// value is the posterior mean, so the mean is unchanged and the variance
// shrinks around the fantasy); each fantasy costs O(n^2) with a rank-one
// extension of the Cholesky factor.
#pragma once

#include <random>
#include <vector>

#include "hilnas/optimizer/matrix.h"

namespace hilnas::optimizer {

struct GpHyperparameters {
    Vector log_lengthscales;           // one per input
    double log_signal_variance = 0.0;  // of the standardised targets
    double log_noise_variance = -4.0;  // of the standardised targets

    int dimension() const { return static_cast<int>(log_lengthscales.size()); }
};

struct GpFitOptions {
    int restarts = 3;            // starts: the prior's centre, then random draws
    int iterations = 80;         // Adam steps per start
    double learning_rate = 0.1;  // Adam step on log-parameters
    int max_points = 100;        // fit on a random subset beyond this many points
    bool use_priors = true;      // add weak log-normal priors to the likelihood
};

// The default starting hyperparameters for dimension d: every length scale at
// the centre of the dimension-scaled prior (about 0.2 sqrt(d)), unit signal
// variance, noise variance e^-4 (standardised).
GpHyperparameters DefaultHyperparameters(int dimension);

class GaussianProcess {
  public:
    GaussianProcess() = default;
    // Conditions on n points (rows of x, in [0,1]^d) and targets y with the
    // given hyperparameters.
    GaussianProcess(Matrix x, const Vector& y, GpHyperparameters hyper);

    // Fits the hyperparameters (see the file comment), then conditions on all
    // points. `rng` draws the random starts and the fitting subset.
    static GaussianProcess Fit(const Matrix& x, const Vector& y, const GpFitOptions& options,
                               std::mt19937_64& rng);

    // Log marginal likelihood of the standardised targets under `hyper`, and
    // its gradient with respect to (log lengthscales..., log signal variance,
    // log noise variance) when `gradient` is not null.
    static double LogMarginalLikelihood(const Matrix& x, const Vector& y_standardised,
                                        const GpHyperparameters& hyper, Vector* gradient);
    // The same for this process's own data and hyperparameters.
    double LogMarginalLikelihood() const;

    // Posterior mean and latent variance (noise excluded) at the rows of xs,
    // on the original scale of y; fantasies included.
    void Predict(const Matrix& xs, Vector* mean, Vector* variance) const;

    // Adds a fantasy observation at x (Kriging believer).
    void AddFantasy(const Vector& x);

    // For a fixed candidate set: the state needed to update their variances
    // in O(n) per candidate when a fantasy is added.
    struct CandidateState {
        Matrix xs;        // candidates
        Vector mean;      // original scale
        Vector variance;  // original scale, latent
        // Column a is L^{-1} k(X, x_a) for candidate a: n rows for the training
        // points, then one row per fantasy.
        Matrix v;
    };
    CandidateState Candidates(const Matrix& xs) const;
    // Adds candidate `index` of `state` as a fantasy and updates every
    // candidate's variance in `state` (O(n) each). Other CandidateStates
    // become stale.
    void AddFantasyFromCandidate(CandidateState& state, int index);
    // Adds a fantasy at any x (O(n^2)) and updates `state` likewise.
    void AddFantasy(const Vector& x, CandidateState& state);
    // The posterior covariance (original scale, latent) between the
    // candidates `indices` of an up-to-date `state`.
    Matrix Covariance(const CandidateState& state, const std::vector<int>& indices) const;

    const GpHyperparameters& hyperparameters() const { return hyper_; }
    int size() const { return n_; }
    double y_mean() const { return y_mean_; }
    double y_scale() const { return y_scale_; }

  private:
    double Kernel(const double* a, const double* b) const;  // on scaled inputs
    void ScaleInto(const double* x, double* out) const;
    // L^{-1} k(X, x) over the training points and fantasies, for a scaled x.
    Vector SolveFor(const double* scaled_x) const;
    void AppendFantasy(const double* scaled_x, const Vector& v);
    void UpdateState(CandidateState& state, const double* scaled_x, const Vector& v) const;

    GpHyperparameters hyper_;
    int n_ = 0;  // training points (fantasies excluded)
    int d_ = 0;
    Matrix x_scaled_;  // training points then fantasies, divided by the length scales
    Matrix l_;         // Cholesky factor of the training points
    std::vector<Vector> fantasy_rows_;  // row n + j of the grown factor, diagonal last
    Vector alpha_;                      // K^{-1} y over the training points (standardised)
    Vector inv_lengthscale_;
    double signal_ = 1.0;
    double noise_ = 0.0;
    double y_mean_ = 0.0;
    double y_scale_ = 1.0;
    Vector y_standardised_;
};

}  // namespace hilnas::optimizer
