/* Reference element-wise add (TFLite's int8 ADD without broadcasting). */
#include "hilnas_nn/nn_functions.h"
#include "nn_common.h"
#include "nn_validate.h"

nn_status nn_add_s8(const nn_context* ctx, const nn_add_params* params, const nn_dims* dims,
                    const int8_t* input1, const int8_t* input2, int8_t* output) {
    const nn_status status =
        nn_validate_add(ctx, params, dims, input1, input2, output, nn_add_s8_get_buffer_size(dims));
    if (status != NN_OK) {
        return status;
    }
    const int32_t size = dims->n * dims->h * dims->w * dims->c;

    for (int32_t i = 0; i < size; ++i) {
        /* (x + offset) << left_shift is at most 256 * 2^22: no overflow. */
        const int32_t x1 = (input1[i] + params->input1_offset) * (1 << params->left_shift);
        const int32_t x2 = (input2[i] + params->input2_offset) * (1 << params->left_shift);
        const int32_t scaled1 = nn_requantize(x1, params->input1_multiplier, params->input1_shift);
        const int32_t scaled2 = nn_requantize(x2, params->input2_multiplier, params->input2_shift);
        int32_t acc = nn_requantize(nn_add_wrap_s32(scaled1, scaled2), params->output_multiplier,
                                    params->output_shift);
        acc = nn_add_wrap_s32(acc, params->output_offset);
        output[i] = (int8_t)nn_clamp_s32(acc, params->activation.min, params->activation.max);
    }
    return NN_OK;
}
