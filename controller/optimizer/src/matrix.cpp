#include "hilnas/optimizer/matrix.h"

#include <cmath>
#include <string>

#include "hilnas/common/errors.h"
#include "parallel.h"

namespace hilnas::optimizer {

Matrix FromRows(const std::vector<Vector>& points) {
    if (points.empty()) return Matrix();
    Matrix m(static_cast<int>(points.size()), static_cast<int>(points[0].size()));
    for (int i = 0; i < m.rows; ++i) {
        const Vector& p = points[static_cast<size_t>(i)];
        for (int j = 0; j < m.cols; ++j) m(i, j) = p[static_cast<size_t>(j)];
    }
    return m;
}

namespace {

bool TryCholesky(Matrix& a) {
    const int n = a.rows;
    for (int j = 0; j < n; ++j) {
        double* rj = a.row(j);
        double d = rj[j];
        for (int k = 0; k < j; ++k) d -= rj[k] * rj[k];
        if (!(d > 0.0) || !std::isfinite(d)) return false;
        const double ljj = std::sqrt(d);
        rj[j] = ljj;
        const double inv = 1.0 / ljj;
        for (int i = j + 1; i < n; ++i) {
            double* ri = a.row(i);
            double s = ri[j];
            for (int k = 0; k < j; ++k) s -= ri[k] * rj[k];
            ri[j] = s * inv;
        }
    }
    for (int i = 0; i < n; ++i) {
        double* ri = a.row(i);
        for (int j = i + 1; j < n; ++j) ri[j] = 0.0;
    }
    return true;
}

}  // namespace

double CholeskyInPlace(Matrix& a, int max_tries) {
    const Matrix original = a;
    double mean_diag = 0.0;
    for (int i = 0; i < a.rows; ++i) mean_diag += a(i, i);
    mean_diag = a.rows > 0 ? std::abs(mean_diag) / a.rows : 1.0;
    if (mean_diag == 0.0) mean_diag = 1.0;
    if (TryCholesky(a)) return 0.0;
    double jitter = 1e-10 * mean_diag;
    for (int t = 0; t < max_tries; ++t, jitter *= 10.0) {
        a = original;
        for (int i = 0; i < a.rows; ++i) a(i, i) += jitter;
        if (TryCholesky(a)) return jitter;
    }
    throw Internal("Cholesky failed: matrix of size " + std::to_string(a.rows) +
                   " is not positive definite even with jitter");
}

void SolveLower(const Matrix& l, double* b) {
    for (int i = 0; i < l.rows; ++i) {
        const double* li = l.row(i);
        double s = b[i];
        for (int k = 0; k < i; ++k) s -= li[k] * b[k];
        b[i] = s / li[i];
    }
}

void SolveUpperTransposed(const Matrix& l, double* b) {
    for (int i = l.rows - 1; i >= 0; --i) {
        double s = b[i];
        for (int k = i + 1; k < l.rows; ++k) s -= l(k, i) * b[k];
        b[i] = s / l(i, i);
    }
}

void SolveLowerColumns(const Matrix& l, Matrix& b) {
    const int n = l.rows;
    const int m = b.cols;
    // Blocks of columns so that the block of B being solved stays in cache;
    // blocks are independent, so large solves spread them over the cores
    // (each column sees the same operations in the same order either way).
    constexpr int kBlock = 64;
    constexpr double kParallelWork = 4e6;  // multiply-adds below which threads cost more
    const size_t blocks = static_cast<size_t>((m + kBlock - 1) / kBlock);
    auto solve_block = [&](size_t block) {
        const int c0 = static_cast<int>(block) * kBlock;
        const int c1 = c0 + kBlock < m ? c0 + kBlock : m;
        for (int i = 0; i < n; ++i) {
            const double* li = l.row(i);
            double* bi = b.row(i);
            for (int k = 0; k < i; ++k) {
                const double lik = li[k];
                if (lik == 0.0) continue;
                const double* bk = b.row(k);
                for (int c = c0; c < c1; ++c) bi[c] -= lik * bk[c];
            }
            const double inv = 1.0 / li[i];
            for (int c = c0; c < c1; ++c) bi[c] *= inv;
        }
    };
    if (0.5 * n * static_cast<double>(n) * m >= kParallelWork && blocks > 1) {
        internal::ParallelFor(blocks, solve_block);
    } else {
        for (size_t block = 0; block < blocks; ++block) solve_block(block);
    }
}

Matrix InverseFromCholesky(const Matrix& l) {
    const int n = l.rows;
    // Linv: lower-triangular inverse of L, column by column.
    Matrix linv(n, n);
    for (int i = 0; i < n; ++i) linv(i, i) = 1.0;
    SolveLowerColumns(l, linv);
    // K^{-1} = Linv^T Linv; only the lower triangle of Linv is non-zero.
    Matrix inv(n, n);
    for (int k = 0; k < n; ++k) {
        const double* rk = linv.row(k);
        for (int i = 0; i <= k; ++i) {
            const double a = rk[i];
            if (a == 0.0) continue;
            double* out = inv.row(i);
            for (int j = 0; j <= i; ++j) out[j] += a * rk[j];
        }
    }
    for (int i = 0; i < n; ++i) {
        for (int j = i + 1; j < n; ++j) inv(i, j) = inv(j, i);
    }
    return inv;
}

}  // namespace hilnas::optimizer
