/* Reference global average pooling (TFLite's integer MEAN over H and W). */
#include "hilnas_nn/nn_functions.h"
#include "nn_common.h"
#include "nn_validate.h"

nn_status nn_global_avg_pool_s8(const nn_context* ctx, const nn_global_pool_params* params,
                                const nn_per_tensor_quant* quant, const nn_dims* input_dims,
                                const int8_t* input, const nn_dims* output_dims, int8_t* output) {
    const nn_status status =
        nn_validate_global_pool(ctx, params, quant, input_dims, input, output_dims, output,
                                nn_global_avg_pool_s8_get_buffer_size(input_dims));
    if (status != NN_OK) {
        return status;
    }
    const int32_t pixels = input_dims->h * input_dims->w, ch = input_dims->c;

    for (int32_t b = 0; b < input_dims->n; ++b) {
        for (int32_t c = 0; c < ch; ++c) {
            int32_t sum = 0;
            for (int32_t p = 0; p < pixels; ++p) {
                sum += input[(b * pixels + p) * ch + c] + params->input_offset;
            }
            int32_t acc = nn_requantize(sum, quant->multiplier, quant->shift);
            acc = nn_rounding_divide_s32(acc, pixels);
            acc = nn_add_wrap_s32(acc, params->output_offset);
            output[b * ch + c] =
                (int8_t)nn_clamp_s32(acc, params->activation.min, params->activation.max);
        }
    }
    return NN_OK;
}
