/*
 * The Armv7E-M DSP instructions the optimised kernels use, on packed values in
 * uint32_t (lane 0 = bits 0..15 or byte 0, little-endian as on the target).
 *
 * With __ARM_FEATURE_DSP (Cortex-M4, M7, M33 with DSP) each is one instruction
 * (or the short sequence its comment names) in inline assembly; elsewhere (the
 * host build, a core without DSP) it is an exact C model of that instruction,
 * as the Arm Architecture Reference Manual defines it, so the optimised kernels
 * compute the same bytes everywhere. Flags the instructions set (Q, GE, C) are
 * not modelled: no kernel reads them, except nn_max_s8x4 and nn_min_s8x4 (GE)
 * and nn_round_shift_add (C), which consume their own flags inside one asm
 * statement.
 */
#ifndef HILNAS_NN_INTRINSICS_H
#define HILNAS_NN_INTRINSICS_H

#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && \
    __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the optimised kernels assume a little-endian target"
#endif

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP == 1
#define NN_USE_DSP 1
#else
#define NN_USE_DSP 0
#endif

/* Unaligned 32-bit load and store (one LDR/STR on the target). */
static inline uint32_t nn_read_u32(const void* p) {
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void nn_write_u32(void* p, uint32_t v) { memcpy(p, &v, sizeof v); }

/* Unaligned 16-bit store of v's low halfword (one STRH). */
static inline void nn_write_u16(void* p, uint32_t v) {
    const uint16_t h = (uint16_t)v;
    memcpy(p, &h, sizeof h);
}

/* The same on a 4-byte-aligned address, which lets the compiler pair
 * neighbouring accesses into LDRD/STRD or LDM (those fault when unaligned). */
#if defined(__GNUC__)
#define NN_ASSUME_ALIGNED4(p) __builtin_assume_aligned((p), 4)
#else
#define NN_ASSUME_ALIGNED4(p) (p)
#endif

static inline uint32_t nn_read_u32_aligned(const void* p) {
    uint32_t v;
    memcpy(&v, NN_ASSUME_ALIGNED4(p), sizeof v);
    return v;
}

static inline void nn_write_u32_aligned(void* p, uint32_t v) {
    memcpy(NN_ASSUME_ALIGNED4(p), &v, sizeof v);
}

/* Loads that step their pointer past what they read: one LDR or LDRD with
 * writeback on the target, where the compiler would otherwise spend an ADD per
 * pointer and iteration (or hoist every load of an unrolled loop and run short
 * of registers). The two-word ones need a 4-byte-aligned pointer (LDRD faults on
 * any other); the one-word one takes any. */
#if defined(__GNUC__)
typedef uint32_t __attribute__((may_alias)) nn_u32_alias;
#else
typedef uint32_t nn_u32_alias;
#endif

#if NN_USE_DSP

static inline uint32_t nn_load_u32_step(const void** p) {
    const nn_u32_alias* q = (const nn_u32_alias*)*p;
    uint32_t v;
    __asm__("ldr %0, [%1], #4" : "=r"(v), "+r"(q) : "m"(*q));
    *p = q;
    return v;
}

static inline void nn_load_2u32_step(const void** p, uint32_t* lo, uint32_t* hi) {
    const nn_u32_alias* q = (const nn_u32_alias*)*p;
    __asm__("ldrd %0, %1, [%2], #8"
            : "=r"(*lo), "=r"(*hi), "+r"(q)
            : "m"(*(const nn_u32_alias(*)[2])q));
    *p = q;
}

#else

static inline uint32_t nn_load_u32_step(const void** p) {
    const uint32_t v = nn_read_u32(*p);
    *p = (const uint8_t*)*p + 4;
    return v;
}

static inline void nn_load_2u32_step(const void** p, uint32_t* lo, uint32_t* hi) {
    *lo = nn_read_u32_aligned(*p);
    *hi = nn_read_u32_aligned((const uint8_t*)*p + 4);
    *p = (const uint8_t*)*p + 8;
}

#endif

/* Four int8 at *p (any alignment), then *p += 4. */
static inline uint32_t nn_read_s8x4_step(const int8_t** p) {
    const void* q = *p;
    const uint32_t v = nn_load_u32_step(&q);
    *p = (const int8_t*)q;
    return v;
}

/* Eight int8 at a 4-byte-aligned *p as two words, then *p += 8. */
static inline void nn_read_s8x8_step(const int8_t** p, uint32_t* lo, uint32_t* hi) {
    const void* q = *p;
    nn_load_2u32_step(&q, lo, hi);
    *p = (const int8_t*)q;
}

/* Four int16 at a 4-byte-aligned *p as two words, then *p += 4. */
static inline void nn_read_s16x4_step(const int16_t** p, uint32_t* lo, uint32_t* hi) {
    const void* q = *p;
    nn_load_2u32_step(&q, lo, hi);
    *p = (const int16_t*)q;
}

/* A compiler barrier: no memory access moves across it (no instruction is
 * emitted). The kernels put one between steps whose loads the compiler would
 * otherwise hoist all together, which leaves the Cortex-M4 short of registers
 * and spills the accumulators. */
#if defined(__GNUC__)
#define NN_BARRIER() __asm__ __volatile__("" ::: "memory")
#else
#define NN_BARRIER() ((void)0)
#endif

/* Keeps a hot inner loop out of its caller, so that it gets the registers to
 * itself (inlined into a large kernel it would spill its accumulators). */
#if defined(__GNUC__)
#define NN_NOINLINE __attribute__((noinline))
#else
#define NN_NOINLINE
#endif

/* A byte replicated into the four lanes. */
static inline uint32_t nn_dup_s8x4(int32_t v) { return ((uint32_t)v & 0xFFu) * 0x01010101u; }

/* A halfword replicated into the two lanes. */
static inline uint32_t nn_dup_s16x2(int32_t v) { return ((uint32_t)v & 0xFFFFu) * 0x00010001u; }

/* Lane 0 or 1 of a pair of int16. */
static inline int32_t nn_lane0_s16(uint32_t v) { return (int32_t)(int16_t)(uint16_t)v; }

static inline int32_t nn_lane1_s16(uint32_t v) { return (int32_t)(int16_t)(uint16_t)(v >> 16); }

/* CLZ: the leading zero bits of a non-zero x. REV: x's bytes in reverse
 * order. Armv7-M instructions (no DSP needed), which GCC's builtins emit. */
#if defined(__GNUC__)
static inline int32_t nn_clz(uint32_t x) { return __builtin_clz(x); }

static inline uint32_t nn_rev(uint32_t x) { return __builtin_bswap32(x); }
#else
static inline int32_t nn_clz(uint32_t x) {
    int32_t n = 0;
    while (!(x & 0x80000000u)) {
        x <<= 1;
        ++n;
    }
    return n;
}

static inline uint32_t nn_rev(uint32_t x) {
    return (x >> 24) | ((x >> 8) & 0xFF00u) | ((x << 8) & 0xFF0000u) | (x << 24);
}
#endif

#if NN_USE_DSP

/* SXTB16: bytes 0 and 2, sign-extended to the two halfwords. */
static inline uint32_t nn_sxtb16(uint32_t x) {
    uint32_t r;
    __asm__("sxtb16 %0, %1" : "=r"(r) : "r"(x));
    return r;
}

/* SXTB16 with ROR #8: bytes 1 and 3. */
static inline uint32_t nn_sxtb16_ror8(uint32_t x) {
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

/* SXTAB16: acc's halfwords plus bytes 0 and 2 of x, each modulo 2^16. */
static inline uint32_t nn_sxtab16(uint32_t acc, uint32_t x) {
    uint32_t r;
    __asm__("sxtab16 %0, %1, %2" : "=r"(r) : "r"(acc), "r"(x));
    return r;
}

/* SXTAB16 with ROR #8: acc's halfwords plus bytes 1 and 3 of x. */
static inline uint32_t nn_sxtab16_ror8(uint32_t acc, uint32_t x) {
    uint32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(acc), "r"(x));
    return r;
}

/* SADD16: halfword-wise a + b, modulo 2^16. */
static inline uint32_t nn_sadd16(uint32_t a, uint32_t b) {
    uint32_t r;
    __asm__("sadd16 %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

/* SMLAD: acc + x.lo * y.lo + x.hi * y.hi, modulo 2^32. */
static inline int32_t nn_smlad(uint32_t x, uint32_t y, int32_t acc) {
    int32_t r;
    __asm__("smlad %0, %1, %2, %3" : "=r"(r) : "r"(x), "r"(y), "r"(acc));
    return r;
}

/* SMLABB: acc + x.lo * y.lo. */
static inline int32_t nn_smlabb(uint32_t x, uint32_t y, int32_t acc) {
    int32_t r;
    __asm__("smlabb %0, %1, %2, %3" : "=r"(r) : "r"(x), "r"(y), "r"(acc));
    return r;
}

/* SMLATT: acc + x.hi * y.hi. */
static inline int32_t nn_smlatt(uint32_t x, uint32_t y, int32_t acc) {
    int32_t r;
    __asm__("smlatt %0, %1, %2, %3" : "=r"(r) : "r"(x), "r"(y), "r"(acc));
    return r;
}

/* PKHBT with LSL #16: (a.lo, b.lo). */
static inline uint32_t nn_pkhbt16(uint32_t a, uint32_t b) {
    uint32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

/* PKHTB with ASR #16: (b.hi, a.hi). */
static inline uint32_t nn_pkhtb16(uint32_t a, uint32_t b) {
    uint32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

/* QADD: saturating a + b. */
static inline int32_t nn_qadd(int32_t a, int32_t b) {
    int32_t r;
    __asm__("qadd %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

/* QSUB: saturating a - b. */
static inline int32_t nn_qsub(int32_t a, int32_t b) {
    int32_t r;
    __asm__("qsub %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

/* SSAT #8: v clamped to [-128, 127]. */
static inline int32_t nn_ssat8(int32_t v) {
    int32_t r;
    __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(v));
    return r;
}

/* Bytes 0 of b0..b3 as one word, b0 in byte 0 (three BFIs). */
static inline uint32_t nn_pack_u8x4(uint32_t b0, uint32_t b1, uint32_t b2, uint32_t b3) {
    __asm__("bfi %0, %1, #8, #8\n\tbfi %0, %2, #16, #8\n\tbfi %0, %3, #24, #8"
            : "+r"(b0)
            : "r"(b1), "r"(b2), "r"(b3));
    return b0;
}

/* Bytes 0 of b0 and b1 as the low halfword, b0 in byte 0 (one BFI; the upper
 * halfword is b0's). */
static inline uint32_t nn_pack_u8x2(uint32_t b0, uint32_t b1) {
    __asm__("bfi %0, %1, #8, #8" : "+r"(b0) : "r"(b1));
    return b0;
}

/* RoundingDivideByPOT(y, e) + add, modulo 2^32, for e in [0, 31] and y >
 * INT32_MIN (gemmlowp's rounding: half away from zero). Three instructions:
 * ADDS y + (y asr 31) leaves y - 1 for negative y with the carry set (clear for
 * y >= 0); ASRS by e shifts the last bit out into the carry, which rounds the
 * quotient up from the half (for e = 0 it keeps the carry, which undoes the
 * - 1); ADC adds `add` and the carry. */
static inline int32_t nn_round_shift_add(int32_t y, int32_t e, int32_t add) {
    __asm__("adds %0, %0, %0, asr #31\n\tasrs %0, %0, %1\n\tadc %0, %0, %2"
            : "+r"(y)
            : "r"(e), "r"(add)
            : "cc");
    return y;
}

/* SSUB8 then SEL: the byte-wise signed maximum. */
static inline uint32_t nn_max_s8x4(uint32_t a, uint32_t b) {
    uint32_t r;
    __asm__("ssub8 %0, %1, %2\n\tsel %0, %1, %2" : "=&r"(r) : "r"(a), "r"(b));
    return r;
}

/* SSUB8 then SEL: the byte-wise signed minimum. */
static inline uint32_t nn_min_s8x4(uint32_t a, uint32_t b) {
    uint32_t r;
    __asm__("ssub8 %0, %1, %2\n\tsel %0, %2, %1" : "=&r"(r) : "r"(a), "r"(b));
    return r;
}

#else /* portable models */

static inline uint32_t nn_sext8_to_16(uint32_t byte) {
    return (uint32_t)(uint16_t)(int16_t)(int8_t)(uint8_t)byte;
}

static inline uint32_t nn_sxtb16(uint32_t x) {
    return nn_sext8_to_16(x) | (nn_sext8_to_16(x >> 16) << 16);
}

static inline uint32_t nn_sxtb16_ror8(uint32_t x) {
    return nn_sext8_to_16(x >> 8) | (nn_sext8_to_16(x >> 24) << 16);
}

static inline uint32_t nn_sadd16(uint32_t a, uint32_t b) {
    const uint32_t lo = (a + b) & 0xFFFFu;
    const uint32_t hi = ((a >> 16) + (b >> 16)) & 0xFFFFu;
    return lo | (hi << 16);
}

static inline uint32_t nn_sxtab16(uint32_t acc, uint32_t x) { return nn_sadd16(acc, nn_sxtb16(x)); }

static inline uint32_t nn_sxtab16_ror8(uint32_t acc, uint32_t x) {
    return nn_sadd16(acc, nn_sxtb16_ror8(x));
}

static inline int32_t nn_smlad(uint32_t x, uint32_t y, int32_t acc) {
    const int32_t p0 = nn_lane0_s16(x) * nn_lane0_s16(y);
    const int32_t p1 = nn_lane1_s16(x) * nn_lane1_s16(y);
    return (int32_t)((uint32_t)acc + (uint32_t)p0 + (uint32_t)p1);
}

static inline int32_t nn_smlabb(uint32_t x, uint32_t y, int32_t acc) {
    return (int32_t)((uint32_t)acc + (uint32_t)(nn_lane0_s16(x) * nn_lane0_s16(y)));
}

static inline int32_t nn_smlatt(uint32_t x, uint32_t y, int32_t acc) {
    return (int32_t)((uint32_t)acc + (uint32_t)(nn_lane1_s16(x) * nn_lane1_s16(y)));
}

static inline uint32_t nn_pkhbt16(uint32_t a, uint32_t b) { return (a & 0xFFFFu) | (b << 16); }

static inline uint32_t nn_pkhtb16(uint32_t a, uint32_t b) { return (a & 0xFFFF0000u) | (b >> 16); }

static inline int32_t nn_qadd(int32_t a, int32_t b) {
    const int64_t sum = (int64_t)a + b;
    return sum > INT32_MAX ? INT32_MAX : sum < INT32_MIN ? INT32_MIN : (int32_t)sum;
}

static inline int32_t nn_qsub(int32_t a, int32_t b) {
    const int64_t diff = (int64_t)a - b;
    return diff > INT32_MAX ? INT32_MAX : diff < INT32_MIN ? INT32_MIN : (int32_t)diff;
}

static inline int32_t nn_ssat8(int32_t v) { return v > 127 ? 127 : v < -128 ? -128 : v; }

static inline uint32_t nn_pack_u8x4(uint32_t b0, uint32_t b1, uint32_t b2, uint32_t b3) {
    return (b0 & 0xFFu) | ((b1 & 0xFFu) << 8) | ((b2 & 0xFFu) << 16) | (b3 << 24);
}

static inline uint32_t nn_pack_u8x2(uint32_t b0, uint32_t b1) {
    return (b0 & 0xFFFF00FFu) | ((b1 & 0xFFu) << 8);
}

static inline int32_t nn_round_shift_add(int32_t y, int32_t e, int32_t add) {
    const uint32_t sign = (uint32_t)(y >> 31);
    uint32_t v = (uint32_t)y + sign;
    uint32_t carry = v < sign; /* ADDS: the carry out */
    if (e > 0) {               /* ASRS: the last bit shifted out */
        carry = (uint32_t)((int32_t)v >> (e - 1)) & 1u;
        v = (uint32_t)((int32_t)v >> e);
    }
    return (int32_t)(v + (uint32_t)add + carry); /* ADC */
}

static inline uint32_t nn_max_s8x4(uint32_t a, uint32_t b) {
    uint32_t r = 0;
    for (int shift = 0; shift < 32; shift += 8) {
        const int8_t x = (int8_t)(uint8_t)(a >> shift);
        const int8_t y = (int8_t)(uint8_t)(b >> shift);
        r |= (uint32_t)(uint8_t)(x >= y ? x : y) << shift;
    }
    return r;
}

static inline uint32_t nn_min_s8x4(uint32_t a, uint32_t b) {
    uint32_t r = 0;
    for (int shift = 0; shift < 32; shift += 8) {
        const int8_t x = (int8_t)(uint8_t)(a >> shift);
        const int8_t y = (int8_t)(uint8_t)(b >> shift);
        r |= (uint32_t)(uint8_t)(x >= y ? y : x) << shift;
    }
    return r;
}

#endif /* NN_USE_DSP */

#endif /* HILNAS_NN_INTRINSICS_H */
