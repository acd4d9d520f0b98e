/* Reference max pooling. */
#include "hilnas_nn/nn_functions.h"
#include "nn_common.h"
#include "nn_validate.h"

nn_status nn_max_pool_s8(const nn_context* ctx, const nn_pool_params* params,
                         const nn_dims* input_dims, const int8_t* input, const nn_dims* filter_dims,
                         const nn_dims* output_dims, int8_t* output) {
    const nn_status status =
        nn_validate_pool(ctx, params, input_dims, input, filter_dims, output_dims, output,
                         nn_max_pool_s8_get_buffer_size(input_dims, filter_dims));
    if (status != NN_OK) {
        return status;
    }
    const int32_t in_h = input_dims->h, in_w = input_dims->w, ch = input_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w;

    for (int32_t b = 0; b < input_dims->n; ++b) {
        for (int32_t oy = 0; oy < out_h; ++oy) {
            for (int32_t ox = 0; ox < out_w; ++ox) {
                /* The part of the window inside the input (never empty). */
                const int32_t y0 = oy * params->stride.h - params->padding.h;
                const int32_t x0 = ox * params->stride.w - params->padding.w;
                const int32_t ky_begin = nn_max_s32(0, -y0);
                const int32_t ky_end = nn_min_s32(filter_dims->h, in_h - y0);
                const int32_t kx_begin = nn_max_s32(0, -x0);
                const int32_t kx_end = nn_min_s32(filter_dims->w, in_w - x0);
                for (int32_t c = 0; c < ch; ++c) {
                    int32_t max = -128;
                    for (int32_t ky = ky_begin; ky < ky_end; ++ky) {
                        for (int32_t kx = kx_begin; kx < kx_end; ++kx) {
                            const int32_t x =
                                input[((b * in_h + y0 + ky) * in_w + x0 + kx) * ch + c];
                            max = nn_max_s32(max, x);
                        }
                    }
                    output[((b * out_h + oy) * out_w + ox) * ch + c] =
                        (int8_t)nn_clamp_s32(max, params->activation.min, params->activation.max);
                }
            }
        }
    }
    return NN_OK;
}
