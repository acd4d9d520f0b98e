/* Cortex-M 2-D convolution (CMSIS-NN's scheme, with the columns reordered once):
 * im2col of two output pixels into int16 with the input offset added, in the
 * pair layout of nn_support.h, so that a word of four weights needs two SXTB16
 * and no repacking; then a register block of two output channels x two pixels,
 * per four weights of each channel one load of theirs, one 4-word read of the
 * columns and eight dual MACs (SMLAD). A 1x1 window without padding goes to the
 * 1x1 path. */
#include "hilnas_nn/nn_functions.h"
#include "nn_common.h"
#include "nn_intrinsics.h"
#include "nn_mat_mult.h"
#include "nn_support.h"
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
    if (filter_dims->h == 1 && filter_dims->w == 1 && params->padding.h == 0 &&
        params->padding.w == 0 && (output_dims->h - 1) * params->stride.h < input_dims->h &&
        (output_dims->w - 1) * params->stride.w < input_dims->w) {
        return nn_convolve_1x1_s8(ctx, params, quant, input_dims, input, filter_dims, filter, bias,
                                  output_dims, output);
    }

    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const nn_cm_mat m = {
        filter,
        k_h * k_w * input_dims->c,
        output_dims->c,
        {bias, quant->multiplier, quant->shift, params->output_offset, params->activation}};
    int16_t* const pair = (int16_t*)ctx->buf;
    int32_t pixel = 0;
    int8_t* out = output;

    for (int32_t b = 0; b < input_dims->n; ++b) {
        for (int32_t oy = 0; oy < output_dims->h; ++oy) {
            for (int32_t ox = 0; ox < output_dims->w; ++ox) {
                nn_cm_im2col_pair_s16(input, input_dims, b,
                                      oy * params->stride.h - params->padding.h,
                                      ox * params->stride.w - params->padding.w, k_h, k_w,
                                      params->input_offset, m.depth, pair, pixel);
                pixel ^= 1;
                if (pixel == 0) {
                    out = nn_cm_mat_mult_pair(&m, pair, out);
                }
            }
        }
    }
    if (pixel != 0) {
        nn_cm_mat_mult_single(&m, pair, out);
    }
    return NN_OK;
}
