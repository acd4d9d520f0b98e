/*
 * Internal to the Cortex-M build: the matrix product of the convolutions
 * (nn_convolve_s8, nn_convolve_1x1_s8) on columns in the pair layout of
 * nn_support.h. Static inline so that each kernel gets its own copy inlined
 * into its pixel loop (a call per pixel pair costs a few percent at small
 * depths).
 */
#ifndef HILNAS_NN_MAT_MULT_H
#define HILNAS_NN_MAT_MULT_H

#include <stdint.h>

#include "nn_intrinsics.h"
#include "nn_support.h"

/* The pixels x filter rows product: `depth` int8 weights per output channel
 * (rows of `filter`, one after the other), out_c channels. */
typedef struct {
    const int8_t* filter;
    int32_t depth, out_c;
    nn_cm_requant r;
} nn_cm_mat;

/* One group of four values of both columns at *c (pair layout) times four
 * weights of each of two rows at *w0 and *w1: (*s00, *s01) for row 0, (*s10,
 * *s11) for row 1. Steps the three pointers past what it read, in the loads
 * themselves. */
static inline void nn_cm_mac_group_2x2(const int16_t** c, const int8_t** w0, const int8_t** w1,
                                       int32_t* s00, int32_t* s01, int32_t* s10, int32_t* s11) {
    uint32_t x0_even, x0_odd, x1_even, x1_odd;
    nn_read_s16x4_step(c, &x0_even, &x0_odd);
    nn_read_s16x4_step(c, &x1_even, &x1_odd);
    const uint32_t a = nn_read_s8x4_step(w0);
    const uint32_t a_even = nn_sxtb16(a); /* (w0, w2) */
    *s00 = nn_smlad(a_even, x0_even, *s00);
    *s01 = nn_smlad(a_even, x1_even, *s01);
    const uint32_t a_odd = nn_sxtb16_ror8(a); /* (w1, w3) */
    *s00 = nn_smlad(a_odd, x0_odd, *s00);
    *s01 = nn_smlad(a_odd, x1_odd, *s01);
    const uint32_t b = nn_read_s8x4_step(w1);
    const uint32_t b_even = nn_sxtb16(b);
    *s10 = nn_smlad(b_even, x0_even, *s10);
    *s11 = nn_smlad(b_even, x1_even, *s11);
    const uint32_t b_odd = nn_sxtb16_ror8(b);
    *s10 = nn_smlad(b_odd, x0_odd, *s10);
    *s11 = nn_smlad(b_odd, x1_odd, *s11);
}

/* Both columns of a pair-layout buffer times every filter row: a register block
 * of two channels x two pixels, per four weights of each channel one load, two
 * SXTB16, two 2-word reads of the columns and eight SMLADs. The sums start from
 * the biases, and the four outputs of a block leave as two halfwords. Writes
 * two output pixels (out_c bytes each) from out0 on and returns the position
 * after them. */
static inline int8_t* nn_cm_mat_mult_pair(const nn_cm_mat* m, const int16_t* pair, int8_t* out0) {
    const int32_t depth = m->depth, out_c = m->out_c, tail = depth & 3, groups = depth >> 2;
    const int16_t* const pairs_end = pair + 16 * (groups >> 1); /* two groups per step */
    const int32_t* const bias = m->r.bias;
    const int32_t output_offset = m->r.output_offset;
    const nn_cm_clamp4 clamp = nn_cm_clamp4_of(m->r.activation);
    int8_t* const out1 = out0 + out_c;
    const int8_t* w0 = m->filter;
    int32_t oc = 0;

    for (; oc + 1 < out_c; oc += 2) {
        const int8_t* w1 = w0 + depth;
        const int16_t* c = pair;
        int32_t s00 = 0, s10 = 0; /* s<channel><pixel> */
        if (bias != NULL) {
            s00 = bias[oc];
            s10 = bias[oc + 1];
        }
        int32_t s01 = s00, s11 = s10;
        while (c != pairs_end) {
            nn_cm_mac_group_2x2(&c, &w0, &w1, &s00, &s01, &s10, &s11);
            NN_BARRIER();
            nn_cm_mac_group_2x2(&c, &w0, &w1, &s00, &s01, &s10, &s11);
        }
        if (groups & 1) {
            nn_cm_mac_group_2x2(&c, &w0, &w1, &s00, &s01, &s10, &s11);
        }
        for (int32_t k = 0; k < tail; ++k) { /* c: the tail of pixel 0, then pixel 1's */
            const int32_t a = *w0++, b = *w1++, x0 = c[k], x1 = c[tail + k];
            s00 += a * x0;
            s01 += a * x1;
            s10 += b * x0;
            s11 += b * x1;
        }
        w0 = w1; /* the next pair of rows */
        const nn_cm_channel q0 = nn_cm_channel_at(&m->r, oc);
        const nn_cm_channel q1 = nn_cm_channel_at(&m->r, oc + 1);
        const uint32_t packed = nn_cm_pack_output4(
            nn_cm_requantize(&q0, s00, output_offset), nn_cm_requantize(&q1, s10, output_offset),
            nn_cm_requantize(&q0, s01, output_offset), nn_cm_requantize(&q1, s11, output_offset),
            &clamp);
        nn_write_u16(out0 + oc, packed);
        nn_write_u16(out1 + oc, packed >> 16);
    }
    if (oc < out_c) {
        const int16_t* const groups_end = pair + 8 * groups;
        const int16_t* c = pair;
        int32_t s0 = 0, s1 = 0;
        while (c != groups_end) {
            uint32_t x0_even, x0_odd, x1_even, x1_odd;
            nn_read_s16x4_step(&c, &x0_even, &x0_odd);
            nn_read_s16x4_step(&c, &x1_even, &x1_odd);
            const uint32_t a = nn_read_s8x4_step(&w0);
            const uint32_t a_even = nn_sxtb16(a), a_odd = nn_sxtb16_ror8(a);
            s0 = nn_smlad(a_even, x0_even, s0);
            s0 = nn_smlad(a_odd, x0_odd, s0);
            s1 = nn_smlad(a_even, x1_even, s1);
            s1 = nn_smlad(a_odd, x1_odd, s1);
        }
        for (int32_t k = 0; k < tail; ++k) {
            const int32_t a = *w0++;
            s0 += a * c[k];
            s1 += a * c[tail + k];
        }
        const nn_cm_channel q = nn_cm_channel_at(&m->r, oc);
        out0[oc] = nn_cm_output_ch(&q, output_offset, m->r.activation, s0);
        out1[oc] = nn_cm_output_ch(&q, output_offset, m->r.activation, s1);
    }
    return out1 + out_c;
}

/* The pixel-0 column of a pair-layout buffer times every filter row: one
 * output pixel at out (the last of an odd count). */
static inline void nn_cm_mat_mult_single(const nn_cm_mat* m, const int16_t* pair, int8_t* out) {
    const int32_t depth = m->depth, tail = depth & 3;
    const int16_t* const groups_end = pair + 2 * (depth - tail);
    const int8_t* w = m->filter;
    for (int32_t oc = 0; oc < m->out_c; ++oc) {
        const int16_t* c = pair;
        int32_t sum = 0;
        while (c != groups_end) {
            const uint32_t a = nn_read_s8x4_step(&w);
            sum = nn_smlad(nn_sxtb16(a), nn_read_u32_aligned(c), sum);
            sum = nn_smlad(nn_sxtb16_ror8(a), nn_read_u32_aligned(c + 2), sum);
            c += 8;
        }
        for (int32_t k = 0; k < tail; ++k) {
            sum += *w++ * groups_end[k];
        }
        const nn_cm_channel q = nn_cm_channel_at(&m->r, oc);
        out[oc] = nn_cm_output_ch(&q, m->r.output_offset, m->r.activation, sum);
    }
}

#endif /* HILNAS_NN_MAT_MULT_H */
