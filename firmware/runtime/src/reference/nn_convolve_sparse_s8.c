/* Reference sparse 2-D convolution: nn_convolve_s8's loops over the weights
 * that the bitmap marks non-zero, the values read in their stored order. */
#include "hilnas_nn/nn_functions.h"
#include "hilnas_nn/nn_quant.h"
#include "nn_common.h"
#include "nn_validate.h"

nn_status nn_convolve_sparse_s8(const nn_context* ctx, const nn_conv_params* params,
                                const nn_per_channel_quant* quant, const nn_dims* input_dims,
                                const int8_t* input, const nn_dims* filter_dims,
                                const int8_t* filter, const int32_t* bias,
                                const nn_dims* output_dims, int8_t* output) {
    const nn_status status =
        nn_validate_conv(ctx, params, quant, input_dims, input, filter_dims, filter, output_dims,
                         output, nn_convolve_sparse_s8_get_buffer_size(input_dims, filter_dims));
    if (status != NN_OK) {
        return status;
    }
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    const int32_t depth = k_h * k_w * in_c, bitmap_bytes = nn_sparse_bitmap_bytes(depth);
    const int8_t* values = filter + out_c * bitmap_bytes; /* channel oc's first value */

    for (int32_t oc = 0; oc < out_c; ++oc) {
        const int8_t* const bitmap = filter + oc * bitmap_bytes;
        int32_t nonzeros = 0;
        for (int32_t k = 0; k < depth; ++k) {
            nonzeros += nn_sparse_bit(bitmap, k);
        }
        for (int32_t b = 0; b < input_dims->n; ++b) {
            for (int32_t oy = 0; oy < out_h; ++oy) {
                for (int32_t ox = 0; ox < out_w; ++ox) {
                    const int32_t y0 = oy * params->stride.h - params->padding.h;
                    const int32_t x0 = ox * params->stride.w - params->padding.w;
                    int32_t sum = 0;
                    int32_t j = 0; /* the next of the channel's values */
                    for (int32_t k = 0; k < depth; ++k) {
                        if (!nn_sparse_bit(bitmap, k)) {
                            continue;
                        }
                        const int32_t w = values[j++];
                        const int32_t iy = y0 + k / (k_w * in_c);
                        const int32_t ix = x0 + k / in_c % k_w;
                        if (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w) {
                            continue; /* padding contributes nothing */
                        }
                        const int32_t x = input[((b * in_h + iy) * in_w + ix) * in_c + k % in_c];
                        sum += w * (x + params->input_offset);
                    }
                    output[((b * out_h + oy) * out_w + ox) * out_c + oc] =
                        nn_output_s8(sum, bias != NULL ? bias[oc] : 0, quant->multiplier[oc],
                                     quant->shift[oc], params->output_offset, params->activation);
                }
            }
        }
        values += nonzeros;
    }
    return NN_OK;
}
