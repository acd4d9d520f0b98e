/* Cortex-M sparse 2-D convolution. A channel's sparsity pattern is the same
 * for every output pixel, so the kernel goes channel by channel: it decodes
 * the channel's bitmap once into the scratch, as the input offset of each
 * non-zero weight from its window's top-left input (ky * W + kx) * C_in + ic
 * and where each tap's weights end, then runs the list over every output
 * pixel. Windows wholly inside the input (all of a 1x1 convolution's) take
 * four pixels of a row per pass: per non-zero weight one load of the offset,
 * one of the weight, and per pixel one byte load and one MAC; the input
 * offset is folded out as input_offset * (the sum of the channel's weights).
 * Windows that reach into the padding go one pixel at a time over the taps
 * inside the input. */
#include <stdint.h>

#include "hilnas_nn/nn_functions.h"
#include "hilnas_nn/nn_quant.h"
#include "nn_common.h"
#include "nn_intrinsics.h"
#include "nn_support.h"
#include "nn_validate.h"

/* One channel's weights, decoded. */
typedef struct {
    const int32_t* offset;  /* per non-zero weight, from the window's top-left input */
    const int32_t* tap_end; /* per tap (ky * KW + kx): the index after its last weight */
    const int8_t* value;    /* the channel's non-zero weights */
    int32_t count;          /* of non-zero weights */
    int32_t value_sum;      /* their sum */
} channel_list;

/* Decodes the bitmap of one channel (depth = KH * KW * C_in bits) into
 * offset[] and tap_end[]. */
static channel_list decode_channel(const int8_t* bitmap, const int8_t* value, int32_t k_h,
                                   int32_t k_w, int32_t in_w, int32_t in_c, int32_t* offset,
                                   int32_t* tap_end) {
    channel_list list = {offset, tap_end, value, 0, 0};
    int32_t j = 0, k = 0;
    for (int32_t ky = 0; ky < k_h; ++ky) {
        for (int32_t kx = 0; kx < k_w; ++kx) {
            const int32_t tap_offset = (ky * in_w + kx) * in_c;
            for (int32_t ic = 0; ic < in_c; ++ic, ++k) {
                if (nn_sparse_bit(bitmap, k)) {
                    offset[j] = tap_offset + ic;
                    list.value_sum += value[j];
                    ++j;
                }
            }
            tap_end[ky * k_w + kx] = j;
        }
    }
    list.count = j;
    return list;
}

/* The sums of products of the channel's weights with four windows whose
 * top-left inputs are p, p + step, p + 2 step, p + 3 step (all inside the
 * input; the input offset not added). */
static inline void dot4(const channel_list* l, const int8_t* p, int32_t step, int32_t* s) {
    const int8_t *const p1 = p + step, *const p2 = p1 + step, *const p3 = p2 + step;
    const int32_t* o = l->offset;
    const int32_t* const end = o + l->count;
    const int8_t* v = l->value;
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    while (o != end) {
        const int32_t off = *o++, w = *v++;
        s0 += w * p[off];
        s1 += w * p1[off];
        s2 += w * p2[off];
        s3 += w * p3[off];
    }
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
}

/* The same for one window. */
static inline int32_t dot1(const channel_list* l, const int8_t* p) {
    const int32_t* o = l->offset;
    const int32_t* const end = o + l->count;
    const int8_t* v = l->value;
    int32_t s = 0;
    while (o != end) {
        s += *v++ * p[*o++];
    }
    return s;
}

/* A window that reaches into the padding, its top-left input at (y0, x0) of
 * batch b: the taps inside the input only, the input offset added to each
 * product. */
static int32_t dot_clipped(const channel_list* l, const int8_t* input, const nn_dims* in, int32_t b,
                           int32_t y0, int32_t x0, int32_t k_h, int32_t k_w, int32_t input_offset) {
    const int32_t ky0 = nn_max_s32(0, -y0), ky1 = nn_min_s32(k_h, in->h - y0);
    const int32_t kx0 = nn_max_s32(0, -x0), kx1 = nn_min_s32(k_w, in->w - x0);
    /* The top-left input's index (perhaps outside the input: int64). */
    const int64_t base = (((int64_t)b * in->h + y0) * in->w + x0) * in->c;
    int32_t s = 0;
    for (int32_t ky = ky0; ky < ky1; ++ky) {
        for (int32_t kx = kx0; kx < kx1; ++kx) {
            const int32_t t = ky * k_w + kx;
            for (int32_t j = t > 0 ? l->tap_end[t - 1] : 0; j < l->tap_end[t]; ++j) {
                const int32_t x = input[base + l->offset[j]];
                s += l->value[j] * (x + input_offset);
            }
        }
    }
    return s;
}

/* The first output (along one axis) whose window starts inside the input,
 * and the end of those whose window also ends inside it: [*lo, *hi). */
static void inside_range(int32_t in, int32_t k, int32_t stride, int32_t pad, int32_t out,
                         int32_t* lo, int32_t* hi) {
    *lo = nn_min_s32((pad + stride - 1) / stride, out);
    *hi = in - k + pad >= 0 ? nn_min_s32((in - k + pad) / stride + 1, out) : 0;
    *hi = nn_max_s32(*hi, *lo);
}

nn_status nn_convolve_sparse_s8(const nn_context* ctx, const nn_conv_params* params,
                                const nn_per_channel_quant* quant, const nn_dims* input_dims,
                                const int8_t* input, const nn_dims* filter_dims,
                                const int8_t* filter, const int32_t* bias,
                                const nn_dims* output_dims, int8_t* output) {
    const nn_status status =
        nn_validate_conv(ctx, params, quant, input_dims, input, filter_dims, filter, output_dims,
                         output, nn_convolve_sparse_s8_get_buffer_size(input_dims, filter_dims));
    if (status != NN_OK) {
        return status;
    }
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    const int32_t stride_h = params->stride.h, stride_w = params->stride.w;
    const int32_t pad_h = params->padding.h, pad_w = params->padding.w;
    const int32_t depth = k_h * k_w * in_c, bitmap_bytes = nn_sparse_bitmap_bytes(depth);
    const int32_t input_offset = params->input_offset, step = stride_w * in_c;
    const nn_cm_requant r = {bias, quant->multiplier, quant->shift, params->output_offset,
                             params->activation};
    int32_t* const offsets = (int32_t*)ctx->buf;
    int32_t* const tap_ends = offsets + depth;
    int32_t y_lo, y_hi, x_lo, x_hi;
    inside_range(in_h, k_h, stride_h, pad_h, out_h, &y_lo, &y_hi);
    inside_range(in_w, k_w, stride_w, pad_w, out_w, &x_lo, &x_hi);
    const int8_t* value = filter + out_c * bitmap_bytes;

    for (int32_t oc = 0; oc < out_c; ++oc) {
        const channel_list l = decode_channel(filter + oc * bitmap_bytes, value, k_h, k_w, in_w,
                                              in_c, offsets, tap_ends);
        value += l.count;
        const nn_cm_channel q = nn_cm_channel_at(&r, oc);
        /* The input offset's share of an inside window's sum. */
        const int32_t folded = input_offset * l.value_sum;
        int8_t* out = output + oc;
        for (int32_t b = 0; b < input_dims->n; ++b) {
            for (int32_t oy = 0; oy < out_h; ++oy) {
                const int32_t y0 = oy * stride_h - pad_h;
                const int inside_y = oy >= y_lo && oy < y_hi;
                int32_t ox = 0;
                while (ox < out_w) {
                    const int32_t x0 = ox * stride_w - pad_w;
                    if (!inside_y || ox < x_lo || ox >= x_hi) {
                        const int32_t s =
                            dot_clipped(&l, input, input_dims, b, y0, x0, k_h, k_w, input_offset);
                        *out = nn_cm_output_ch(&q, r.output_offset, r.activation, s);
                        out += out_c;
                        ++ox;
                        continue;
                    }
                    const int8_t* const p = input + ((b * in_h + y0) * in_w + x0) * in_c;
                    if (ox + 4 <= x_hi) {
                        int32_t s[4];
                        dot4(&l, p, step, s);
                        for (int32_t i = 0; i < 4; ++i) {
                            *out =
                                nn_cm_output_ch(&q, r.output_offset, r.activation, s[i] + folded);
                            out += out_c;
                        }
                        ox += 4;
                    } else {
                        *out = nn_cm_output_ch(&q, r.output_offset, r.activation,
                                               dot1(&l, p) + folded);
                        out += out_c;
                        ++ox;
                    }
                }
            }
        }
    }
    return NN_OK;
}
