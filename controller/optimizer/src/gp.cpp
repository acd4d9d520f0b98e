#include "hilnas/optimizer/gp.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numbers>
#include <numeric>

#include "hilnas/common/errors.h"
#include "parallel.h"

namespace hilnas::optimizer {

namespace {

constexpr double kSqrt5 = 2.23606797749979;
// Bounds on the log-parameters (inputs in the unit cube, standardised targets).
constexpr double kMinLogLengthscale = -4.6;  // 0.01
constexpr double kMaxLogLengthscale = 4.6;   // 100
constexpr double kMinLogSignal = -4.6;
constexpr double kMaxLogSignal = 4.6;
constexpr double kMinLogNoise = -13.8;  // 1e-6
constexpr double kMaxLogNoise = 0.0;
// Weak priors. Length scales: the dimension-scaled log-normal of Hvarfner et
// al. (2024), as a Gaussian on the log length scale centred at its log-space
// mode, sqrt(2) - 3 + log(sqrt(d)), with standard deviation sqrt(3).
constexpr double kLengthscalePriorSd = 1.7320508075688772;
constexpr double kSignalPriorMean = 0.0;
constexpr double kSignalPriorSd = 1.5;
constexpr double kNoisePriorMean = -4.0;
constexpr double kNoisePriorSd = 1.0;
// The additive part: its length scale between 0.02 and 5 (a main effect on
// [0, 1] is a curve, not a wiggle), its prior centred at e^-1, and half the
// variance at the start.
constexpr double kMinLogAdditiveLengthscale = -4.0;
constexpr double kMaxLogAdditiveLengthscale = 1.6;
constexpr double kAdditiveLengthscalePriorMean = -1.0;
constexpr double kAdditiveLengthscalePriorSd = 0.75;
constexpr double kHalf = -0.6931471805599453;  // log 0.5
constexpr double kLinearPriorMean = -1.4;      // log 0.25

double LengthscalePriorMean(int d) {
    return std::numbers::sqrt2 - 3.0 + 0.5 * std::log(static_cast<double>(std::max(d, 1)));
}

// e^x for x in [-700, 0], to about 2e-16 relative, without a library call:
// the additive part's one-dimensional terms spend most of the GP's time here,
// and a branch-free inline form lets the compiler vectorise the loops over
// points. Its callers stay far inside the range: |x_j - x'_j| <= 1 over a
// length scale of at least e^-4 gives x >= -123.
inline double NegExp(double x) {
    constexpr double kLog2e = 1.4426950408889634;
    constexpr double kLn2Hi = 0.6931471803691238;  // ln 2 split for an exact reduction
    constexpr double kLn2Lo = 1.9082149292705877e-10;
    // Round to nearest by the 1.5 * 2^52 trick: the low bits of t hold k, so
    // neither rounding nor 2^k needs a conversion (the loops stay vectorised).
    constexpr double kRound = 6755399441055744.0;
    const double t = x * kLog2e + kRound;
    const double k = t - kRound;
    const double r = (x - k * kLn2Hi) - k * kLn2Lo;  // |r| <= ln 2 / 2
    // Taylor to r^13 / 13!: the remainder is below 1e-16 for |r| <= 0.35.
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    // 2^k through the exponent bits (k in [-1010, 0]).
    int64_t t_bits;
    int64_t round_bits;
    std::memcpy(&t_bits, &t, sizeof t_bits);
    std::memcpy(&round_bits, &kRound, sizeof round_bits);
    const int64_t bits = (t_bits - round_bits + 1023) << 52;
    double scale;
    std::memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

// Matérn-5/2 as a function of the squared scaled distance, without the signal variance.
inline double Matern52(double r2) {
    const double r = std::sqrt(r2);
    return (1.0 + kSqrt5 * r + (5.0 / 3.0) * r2) * std::exp(-kSqrt5 * r);
}

inline double SquaredDistance(const double* a, const double* b, int d) {
    double s = 0.0;
    for (int k = 0; k < d; ++k) {
        const double t = a[k] - b[k];
        s += t * t;
    }
    return s;
}

void Standardise(const Vector& y, double* mean, double* scale, Vector* out) {
    const double n = static_cast<double>(y.size());
    double m = 0.0;
    for (double v : y) m += v;
    m /= n;
    double var = 0.0;
    for (double v : y) var += (v - m) * (v - m);
    var /= n;
    *mean = m;
    *scale = var > 1e-24 ? std::sqrt(var) : 1.0;
    out->resize(y.size());
    for (size_t i = 0; i < y.size(); ++i) (*out)[i] = (y[i] - m) / *scale;
}

// The log-parameters as one vector: length scales, signal, noise, then the
// additive part's variance and length scale.
Vector Pack(const GpHyperparameters& h) {
    Vector t = h.log_lengthscales;
    t.push_back(h.log_signal_variance);
    t.push_back(h.log_noise_variance);
    if (h.additive) {
        t.push_back(h.log_additive_variance);
        t.push_back(h.log_additive_lengthscale);
        t.push_back(h.log_linear_variance);
    }
    return t;
}

GpHyperparameters Unpack(const Vector& t, int d) {
    GpHyperparameters h;
    const size_t ud = static_cast<size_t>(d);
    h.log_lengthscales.assign(t.begin(), t.begin() + d);
    h.log_signal_variance = t[ud];
    h.log_noise_variance = t[ud + 1];
    h.additive = t.size() > ud + 2;
    if (h.additive) {
        h.log_additive_variance = t[ud + 2];
        h.log_additive_lengthscale = t[ud + 3];
        h.log_linear_variance = t[ud + 4];
    }
    return h;
}

void Clamp(Vector& t, int d) {
    const size_t ud = static_cast<size_t>(d);
    for (size_t j = 0; j < ud; ++j) t[j] = std::clamp(t[j], kMinLogLengthscale, kMaxLogLengthscale);
    t[ud] = std::clamp(t[ud], kMinLogSignal, kMaxLogSignal);
    t[ud + 1] = std::clamp(t[ud + 1], kMinLogNoise, kMaxLogNoise);
    if (t.size() > ud + 2) {
        t[ud + 2] = std::clamp(t[ud + 2], kMinLogSignal, kMaxLogSignal);
        t[ud + 3] = std::clamp(t[ud + 3], kMinLogAdditiveLengthscale, kMaxLogAdditiveLengthscale);
        t[ud + 4] = std::clamp(t[ud + 4], kMinLogSignal, kMaxLogSignal);
    }
}

double LogPrior(const Vector& t, int d, Vector* grad) {
    const size_t ud = static_cast<size_t>(d);
    const double mu = LengthscalePriorMean(d);
    double lp = 0.0;
    auto add = [&](size_t i, double mean, double sd) {
        const double z = (t[i] - mean) / sd;
        lp -= 0.5 * z * z;
        if (grad) (*grad)[i] -= z / sd;
    };
    for (size_t j = 0; j < ud; ++j) add(j, mu, kLengthscalePriorSd);
    const bool additive = t.size() > ud + 2;
    add(ud, additive ? kHalf : kSignalPriorMean, kSignalPriorSd);
    add(ud + 1, kNoisePriorMean, kNoisePriorSd);
    if (additive) {
        add(ud + 2, kHalf, kSignalPriorSd);
        add(ud + 3, kAdditiveLengthscalePriorMean, kAdditiveLengthscalePriorSd);
        add(ud + 4, kLinearPriorMean, kSignalPriorSd);
    }
    return lp;
}

}  // namespace

GpHyperparameters DefaultHyperparameters(int dimension, bool additive) {
    GpHyperparameters h;
    h.log_lengthscales.assign(static_cast<size_t>(dimension), LengthscalePriorMean(dimension));
    h.log_signal_variance = additive ? kHalf : kSignalPriorMean;
    h.log_noise_variance = kNoisePriorMean;
    h.additive = additive;
    h.log_additive_variance = kHalf;
    h.log_additive_lengthscale = kAdditiveLengthscalePriorMean;
    h.log_linear_variance = kLinearPriorMean;
    return h;
}

double GaussianProcess::LogMarginalLikelihood(const Matrix& x, const Vector& y,
                                              const GpHyperparameters& hyper, Vector* gradient) {
    const int n = x.rows;
    const int d = x.cols;
    if (hyper.dimension() != d) throw InvalidArgument("gp: hyperparameters of another dimension");
    Vector inv_l(static_cast<size_t>(d));
    for (int k = 0; k < d; ++k)
        inv_l[static_cast<size_t>(k)] = std::exp(-hyper.log_lengthscales[static_cast<size_t>(k)]);
    const double signal = std::exp(hyper.log_signal_variance);
    const double noise = std::exp(hyper.log_noise_variance);
    Matrix xs(n, d);
    for (int i = 0; i < n; ++i) {
        for (int k = 0; k < d; ++k) xs(i, k) = x(i, k) * inv_l[static_cast<size_t>(k)];
    }
    Matrix k(n, n);
    Matrix g;  // d k / d r^2 times -2: (5/3) s^2 (1 + sqrt5 r) e^{-sqrt5 r}
    if (gradient) g = Matrix(n, n);
    for (int i = 0; i < n; ++i) {
        for (int j = 0; j <= i; ++j) {
            const double r2 = SquaredDistance(xs.row(i), xs.row(j), d);
            const double r = std::sqrt(r2);
            const double e = std::exp(-kSqrt5 * r);
            const double kv = signal * (1.0 + kSqrt5 * r + (5.0 / 3.0) * r2) * e;
            k(i, j) = kv;
            k(j, i) = kv;
            if (gradient) {
                const double gv = (5.0 / 3.0) * signal * (1.0 + kSqrt5 * r) * e;
                g(i, j) = gv;
                g(j, i) = gv;
            }
        }
    }
    // The additive part: s_a / d sum_c M(|x_ac - x_bc| / l_a), and its
    // derivative with respect to log l_a, (5/3) rho^2 (1 + sqrt5 rho) e^{-sqrt5 rho} per term.
    Matrix ka;
    Matrix dka;  // d ka / d log l_a
    const double additive = hyper.additive ? std::exp(hyper.log_additive_variance) / d : 0.0;
    if (hyper.additive) {
        const double inv_la = std::exp(-hyper.log_additive_lengthscale);
        ka = Matrix(n, n);
        if (gradient) dka = Matrix(n, n);
        // Inputs by column, so that the innermost loop runs over points (and
        // vectorises) rather than over inputs (a reduction, which does not).
        Matrix columns(d, n);
        for (int i = 0; i < n; ++i) {
            for (int c = 0; c < d; ++c) columns(c, i) = x(i, c) * inv_la;
        }
        for (int i = 0; i < n; ++i) {
            double* sum = ka.row(i);
            double* dsum = gradient ? dka.row(i) : nullptr;
            for (int c = 0; c < d; ++c) {
                const double xic = columns(c, i);
                const double* col = columns.row(c);
                if (dsum) {
                    // The term and its derivative share one exponential.
                    for (int j = 0; j <= i; ++j) {
                        const double rho = std::abs(xic - col[j]);
                        const double e = NegExp(-kSqrt5 * rho);
                        sum[j] += (1.0 + kSqrt5 * rho + (5.0 / 3.0) * rho * rho) * e;
                        dsum[j] += (5.0 / 3.0) * rho * rho * (1.0 + kSqrt5 * rho) * e;
                    }
                } else {
                    for (int j = 0; j <= i; ++j) {
                        const double rho = std::abs(xic - col[j]);
                        const double e = NegExp(-kSqrt5 * rho);
                        sum[j] += (1.0 + kSqrt5 * rho + (5.0 / 3.0) * rho * rho) * e;
                    }
                }
            }
            for (int j = 0; j <= i; ++j) {
                sum[j] *= additive;
                ka(j, i) = sum[j];
                if (dsum) {
                    dsum[j] *= additive;
                    dka(j, i) = dsum[j];
                }
            }
        }
    }
    // The linear part: s_l / d (x_a - 1/2).(x_b - 1/2).
    Matrix kl;
    if (hyper.additive) {
        const double linear = std::exp(hyper.log_linear_variance) / d;
        kl = Matrix(n, n);
        for (int i = 0; i < n; ++i) {
            const double* xi = x.row(i);
            for (int j = 0; j <= i; ++j) {
                const double* xj = x.row(j);
                double dot = 0.0;
                for (int c = 0; c < d; ++c) dot += (xi[c] - 0.5) * (xj[c] - 0.5);
                kl(i, j) = kl(j, i) = linear * dot;
            }
        }
    }
    Matrix l = k;
    for (int i = 0; i < n; ++i) l(i, i) += noise;
    if (hyper.additive) {
        for (size_t e = 0; e < l.data.size(); ++e) l.data[e] += ka.data[e] + kl.data[e];
    }
    CholeskyInPlace(l);
    Vector alpha = y;
    SolveLower(l, alpha.data());
    double fit = 0.0;
    for (double v : alpha) fit += v * v;
    SolveUpperTransposed(l, alpha.data());
    double logdet = 0.0;
    for (int i = 0; i < n; ++i) logdet += std::log(l(i, i));
    const double lml = -0.5 * fit - logdet - 0.5 * n * std::log(2.0 * std::numbers::pi);
    if (!gradient) return lml;

    // d lml / d theta = 0.5 tr(W dK/dtheta) with W = alpha alpha^T - K^{-1}.
    Matrix w = InverseFromCholesky(l);
    for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j)
            w(i, j) = alpha[static_cast<size_t>(i)] * alpha[static_cast<size_t>(j)] - w(i, j);
    }
    gradient->assign(static_cast<size_t>(d) + (hyper.additive ? 5 : 2), 0.0);
    double trace_w = 0.0;
    double trace_wk = 0.0;
    for (int i = 0; i < n; ++i) {
        trace_w += w(i, i);
        const double* wi = w.row(i);
        const double* ki = k.row(i);
        for (int j = 0; j < n; ++j) trace_wk += wi[j] * ki[j];
    }
    // dK_ab / d log l_j = g_ab (x_aj - x_bj)^2 / l_j^2; with M = W o G,
    // sum_ab M_ab (x_aj - x_bj)^2 = 2 (sum_a rowsum(M)_a x_aj^2 - x_j^T M x_j).
    Vector rowsum(static_cast<size_t>(n), 0.0);
    Vector mx(static_cast<size_t>(d));
    Vector quad(static_cast<size_t>(d), 0.0);
    Vector sq(static_cast<size_t>(d), 0.0);
    for (int a = 0; a < n; ++a) {
        double* wa = w.row(a);
        const double* ga = g.row(a);
        double rs = 0.0;
        std::fill(mx.begin(), mx.end(), 0.0);
        for (int b = 0; b < n; ++b) {
            const double m = wa[b] * ga[b];
            rs += m;
            const double* xb = x.row(b);
            for (int c = 0; c < d; ++c) mx[static_cast<size_t>(c)] += m * xb[c];
        }
        const double* xa = x.row(a);
        for (int c = 0; c < d; ++c) {
            quad[static_cast<size_t>(c)] += xa[c] * mx[static_cast<size_t>(c)];
            sq[static_cast<size_t>(c)] += rs * xa[c] * xa[c];
        }
    }
    for (int c = 0; c < d; ++c) {
        const double s = 2.0 * (sq[static_cast<size_t>(c)] - quad[static_cast<size_t>(c)]);
        (*gradient)[static_cast<size_t>(c)] =
            0.5 * s * inv_l[static_cast<size_t>(c)] * inv_l[static_cast<size_t>(c)];
    }
    (*gradient)[static_cast<size_t>(d)] = 0.5 * trace_wk;
    (*gradient)[static_cast<size_t>(d) + 1] = 0.5 * noise * trace_w;
    if (hyper.additive) {
        double trace_wka = 0.0;
        double trace_wga = 0.0;
        double trace_wkl = 0.0;
        for (size_t e = 0; e < w.data.size(); ++e) {
            trace_wka += w.data[e] * ka.data[e];
            trace_wga += w.data[e] * dka.data[e];
            trace_wkl += w.data[e] * kl.data[e];
        }
        (*gradient)[static_cast<size_t>(d) + 2] = 0.5 * trace_wka;
        (*gradient)[static_cast<size_t>(d) + 3] = 0.5 * trace_wga;
        (*gradient)[static_cast<size_t>(d) + 4] = 0.5 * trace_wkl;
    }
    return lml;
}

GaussianProcess::GaussianProcess(Matrix x, const Vector& y, GpHyperparameters hyper)
    : hyper_(std::move(hyper)), n_(x.rows), d_(x.cols) {
    if (static_cast<int>(y.size()) != n_) throw InvalidArgument("gp: x and y differ in length");
    if (hyper_.dimension() != d_) throw InvalidArgument("gp: hyperparameters of another dimension");
    Standardise(y, &y_mean_, &y_scale_, &y_standardised_);
    signal_ = std::exp(hyper_.log_signal_variance);
    noise_ = std::exp(hyper_.log_noise_variance);
    additive_ = hyper_.additive ? std::exp(hyper_.log_additive_variance) / d_ : 0.0;
    linear_ = hyper_.additive ? std::exp(hyper_.log_linear_variance) / d_ : 0.0;
    inv_lengthscale_.resize(static_cast<size_t>(d_));
    for (int k = 0; k < d_; ++k) {
        inv_lengthscale_[static_cast<size_t>(k)] =
            std::exp(-hyper_.log_lengthscales[static_cast<size_t>(k)]);
    }
    inv_additive_lengthscale_ = std::exp(-hyper_.log_additive_lengthscale);
    x_scaled_ = Matrix(n_, Width());
    for (int i = 0; i < n_; ++i) ScaleInto(x.row(i), x_scaled_.row(i));
    l_ = Matrix(n_, n_);
    for (int i = 0; i < n_; ++i) {
        for (int j = 0; j <= i; ++j) l_(i, j) = Kernel(x_scaled_.row(i), x_scaled_.row(j));
        l_(i, i) += noise_;
    }
    CholeskyInPlace(l_);
    alpha_ = y_standardised_;
    SolveLower(l_, alpha_.data());
    SolveUpperTransposed(l_, alpha_.data());
}

double GaussianProcess::LogMarginalLikelihood() const {
    Matrix x(n_, d_);  // the inputs back from the joint part's scaled rows
    for (int i = 0; i < n_; ++i) {
        for (int k = 0; k < d_; ++k)
            x(i, k) = x_scaled_(i, k) / inv_lengthscale_[static_cast<size_t>(k)];
    }
    return LogMarginalLikelihood(x, y_standardised_, hyper_, nullptr);
}

namespace {

// One fit being prepared or run: the fitting subset, its standardised
// targets, and the start points of the restarts (all drawn before any runs,
// so that the draws do not depend on how the runs are scheduled).
struct FitProblem {
    Matrix xf;
    Vector ys;
    std::vector<Vector> starts;  // packed; the first is the prior's centre
    // Per start: the best value it visited and where (strictly better
    // replaces, so the earliest of equal values is kept).
    std::vector<double> best_value;
    std::vector<Vector> best_t;
};

FitProblem PrepareFit(const Matrix& x, const Vector& y, const GpFitOptions& options,
                      std::mt19937_64& rng) {
    const int n = x.rows;
    const int d = x.cols;
    if (n < 1) throw InvalidArgument("gp: no points to fit");
    std::vector<int> rows(static_cast<size_t>(n));
    std::iota(rows.begin(), rows.end(), 0);
    if (options.max_points > 0 && n > options.max_points) {
        std::shuffle(rows.begin(), rows.end(), rng);
        rows.resize(static_cast<size_t>(options.max_points));
        std::sort(rows.begin(), rows.end());
    }
    FitProblem p;
    p.xf = Matrix(static_cast<int>(rows.size()), d);
    Vector yf;
    for (size_t i = 0; i < rows.size(); ++i) {
        std::copy(x.row(rows[i]), x.row(rows[i]) + d, p.xf.row(static_cast<int>(i)));
        yf.push_back(y[static_cast<size_t>(rows[i])]);
    }
    double mean = 0.0;
    double scale = 1.0;
    Standardise(yf, &mean, &scale, &p.ys);

    const Vector centre = Pack(DefaultHyperparameters(d, options.additive));
    const size_t ud = static_cast<size_t>(d);
    std::normal_distribution<double> normal(0.0, 1.0);
    const int starts = std::max(1, options.restarts);
    for (int s = 0; s < starts; ++s) {
        Vector t = centre;
        if (s > 0) {
            for (size_t j = 0; j < ud; ++j) t[j] += normal(rng);
            t[ud] += 0.5 * normal(rng);
            t[ud + 1] += normal(rng);
            for (size_t j = ud + 2; j < t.size(); ++j) t[j] += 0.5 * normal(rng);
            Clamp(t, d);
        }
        p.starts.push_back(std::move(t));
    }
    p.best_value.assign(p.starts.size(), -INFINITY);
    p.best_t = p.starts;
    return p;
}

// The penalised log marginal likelihood of packed hyperparameters t.
double FitObjective(const FitProblem& p, const GpFitOptions& options, const Vector& t,
                    Vector* grad) {
    const int d = p.xf.cols;
    double value = -INFINITY;
    try {
        value = GaussianProcess::LogMarginalLikelihood(p.xf, p.ys, Unpack(t, d), grad);
    } catch (const Error&) {
        if (grad) grad->assign(t.size(), 0.0);
        return -INFINITY;
    }
    if (options.use_priors) value += LogPrior(t, d, grad);
    return value;
}

// Adam, ascending, from start s; records the best point visited.
void RunStart(FitProblem& p, const GpFitOptions& options, size_t s) {
    const int d = p.xf.cols;
    Vector t = p.starts[s];
    double& best_value = p.best_value[s];
    Vector& best_t = p.best_t[s];
    Vector m(t.size(), 0.0);
    Vector v(t.size(), 0.0);
    Vector grad;
    constexpr double kBeta1 = 0.9;
    constexpr double kBeta2 = 0.999;
    double b1 = 1.0;
    double b2 = 1.0;
    for (int it = 0; it < options.iterations; ++it) {
        const double value = FitObjective(p, options, t, &grad);
        if (value > best_value) {
            best_value = value;
            best_t = t;
        }
        if (!std::isfinite(value)) break;
        b1 *= kBeta1;
        b2 *= kBeta2;
        for (size_t j = 0; j < t.size(); ++j) {
            m[j] = kBeta1 * m[j] + (1 - kBeta1) * grad[j];
            v[j] = kBeta2 * v[j] + (1 - kBeta2) * grad[j] * grad[j];
            const double mh = m[j] / (1 - b1);
            const double vh = v[j] / (1 - b2);
            t[j] += options.learning_rate * mh / (std::sqrt(vh) + 1e-8);
        }
        Clamp(t, d);
    }
    const double value = FitObjective(p, options, t, nullptr);
    if (value > best_value) {
        best_value = value;
        best_t = t;
    }
}

// The best hyperparameters: the centre's value first, then each start's best
// in order, strictly better replacing (what one sequential pass would keep).
Vector BestOf(const FitProblem& p, const GpFitOptions& options) {
    Vector best_t = p.starts.front();
    double best_value = FitObjective(p, options, best_t, nullptr);
    for (size_t s = 0; s < p.starts.size(); ++s) {
        if (p.best_value[s] > best_value) {
            best_value = p.best_value[s];
            best_t = p.best_t[s];
        }
    }
    return best_t;
}

}  // namespace

GaussianProcess GaussianProcess::Fit(const Matrix& x, const Vector& y, const GpFitOptions& options,
                                     std::mt19937_64& rng) {
    return std::move(FitAll(x, {y}, options, rng).front());
}

std::vector<GaussianProcess> GaussianProcess::FitAll(const Matrix& x, const std::vector<Vector>& ys,
                                                     const GpFitOptions& options,
                                                     std::mt19937_64& rng) {
    std::vector<FitProblem> problems;
    for (const Vector& y : ys) problems.push_back(PrepareFit(x, y, options, rng));
    std::vector<std::pair<size_t, size_t>> runs;  // (problem, start)
    for (size_t g = 0; g < problems.size(); ++g) {
        for (size_t s = 0; s < problems[g].starts.size(); ++s) runs.emplace_back(g, s);
    }
    internal::ParallelFor(
        runs.size(), [&](size_t k) { RunStart(problems[runs[k].first], options, runs[k].second); });
    std::vector<GaussianProcess> out;
    for (size_t g = 0; g < problems.size(); ++g) {
        out.push_back(GaussianProcess(x, ys[g], Unpack(BestOf(problems[g], options), x.cols)));
    }
    return out;
}

void GaussianProcess::ScaleInto(const double* x, double* out) const {
    for (int k = 0; k < d_; ++k) out[k] = x[k] * inv_lengthscale_[static_cast<size_t>(k)];
    if (hyper_.additive) {
        for (int k = 0; k < d_; ++k) out[d_ + k] = x[k] * inv_additive_lengthscale_;
        for (int k = 0; k < d_; ++k) out[2 * d_ + k] = x[k] - 0.5;
    }
}

double GaussianProcess::FirstOrderKernel(const double* a, const double* b) const {
    double sum = 0.0;
    for (int c = d_; c < 2 * d_; ++c) {
        const double rho = std::abs(a[c] - b[c]);
        sum += (1.0 + kSqrt5 * rho + (5.0 / 3.0) * rho * rho) * NegExp(-kSqrt5 * rho);
    }
    double dot = 0.0;
    for (int c = 2 * d_; c < 3 * d_; ++c) dot += a[c] * b[c];
    return additive_ * sum + linear_ * dot;
}

double GaussianProcess::Kernel(const double* a, const double* b) const {
    double k = signal_ * Matern52(SquaredDistance(a, b, d_));
    if (hyper_.additive) {
        double sum = 0.0;
        for (int c = d_; c < 2 * d_; ++c) {
            const double rho = std::abs(a[c] - b[c]);
            sum += (1.0 + kSqrt5 * rho + (5.0 / 3.0) * rho * rho) * NegExp(-kSqrt5 * rho);
        }
        double dot = 0.0;
        for (int c = 2 * d_; c < 3 * d_; ++c) dot += a[c] * b[c];
        k += additive_ * sum + linear_ * dot;
    }
    return k;
}

Vector GaussianProcess::SolveFor(const double* scaled_x) const {
    const int f = static_cast<int>(fantasy_rows_.size());
    Vector v(static_cast<size_t>(n_ + f));
    for (int i = 0; i < n_ + f; ++i) v[static_cast<size_t>(i)] = Kernel(x_scaled_.row(i), scaled_x);
    SolveLower(l_, v.data());
    for (int j = 0; j < f; ++j) {
        const Vector& row = fantasy_rows_[static_cast<size_t>(j)];
        double s = v[static_cast<size_t>(n_ + j)];
        for (int i = 0; i < n_ + j; ++i)
            s -= row[static_cast<size_t>(i)] * v[static_cast<size_t>(i)];
        v[static_cast<size_t>(n_ + j)] = s / row[static_cast<size_t>(n_ + j)];
    }
    return v;
}

void GaussianProcess::AppendFantasy(const double* scaled_x, const Vector& v) {
    double prior = signal_ + additive_ * d_;  // k(x, x)
    if (hyper_.additive) {
        const double* last = scaled_x + 2 * d_;
        for (int c = 0; c < d_; ++c) prior += linear_ * last[c] * last[c];
    }
    double rest = prior + noise_;
    for (double t : v) rest -= t * t;
    Vector row = v;
    row.push_back(std::sqrt(std::max(rest, 1e-12 * (prior + noise_))));
    fantasy_rows_.push_back(std::move(row));
    x_scaled_.data.insert(x_scaled_.data.end(), scaled_x, scaled_x + Width());
    ++x_scaled_.rows;
}

void GaussianProcess::AddFantasy(const Vector& x) {
    Vector scaled(static_cast<size_t>(Width()));
    ScaleInto(x.data(), scaled.data());
    AppendFantasy(scaled.data(), SolveFor(scaled.data()));
}

void GaussianProcess::Predict(const Matrix& xs, Vector* mean, Vector* variance) const {
    Predict(xs, mean, variance, nullptr);
}

void GaussianProcess::Predict(const Matrix& xs, Vector* mean, Vector* variance,
                              Vector* first_order_variance) const {
    CandidateState state = variance || !hyper_.additive ? Candidates(xs) : FirstOrderCandidates(xs);
    if (first_order_variance) {
        *first_order_variance =
            hyper_.additive ? std::move(state.first_order_variance) : state.variance;
    }
    if (mean) *mean = std::move(state.mean);
    if (variance) *variance = std::move(state.variance);
}

GaussianProcess::CandidateState GaussianProcess::Candidates(const Matrix& xs) const {
    return Evaluate(xs, true);
}

GaussianProcess::CandidateState GaussianProcess::FirstOrderCandidates(const Matrix& xs) const {
    return Evaluate(xs, !hyper_.additive);
}

GaussianProcess::CandidateState GaussianProcess::Evaluate(const Matrix& xs,
                                                          bool full_variance) const {
    CandidateState s;
    const int m = xs.rows;
    const int f = static_cast<int>(fantasy_rows_.size());
    s.xs = xs;
    Matrix scaled(m, Width());
    for (int a = 0; a < m; ++a) ScaleInto(xs.row(a), scaled.row(a));
    // Cross-covariances, one row per training point or fantasy; the
    // first-order part's share kept apart when there is one. The candidates
    // go by column, so that the innermost loops run over candidates.
    s.v = Matrix(n_ + f, m);
    if (hyper_.additive) s.first_order_v = Matrix(n_ + f, m);
    const int width = Width();
    Matrix columns(width, m);
    for (int a = 0; a < m; ++a) {
        for (int c = 0; c < width; ++c) columns(c, a) = scaled(a, c);
    }
    Vector r2(static_cast<size_t>(m));
    Vector first(static_cast<size_t>(m));
    Vector dot(static_cast<size_t>(m));
    for (int i = 0; i < n_ + f; ++i) {
        const double* xi = x_scaled_.row(i);
        std::fill(r2.begin(), r2.end(), 0.0);
        for (int c = 0; c < d_; ++c) {
            const double* col = columns.row(c);
            for (int a = 0; a < m; ++a) {
                const double t = col[a] - xi[c];
                r2[static_cast<size_t>(a)] += t * t;
            }
        }
        double* out = s.v.row(i);
        for (int a = 0; a < m; ++a) out[a] = signal_ * Matern52(r2[static_cast<size_t>(a)]);
        if (!hyper_.additive) continue;
        std::fill(first.begin(), first.end(), 0.0);
        std::fill(dot.begin(), dot.end(), 0.0);
        for (int c = d_; c < 2 * d_; ++c) {
            const double* col = columns.row(c);
            for (int a = 0; a < m; ++a) {
                const double rho = std::abs(col[a] - xi[c]);
                first[static_cast<size_t>(a)] +=
                    (1.0 + kSqrt5 * rho + (5.0 / 3.0) * rho * rho) * NegExp(-kSqrt5 * rho);
            }
        }
        for (int c = 2 * d_; c < 3 * d_; ++c) {
            const double* col = columns.row(c);
            for (int a = 0; a < m; ++a) dot[static_cast<size_t>(a)] += col[a] * xi[c];
        }
        double* fo = s.first_order_v.row(i);
        for (int a = 0; a < m; ++a) {
            fo[a] =
                additive_ * first[static_cast<size_t>(a)] + linear_ * dot[static_cast<size_t>(a)];
            out[a] += fo[a];
        }
    }
    s.mean.assign(static_cast<size_t>(m), 0.0);
    for (int i = 0; i < n_; ++i) {
        const double ai = alpha_[static_cast<size_t>(i)];
        const double* ki = s.v.row(i);
        for (int a = 0; a < m; ++a) s.mean[static_cast<size_t>(a)] += ai * ki[a];
    }
    const double scale2 = y_scale_ * y_scale_;
    for (int a = 0; a < m; ++a) {
        s.mean[static_cast<size_t>(a)] = y_mean_ + y_scale_ * s.mean[static_cast<size_t>(a)];
    }
    // k(x, x) per candidate: the full prior variance, and the first-order part's.
    Vector first_order_prior(static_cast<size_t>(m), additive_ * d_);
    if (hyper_.additive) {
        for (int a = 0; a < m; ++a) {
            const double* last = scaled.row(a) + 2 * d_;
            for (int c = 0; c < d_; ++c)
                first_order_prior[static_cast<size_t>(a)] += linear_ * last[c] * last[c];
        }
    }
    // L^{-1} applied to a block of columns: the base factor, then the fantasy
    // rows; returns k(x, x) - |L^{-1} k(X, x)|^2 per column, original scale.
    auto solve = [&](Matrix& v, const Vector& prior) {
        Matrix base(n_, m);
        std::copy(v.data.begin(), v.data.begin() + static_cast<std::ptrdiff_t>(n_) * m,
                  base.data.begin());
        SolveLowerColumns(l_, base);
        std::copy(base.data.begin(), base.data.end(), v.data.begin());
        for (int j = 0; j < f; ++j) {
            const Vector& row = fantasy_rows_[static_cast<size_t>(j)];
            double* out = v.row(n_ + j);
            for (int i = 0; i < n_ + j; ++i) {
                const double r = row[static_cast<size_t>(i)];
                const double* vi = v.row(i);
                for (int a = 0; a < m; ++a) out[a] -= r * vi[a];
            }
            const double inv = 1.0 / row[static_cast<size_t>(n_ + j)];
            for (int a = 0; a < m; ++a) out[a] *= inv;
        }
        Vector variance = prior;
        for (int i = 0; i < n_ + f; ++i) {
            const double* vi = v.row(i);
            for (int a = 0; a < m; ++a) variance[static_cast<size_t>(a)] -= vi[a] * vi[a];
        }
        for (double& var : variance) var = std::max(var, 1e-12 * signal_) * scale2;
        return variance;
    };
    if (full_variance) {
        Vector prior = first_order_prior;
        for (double& p : prior) p += signal_;
        s.variance = solve(s.v, prior);
    } else {
        s.v = Matrix();
    }
    if (hyper_.additive) s.first_order_variance = solve(s.first_order_v, first_order_prior);
    return s;
}

void GaussianProcess::AddFantasyFromCandidate(CandidateState& s, int index) {
    const int rows = s.v.rows;
    if (rows != n_ + static_cast<int>(fantasy_rows_.size())) {
        throw InvalidArgument("gp: stale candidate state");
    }
    Vector v(static_cast<size_t>(rows));
    for (int i = 0; i < rows; ++i) v[static_cast<size_t>(i)] = s.v(i, index);
    Vector scaled(static_cast<size_t>(Width()));
    ScaleInto(s.xs.row(index), scaled.data());
    AppendFantasy(scaled.data(), v);
    UpdateState(s, scaled.data(), v);
}

void GaussianProcess::AddFantasy(const Vector& x, CandidateState& s) {
    if (s.v.rows != n_ + static_cast<int>(fantasy_rows_.size())) {
        throw InvalidArgument("gp: stale candidate state");
    }
    Vector scaled(static_cast<size_t>(Width()));
    ScaleInto(x.data(), scaled.data());
    const Vector v = SolveFor(scaled.data());
    AppendFantasy(scaled.data(), v);
    UpdateState(s, scaled.data(), v);
}

// The new row of every candidate's L^{-1} k vector:
// u_a = (k(x_a, x_f) - v_a . v_f) / l_ff, accumulated over rows for all a.
void GaussianProcess::UpdateState(CandidateState& s, const double* scaled, const Vector& v) const {
    const int m = s.xs.rows;
    const int rows = s.v.rows;
    const double inv = 1.0 / fantasy_rows_.back().back();
    Vector u(static_cast<size_t>(m));
    Vector sa(static_cast<size_t>(Width()));
    for (int a = 0; a < m; ++a) {
        ScaleInto(s.xs.row(a), sa.data());
        u[static_cast<size_t>(a)] = Kernel(sa.data(), scaled);
    }
    for (int i = 0; i < rows; ++i) {
        const double r = v[static_cast<size_t>(i)];
        const double* vi = s.v.row(i);
        for (int a = 0; a < m; ++a) u[static_cast<size_t>(a)] -= r * vi[a];
    }
    const double scale2 = y_scale_ * y_scale_;
    for (int a = 0; a < m; ++a) {
        u[static_cast<size_t>(a)] *= inv;
        const double var = s.variance[static_cast<size_t>(a)] / scale2 -
                           u[static_cast<size_t>(a)] * u[static_cast<size_t>(a)];
        s.variance[static_cast<size_t>(a)] = std::max(var, 1e-12 * signal_) * scale2;
    }
    if (hyper_.additive && s.first_order_v.rows == rows) {
        Vector uf(static_cast<size_t>(m));
        for (int a = 0; a < m; ++a) {
            ScaleInto(s.xs.row(a), sa.data());
            uf[static_cast<size_t>(a)] = FirstOrderKernel(sa.data(), scaled);
        }
        for (int i = 0; i < rows; ++i) {
            const double r = v[static_cast<size_t>(i)];
            const double* vi = s.first_order_v.row(i);
            for (int a = 0; a < m; ++a) uf[static_cast<size_t>(a)] -= r * vi[a];
        }
        for (int a = 0; a < m; ++a) {
            uf[static_cast<size_t>(a)] *= inv;
            const double var = s.first_order_variance[static_cast<size_t>(a)] / scale2 -
                               uf[static_cast<size_t>(a)] * uf[static_cast<size_t>(a)];
            s.first_order_variance[static_cast<size_t>(a)] =
                std::max(var, 1e-12 * signal_) * scale2;
        }
        s.first_order_v.data.insert(s.first_order_v.data.end(), uf.begin(), uf.end());
        ++s.first_order_v.rows;
    }
    s.v.data.insert(s.v.data.end(), u.begin(), u.end());
    ++s.v.rows;
}

Matrix GaussianProcess::Covariance(const CandidateState& s, const std::vector<int>& indices) const {
    const int k = static_cast<int>(indices.size());
    Matrix scaled(k, Width());
    for (int a = 0; a < k; ++a) ScaleInto(s.xs.row(indices[static_cast<size_t>(a)]), scaled.row(a));
    Matrix c(k, k);
    for (int a = 0; a < k; ++a) {
        for (int b = 0; b <= a; ++b) c(a, b) = Kernel(scaled.row(a), scaled.row(b));
    }
    for (int i = 0; i < s.v.rows; ++i) {
        const double* vi = s.v.row(i);
        for (int a = 0; a < k; ++a) {
            const double va = vi[indices[static_cast<size_t>(a)]];
            double* ca = c.row(a);
            for (int b = 0; b <= a; ++b) ca[b] -= va * vi[indices[static_cast<size_t>(b)]];
        }
    }
    const double scale2 = y_scale_ * y_scale_;
    for (int a = 0; a < k; ++a) {
        for (int b = 0; b <= a; ++b) {
            c(a, b) *= scale2;
            c(b, a) = c(a, b);
        }
    }
    return c;
}

}  // namespace hilnas::optimizer
