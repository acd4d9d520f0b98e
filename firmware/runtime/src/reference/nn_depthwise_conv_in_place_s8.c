/* Reference in-place depthwise convolution: per batch and channel, the channel
 * into scratch (nn_common.h), then the channel's outputs over `data`. */
#include "hilnas_nn/nn_functions.h"
#include "nn_common.h"
#include "nn_validate.h"

nn_status nn_depthwise_conv_in_place_s8(const nn_context* ctx, const nn_dw_conv_params* params,
                                        const nn_per_channel_quant* quant,
                                        const nn_dims* input_dims, const nn_dims* filter_dims,
                                        const int8_t* filter, const int32_t* bias,
                                        const nn_dims* output_dims, int8_t* data) {
    const nn_status status = nn_validate_depthwise_in_place(
        ctx, params, quant, input_dims, filter_dims, filter, output_dims, data,
        nn_depthwise_conv_in_place_s8_get_buffer_size(input_dims, filter_dims));
    if (status != NN_OK) {
        return status;
    }
    const int32_t channels = input_dims->c, k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t k_we = k_w + (k_w & 1);
    const int32_t out_h = output_dims->h, out_w = output_dims->w;
    const int32_t sy = params->stride.h, sx = params->stride.w;
    const int32_t rows = (out_h - 1) * sy + k_h, cols = (out_w - 1) * sx + k_w;
    int16_t* taps = (int16_t*)ctx->buf;
    int16_t* plane = taps + k_h * k_we;

    for (int32_t b = 0; b < input_dims->n; ++b) {
        for (int32_t c = 0; c < channels; ++c) {
            nn_dw_in_place_taps(filter, k_h, k_w, channels, c, taps);
            nn_dw_in_place_plane(data, input_dims, b, c, params->padding.h, params->padding.w, rows,
                                 cols, params->input_offset, plane);
            for (int32_t oy = 0; oy < out_h; ++oy) {
                for (int32_t ox = 0; ox < out_w; ++ox) {
                    int32_t sum = 0;
                    for (int32_t ky = 0; ky < k_h; ++ky) {
                        for (int32_t kx = 0; kx < k_w; ++kx) {
                            sum += (int32_t)taps[ky * k_we + kx] *
                                   plane[(oy * sy + ky) * cols + ox * sx + kx];
                        }
                    }
                    data[((b * out_h + oy) * out_w + ox) * channels + c] =
                        nn_output_s8(sum, bias != NULL ? bias[c] : 0, quant->multiplier[c],
                                     quant->shift[c], params->output_offset, params->activation);
                }
            }
        }
    }
    return NN_OK;
}
