/* NUCLEO-F746ZG: STM32F746ZG, Cortex-M7 at 216 MHz (the datasheet maximum,
 * with over-drive), 1 MB flash, 320 KB SRAM, I- and D-caches on. The ST-LINK
 * virtual COM port is USART3 on PD8 (TX) / PD9 (RX), AF7. Clock: HSI 16 MHz /
 * M 8 * N 216 / P 2. Timer: the DWT cycle counter. Energy-mode timestamp pin:
 * PF13, Arduino D7 on the Nucleo-144's ST Zio connector. */
#include "board.h"
#include "registers.h"
#include "stm32_usart.h"

#define RCC_BASE 0x40023800u
#define RCC_CR HILNAS_REG(RCC_BASE + 0x00u)
#define RCC_PLLCFGR HILNAS_REG(RCC_BASE + 0x04u)
#define RCC_CFGR HILNAS_REG(RCC_BASE + 0x08u)
#define RCC_AHB1ENR HILNAS_REG(RCC_BASE + 0x30u)
#define RCC_APB1ENR HILNAS_REG(RCC_BASE + 0x40u)
#define PWR_CR1 HILNAS_REG(0x40007000u)
#define PWR_CSR1 HILNAS_REG(0x40007004u)
#define FLASH_ACR HILNAS_REG(0x40023C00u)
#define GPIOD_BASE 0x40020C00u
#define GPIOF_BASE 0x40021400u
#define USART3_BASE 0x40004800u

const char board_name[] = "nucleo-f746zg";
const char board_timer_kind[] = "dwt-cyccnt";
uint32_t board_cpu_hz(void) { return 216000000u; }
uint32_t board_timer_hz(void) { return 216000000u; }

static void clock_216mhz(void) {
    RCC_APB1ENR |= (1u << 28);                      /* PWREN */
    PWR_CR1 = (PWR_CR1 & ~(3u << 14)) | (3u << 14); /* voltage scale 1 */
    RCC_CR |= 1u;                                   /* HSION */
    while ((RCC_CR & (1u << 1)) == 0) {
    }
    RCC_PLLCFGR = 8u            /* PLLM: 2 MHz */
                  | (216u << 6) /* PLLN: 432 MHz VCO */
                  | (0u << 16)  /* PLLP / 2 = 216 MHz */
                  | (0u << 22)  /* source HSI */
                  | (9u << 24); /* PLLQ: 48 MHz */
    RCC_CR |= (1u << 24);       /* PLLON */
    PWR_CR1 |= (1u << 16);      /* over-drive */
    while ((PWR_CSR1 & (1u << 16)) == 0) {
    }
    PWR_CR1 |= (1u << 17);
    while ((PWR_CSR1 & (1u << 17)) == 0) {
    }
    while ((RCC_CR & (1u << 25)) == 0) {
    }
    FLASH_ACR = 7u | (1u << 8) | (1u << 9); /* 7 WS, prefetch, ART accelerator */
    RCC_CFGR = (RCC_CFGR & ~((0xFu << 4) | (7u << 10) | (7u << 13))) |
               (5u << 10)    /* APB1 / 4 = 54 MHz */
               | (4u << 13); /* APB2 / 2 = 108 MHz */
    RCC_CFGR = (RCC_CFGR & ~3u) | 2u;
    while (((RCC_CFGR >> 2) & 3u) != 2u) {
    }
}

void board_init(void) {
    clock_216mhz();
    cortex_caches_enable();
    RCC_AHB1ENR |= (1u << 3);  /* GPIOD */
    RCC_APB1ENR |= (1u << 18); /* USART3 */
    stm32_gpio_af(GPIOD_BASE, 8, 7);
    stm32_gpio_af(GPIOD_BASE, 9, 7);
    F7_USART_BRR(USART3_BASE) = 469u; /* 54 MHz / 115200 */
    F7_USART_CR1(USART3_BASE) = F7_USART_CR1_UE | USART_TE | USART_RE;
    cortex_dwt_start();
}

void board_putc(char c) { stm32_f7_usart_putc(USART3_BASE, c); }

char board_getc(void) { return stm32_f7_usart_getc(USART3_BASE); }

uint32_t board_timer_now(void) { return DWT_CYCCNT; }

void board_timestamp_pin_init(void) {
    RCC_AHB1ENR |= (1u << 5); /* GPIOF */
    (void)RCC_AHB1ENR;        /* the clock is on before the port is written */
    stm32_gpio_open_drain(GPIOF_BASE, 13);
}

void board_timestamp_pulse(void) { stm32_gpio_pulse_low(GPIOF_BASE, 13, BOARD_TIMESTAMP_LOW_US); }
