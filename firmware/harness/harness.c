/* The device side of the MLPerf Tiny device-under-test protocol over the
 * board's serial port, plus hilnas lines for what our agent measures. The
 * reference is mlcommons/tiny's api/internally_implemented.c and
 * submitter_implemented.h; its messages are kept byte for byte.
 *
 * At boot: m-timestamp-mode-performance (or -energy), a timestamp (see
 * below), m-init-done, m-ready. Commands end in '%'; every reply ends with
 * "m-ready". Errors are "e-[...]" lines, after which the device keeps
 * answering.
 *   name%             m-name-dut-[hilnas]  (EE_MSG_NAME with EE_DEVICE_NAME
 *                     "dut" and our vendor string)
 *   timestamp%        a timestamp: in performance mode m-lap-us-<t>, t the
 *                     harness clock in microseconds; in energy mode no line,
 *                     a low pulse (> 1 us) on the board's timestamp pin
 *   profile%          m-profile-[...], m-model-[<model>]
 *   db load N%        m-[Expecting N bytes]       (N = the model's input size)
 *   db <hex>%         bytes of the input; m-load-done once all N arrived
 *   db print%         m-buffer-xx-xx-... lines
 *   infer N W%        W warm-ups, N timed inferences between two timestamps,
 *                     m-infer-done, m-results-[...], then the hilnas lines:
 *     m-hilnas-output-[<hex>]   m-hilnas-checksum-[<crc32 of the output>]
 *     m-hilnas-timer-[<kind>]-[<ticks per second>]-[<cpu hz>]
 *     m-hilnas-lap-[<ticks>]    one per timed run, in run order (performance
 *                               mode only; see LAP_BUFFER for where they go)
 *     m-hilnas-ticks-[<total>]-[<runs>]-[<min>]-[<max>]   per-inference ticks
 *     m-hilnas-arena-[<bytes>]  m-hilnas-stack-[<high-water bytes>]-[<size>]
 *   results%          m-results-[...] and the output lines
 *   hilnas%           m-hilnas-board-[<board>]-[<cpu hz>], arena and stack lines
 *
 * Build options (compile definitions, from firmware/target):
 *   HILNAS_ENERGY_MODE=1          timestamps are pin pulses, nothing is
 *                                 printed between the two of infer
 *   HILNAS_FAULT_HANG_ON_INFER=1  test only: infer spins forever after
 *                                 m-infer-start (as a crashed model would)
 *   HILNAS_FAULT_WRONG_OUTPUT=1   test only: one bit of the reported output
 *                                 is flipped
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "model.h" /* generated: MODEL_INPUT_BYTES and friends */
#include "model_api.h"
#include "stack.h"

#ifndef HILNAS_ENERGY_MODE
#define HILNAS_ENERGY_MODE 0
#endif
#ifndef HILNAS_FAULT_HANG_ON_INFER
#define HILNAS_FAULT_HANG_ON_INFER 0
#endif
#ifndef HILNAS_FAULT_WRONG_OUTPUT
#define HILNAS_FAULT_WRONG_OUTPUT 0
#endif

#define CMD_MAX 1024         /* one "db" line carries up to 500 bytes of hex */
#define DEVICE_NAME "dut"    /* the reference's EE_DEVICE_NAME */
#define VENDOR_NAME "hilnas" /* its TH_VENDOR_NAME_STRING */
/* Per-run ticks wait here and are printed after the closing timestamp, so
 * that up to LAP_BUFFER runs the timestamp window holds no serial output;
 * longer runs print the buffer each time it fills (between runs, never
 * inside one). */
#define LAP_BUFFER 128

static char g_cmd[CMD_MAX + 1];
static uint8_t g_input[MODEL_INPUT_BYTES]; /* the loaded input, kept for every run */
static uint32_t g_expected;                /* from db load */
static uint32_t g_loaded;
static int g_have_output;
#if !HILNAS_ENERGY_MODE
static uint64_t g_laps[LAP_BUFFER];
static uint32_t g_lap_count;
#endif

/* ------------------------------------------------------------------ output */

static void put(const char* s) {
    while (*s) board_putc(*s++);
}

static void put_u64(uint64_t v) {
    char buf[21];
    int i = 20;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0);
    put(buf + i);
}

static void put_hex8(uint8_t v) {
    static const char digits[] = "0123456789abcdef";
    board_putc(digits[v >> 4]);
    board_putc(digits[v & 0xFu]);
}

static void put_hex32(uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) put_hex8((uint8_t)(v >> shift));
}

/* A float with 6 decimals, without printf's float support. */
static void put_real(float x) {
    if (x < 0) {
        board_putc('-');
        x = -x;
    }
    const uint64_t scaled = (uint64_t)((double)x * 1e6 + 0.5);
    put_u64(scaled / 1000000u);
    board_putc('.');
    const uint32_t frac = (uint32_t)(scaled % 1000000u);
    for (uint32_t div = 100000u; div != 0; div /= 10u) board_putc((char)('0' + (frac / div) % 10u));
}

static void line(const char* s) {
    put(s);
    put("\r\n");
}

static void error(const char* what) {
    put("e-[");
    put(what);
    line("]");
}

/* ------------------------------------------------------------------ time */

/* A 64-bit tick clock from the board's 32-bit timer (read often enough). */
static uint64_t g_clock;
static uint32_t g_last;

static uint64_t clock_now(void) {
    const uint32_t now = board_timer_now();
    g_clock += (uint32_t)(now - g_last);
    g_last = now;
    return g_clock;
}

/* The reference's th_timestamp: a line with the time, or in energy mode a
 * falling edge on the timestamp pin for the energy monitor. */
#if HILNAS_ENERGY_MODE
static void timestamp(void) { board_timestamp_pulse(); }
#else
static uint64_t ticks_to_us(uint64_t ticks) {
    const uint32_t hz = board_timer_hz();
    return ticks / hz * 1000000u + (ticks % hz) * 1000000u / hz;
}

static void timestamp(void) {
    put("m-lap-us-");
    put_u64(ticks_to_us(clock_now()));
    put("\r\n");
}
#endif

/* ------------------------------------------------------------------ helpers */

/* CRC-32 (IEEE): start from 0xFFFFFFFF, feed every byte, invert the result. */
static uint32_t crc32_update(uint32_t crc, uint8_t byte) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    return crc;
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* A decimal number that fits in 31 bits; -1 for anything else. */
static int32_t parse_count(const char* s) {
    if (s == NULL || *s == 0) return -1;
    int64_t v = 0;
    for (; *s; ++s) {
        if (*s < '0' || *s > '9') return -1;
        v = v * 10 + (*s - '0');
        if (v > 0x7FFFFFFF) return -1;
    }
    return (int32_t)v;
}

/* Splits `s` at spaces in place; returns the number of words (at most max). */
static int split(char* s, char** words, int max) {
    int n = 0;
    while (*s) {
        while (*s == ' ') *s++ = 0;
        if (*s == 0) break;
        if (n == max) return max + 1;
        words[n++] = s;
        while (*s && *s != ' ') ++s;
    }
    return n;
}

/* ------------------------------------------------------------------ commands */

static void print_hilnas_lines(void) {
    put("m-hilnas-arena-[");
    put_u64(model_arena_bytes);
    line("]");
    put("m-hilnas-stack-[");
    put_u64(stack_high_water_bytes());
    put("]-[");
    put_u64(stack_size_bytes());
    line("]");
}

static void print_laps(void) {
#if !HILNAS_ENERGY_MODE
    for (uint32_t i = 0; i < g_lap_count; ++i) {
        put("m-hilnas-lap-[");
        put_u64(g_laps[i]);
        line("]");
    }
    g_lap_count = 0;
#endif
}

/* Output byte i as reported (the wrong-output fault flips bit 0 of byte 0). */
static int8_t reported_output(uint32_t i) {
    const int8_t v = model_output()[i];
    return (HILNAS_FAULT_WRONG_OUTPUT && i == 0) ? (int8_t)((uint8_t)v ^ 1u) : v;
}

static void print_results(void) {
    if (!g_have_output) {
        error("No results: run infer first");
        return;
    }
    put("m-results-[");
    for (uint32_t i = 0; i < model_output_bytes; ++i) {
        if (i) board_putc(',');
        put_real(model_output_scale *
                 (float)((int32_t)reported_output(i) - model_output_zero_point));
    }
    line("]");
    put("m-hilnas-output-[");
    uint32_t crc = 0xFFFFFFFFu;
    for (uint32_t i = 0; i < model_output_bytes; ++i) {
        const uint8_t b = (uint8_t)reported_output(i);
        put_hex8(b);
        crc = crc32_update(crc, b);
    }
    line("]");
    put("m-hilnas-checksum-[");
    put_hex32(~crc);
    line("]");
}

static void cmd_db(char** w, int n) {
    if (n < 2) {
        error("Command 'db' requires a subcommand");
    } else if (strcmp(w[1], "load") == 0) {
        const int32_t count = n == 3 ? parse_count(w[2]) : -1;
        if (count <= 0) {
            error("Command 'db load' requires a byte count > 0");
        } else if ((uint32_t)count != model_input_bytes) {
            put("e-[db load expects the model's input size, ");
            put_u64(model_input_bytes);
            line(" bytes]");
        } else {
            g_expected = (uint32_t)count;
            g_loaded = 0;
            put("m-[Expecting ");
            put_u64(g_expected);
            line(" bytes]");
        }
    } else if (strcmp(w[1], "print") == 0) {
        for (uint32_t i = 0; i < g_loaded; ++i) {
            if (i % 8u == 0) put("m-buffer-");
            put_hex8(g_input[i]);
            if ((i + 1) % 8u == 0 || i + 1 == g_loaded) {
                put("\r\n");
            } else {
                board_putc('-');
            }
        }
    } else {
        const char* hex = w[1];
        const size_t digits = strlen(hex);
        if (n != 2) {
            error("Command 'db' takes one run of hex digits");
        } else if (g_expected == 0) {
            error("Command 'db <hex>' needs 'db load N' first");
        } else if (digits % 2 != 0) {
            error("Insufficient number of hex digits");
        } else {
            for (size_t i = 0; i < digits; i += 2) {
                const int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);
                if (hi < 0 || lo < 0) {
                    error("Invalid hex digit");
                    return;
                }
            }
            for (size_t i = 0; i < digits && g_loaded < g_expected; i += 2) {
                g_input[g_loaded++] = (uint8_t)(hex_digit(hex[i]) * 16 + hex_digit(hex[i + 1]));
            }
            if (g_loaded == g_expected) line("m-load-done");
        }
    }
}

static void cmd_infer(char** w, int n) {
    const int32_t runs = n >= 2 ? parse_count(w[1]) : 1;
    const int32_t warmups = n >= 3 ? parse_count(w[2]) : 10;
    if (n > 3 || runs <= 0) {
        error("Inference iterations must be >0");
        return;
    }
    if (warmups < 0) {
        error("Inference warmup must be >=0");
        return;
    }
    if (g_expected == 0 || g_loaded != g_expected) {
        error("No input: send 'db load N' and the bytes first");
        return;
    }
    memcpy(model_input(), g_input, model_input_bytes);
    put("m-warmup-start-");
    put_u64((uint64_t)warmups);
    put("\r\n");
    for (int32_t i = 0; i < warmups; ++i) {
        memcpy(model_input(), g_input, model_input_bytes);
        const int32_t status = model_invoke();
        if (status != 0) {
            put("e-[Inference failed in layer ");
            put_u64((uint64_t)(status - 1));
            line("]");
            return;
        }
    }
    line("m-warmup-done");
    put("m-infer-start-");
    put_u64((uint64_t)runs);
    put("\r\n");
#if HILNAS_FAULT_HANG_ON_INFER
    for (;;) {
        __asm volatile("" ::: "memory");
    }
#endif
    uint64_t total = 0, fastest = UINT64_MAX, slowest = 0;
#if !HILNAS_ENERGY_MODE
    g_lap_count = 0;
#endif
    timestamp();
    for (int32_t i = 0; i < runs; ++i) {
        /* Every run starts from the loaded input: a model may compute in place. */
        memcpy(model_input(), g_input, model_input_bytes);
        const uint64_t start = clock_now();
        const int32_t status = model_invoke();
        const uint64_t ticks = clock_now() - start;
        if (status != 0) {
            timestamp(); /* the window still closes: an energy monitor sees both edges */
            put("e-[Inference failed in layer ");
            put_u64((uint64_t)(status - 1));
            line("]");
            return;
        }
        total += ticks;
        if (ticks < fastest) fastest = ticks;
        if (ticks > slowest) slowest = ticks;
#if !HILNAS_ENERGY_MODE
        g_laps[g_lap_count++] = ticks;
        if (g_lap_count == LAP_BUFFER && i + 1 < runs) print_laps();
#endif
    }
    timestamp();
    line("m-infer-done");
    g_have_output = 1;
    print_results();
    put("m-hilnas-timer-[");
    put(board_timer_kind);
    put("]-[");
    put_u64(board_timer_hz());
    put("]-[");
    put_u64(board_cpu_hz());
    line("]");
    print_laps();
    put("m-hilnas-ticks-[");
    put_u64(total);
    put("]-[");
    put_u64((uint64_t)runs);
    put("]-[");
    put_u64(fastest);
    put("]-[");
    put_u64(slowest);
    line("]");
    print_hilnas_lines();
}

static void dispatch(char* cmd) {
    char* w[5];
    const int n = split(cmd, w, 4);
    if (n == 0) {
        error("Empty command");
    } else if (n > 4) {
        error("Too many arguments");
    } else if (strcmp(w[0], "name") == 0) {
        line("m-name-" DEVICE_NAME "-[" VENDOR_NAME "]");
    } else if (strcmp(w[0], "timestamp") == 0) {
        timestamp();
    } else if (strcmp(w[0], "profile") == 0) {
        line("m-profile-[hilnas-harness 1]");
        put("m-model-[");
        put(model_name);
        line("]");
    } else if (strcmp(w[0], "db") == 0) {
        cmd_db(w, n);
    } else if (strcmp(w[0], "infer") == 0) {
        cmd_infer(w, n);
    } else if (strcmp(w[0], "results") == 0) {
        print_results();
    } else if (strcmp(w[0], "hilnas") == 0) {
        put("m-hilnas-board-[");
        put(board_name);
        put("]-[");
        put_u64(board_cpu_hz());
        line("]");
        print_hilnas_lines();
    } else {
        error("Unknown command");
    }
}

int main(void) {
    g_last = board_timer_now();
#if HILNAS_ENERGY_MODE
    board_timestamp_pin_init();
    line("m-timestamp-mode-energy");
#else
    line("m-timestamp-mode-performance");
#endif
    timestamp(); /* as the reference's th_timestamp_initialize: the pin ends released */
    line("m-init-done");
    line("m-ready");
    size_t len = 0;
    int overflow = 0, garbage = 0;
    for (;;) {
        const char c = board_getc();
        if (c == '%') {
            g_cmd[len] = 0;
            if (overflow) {
                error("Command too long");
            } else if (garbage) {
                error("Invalid character in command");
            } else {
                dispatch(g_cmd);
            }
            line("m-ready");
            len = 0;
            overflow = garbage = 0;
        } else if (c == '\r' || c == '\n') {
            /* line endings between commands are not part of them */
        } else if ((unsigned char)c < 0x20 || (unsigned char)c > 0x7E) {
            garbage = 1;
        } else if (len < CMD_MAX) {
            g_cmd[len++] = c;
        } else {
            overflow = 1;
        }
    }
}
