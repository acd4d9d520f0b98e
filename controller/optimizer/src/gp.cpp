#include "hilnas/optimizer/gp.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>

#include "hilnas/common/errors.h"

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

double LengthscalePriorMean(int d) {
    return std::numbers::sqrt2 - 3.0 + 0.5 * std::log(static_cast<double>(std::max(d, 1)));
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

Vector Pack(const GpHyperparameters& h) {
    Vector t = h.log_lengthscales;
    t.push_back(h.log_signal_variance);
    t.push_back(h.log_noise_variance);
    return t;
}

GpHyperparameters Unpack(const Vector& t) {
    GpHyperparameters h;
    h.log_lengthscales.assign(t.begin(), t.end() - 2);
    h.log_signal_variance = t[t.size() - 2];
    h.log_noise_variance = t[t.size() - 1];
    return h;
}

void Clamp(Vector& t) {
    const size_t d = t.size() - 2;
    for (size_t j = 0; j < d; ++j) t[j] = std::clamp(t[j], kMinLogLengthscale, kMaxLogLengthscale);
    t[d] = std::clamp(t[d], kMinLogSignal, kMaxLogSignal);
    t[d + 1] = std::clamp(t[d + 1], kMinLogNoise, kMaxLogNoise);
}

double LogPrior(const Vector& t, Vector* grad) {
    const size_t d = t.size() - 2;
    const double mu = LengthscalePriorMean(static_cast<int>(d));
    double lp = 0.0;
    auto add = [&](size_t i, double mean, double sd) {
        const double z = (t[i] - mean) / sd;
        lp -= 0.5 * z * z;
        if (grad) (*grad)[i] -= z / sd;
    };
    for (size_t j = 0; j < d; ++j) add(j, mu, kLengthscalePriorSd);
    add(d, kSignalPriorMean, kSignalPriorSd);
    add(d + 1, kNoisePriorMean, kNoisePriorSd);
    return lp;
}

}  // namespace

GpHyperparameters DefaultHyperparameters(int dimension) {
    GpHyperparameters h;
    h.log_lengthscales.assign(static_cast<size_t>(dimension), LengthscalePriorMean(dimension));
    h.log_signal_variance = kSignalPriorMean;
    h.log_noise_variance = kNoisePriorMean;
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
    Matrix l = k;
    for (int i = 0; i < n; ++i) l(i, i) += noise;
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
    gradient->assign(static_cast<size_t>(d) + 2, 0.0);
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
    return lml;
}

GaussianProcess::GaussianProcess(Matrix x, const Vector& y, GpHyperparameters hyper)
    : hyper_(std::move(hyper)), n_(x.rows), d_(x.cols) {
    if (static_cast<int>(y.size()) != n_) throw InvalidArgument("gp: x and y differ in length");
    if (hyper_.dimension() != d_) throw InvalidArgument("gp: hyperparameters of another dimension");
    Standardise(y, &y_mean_, &y_scale_, &y_standardised_);
    signal_ = std::exp(hyper_.log_signal_variance);
    noise_ = std::exp(hyper_.log_noise_variance);
    inv_lengthscale_.resize(static_cast<size_t>(d_));
    for (int k = 0; k < d_; ++k) {
        inv_lengthscale_[static_cast<size_t>(k)] =
            std::exp(-hyper_.log_lengthscales[static_cast<size_t>(k)]);
    }
    x_scaled_ = Matrix(n_, d_);
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
    Matrix x(n_, d_);
    for (int i = 0; i < n_; ++i) {
        for (int k = 0; k < d_; ++k)
            x(i, k) = x_scaled_(i, k) / inv_lengthscale_[static_cast<size_t>(k)];
    }
    return LogMarginalLikelihood(x, y_standardised_, hyper_, nullptr);
}

GaussianProcess GaussianProcess::Fit(const Matrix& x, const Vector& y, const GpFitOptions& options,
                                     std::mt19937_64& rng) {
    const int n = x.rows;
    const int d = x.cols;
    if (n < 1) throw InvalidArgument("gp: no points to fit");
    // The fitting subset.
    std::vector<int> rows(static_cast<size_t>(n));
    std::iota(rows.begin(), rows.end(), 0);
    if (options.max_points > 0 && n > options.max_points) {
        std::shuffle(rows.begin(), rows.end(), rng);
        rows.resize(static_cast<size_t>(options.max_points));
        std::sort(rows.begin(), rows.end());
    }
    Matrix xf(static_cast<int>(rows.size()), d);
    Vector yf;
    for (size_t i = 0; i < rows.size(); ++i) {
        std::copy(x.row(rows[i]), x.row(rows[i]) + d, xf.row(static_cast<int>(i)));
        yf.push_back(y[static_cast<size_t>(rows[i])]);
    }
    double mean = 0.0;
    double scale = 1.0;
    Vector ys;
    Standardise(yf, &mean, &scale, &ys);

    auto objective = [&](const Vector& t, Vector* grad) -> double {
        double value = -INFINITY;
        try {
            value = LogMarginalLikelihood(xf, ys, Unpack(t), grad);
        } catch (const Error&) {
            if (grad) grad->assign(t.size(), 0.0);
            return -INFINITY;
        }
        if (options.use_priors) value += LogPrior(t, grad);
        return value;
    };

    const Vector centre = Pack(DefaultHyperparameters(d));
    std::normal_distribution<double> normal(0.0, 1.0);
    Vector best_t = centre;
    double best_value = objective(centre, nullptr);
    const int starts = std::max(1, options.restarts);
    for (int s = 0; s < starts; ++s) {
        Vector t = centre;
        if (s > 0) {
            for (size_t j = 0; j < t.size() - 2; ++j) t[j] += normal(rng);
            t[t.size() - 2] += 0.5 * normal(rng);
            t[t.size() - 1] += normal(rng);
            Clamp(t);
        }
        // Adam, ascending; the best point visited is kept.
        Vector m(t.size(), 0.0);
        Vector v(t.size(), 0.0);
        Vector grad;
        constexpr double kBeta1 = 0.9;
        constexpr double kBeta2 = 0.999;
        double b1 = 1.0;
        double b2 = 1.0;
        for (int it = 0; it < options.iterations; ++it) {
            const double value = objective(t, &grad);
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
            Clamp(t);
        }
        const double value = objective(t, nullptr);
        if (value > best_value) {
            best_value = value;
            best_t = t;
        }
    }
    return GaussianProcess(x, y, Unpack(best_t));
}

void GaussianProcess::ScaleInto(const double* x, double* out) const {
    for (int k = 0; k < d_; ++k) out[k] = x[k] * inv_lengthscale_[static_cast<size_t>(k)];
}

double GaussianProcess::Kernel(const double* a, const double* b) const {
    return signal_ * Matern52(SquaredDistance(a, b, d_));
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
    double rest = signal_ + noise_;
    for (double t : v) rest -= t * t;
    Vector row = v;
    row.push_back(std::sqrt(std::max(rest, 1e-12 * (signal_ + noise_))));
    fantasy_rows_.push_back(std::move(row));
    x_scaled_.data.insert(x_scaled_.data.end(), scaled_x, scaled_x + d_);
    ++x_scaled_.rows;
}

void GaussianProcess::AddFantasy(const Vector& x) {
    Vector scaled(static_cast<size_t>(d_));
    ScaleInto(x.data(), scaled.data());
    AppendFantasy(scaled.data(), SolveFor(scaled.data()));
}

void GaussianProcess::Predict(const Matrix& xs, Vector* mean, Vector* variance) const {
    CandidateState state = Candidates(xs);
    if (mean) *mean = std::move(state.mean);
    if (variance) *variance = std::move(state.variance);
}

GaussianProcess::CandidateState GaussianProcess::Candidates(const Matrix& xs) const {
    CandidateState s;
    const int m = xs.rows;
    const int f = static_cast<int>(fantasy_rows_.size());
    s.xs = xs;
    Matrix scaled(m, d_);
    for (int a = 0; a < m; ++a) ScaleInto(xs.row(a), scaled.row(a));
    // Cross-covariances, one row per training point or fantasy.
    s.v = Matrix(n_ + f, m);
    for (int i = 0; i < n_ + f; ++i) {
        const double* xi = x_scaled_.row(i);
        double* out = s.v.row(i);
        for (int a = 0; a < m; ++a) out[a] = Kernel(xi, scaled.row(a));
    }
    s.mean.assign(static_cast<size_t>(m), 0.0);
    for (int i = 0; i < n_; ++i) {
        const double ai = alpha_[static_cast<size_t>(i)];
        const double* ki = s.v.row(i);
        for (int a = 0; a < m; ++a) s.mean[static_cast<size_t>(a)] += ai * ki[a];
    }
    // Forward substitution through the base factor, then through the fantasy rows.
    Matrix base(n_, m);
    std::copy(s.v.data.begin(), s.v.data.begin() + static_cast<std::ptrdiff_t>(n_) * m,
              base.data.begin());
    SolveLowerColumns(l_, base);
    std::copy(base.data.begin(), base.data.end(), s.v.data.begin());
    for (int j = 0; j < f; ++j) {
        const Vector& row = fantasy_rows_[static_cast<size_t>(j)];
        double* out = s.v.row(n_ + j);
        for (int i = 0; i < n_ + j; ++i) {
            const double r = row[static_cast<size_t>(i)];
            const double* vi = s.v.row(i);
            for (int a = 0; a < m; ++a) out[a] -= r * vi[a];
        }
        const double inv = 1.0 / row[static_cast<size_t>(n_ + j)];
        for (int a = 0; a < m; ++a) out[a] *= inv;
    }
    s.variance.assign(static_cast<size_t>(m), signal_);
    for (int i = 0; i < n_ + f; ++i) {
        const double* vi = s.v.row(i);
        for (int a = 0; a < m; ++a) s.variance[static_cast<size_t>(a)] -= vi[a] * vi[a];
    }
    const double scale2 = y_scale_ * y_scale_;
    for (int a = 0; a < m; ++a) {
        s.mean[static_cast<size_t>(a)] = y_mean_ + y_scale_ * s.mean[static_cast<size_t>(a)];
        s.variance[static_cast<size_t>(a)] =
            std::max(s.variance[static_cast<size_t>(a)], 1e-12 * signal_) * scale2;
    }
    return s;
}

void GaussianProcess::AddFantasyFromCandidate(CandidateState& s, int index) {
    const int rows = s.v.rows;
    if (rows != n_ + static_cast<int>(fantasy_rows_.size())) {
        throw InvalidArgument("gp: stale candidate state");
    }
    Vector v(static_cast<size_t>(rows));
    for (int i = 0; i < rows; ++i) v[static_cast<size_t>(i)] = s.v(i, index);
    Vector scaled(static_cast<size_t>(d_));
    ScaleInto(s.xs.row(index), scaled.data());
    AppendFantasy(scaled.data(), v);
    UpdateState(s, scaled.data(), v);
}

void GaussianProcess::AddFantasy(const Vector& x, CandidateState& s) {
    if (s.v.rows != n_ + static_cast<int>(fantasy_rows_.size())) {
        throw InvalidArgument("gp: stale candidate state");
    }
    Vector scaled(static_cast<size_t>(d_));
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
    Vector sa(static_cast<size_t>(d_));
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
    s.v.data.insert(s.v.data.end(), u.begin(), u.end());
    ++s.v.rows;
}

Matrix GaussianProcess::Covariance(const CandidateState& s, const std::vector<int>& indices) const {
    const int k = static_cast<int>(indices.size());
    Matrix scaled(k, d_);
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
