/*
 * hilnas int8 runtime: the types every kernel shares.
 *
 * C99, no heap, no state. Layouts follow TensorFlow Lite: activations are NHWC
 * int8, convolution weights OHWI, depthwise weights [1, KH, KW, C * ch_mult],
 * fully-connected weights [units, in], biases int32 per output channel.
 */
#ifndef HILNAS_NN_TYPES_H
#define HILNAS_NN_TYPES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What every kernel returns. The checks behind NN_ARG_ERROR are cheap (pointers,
 * shapes, ranges of per-tensor parameters); the code generator validates a model
 * fully when it emits it. Both builds (reference, optimised) return the same
 * status for the same arguments. */
typedef enum {
    NN_OK = 0,
    NN_ARG_ERROR = -1,     /* an argument is NULL, inconsistent or out of range */
    NN_NO_IMPL_ERROR = -2, /* valid, but this build has no implementation for it */
} nn_status;

/* The longest dot product a kernel accepts: KH*KW*C_in for convolutions, KH*KW
 * for depthwise, the input features for fully connected. Bounded so that the
 * exact sum of products never leaves int32 (65535 * 256 * 128 < 2^31), which
 * lets every build reassociate the sum freely and stay bit-exact. */
#define NN_MAX_ACCUM_DEPTH 65535

/* A tensor shape in NHWC order: batches, height, width, channels. Every field
 * is at least 1. For weights: n is the output channels (conv, fully connected)
 * or 1 (depthwise); for pooling windows only h and w are read. */
typedef struct {
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
} nn_dims;

/* A 2-D quantity: strides (>= 1) and paddings (>= 0). */
typedef struct {
    int32_t w;
    int32_t h;
} nn_tile;

/* The output clamp, in output quantised units: [min, max] within [-128, 127].
 * No activation is {-128, 127}; relu is {output_zero_point, 127}; relu6 is
 * {output_zero_point, min(127, output_zero_point + round(6 / output_scale))}. */
typedef struct {
    int32_t min;
    int32_t max;
} nn_activation;

/* Convolution (nn_convolve_*). Offsets follow TFLite's signs:
 * input_offset = -input_zero_point in [-128, 128], output_offset =
 * output_zero_point in [-128, 127]. padding.h / padding.w are the rows above and
 * the columns left of the input that the first window covers; the padding on the
 * bottom and right follows from the output size. Padded inputs contribute
 * nothing (as if they held the input zero point). */
typedef struct {
    int32_t input_offset;
    int32_t output_offset;
    nn_tile stride;
    nn_tile padding;
    nn_activation activation;
} nn_conv_params;

/* Depthwise convolution: as nn_conv_params, plus the channel multiplier
 * (output channel ic * ch_mult + m reads input channel ic). */
typedef struct {
    int32_t input_offset;
    int32_t output_offset;
    int32_t ch_mult;
    nn_tile stride;
    nn_tile padding;
    nn_activation activation;
} nn_dw_conv_params;

/* Max and average pooling: input and output share their quantisation (as
 * TFLite requires), so there are no offsets. Every window must overlap the
 * input. */
typedef struct {
    nn_tile stride;
    nn_tile padding;
    nn_activation activation;
} nn_pool_params;

/* Global average pooling (TFLite's MEAN over H and W). */
typedef struct {
    int32_t input_offset;  /* -input_zero_point, [-128, 128] */
    int32_t output_offset; /* output_zero_point, [-128, 127] */
    nn_activation activation;
} nn_global_pool_params;

/* Fully connected. Offsets as for convolution. */
typedef struct {
    int32_t input_offset;
    int32_t output_offset;
    nn_activation activation;
} nn_fc_params;

/* Per-output-channel requantisation: multiplier[i] and shift[i] for output
 * channel i, from nn_quantize_multiplier(input_scale * weight_scale[i] /
 * output_scale). Multipliers are in [2^30, 2^31 - 1] (or 0), shifts in
 * [-31, 30]. */
typedef struct {
    const int32_t* multiplier;
    const int32_t* shift;
} nn_per_channel_quant;

/* One requantisation for a whole tensor. */
typedef struct {
    int32_t multiplier;
    int32_t shift;
} nn_per_tensor_quant;

/* Element-wise add, TFLite's int8 ADD: each input is offset, shifted left by
 * left_shift (20 in TFLite) and rescaled by its own multiplier and shift; the
 * sum is rescaled by the output multiplier and shift, offset and clamped.
 * Offsets as for convolution; left_shift in [0, 22]; shifts in [-31, 30]. */
typedef struct {
    int32_t input1_offset;
    int32_t input1_multiplier;
    int32_t input1_shift;
    int32_t input2_offset;
    int32_t input2_multiplier;
    int32_t input2_shift;
    int32_t left_shift;
    int32_t output_offset;
    int32_t output_multiplier;
    int32_t output_shift;
    nn_activation activation;
} nn_add_params;

/* Scratch memory for one kernel call, owned by the caller (a static arena).
 * buf must be 4-byte aligned and hold at least the kernel's
 * *_get_buffer_size() bytes; it may be {NULL, 0} (or the pointer NULL) when
 * that size is 0. Contents need not be initialised and are garbage after. */
typedef struct {
    void* buf;
    int32_t size;
} nn_context;

#ifdef __cplusplus
}
#endif

#endif /* HILNAS_NN_TYPES_H */
