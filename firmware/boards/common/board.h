/* What every board provides to the harness: clocks, the serial port to the
 * host, a free-running timer and, on real boards, the MLPerf Tiny energy-mode
 * timestamp pin. */
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

/* MLPerf Tiny energy mode (firmware built with HILNAS_ENERGY_MODE): the
 * timestamp GPIO that the energy monitor watches for falling edges, on the pin
 * the board catalogue names (services/catalog: BoardType::timestamp_pin;
 * Arduino D7 on the Nucleos). Only boards with such a pin define these; an
 * emulated board has none and is never built in energy mode.
 *
 * board_timestamp_pin_init: clocks the GPIO port and makes the pin an
 * open-drain output with the internal pull-up, released (high). Called once,
 * after board_init().
 * board_timestamp_pulse: drives the pin low for more than
 * BOARD_TIMESTAMP_LOW_US, timed with the board's timer, then releases it: one
 * falling edge per call. */
#define BOARD_TIMESTAMP_LOW_US 1u
void board_timestamp_pin_init(void);
void board_timestamp_pulse(void);

#endif
