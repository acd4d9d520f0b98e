/* Cortex-M max pooling: four channels per word, the running maximum and the
 * activation clamp by SSUB8 + SEL. */
#include "hilnas_nn/nn_functions.h"
#include "nn_common.h"
#include "nn_intrinsics.h"
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
    const int32_t act_min = params->activation.min, act_max = params->activation.max;
    const uint32_t min4 = nn_dup_s8x4(act_min), max4 = nn_dup_s8x4(act_max);
    int8_t* out = output;

    for (int32_t b = 0; b < input_dims->n; ++b) {
        for (int32_t oy = 0; oy < output_dims->h; ++oy) {
            const int32_t y0 = oy * params->stride.h - params->padding.h;
            const int32_t ky_begin = nn_max_s32(0, -y0);
            const int32_t ky_end = nn_min_s32(filter_dims->h, in_h - y0);
            for (int32_t ox = 0; ox < output_dims->w; ++ox) {
                const int32_t x0 = ox * params->stride.w - params->padding.w;
                const int32_t kx_begin = nn_max_s32(0, -x0);
                const int32_t kx_end = nn_min_s32(filter_dims->w, in_w - x0);
                /* The window is never empty (validated). */
                const int8_t* first =
                    input + ((b * in_h + y0 + ky_begin) * in_w + x0 + kx_begin) * ch;
                const int32_t taps_y = ky_end - ky_begin, taps_x = kx_end - kx_begin;
                int32_t c = 0;
                for (; c + 3 < ch; c += 4) {
                    uint32_t max = 0x80808080u;
                    for (int32_t ky = 0; ky < taps_y; ++ky) {
                        const int8_t* in = first + ky * in_w * ch + c;
                        for (int32_t kx = 0; kx < taps_x; ++kx) {
                            max = nn_max_s8x4(max, nn_read_u32(in + kx * ch));
                        }
                    }
                    nn_write_u32(out + c, nn_min_s8x4(nn_max_s8x4(max, min4), max4));
                }
                for (; c < ch; ++c) {
                    int32_t max = -128;
                    for (int32_t ky = 0; ky < taps_y; ++ky) {
                        for (int32_t kx = 0; kx < taps_x; ++kx) {
                            max = nn_max_s32(max, first[(ky * in_w + kx) * ch + c]);
                        }
                    }
                    out[c] = (int8_t)nn_clamp_s32(max, act_min, act_max);
                }
                out += ch;
            }
        }
    }
    return NN_OK;
}
