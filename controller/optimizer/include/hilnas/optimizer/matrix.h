// A small dense, row-major matrix and the Cholesky routines the Gaussian
// process needs. Matrices here are at most a few thousand rows; no BLAS.
#pragma once

#include <cstddef>
#include <vector>

namespace hilnas::optimizer {

using Vector = std::vector<double>;

struct Matrix {
    int rows = 0;
    int cols = 0;
    std::vector<double> data;  // row-major, rows * cols

    Matrix() = default;
    Matrix(int r, int c, double fill = 0.0)
        : rows(r), cols(c), data(static_cast<size_t>(r) * static_cast<size_t>(c), fill) {}

    double* row(int i) { return data.data() + static_cast<size_t>(i) * static_cast<size_t>(cols); }
    const double* row(int i) const {
        return data.data() + static_cast<size_t>(i) * static_cast<size_t>(cols);
    }
    double& operator()(int i, int j) { return row(i)[j]; }
    double operator()(int i, int j) const { return row(i)[j]; }
};

// Rows of `points` (all of one length) as a matrix.
Matrix FromRows(const std::vector<Vector>& points);

// In place: the lower Cholesky factor L of the symmetric matrix `a` (only its
// lower triangle is read; the upper triangle is zeroed). When `a` is not
// numerically positive definite, jitter (1e-10, 1e-9, ... times the mean
// diagonal, up to `max_tries` times) is added to the diagonal. Returns the
// jitter added (0 when none); throws Internal when every try fails.
double CholeskyInPlace(Matrix& a, int max_tries = 8);

// Solves L x = b in place (L lower triangular).
void SolveLower(const Matrix& l, double* b);
// Solves L^T x = b in place.
void SolveUpperTransposed(const Matrix& l, double* b);
// Solves L X = B in place for a block of right-hand sides stored as the
// columns of `b` (n x m, row-major); vectorises over the columns.
void SolveLowerColumns(const Matrix& l, Matrix& b);
// K^{-1} from its Cholesky factor L (full symmetric matrix).
Matrix InverseFromCholesky(const Matrix& l);

}  // namespace hilnas::optimizer
