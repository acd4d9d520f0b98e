/*
 * hilnas int8 runtime: the kernels.
 *
 * Two builds have these symbols: the portable reference (the specification) and
 * the Cortex-M DSP build (SMLAD/SXTB16; on the host with exact C fallbacks of
 * the intrinsics). They return the same status and write the same bytes for the
 * same arguments.
 *
 * Conventions shared by every kernel:
 *  - Activations are NHWC int8; output values follow nn_quant.h.
 *  - ctx supplies scratch: at least *_get_buffer_size() bytes, 4-byte aligned.
 *    The size depends only on the shapes and is the same in both builds, so a
 *    planner reserves it once; where it is 0, ctx may be NULL.
 *  - bias may be NULL (all zero); it has one int32 per output channel.
 *  - Outputs never alias inputs, except nn_add_s8's output, which may be either
 *    input, and the *_in_place_s8 kernels', which is their input.
 *  - Preconditions not checked (the code generator guarantees them): buffers
 *    hold their shapes; per-channel shifts are in [-31, 30].
 */
#ifndef HILNAS_NN_FUNCTIONS_H
#define HILNAS_NN_FUNCTIONS_H

#include <stdint.h>

#include "hilnas_nn/nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Convolution ------------------------------------------------------- */

/* 2-D convolution, TFLite CONV_2D (per-channel int8), dilation 1.
 *   input   [N, H, W, C_in]            input_dims
 *   filter  [C_out, KH, KW, C_in]      filter_dims (n = C_out)
 *   bias    [C_out] or NULL
 *   output  [N, H_out, W_out, C_out]   output_dims
 *   quant   C_out multipliers and shifts
 * Output (b, y, x, o) reads input rows y * stride.h - padding.h + ky and columns
 * x * stride.w - padding.w + kx; positions outside the input contribute 0.
 * KH * KW * C_in <= NN_MAX_ACCUM_DEPTH. */
nn_status nn_convolve_s8(const nn_context* ctx, const nn_conv_params* params,
                         const nn_per_channel_quant* quant, const nn_dims* input_dims,
                         const int8_t* input, const nn_dims* filter_dims, const int8_t* filter,
                         const int32_t* bias, const nn_dims* output_dims, int8_t* output);

/* Scratch of nn_convolve_s8: two im2col columns of int16,
 * 4 * KH * KW * C_in bytes. */
int32_t nn_convolve_s8_get_buffer_size(const nn_dims* input_dims, const nn_dims* filter_dims);

/* 1x1 convolution: nn_convolve_s8 restricted to KH = KW = 1, zero padding and
 * outputs that all read inside the input ((H_out - 1) * stride.h < H, likewise
 * for W); any stride. NN_ARG_ERROR otherwise. The pointwise fast path. */
nn_status nn_convolve_1x1_s8(const nn_context* ctx, const nn_conv_params* params,
                             const nn_per_channel_quant* quant, const nn_dims* input_dims,
                             const int8_t* input, const nn_dims* filter_dims, const int8_t* filter,
                             const int32_t* bias, const nn_dims* output_dims, int8_t* output);

/* Scratch of nn_convolve_1x1_s8: two input pixels as int16, 4 * C_in bytes (the
 * same as nn_convolve_s8's for a 1x1 window); 0 for any other window. */
int32_t nn_convolve_1x1_s8_get_buffer_size(const nn_dims* input_dims, const nn_dims* filter_dims);

/* nn_convolve_1x1_s8 in place: stride 1, and the output overwrites the input.
 *   data  on entry the input [N, H, W, C_in] in its first N * H * W * C_in
 *         bytes; on return the output [N, H, W, C_out] in its first
 *         N * H * W * C_out bytes. It must hold the larger of the two.
 * Pixel k of the output lies at k * C_out, of the input at k * C_in. When
 * C_out <= C_in the kernel walks the pixels forwards, else backwards, and
 * copies each pixel (two at a time) into scratch before writing its outputs:
 * either way a write lands only on input pixels already copied. Requires a
 * 1x1 window, stride 1, no padding and output dims equal to the input's but
 * for C; NN_ARG_ERROR otherwise. Writes the same bytes as nn_convolve_1x1_s8
 * on the same input. */
nn_status nn_convolve_1x1_in_place_s8(const nn_context* ctx, const nn_conv_params* params,
                                      const nn_per_channel_quant* quant, const nn_dims* input_dims,
                                      const nn_dims* filter_dims, const int8_t* filter,
                                      const int32_t* bias, const nn_dims* output_dims,
                                      int8_t* data);

/* Scratch of nn_convolve_1x1_in_place_s8: that of nn_convolve_1x1_s8. */
int32_t nn_convolve_1x1_in_place_s8_get_buffer_size(const nn_dims* input_dims,
                                                    const nn_dims* filter_dims);

/* nn_convolve_s8 with packed 4-bit weights in [-8, 7]. filter_dims is the
 * logical shape [C_out, KH, KW, C_in]; filter holds C_out rows of
 * nn_s4_row_bytes(KH * KW * C_in) bytes, each the row's values in OHWI order,
 * two per byte, the first in the low nibble; an odd row's last high nibble is
 * padding and ignored (see nn_pack_s4). */
nn_status nn_convolve_s4(const nn_context* ctx, const nn_conv_params* params,
                         const nn_per_channel_quant* quant, const nn_dims* input_dims,
                         const int8_t* input, const nn_dims* filter_dims, const int8_t* filter,
                         const int32_t* bias, const nn_dims* output_dims, int8_t* output);

/* Scratch of nn_convolve_s4: 4 * KH * KW * C_in bytes. */
int32_t nn_convolve_s4_get_buffer_size(const nn_dims* input_dims, const nn_dims* filter_dims);

/* nn_convolve_s8 with its filter in the sparse layout of nn_quant.h
 * (nn_pack_sparse_s8 of C_out rows of KH * KW * C_in weights, OHWI order), for
 * pruned layers: only the non-zero weights are stored and multiplied. Any
 * window, 1x1 included; arguments and outputs as nn_convolve_s8's on the dense
 * filter, which it matches bit for bit. The Cortex-M build decodes a channel's
 * bitmap once into (offset, value) entries (scratch) and runs them over every
 * output pixel, four pixels of a row per pass. */
nn_status nn_convolve_sparse_s8(const nn_context* ctx, const nn_conv_params* params,
                                const nn_per_channel_quant* quant, const nn_dims* input_dims,
                                const int8_t* input, const nn_dims* filter_dims,
                                const int8_t* filter, const int32_t* bias,
                                const nn_dims* output_dims, int8_t* output);

/* Scratch of nn_convolve_sparse_s8: one channel's decoded weights (an int32
 * input offset and value each) and taps (where each ends, the sum of the values
 * up to there), 8 * (KH * KW * C_in + KH * KW) bytes. */
int32_t nn_convolve_sparse_s8_get_buffer_size(const nn_dims* input_dims,
                                              const nn_dims* filter_dims);

/* Depthwise convolution, TFLite DEPTHWISE_CONV_2D (per-channel int8).
 *   input   [N, H, W, C_in]
 *   filter  [1, KH, KW, C_in * ch_mult]  filter_dims (n = 1)
 *   bias    [C_in * ch_mult] or NULL
 *   output  [N, H_out, W_out, C_in * ch_mult]
 * Output channel ic * ch_mult + m convolves input channel ic with filter
 * channel ic * ch_mult + m. KH * KW <= NN_MAX_ACCUM_DEPTH. */
nn_status nn_depthwise_conv_s8(const nn_context* ctx, const nn_dw_conv_params* params,
                               const nn_per_channel_quant* quant, const nn_dims* input_dims,
                               const int8_t* input, const nn_dims* filter_dims,
                               const int8_t* filter, const int32_t* bias,
                               const nn_dims* output_dims, int8_t* output);

/* Scratch of nn_depthwise_conv_s8: 0. */
int32_t nn_depthwise_conv_s8_get_buffer_size(const nn_dims* input_dims, const nn_dims* filter_dims);

/* nn_depthwise_conv_s8 in place (TinyEngine's in-place depthwise): the output
 * overwrites the input, so a plan needs no second activation buffer, only
 * this kernel's scratch of one padded input channel.
 *   data    on entry the input [N, H, W, C]; on return the output
 *           [N, H_out, W_out, C] in its first N * H_out * W_out * C bytes
 *   filter  [1, KH, KW, C], bias and quant as nn_depthwise_conv_s8
 * Channel by channel (batch by batch), the kernel copies channel c of the
 * input into scratch, then writes channel c of the output. Output element
 * (b, y, x, c) lies at an offset congruent to c modulo C and at or below
 * input pixel b * H * W + y * W_out + x, so it only ever overwrites input
 * bytes of a channel already copied (of this batch or an earlier one).
 * Requires ch_mult == 1 and windows that start inside the input's rows and
 * columns ((H_out - 1) * stride.h < H, likewise for W; SAME and VALID padding
 * always do); NN_ARG_ERROR otherwise. Writes the same bytes as
 * nn_depthwise_conv_s8 on the same input. */
nn_status nn_depthwise_conv_in_place_s8(const nn_context* ctx, const nn_dw_conv_params* params,
                                        const nn_per_channel_quant* quant,
                                        const nn_dims* input_dims, const nn_dims* filter_dims,
                                        const int8_t* filter, const int32_t* bias,
                                        const nn_dims* output_dims, int8_t* data);

/* Scratch of nn_depthwise_conv_in_place_s8: one input channel with room for
 * its padding and the channel's taps, as int16:
 *   2 * (KH * KWe + (H + KH - 1) * (W + KW - 1) + 2) bytes, KWe = KW rounded
 * up to even; 0 for shapes the kernel rejects. */
int32_t nn_depthwise_conv_in_place_s8_get_buffer_size(const nn_dims* input_dims,
                                                      const nn_dims* filter_dims);

/* nn_depthwise_conv_s8 with packed 4-bit weights in [-8, 7]. filter_dims is the
 * logical shape [1, KH, KW, C_out] (C_out = C_in * ch_mult); filter is that
 * tensor in the s8 kernel's order packed as ONE row (nn_pack_s4 with 1 row of
 * KH * KW * C_out values): weight (ky, kx, oc) is value (ky * KW + kx) * C_out +
 * oc, two per byte, the first in the low nibble, nn_s4_row_bytes(KH * KW * C_out)
 * bytes in all. That is nn_convolve_s4's rule for filter_dims.n = 1 rows. Rows
 * per channel would waste a padding nibble per channel of every odd window
 * (1/9 more flash at 3x3) to give the kernel byte-aligned taps, which it does
 * not need: the Cortex-M build widens each group of four channels' taps once
 * per call into the scratch, so its inner loop never unpacks a nibble. */
nn_status nn_depthwise_conv_s4(const nn_context* ctx, const nn_dw_conv_params* params,
                               const nn_per_channel_quant* quant, const nn_dims* input_dims,
                               const int8_t* input, const nn_dims* filter_dims,
                               const int8_t* filter, const int32_t* bias,
                               const nn_dims* output_dims, int8_t* output);

/* Scratch of nn_depthwise_conv_s4: the taps of four channels widened to int16,
 * 8 * KH * KW bytes. */
int32_t nn_depthwise_conv_s4_get_buffer_size(const nn_dims* input_dims, const nn_dims* filter_dims);

/* ---- Pooling ----------------------------------------------------------- */

/* Max pooling, TFLite MAX_POOL_2D: the largest input in each window (h, w of
 * filter_dims), padding excluded, then clamped to the activation.
 * input [N, H, W, C], output [N, H_out, W_out, C]. Every window must overlap the
 * input (padding < window, last window starting inside), else NN_ARG_ERROR. */
nn_status nn_max_pool_s8(const nn_context* ctx, const nn_pool_params* params,
                         const nn_dims* input_dims, const int8_t* input, const nn_dims* filter_dims,
                         const nn_dims* output_dims, int8_t* output);

/* Scratch of nn_max_pool_s8: 0. */
int32_t nn_max_pool_s8_get_buffer_size(const nn_dims* input_dims, const nn_dims* filter_dims);

/* Average pooling, TFLite AVERAGE_POOL_2D: the sum of the inputs inside the
 * input part of each window divided by their count, rounded to nearest with ties
 * away from zero, clamped to the activation. Shapes and window rule as
 * nn_max_pool_s8. */
nn_status nn_avg_pool_s8(const nn_context* ctx, const nn_pool_params* params,
                         const nn_dims* input_dims, const int8_t* input, const nn_dims* filter_dims,
                         const nn_dims* output_dims, int8_t* output);

/* Scratch of nn_avg_pool_s8: 0. */
int32_t nn_avg_pool_s8_get_buffer_size(const nn_dims* input_dims, const nn_dims* filter_dims);

/* Global average pooling, TFLite MEAN over H and W (reference_integer_ops::Mean)
 * with a fused activation. input [N, H, W, C], output [N, 1, 1, C]; quant from
 * nn_quantize_multiplier(input_scale / output_scale). Per (b, c):
 *   acc = nn_requantize_s32(sum(input + input_offset), quant)
 *   acc = acc > 0 ? (acc + H*W/2) / (H*W) : (acc - H*W/2) / (H*W)   (C division)
 *   out = clamp(acc + output_offset, activation)
 * H * W <= 2^23. */
nn_status nn_global_avg_pool_s8(const nn_context* ctx, const nn_global_pool_params* params,
                                const nn_per_tensor_quant* quant, const nn_dims* input_dims,
                                const int8_t* input, const nn_dims* output_dims, int8_t* output);

/* Scratch of nn_global_avg_pool_s8: 0. */
int32_t nn_global_avg_pool_s8_get_buffer_size(const nn_dims* input_dims);

/* ---- Fully connected --------------------------------------------------- */

/* Fully connected, TFLite FULLY_CONNECTED with per-channel (per-unit) int8
 * weights (per-tensor: repeat the one multiplier and shift).
 *   input   [N, H, W, C]: N batches of IN = H * W * C features
 *   filter  [UNITS, 1, 1, IN]    filter_dims
 *   bias    [UNITS] or NULL
 *   output  [N, 1, 1, UNITS]
 * IN <= NN_MAX_ACCUM_DEPTH. */
nn_status nn_fully_connected_s8(const nn_context* ctx, const nn_fc_params* params,
                                const nn_per_channel_quant* quant, const nn_dims* input_dims,
                                const int8_t* input, const nn_dims* filter_dims,
                                const int8_t* filter, const int32_t* bias,
                                const nn_dims* output_dims, int8_t* output);

/* Scratch of nn_fully_connected_s8: the offset input as int16, 2 * IN bytes. */
int32_t nn_fully_connected_s8_get_buffer_size(const nn_dims* input_dims,
                                              const nn_dims* filter_dims);

/* nn_fully_connected_s8 with packed 4-bit weights in [-8, 7]: UNITS rows of
 * nn_s4_row_bytes(IN) bytes, packed as for nn_convolve_s4. */
nn_status nn_fully_connected_s4(const nn_context* ctx, const nn_fc_params* params,
                                const nn_per_channel_quant* quant, const nn_dims* input_dims,
                                const int8_t* input, const nn_dims* filter_dims,
                                const int8_t* filter, const int32_t* bias,
                                const nn_dims* output_dims, int8_t* output);

/* Scratch of nn_fully_connected_s4: 2 * IN bytes. */
int32_t nn_fully_connected_s4_get_buffer_size(const nn_dims* input_dims,
                                              const nn_dims* filter_dims);

/* nn_fully_connected_s8 with its filter in the sparse layout of nn_quant.h
 * (nn_pack_sparse_s8 of UNITS rows of IN weights); the same arguments and
 * bytes out as nn_fully_connected_s8 on the dense filter. */
nn_status nn_fully_connected_sparse_s8(const nn_context* ctx, const nn_fc_params* params,
                                       const nn_per_channel_quant* quant, const nn_dims* input_dims,
                                       const int8_t* input, const nn_dims* filter_dims,
                                       const int8_t* filter, const int32_t* bias,
                                       const nn_dims* output_dims, int8_t* output);

/* Scratch of nn_fully_connected_sparse_s8: the offset input as int16, 2 * IN
 * bytes (nn_fully_connected_s8's). */
int32_t nn_fully_connected_sparse_s8_get_buffer_size(const nn_dims* input_dims,
                                                     const nn_dims* filter_dims);

/* ---- Element-wise ------------------------------------------------------ */

/* Element-wise add of two tensors of the same shape, TFLite ADD (int8, no
 * broadcasting). For each element:
 *   a = nn_requantize_s32((in1 + input1_offset) << left_shift, m1, s1)
 *   b = nn_requantize_s32((in2 + input2_offset) << left_shift, m2, s2)
 *   out = clamp(nn_requantize_s32(a + b, m_out, s_out) + output_offset, act)
 * output may be input1 or input2. */
nn_status nn_add_s8(const nn_context* ctx, const nn_add_params* params, const nn_dims* dims,
                    const int8_t* input1, const int8_t* input2, int8_t* output);

/* Scratch of nn_add_s8: 0. */
int32_t nn_add_s8_get_buffer_size(const nn_dims* dims);

#ifdef __cplusplus
}
#endif

#endif /* HILNAS_NN_FUNCTIONS_H */
