/* The STM32F405 of QEMU's netduinoplus2 machine (qemu-system-arm 7.2).
 * USART1 is the first -serial. QEMU does not implement the DWT (CYCCNT reads
 * zero), so the timer is SysTick on the core clock extended to 32 bits by
 * counting its wraps; under -icount shift=N every instruction advances
 * virtual time by 2^N ns, so ticks are a deterministic instruction-count
 * proxy, not cycle-accurate timing. No energy-mode timestamp pin: QEMU
 * emulates no power to measure. */
#include "board.h"
#include "registers.h"

#define USART1_BASE 0x40011000u
#define USART_SR HILNAS_REG(USART1_BASE + 0x00u)
#define USART_DR HILNAS_REG(USART1_BASE + 0x04u)
#define USART_BRR HILNAS_REG(USART1_BASE + 0x08u)
#define USART_CR1 HILNAS_REG(USART1_BASE + 0x0Cu)
#define RCC_APB2ENR HILNAS_REG(0x40023844u)

const char board_name[] = "qemu-netduinoplus2";
uint32_t board_cpu_hz(void) { return 168000000u; }
uint32_t board_timer_hz(void) { return 168000000u; }
const char board_timer_kind[] = "systick-icount";

static volatile uint32_t g_systick_wraps;

void SysTick_Handler(void) { ++g_systick_wraps; }

void board_init(void) {
    RCC_APB2ENR |= (1u << 4);                       /* USART1 clock */
    USART_BRR = 0x5B2u;                             /* 115200 at 84 MHz (ignored by QEMU) */
    USART_CR1 = (1u << 13) | (1u << 3) | (1u << 2); /* UE, TE, RE */
    SYST_RVR = 0x00FFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = (1u << 2) | (1u << 1) | 1u; /* core clock, interrupt on wrap, enable */
}

void board_putc(char c) {
    while ((USART_SR & (1u << 7)) == 0) {
    }
    USART_DR = (uint32_t)(unsigned char)c;
}

char board_getc(void) {
    while ((USART_SR & (1u << 5)) == 0) {
    }
    return (char)(USART_DR & 0xFFu);
}

uint32_t board_timer_now(void) {
    /* With interrupts masked, a wrap that the handler has not counted yet
     * shows as a pending SysTick; then the value read may be from either
     * side of the wrap, so read it again after it. */
    const uint32_t primask = cortex_irq_save();
    uint32_t wraps = g_systick_wraps;
    uint32_t value = SYST_CVR;
    if ((SCB_ICSR & SCB_ICSR_PENDSTSET) != 0) {
        value = SYST_CVR;
        ++wraps;
    }
    cortex_irq_restore(primask);
    return (wraps << 24) + (0x00FFFFFFu - value);
}
