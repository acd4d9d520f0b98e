/* What a generated model (model.c from `hilnas codegen`) gives the harness. */
#ifndef HILNAS_MODEL_API_H_
#define HILNAS_MODEL_API_H_

#include <stdint.h>

extern const char model_name[];
extern const uint32_t model_arena_bytes;  /* the planner's arena: static, in .bss */
extern const uint32_t model_input_bytes;  /* int8 [H, W, C] */
extern const uint32_t model_output_bytes; /* int8 [classes] */
extern const float model_output_scale;    /* real = scale * (q - zero_point) */
extern const int32_t model_output_zero_point;

/* The input tensor in the arena; write model_input_bytes bytes, then invoke. */
int8_t* model_input(void);
/* The output tensor in the arena, valid after a successful model_invoke(). */
const int8_t* model_output(void);
/* Runs the network once: 0 on success, else 1 + the index of the layer whose
 * kernel returned an error. */
int32_t model_invoke(void);

#endif
