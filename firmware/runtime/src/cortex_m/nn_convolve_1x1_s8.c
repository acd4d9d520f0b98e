/* Cortex-M 1x1 convolution: a matrix product of pixels x channels straight from
 * the int8 tensors, no im2col. Both operands are widened by SXTB16, which leaves
 * both in the same (x0, x2), (x1, x3) lane order, so SMLAD pairs them up
 * correctly. The input offset is folded out of the loop:
 * sum(w * (x + offset)) = sum(w * x) + offset * sum(w), each term below 2^30.
 * Register block: two output channels x two pixels. */
#include "hilnas_nn/nn_functions.h"
#include "nn_common.h"
#include "nn_intrinsics.h"
#include "nn_support.h"
#include "nn_validate.h"

/* Walks output pixels in NHWC order and yields the input pixel each reads.
 * Offsets are computed from counters, never stepped past the input. */
typedef struct {
    const int8_t* input;
    int32_t b, oy, ox;
    int32_t out_h, out_w;
    int32_t stride_h, stride_w;
    int32_t pixel_size, row_size, batch_size; /* bytes of an input pixel, row, batch */
} pixel_walk;

static inline const int8_t* next_pixel(pixel_walk* it) {
    const int8_t* pixel = it->input + it->b * it->batch_size +
                          (it->oy * it->stride_h) * it->row_size +
                          (it->ox * it->stride_w) * it->pixel_size;
    if (++it->ox == it->out_w) {
        it->ox = 0;
        if (++it->oy == it->out_h) {
            it->oy = 0;
            ++it->b;
        }
    }
    return pixel;
}

static int32_t sum_s8(const int8_t* w, int32_t n) {
    int32_t sum = 0;
    for (int32_t k = 0; k < n; ++k) {
        sum += w[k];
    }
    return sum;
}

nn_status nn_convolve_1x1_s8(const nn_context* ctx, const nn_conv_params* params,
                             const nn_per_channel_quant* quant, const nn_dims* input_dims,
                             const int8_t* input, const nn_dims* filter_dims, const int8_t* filter,
                             const int32_t* bias, const nn_dims* output_dims, int8_t* output) {
    const nn_status status = nn_validate_conv_1x1(
        ctx, params, quant, input_dims, input, filter_dims, filter, output_dims, output,
        nn_convolve_1x1_s8_get_buffer_size(input_dims, filter_dims));
    if (status != NN_OK) {
        return status;
    }
    const int32_t in_c = input_dims->c, out_c = output_dims->c;
    const int32_t pixels = output_dims->n * output_dims->h * output_dims->w;
    const nn_cm_requant r = {bias, quant->multiplier, quant->shift, params->output_offset,
                             params->activation};
    const pixel_walk start = {.input = input,
                              .out_h = output_dims->h,
                              .out_w = output_dims->w,
                              .stride_h = params->stride.h,
                              .stride_w = params->stride.w,
                              .pixel_size = in_c,
                              .row_size = input_dims->w * in_c,
                              .batch_size = input_dims->h * input_dims->w * in_c};
    int32_t oc = 0;

    for (; oc + 1 < out_c; oc += 2) {
        const int8_t* w0 = filter + oc * in_c;
        const int8_t* w1 = w0 + in_c;
        const int32_t fold0 = params->input_offset * sum_s8(w0, in_c);
        const int32_t fold1 = params->input_offset * sum_s8(w1, in_c);
        pixel_walk walk = start;
        int32_t p = 0;
        for (; p + 1 < pixels; p += 2) {
            const int8_t* x0 = next_pixel(&walk);
            const int8_t* x1 = next_pixel(&walk);
            const int8_t* a = w0;
            const int8_t* b = w1;
            int32_t s00 = 0, s01 = 0, s10 = 0, s11 = 0; /* s<channel><pixel> */
            for (int32_t k = in_c >> 2; k > 0; --k) {
                const uint32_t wa = nn_read_u32(a), wb = nn_read_u32(b);
                const uint32_t xa = nn_read_u32(x0), xb = nn_read_u32(x1);
                const uint32_t wa_even = nn_sxtb16(wa), xa_even = nn_sxtb16(xa);
                const uint32_t wb_even = nn_sxtb16(wb), xb_even = nn_sxtb16(xb);
                s00 = nn_smlad(wa_even, xa_even, s00);
                s01 = nn_smlad(wa_even, xb_even, s01);
                s10 = nn_smlad(wb_even, xa_even, s10);
                s11 = nn_smlad(wb_even, xb_even, s11);
                const uint32_t wa_odd = nn_sxtb16_ror8(wa), xa_odd = nn_sxtb16_ror8(xa);
                const uint32_t wb_odd = nn_sxtb16_ror8(wb), xb_odd = nn_sxtb16_ror8(xb);
                s00 = nn_smlad(wa_odd, xa_odd, s00);
                s01 = nn_smlad(wa_odd, xb_odd, s01);
                s10 = nn_smlad(wb_odd, xa_odd, s10);
                s11 = nn_smlad(wb_odd, xb_odd, s11);
                a += 4;
                b += 4;
                x0 += 4;
                x1 += 4;
            }
            for (int32_t k = in_c & 3; k > 0; --k) {
                const int32_t wa = *a++, wb = *b++, xa = *x0++, xb = *x1++;
                s00 += wa * xa;
                s01 += wa * xb;
                s10 += wb * xa;
                s11 += wb * xb;
            }
            int8_t* out = output + p * out_c + oc;
            out[0] = nn_cm_output(&r, oc, s00 + fold0);
            out[1] = nn_cm_output(&r, oc + 1, s10 + fold1);
            out[out_c] = nn_cm_output(&r, oc, s01 + fold0);
            out[out_c + 1] = nn_cm_output(&r, oc + 1, s11 + fold1);
        }
        if (p < pixels) {
            const int8_t* x = next_pixel(&walk);
            int32_t s0 = 0, s1 = 0;
            for (int32_t k = 0; k < in_c; ++k) {
                s0 += w0[k] * x[k];
                s1 += w1[k] * x[k];
            }
            output[p * out_c + oc] = nn_cm_output(&r, oc, s0 + fold0);
            output[p * out_c + oc + 1] = nn_cm_output(&r, oc + 1, s1 + fold1);
        }
    }
    if (oc < out_c) {
        const int8_t* w = filter + oc * in_c;
        const int32_t fold = params->input_offset * sum_s8(w, in_c);
        pixel_walk walk = start;
        for (int32_t p = 0; p < pixels; ++p) {
            const int8_t* x = next_pixel(&walk);
            const int8_t* a = w;
            int32_t sum = 0;
            for (int32_t k = in_c >> 2; k > 0; --k) {
                const uint32_t wa = nn_read_u32(a), xa = nn_read_u32(x);
                sum = nn_smlad(nn_sxtb16(wa), nn_sxtb16(xa), sum);
                sum = nn_smlad(nn_sxtb16_ror8(wa), nn_sxtb16_ror8(xa), sum);
                a += 4;
                x += 4;
            }
            for (int32_t k = in_c & 3; k > 0; --k) {
                sum += *a++ * *x++;
            }
            output[p * out_c + oc] = nn_cm_output(&r, oc, sum + fold);
        }
    }
    return NN_OK;
}
