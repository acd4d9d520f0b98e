/*
 * Internal to the runtime: the arithmetic every kernel shares, inlined. The
 * exported wrappers and their documentation are in hilnas_nn/nn_quant.h.
 */
#ifndef HILNAS_NN_COMMON_H
#define HILNAS_NN_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "hilnas_nn/nn_types.h"

/* The kernels assume two's-complement integers whose right shift is arithmetic
 * (every compiler for our targets and the host); refuse to build otherwise. */
typedef char nn_assert_arithmetic_right_shift[((-1 >> 1) == -1) ? 1 : -1];

static inline int32_t nn_min_s32(int32_t a, int32_t b) { return a < b ? a : b; }

static inline int32_t nn_max_s32(int32_t a, int32_t b) { return a > b ? a : b; }

static inline int32_t nn_clamp_s32(int32_t v, int32_t lo, int32_t hi) {
    return nn_min_s32(nn_max_s32(v, lo), hi);
}

/* int32 addition modulo 2^32, without the undefined behaviour of signed
 * overflow. */
static inline int32_t nn_add_wrap_s32(int32_t a, int32_t b) {
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

/* SaturatingRoundingDoublingHighMul. gemmlowp adds 2^30 to a non-negative
 * product (1 - 2^30 to a negative one) and divides by 2^31 truncating; in both
 * cases that is floor((a * b + 2^30) / 2^31), one multiply-accumulate and a
 * shift here. */
static inline int32_t nn_doubling_high_mult(int32_t a, int32_t b) {
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    return (int32_t)(((int64_t)a * b + ((int64_t)1 << 30)) >> 31);
}

/* RoundingDivideByPOT, exponent in [0, 31]: rounds half away from zero. */
static inline int32_t nn_divide_by_pot(int32_t x, int32_t exponent) {
    const int32_t mask = (int32_t)((UINT32_C(1) << exponent) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* MultiplyByQuantizedMultiplier, shift in [-31, 30]. TFLite writes the left
 * shift as x * (1 << shift) in int32; it wraps here by definition. */
static inline int32_t nn_requantize(int32_t acc, int32_t multiplier, int32_t shift) {
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    const int32_t shifted = (int32_t)((uint32_t)acc << left);
    return nn_divide_by_pot(nn_doubling_high_mult(shifted, multiplier), right);
}

/* The tail every accumulating kernel shares: bias, requantisation, output
 * offset, activation clamp (nn_quant.h). */
static inline int8_t nn_output_s8(int32_t sum, int32_t bias, int32_t multiplier, int32_t shift,
                                  int32_t output_offset, nn_activation activation) {
    int32_t acc = nn_add_wrap_s32(sum, bias);
    acc = nn_requantize(acc, multiplier, shift);
    acc = nn_add_wrap_s32(acc, output_offset);
    return (int8_t)nn_clamp_s32(acc, activation.min, activation.max);
}

/* TFLite's rounding division of pooling sums: ties away from zero, int32 (the
 * addition wraps like the rest of the arithmetic). */
static inline int32_t nn_rounding_divide_s32(int32_t acc, int32_t count) {
    return acc > 0 ? nn_add_wrap_s32(acc, count / 2) / count
                   : nn_add_wrap_s32(acc, -(count / 2)) / count;
}

/* Value k of a packed 4-bit row (nn_pack_s4). */
static inline int32_t nn_s4_get(const int8_t* row, int32_t k) {
    const uint32_t byte = (uint8_t)row[k >> 1];
    const uint32_t nibble = (k & 1) ? (byte >> 4) : (byte & 0xFu);
    return (int32_t)nibble - (int32_t)((nibble & 8u) << 1);
}

/* Whether weight k of a row of the sparse layout (nn_pack_sparse_s8) is
 * non-zero: bit 7 - k % 8 of its bitmap's byte k / 8. */
static inline int nn_sparse_bit(const int8_t* bitmap, int32_t k) {
    return ((uint32_t)(uint8_t)bitmap[k >> 3] >> (7 - (k & 7))) & 1u;
}

/* The scratch of nn_depthwise_conv_in_place_s8, filled the same way by both
 * builds. First the taps of channel c as int16, KH rows of KWe = KW + (KW & 1)
 * values (an odd row's extra value 0, so taps pair up). */
static inline void nn_dw_in_place_taps(const int8_t* filter, int32_t k_h, int32_t k_w,
                                       int32_t channels, int32_t c, int16_t* taps) {
    const int32_t k_we = k_w + (k_w & 1);
    for (int32_t ky = 0; ky < k_h; ++ky) {
        for (int32_t kx = 0; kx < k_w; ++kx) {
            taps[ky * k_we + kx] = filter[(ky * k_w + kx) * channels + c];
        }
        if (k_w & 1) {
            taps[ky * k_we + k_w] = 0;
        }
    }
}

/* Then the plane of channel c of batch b: `rows` x `cols` int16, plane row r
 * and column q holding input (r - pad_h, q - pad_w) + offset, 0 outside the
 * input (the padding, which contributes nothing), and two spare 0s. */
static inline void nn_dw_in_place_plane(const int8_t* data, const nn_dims* in, int32_t b, int32_t c,
                                        int32_t pad_h, int32_t pad_w, int32_t rows, int32_t cols,
                                        int32_t offset, int16_t* plane) {
    for (int32_t r = 0; r < rows; ++r) {
        const int32_t iy = r - pad_h;
        int16_t* dst = plane + r * cols;
        if (iy < 0 || iy >= in->h) {
            for (int32_t q = 0; q < cols; ++q) {
                dst[q] = 0;
            }
            continue;
        }
        const int32_t first = nn_min_s32(pad_w, cols);
        const int32_t end = nn_min_s32(pad_w + in->w, cols);
        const int8_t* src = data + ((b * in->h + iy) * in->w) * in->c + c;
        int32_t q = 0;
        for (; q < first; ++q) {
            dst[q] = 0;
        }
        for (; q < end; ++q) {
            dst[q] = (int16_t)(src[(q - pad_w) * in->c] + offset);
        }
        for (; q < cols; ++q) {
            dst[q] = 0;
        }
    }
    /* The two spare values a pair read of a last odd column may touch. */
    plane[rows * cols] = 0;
    plane[rows * cols + 1] = 0;
}

#endif /* HILNAS_NN_COMMON_H */
