/* Cortex-M 2-D convolution with packed 4-bit weights: nn_convolve_s8's scheme,
 * with each column put into s4 lane order (nn_support.h) so that a word of eight
 * packed weights feeds four SMLADs per column without repacking. The weights
 * come out scaled by 16, so the sums are 16 times the true ones and are shifted
 * back (exactly) before the bias: |16 * sum| <= 65535 * 256 * 8 * 16 < 2^31. */
#include "hilnas_nn/nn_functions.h"
#include "hilnas_nn/nn_quant.h"
#include "nn_common.h"
#include "nn_intrinsics.h"
#include "nn_support.h"
#include "nn_validate.h"

/* 16 times the dot product of packed row `row` with column `col` (s4 order for
 * whole groups of eight, natural order for the tail). */
static int32_t dot_1col(const int8_t* row, const int16_t* col, int32_t depth) {
    int32_t sum = 0;
    int32_t k = 0;
    for (; k + 7 < depth; k += 8) {
        uint32_t w04, w26, w15, w37;
        nn_cm_unpack_s4x8(nn_read_u32(row + k / 2), &w04, &w26, &w15, &w37);
        sum = nn_smlad(w04, nn_read_u32(col + k), sum);
        sum = nn_smlad(w26, nn_read_u32(col + k + 2), sum);
        sum = nn_smlad(w15, nn_read_u32(col + k + 4), sum);
        sum = nn_smlad(w37, nn_read_u32(col + k + 6), sum);
    }
    for (; k < depth; ++k) {
        sum += 16 * nn_s4_get(row, k) * col[k];
    }
    return sum;
}

static int8_t* mat_mult_2col(const int8_t* filter, const int16_t* col0, int32_t depth,
                             int32_t out_c, const nn_cm_requant* r, int8_t* out0) {
    const int32_t row_bytes = nn_s4_row_bytes(depth);
    int8_t* out1 = out0 + out_c;
    const int16_t* col1 = col0 + depth;
    int32_t oc = 0;

    for (; oc + 1 < out_c; oc += 2) {
        const int8_t* row0 = filter + oc * row_bytes;
        const int8_t* row1 = row0 + row_bytes;
        int32_t s00 = 0, s01 = 0, s10 = 0, s11 = 0; /* s<channel><pixel> */
        int32_t k = 0;
        for (; k + 7 < depth; k += 8) {
            uint32_t a04, a26, a15, a37, b04, b26, b15, b37;
            nn_cm_unpack_s4x8(nn_read_u32(row0 + k / 2), &a04, &a26, &a15, &a37);
            nn_cm_unpack_s4x8(nn_read_u32(row1 + k / 2), &b04, &b26, &b15, &b37);
            uint32_t x0 = nn_read_u32(col0 + k);
            uint32_t x1 = nn_read_u32(col1 + k);
            s00 = nn_smlad(a04, x0, s00);
            s01 = nn_smlad(a04, x1, s01);
            s10 = nn_smlad(b04, x0, s10);
            s11 = nn_smlad(b04, x1, s11);
            x0 = nn_read_u32(col0 + k + 2);
            x1 = nn_read_u32(col1 + k + 2);
            s00 = nn_smlad(a26, x0, s00);
            s01 = nn_smlad(a26, x1, s01);
            s10 = nn_smlad(b26, x0, s10);
            s11 = nn_smlad(b26, x1, s11);
            x0 = nn_read_u32(col0 + k + 4);
            x1 = nn_read_u32(col1 + k + 4);
            s00 = nn_smlad(a15, x0, s00);
            s01 = nn_smlad(a15, x1, s01);
            s10 = nn_smlad(b15, x0, s10);
            s11 = nn_smlad(b15, x1, s11);
            x0 = nn_read_u32(col0 + k + 6);
            x1 = nn_read_u32(col1 + k + 6);
            s00 = nn_smlad(a37, x0, s00);
            s01 = nn_smlad(a37, x1, s01);
            s10 = nn_smlad(b37, x0, s10);
            s11 = nn_smlad(b37, x1, s11);
        }
        for (; k < depth; ++k) {
            const int32_t a = 16 * nn_s4_get(row0, k), b = 16 * nn_s4_get(row1, k);
            s00 += a * col0[k];
            s01 += a * col1[k];
            s10 += b * col0[k];
            s11 += b * col1[k];
        }
        out0[oc] = nn_cm_output(r, oc, s00 >> 4);
        out0[oc + 1] = nn_cm_output(r, oc + 1, s10 >> 4);
        out1[oc] = nn_cm_output(r, oc, s01 >> 4);
        out1[oc + 1] = nn_cm_output(r, oc + 1, s11 >> 4);
    }
    if (oc < out_c) {
        const int8_t* row = filter + oc * row_bytes;
        out0[oc] = nn_cm_output(r, oc, dot_1col(row, col0, depth) >> 4);
        out1[oc] = nn_cm_output(r, oc, dot_1col(row, col1, depth) >> 4);
    }
    return out1 + out_c;
}

nn_status nn_convolve_s4(const nn_context* ctx, const nn_conv_params* params,
                         const nn_per_channel_quant* quant, const nn_dims* input_dims,
                         const int8_t* input, const nn_dims* filter_dims, const int8_t* filter,
                         const int32_t* bias, const nn_dims* output_dims, int8_t* output) {
    const nn_status status =
        nn_validate_conv(ctx, params, quant, input_dims, input, filter_dims, filter, output_dims,
                         output, nn_convolve_s4_get_buffer_size(input_dims, filter_dims));
    if (status != NN_OK) {
        return status;
    }
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t depth = k_h * k_w * input_dims->c, out_c = output_dims->c;
    const int32_t row_bytes = nn_s4_row_bytes(depth);
    const nn_cm_requant r = {bias, quant->multiplier, quant->shift, params->output_offset,
                             params->activation};
    int16_t* const columns = (int16_t*)ctx->buf;
    int16_t* col = columns;
    int8_t* out = output;

    for (int32_t b = 0; b < input_dims->n; ++b) {
        for (int32_t oy = 0; oy < output_dims->h; ++oy) {
            for (int32_t ox = 0; ox < output_dims->w; ++ox) {
                int16_t* const start = col;
                col = nn_cm_im2col_s16(
                    input, input_dims, b, oy * params->stride.h - params->padding.h,
                    ox * params->stride.w - params->padding.w, k_h, k_w, params->input_offset, col);
                nn_cm_s16_natural_to_s4_order(start, depth);
                if (col == columns + 2 * depth) {
                    out = mat_mult_2col(filter, columns, depth, out_c, &r, out);
                    col = columns;
                }
            }
        }
    }
    if (col != columns) {
        for (int32_t oc = 0; oc < out_c; ++oc) {
            out[oc] = nn_cm_output(&r, oc, dot_1col(filter + oc * row_bytes, columns, depth) >> 4);
        }
    }
    return NN_OK;
}
