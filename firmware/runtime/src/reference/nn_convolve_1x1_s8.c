/* Reference 1x1 convolution: a dot product over the channels of one pixel. */
#include "hilnas_nn/nn_functions.h"
#include "nn_common.h"
#include "nn_validate.h"

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
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;

    for (int32_t b = 0; b < input_dims->n; ++b) {
        for (int32_t oy = 0; oy < out_h; ++oy) {
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const int8_t* in =
                    input +
                    ((b * in_h + oy * params->stride.h) * in_w + ox * params->stride.w) * in_c;
                for (int32_t oc = 0; oc < out_c; ++oc) {
                    const int8_t* w = filter + oc * in_c;
                    int32_t sum = 0;
                    for (int32_t ic = 0; ic < in_c; ++ic) {
                        sum += w[ic] * (in[ic] + params->input_offset);
                    }
                    output[((b * out_h + oy) * out_w + ox) * out_c + oc] =
                        nn_output_s8(sum, bias != NULL ? bias[oc] : 0, quant->multiplier[oc],
                                     quant->shift[oc], params->output_offset, params->activation);
                }
            }
        }
    }
    return NN_OK;
}
