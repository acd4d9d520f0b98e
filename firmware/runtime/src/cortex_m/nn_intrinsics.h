/*
 * The Armv7E-M DSP instructions the optimised kernels use, on packed values in
 * uint32_t (lane 0 = bits 0..15 or byte 0, little-endian as on the target).
 *
 * With __ARM_FEATURE_DSP (Cortex-M4, M7, M33 with DSP) each is one instruction
 * in inline assembly; elsewhere (the host build, a core without DSP) it is an
 * exact C model of that instruction, as the Arm Architecture Reference Manual
 * defines it, so the optimised kernels compute the same bytes everywhere. Flags
 * the instructions set (Q, GE) are not modelled: no kernel reads them, except
 * nn_max_s8x4 and nn_min_s8x4, which consume their own GE flags inside one asm
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

/* A compiler barrier: no memory access moves across it (no instruction is
 * emitted). The kernels put one between steps whose loads the compiler would
 * otherwise hoist all together, which leaves the Cortex-M4 short of registers
 * and spills the accumulators. */
#if defined(__GNUC__)
#define NN_BARRIER() __asm__ __volatile__("" ::: "memory")
#else
#define NN_BARRIER() ((void)0)
#endif

/* A byte replicated into the four lanes. */
static inline uint32_t nn_dup_s8x4(int32_t v) { return ((uint32_t)v & 0xFFu) * 0x01010101u; }

/* A halfword replicated into the two lanes. */
static inline uint32_t nn_dup_s16x2(int32_t v) { return ((uint32_t)v & 0xFFFFu) * 0x00010001u; }

/* Lane 0 or 1 of a pair of int16. */
static inline int32_t nn_lane0_s16(uint32_t v) { return (int32_t)(int16_t)(uint16_t)v; }

static inline int32_t nn_lane1_s16(uint32_t v) { return (int32_t)(int16_t)(uint16_t)(v >> 16); }

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

/* SSAT #8: x saturated to [-128, 127]. */
static inline int32_t nn_ssat8(int32_t x) {
    int32_t r;
    __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(x));
    return r;
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

static inline int32_t nn_ssat8(int32_t x) { return x > 127 ? 127 : x < -128 ? -128 : x; }

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
