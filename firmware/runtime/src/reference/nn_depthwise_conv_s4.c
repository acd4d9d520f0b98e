/* Reference depthwise convolution with packed 4-bit weights: nn_depthwise_conv_s8
 * reading weight (ky, kx, oc) from nibble (ky * KW + kx) * C_out + oc of the one
 * packed row. It needs no scratch, but checks for the scratch the Cortex-M build
 * uses, so both builds accept the same arguments. */
#include "hilnas_nn/nn_functions.h"
#include "nn_common.h"
#include "nn_validate.h"

nn_status nn_depthwise_conv_s4(const nn_context* ctx, const nn_dw_conv_params* params,
                               const nn_per_channel_quant* quant, const nn_dims* input_dims,
                               const int8_t* input, const nn_dims* filter_dims,
                               const int8_t* filter, const int32_t* bias,
                               const nn_dims* output_dims, int8_t* output) {
    const nn_status status = nn_validate_depthwise(
        ctx, params, quant, input_dims, input, filter_dims, filter, output_dims, output,
        nn_depthwise_conv_s4_get_buffer_size(input_dims, filter_dims));
    if (status != NN_OK) {
        return status;
    }
    const nn_dims in = *input_dims, k = *filter_dims, out = *output_dims;
    const nn_dw_conv_params p = *params;
    int8_t* y = output;

    for (int32_t b = 0; b < in.n; ++b) {
        for (int32_t oy = 0; oy < out.h; ++oy) {
            for (int32_t ox = 0; ox < out.w; ++ox) {
                for (int32_t oc = 0; oc < out.c; ++oc) {
                    const int32_t ic = oc / p.ch_mult; /* the input channel it reads */
                    int32_t sum = 0;
                    for (int32_t ky = 0; ky < k.h; ++ky) {
                        for (int32_t kx = 0; kx < k.w; ++kx) {
                            const int32_t iy = oy * p.stride.h - p.padding.h + ky;
                            const int32_t ix = ox * p.stride.w - p.padding.w + kx;
                            if (iy >= 0 && iy < in.h && ix >= 0 && ix < in.w) {
                                const int32_t x = input[((b * in.h + iy) * in.w + ix) * in.c + ic];
                                sum += nn_s4_get(filter, (ky * k.w + kx) * out.c + oc) *
                                       (x + p.input_offset);
                            }
                        }
                    }
                    *y++ = nn_output_s8(sum, bias != NULL ? bias[oc] : 0, quant->multiplier[oc],
                                        quant->shift[oc], p.output_offset, p.activation);
                }
            }
        }
    }
    return NN_OK;
}
