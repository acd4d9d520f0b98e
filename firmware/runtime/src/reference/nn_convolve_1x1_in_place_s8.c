/* Reference in-place 1x1 convolution: pixel by pixel (forwards when the output
 * is no wider than the input, else backwards), the pixel into scratch, then
 * its outputs over `data`. */
#include "hilnas_nn/nn_functions.h"
#include "nn_common.h"
#include "nn_validate.h"

nn_status nn_convolve_1x1_in_place_s8(const nn_context* ctx, const nn_conv_params* params,
                                      const nn_per_channel_quant* quant, const nn_dims* input_dims,
                                      const nn_dims* filter_dims, const int8_t* filter,
                                      const int32_t* bias, const nn_dims* output_dims,
                                      int8_t* data) {
    const nn_status status = nn_validate_conv_1x1_in_place(
        ctx, params, quant, input_dims, filter_dims, filter, output_dims, data,
        nn_convolve_1x1_in_place_s8_get_buffer_size(input_dims, filter_dims));
    if (status != NN_OK) {
        return status;
    }
    const int32_t in_c = input_dims->c, out_c = output_dims->c;
    const int32_t pixels = input_dims->n * input_dims->h * input_dims->w;
    const int forwards = out_c <= in_c;
    int16_t* pixel = (int16_t*)ctx->buf;

    for (int32_t i = 0; i < pixels; ++i) {
        const int32_t k = forwards ? i : pixels - 1 - i;
        for (int32_t ic = 0; ic < in_c; ++ic) {
            pixel[ic] = (int16_t)(data[k * in_c + ic] + params->input_offset);
        }
        for (int32_t oc = 0; oc < out_c; ++oc) {
            const int8_t* w = filter + oc * in_c;
            int32_t sum = 0;
            for (int32_t ic = 0; ic < in_c; ++ic) {
                sum += w[ic] * pixel[ic];
            }
            data[k * out_c + oc] =
                nn_output_s8(sum, bias != NULL ? bias[oc] : 0, quant->multiplier[oc],
                             quant->shift[oc], params->output_offset, params->activation);
        }
    }
    return NN_OK;
}
