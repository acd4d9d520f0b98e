/* Reference 2-D convolution: the specification, written for clarity. */
#include "hilnas_nn/nn_functions.h"
#include "nn_common.h"
#include "nn_validate.h"

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
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;

    for (int32_t b = 0; b < input_dims->n; ++b) {
        for (int32_t oy = 0; oy < out_h; ++oy) {
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const int32_t y0 = oy * params->stride.h - params->padding.h;
                const int32_t x0 = ox * params->stride.w - params->padding.w;
                for (int32_t oc = 0; oc < out_c; ++oc) {
                    int32_t sum = 0;
                    for (int32_t ky = 0; ky < k_h; ++ky) {
                        const int32_t iy = y0 + ky;
                        if (iy < 0 || iy >= in_h) {
                            continue; /* padding contributes nothing */
                        }
                        for (int32_t kx = 0; kx < k_w; ++kx) {
                            const int32_t ix = x0 + kx;
                            if (ix < 0 || ix >= in_w) {
                                continue;
                            }
                            const int8_t* in = input + ((b * in_h + iy) * in_w + ix) * in_c;
                            const int8_t* w = filter + ((oc * k_h + ky) * k_w + kx) * in_c;
                            for (int32_t ic = 0; ic < in_c; ++ic) {
                                sum += w[ic] * (in[ic] + params->input_offset);
                            }
                        }
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
