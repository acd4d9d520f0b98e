/* Cortex-M in-place depthwise convolution. Per batch and channel the channel
 * is widened once into a zero-padded int16 plane in scratch (nn_common.h), so
 * every window is whole: a window row is read as int16 pairs, each with the
 * matching pair of taps by one SMLAD (an odd row's last tap pairs with a 0),
 * and no tap is bounds-checked. 3x3 windows keep their six tap pairs in
 * registers. */
#include "hilnas_nn/nn_functions.h"
#include "nn_common.h"
#include "nn_intrinsics.h"
#include "nn_support.h"
#include "nn_validate.h"

/* One channel's plane and taps, and where its outputs go. */
typedef struct {
    const int16_t* taps;
    const int16_t* plane;
    int8_t* out; /* output (b, 0, 0, c) */
    int32_t k_h, k_we, cols, sy, sx, out_h, out_w, channels;
    int32_t output_offset;
    nn_activation activation;
} dw_channel;

static void channel_any(const dw_channel* a, const nn_cm_channel* q) {
    for (int32_t oy = 0; oy < a->out_h; ++oy) {
        const int16_t* win = a->plane + oy * a->sy * a->cols;
        int8_t* out = a->out + oy * a->out_w * a->channels;
        for (int32_t ox = 0; ox < a->out_w; ++ox) {
            int32_t sum = 0;
            const int16_t* row = win;
            const int16_t* t = a->taps;
            for (int32_t ky = 0; ky < a->k_h; ++ky) {
                for (int32_t kx = 0; kx < a->k_we; kx += 2) {
                    sum = nn_smlad(nn_read_u32(row + kx), nn_read_u32_aligned(t + kx), sum);
                }
                row += a->cols;
                t += a->k_we;
            }
            *out = nn_cm_output_ch(q, a->output_offset, a->activation, sum);
            out += a->channels;
            win += a->sx;
        }
    }
}

static void channel_3x3(const dw_channel* a, const nn_cm_channel* q) {
    const uint32_t t00 = nn_read_u32_aligned(a->taps), t02 = nn_read_u32_aligned(a->taps + 2);
    const uint32_t t10 = nn_read_u32_aligned(a->taps + 4), t12 = nn_read_u32_aligned(a->taps + 6);
    const uint32_t t20 = nn_read_u32_aligned(a->taps + 8), t22 = nn_read_u32_aligned(a->taps + 10);
    const int32_t cols = a->cols;
    for (int32_t oy = 0; oy < a->out_h; ++oy) {
        const int16_t* win = a->plane + oy * a->sy * cols;
        int8_t* out = a->out + oy * a->out_w * a->channels;
        for (int32_t ox = 0; ox < a->out_w; ++ox) {
            int32_t sum = nn_smlad(nn_read_u32(win), t00, 0);
            sum = nn_smlad(nn_read_u32(win + 2), t02, sum);
            sum = nn_smlad(nn_read_u32(win + cols), t10, sum);
            sum = nn_smlad(nn_read_u32(win + cols + 2), t12, sum);
            sum = nn_smlad(nn_read_u32(win + 2 * cols), t20, sum);
            sum = nn_smlad(nn_read_u32(win + 2 * cols + 2), t22, sum);
            *out = nn_cm_output_ch(q, a->output_offset, a->activation, sum);
            out += a->channels;
            win += a->sx;
        }
    }
}

nn_status nn_depthwise_conv_in_place_s8(const nn_context* ctx, const nn_dw_conv_params* params,
                                        const nn_per_channel_quant* quant,
                                        const nn_dims* input_dims, const nn_dims* filter_dims,
                                        const int8_t* filter, const int32_t* bias,
                                        const nn_dims* output_dims, int8_t* data) {
    const nn_status status = nn_validate_depthwise_in_place(
        ctx, params, quant, input_dims, filter_dims, filter, output_dims, data,
        nn_depthwise_conv_in_place_s8_get_buffer_size(input_dims, filter_dims));
    if (status != NN_OK) {
        return status;
    }
    const nn_cm_requant r = {bias, quant->multiplier, quant->shift, params->output_offset,
                             params->activation};
    dw_channel a;
    a.k_h = filter_dims->h;
    a.k_we = filter_dims->w + (filter_dims->w & 1);
    a.sy = params->stride.h;
    a.sx = params->stride.w;
    a.out_h = output_dims->h;
    a.out_w = output_dims->w;
    a.channels = input_dims->c;
    a.cols = (a.out_w - 1) * a.sx + filter_dims->w;
    a.output_offset = params->output_offset;
    a.activation = params->activation;
    const int32_t rows = (a.out_h - 1) * a.sy + a.k_h;
    int16_t* taps = (int16_t*)NN_ASSUME_ALIGNED4(ctx->buf);
    int16_t* plane = taps + a.k_h * a.k_we;
    a.taps = taps;
    a.plane = plane;
    const int is_3x3 = a.k_h == 3 && filter_dims->w == 3;

    for (int32_t b = 0; b < input_dims->n; ++b) {
        for (int32_t c = 0; c < a.channels; ++c) {
            nn_dw_in_place_taps(filter, a.k_h, filter_dims->w, a.channels, c, taps);
            nn_dw_in_place_plane(data, input_dims, b, c, params->padding.h, params->padding.w, rows,
                                 a.cols, params->input_offset, plane);
            const nn_cm_channel q = nn_cm_channel_at(&r, c);
            a.out = data + b * a.out_h * a.out_w * a.channels + c;
            if (is_3x3) {
                channel_3x3(&a, &q);
            } else {
                channel_any(&a, &q);
            }
        }
    }
    return NN_OK;
}
