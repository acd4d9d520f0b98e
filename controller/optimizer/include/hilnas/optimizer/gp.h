// Gaussian-process regression for Bayesian optimisation.
//
// Kernel: Matérn-5/2 with one length scale per input (ARD), inputs in the unit
// cube, a signal variance and a Gaussian noise variance; optionally plus a
// first-order part: an additive kernel (Duvenaud et al. 2011),
// s_a / d * sum_j k_1(x_j, x'_j) with one-dimensional Matérn-5/2 terms of a
// shared length scale, and a linear kernel, s_l / d * (x - 1/2).(x' - 1/2).
// The first-order part learns the main effect of every input from all the
// points at once, which a joint kernel on a few dozen points in ten or more
// dimensions cannot (DTLZ2's distance variables), and its linear term carries
// a trend beyond the data instead of reverting to the mean. Targets are
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
    // The first-order part, when `additive`: the additive kernel's variance
    // (standardised) and the length scale of its one-dimensional terms, and
    // the linear kernel's variance.
    bool additive = false;
    double log_additive_variance = -0.7;
    double log_additive_lengthscale = -1.0;
    double log_linear_variance = -1.4;

    int dimension() const { return static_cast<int>(log_lengthscales.size()); }
};

struct GpFitOptions {
    int restarts = 3;            // starts: the prior's centre, then random draws
    int iterations = 80;         // Adam steps per start
    double learning_rate = 0.1;  // Adam step on log-parameters
    int max_points = 100;        // fit on a random subset beyond this many points
    bool use_priors = true;      // add weak log-normal priors to the likelihood
    bool additive = true;        // with the first-order part (see the file comment)
};

// The default starting hyperparameters for dimension d: every length scale at
// the centre of the dimension-scaled prior (about 0.2 sqrt(d)), unit signal
// variance, noise variance e^-4 (standardised). With `additive`, the variance
// is split evenly between the joint and the additive part, whose length scale
// starts at e^-1.
GpHyperparameters DefaultHyperparameters(int dimension, bool additive = false);

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
    // One fit per target vector on the same inputs, exactly as many calls of
    // Fit in order would give (the same draws from `rng`, the same result),
    // with the restarts of all of them run in parallel.
    static std::vector<GaussianProcess> FitAll(const Matrix& x, const std::vector<Vector>& ys,
                                               const GpFitOptions& options, std::mt19937_64& rng);

    // Log marginal likelihood of the standardised targets under `hyper`, and
    // its gradient with respect to (log lengthscales..., log signal variance,
    // log noise variance[, log additive variance, log additive length scale,
    // log linear variance]) when `gradient` is not null.
    static double LogMarginalLikelihood(const Matrix& x, const Vector& y_standardised,
                                        const GpHyperparameters& hyper, Vector* gradient);
    // The same for this process's own data and hyperparameters.
    double LogMarginalLikelihood() const;

    // Posterior mean and latent variance (noise excluded) at the rows of xs,
    // on the original scale of y; fantasies included.
    void Predict(const Matrix& xs, Vector* mean, Vector* variance) const;
    // The same, plus the posterior variance of the first-order part alone
    // (equal to the full variance without one): how much is unknown about the
    // main effects at xs, as opposed to their interactions. `variance` may be
    // null, which saves half the work when there is a first-order part.
    void Predict(const Matrix& xs, Vector* mean, Vector* variance,
                 Vector* first_order_variance) const;

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
        // With the first-order part: the posterior variance of that part alone
        // (original scale), and its L^{-1} k_1(X, x_a) columns.
        Vector first_order_variance;
        Matrix first_order_v;
    };
    CandidateState Candidates(const Matrix& xs) const;
    // Without the full variance (and `v`): mean and first-order variance only.
    CandidateState FirstOrderCandidates(const Matrix& xs) const;
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
    // On scaled rows: x / lengthscales, then (first-order part) x / additive
    // length scale and x - 1/2.
    double Kernel(const double* a, const double* b) const;
    double FirstOrderKernel(const double* a, const double* b) const;  // that part alone
    void ScaleInto(const double* x, double* out) const;
    int Width() const { return hyper_.additive ? 3 * d_ : d_; }  // of a scaled row
    // L^{-1} k(X, x) over the training points and fantasies, for a scaled x.
    Vector SolveFor(const double* scaled_x) const;
    void AppendFantasy(const double* scaled_x, const Vector& v);
    void UpdateState(CandidateState& state, const double* scaled_x, const Vector& v) const;
    CandidateState Evaluate(const Matrix& xs, bool full_variance) const;

    GpHyperparameters hyper_;
    int n_ = 0;  // training points (fantasies excluded)
    int d_ = 0;
    Matrix x_scaled_;                   // training points then fantasies, scaled rows (see Kernel)
    Matrix l_;                          // Cholesky factor of the training points
    std::vector<Vector> fantasy_rows_;  // row n + j of the grown factor, diagonal last
    Vector alpha_;                      // K^{-1} y over the training points (standardised)
    Vector inv_lengthscale_;
    double inv_additive_lengthscale_ = 1.0;
    double signal_ = 1.0;
    double additive_ = 0.0;  // the additive part's variance, per input: s_a / d
    double linear_ = 0.0;    // the linear part's variance, per input: s_l / d
    double noise_ = 0.0;
    double y_mean_ = 0.0;
    double y_scale_ = 1.0;
    Vector y_standardised_;
};

}  // namespace hilnas::optimizer
