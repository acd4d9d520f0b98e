/* Cortex-M 2-D convolution (CMSIS-NN's scheme): im2col of two output pixels into
 * int16 columns with the input offset added, then a register block of two
 * output channels x two pixels, each step four weights widened by SXTB16 and
 * eight dual MACs (SMLAD). A 1x1 window without padding goes to the 1x1 path. */
#include "hilnas_nn/nn_functions.h"
#include "nn_common.h"
#include "nn_intrinsics.h"
#include "nn_support.h"
#include "nn_validate.h"

/* Two columns (col0, col0 + depth) times every filter row; writes two output
 * pixels and returns the output position after them. */
static int8_t* mat_mult_2col(const int8_t* filter, const int16_t* col0, int32_t depth,
                             int32_t out_c, const nn_cm_requant* r, int8_t* out0) {
    int8_t* out1 = out0 + out_c;
    const int16_t* col1 = col0 + depth;
    const int8_t* w0 = filter;
    int32_t oc = 0;

    for (; oc + 1 < out_c; oc += 2) {
        const int8_t* w1 = w0 + depth;
        const int16_t* c0 = col0;
        const int16_t* c1 = col1;
        int32_t s00 = 0, s01 = 0, s10 = 0, s11 = 0; /* s<channel><pixel> */
        for (int32_t k = depth >> 2; k > 0; --k) {
            uint32_t a01, a23, b01, b23;
            nn_cm_read_s8x4_natural(w0, &a01, &a23);
            nn_cm_read_s8x4_natural(w1, &b01, &b23);
            w0 += 4;
            w1 += 4;
            uint32_t x0 = nn_read_u32(c0);
            uint32_t x1 = nn_read_u32(c1);
            s00 = nn_smlad(a01, x0, s00);
            s01 = nn_smlad(a01, x1, s01);
            s10 = nn_smlad(b01, x0, s10);
            s11 = nn_smlad(b01, x1, s11);
            x0 = nn_read_u32(c0 + 2);
            x1 = nn_read_u32(c1 + 2);
            s00 = nn_smlad(a23, x0, s00);
            s01 = nn_smlad(a23, x1, s01);
            s10 = nn_smlad(b23, x0, s10);
            s11 = nn_smlad(b23, x1, s11);
            c0 += 4;
            c1 += 4;
        }
        for (int32_t k = depth & 3; k > 0; --k) {
            const int32_t a = *w0++, b = *w1++, x0 = *c0++, x1 = *c1++;
            s00 += a * x0;
            s01 += a * x1;
            s10 += b * x0;
            s11 += b * x1;
        }
        w0 = w1; /* the next pair of rows */
        out0[oc] = nn_cm_output(r, oc, s00);
        out0[oc + 1] = nn_cm_output(r, oc + 1, s10);
        out1[oc] = nn_cm_output(r, oc, s01);
        out1[oc + 1] = nn_cm_output(r, oc + 1, s11);
    }
    if (oc < out_c) {
        const int16_t* c0 = col0;
        const int16_t* c1 = col1;
        int32_t s0 = 0, s1 = 0;
        for (int32_t k = depth >> 2; k > 0; --k) {
            uint32_t a01, a23;
            nn_cm_read_s8x4_natural(w0, &a01, &a23);
            w0 += 4;
            s0 = nn_smlad(a01, nn_read_u32(c0), s0);
            s1 = nn_smlad(a01, nn_read_u32(c1), s1);
            s0 = nn_smlad(a23, nn_read_u32(c0 + 2), s0);
            s1 = nn_smlad(a23, nn_read_u32(c1 + 2), s1);
            c0 += 4;
            c1 += 4;
        }
        for (int32_t k = depth & 3; k > 0; --k) {
            const int32_t a = *w0++;
            s0 += a * *c0++;
            s1 += a * *c1++;
        }
        out0[oc] = nn_cm_output(r, oc, s0);
        out1[oc] = nn_cm_output(r, oc, s1);
    }
    return out1 + out_c;
}

/* The last column when the pixel count is odd. */
static void mat_mult_1col(const int8_t* filter, const int16_t* col, int32_t depth, int32_t out_c,
                          const nn_cm_requant* r, int8_t* out) {
    const int8_t* w = filter;
    for (int32_t oc = 0; oc < out_c; ++oc) {
        const int16_t* c = col;
        int32_t sum = 0;
        for (int32_t k = depth >> 2; k > 0; --k) {
            uint32_t a01, a23;
            nn_cm_read_s8x4_natural(w, &a01, &a23);
            w += 4;
            sum = nn_smlad(a01, nn_read_u32(c), sum);
            sum = nn_smlad(a23, nn_read_u32(c + 2), sum);
            c += 4;
        }
        for (int32_t k = depth & 3; k > 0; --k) {
            sum += *w++ * *c++;
        }
        out[oc] = nn_cm_output(r, oc, sum);
    }
}

nn_status nn_convolve_s8(const nn_context* ctx, const nn_conv_params* params,
                         const nn_per_channel_quant* quant, const nn_dims* input_dims,
                         const int8_t* input, const nn_dims* filter_dims, const int8_t* filter,
                         const int32_t* bias, const nn_dims* output_dims, int8_t* output) {
    const nn_status status =
        nn_validate_conv(ctx, params, quant, input_dims, input, filter_dims, filter, output_dims,
                         output, nn_convolve_s8_get_buffer_size(input_dims, filter_dims));
    if (status != NN_OK) {
        return status;
    }
    if (filter_dims->h == 1 && filter_dims->w == 1 && params->padding.h == 0 &&
        params->padding.w == 0 && (output_dims->h - 1) * params->stride.h < input_dims->h &&
        (output_dims->w - 1) * params->stride.w < input_dims->w) {
        return nn_convolve_1x1_s8(ctx, params, quant, input_dims, input, filter_dims, filter, bias,
                                  output_dims, output);
    }

    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t depth = k_h * k_w * input_dims->c, out_c = output_dims->c;
    const nn_cm_requant r = {bias, quant->multiplier, quant->shift, params->output_offset,
                             params->activation};
    int16_t* const columns = (int16_t*)ctx->buf;
    int16_t* col = columns;
    int8_t* out = output;

    for (int32_t b = 0; b < input_dims->n; ++b) {
        for (int32_t oy = 0; oy < output_dims->h; ++oy) {
            for (int32_t ox = 0; ox < output_dims->w; ++ox) {
                col = nn_cm_im2col_s16(
                    input, input_dims, b, oy * params->stride.h - params->padding.h,
                    ox * params->stride.w - params->padding.w, k_h, k_w, params->input_offset, col);
                if (col == columns + 2 * depth) {
                    out = mat_mult_2col(filter, columns, depth, out_c, &r, out);
                    col = columns;
                }
            }
        }
    }
    if (col != columns) {
        mat_mult_1col(filter, columns, depth, out_c, &r, out);
    }
    return NN_OK;
}
