/* Cortex-M fully connected with packed 4-bit weights: as nn_fully_connected_s8,
 * with the widened input in s4 lane order (nn_support.h), so that each word of
 * eight packed weights feeds four SMLADs. The weights come out scaled by 16; the
 * sums are shifted back exactly (|16 * sum| < 2^31, see nn_convolve_s4). */
#include "hilnas_nn/nn_functions.h"
#include "hilnas_nn/nn_quant.h"
#include "nn_common.h"
#include "nn_intrinsics.h"
#include "nn_support.h"
#include "nn_validate.h"

nn_status nn_fully_connected_s4(const nn_context* ctx, const nn_fc_params* params,
                                const nn_per_channel_quant* quant, const nn_dims* input_dims,
                                const int8_t* input, const nn_dims* filter_dims,
                                const int8_t* filter, const int32_t* bias,
                                const nn_dims* output_dims, int8_t* output) {
    const nn_status status = nn_validate_fully_connected(
        ctx, params, quant, input_dims, input, filter_dims, filter, output_dims, output,
        nn_fully_connected_s4_get_buffer_size(input_dims, filter_dims));
    if (status != NN_OK) {
        return status;
    }
    const int32_t depth = filter_dims->c, units = filter_dims->n;
    const int32_t row_bytes = nn_s4_row_bytes(depth);
    const nn_cm_requant r = {bias, quant->multiplier, quant->shift, params->output_offset,
                             params->activation};
    int16_t* const x = (int16_t*)ctx->buf;

    for (int32_t b = 0; b < input_dims->n; ++b) {
        int8_t* out = output + b * units;
        nn_cm_s8_to_s16_offset(input + b * depth, x, depth, params->input_offset);
        nn_cm_s16_natural_to_s4_order(x, depth);
        const int32_t tail = depth & ~7;
        int32_t u = 0;
        for (; u + 1 < units; u += 2) {
            const int8_t* row0 = filter + u * row_bytes;
            const int8_t* row1 = row0 + row_bytes;
            int32_t s0 = 0, s1 = 0;
            for (int32_t k = 0; k < tail; k += 8) {
                uint32_t a04, a26, a15, a37, b04, b26, b15, b37;
                nn_cm_unpack_s4x8(nn_read_u32(row0 + k / 2), &a04, &a26, &a15, &a37);
                nn_cm_unpack_s4x8(nn_read_u32(row1 + k / 2), &b04, &b26, &b15, &b37);
                uint32_t xw = nn_read_u32(x + k);
                s0 = nn_smlad(a04, xw, s0);
                s1 = nn_smlad(b04, xw, s1);
                xw = nn_read_u32(x + k + 2);
                s0 = nn_smlad(a26, xw, s0);
                s1 = nn_smlad(b26, xw, s1);
                xw = nn_read_u32(x + k + 4);
                s0 = nn_smlad(a15, xw, s0);
                s1 = nn_smlad(b15, xw, s1);
                xw = nn_read_u32(x + k + 6);
                s0 = nn_smlad(a37, xw, s0);
                s1 = nn_smlad(b37, xw, s1);
            }
            for (int32_t k = tail; k < depth; ++k) {
                s0 += 16 * nn_s4_get(row0, k) * x[k];
                s1 += 16 * nn_s4_get(row1, k) * x[k];
            }
            out[u] = nn_cm_output(&r, u, s0 >> 4);
            out[u + 1] = nn_cm_output(&r, u + 1, s1 >> 4);
        }
        if (u < units) {
            const int8_t* row = filter + u * row_bytes;
            int32_t sum = 0;
            for (int32_t k = 0; k < tail; k += 8) {
                uint32_t w04, w26, w15, w37;
                nn_cm_unpack_s4x8(nn_read_u32(row + k / 2), &w04, &w26, &w15, &w37);
                sum = nn_smlad(w04, nn_read_u32(x + k), sum);
                sum = nn_smlad(w26, nn_read_u32(x + k + 2), sum);
                sum = nn_smlad(w15, nn_read_u32(x + k + 4), sum);
                sum = nn_smlad(w37, nn_read_u32(x + k + 6), sum);
            }
            for (int32_t k = tail; k < depth; ++k) {
                sum += 16 * nn_s4_get(row, k) * x[k];
            }
            out[u] = nn_cm_output(&r, u, sum >> 4);
        }
    }
    return NN_OK;
}
