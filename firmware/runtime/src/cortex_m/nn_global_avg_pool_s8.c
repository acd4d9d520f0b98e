/* Cortex-M global average pooling: four channels per word, summed in int16
 * lanes by SXTAB16 over runs of at most 256 pixels, then added into int32; the
 * input offset is added once per channel as pixels * offset. */
#include "hilnas_nn/nn_functions.h"
#include "nn_common.h"
#include "nn_intrinsics.h"
#include "nn_validate.h"

typedef struct {
    int32_t multiplier, shift, pixels, input_offset, output_offset;
    nn_activation activation;
} mean_args;

/* sum is the sum of the raw inputs; |sum| and |pixels * offset| are below 2^30. */
static inline int8_t mean(const mean_args* a, int32_t sum) {
    int32_t acc = nn_requantize(sum + a->pixels * a->input_offset, a->multiplier, a->shift);
    acc = nn_rounding_divide_s32(acc, a->pixels);
    acc = nn_add_wrap_s32(acc, a->output_offset);
    return (int8_t)nn_clamp_s32(acc, a->activation.min, a->activation.max);
}

nn_status nn_global_avg_pool_s8(const nn_context* ctx, const nn_global_pool_params* params,
                                const nn_per_tensor_quant* quant, const nn_dims* input_dims,
                                const int8_t* input, const nn_dims* output_dims, int8_t* output) {
    const nn_status status =
        nn_validate_global_pool(ctx, params, quant, input_dims, input, output_dims, output,
                                nn_global_avg_pool_s8_get_buffer_size(input_dims));
    if (status != NN_OK) {
        return status;
    }
    const int32_t pixels = input_dims->h * input_dims->w, ch = input_dims->c;
    const mean_args a = {quant->multiplier,    quant->shift,          pixels,
                         params->input_offset, params->output_offset, params->activation};

    for (int32_t b = 0; b < input_dims->n; ++b) {
        const int8_t* batch = input + b * pixels * ch;
        int8_t* out = output + b * ch;
        int32_t c = 0;
        for (; c + 3 < ch; c += 4) {
            int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (int32_t p = 0; p < pixels;) {
                const int32_t run = nn_min_s32(256, pixels - p);
                uint32_t even = 0, odd = 0; /* int16 lanes: channels 0, 2 and 1, 3 */
                for (int32_t i = 0; i < run; ++i) {
                    const uint32_t x = nn_read_u32(batch + (p + i) * ch + c);
                    even = nn_sxtab16(even, x);
                    odd = nn_sxtab16_ror8(odd, x);
                }
                s0 += nn_lane0_s16(even);
                s1 += nn_lane0_s16(odd);
                s2 += nn_lane1_s16(even);
                s3 += nn_lane1_s16(odd);
                p += run;
            }
            out[c] = mean(&a, s0);
            out[c + 1] = mean(&a, s1);
            out[c + 2] = mean(&a, s2);
            out[c + 3] = mean(&a, s3);
        }
        for (; c < ch; ++c) {
            int32_t sum = 0;
            for (int32_t p = 0; p < pixels; ++p) {
                sum += batch[p * ch + c];
            }
            out[c] = mean(&a, sum);
        }
    }
    return NN_OK;
}
