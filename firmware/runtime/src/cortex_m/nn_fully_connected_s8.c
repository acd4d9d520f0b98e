/* Cortex-M fully connected: once per batch the input plus its offset is
 * widened into the scratch in the lane order SXTB16 gives the weights
 * ((x0, x2), (x1, x3) per four), so each word of four weights feeds two SMLADs
 * without repacking. Units go two per pass (the last of an odd count with
 * itself), sharing each read of the input: per eight inputs one 2-word read of
 * the input and of each row, eight SXTB16 and eight SMLADs, the loads stepping
 * their own pointers, sixteen inputs per iteration. The sums start from the
 * biases; the pair's two outputs leave as one halfword. Rows that start 4-byte
 * aligned (an aligned filter and a depth that is a multiple of four, as the
 * code generator emits them) are read with LDRD, others word by word. */
#include <stdint.h>

#include "hilnas_nn/nn_functions.h"
#include "nn_common.h"
#include "nn_intrinsics.h"
#include "nn_support.h"
#include "nn_validate.h"

/* Eight weights of a row at *w, then *w += 8: one LDRD when `aligned`. */
static inline void read_s8x8(const int8_t** w, int aligned, uint32_t* lo, uint32_t* hi) {
    if (aligned) {
        nn_read_s8x8_step(w, lo, hi);
    } else {
        *lo = nn_read_s8x4_step(w);
        *hi = nn_read_s8x4_step(w);
    }
}

/* sum += the eight weights (lo, hi) times the widened inputs x0..x3. */
static inline int32_t mac8(uint32_t lo, uint32_t hi, uint32_t x0, uint32_t x1, uint32_t x2,
                           uint32_t x3, int32_t sum) {
    sum = nn_smlad(nn_sxtb16(lo), x0, sum);
    sum = nn_smlad(nn_sxtb16_ror8(lo), x1, sum);
    sum = nn_smlad(nn_sxtb16(hi), x2, sum);
    return nn_smlad(nn_sxtb16_ror8(hi), x3, sum);
}

/* Eight inputs at *x times eight weights of rows *w0 and *w1, stepping all three. */
static inline void step8(const int16_t** x, const int8_t** w0, const int8_t** w1, int aligned,
                         int32_t* s0, int32_t* s1) {
    uint32_t x0, x1, x2, x3, lo, hi;
    nn_read_s16x4_step(x, &x0, &x1);
    nn_read_s16x4_step(x, &x2, &x3);
    read_s8x8(w0, aligned, &lo, &hi);
    *s0 = mac8(lo, hi, x0, x1, x2, x3, *s0);
    read_s8x8(w1, aligned, &lo, &hi);
    *s1 = mac8(lo, hi, x0, x1, x2, x3, *s1);
}

/* (*s0, *s1) += rows w0 and w1 (`depth` weights each) times the widened input
 * x. */
static inline void dot2(const int8_t* w0, const int8_t* w1, const int16_t* x, int32_t depth,
                        int aligned, int32_t* s0, int32_t* s1) {
    const int16_t* const end16 = x + (depth & ~15);
    int32_t a = *s0, b = *s1;
    while (x != end16) {
        step8(&x, &w0, &w1, aligned, &a, &b);
        NN_BARRIER();
        step8(&x, &w0, &w1, aligned, &a, &b);
    }
    if (depth & 8) {
        step8(&x, &w0, &w1, aligned, &a, &b);
    }
    if (depth & 4) {
        uint32_t x0, x1;
        nn_read_s16x4_step(&x, &x0, &x1);
        const uint32_t p = nn_read_s8x4_step(&w0), q = nn_read_s8x4_step(&w1);
        a = nn_smlad(nn_sxtb16(p), x0, a);
        a = nn_smlad(nn_sxtb16_ror8(p), x1, a);
        b = nn_smlad(nn_sxtb16(q), x0, b);
        b = nn_smlad(nn_sxtb16_ror8(q), x1, b);
    }
    for (int32_t t = depth & 3; t > 0; --t) { /* the tail, natural order */
        const int32_t v = *x++;
        a += *w0++ * v;
        b += *w1++ * v;
    }
    *s0 = a;
    *s1 = b;
}

/* The two copies of dot2 the kernel calls (one loop each, no test inside). */
static void dot2_aligned(const int8_t* w0, const int8_t* w1, const int16_t* x, int32_t depth,
                         int32_t* s0, int32_t* s1) {
    dot2(w0, w1, x, depth, 1, s0, s1);
}

static void dot2_unaligned(const int8_t* w0, const int8_t* w1, const int16_t* x, int32_t depth,
                           int32_t* s0, int32_t* s1) {
    dot2(w0, w1, x, depth, 0, s0, s1);
}

nn_status nn_fully_connected_s8(const nn_context* ctx, const nn_fc_params* params,
                                const nn_per_channel_quant* quant, const nn_dims* input_dims,
                                const int8_t* input, const nn_dims* filter_dims,
                                const int8_t* filter, const int32_t* bias,
                                const nn_dims* output_dims, int8_t* output) {
    const nn_status status = nn_validate_fully_connected(
        ctx, params, quant, input_dims, input, filter_dims, filter, output_dims, output,
        nn_fully_connected_s8_get_buffer_size(input_dims, filter_dims));
    if (status != NN_OK) {
        return status;
    }
    const int32_t depth = filter_dims->c, units = filter_dims->n;
    const nn_cm_requant r = {bias, quant->multiplier, quant->shift, params->output_offset,
                             params->activation};
    const nn_cm_clamp4 clamp = nn_cm_clamp4_of(params->activation);
    const int aligned = (((uintptr_t)filter | (uint32_t)depth) & 3u) == 0;
    int16_t* const x = (int16_t*)ctx->buf;

    for (int32_t b = 0; b < input_dims->n; ++b) {
        int8_t* const out = output + b * units;
        nn_cm_s8_to_s16_offset_reordered(input + b * depth, x, depth, params->input_offset);
        for (int32_t u = 0; u < units; u += 2) {
            /* A pair of units; the last of an odd count pairs with itself. */
            const int32_t u1 = u + 1 < units ? u + 1 : u;
            const int8_t* const w0 = filter + u * depth;
            const int8_t* const w1 = filter + u1 * depth;
            int32_t s0 = 0, s1 = 0;
            if (bias != NULL) {
                s0 = bias[u];
                s1 = bias[u1];
            }
            if (aligned) {
                dot2_aligned(w0, w1, x, depth, &s0, &s1);
            } else {
                dot2_unaligned(w0, w1, x, depth, &s0, &s1);
            }
            const nn_cm_channel q0 = nn_cm_channel_at(&r, u), q1 = nn_cm_channel_at(&r, u1);
            const uint32_t packed =
                nn_cm_pack_output2(nn_cm_requantize(&q0, s0, r.output_offset),
                                   nn_cm_requantize(&q1, s1, r.output_offset), &clamp);
            if (u1 != u) {
                nn_write_u16(out + u, packed);
            } else {
                out[u] = (int8_t)packed;
            }
        }
    }
    return NN_OK;
}
