#include "nn_validate.h"

#include <stddef.h>

/* Every field >= 1 and the element count fits int32 (so kernels index with
 * int32). */
static int dims_ok(const nn_dims* d) {
    int64_t count;
    if (d == NULL || d->n < 1 || d->h < 1 || d->w < 1 || d->c < 1) {
        return 0;
    }
    count = (int64_t)d->n * d->h;
    if (count > INT32_MAX) {
        return 0;
    }
    count *= d->w;
    if (count > INT32_MAX) {
        return 0;
    }
    count *= d->c;
    return count <= INT32_MAX;
}

static int activation_ok(nn_activation a) {
    return a.min >= -128 && a.min <= a.max && a.max <= 127;
}

static int input_offset_ok(int32_t offset) { return offset >= -128 && offset <= 128; }

static int output_offset_ok(int32_t offset) { return offset >= -128 && offset <= 127; }

static int shift_ok(int32_t shift) { return shift >= -31 && shift <= 30; }

static int quant_ok(const nn_per_channel_quant* quant) {
    return quant != NULL && quant->multiplier != NULL && quant->shift != NULL;
}

static nn_status scratch_ok(const nn_context* ctx, int32_t required) {
    if (required <= 0) {
        return NN_OK;
    }
    if (ctx == NULL || ctx->buf == NULL || ((uintptr_t)ctx->buf & 3u) != 0 ||
        ctx->size < required) {
        return NN_ARG_ERROR;
    }
    return NN_OK;
}

/* Strides >= 1, paddings >= 0, and every coordinate a kernel computes from
 * this geometry (window positions, distances to the input's edges) fits int32. */
static int geometry_ok(nn_tile stride, nn_tile padding, const nn_dims* input, const nn_dims* filter,
                       const nn_dims* output) {
    if (stride.w < 1 || stride.h < 1 || padding.w < 0 || padding.h < 0) {
        return 0;
    }
    return (int64_t)(output->h - 1) * stride.h + filter->h <= INT32_MAX &&
           (int64_t)(output->w - 1) * stride.w + filter->w <= INT32_MAX &&
           (int64_t)input->h + padding.h <= INT32_MAX && (int64_t)input->w + padding.w <= INT32_MAX;
}

/* Every window overlaps the input: the first does not end in the padding, the
 * last does not start past the input. */
static int windows_overlap_input(nn_tile stride, nn_tile padding, const nn_dims* input,
                                 const nn_dims* filter, const nn_dims* output) {
    return padding.h < filter->h && padding.w < filter->w &&
           (int64_t)(output->h - 1) * stride.h - padding.h < input->h &&
           (int64_t)(output->w - 1) * stride.w - padding.w < input->w;
}

nn_status nn_validate_conv(const nn_context* ctx, const nn_conv_params* params,
                           const nn_per_channel_quant* quant, const nn_dims* input_dims,
                           const int8_t* input, const nn_dims* filter_dims, const int8_t* filter,
                           const nn_dims* output_dims, const int8_t* output, int32_t required) {
    if (params == NULL || !quant_ok(quant) || input == NULL || filter == NULL || output == NULL ||
        !dims_ok(input_dims) || !dims_ok(filter_dims) || !dims_ok(output_dims)) {
        return NN_ARG_ERROR;
    }
    if (filter_dims->c != input_dims->c || output_dims->c != filter_dims->n ||
        output_dims->n != input_dims->n) {
        return NN_ARG_ERROR;
    }
    if ((int64_t)filter_dims->h * filter_dims->w * filter_dims->c > NN_MAX_ACCUM_DEPTH) {
        return NN_ARG_ERROR;
    }
    if (!geometry_ok(params->stride, params->padding, input_dims, filter_dims, output_dims) ||
        !input_offset_ok(params->input_offset) || !output_offset_ok(params->output_offset) ||
        !activation_ok(params->activation)) {
        return NN_ARG_ERROR;
    }
    return scratch_ok(ctx, required);
}

nn_status nn_validate_conv_1x1(const nn_context* ctx, const nn_conv_params* params,
                               const nn_per_channel_quant* quant, const nn_dims* input_dims,
                               const int8_t* input, const nn_dims* filter_dims,
                               const int8_t* filter, const nn_dims* output_dims,
                               const int8_t* output, int32_t required) {
    const nn_status status = nn_validate_conv(ctx, params, quant, input_dims, input, filter_dims,
                                              filter, output_dims, output, required);
    if (status != NN_OK) {
        return status;
    }
    if (filter_dims->h != 1 || filter_dims->w != 1 || params->padding.h != 0 ||
        params->padding.w != 0) {
        return NN_ARG_ERROR;
    }
    /* With no padding every output must read inside the input. */
    if ((int64_t)(output_dims->h - 1) * params->stride.h >= input_dims->h ||
        (int64_t)(output_dims->w - 1) * params->stride.w >= input_dims->w) {
        return NN_ARG_ERROR;
    }
    return NN_OK;
}

nn_status nn_validate_conv_1x1_in_place(const nn_context* ctx, const nn_conv_params* params,
                                        const nn_per_channel_quant* quant,
                                        const nn_dims* input_dims, const nn_dims* filter_dims,
                                        const int8_t* filter, const nn_dims* output_dims,
                                        const int8_t* data, int32_t required) {
    const nn_status status = nn_validate_conv_1x1(ctx, params, quant, input_dims, data, filter_dims,
                                                  filter, output_dims, data, required);
    if (status != NN_OK) {
        return status;
    }
    if (params->stride.h != 1 || params->stride.w != 1 || output_dims->h != input_dims->h ||
        output_dims->w != input_dims->w) {
        return NN_ARG_ERROR;
    }
    return NN_OK;
}

nn_status nn_validate_depthwise(const nn_context* ctx, const nn_dw_conv_params* params,
                                const nn_per_channel_quant* quant, const nn_dims* input_dims,
                                const int8_t* input, const nn_dims* filter_dims,
                                const int8_t* filter, const nn_dims* output_dims,
                                const int8_t* output, int32_t required) {
    if (params == NULL || !quant_ok(quant) || input == NULL || filter == NULL || output == NULL ||
        !dims_ok(input_dims) || !dims_ok(filter_dims) || !dims_ok(output_dims)) {
        return NN_ARG_ERROR;
    }
    if (params->ch_mult < 1 || filter_dims->n != 1 ||
        (int64_t)input_dims->c * params->ch_mult != filter_dims->c ||
        output_dims->c != filter_dims->c || output_dims->n != input_dims->n) {
        return NN_ARG_ERROR;
    }
    if ((int64_t)filter_dims->h * filter_dims->w > NN_MAX_ACCUM_DEPTH) {
        return NN_ARG_ERROR;
    }
    if (!geometry_ok(params->stride, params->padding, input_dims, filter_dims, output_dims) ||
        !input_offset_ok(params->input_offset) || !output_offset_ok(params->output_offset) ||
        !activation_ok(params->activation)) {
        return NN_ARG_ERROR;
    }
    return scratch_ok(ctx, required);
}

nn_status nn_validate_depthwise_in_place(const nn_context* ctx, const nn_dw_conv_params* params,
                                         const nn_per_channel_quant* quant,
                                         const nn_dims* input_dims, const nn_dims* filter_dims,
                                         const int8_t* filter, const nn_dims* output_dims,
                                         const int8_t* data, int32_t required) {
    const nn_status status = nn_validate_depthwise(
        ctx, params, quant, input_dims, data, filter_dims, filter, output_dims, data, required);
    if (status != NN_OK) {
        return status;
    }
    if (params->ch_mult != 1 || required <= 0 ||
        (int64_t)(output_dims->h - 1) * params->stride.h >= input_dims->h ||
        (int64_t)(output_dims->w - 1) * params->stride.w >= input_dims->w) {
        return NN_ARG_ERROR;
    }
    return NN_OK;
}

nn_status nn_validate_pool(const nn_context* ctx, const nn_pool_params* params,
                           const nn_dims* input_dims, const int8_t* input,
                           const nn_dims* filter_dims, const nn_dims* output_dims,
                           const int8_t* output, int32_t required) {
    if (params == NULL || input == NULL || output == NULL || !dims_ok(input_dims) ||
        !dims_ok(output_dims) || filter_dims == NULL || filter_dims->h < 1 || filter_dims->w < 1) {
        return NN_ARG_ERROR;
    }
    if (output_dims->n != input_dims->n || output_dims->c != input_dims->c) {
        return NN_ARG_ERROR;
    }
    /* A window's sum (at most 65535 * 128 in magnitude) stays within int32. */
    if ((int64_t)filter_dims->h * filter_dims->w > NN_MAX_ACCUM_DEPTH) {
        return NN_ARG_ERROR;
    }
    if (!geometry_ok(params->stride, params->padding, input_dims, filter_dims, output_dims) ||
        !windows_overlap_input(params->stride, params->padding, input_dims, filter_dims,
                               output_dims) ||
        !activation_ok(params->activation)) {
        return NN_ARG_ERROR;
    }
    return scratch_ok(ctx, required);
}

nn_status nn_validate_global_pool(const nn_context* ctx, const nn_global_pool_params* params,
                                  const nn_per_tensor_quant* quant, const nn_dims* input_dims,
                                  const int8_t* input, const nn_dims* output_dims,
                                  const int8_t* output, int32_t required) {
    if (params == NULL || quant == NULL || input == NULL || output == NULL ||
        !dims_ok(input_dims) || !dims_ok(output_dims)) {
        return NN_ARG_ERROR;
    }
    if (output_dims->n != input_dims->n || output_dims->h != 1 || output_dims->w != 1 ||
        output_dims->c != input_dims->c) {
        return NN_ARG_ERROR;
    }
    /* sum(input + offset) stays within int32: 2^23 * 256 = 2^31. */
    if ((int64_t)input_dims->h * input_dims->w > ((int64_t)1 << 23)) {
        return NN_ARG_ERROR;
    }
    if (!shift_ok(quant->shift) || !input_offset_ok(params->input_offset) ||
        !output_offset_ok(params->output_offset) || !activation_ok(params->activation)) {
        return NN_ARG_ERROR;
    }
    return scratch_ok(ctx, required);
}

nn_status nn_validate_fully_connected(const nn_context* ctx, const nn_fc_params* params,
                                      const nn_per_channel_quant* quant, const nn_dims* input_dims,
                                      const int8_t* input, const nn_dims* filter_dims,
                                      const int8_t* filter, const nn_dims* output_dims,
                                      const int8_t* output, int32_t required) {
    if (params == NULL || !quant_ok(quant) || input == NULL || filter == NULL || output == NULL ||
        !dims_ok(input_dims) || !dims_ok(filter_dims) || !dims_ok(output_dims)) {
        return NN_ARG_ERROR;
    }
    if (filter_dims->h != 1 || filter_dims->w != 1 ||
        (int64_t)input_dims->h * input_dims->w * input_dims->c != filter_dims->c ||
        filter_dims->c > NN_MAX_ACCUM_DEPTH) {
        return NN_ARG_ERROR;
    }
    if (output_dims->n != input_dims->n || output_dims->h != 1 || output_dims->w != 1 ||
        output_dims->c != filter_dims->n) {
        return NN_ARG_ERROR;
    }
    if (!input_offset_ok(params->input_offset) || !output_offset_ok(params->output_offset) ||
        !activation_ok(params->activation)) {
        return NN_ARG_ERROR;
    }
    return scratch_ok(ctx, required);
}

nn_status nn_validate_add(const nn_context* ctx, const nn_add_params* params, const nn_dims* dims,
                          const int8_t* input1, const int8_t* input2, const int8_t* output,
                          int32_t required) {
    if (params == NULL || input1 == NULL || input2 == NULL || output == NULL || !dims_ok(dims)) {
        return NN_ARG_ERROR;
    }
    if (!input_offset_ok(params->input1_offset) || !input_offset_ok(params->input2_offset) ||
        !output_offset_ok(params->output_offset) || params->left_shift < 0 ||
        params->left_shift > 22 || !shift_ok(params->input1_shift) ||
        !shift_ok(params->input2_shift) || !shift_ok(params->output_shift) ||
        !activation_ok(params->activation)) {
        return NN_ARG_ERROR;
    }
    return scratch_ok(ctx, required);
}
