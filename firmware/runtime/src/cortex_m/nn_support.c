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
    /* SXTAB16 adds the offset as it widens; eight values per iteration. */
    const uint32_t offset2 = nn_dup_s16x2(offset);
    for (int32_t k = n >> 3; k > 0; --k) {
        const uint32_t in0 = nn_read_u32(src), in1 = nn_read_u32(src + 4);
        src += 8;
        nn_write_u32_aligned(dst, nn_sxtab16(offset2, in0));          /* (x0, x2) */
        nn_write_u32_aligned(dst + 2, nn_sxtab16_ror8(offset2, in0)); /* (x1, x3) */
        nn_write_u32_aligned(dst + 4, nn_sxtab16(offset2, in1));
        nn_write_u32_aligned(dst + 6, nn_sxtab16_ror8(offset2, in1));
        dst += 8;
    }
    if (n & 4) {
        const uint32_t in = nn_read_u32(src);
        src += 4;
        nn_write_u32_aligned(dst, nn_sxtab16(offset2, in));
        nn_write_u32_aligned(dst + 2, nn_sxtab16_ror8(offset2, in));
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

/* Whole groups of four values into the pair layout, from dst (the first group's
 * slots of one pixel) on: src + offset widened by SXTAB16, which adds the offset
 * while it leaves the reordered lanes (x0, x2), (x1, x3); or zeros. */
static inline int16_t* pair_groups_s8(int16_t* dst, const int8_t* src, int32_t groups,
                                      uint32_t offset2) {
    for (; groups > 0; --groups) {
        const uint32_t in = nn_read_u32(src);
        src += 4;
        nn_write_u32_aligned(dst, nn_sxtab16(offset2, in));
        nn_write_u32_aligned(dst + 2, nn_sxtab16_ror8(offset2, in));
        dst += 8;
    }
    return dst;
}

static inline int16_t* pair_groups_zero(int16_t* dst, int32_t groups) {
    for (; groups > 0; --groups) {
        nn_write_u32_aligned(dst, 0);
        nn_write_u32_aligned(dst + 2, 0);
        dst += 8;
    }
    return dst;
}

void nn_cm_widen_pair_s16(const int8_t* src, int32_t n, int32_t offset, int16_t* pair,
                          int32_t pixel) {
    const int32_t groups = n >> 2, tail = n & 3;
    pair_groups_s8(pair + 4 * pixel, src, groups, nn_dup_s16x2(offset));
    int16_t* const dst = pair + 8 * groups + pixel * tail;
    src += 4 * groups;
    for (int32_t k = 0; k < tail; ++k) {
        dst[k] = (int16_t)(src[k] + offset);
    }
}

/* Writes one column into a pair-layout buffer (nn_support.h) value by value,
 * for runs that need not start or end on a group boundary: the slot steps
 * through the lanes of the current group in the order x0, x2, x1, x3, then on
 * to the next group; after the last whole group, the natural-order tail. */
typedef struct {
    int16_t* group;  /* the current group's slots for this pixel */
    int16_t* tail;   /* the next tail slot */
    int32_t lane;    /* 0..3: the position in the current group */
    int32_t grouped; /* values left before the tail */
} pair_cursor;

static inline void pair_put1(pair_cursor* c, int32_t v) {
    if (c->grouped > 0) {
        static const uint8_t slot[4] = {0, 2, 1, 3}; /* of value r of a group */
        c->group[slot[c->lane]] = (int16_t)v;
        --c->grouped;
        if (++c->lane == 4) {
            c->lane = 0;
            c->group += 8;
        }
    } else {
        *c->tail++ = (int16_t)v;
    }
}

/* The next n values of the column: src[i] + offset. */
static void pair_put_s8(pair_cursor* c, const int8_t* src, int32_t n, int32_t offset) {
    const uint32_t offset2 = nn_dup_s16x2(offset);
    while (n > 0) {
        if (c->lane == 0 && n >= 4 && c->grouped >= 4) {
            const int32_t groups = nn_min_s32(n, c->grouped) >> 2;
            c->group = pair_groups_s8(c->group, src, groups, offset2);
            c->grouped -= 4 * groups;
            src += 4 * groups;
            n -= 4 * groups;
        } else {
            pair_put1(c, *src++ + offset);
            --n;
        }
    }
}

/* The next n values of the column: zeros (the padding). */
static void pair_put_zeros(pair_cursor* c, int32_t n) {
    while (n > 0) {
        if (c->lane == 0 && n >= 4 && c->grouped >= 4) {
            const int32_t groups = nn_min_s32(n, c->grouped) >> 2;
            c->group = pair_groups_zero(c->group, groups);
            c->grouped -= 4 * groups;
            n -= 4 * groups;
        } else {
            pair_put1(c, 0);
            --n;
        }
    }
}

void nn_cm_im2col_pair_s16(const int8_t* input, const nn_dims* input_dims, int32_t b, int32_t y0,
                           int32_t x0, int32_t k_h, int32_t k_w, int32_t offset, int32_t depth,
                           int16_t* pair, int32_t pixel) {
    const int32_t in_h = input_dims->h, in_w = input_dims->w, ch = input_dims->c;
    /* Columns kx_begin .. kx_end - 1 of the window lie inside the input. */
    const int32_t kx_begin = nn_clamp_s32(-x0, 0, k_w);
    const int32_t kx_end = nn_clamp_s32(in_w - x0, kx_begin, k_w);
    const int32_t left = kx_begin * ch, inside = (kx_end - kx_begin) * ch,
                  right = (k_w - kx_end) * ch;
    /* Offset of the first input inside window row ky (formed into a pointer only
     * for rows inside the input). */
    int32_t row = ((b * in_h + y0) * in_w + x0 + kx_begin) * ch;
    const int32_t row_step = in_w * ch;

    if ((ch & 3) == 0) {
        /* Every run starts and ends on a group boundary: whole groups only. */
        const uint32_t offset2 = nn_dup_s16x2(offset);
        int16_t* dst = pair + 4 * pixel;
        for (int32_t ky = 0; ky < k_h; ++ky, row += row_step) {
            const int32_t iy = y0 + ky;
            if (iy < 0 || iy >= in_h) {
                dst = pair_groups_zero(dst, (k_w * ch) >> 2);
                continue;
            }
            dst = pair_groups_zero(dst, left >> 2);
            dst = pair_groups_s8(dst, input + row, inside >> 2, offset2);
            dst = pair_groups_zero(dst, right >> 2);
        }
        return;
    }
    const int32_t grouped = depth & ~3;
    pair_cursor c = {pair + 4 * pixel, pair + 2 * grouped + pixel * (depth & 3), 0, grouped};
    for (int32_t ky = 0; ky < k_h; ++ky, row += row_step) {
        const int32_t iy = y0 + ky;
        if (iy < 0 || iy >= in_h) {
            pair_put_zeros(&c, k_w * ch);
            continue;
        }
        if (left > 0) {
            pair_put_zeros(&c, left);
        }
        if (inside > 0) {
            pair_put_s8(&c, input + row, inside, offset);
        }
        if (right > 0) {
            pair_put_zeros(&c, right);
        }
    }
}
