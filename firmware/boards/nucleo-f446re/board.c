/* NUCLEO-F446RE: STM32F446RE, Cortex-M4F at 180 MHz (the datasheet maximum,
 * with over-drive), 512 KB flash, 128 KB SRAM. The ST-LINK virtual COM port is
 * USART2 on PA2 (TX) / PA3 (RX), AF7. Clock: HSI 16 MHz / M 8 * N 180 / P 2.
 * Timer: the DWT cycle counter, enabled here. Energy-mode timestamp pin: PA8,
 * Arduino D7 (CN9 pin 8) on the Nucleo-64. */
#include "board.h"
#include "registers.h"
#include "stm32_usart.h"

#define RCC_BASE 0x40023800u
#define RCC_CR HILNAS_REG(RCC_BASE + 0x00u)
#define RCC_PLLCFGR HILNAS_REG(RCC_BASE + 0x04u)
#define RCC_CFGR HILNAS_REG(RCC_BASE + 0x08u)
#define RCC_AHB1ENR HILNAS_REG(RCC_BASE + 0x30u)
#define RCC_APB1ENR HILNAS_REG(RCC_BASE + 0x40u)
#define PWR_CR HILNAS_REG(0x40007000u)
#define PWR_CSR HILNAS_REG(0x40007004u)
#define FLASH_ACR HILNAS_REG(0x40023C00u)
#define GPIOA_BASE 0x40020000u
#define USART2_BASE 0x40004400u

const char board_name[] = "nucleo-f446re";
const char board_timer_kind[] = "dwt-cyccnt";
uint32_t board_cpu_hz(void) { return 180000000u; }
uint32_t board_timer_hz(void) { return 180000000u; }

static void clock_180mhz(void) {
    RCC_APB1ENR |= (1u << 28);                    /* PWREN */
    PWR_CR = (PWR_CR & ~(3u << 14)) | (3u << 14); /* voltage scale 1 */
    RCC_CR |= 1u;                                 /* HSION */
    while ((RCC_CR & (1u << 1)) == 0) {
    }
    RCC_PLLCFGR = 8u            /* PLLM: 16 MHz / 8 = 2 MHz */
                  | (180u << 6) /* PLLN: 360 MHz VCO */
                  | (0u << 16)  /* PLLP: / 2 = 180 MHz */
                  | (0u << 22)  /* source HSI */
                  | (7u << 24)  /* PLLQ */
                  | (2u << 28); /* PLLR */
    RCC_CR |= (1u << 24);       /* PLLON */
    PWR_CR |= (1u << 16);       /* over-drive on ... */
    while ((PWR_CSR & (1u << 16)) == 0) {
    }
    PWR_CR |= (1u << 17); /* ... and switched in */
    while ((PWR_CSR & (1u << 17)) == 0) {
    }
    while ((RCC_CR & (1u << 25)) == 0) {
    }
    FLASH_ACR = 5u | (1u << 8) | (1u << 9) | (1u << 10); /* 5 WS, prefetch, I/D cache */
    RCC_CFGR = (RCC_CFGR & ~((0xFu << 4) | (7u << 10) | (7u << 13))) | (0u << 4) /* AHB 180 MHz */
               | (5u << 10)           /* APB1 / 4 = 45 MHz */
               | (4u << 13);          /* APB2 / 2 = 90 MHz */
    RCC_CFGR = (RCC_CFGR & ~3u) | 2u; /* system clock: PLL */
    while (((RCC_CFGR >> 2) & 3u) != 2u) {
    }
}

void board_init(void) {
    clock_180mhz();
    RCC_AHB1ENR |= (1u << 0);  /* GPIOA */
    RCC_APB1ENR |= (1u << 17); /* USART2 */
    stm32_gpio_af(GPIOA_BASE, 2, 7);
    stm32_gpio_af(GPIOA_BASE, 3, 7);
    F4_USART_BRR(USART2_BASE) = 391u; /* 45 MHz / 115200 */
    F4_USART_CR1(USART2_BASE) = F4_USART_CR1_UE | USART_TE | USART_RE;
    cortex_dwt_start();
}

void board_putc(char c) {
    while ((F4_USART_SR(USART2_BASE) & USART_TXE) == 0) {
    }
    F4_USART_DR(USART2_BASE) = (uint32_t)(unsigned char)c;
}

char board_getc(void) {
    while ((F4_USART_SR(USART2_BASE) & USART_RXNE) == 0) {
    }
    return (char)(F4_USART_DR(USART2_BASE) & 0xFFu);
}

uint32_t board_timer_now(void) { return DWT_CYCCNT; }

void board_timestamp_pin_init(void) {
    RCC_AHB1ENR |= (1u << 0); /* GPIOA */
    (void)RCC_AHB1ENR;        /* the clock is on before the port is written */
    stm32_gpio_open_drain(GPIOA_BASE, 8);
}

void board_timestamp_pulse(void) { stm32_gpio_pulse_low(GPIOA_BASE, 8, BOARD_TIMESTAMP_LOW_US); }
