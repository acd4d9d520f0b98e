/*
 * Internal to the runtime: the argument checks of each kernel family. Both
 * builds call the same checks, so they return the same status for the same
 * arguments. `required` is the kernel's *_get_buffer_size() for these shapes.
 */
#ifndef HILNAS_NN_VALIDATE_H
#define HILNAS_NN_VALIDATE_H

#include <stdint.h>

#include "hilnas_nn/nn_types.h"

nn_status nn_validate_conv(const nn_context* ctx, const nn_conv_params* params,
                           const nn_per_channel_quant* quant, const nn_dims* input_dims,
                           const int8_t* input, const nn_dims* filter_dims, const int8_t* filter,
                           const nn_dims* output_dims, const int8_t* output, int32_t required);

/* nn_validate_conv, and a 1x1 filter with zero padding. */
nn_status nn_validate_conv_1x1(const nn_context* ctx, const nn_conv_params* params,
                               const nn_per_channel_quant* quant, const nn_dims* input_dims,
                               const int8_t* input, const nn_dims* filter_dims,
                               const int8_t* filter, const nn_dims* output_dims,
                               const int8_t* output, int32_t required);

/* nn_validate_conv_1x1 for the in-place kernel: input and output are `data`,
 * stride 1 and the output's N, H and W those of the input. */
nn_status nn_validate_conv_1x1_in_place(const nn_context* ctx, const nn_conv_params* params,
                                        const nn_per_channel_quant* quant,
                                        const nn_dims* input_dims, const nn_dims* filter_dims,
                                        const int8_t* filter, const nn_dims* output_dims,
                                        const int8_t* data, int32_t required);

nn_status nn_validate_depthwise(const nn_context* ctx, const nn_dw_conv_params* params,
                                const nn_per_channel_quant* quant, const nn_dims* input_dims,
                                const int8_t* input, const nn_dims* filter_dims,
                                const int8_t* filter, const nn_dims* output_dims,
                                const int8_t* output, int32_t required);

/* nn_validate_depthwise for the in-place kernel: input and output are `data`,
 * ch_mult 1, and every window starts inside the input's rows and columns. */
nn_status nn_validate_depthwise_in_place(const nn_context* ctx, const nn_dw_conv_params* params,
                                         const nn_per_channel_quant* quant,
                                         const nn_dims* input_dims, const nn_dims* filter_dims,
                                         const int8_t* filter, const nn_dims* output_dims,
                                         const int8_t* data, int32_t required);

nn_status nn_validate_pool(const nn_context* ctx, const nn_pool_params* params,
                           const nn_dims* input_dims, const int8_t* input,
                           const nn_dims* filter_dims, const nn_dims* output_dims,
                           const int8_t* output, int32_t required);

nn_status nn_validate_global_pool(const nn_context* ctx, const nn_global_pool_params* params,
                                  const nn_per_tensor_quant* quant, const nn_dims* input_dims,
                                  const int8_t* input, const nn_dims* output_dims,
                                  const int8_t* output, int32_t required);

nn_status nn_validate_fully_connected(const nn_context* ctx, const nn_fc_params* params,
                                      const nn_per_channel_quant* quant, const nn_dims* input_dims,
                                      const int8_t* input, const nn_dims* filter_dims,
                                      const int8_t* filter, const nn_dims* output_dims,
                                      const int8_t* output, int32_t required);

nn_status nn_validate_add(const nn_context* ctx, const nn_add_params* params, const nn_dims* dims,
                          const int8_t* input1, const int8_t* input2, const int8_t* output,
                          int32_t required);

#endif /* HILNAS_NN_VALIDATE_H */
