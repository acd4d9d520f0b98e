/* See nn_intrinsics_shim.c. */
#ifndef HILNAS_NN_INTRINSICS_SHIM_H
#define HILNAS_NN_INTRINSICS_SHIM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

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

#ifdef __cplusplus
}
#endif

#endif /* HILNAS_NN_INTRINSICS_SHIM_H */
