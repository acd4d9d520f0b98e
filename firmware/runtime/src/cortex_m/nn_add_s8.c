/* Cortex-M element-wise add. Three requantisations per element (each a 64-bit
 * product) dominate, so this is the scalar loop of the reference with the
 * parameters copied into locals: byte stores to the output may alias anything
 * reached through a pointer, and would otherwise reload every parameter per
 * element. (Widening four elements per word with SXTB16 measured slower: the
 * lanes must be taken apart again for the scalar requantisation.) */
#include "hilnas_nn/nn_functions.h"
#include "nn_common.h"
#include "nn_validate.h"

nn_status nn_add_s8(const nn_context* ctx, const nn_add_params* params, const nn_dims* dims,
                    const int8_t* input1, const int8_t* input2, int8_t* output) {
    const nn_status status =
        nn_validate_add(ctx, params, dims, input1, input2, output, nn_add_s8_get_buffer_size(dims));
    if (status != NN_OK) {
        return status;
    }
    const nn_add_params p = *params;
    const int32_t size = dims->n * dims->h * dims->w * dims->c;

    /* Element i is read before it is written, so output may be either input. */
    for (int32_t i = 0; i < size; ++i) {
        /* (x + offset) << left_shift is at most 256 * 2^22: no overflow. */
        const int32_t x1 = (input1[i] + p.input1_offset) * (1 << p.left_shift);
        const int32_t x2 = (input2[i] + p.input2_offset) * (1 << p.left_shift);
        const int32_t scaled1 = nn_requantize(x1, p.input1_multiplier, p.input1_shift);
        const int32_t scaled2 = nn_requantize(x2, p.input2_multiplier, p.input2_shift);
        int32_t acc =
            nn_requantize(nn_add_wrap_s32(scaled1, scaled2), p.output_multiplier, p.output_shift);
        acc = nn_add_wrap_s32(acc, p.output_offset);
        output[i] = (int8_t)nn_clamp_s32(acc, p.activation.min, p.activation.max);
    }
    return NN_OK;
}
