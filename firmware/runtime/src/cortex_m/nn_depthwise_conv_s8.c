/* Cortex-M depthwise convolution. With ch_mult 1 (the usual case) four channels
 * go together: per tap, one word of inputs and one of weights are widened by
 * SXTB16 (input offset added by SADD16) and feed four single MACs
 * (SMLABB/SMLATT). The window is clipped to the input once per output pixel, so
 * the tap loop has no bounds checks; a 3-wide row is unrolled. Other channel
 * multipliers take a scalar loop over the same clipped window. */
#include "hilnas_nn/nn_functions.h"
#include "nn_common.h"
#include "nn_intrinsics.h"
#include "nn_support.h"
#include "nn_validate.h"

typedef struct {
    int32_t s0, s1, s2, s3;
} sums4;

/* One tap for four channels. */
static inline void tap4(const int8_t* in, const int8_t* w, uint32_t offset2, sums4* s) {
    const uint32_t x = nn_read_u32(in), k = nn_read_u32(w);
    const uint32_t x_even = nn_sadd16(nn_sxtb16(x), offset2);     /* channels 0, 2 */
    const uint32_t x_odd = nn_sadd16(nn_sxtb16_ror8(x), offset2); /* channels 1, 3 */
    const uint32_t k_even = nn_sxtb16(k), k_odd = nn_sxtb16_ror8(k);
    s->s0 = nn_smlabb(x_even, k_even, s->s0);
    s->s2 = nn_smlatt(x_even, k_even, s->s2);
    s->s1 = nn_smlabb(x_odd, k_odd, s->s1);
    s->s3 = nn_smlatt(x_odd, k_odd, s->s3);
}

nn_status nn_depthwise_conv_s8(const nn_context* ctx, const nn_dw_conv_params* params,
                               const nn_per_channel_quant* quant, const nn_dims* input_dims,
                               const int8_t* input, const nn_dims* filter_dims,
                               const int8_t* filter, const int32_t* bias,
                               const nn_dims* output_dims, int8_t* output) {
    const nn_status status = nn_validate_depthwise(
        ctx, params, quant, input_dims, input, filter_dims, filter, output_dims, output,
        nn_depthwise_conv_s8_get_buffer_size(input_dims, filter_dims));
    if (status != NN_OK) {
        return status;
    }
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_c = output_dims->c, ch_mult = params->ch_mult;
    const int32_t offset = params->input_offset;
    const uint32_t offset2 = nn_dup_s16x2(offset);
    const nn_cm_requant r = {bias, quant->multiplier, quant->shift, params->output_offset,
                             params->activation};
    int8_t* out = output;

    for (int32_t b = 0; b < input_dims->n; ++b) {
        for (int32_t oy = 0; oy < output_dims->h; ++oy) {
            const int32_t y0 = oy * params->stride.h - params->padding.h;
            const int32_t ky_begin = nn_clamp_s32(-y0, 0, k_h);
            const int32_t ky_end = nn_clamp_s32(in_h - y0, ky_begin, k_h);
            for (int32_t ox = 0; ox < output_dims->w; ++ox) {
                const int32_t x0 = ox * params->stride.w - params->padding.w;
                const int32_t kx_begin = nn_clamp_s32(-x0, 0, k_w);
                const int32_t kx_end = nn_clamp_s32(in_w - x0, kx_begin, k_w);
                const int32_t taps_y = ky_end - ky_begin, taps_x = kx_end - kx_begin;
                const int inside = taps_y > 0 && taps_x > 0;
                /* Offsets of the first tap inside the input (none if the window
                 * lies wholly in the padding). */
                const int32_t in_first =
                    inside ? ((b * in_h + y0 + ky_begin) * in_w + x0 + kx_begin) * in_c : 0;
                const int32_t w_first = (ky_begin * k_w + kx_begin) * out_c;
                int32_t c = 0;
                if (ch_mult == 1) {
                    for (; c + 3 < in_c; c += 4) {
                        sums4 s = {0, 0, 0, 0};
                        if (inside) {
                            int32_t in_row = in_first + c, w_row = w_first + c;
                            for (int32_t ky = 0; ky < taps_y; ++ky) {
                                const int8_t* in = input + in_row;
                                const int8_t* w = filter + w_row;
                                if (taps_x == 3) {
                                    tap4(in, w, offset2, &s);
                                    tap4(in + in_c, w + in_c, offset2, &s);
                                    tap4(in + 2 * in_c, w + 2 * in_c, offset2, &s);
                                } else {
                                    for (int32_t kx = 0; kx < taps_x; ++kx) {
                                        tap4(in + kx * in_c, w + kx * in_c, offset2, &s);
                                    }
                                }
                                in_row += in_w * in_c;
                                w_row += k_w * in_c;
                            }
                        }
                        out[c] = nn_cm_output(&r, c, s.s0);
                        out[c + 1] = nn_cm_output(&r, c + 1, s.s1);
                        out[c + 2] = nn_cm_output(&r, c + 2, s.s2);
                        out[c + 3] = nn_cm_output(&r, c + 3, s.s3);
                    }
                }
                /* The remaining channels (all of them when ch_mult > 1). */
                for (; c < in_c; ++c) {
                    for (int32_t m = 0; m < ch_mult; ++m) {
                        const int32_t oc = c * ch_mult + m;
                        int32_t sum = 0;
                        for (int32_t ky = 0; ky < taps_y; ++ky) {
                            for (int32_t kx = 0; kx < taps_x; ++kx) {
                                const int32_t x = input[in_first + (ky * in_w + kx) * in_c + c];
                                const int32_t w = filter[w_first + (ky * k_w + kx) * out_c + oc];
                                sum += w * (x + offset);
                            }
                        }
                        out[oc] = nn_cm_output(&r, oc, sum);
                    }
                }
                out += out_c;
            }
        }
    }
    return NN_OK;
}
