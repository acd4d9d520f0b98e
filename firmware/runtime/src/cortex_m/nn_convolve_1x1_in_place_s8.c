/* Cortex-M in-place 1x1 convolution: nn_convolve_1x1_s8's product (two pixels
 * widened into the pair layout, then the two-channel x two-pixel register
 * block of nn_mat_mult.h), walking the pixels forwards when the output is no
 * wider than the input, else backwards, so that both pixels of a pair are in
 * scratch before their outputs overwrite any input byte. */
#include "hilnas_nn/nn_functions.h"
#include "nn_common.h"
#include "nn_intrinsics.h"
#include "nn_mat_mult.h"
#include "nn_support.h"
#include "nn_validate.h"

nn_status nn_convolve_1x1_in_place_s8(const nn_context* ctx, const nn_conv_params* params,
                                      const nn_per_channel_quant* quant, const nn_dims* input_dims,
                                      const nn_dims* filter_dims, const int8_t* filter,
                                      const int32_t* bias, const nn_dims* output_dims,
                                      int8_t* data) {
    const nn_status status = nn_validate_conv_1x1_in_place(
        ctx, params, quant, input_dims, filter_dims, filter, output_dims, data,
        nn_convolve_1x1_in_place_s8_get_buffer_size(input_dims, filter_dims));
    if (status != NN_OK) {
        return status;
    }
    const int32_t in_c = input_dims->c, out_c = output_dims->c, offset = params->input_offset;
    const int32_t pixels = input_dims->n * input_dims->h * input_dims->w;
    const nn_cm_mat m = {
        filter,
        in_c,
        out_c,
        {bias, quant->multiplier, quant->shift, params->output_offset, params->activation}};
    int16_t* const pair = (int16_t*)ctx->buf;

    if (out_c <= in_c) {
        int32_t k = 0;
        for (; k + 1 < pixels; k += 2) {
            nn_cm_widen_pair_s16(data + k * in_c, in_c, offset, pair, 0);
            nn_cm_widen_pair_s16(data + (k + 1) * in_c, in_c, offset, pair, 1);
            nn_cm_mat_mult_pair(&m, pair, data + k * out_c);
        }
        if (k < pixels) {
            nn_cm_widen_pair_s16(data + k * in_c, in_c, offset, pair, 0);
            nn_cm_mat_mult_single(&m, pair, data + k * out_c);
        }
    } else {
        int32_t k = pixels;
        for (; k >= 2; k -= 2) {
            nn_cm_widen_pair_s16(data + (k - 2) * in_c, in_c, offset, pair, 0);
            nn_cm_widen_pair_s16(data + (k - 1) * in_c, in_c, offset, pair, 1);
            nn_cm_mat_mult_pair(&m, pair, data + (k - 2) * out_c);
        }
        if (k == 1) {
            nn_cm_widen_pair_s16(data, in_c, offset, pair, 0);
            nn_cm_mat_mult_single(&m, pair, data);
        }
    }
    return NN_OK;
}
