#include "nn_support.h"

#include <string.h>

#include "nn_common.h"

void nn_cm_s8_to_s16_offset(const int8_t* src, int16_t* dst, int32_t n, int32_t offset) {
    const uint32_t offset2 = nn_dup_s16x2(offset);
    for (int32_t k = n >> 2; k > 0; --k) {
        const uint32_t in = nn_read_u32(src);
        const uint32_t even = nn_sadd16(nn_sxtb16(in), offset2);     /* (x0, x2) */
        const uint32_t odd = nn_sadd16(nn_sxtb16_ror8(in), offset2); /* (x1, x3) */
        nn_write_u32(dst, nn_pkhbt16(even, odd));
        nn_write_u32(dst + 2, nn_pkhtb16(odd, even));
        src += 4;
        dst += 4;
    }
    for (int32_t k = n & 3; k > 0; --k) {
        *dst++ = (int16_t)(*src++ + offset);
    }
}

void nn_cm_s8_to_s16_offset_reordered(const int8_t* src, int16_t* dst, int32_t n, int32_t offset) {
    const uint32_t offset2 = nn_dup_s16x2(offset);
    for (int32_t k = n >> 2; k > 0; --k) {
        const uint32_t in = nn_read_u32(src);
        nn_write_u32(dst, nn_sadd16(nn_sxtb16(in), offset2));
        nn_write_u32(dst + 2, nn_sadd16(nn_sxtb16_ror8(in), offset2));
        src += 4;
        dst += 4;
    }
    for (int32_t k = n & 3; k > 0; --k) {
        *dst++ = (int16_t)(*src++ + offset);
    }
}

void nn_cm_s16_natural_to_s4_order(int16_t* buf, int32_t n) {
    for (int32_t k = n >> 3; k > 0; --k) {
        const uint32_t x01 = nn_read_u32(buf);
        const uint32_t x23 = nn_read_u32(buf + 2);
        const uint32_t x45 = nn_read_u32(buf + 4);
        const uint32_t x67 = nn_read_u32(buf + 6);
        nn_write_u32(buf, nn_pkhbt16(x01, x45));     /* (x0, x4) */
        nn_write_u32(buf + 2, nn_pkhbt16(x23, x67)); /* (x2, x6) */
        nn_write_u32(buf + 4, nn_pkhtb16(x45, x01)); /* (x1, x5) */
        nn_write_u32(buf + 6, nn_pkhtb16(x67, x23)); /* (x3, x7) */
        buf += 8;
    }
}

int16_t* nn_cm_im2col_s16(const int8_t* input, const nn_dims* input_dims, int32_t b, int32_t y0,
                          int32_t x0, int32_t k_h, int32_t k_w, int32_t offset, int16_t* col) {
    const int32_t in_h = input_dims->h, in_w = input_dims->w, ch = input_dims->c;
    /* Columns kx_begin .. kx_end - 1 of the window lie inside the input. */
    const int32_t kx_begin = nn_clamp_s32(-x0, 0, k_w);
    const int32_t kx_end = nn_clamp_s32(in_w - x0, kx_begin, k_w);
    const int32_t left = kx_begin * ch, inside = (kx_end - kx_begin) * ch,
                  right = (k_w - kx_end) * ch;

    for (int32_t ky = 0; ky < k_h; ++ky) {
        const int32_t iy = y0 + ky;
        if (iy < 0 || iy >= in_h) {
            memset(col, 0, (size_t)(k_w * ch) * sizeof(int16_t));
            col += k_w * ch;
            continue;
        }
        memset(col, 0, (size_t)left * sizeof(int16_t));
        col += left;
        if (inside > 0) {
            nn_cm_s8_to_s16_offset(input + ((b * in_h + iy) * in_w + x0 + kx_begin) * ch, col,
                                   inside, offset);
            col += inside;
        }
        memset(col, 0, (size_t)right * sizeof(int16_t));
        col += right;
    }
    return col;
}
