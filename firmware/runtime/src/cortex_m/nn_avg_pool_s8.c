/* Cortex-M average pooling: four channels per word, summed in int16 lanes by
 * SXTAB16 while a window has at most 256 inputs (|sum| <= 128 * 256 fits
 * int16), in int32 beyond. TFLite's rounding division per channel. */
#include "hilnas_nn/nn_functions.h"
#include "nn_common.h"
#include "nn_intrinsics.h"
#include "nn_validate.h"

static inline int8_t average(int32_t sum, int32_t count, nn_activation act) {
    return (int8_t)nn_clamp_s32(nn_rounding_divide_s32(sum, count), act.min, act.max);
}

nn_status nn_avg_pool_s8(const nn_context* ctx, const nn_pool_params* params,
                         const nn_dims* input_dims, const int8_t* input, const nn_dims* filter_dims,
                         const nn_dims* output_dims, int8_t* output) {
    const nn_status status =
        nn_validate_pool(ctx, params, input_dims, input, filter_dims, output_dims, output,
                         nn_avg_pool_s8_get_buffer_size(input_dims, filter_dims));
    if (status != NN_OK) {
        return status;
    }
    const int32_t in_h = input_dims->h, in_w = input_dims->w, ch = input_dims->c;
    const nn_activation act = params->activation;
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
                const int32_t count = taps_y * taps_x;
                int32_t c = 0;
                if (count <= 256) {
                    for (; c + 3 < ch; c += 4) {
                        uint32_t even = 0, odd = 0; /* int16 lanes: channels 0, 2 and 1, 3 */
                        for (int32_t ky = 0; ky < taps_y; ++ky) {
                            const int8_t* in = first + ky * in_w * ch + c;
                            for (int32_t kx = 0; kx < taps_x; ++kx) {
                                const uint32_t x = nn_read_u32(in + kx * ch);
                                even = nn_sxtab16(even, x);
                                odd = nn_sxtab16_ror8(odd, x);
                            }
                        }
                        out[c] = average(nn_lane0_s16(even), count, act);
                        out[c + 1] = average(nn_lane0_s16(odd), count, act);
                        out[c + 2] = average(nn_lane1_s16(even), count, act);
                        out[c + 3] = average(nn_lane1_s16(odd), count, act);
                    }
                }
                for (; c < ch; ++c) {
                    int32_t sum = 0;
                    for (int32_t ky = 0; ky < taps_y; ++ky) {
                        for (int32_t kx = 0; kx < taps_x; ++kx) {
                            sum += first[(ky * in_w + kx) * ch + c];
                        }
                    }
                    out[c] = average(sum, count, act);
                }
                out += ch;
            }
        }
    }
    return NN_OK;
}
