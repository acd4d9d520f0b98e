/* Cortex-M 1x1 convolution: no im2col, as every window is one input pixel. Two
 * output pixels at a time are widened once, with the input offset added, into
 * the pair layout of nn_support.h (the scratch), then multiplied by every
 * filter row in the register block of the general convolution: two channels x
 * two pixels, per four weights of each channel one load, two SXTB16 and eight
 * SMLADs. Widening each pixel once, instead of once per channel pair, halves
 * the SXTB16s of the product. */
#include "hilnas_nn/nn_functions.h"
#include "nn_common.h"
#include "nn_intrinsics.h"
#include "nn_mat_mult.h"
#include "nn_support.h"
#include "nn_validate.h"

/* Walks output pixels in NHWC order and yields the input pixel each reads.
 * Offsets are computed from counters, never stepped past the input. */
typedef struct {
    const int8_t* input;
    int32_t b, oy, ox;
    int32_t out_h, out_w;
    int32_t stride_h, stride_w;
    int32_t pixel_size, row_size, batch_size; /* bytes of an input pixel, row, batch */
} pixel_walk;

static inline const int8_t* next_pixel(pixel_walk* it) {
    const int8_t* pixel = it->input + it->b * it->batch_size +
                          (it->oy * it->stride_h) * it->row_size +
                          (it->ox * it->stride_w) * it->pixel_size;
    if (++it->ox == it->out_w) {
        it->ox = 0;
        if (++it->oy == it->out_h) {
            it->oy = 0;
            ++it->b;
        }
    }
    return pixel;
}

nn_status nn_convolve_1x1_s8(const nn_context* ctx, const nn_conv_params* params,
                             const nn_per_channel_quant* quant, const nn_dims* input_dims,
                             const int8_t* input, const nn_dims* filter_dims, const int8_t* filter,
                             const int32_t* bias, const nn_dims* output_dims, int8_t* output) {
    const nn_status status = nn_validate_conv_1x1(
        ctx, params, quant, input_dims, input, filter_dims, filter, output_dims, output,
        nn_convolve_1x1_s8_get_buffer_size(input_dims, filter_dims));
    if (status != NN_OK) {
        return status;
    }
    const int32_t in_c = input_dims->c, offset = params->input_offset;
    const int32_t pixels = output_dims->n * output_dims->h * output_dims->w;
    const nn_cm_mat m = {
        filter,
        in_c,
        output_dims->c,
        {bias, quant->multiplier, quant->shift, params->output_offset, params->activation}};
    pixel_walk walk = {.input = input,
                       .out_h = output_dims->h,
                       .out_w = output_dims->w,
                       .stride_h = params->stride.h,
                       .stride_w = params->stride.w,
                       .pixel_size = in_c,
                       .row_size = input_dims->w * in_c,
                       .batch_size = input_dims->h * input_dims->w * in_c};
    int16_t* const pair = (int16_t*)ctx->buf;
    int8_t* out = output;
    int32_t p = 0;

    for (; p + 1 < pixels; p += 2) {
        nn_cm_widen_pair_s16(next_pixel(&walk), in_c, offset, pair, 0);
        nn_cm_widen_pair_s16(next_pixel(&walk), in_c, offset, pair, 1);
        out = nn_cm_mat_mult_pair(&m, pair, out);
    }
    if (p < pixels) {
        nn_cm_widen_pair_s16(next_pixel(&walk), in_c, offset, pair, 0);
        nn_cm_mat_mult_single(&m, pair, out);
    }
    return NN_OK;
}
