/*
 * Internal to the Cortex-M build: widening and reordering of operands into the
 * int16 pair layouts that SMLAD consumes.
 *
 * Lane orders (a word holds two int16, lane 0 first):
 *  - natural:   (x0, x1), (x2, x3)                 im2col columns
 *  - reordered: (x0, x2), (x1, x3)  per 4 values   what SXTB16 / SXTB16 ROR #8
 *                                                  make of four int8 weights
 *  - s4:        (x0, x4), (x2, x6), (x1, x5), (x3, x7)  per 8 values: what
 *               nn_cm_unpack_s4x8 makes of eight packed 4-bit weights
 * A tail shorter than a group stays in natural order.
 *
 * The pair layout holds the im2col columns of two output pixels (p = 0, 1) for
 * the two-pixel matrix product, each of `depth` values: for every whole group
 * g < depth / 4 of four values x0..x3, eight int16
 *     (x0, x2)p0  (x1, x3)p0  (x0, x2)p1  (x1, x3)p1
 * (reordered, so the two words SXTB16 / SXTB16 ROR #8 make of four int8
 * weights pair with them, and the four words of a group are read in one go),
 * then the depth % 4 tail values of pixel 0, then those of pixel 1, in natural
 * order. 2 * depth int16 in all; a single column uses the slots of pixel 0.
 */
#ifndef HILNAS_NN_SUPPORT_H
#define HILNAS_NN_SUPPORT_H

#include <stdint.h>

#include "hilnas_nn/nn_types.h"
#include "nn_common.h"
#include "nn_intrinsics.h"

/* What turns a channel's sum of products into its output byte. */
typedef struct {
    const int32_t* bias; /* may be NULL */
    const int32_t* multiplier;
    const int32_t* shift;
    int32_t output_offset;
    nn_activation activation;
} nn_cm_requant;

/* gemmlowp's SaturatingRoundingDoublingHighMul without a branch. With the
 * 64-bit a * b + 2^30 as (hi, lo), floor(. / 2^31) is 2 * hi + (lo >> 31);
 * 2 * hi leaves int32 only for a = b = INT32_MIN (hi = 2^30, lo = 2^30), where
 * QADD saturates to gemmlowp's INT32_MAX. SMLAL, QADD and ORR on the target. */
static inline int32_t nn_cm_doubling_high_mult(int32_t a, int32_t b) {
    const int64_t p = (int64_t)a * b + ((int64_t)1 << 30);
    const int32_t hi = (int32_t)(p >> 32);
    const uint32_t lo = (uint32_t)p;
    return (int32_t)((uint32_t)nn_qadd(hi, hi) | (lo >> 31));
}

/* One output channel's requantisation, unpacked from nn_cm_requant once so
 * that each output costs a few instructions: nn_output_s8's arithmetic, step
 * for step. */
typedef struct {
    int32_t bias;
    int32_t multiplier;
    int32_t left;  /* max(shift, 0) */
    int32_t right; /* max(-shift, 0) */
} nn_cm_channel;

static inline nn_cm_channel nn_cm_channel_at(const nn_cm_requant* r, int32_t channel) {
    const int32_t shift = r->shift[channel];
    const int32_t left = shift > 0 ? shift : 0;
    const nn_cm_channel q = {r->bias != NULL ? r->bias[channel] : 0, r->multiplier[channel], left,
                             left - shift};
    return q;
}

/* The channel's requantisation of acc (the sum of products with the bias
 * already added) plus output_offset, modulo 2^32, before the activation clamp:
 * nine instructions (LSL; MOV, MOV, SMLAL, QADD, ORR for the doubling high
 * multiply; ADDS, ASRS, ADC for the rounding shift and the offset). */
static inline int32_t nn_cm_requantize(const nn_cm_channel* q, int32_t acc, int32_t output_offset) {
    const int32_t y = nn_cm_doubling_high_mult((int32_t)((uint32_t)acc << q->left), q->multiplier);
    /* y > INT32_MIN: |acc * multiplier| <= 2^62 - 2^31 but for INT32_MIN^2,
     * which saturates to INT32_MAX. */
    return nn_round_shift_add(y, q->right, output_offset);
}

/* The output byte of a channel's sum of products (nn_output_s8). */
static inline int8_t nn_cm_output_ch(const nn_cm_channel* q, int32_t output_offset,
                                     nn_activation activation, int32_t sum) {
    const int32_t x = nn_cm_requantize(q, nn_add_wrap_s32(sum, q->bias), output_offset);
    return (int8_t)nn_clamp_s32(x, activation.min, activation.max);
}

static inline int8_t nn_cm_output(const nn_cm_requant* r, int32_t channel, int32_t sum) {
    const nn_cm_channel q = nn_cm_channel_at(r, channel);
    return nn_cm_output_ch(&q, r->output_offset, r->activation, sum);
}

/* The activation's bounds in the four byte lanes, to clamp packed outputs. */
typedef struct {
    uint32_t min4, max4;
} nn_cm_clamp4;

static inline nn_cm_clamp4 nn_cm_clamp4_of(nn_activation activation) {
    const nn_cm_clamp4 c = {nn_dup_s8x4(activation.min), nn_dup_s8x4(activation.max)};
    return c;
}

/* Four requantised outputs (nn_cm_requantize) as the bytes of one word, x0 in
 * byte 0, each saturated to int8 and then clamped to the activation: eleven
 * instructions where four scalar clamps take twenty-four. The activation lies
 * within int8, so saturating first changes nothing. */
static inline uint32_t nn_cm_pack_output4(int32_t x0, int32_t x1, int32_t x2, int32_t x3,
                                          const nn_cm_clamp4* c) {
    const uint32_t packed = nn_pack_u8x4((uint32_t)nn_ssat8(x0), (uint32_t)nn_ssat8(x1),
                                         (uint32_t)nn_ssat8(x2), (uint32_t)nn_ssat8(x3));
    return nn_min_s8x4(nn_max_s8x4(packed, c->min4), c->max4);
}

/* The same for two outputs, in bytes 0 and 1 (bytes 2 and 3 unspecified). */
static inline uint32_t nn_cm_pack_output2(int32_t x0, int32_t x1, const nn_cm_clamp4* c) {
    const uint32_t packed = nn_pack_u8x2((uint32_t)nn_ssat8(x0), (uint32_t)nn_ssat8(x1));
    return nn_min_s8x4(nn_max_s8x4(packed, c->min4), c->max4);
}

/* dst[i] = src[i] + offset, natural order. */
void nn_cm_s8_to_s16_offset(const int8_t* src, int16_t* dst, int32_t n, int32_t offset);

/* src + offset widened to int16 in reordered groups of four; dst 4-byte
 * aligned. */
void nn_cm_s8_to_s16_offset_reordered(const int8_t* src, int16_t* dst, int32_t n, int32_t offset);

/* In place: natural order to s4 order for every whole group of eight. */
void nn_cm_s16_natural_to_s4_order(int16_t* buf, int32_t n);

/* One im2col column: the K_H x K_W window whose top-left input position is
 * (y0, x0) in batch b, as K_H * K_W * C int16 (input + offset; 0 in the
 * padding), natural order. Returns the end of the column. */
int16_t* nn_cm_im2col_s16(const int8_t* input, const nn_dims* input_dims, int32_t b, int32_t y0,
                          int32_t x0, int32_t k_h, int32_t k_w, int32_t offset, int16_t* col);

/* One im2col column, as nn_cm_im2col_s16, written into the pixel-`pixel` slots
 * of a pair-layout buffer of two columns of `depth` values. */
void nn_cm_im2col_pair_s16(const int8_t* input, const nn_dims* input_dims, int32_t b, int32_t y0,
                           int32_t x0, int32_t k_h, int32_t k_w, int32_t offset, int32_t depth,
                           int16_t* pair, int32_t pixel);

/* n int8 values plus offset into the pixel-`pixel` slots of a pair-layout
 * buffer of two columns of n values: a pixel of a 1x1 convolution. */
void nn_cm_widen_pair_s16(const int8_t* src, int32_t n, int32_t offset, int16_t* pair,
                          int32_t pixel);

/* Eight packed 4-bit weights (one word, value 2j in the low nibble of byte j)
 * as pairs scaled by 16: moving each nibble to the top of its byte makes it an
 * int8 worth 16 * w, which SXTB16 widens without a per-lane shift. */
static inline void nn_cm_unpack_s4x8(uint32_t word, uint32_t* w04, uint32_t* w26, uint32_t* w15,
                                     uint32_t* w37) {
    const uint32_t even = (word << 4) & 0xF0F0F0F0u; /* bytes 16*w0, 16*w2, 16*w4, 16*w6 */
    const uint32_t odd = word & 0xF0F0F0F0u;         /* bytes 16*w1, 16*w3, 16*w5, 16*w7 */
    *w04 = nn_sxtb16(even);
    *w26 = nn_sxtb16_ror8(even);
    *w15 = nn_sxtb16(odd);
    *w37 = nn_sxtb16_ror8(odd);
}

/* Word i of a sparse row's bitmap (nn_pack_sparse_s8) of n weights, as a
 * mask whose bit 31 - j is set when weight 32 * i + j is non-zero, so that
 * CLZ finds the next one: REV of one unaligned load, or for the row's last,
 * partial word its bytes one by one; bits past the row's end cleared. */
static inline uint32_t nn_cm_sparse_word(const int8_t* bitmap, int32_t n, int32_t i) {
    const int32_t bits = n - 32 * i;
    if (bits >= 32) {
        return nn_rev(nn_read_u32(bitmap + 4 * i));
    }
    uint32_t m = 0;
    for (int32_t k = 0; 8 * k < bits; ++k) {
        m |= (uint32_t)(uint8_t)bitmap[4 * i + k] << (24 - 8 * k);
    }
    return m & ~(0xFFFFFFFFu >> bits);
}

#endif /* HILNAS_NN_SUPPORT_H */
