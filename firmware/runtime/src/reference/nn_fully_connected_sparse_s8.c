/* Reference sparse fully connected layer: nn_fully_connected_s8's dot products
 * over the weights that the bitmap marks non-zero. */
#include "hilnas_nn/nn_functions.h"
#include "hilnas_nn/nn_quant.h"
#include "nn_common.h"
#include "nn_validate.h"

nn_status nn_fully_connected_sparse_s8(const nn_context* ctx, const nn_fc_params* params,
                                       const nn_per_channel_quant* quant, const nn_dims* input_dims,
                                       const int8_t* input, const nn_dims* filter_dims,
                                       const int8_t* filter, const int32_t* bias,
                                       const nn_dims* output_dims, int8_t* output) {
    const nn_status status = nn_validate_fully_connected(
        ctx, params, quant, input_dims, input, filter_dims, filter, output_dims, output,
        nn_fully_connected_sparse_s8_get_buffer_size(input_dims, filter_dims));
    if (status != NN_OK) {
        return status;
    }
    const int32_t depth = filter_dims->c, units = filter_dims->n;
    const int32_t bitmap_bytes = nn_sparse_bitmap_bytes(depth);

    for (int32_t b = 0; b < input_dims->n; ++b) {
        const int8_t* in = input + b * depth;
        const int8_t* values = filter + units * bitmap_bytes;
        for (int32_t u = 0; u < units; ++u) {
            const int8_t* const bitmap = filter + u * bitmap_bytes;
            int32_t sum = 0;
            for (int32_t k = 0; k < depth; ++k) {
                if (nn_sparse_bit(bitmap, k)) {
                    sum += *values++ * (in[k] + params->input_offset);
                }
            }
            output[b * units + u] =
                nn_output_s8(sum, bias != NULL ? bias[u] : 0, quant->multiplier[u], quant->shift[u],
                             params->output_offset, params->activation);
        }
    }
    return NN_OK;
}
