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

static inline int8_t nn_cm_output(const nn_cm_requant* r, int32_t channel, int32_t sum) {
    return nn_output_s8(sum, r->bias != NULL ? r->bias[channel] : 0, r->multiplier[channel],
                        r->shift[channel], r->output_offset, r->activation);
}

/* dst[i] = src[i] + offset, natural order. */
void nn_cm_s8_to_s16_offset(const int8_t* src, int16_t* dst, int32_t n, int32_t offset);

/* src + offset widened to int16 in reordered groups of four. */
void nn_cm_s8_to_s16_offset_reordered(const int8_t* src, int16_t* dst, int32_t n, int32_t offset);

/* In place: natural order to s4 order for every whole group of eight. */
void nn_cm_s16_natural_to_s4_order(int16_t* buf, int32_t n);

/* One im2col column: the K_H x K_W window whose top-left input position is
 * (y0, x0) in batch b, as K_H * K_W * C int16 (input + offset; 0 in the
 * padding), natural order. Returns the end of the column. */
int16_t* nn_cm_im2col_s16(const int8_t* input, const nn_dims* input_dims, int32_t b, int32_t y0,
                          int32_t x0, int32_t k_h, int32_t k_w, int32_t offset, int16_t* col);

/* Four int8 weights as natural pairs: *w01 = (w0, w1), *w23 = (w2, w3). */
static inline void nn_cm_read_s8x4_natural(const int8_t* p, uint32_t* w01, uint32_t* w23) {
    const uint32_t in = nn_read_u32(p);
    const uint32_t even = nn_sxtb16(in);     /* (w0, w2) */
    const uint32_t odd = nn_sxtb16_ror8(in); /* (w1, w3) */
    *w01 = nn_pkhbt16(even, odd);
    *w23 = nn_pkhtb16(odd, even);
}

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

#endif /* HILNAS_NN_SUPPORT_H */
