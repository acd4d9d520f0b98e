/* Cortex-M sparse 2-D convolution. A channel's sparsity pattern is the same
 * for every output pixel, so the kernel goes channel by channel: it decodes
 * the channel's bitmap once into the scratch, as an entry (input offset from
 * the window's top-left input, (ky * W + kx) * C_in + ic; value) per non-zero
 * weight and per tap where its entries end and the sum of the values up to
 * there, then runs the entries over every output pixel. Windows whose columns
 * are inside the input (all of a 1x1 convolution's) take four pixels of a row
 * per pass: per entry one LDRD, and per pixel one byte load and one MAC; the
 * input offset is folded out as input_offset * (the sum of the values). Where
 * the window's top or bottom rows lie in the padding, the pass runs the one
 * stretch of entries of the taps in the rows inside (the same for the whole
 * output row). Windows whose columns reach into the padding go one at a time,
 * a stretch of entries per row of taps inside the input.
 *
 * Input addresses are formed from the window's top-left input, which may lie
 * in the padding, outside the input array: they are computed as integers
 * (uintptr_t, wrapping), and only those inside the input are read. */
#include <stddef.h>
#include <stdint.h>

#include "hilnas_nn/nn_functions.h"
#include "hilnas_nn/nn_quant.h"
#include "nn_common.h"
#include "nn_intrinsics.h"
#include "nn_support.h"
#include "nn_validate.h"

/* One channel's weights, decoded: per non-zero weight an entry of its input
 * offset from the window's top-left input and its value (one LDRD), and per
 * tap (ky * KW + kx) the index after its last entry and the sum of the values
 * up to there. */
typedef struct {
    int32_t offset, value;
} entry;

typedef struct {
    int32_t end, value_sum;
} tap;

/* What the passes over one channel's windows read. */
typedef struct {
    const entry* entries;
    const entry* end;
    const tap* taps;
    int32_t step;     /* input bytes between the windows of neighbouring pixels */
    int32_t out_step; /* output bytes between neighbouring pixels: C_out */
    int32_t input_offset;
    int32_t bias;
    int32_t output_offset;
    nn_cm_channel q; /* its bias unused: the sums carry it */
    nn_cm_clamp4 clamp;
    nn_activation activation;
} channel;

/* Decodes the bitmap of one channel (KH * KW * C_in bits) and its values into
 * entries[] and taps[]; returns the count of non-zero weights. */
static int32_t decode_channel(const int8_t* bitmap, const int8_t* value, int32_t k_h, int32_t k_w,
                              int32_t in_w, int32_t in_c, entry* entries, tap* taps) {
    int32_t j = 0, k = 0, value_sum = 0;
    for (int32_t ky = 0; ky < k_h; ++ky) {
        for (int32_t kx = 0; kx < k_w; ++kx) {
            const int32_t tap_offset = (ky * in_w + kx) * in_c;
            for (int32_t ic = 0; ic < in_c; ++ic, ++k) {
                if (nn_sparse_bit(bitmap, k)) {
                    entries[j].offset = tap_offset + ic;
                    entries[j].value = value[j];
                    value_sum += value[j];
                    ++j;
                }
            }
            taps[ky * k_w + kx].end = j;
            taps[ky * k_w + kx].value_sum = value_sum;
        }
    }
    return j;
}

/* The input byte at address p + off. */
static inline int32_t input_at(uintptr_t p, uint32_t off) { return *(const int8_t*)(p + off); }

/* The address of input element `index` (perhaps outside the input). */
static inline uintptr_t address_of(const int8_t* input, int64_t index) {
    return (uintptr_t)input + (uintptr_t)(intptr_t)index;
}

/* Four windows' sums += the entry at *e (stepping *e, one LDRD with
 * writeback) times their inputs: four LDRSB and four MACs. */
static inline void mac4(const void** e, uintptr_t p0, uintptr_t p1, uintptr_t p2, uintptr_t p3,
                        int32_t* s0, int32_t* s1, int32_t* s2, int32_t* s3) {
    uint32_t off, w;
    nn_load_2u32_step(e, &off, &w);
    *s0 += (int32_t)w * input_at(p0, off);
    *s1 += (int32_t)w * input_at(p1, off);
    *s2 += (int32_t)w * input_at(p2, off);
    *s3 += (int32_t)w * input_at(p3, off);
}

/* The sum of products of the entries [e, end) with the window at p. */
static inline int32_t dot1(const entry* e, const entry* end, uintptr_t p) {
    const void* q = e;
    int32_t s = 0;
    while (q != (const void*)end) {
        uint32_t off, w;
        nn_load_2u32_step(&q, &off, &w);
        s += (int32_t)w * input_at(p, off);
    }
    return s;
}

/* The output of an accumulator (the sum of products, offset and bias added). */
static inline int8_t output1(const channel* c, int32_t acc) {
    const int32_t x = nn_cm_requantize(&c->q, acc, c->output_offset);
    return (int8_t)nn_clamp_s32(x, c->activation.min, c->activation.max);
}

/* The entries of an output row's windows whose columns are inside the input
 * (those of the taps in the rows inside), and what completes their sums: the
 * bias plus the input offset times their values, wrapping. */
typedef struct {
    const entry* first;
    const entry* end;
    int32_t base;
} stretch;

/* Four neighbouring windows, the first's top-left input at p: two entries per
 * iteration, then the four outputs requantised, clamped together and stored
 * C_out apart from out on. Not inlined, so that the loop has the registers to
 * itself. Returns the output after them. */
static NN_NOINLINE int8_t* pass4(const channel* c, const stretch* t, uintptr_t p, int8_t* out) {
    const uintptr_t p1 = p + (uintptr_t)c->step, p2 = p1 + (uintptr_t)c->step,
                    p3 = p2 + (uintptr_t)c->step;
    const void* e = t->first;
    const void* const pairs_end = t->first + ((t->end - t->first) & ~(ptrdiff_t)1);
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    while (e != pairs_end) {
        mac4(&e, p, p1, p2, p3, &s0, &s1, &s2, &s3);
        mac4(&e, p, p1, p2, p3, &s0, &s1, &s2, &s3);
    }
    if (e != (const void*)t->end) {
        mac4(&e, p, p1, p2, p3, &s0, &s1, &s2, &s3);
    }
    const int32_t base = t->base, oo = c->output_offset;
    const uint32_t packed =
        nn_cm_pack_output4(nn_cm_requantize(&c->q, nn_add_wrap_s32(s0, base), oo),
                           nn_cm_requantize(&c->q, nn_add_wrap_s32(s1, base), oo),
                           nn_cm_requantize(&c->q, nn_add_wrap_s32(s2, base), oo),
                           nn_cm_requantize(&c->q, nn_add_wrap_s32(s3, base), oo), &c->clamp);
    const int32_t step = c->out_step;
    out[0] = (int8_t)packed;
    out[step] = (int8_t)(packed >> 8);
    out[2 * step] = (int8_t)(packed >> 16);
    out[3 * step] = (int8_t)(packed >> 24);
    return out + 4 * step;
}

/* One such window. */
static NN_NOINLINE void pass1(const channel* c, const stretch* t, uintptr_t p, int8_t* out) {
    *out = output1(c, nn_add_wrap_s32(dot1(t->first, t->end, p), t->base));
}

/* The stretch of the taps in rows [ky0, ky1), columns [kx0, kx1): its
 * entries and the sum of their values. */
static inline const entry* taps_first(const channel* c, int32_t t) {
    return c->entries + (t > 0 ? c->taps[t - 1].end : 0);
}

static inline int32_t taps_value_sum(const channel* c, int32_t t0, int32_t t1) {
    return c->taps[t1].value_sum - (t0 > 0 ? c->taps[t0 - 1].value_sum : 0);
}

/* A window whose columns reach into the padding, its top-left input at p:
 * taps [ky0, ky1) x [kx0, kx1) are inside the input (perhaps none); a stretch
 * of entries per row of them. */
static NN_NOINLINE void pass_clipped(const channel* c, uintptr_t p, int32_t k_w, int32_t ky0,
                                     int32_t ky1, int32_t kx0, int32_t kx1, int8_t* out) {
    int32_t s = 0, value_sum = 0;
    for (int32_t ky = ky0; ky < ky1 && kx0 < kx1; ++ky) {
        const int32_t t0 = ky * k_w + kx0, t1 = ky * k_w + kx1 - 1;
        s += dot1(taps_first(c, t0), c->entries + c->taps[t1].end, p);
        value_sum += taps_value_sum(c, t0, t1);
    }
    *out = output1(c, nn_add_wrap_s32(s + c->input_offset * value_sum, c->bias));
}

/* The first output (along one axis) whose window starts inside the input,
 * and the end of those whose window also ends inside it: [*lo, *hi). Only the
 * columns' matter: rows in the padding only shorten the stretch. */
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
    const int32_t row_bytes = in_w * in_c;
    const nn_cm_requant r = {bias, quant->multiplier, quant->shift, params->output_offset,
                             params->activation};
    entry* const entries = (entry*)ctx->buf;
    tap* const taps = (tap*)(entries + depth);
    int32_t x_lo, x_hi;
    inside_range(in_w, k_w, stride_w, pad_w, out_w, &x_lo, &x_hi);
    const int8_t* value = filter + out_c * bitmap_bytes;
    channel c = {.entries = entries,
                 .end = entries,
                 .taps = taps,
                 .step = stride_w * in_c,
                 .out_step = out_c,
                 .input_offset = params->input_offset,
                 .bias = 0,
                 .output_offset = params->output_offset,
                 .q = nn_cm_channel_at(&r, 0),
                 .clamp = nn_cm_clamp4_of(params->activation),
                 .activation = params->activation};

    for (int32_t oc = 0; oc < out_c; ++oc) {
        const int32_t count =
            decode_channel(filter + oc * bitmap_bytes, value, k_h, k_w, in_w, in_c, entries, taps);
        value += count;
        c.end = entries + count;
        c.q = nn_cm_channel_at(&r, oc);
        c.bias = c.q.bias;
        int8_t* out = output + oc;
        for (int32_t b = 0; b < input_dims->n; ++b) {
            for (int32_t oy = 0; oy < out_h; ++oy) {
                const int32_t y0 = oy * stride_h - pad_h;
                const int32_t ky0 = nn_max_s32(0, -y0), ky1 = nn_min_s32(k_h, in_h - y0);
                /* The taps of rows [ky0, ky1), all columns: one stretch. */
                stretch rows = {entries, entries, c.bias};
                if (ky0 < ky1) {
                    rows.first = taps_first(&c, ky0 * k_w);
                    rows.end = entries + taps[ky1 * k_w - 1].end;
                    rows.base = nn_add_wrap_s32(
                        c.bias, c.input_offset * taps_value_sum(&c, ky0 * k_w, ky1 * k_w - 1));
                }
                const int64_t row_index = ((int64_t)b * in_h + y0) * row_bytes;
                for (int32_t ox = 0; ox < out_w;) {
                    const int32_t x0 = ox * stride_w - pad_w;
                    const uintptr_t p = address_of(input, row_index + (int64_t)x0 * in_c);
                    if (ox >= x_lo && ox < x_hi) {
                        if (ox + 4 <= x_hi) {
                            out = pass4(&c, &rows, p, out);
                            ox += 4;
                            continue;
                        }
                        pass1(&c, &rows, p, out);
                    } else {
                        const int32_t kx0 = nn_max_s32(0, -x0), kx1 = nn_min_s32(k_w, in_w - x0);
                        pass_clipped(&c, p, k_w, ky0, ky1, kx0, kx1, out);
                    }
                    out += out_c;
                    ++ox;
                }
            }
        }
    }
    return NN_OK;
}
