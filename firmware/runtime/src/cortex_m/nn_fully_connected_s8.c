/* Cortex-M fully connected: once per batch the input plus its offset is
 * widened into the scratch in the lane order SXTB16 gives the weights
 * ((x0, x2), (x1, x3) per four), so each word of four weights feeds two SMLADs
 * without repacking. Units go three per pass (two where the count needs it:
 * 3k + 1 = 3(k - 1) + 2 + 2), sharing each 2-word read of the input; a fourth
 * unit would leave the Cortex-M4 short of registers. */
#include "hilnas_nn/nn_functions.h"
#include "nn_common.h"
#include "nn_intrinsics.h"
#include "nn_support.h"
#include "nn_validate.h"

/* sum += four weights at w times the widened features at x. */
static inline int32_t mac4(const int8_t* w, uint32_t x_even, uint32_t x_odd, int32_t sum) {
    const uint32_t a = nn_read_u32(w);
    sum = nn_smlad(nn_sxtb16(a), x_even, sum);      /* (w0, w2) . (x0, x2) */
    return nn_smlad(nn_sxtb16_ror8(a), x_odd, sum); /* (w1, w3) . (x1, x3) */
}

/* Sums of products of `n` rows (1 to 3) of weights from w with the widened
 * input x. */
static void dot_rows(const int8_t* w, const int16_t* x, int32_t depth, int32_t n, int32_t* sums) {
    const int8_t* w0 = w;
    const int8_t* w1 = w0 + (n > 1 ? depth : 0);
    const int8_t* w2 = w1 + (n > 2 ? depth : 0);
    int32_t s0 = 0, s1 = 0, s2 = 0;
    int32_t k = depth >> 2;
    if (n == 3) {
        for (; k > 0; --k) {
            const uint32_t xa = nn_read_u32_aligned(x), xb = nn_read_u32_aligned(x + 2);
            x += 4;
            s0 = mac4(w0, xa, xb, s0);
            w0 += 4;
            s1 = mac4(w1, xa, xb, s1);
            w1 += 4;
            s2 = mac4(w2, xa, xb, s2);
            w2 += 4;
        }
    } else if (n == 2) {
        for (; k > 0; --k) {
            const uint32_t xa = nn_read_u32_aligned(x), xb = nn_read_u32_aligned(x + 2);
            x += 4;
            s0 = mac4(w0, xa, xb, s0);
            w0 += 4;
            s1 = mac4(w1, xa, xb, s1);
            w1 += 4;
        }
    } else {
        for (; k > 0; --k) {
            const uint32_t xa = nn_read_u32_aligned(x), xb = nn_read_u32_aligned(x + 2);
            x += 4;
            s0 = mac4(w0, xa, xb, s0);
            w0 += 4;
        }
    }
    /* The tail, for every row alike (w1 and w2 alias w0 when fewer rows are
     * asked for; their sums are not returned). */
    for (int32_t t = depth & 3; t > 0; --t) {
        const uint32_t xk = (uint32_t)*x++;
        s0 = nn_smlabb((uint32_t)*w0++, xk, s0);
        s1 = nn_smlabb((uint32_t)*w1++, xk, s1);
        s2 = nn_smlabb((uint32_t)*w2++, xk, s2);
    }
    sums[0] = s0;
    sums[1] = s1;
    sums[2] = s2;
}

nn_status nn_fully_connected_s8(const nn_context* ctx, const nn_fc_params* params,
                                const nn_per_channel_quant* quant, const nn_dims* input_dims,
                                const int8_t* input, const nn_dims* filter_dims,
                                const int8_t* filter, const int32_t* bias,
                                const nn_dims* output_dims, int8_t* output) {
    const nn_status status = nn_validate_fully_connected(
        ctx, params, quant, input_dims, input, filter_dims, filter, output_dims, output,
        nn_fully_connected_s8_get_buffer_size(input_dims, filter_dims));
    if (status != NN_OK) {
        return status;
    }
    const int32_t depth = filter_dims->c, units = filter_dims->n;
    const nn_cm_requant r = {bias, quant->multiplier, quant->shift, params->output_offset,
                             params->activation};
    int16_t* const x = (int16_t*)ctx->buf;

    for (int32_t b = 0; b < input_dims->n; ++b) {
        int8_t* const out = output + b * units;
        nn_cm_s8_to_s16_offset_reordered(input + b * depth, x, depth, params->input_offset);
        int32_t u = 0;
        while (u < units) {
            const int32_t left = units - u;
            const int32_t n = left == 4 || left == 2 ? 2 : left == 1 ? 1 : 3;
            int32_t sums[3];
            dot_rows(filter + u * depth, x, depth, n, sums);
            for (int32_t i = 0; i < n; ++i, ++u) {
                const nn_cm_channel q = nn_cm_channel_at(&r, u);
                out[u] = nn_cm_output_ch(&q, r.output_offset, r.activation, sums[i]);
            }
        }
    }
    return NN_OK;
}
