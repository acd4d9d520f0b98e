/* See nn_intrinsics_shim.c. */
#ifndef HILNAS_NN_INTRINSICS_SHIM_H
#define HILNAS_NN_INTRINSICS_SHIM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

int32_t nn_shim_clz(uint32_t x);
uint32_t nn_shim_rev(uint32_t x);
uint32_t nn_shim_sxtb16(uint32_t x);
uint32_t nn_shim_sxtb16_ror8(uint32_t x);
uint32_t nn_shim_sxtab16(uint32_t acc, uint32_t x);
uint32_t nn_shim_sxtab16_ror8(uint32_t acc, uint32_t x);
uint32_t nn_shim_sadd16(uint32_t a, uint32_t b);
int32_t nn_shim_smlad(uint32_t x, uint32_t y, int32_t acc);
int32_t nn_shim_smlabb(uint32_t x, uint32_t y, int32_t acc);
int32_t nn_shim_smlatt(uint32_t x, uint32_t y, int32_t acc);
uint32_t nn_shim_pkhbt16(uint32_t a, uint32_t b);
uint32_t nn_shim_pkhtb16(uint32_t a, uint32_t b);
int32_t nn_shim_qadd(int32_t a, int32_t b);
int32_t nn_shim_qsub(int32_t a, int32_t b);
int32_t nn_shim_ssat8(int32_t x);
uint32_t nn_shim_max_s8x4(uint32_t a, uint32_t b);
uint32_t nn_shim_min_s8x4(uint32_t a, uint32_t b);
uint32_t nn_shim_read_u32(const void* p);
uint32_t nn_shim_dup_s8x4(int32_t v);
uint32_t nn_shim_dup_s16x2(int32_t v);
int32_t nn_shim_cm_doubling_high_mult(int32_t a, int32_t b);
uint32_t nn_shim_pack_u8x4(uint32_t b0, uint32_t b1, uint32_t b2, uint32_t b3);
uint32_t nn_shim_pack_u8x2(uint32_t b0, uint32_t b1);
int32_t nn_shim_round_shift_add(int32_t y, int32_t e, int32_t add);
int32_t nn_shim_cm_requantize(int32_t acc, int32_t multiplier, int32_t shift, int32_t offset);
uint32_t nn_shim_cm_pack_output4(int32_t x0, int32_t x1, int32_t x2, int32_t x3, int32_t act_min,
                                 int32_t act_max);
/* The loads that step their pointer: what they read, and where they leave it. */
const void* nn_shim_load_u32_step(const void* p, uint32_t* v);
const void* nn_shim_load_2u32_step(const void* p, uint32_t* lo, uint32_t* hi);
void nn_shim_write_u16(void* p, uint32_t v);

#ifdef __cplusplus
}
#endif

#endif /* HILNAS_NN_INTRINSICS_SHIM_H */
