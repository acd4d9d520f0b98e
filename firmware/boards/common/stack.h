#ifndef HILNAS_STACK_H_
#define HILNAS_STACK_H_

#include <stdint.h>

#define HILNAS_STACK_PAINT 0xA5A5A5A5u

/* The deepest the stack has reached since boot, in bytes (the stack is
 * painted at reset; the first unpainted word marks the high-water). */
uint32_t stack_high_water_bytes(void);
uint32_t stack_size_bytes(void);

#endif
