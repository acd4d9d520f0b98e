/* The host-usable quantisation helpers and the exported arithmetic. */
#include "hilnas_nn/nn_quant.h"

#include <stddef.h>
#include <string.h>

#include "nn_common.h"

nn_status nn_quantize_multiplier(double real, int32_t* multiplier, int32_t* shift) {
    uint64_t bits;
    uint64_t mantissa;
    uint64_t q_fixed;
    int32_t biased_exponent;
    int32_t exponent;

    if (multiplier == NULL || shift == NULL) {
        return NN_ARG_ERROR;
    }
    /* Decompose the IEEE-754 double directly (frexp without libm). */
    memcpy(&bits, &real, sizeof bits);
    biased_exponent = (int32_t)((bits >> 52) & 0x7FFu);
    mantissa = bits & ((UINT64_C(1) << 52) - 1u);
    if (biased_exponent == 0x7FF) {
        return NN_ARG_ERROR; /* infinity or NaN */
    }
    if (biased_exponent == 0 && mantissa == 0) {
        *multiplier = 0; /* +0 or -0 */
        *shift = 0;
        return NN_OK;
    }
    if ((bits >> 63) != 0) {
        return NN_ARG_ERROR;
    }
    if (biased_exponent == 0) {
        *multiplier = 0; /* subnormal: far below 2^-31, flushed like TFLite does */
        *shift = 0;
        return NN_OK;
    }
    /* real = m * 2^(biased_exponent - 1075) with m = 2^52 + mantissa, so frexp's
     * fraction is q = m / 2^53 in [0.5, 1) and its exponent biased_exponent - 1022.
     * q * 2^31 = m / 2^22, rounded half away from zero as TfLiteRound does. */
    mantissa |= UINT64_C(1) << 52;
    exponent = biased_exponent - 1022;
    q_fixed = (mantissa + (UINT64_C(1) << 21)) >> 22;
    if (q_fixed == (UINT64_C(1) << 31)) {
        q_fixed >>= 1;
        ++exponent;
    }
    if (exponent < -31) {
        *multiplier = 0;
        *shift = 0;
        return NN_OK;
    }
    if (exponent > 30) {
        return NN_ARG_ERROR;
    }
    *multiplier = (int32_t)q_fixed;
    *shift = exponent;
    return NN_OK;
}

int32_t nn_doubling_high_mult_s32(int32_t a, int32_t b) { return nn_doubling_high_mult(a, b); }

int32_t nn_divide_by_power_of_two_s32(int32_t x, int32_t exponent) {
    return nn_divide_by_pot(x, exponent);
}

int32_t nn_requantize_s32(int32_t acc, int32_t multiplier, int32_t shift) {
    return nn_requantize(acc, multiplier, shift);
}

int32_t nn_s4_row_bytes(int32_t n) { return n <= 0 ? 0 : n / 2 + (n & 1); }

nn_status nn_pack_s4(const int8_t* values, int32_t rows, int32_t row_len, int8_t* packed) {
    const int32_t row_bytes = nn_s4_row_bytes(row_len);
    int32_t r;
    int32_t k;

    if (values == NULL || packed == NULL || rows < 1 || row_len < 1) {
        return NN_ARG_ERROR;
    }
    for (r = 0; r < rows; ++r) {
        for (k = 0; k < row_len; ++k) {
            const int8_t v = values[r * row_len + k];
            if (v < -8 || v > 7) {
                return NN_ARG_ERROR;
            }
        }
    }
    for (r = 0; r < rows; ++r) {
        const int8_t* row = values + r * row_len;
        int8_t* out = packed + r * row_bytes;
        for (k = 0; k < row_bytes; ++k) {
            const uint32_t low = (uint32_t)row[2 * k] & 0xFu;
            const uint32_t high = 2 * k + 1 < row_len ? (uint32_t)row[2 * k + 1] & 0xFu : 0u;
            out[k] = (int8_t)(uint8_t)(low | (high << 4));
        }
    }
    return NN_OK;
}

int32_t nn_sparse_bitmap_bytes(int32_t n) { return n <= 0 ? 0 : n / 8 + ((n & 7) != 0); }

int32_t nn_sparse_s8_bytes(int32_t rows, int32_t row_len, int32_t nonzeros) {
    int64_t bytes;
    if (rows < 1 || row_len < 1 || nonzeros < 0 || nonzeros > (int64_t)rows * row_len) {
        return 0;
    }
    bytes = (int64_t)rows * nn_sparse_bitmap_bytes(row_len) + nonzeros;
    return bytes <= INT32_MAX ? (int32_t)bytes : 0;
}

nn_status nn_pack_sparse_s8(const int8_t* values, int32_t rows, int32_t row_len, int8_t* packed) {
    const int32_t bitmap_bytes = nn_sparse_bitmap_bytes(row_len);
    int8_t* value_out;
    int32_t r;
    int32_t k;

    if (values == NULL || packed == NULL || rows < 1 || row_len < 1 ||
        (int64_t)rows * row_len > INT32_MAX) {
        return NN_ARG_ERROR;
    }
    value_out = packed + rows * bitmap_bytes;
    for (r = 0; r < rows; ++r) {
        uint8_t* bitmap = (uint8_t*)packed + r * bitmap_bytes;
        for (k = 0; k < bitmap_bytes; ++k) {
            bitmap[k] = 0;
        }
        for (k = 0; k < row_len; ++k) {
            const int8_t v = values[r * row_len + k];
            if (v != 0) {
                bitmap[k >> 3] |= (uint8_t)(0x80u >> (k & 7));
                *value_out++ = v;
            }
        }
    }
    return NN_OK;
}
