/* Cortex-M fully connected: once per batch the input plus its offset is
 * widened into the scratch in the lane order SXTB16 gives the weights
 * ((x0, x2), (x1, x3) per four), so each word of four weights feeds two SMLADs
 * without repacking. Two units per pass share the input loads. */
#include "hilnas_nn/nn_functions.h"
#include "nn_common.h"
#include "nn_intrinsics.h"
#include "nn_support.h"
#include "nn_validate.h"

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
    int16_t* const x = (int16_t*)ctx->buf;

    for (int32_t b = 0; b < input_dims->n; ++b) {
        int8_t* out = output + b * units;
        nn_cm_s8_to_s16_offset_reordered(input + b * depth, x, depth, params->input_offset);
        const int32_t tail = depth & ~3;
        int32_t u = 0;
        for (; u + 1 < units; u += 2) {
            const int8_t* w0 = filter + u * depth;
            const int8_t* w1 = w0 + depth;
            int32_t s0 = 0, s1 = 0;
            for (int32_t k = 0; k < tail; k += 4) {
                const uint32_t wa = nn_read_u32(w0 + k), wb = nn_read_u32(w1 + k);
                const uint32_t x_even = nn_read_u32(x + k), x_odd = nn_read_u32(x + k + 2);
                s0 = nn_smlad(nn_sxtb16(wa), x_even, s0);
                s1 = nn_smlad(nn_sxtb16(wb), x_even, s1);
                s0 = nn_smlad(nn_sxtb16_ror8(wa), x_odd, s0);
                s1 = nn_smlad(nn_sxtb16_ror8(wb), x_odd, s1);
            }
            for (int32_t k = tail; k < depth; ++k) {
                s0 += w0[k] * x[k];
                s1 += w1[k] * x[k];
            }
            out[u] = nn_cm_output(&r, u, s0);
            out[u + 1] = nn_cm_output(&r, u + 1, s1);
        }
        if (u < units) {
            const int8_t* w = filter + u * depth;
            int32_t sum = 0;
            for (int32_t k = 0; k < tail; k += 4) {
                const uint32_t wa = nn_read_u32(w + k);
                sum = nn_smlad(nn_sxtb16(wa), nn_read_u32(x + k), sum);
                sum = nn_smlad(nn_sxtb16_ror8(wa), nn_read_u32(x + k + 2), sum);
            }
            for (int32_t k = tail; k < depth; ++k) {
                sum += w[k] * x[k];
            }
            out[u] = nn_cm_output(&r, u, sum);
        }
    }
    return NN_OK;
}
