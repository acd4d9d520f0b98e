/* Out-of-line copies of the intrinsics in src/cortex_m/nn_intrinsics.h for the
 * C++ test (the header is C and inline). On the host these are the portable
 * models; cross-compiled, the DSP instructions. */
#include "nn_intrinsics_shim.h"
#include "nn_intrinsics.h"
#include "nn_support.h"

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
