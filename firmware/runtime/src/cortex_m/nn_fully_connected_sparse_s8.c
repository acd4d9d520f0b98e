/* Cortex-M sparse fully connected: once per batch the input plus its offset
 * is widened into the scratch (natural order), then each unit walks its
 * bitmap a word at a time (one REV), finding each non-zero weight with CLZ:
 * per non-zero weight seven instructions (see dot_word). The dense kernel's reuse of each input
 * read over two units does not carry over (the units' patterns differ). */
#include <stdint.h>

#include "hilnas_nn/nn_functions.h"
#include "hilnas_nn/nn_quant.h"
#include "nn_common.h"
#include "nn_intrinsics.h"
#include "nn_support.h"
#include "nn_validate.h"

/* The non-zero weights of a row set in mask m (nn_cm_sparse_word) times the
 * inputs x[0..31], from *w on, stepping *w. Per weight: CLZ for its index,
 * LSR and EORS to clear its bit, LDRSH of the input at the index, LDRSB of the
 * weight, SMLABB, the branch; GCC's own loop takes two more (it tests m apart
 * from clearing the bit), so on the target the loop is written out. */
static inline int32_t dot_word(uint32_t m, const int16_t* x, const int8_t** w, int32_t sum) {
#if NN_USE_DSP
    if (m != 0) {
        const int8_t* v = *w;
        uint32_t n, bit, xv, wv;
        __asm__(
            "1:\n\t"
            "clz %[n], %[m]\n\t"
            "lsr %[bit], %[top], %[n]\n\t"
            "ldrsh %[xv], [%[x], %[n], lsl #1]\n\t"
            "ldrsb %[wv], [%[v]], #1\n\t"
            "eors %[m], %[m], %[bit]\n\t"
            "smlabb %[sum], %[xv], %[wv], %[sum]\n\t"
            "bne 1b"
            : [m] "+r"(m), [v] "+r"(v), [sum] "+r"(sum), [n] "=&r"(n), [bit] "=&r"(bit),
              [xv] "=&r"(xv), [wv] "=&r"(wv)
            : [x] "r"(x), [top] "r"(0x80000000u)
            : "cc", "memory");
        *w = v;
    }
    return sum;
#else
    const int8_t* v = *w;
    while (m != 0) {
        const int32_t n = nn_clz(m);
        sum += *v++ * x[n];
        m ^= 0x80000000u >> n;
    }
    *w = v;
    return sum;
#endif
}

/* A unit's sum of products: its bitmap (depth weights) over the widened
 * input x, its values from *w on, stepping *w. */
static NN_NOINLINE int32_t dot_row(const int8_t* bitmap, int32_t depth, const int16_t* x,
                                   const int8_t** w) {
    const int8_t* const whole_end = bitmap + 4 * (depth >> 5);
    const int8_t* v = *w; /* in a register across the words */
    int32_t sum = 0;
    for (; bitmap != whole_end; bitmap += 4, x += 32) {
        sum = dot_word(nn_rev(nn_read_u32(bitmap)), x, &v, sum);
    }
    if (depth & 31) {
        sum = dot_word(nn_cm_sparse_word(bitmap, depth & 31, 0), x, &v, sum);
    }
    *w = v;
    return sum;
}

nn_status nn_fully_connected_sparse_s8(const nn_context* ctx, const nn_fc_params* params,
                                       const nn_per_channel_quant* quant, const nn_dims* input_dims,
                                       const int8_t* input, const nn_dims* filter_dims,
                                       const int8_t* filter, const int32_t* bias,
                                       const nn_dims* output_dims, int8_t* output) {
    const nn_status status = nn_validate_fully_connected(
        ctx, params, quant, input_dims, input, filter_dims, filter, output_dims, output,
        nn_fully_connected_sparse_s8_get_buffer_size(input_dims, filter_dims));
    if (status != NN_OK) {
        return status;
    }
    const int32_t depth = filter_dims->c, units = filter_dims->n;
    const int32_t bitmap_bytes = nn_sparse_bitmap_bytes(depth);
    const nn_cm_requant r = {bias, quant->multiplier, quant->shift, params->output_offset,
                             params->activation};
    int16_t* const x = (int16_t*)ctx->buf;

    for (int32_t b = 0; b < input_dims->n; ++b) {
        nn_cm_s8_to_s16_offset(input + b * depth, x, depth, params->input_offset);
        const int8_t* w = filter + units * bitmap_bytes;
        for (int32_t u = 0; u < units; ++u) {
            const int32_t sum = dot_row(filter + u * bitmap_bytes, depth, x, &w);
            output[b * units + u] = nn_cm_output(&r, u, sum);
        }
    }
    return NN_OK;
}
