/* Reset and the vector table, common to every board: copy .data, zero .bss,
 * paint the stack (so the harness can report its high-water mark), turn the
 * FPU on, then board_init() and main(). */
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "registers.h"
#include "stack.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _sstack, _estack;
extern int main(void);
extern void SysTick_Handler(void);

void Reset_Handler(void);
void Default_Handler(void);

void Default_Handler(void) {
    for (;;) {
    }
}

/* Weak so a board without a SysTick handler of its own keeps the default. */
void SysTick_Handler(void) __attribute__((weak, alias("Default_Handler")));

__attribute__((section(".isr_vector"), used)) void (*const g_vectors[16])(void) = {
    (void (*)(void))(&_estack),
    Reset_Handler,
    Default_Handler, /* NMI */
    Default_Handler, /* HardFault */
    Default_Handler, /* MemManage */
    Default_Handler, /* BusFault */
    Default_Handler, /* UsageFault */
    0,
    0,
    0,
    0,
    Default_Handler, /* SVCall */
    Default_Handler, /* DebugMon */
    0,
    Default_Handler, /* PendSV */
    SysTick_Handler,
};

/* Paints everything below the current stack pointer down to the stack's end. */
__attribute__((noinline)) static void paint_stack(void) {
    uint32_t* p = &_sstack;
    uint32_t* const sp = (uint32_t*)__builtin_frame_address(0) - 16;
    while (p < sp) *p++ = HILNAS_STACK_PAINT;
}

void Reset_Handler(void) {
    memcpy(&_sdata, &_sidata, (size_t)((char*)&_edata - (char*)&_sdata));
    memset(&_sbss, 0, (size_t)((char*)&_ebss - (char*)&_sbss));
    paint_stack();
    cortex_fpu_enable();
    board_init();
    main();
    for (;;) {
    }
}

uint32_t stack_high_water_bytes(void) {
    const uint32_t* p = &_sstack;
    while (p < &_estack && *p == HILNAS_STACK_PAINT) ++p;
    return (uint32_t)((const char*)&_estack - (const char*)p);
}

uint32_t stack_size_bytes(void) {
    return (uint32_t)((const char*)&_estack - (const char*)&_sstack);
}
