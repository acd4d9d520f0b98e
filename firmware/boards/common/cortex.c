#include "registers.h"

void cortex_fpu_enable(void) {
    SCB_CPACR |= (0xFu << 20); /* CP10 and CP11 full access */
    __asm volatile("dsb\n\tisb" ::: "memory");
}

void cortex_dwt_start(void) {
    DEMCR |= (1u << 24);   /* TRCENA */
    DWT_LAR = 0xC5ACCE55u; /* unlock (Cortex-M7; ignored elsewhere) */
    DWT_CYCCNT = 0;
    DWT_CTRL |= 1u; /* CYCCNTENA */
}

void cortex_caches_enable(void) {
    __asm volatile("dsb\n\tisb" ::: "memory");
    SCB_ICIALLU = 0; /* invalidate the I-cache, then enable it */
    __asm volatile("dsb\n\tisb" ::: "memory");
    SCB_CCR |= SCB_CCR_IC;
    __asm volatile("dsb\n\tisb" ::: "memory");

    /* Invalidate the D-cache by set/way, then enable it. */
    SCB_CSSELR = 0; /* level 1 data cache */
    __asm volatile("dsb" ::: "memory");
    const uint32_t ccsidr = SCB_CCSIDR;
    const uint32_t sets = ((ccsidr >> 13) & 0x7FFFu) + 1u;
    const uint32_t ways = ((ccsidr >> 3) & 0x3FFu) + 1u;
    for (uint32_t set = 0; set < sets; ++set) {
        for (uint32_t way = 0; way < ways; ++way) {
            SCB_DCISW = (set << 5) | (way << 30);
        }
    }
    __asm volatile("dsb" ::: "memory");
    SCB_CCR |= SCB_CCR_DC;
    __asm volatile("dsb\n\tisb" ::: "memory");
}

uint32_t cortex_irq_save(void) {
    uint32_t primask;
    __asm volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
    return primask;
}

void cortex_irq_restore(uint32_t primask) {
    __asm volatile("msr primask, %0" ::"r"(primask) : "memory");
}
