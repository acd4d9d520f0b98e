/* Cortex-M depthwise convolution. With ch_mult 1 (the usual case) four channels
 * go together: per tap, one word of inputs and one of weights, the inputs
 * widened with the offset added by SXTAB16 and the weights by SXTB16, feed four
 * single MACs (SMLABB/SMLATT). 3x3 windows take a dedicated path: one group of
 * four channels at a time over every output pixel, its nine weight words
 * widened once and its requantisation unpacked once, interior windows fully
 * unrolled. Other windows are clipped to the input once per output pixel, so
 * the tap loop has no bounds checks. Other channel multipliers, and channels
 * left over from the groups of four, take a scalar loop over the same clipped
 * window. */
#include "hilnas_nn/nn_functions.h"
#include "nn_common.h"
#include "nn_intrinsics.h"
#include "nn_support.h"
#include "nn_validate.h"

typedef struct {
    int32_t s0, s1, s2, s3;
} sums4;

/* One call's arguments. */
typedef struct {
    const int8_t* input;
    const int8_t* filter;
    int8_t* output;
    int32_t batches, in_h, in_w, in_c, k_h, k_w, out_h, out_w, out_c, ch_mult;
    int32_t stride_h, stride_w, pad_h, pad_w, offset;
    nn_cm_requant r;
} dw_args;

/* One tap for four channels: x holds inputs of channels 0..3, (k_even, k_odd)
 * their weights widened by SXTB16 / SXTB16 ROR #8. */
static inline void tap4_widened(uint32_t x, uint32_t k_even, uint32_t k_odd, uint32_t offset2,
                                sums4* s) {
    const uint32_t x_even = nn_sxtab16(offset2, x);     /* channels 0, 2, plus offset */
    const uint32_t x_odd = nn_sxtab16_ror8(offset2, x); /* channels 1, 3 */
    s->s0 = nn_smlabb(x_even, k_even, s->s0);
    s->s2 = nn_smlatt(x_even, k_even, s->s2);
    s->s1 = nn_smlabb(x_odd, k_odd, s->s1);
    s->s3 = nn_smlatt(x_odd, k_odd, s->s3);
}

static inline void tap4(const int8_t* in, const int8_t* w, uint32_t offset2, sums4* s) {
    const uint32_t k = nn_read_u32(w);
    tap4_widened(nn_read_u32(in), nn_sxtb16(k), nn_sxtb16_ror8(k), offset2, s);
}

static inline void output4(int8_t* out, const nn_cm_channel* q, const nn_cm_requant* r,
                           const sums4* s) {
    out[0] = nn_cm_output_ch(&q[0], r->output_offset, r->activation, s->s0);
    out[1] = nn_cm_output_ch(&q[1], r->output_offset, r->activation, s->s1);
    out[2] = nn_cm_output_ch(&q[2], r->output_offset, r->activation, s->s2);
    out[3] = nn_cm_output_ch(&q[3], r->output_offset, r->activation, s->s3);
}

/* The tap weights of one group of four channels, widened once: tap t is
 * (SXTB16, SXTB16 ROR #8) of its word. */
typedef struct {
    uint32_t even, odd;
} widened4;

/* One tap: the word of four inputs at `in` against widened weights k. */
static inline void tap4_at(const int8_t* in, widened4 k, uint32_t offset2, sums4* s) {
    tap4_widened(nn_read_u32(in), k.even, k.odd, offset2, s);
    NN_BARRIER();
}

/* 3x3 window, ch_mult 1: channels c .. c + 3 over every output pixel. Windows
 * wholly inside the input (all but a border) take nine unrolled taps. */
static void depthwise_3x3_group4(const dw_args* a, int32_t c) {
    const int32_t in_c = a->in_c, row = a->in_w * in_c, step = a->stride_w * in_c;
    const uint32_t offset2 = nn_dup_s16x2(a->offset);
    widened4 k[9]; /* tap ky * 3 + kx */
    for (int32_t t = 0; t < 9; ++t) {
        const uint32_t w = nn_read_u32(a->filter + t * in_c + c);
        k[t].even = nn_sxtb16(w);
        k[t].odd = nn_sxtb16_ror8(w);
    }
    nn_cm_channel q[4];
    for (int32_t i = 0; i < 4; ++i) {
        q[i] = nn_cm_channel_at(&a->r, c + i);
    }
    /* Output columns ox_begin .. ox_end - 1 read whole windows from the input's
     * columns (when the rows are inside too). */
    const int32_t ox_begin = nn_min_s32((a->pad_w + a->stride_w - 1) / a->stride_w, a->out_w);
    const int32_t ox_end =
        a->in_w + a->pad_w >= 3
            ? nn_clamp_s32((a->in_w + a->pad_w - 3) / a->stride_w + 1, ox_begin, a->out_w)
            : ox_begin;
    int8_t* out = a->output + c;
    for (int32_t b = 0; b < a->batches; ++b) {
        for (int32_t oy = 0; oy < a->out_h; ++oy) {
            const int32_t y0 = oy * a->stride_h - a->pad_h;
            const int32_t ky_begin = nn_clamp_s32(-y0, 0, 3);
            const int32_t ky_end = nn_clamp_s32(a->in_h - y0, ky_begin, 3);
            const int rows_inside = ky_begin == 0 && ky_end == 3;
            for (int32_t ox = 0; ox < a->out_w; ++ox, out += a->out_c) {
                const int32_t x0 = ox * a->stride_w - a->pad_w;
                if (rows_inside && ox == ox_begin && ox_begin < ox_end) {
                    /* The interior run of this row. */
                    const int8_t* in = a->input + ((b * a->in_h + y0) * a->in_w + x0) * in_c + c;
                    for (; ox < ox_end; ++ox, out += a->out_c, in += step) {
                        sums4 s = {0, 0, 0, 0};
                        tap4_at(in, k[0], offset2, &s);
                        tap4_at(in + in_c, k[1], offset2, &s);
                        tap4_at(in + 2 * in_c, k[2], offset2, &s);
                        tap4_at(in + row, k[3], offset2, &s);
                        tap4_at(in + row + in_c, k[4], offset2, &s);
                        tap4_at(in + row + 2 * in_c, k[5], offset2, &s);
                        tap4_at(in + 2 * row, k[6], offset2, &s);
                        tap4_at(in + 2 * row + in_c, k[7], offset2, &s);
                        tap4_at(in + 2 * row + 2 * in_c, k[8], offset2, &s);
                        output4(out, q, &a->r, &s);
                    }
                    if (ox == a->out_w) {
                        break;
                    }
                }
                /* A window clipped by the border. */
                const int32_t x_begin = ox * a->stride_w - a->pad_w;
                const int32_t kx_begin = nn_clamp_s32(-x_begin, 0, 3);
                const int32_t kx_end = nn_clamp_s32(a->in_w - x_begin, kx_begin, 3);
                sums4 s = {0, 0, 0, 0};
                for (int32_t ky = ky_begin; ky < ky_end; ++ky) {
                    const int8_t* in =
                        a->input + ((b * a->in_h + y0 + ky) * a->in_w + x_begin) * in_c + c;
                    for (int32_t kx = kx_begin; kx < kx_end; ++kx) {
                        tap4_at(in + kx * in_c, k[ky * 3 + kx], offset2, &s);
                    }
                }
                output4(out, q, &a->r, &s);
            }
        }
    }
}

/* Every output pixel, channels from c_begin on: groups of four (ch_mult 1),
 * then one at a time. */
static void depthwise_generic(const dw_args* a, int32_t c_begin) {
    const int32_t in_h = a->in_h, in_w = a->in_w, in_c = a->in_c;
    const int32_t k_h = a->k_h, k_w = a->k_w, out_c = a->out_c, ch_mult = a->ch_mult;
    const int32_t offset = a->offset;
    const uint32_t offset2 = nn_dup_s16x2(offset);
    int8_t* out = a->output;

    for (int32_t b = 0; b < a->batches; ++b) {
        for (int32_t oy = 0; oy < a->out_h; ++oy) {
            const int32_t y0 = oy * a->stride_h - a->pad_h;
            const int32_t ky_begin = nn_clamp_s32(-y0, 0, k_h);
            const int32_t ky_end = nn_clamp_s32(in_h - y0, ky_begin, k_h);
            for (int32_t ox = 0; ox < a->out_w; ++ox) {
                const int32_t x0 = ox * a->stride_w - a->pad_w;
                const int32_t kx_begin = nn_clamp_s32(-x0, 0, k_w);
                const int32_t kx_end = nn_clamp_s32(in_w - x0, kx_begin, k_w);
                const int32_t taps_y = ky_end - ky_begin, taps_x = kx_end - kx_begin;
                const int inside = taps_y > 0 && taps_x > 0;
                /* Offsets of the first tap inside the input (none if the window
                 * lies wholly in the padding). */
                const int32_t in_first =
                    inside ? ((b * in_h + y0 + ky_begin) * in_w + x0 + kx_begin) * in_c : 0;
                const int32_t w_first = (ky_begin * k_w + kx_begin) * out_c;
                int32_t c = c_begin;
                if (ch_mult == 1) {
                    for (; c + 3 < in_c; c += 4) {
                        sums4 s = {0, 0, 0, 0};
                        if (inside) {
                            int32_t in_row = in_first + c, w_row = w_first + c;
                            for (int32_t ky = 0; ky < taps_y; ++ky) {
                                const int8_t* in = a->input + in_row;
                                const int8_t* w = a->filter + w_row;
                                if (taps_x == 3) {
                                    tap4(in, w, offset2, &s);
                                    tap4(in + in_c, w + in_c, offset2, &s);
                                    tap4(in + 2 * in_c, w + 2 * in_c, offset2, &s);
                                } else {
                                    for (int32_t kx = 0; kx < taps_x; ++kx) {
                                        tap4(in + kx * in_c, w + kx * in_c, offset2, &s);
                                    }
                                }
                                in_row += in_w * in_c;
                                w_row += k_w * in_c;
                            }
                        }
                        out[c] = nn_cm_output(&a->r, c, s.s0);
                        out[c + 1] = nn_cm_output(&a->r, c + 1, s.s1);
                        out[c + 2] = nn_cm_output(&a->r, c + 2, s.s2);
                        out[c + 3] = nn_cm_output(&a->r, c + 3, s.s3);
                    }
                }
                /* The remaining channels (all of them when ch_mult > 1). */
                for (; c < in_c; ++c) {
                    for (int32_t m = 0; m < ch_mult; ++m) {
                        const int32_t oc = c * ch_mult + m;
                        int32_t sum = 0;
                        for (int32_t ky = 0; ky < taps_y; ++ky) {
                            for (int32_t kx = 0; kx < taps_x; ++kx) {
                                const int32_t x = a->input[in_first + (ky * in_w + kx) * in_c + c];
                                const int32_t w = a->filter[w_first + (ky * k_w + kx) * out_c + oc];
                                sum += w * (x + offset);
                            }
                        }
                        out[oc] = nn_cm_output(&a->r, oc, sum);
                    }
                }
                out += out_c;
            }
        }
    }
}

nn_status nn_depthwise_conv_s8(const nn_context* ctx, const nn_dw_conv_params* params,
                               const nn_per_channel_quant* quant, const nn_dims* input_dims,
                               const int8_t* input, const nn_dims* filter_dims,
                               const int8_t* filter, const int32_t* bias,
                               const nn_dims* output_dims, int8_t* output) {
    const nn_status status = nn_validate_depthwise(
        ctx, params, quant, input_dims, input, filter_dims, filter, output_dims, output,
        nn_depthwise_conv_s8_get_buffer_size(input_dims, filter_dims));
    if (status != NN_OK) {
        return status;
    }
    const dw_args a = {
        input,
        filter,
        output,
        input_dims->n,
        input_dims->h,
        input_dims->w,
        input_dims->c,
        filter_dims->h,
        filter_dims->w,
        output_dims->h,
        output_dims->w,
        output_dims->c,
        params->ch_mult,
        params->stride.h,
        params->stride.w,
        params->padding.h,
        params->padding.w,
        params->input_offset,
        {bias, quant->multiplier, quant->shift, params->output_offset, params->activation}};
    int32_t c = 0;
    if (a.k_h == 3 && a.k_w == 3 && a.ch_mult == 1) {
        for (; c + 3 < a.in_c; c += 4) {
            depthwise_3x3_group4(&a, c);
        }
        if (c == a.in_c) {
            return NN_OK;
        }
    }
    depthwise_generic(&a, c);
    return NN_OK;
}
