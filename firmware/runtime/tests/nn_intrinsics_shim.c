/* Out-of-line copies of the intrinsics in src/cortex_m/nn_intrinsics.h for the
 * C++ test (the header is C and inline). On the host these are the portable
 * models; cross-compiled, the DSP instructions. */
#include "nn_intrinsics_shim.h"
#include "nn_intrinsics.h"
#include "nn_support.h"

int32_t nn_shim_clz(uint32_t x) { return nn_clz(x); }
uint32_t nn_shim_rev(uint32_t x) { return nn_rev(x); }
uint32_t nn_shim_sxtb16(uint32_t x) { return nn_sxtb16(x); }
uint32_t nn_shim_sxtb16_ror8(uint32_t x) { return nn_sxtb16_ror8(x); }
uint32_t nn_shim_sxtab16(uint32_t acc, uint32_t x) { return nn_sxtab16(acc, x); }
uint32_t nn_shim_sxtab16_ror8(uint32_t acc, uint32_t x) { return nn_sxtab16_ror8(acc, x); }
uint32_t nn_shim_sadd16(uint32_t a, uint32_t b) { return nn_sadd16(a, b); }
int32_t nn_shim_smlad(uint32_t x, uint32_t y, int32_t acc) { return nn_smlad(x, y, acc); }
int32_t nn_shim_smlabb(uint32_t x, uint32_t y, int32_t acc) { return nn_smlabb(x, y, acc); }
int32_t nn_shim_smlatt(uint32_t x, uint32_t y, int32_t acc) { return nn_smlatt(x, y, acc); }
uint32_t nn_shim_pkhbt16(uint32_t a, uint32_t b) { return nn_pkhbt16(a, b); }
uint32_t nn_shim_pkhtb16(uint32_t a, uint32_t b) { return nn_pkhtb16(a, b); }
int32_t nn_shim_qadd(int32_t a, int32_t b) { return nn_qadd(a, b); }
int32_t nn_shim_qsub(int32_t a, int32_t b) { return nn_qsub(a, b); }
int32_t nn_shim_ssat8(int32_t x) { return nn_ssat8(x); }
uint32_t nn_shim_max_s8x4(uint32_t a, uint32_t b) { return nn_max_s8x4(a, b); }
uint32_t nn_shim_min_s8x4(uint32_t a, uint32_t b) { return nn_min_s8x4(a, b); }
uint32_t nn_shim_read_u32(const void* p) { return nn_read_u32(p); }
uint32_t nn_shim_dup_s8x4(int32_t v) { return nn_dup_s8x4(v); }
uint32_t nn_shim_dup_s16x2(int32_t v) { return nn_dup_s16x2(v); }
int32_t nn_shim_cm_doubling_high_mult(int32_t a, int32_t b) {
    return nn_cm_doubling_high_mult(a, b);
}
uint32_t nn_shim_pack_u8x4(uint32_t b0, uint32_t b1, uint32_t b2, uint32_t b3) {
    return nn_pack_u8x4(b0, b1, b2, b3);
}
uint32_t nn_shim_pack_u8x2(uint32_t b0, uint32_t b1) { return nn_pack_u8x2(b0, b1); }
int32_t nn_shim_round_shift_add(int32_t y, int32_t e, int32_t add) {
    return nn_round_shift_add(y, e, add);
}
int32_t nn_shim_cm_requantize(int32_t acc, int32_t multiplier, int32_t shift, int32_t offset) {
    const nn_cm_requant r = {NULL, &multiplier, &shift, offset, {-128, 127}};
    const nn_cm_channel q = nn_cm_channel_at(&r, 0);
    return nn_cm_requantize(&q, acc, offset);
}
uint32_t nn_shim_cm_pack_output4(int32_t x0, int32_t x1, int32_t x2, int32_t x3, int32_t act_min,
                                 int32_t act_max) {
    const nn_activation act = {act_min, act_max};
    const nn_cm_clamp4 c = nn_cm_clamp4_of(act);
    return nn_cm_pack_output4(x0, x1, x2, x3, &c);
}
const void* nn_shim_load_u32_step(const void* p, uint32_t* v) {
    *v = nn_load_u32_step(&p);
    return p;
}
const void* nn_shim_load_2u32_step(const void* p, uint32_t* lo, uint32_t* hi) {
    nn_load_2u32_step(&p, lo, hi);
    return p;
}
void nn_shim_write_u16(void* p, uint32_t v) { nn_write_u16(p, v); }
