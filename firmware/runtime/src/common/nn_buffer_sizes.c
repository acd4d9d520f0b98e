/* The scratch sizes: one definition for both builds, so the memory planner can
 * reserve them without knowing which build links. 0 for shapes a kernel would
 * reject. */
#include <stddef.h>

#include "hilnas_nn/nn_functions.h"

/* KH * KW * C_in when it is a valid accumulation depth, else 0. */
static int32_t conv_depth(const nn_dims* input_dims, const nn_dims* filter_dims) {
    int64_t depth;
    if (input_dims == NULL || filter_dims == NULL || input_dims->c < 1 || filter_dims->h < 1 ||
        filter_dims->w < 1) {
        return 0;
    }
    depth = (int64_t)filter_dims->h * filter_dims->w * input_dims->c;
    return depth <= NN_MAX_ACCUM_DEPTH ? (int32_t)depth : 0;
}

/* H * W * C of the input when it is a valid accumulation depth, else 0. */
static int32_t fc_depth(const nn_dims* input_dims) {
    int64_t depth;
    if (input_dims == NULL || input_dims->h < 1 || input_dims->w < 1 || input_dims->c < 1) {
        return 0;
    }
    depth = (int64_t)input_dims->h * input_dims->w * input_dims->c;
    return depth <= NN_MAX_ACCUM_DEPTH ? (int32_t)depth : 0;
}

int32_t nn_convolve_s8_get_buffer_size(const nn_dims* input_dims, const nn_dims* filter_dims) {
    /* Two im2col columns of int16. */
    return 2 * conv_depth(input_dims, filter_dims) * (int32_t)sizeof(int16_t);
}

int32_t nn_convolve_1x1_s8_get_buffer_size(const nn_dims* input_dims, const nn_dims* filter_dims) {
    /* Two input pixels widened to int16; nothing for a window other than 1x1. */
    if (filter_dims == NULL || filter_dims->h != 1 || filter_dims->w != 1) {
        return 0;
    }
    return 2 * conv_depth(input_dims, filter_dims) * (int32_t)sizeof(int16_t);
}

int32_t nn_convolve_1x1_in_place_s8_get_buffer_size(const nn_dims* input_dims,
                                                    const nn_dims* filter_dims) {
    return nn_convolve_1x1_s8_get_buffer_size(input_dims, filter_dims);
}

int32_t nn_convolve_s4_get_buffer_size(const nn_dims* input_dims, const nn_dims* filter_dims) {
    return 2 * conv_depth(input_dims, filter_dims) * (int32_t)sizeof(int16_t);
}

int32_t nn_convolve_sparse_s8_get_buffer_size(const nn_dims* input_dims,
                                              const nn_dims* filter_dims) {
    /* One channel: an int32 (offset, value) per weight of the window, an int32
     * (end, sum of values) per tap. */
    const int32_t depth = conv_depth(input_dims, filter_dims);
    if (depth == 0) {
        return 0;
    }
    return 2 * (depth + filter_dims->h * filter_dims->w) * (int32_t)sizeof(int32_t);
}

int32_t nn_depthwise_conv_s8_get_buffer_size(const nn_dims* input_dims,
                                             const nn_dims* filter_dims) {
    (void)input_dims;
    (void)filter_dims;
    return 0;
}

int32_t nn_depthwise_conv_in_place_s8_get_buffer_size(const nn_dims* input_dims,
                                                      const nn_dims* filter_dims) {
    /* The channel's taps (rows padded to an even width), then one input channel
     * with its padding, as int16; two spare values so that a pair read of a
     * window's last odd column stays inside. */
    int64_t values;
    if (input_dims == NULL || filter_dims == NULL || input_dims->h < 1 || input_dims->w < 1 ||
        filter_dims->h < 1 || filter_dims->w < 1 ||
        (int64_t)filter_dims->h * filter_dims->w > NN_MAX_ACCUM_DEPTH) {
        return 0;
    }
    values = (int64_t)filter_dims->h * (filter_dims->w + (filter_dims->w & 1)) +
             ((int64_t)input_dims->h + filter_dims->h - 1) *
                 ((int64_t)input_dims->w + filter_dims->w - 1) +
             2;
    return values * 2 <= INT32_MAX ? (int32_t)(values * 2) : 0;
}

int32_t nn_depthwise_conv_s4_get_buffer_size(const nn_dims* input_dims,
                                             const nn_dims* filter_dims) {
    /* One group of four channels: per tap, two words of two int16 weights. */
    (void)input_dims;
    if (filter_dims == NULL || filter_dims->h < 1 || filter_dims->w < 1 ||
        (int64_t)filter_dims->h * filter_dims->w > NN_MAX_ACCUM_DEPTH) {
        return 0;
    }
    return 4 * filter_dims->h * filter_dims->w * (int32_t)sizeof(int16_t);
}

int32_t nn_max_pool_s8_get_buffer_size(const nn_dims* input_dims, const nn_dims* filter_dims) {
    (void)input_dims;
    (void)filter_dims;
    return 0;
}

int32_t nn_avg_pool_s8_get_buffer_size(const nn_dims* input_dims, const nn_dims* filter_dims) {
    (void)input_dims;
    (void)filter_dims;
    return 0;
}

int32_t nn_global_avg_pool_s8_get_buffer_size(const nn_dims* input_dims) {
    (void)input_dims;
    return 0;
}

int32_t nn_fully_connected_s8_get_buffer_size(const nn_dims* input_dims,
                                              const nn_dims* filter_dims) {
    (void)filter_dims;
    /* The input plus its offset, widened to int16 once per batch. */
    return fc_depth(input_dims) * (int32_t)sizeof(int16_t);
}

int32_t nn_fully_connected_s4_get_buffer_size(const nn_dims* input_dims,
                                              const nn_dims* filter_dims) {
    (void)filter_dims;
    return fc_depth(input_dims) * (int32_t)sizeof(int16_t);
}

int32_t nn_fully_connected_sparse_s8_get_buffer_size(const nn_dims* input_dims,
                                                     const nn_dims* filter_dims) {
    return nn_fully_connected_s8_get_buffer_size(input_dims, filter_dims);
}

int32_t nn_add_s8_get_buffer_size(const nn_dims* dims) {
    (void)dims;
    return 0;
}
