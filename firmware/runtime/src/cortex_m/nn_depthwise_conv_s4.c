/* Cortex-M depthwise convolution with packed 4-bit weights. The nibbles are
 * unpacked once per call, never in the inner loop: with ch_mult 1, one group of
 * four channels at a time, its taps are widened into the scratch as int16 pairs
 * in the lane order SXTAB16 gives a word of four inputs, tap t as the words
 * (w[c], w[c + 2]) and (w[c + 1], w[c + 3]). The group then runs over every
 * output pixel: per tap, one word of inputs widened with the offset added
 * (SXTAB16, SXTAB16 ROR #8) and two weight words loaded as they are feed four
 * single MACs (SMLABB/SMLATT), where nn_depthwise_conv_s8 also widens the weight
 * word (two SXTB16) outside its 3x3 path. Windows inside the input (all but a
 * border) run without bounds checks, 3x3 ones unrolled; border windows are
 * clipped once per pixel. The four outputs are saturated to int8 (SSAT) and
 * clamped to the activation together (SSUB8 + SEL), one word store. Channels
 * left over from the groups of four, and channel multipliers above 1, take one
 * output channel at a time, its taps unpacked into the same scratch. */
#include "hilnas_nn/nn_functions.h"
#include "nn_common.h"
#include "nn_intrinsics.h"
#include "nn_support.h"
#include "nn_validate.h"

typedef struct {
    int32_t s0, s1, s2, s3;
} dw4_sums;

/* One call's arguments, copied so that no output store can alias them. */
typedef struct {
    const int8_t* input;
    const int8_t* filter;
    int8_t* output;
    nn_dims in, k, out; /* the input's, filter's and output's shapes */
    nn_dw_conv_params p;
    nn_cm_requant r;
} dw4_args;

/* The taps of window rows [ky_begin, ky_end) and columns [kx_begin, kx_end) of
 * the window whose top-left input position is (y0, x0): those inside the input.
 * A window wholly in the padding has no rows. */
typedef struct {
    int32_t y0, x0, ky_begin, ky_end, kx_begin, kx_end;
} dw4_window;

static dw4_window clip_window(const dw4_args* a, int32_t oy, int32_t ox) {
    dw4_window v;
    v.y0 = oy * a->p.stride.h - a->p.padding.h;
    v.x0 = ox * a->p.stride.w - a->p.padding.w;
    v.ky_begin = nn_clamp_s32(-v.y0, 0, a->k.h);
    v.ky_end = nn_clamp_s32(a->in.h - v.y0, v.ky_begin, a->k.h);
    v.kx_begin = nn_clamp_s32(-v.x0, 0, a->k.w);
    v.kx_end = nn_clamp_s32(a->in.w - v.x0, v.kx_begin, a->k.w);
    if (v.kx_begin == v.kx_end) {
        v.ky_end = v.ky_begin; /* wholly in the padding: no taps */
    }
    return v;
}

/* One tap of four channels: the inputs at `in` against the widened weights
 * w[0] (channels 0, 2) and w[1] (channels 1, 3). */
static inline void mac4(const int8_t* in, const uint32_t* w, uint32_t offset2, dw4_sums* s) {
    const uint32_t x = nn_read_u32(in);
    const uint32_t even = nn_sxtab16(offset2, x);
    const uint32_t odd = nn_sxtab16_ror8(offset2, x);
    s->s0 = nn_smlabb(even, w[0], s->s0);
    s->s2 = nn_smlatt(even, w[0], s->s2);
    s->s1 = nn_smlabb(odd, w[1], s->s1);
    s->s3 = nn_smlatt(odd, w[1], s->s3);
    NN_BARRIER();
}

/* The sums of taps_y x taps_x taps: inputs from `in` (channel c of the first
 * tap), widened weights from `w` (its first tap), rows of `w_row` taps. The
 * sums live in locals, not behind a pointer, so the barrier in mac4 does not
 * send them to memory. */
static inline dw4_sums window4(const int8_t* in, const uint32_t* w, int32_t taps_y, int32_t taps_x,
                               int32_t in_c, int32_t in_row, int32_t w_row, uint32_t offset2) {
    const int32_t in_skip = in_row - taps_x * in_c, w_skip = 2 * (w_row - taps_x);
    dw4_sums s = {0, 0, 0, 0};
    for (int32_t ky = 0; ky < taps_y; ++ky, in += in_skip, w += w_skip) {
        for (const uint32_t* const w_end = w + 2 * taps_x; w != w_end; w += 2, in += in_c) {
            mac4(in, w, offset2, &s);
        }
    }
    return s;
}

/* nn_cm_output_ch before its clamp: requantised, plus the output offset. */
static inline int32_t requant(const nn_cm_channel* q, int32_t output_offset, int32_t sum) {
    const int32_t acc = (int32_t)((uint32_t)nn_add_wrap_s32(sum, q->bias) << q->left);
    const int32_t x = nn_divide_by_pot(nn_cm_doubling_high_mult(acc, q->multiplier), q->right);
    return nn_add_wrap_s32(x, output_offset);
}

/* The four output bytes: saturated to int8, then clamped to the activation
 * four at a time (min4 / max4: its bounds in every byte). */
static inline void output4(int8_t* out, const nn_cm_channel* q, int32_t output_offset,
                           uint32_t min4, uint32_t max4, const dw4_sums* s) {
    uint32_t y = (uint8_t)nn_ssat8(requant(&q[0], output_offset, s->s0));
    y |= (uint32_t)(uint8_t)nn_ssat8(requant(&q[1], output_offset, s->s1)) << 8;
    y |= (uint32_t)(uint8_t)nn_ssat8(requant(&q[2], output_offset, s->s2)) << 16;
    y |= (uint32_t)(uint8_t)nn_ssat8(requant(&q[3], output_offset, s->s3)) << 24;
    nn_write_u32(out, nn_min_s8x4(nn_max_s8x4(y, min4), max4));
}

/* Channels c .. c + 3 (ch_mult 1) over every output pixel; w: the scratch. */
static void depthwise_group4(const dw4_args* a, int32_t c, uint32_t* w) {
    const int32_t in_c = a->in.c, k_w = a->k.w, taps = a->k.h * a->k.w;
    const int32_t in_row = a->in.w * in_c, step = a->p.stride.w * in_c;
    const uint32_t offset2 = nn_dup_s16x2(a->p.input_offset);
    for (int32_t t = 0, k = c; t < taps; ++t, k += in_c) {
        const int8_t* f = a->filter;
        w[2 * t] = nn_pkhbt16((uint32_t)nn_s4_get(f, k), (uint32_t)nn_s4_get(f, k + 2));
        w[2 * t + 1] = nn_pkhbt16((uint32_t)nn_s4_get(f, k + 1), (uint32_t)nn_s4_get(f, k + 3));
    }
    nn_cm_channel q[4];
    for (int32_t i = 0; i < 4; ++i) {
        q[i] = nn_cm_channel_at(&a->r, c + i);
    }
    const uint32_t min4 = nn_dup_s8x4(a->r.activation.min), max4 = nn_dup_s8x4(a->r.activation.max);
    /* Output columns [ox_begin, ox_end) read whole windows from the input's
     * columns. */
    const int32_t ox_begin =
        nn_min_s32((a->p.padding.w + a->p.stride.w - 1) / a->p.stride.w, a->out.w);
    const int32_t ox_end =
        a->in.w + a->p.padding.w >= k_w
            ? nn_clamp_s32((a->in.w + a->p.padding.w - k_w) / a->p.stride.w + 1, ox_begin, a->out.w)
            : ox_begin;
    int8_t* out = a->output + c;
    for (int32_t b = 0; b < a->in.n; ++b) {
        const int8_t* image = a->input + b * a->in.h * in_row + c;
        for (int32_t oy = 0; oy < a->out.h; ++oy) {
            for (int32_t ox = 0; ox < a->out.w;) {
                const dw4_window v = clip_window(a, oy, ox);
                if (ox == ox_begin && ox < ox_end && v.ky_begin == 0 && v.ky_end == a->k.h) {
                    /* The interior run of this row. */
                    const int8_t* in = image + v.y0 * in_row + v.x0 * in_c;
                    if (a->k.h == 3 && k_w == 3) {
                        for (; ox < ox_end; ++ox, in += step, out += a->out.c) {
                            dw4_sums s = {0, 0, 0, 0};
                            mac4(in, w, offset2, &s);
                            mac4(in + in_c, w + 2, offset2, &s);
                            mac4(in + 2 * in_c, w + 4, offset2, &s);
                            mac4(in + in_row, w + 6, offset2, &s);
                            mac4(in + in_row + in_c, w + 8, offset2, &s);
                            mac4(in + in_row + 2 * in_c, w + 10, offset2, &s);
                            mac4(in + 2 * in_row, w + 12, offset2, &s);
                            mac4(in + 2 * in_row + in_c, w + 14, offset2, &s);
                            mac4(in + 2 * in_row + 2 * in_c, w + 16, offset2, &s);
                            output4(out, q, a->r.output_offset, min4, max4, &s);
                        }
                    } else {
                        for (; ox < ox_end; ++ox, in += step, out += a->out.c) {
                            const dw4_sums s =
                                window4(in, w, a->k.h, k_w, in_c, in_row, k_w, offset2);
                            output4(out, q, a->r.output_offset, min4, max4, &s);
                        }
                    }
                    continue;
                }
                /* A window clipped by the border (or wholly in the padding). */
                const dw4_sums none = {0, 0, 0, 0};
                const dw4_sums s =
                    v.ky_begin == v.ky_end
                        ? none
                        : window4(image + (v.y0 + v.ky_begin) * in_row + (v.x0 + v.kx_begin) * in_c,
                                  w + 2 * (v.ky_begin * k_w + v.kx_begin), v.ky_end - v.ky_begin,
                                  v.kx_end - v.kx_begin, in_c, in_row, k_w, offset2);
                output4(out, q, a->r.output_offset, min4, max4, &s);
                ++ox;
                out += a->out.c;
            }
        }
    }
}

/* Output channel oc alone (any ch_mult) over every output pixel; w: the
 * scratch, which holds its taps as int32. */
static void depthwise_channel(const dw4_args* a, int32_t oc, int32_t* w) {
    const int32_t in_c = a->in.c, k_w = a->k.w, taps = a->k.h * a->k.w;
    for (int32_t t = 0; t < taps; ++t) {
        w[t] = nn_s4_get(a->filter, t * a->out.c + oc);
    }
    const nn_cm_channel q = nn_cm_channel_at(&a->r, oc);
    int8_t* out = a->output + oc;
    for (int32_t b = 0; b < a->in.n; ++b) {
        const int8_t* image = a->input + b * a->in.h * a->in.w * in_c + oc / a->p.ch_mult;
        for (int32_t oy = 0; oy < a->out.h; ++oy) {
            for (int32_t ox = 0; ox < a->out.w; ++ox, out += a->out.c) {
                const dw4_window v = clip_window(a, oy, ox);
                int32_t sum = 0;
                for (int32_t ky = v.ky_begin; ky < v.ky_end; ++ky) {
                    const int8_t* in = image + ((v.y0 + ky) * a->in.w + v.x0 + v.kx_begin) * in_c;
                    const int32_t* wk = w + ky * k_w + v.kx_begin;
                    for (int32_t kx = 0; kx < v.kx_end - v.kx_begin; ++kx) {
                        sum += wk[kx] * (in[kx * in_c] + a->p.input_offset);
                    }
                }
                *out = nn_cm_output_ch(&q, a->r.output_offset, a->r.activation, sum);
            }
        }
    }
}

nn_status nn_depthwise_conv_s4(const nn_context* ctx, const nn_dw_conv_params* params,
                               const nn_per_channel_quant* quant, const nn_dims* input_dims,
                               const int8_t* input, const nn_dims* filter_dims,
                               const int8_t* filter, const int32_t* bias,
                               const nn_dims* output_dims, int8_t* output) {
    const nn_status status = nn_validate_depthwise(
        ctx, params, quant, input_dims, input, filter_dims, filter, output_dims, output,
        nn_depthwise_conv_s4_get_buffer_size(input_dims, filter_dims));
    if (status != NN_OK) {
        return status;
    }
    dw4_args a;
    a.input = input;
    a.filter = filter;
    a.output = output;
    a.in = *input_dims;
    a.k = *filter_dims;
    a.out = *output_dims;
    a.p = *params;
    a.r.bias = bias;
    a.r.multiplier = quant->multiplier;
    a.r.shift = quant->shift;
    a.r.output_offset = params->output_offset;
    a.r.activation = params->activation;
    /* The scratch is at least 8 bytes per tap, 4-byte aligned (validated). */
    void* const scratch = ctx->buf;
    int32_t oc = 0;
    if (a.p.ch_mult == 1) {
        for (; oc + 3 < a.out.c; oc += 4) {
            depthwise_group4(&a, oc, (uint32_t*)scratch);
        }
    }
    for (; oc < a.out.c; ++oc) {
        depthwise_channel(&a, oc, (int32_t*)scratch);
    }
    return NN_OK;
}
