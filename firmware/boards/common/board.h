/* What every board provides to the harness: clocks, the serial port to the
 * host and a free-running timer. */
#ifndef HILNAS_BOARD_H_
#define HILNAS_BOARD_H_

#include <stdint.h>

/* Clocks at the datasheet maximum, caches on where the core has them, the
 * host serial port at 115200 8N1, the timer running. Called once at boot. */
void board_init(void);

/* Blocking byte I/O on the host serial port. */
void board_putc(char c);
char board_getc(void);

/* A free-running 32-bit tick counter (wraps; differences are exact across
 * one wrap). Ticks at board_timer_hz. */
uint32_t board_timer_now(void);

extern const char board_name[]; /* e.g. "nucleo-f446re" */
uint32_t board_timer_hz(void);  /* ticks per second */
uint32_t board_cpu_hz(void);    /* core clock, set by board_init() */
/* "dwt-cyccnt" on real cores; "systick-icount" under QEMU, where DWT reads
 * zero and SysTick counts virtual time: instructions x 2^shift ns. */
extern const char board_timer_kind[];

#endif
