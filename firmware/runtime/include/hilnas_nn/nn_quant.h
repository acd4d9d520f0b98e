/*
 * hilnas int8 runtime: the fixed-point arithmetic of TFLite's quantisation.
 *
 * Every kernel produces an output value from an int32 accumulator the same way:
 *
 *   acc = bias + sum(weight * (input + input_offset))      (int32)
 *   acc = nn_requantize_s32(acc, multiplier, shift)
 *   out = clamp(acc + output_offset, activation.min, activation.max)
 *
 * Integer rules, identical in every build:
 *  - int32 additions wrap modulo 2^32 (what TFLite's int32 arithmetic does on
 *    every target). The sum of products alone never wraps (NN_MAX_ACCUM_DEPTH);
 *    adding an extreme bias, or the output offset, may.
 *  - nn_requantize_s32 is TFLite's MultiplyByQuantizedMultiplier with its double
 *    rounding: x = acc * 2^max(shift, 0) (wrapping), then
 *    SaturatingRoundingDoublingHighMul(x, multiplier), then
 *    RoundingDivideByPOT(., max(-shift, 0)).
 *
 * The functions below are those the kernels use, exported for the trainer, the
 * code generator and tests.
 */
#ifndef HILNAS_NN_QUANT_H
#define HILNAS_NN_QUANT_H

#include <stdint.h>

#include "hilnas_nn/nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* TFLite's QuantizeMultiplier: writes multiplier and shift such that
 * real ~= multiplier * 2^(shift - 31), multiplier in [2^30, 2^31 - 1].
 * frexp-based, the mantissa rounded half away from zero to 31 bits; a mantissa
 * that rounds up to 2^31 becomes 2^30 with shift + 1. real == 0, or so small
 * that the shift would be below -31, gives {0, 0}. NN_ARG_ERROR (outputs
 * untouched) for NULL outputs, a negative, NaN or infinite real, or one whose
 * shift would exceed 30 (from about 2^30 up). Needs no libm; usable on the host
 * and the target. */
nn_status nn_quantize_multiplier(double real, int32_t* multiplier, int32_t* shift);

/* gemmlowp's SaturatingRoundingDoublingHighMul: round(a * b / 2^31) with ties
 * towards +infinity; the one overflow, INT32_MIN * INT32_MIN, gives INT32_MAX. */
int32_t nn_doubling_high_mult_s32(int32_t a, int32_t b);

/* gemmlowp's RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away
 * from zero. exponent in [0, 31]. */
int32_t nn_divide_by_power_of_two_s32(int32_t x, int32_t exponent);

/* TFLite's MultiplyByQuantizedMultiplier (see the top of this file).
 * shift in [-31, 30]. */
int32_t nn_requantize_s32(int32_t acc, int32_t multiplier, int32_t shift);

/* Bytes of one row of n packed 4-bit weights: (n + 1) / 2. */
int32_t nn_s4_row_bytes(int32_t n);

/* Packs rows x row_len int8 values in [-8, 7] into the 4-bit weight layout of
 * nn_convolve_s4, nn_fully_connected_s4 and (one row) nn_depthwise_conv_s4:
 * each row starts on a byte; two values per byte, the first in the low nibble;
 * an odd row ends with a zero high nibble. packed holds
 * rows * nn_s4_row_bytes(row_len) bytes. NN_ARG_ERROR for NULL pointers,
 * non-positive sizes or a value outside [-8, 7]. */
nn_status nn_pack_s4(const int8_t* values, int32_t rows, int32_t row_len, int8_t* packed);

/* The sparse 8-bit weight layout of nn_convolve_sparse_s8 and
 * nn_fully_connected_sparse_s8: `rows` rows of `row_len` int8 weights (the
 * dense filter's rows: OHWI order for convolution, [UNITS, IN] for fully
 * connected), stored as
 *   bitmaps  rows * nn_sparse_bitmap_bytes(row_len) bytes: row r's bitmap
 *            starts on a byte; weight k of the row is non-zero exactly when bit
 *            7 - k % 8 of the bitmap's byte k / 8 is set (the first weight in the
 *            most significant bit); the bits after the last weight are 0
 *   values   the non-zero weights, row after row, each row in its order
 * nn_sparse_s8_bytes(rows, row_len, nonzeros) bytes in all: one bit per weight
 * plus one byte per non-zero one, a size that the shape and the count of
 * non-zero weights fix (whatever their positions). At 80% zeros that is
 * 0.125 + 0.2 = 0.325 of the dense bytes. */

/* Bytes of one row's bitmap: (n + 7) / 8; 0 for n < 1. */
int32_t nn_sparse_bitmap_bytes(int32_t n);

/* Bytes of the sparse layout: rows * nn_sparse_bitmap_bytes(row_len) +
 * nonzeros; 0 when rows or row_len < 1, nonzeros is outside
 * [0, rows * row_len], or the sum exceeds INT32_MAX. */
int32_t nn_sparse_s8_bytes(int32_t rows, int32_t row_len, int32_t nonzeros);

/* Writes rows x row_len int8 values in the sparse layout into packed, which
 * holds nn_sparse_s8_bytes(rows, row_len, nonzero count) bytes. NN_ARG_ERROR
 * for NULL pointers or non-positive sizes. */
nn_status nn_pack_sparse_s8(const int8_t* values, int32_t rows, int32_t row_len, int8_t* packed);

#ifdef __cplusplus
}
#endif

#endif /* HILNAS_NN_QUANT_H */
