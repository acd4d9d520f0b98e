/* NUCLEO-H743ZI(2): STM32H743ZI, Cortex-M7 with I- and D-caches on, 2 MB
 * flash, code and data in the 512 KB AXI SRAM. The datasheet maximum depends
 * on the silicon: 480 MHz on revision V (VOS0), 400 MHz on revision Y (VOS1);
 * the revision is read from DBGMCU at boot. The ST-LINK virtual COM port is
 * USART3 on PD8 (TX) / PD9 (RX), AF7. Clock: HSI 64 MHz / DIVM1 32 = 2 MHz,
 * * DIVN1 480 (or 400) / DIVP1 2. Timer: the DWT cycle counter.
 * Energy-mode timestamp pin: PG12, Arduino D7 on the NUCLEO-H743ZI2 (MB1364)
 * Zio connector. (On the first NUCLEO-H743ZI, MB1137, D7 is PF13 instead.) */
#include "board.h"
#include "registers.h"
#include "stm32_usart.h"

#define RCC_BASE 0x58024400u
#define RCC_CR HILNAS_REG(RCC_BASE + 0x00u)
#define RCC_CFGR HILNAS_REG(RCC_BASE + 0x10u)
#define RCC_D1CFGR HILNAS_REG(RCC_BASE + 0x18u)
#define RCC_D2CFGR HILNAS_REG(RCC_BASE + 0x1Cu)
#define RCC_D3CFGR HILNAS_REG(RCC_BASE + 0x20u)
#define RCC_PLLCKSELR HILNAS_REG(RCC_BASE + 0x28u)
#define RCC_PLLCFGR HILNAS_REG(RCC_BASE + 0x2Cu)
#define RCC_PLL1DIVR HILNAS_REG(RCC_BASE + 0x30u)
#define RCC_AHB4ENR HILNAS_REG(RCC_BASE + 0xE0u)
#define RCC_APB1LENR HILNAS_REG(RCC_BASE + 0xE8u)
#define RCC_APB4ENR HILNAS_REG(RCC_BASE + 0xF4u)
#define PWR_CSR1 HILNAS_REG(0x58024804u)
#define PWR_CR3 HILNAS_REG(0x5802480Cu)
#define PWR_D3CR HILNAS_REG(0x58024818u)
#define SYSCFG_PWRCR HILNAS_REG(0x5800042Cu)
#define FLASH_ACR HILNAS_REG(0x52002000u)
#define DBGMCU_IDC HILNAS_REG(0x5C001000u)
#define GPIOD_BASE 0x58020C00u
#define GPIOG_BASE 0x58021800u
#define USART3_BASE 0x40004800u

const char board_name[] = "nucleo-h743zi";
const char board_timer_kind[] = "dwt-cyccnt";
static uint32_t g_cpu_hz = 64000000u; /* HSI until board_init() */
uint32_t board_cpu_hz(void) { return g_cpu_hz; }
uint32_t board_timer_hz(void) { return g_cpu_hz; }

static void clock_max(void) {
    const int rev_v = (DBGMCU_IDC >> 16) == 0x2003u;
    const uint32_t mhz = rev_v ? 480u : 400u;
    /* Supply from the LDO; wait for the voltage levels to be valid. */
    PWR_CR3 = (PWR_CR3 & ~7u) | (1u << 1); /* LDOEN, no SMPS, no bypass */
    while ((PWR_CSR1 & (1u << 13)) == 0) {
    }
    PWR_D3CR = (PWR_D3CR & ~(3u << 14)) | (3u << 14); /* VOS1 */
    while ((PWR_D3CR & (1u << 13)) == 0) {
    }
    if (rev_v) {                  /* VOS0 = VOS1 + over-drive, needed above 400 MHz */
        RCC_APB4ENR |= (1u << 1); /* SYSCFG */
        SYSCFG_PWRCR |= 1u;
        while ((PWR_D3CR & (1u << 13)) == 0) {
        }
    }
    RCC_PLLCKSELR = (RCC_PLLCKSELR & ~((3u << 0) | (0x3Fu << 4))) | (0u << 0) /* HSI */
                    | (32u << 4);                                             /* DIVM1: 2 MHz */
    RCC_PLLCFGR = (RCC_PLLCFGR & ~((1u << 0) | (1u << 1) | (3u << 2))) |
                  (1u << 2)                               /* 2-4 MHz input */
                  | (1u << 16) | (1u << 17) | (1u << 18); /* P, Q, R outputs */
    RCC_PLL1DIVR = ((mhz - 1u) << 0)                      /* DIVN1: VCO 960 or 800 MHz */
                   | (1u << 9)                            /* DIVP1 / 2 */
                   | (3u << 16)                           /* DIVQ1 / 4 */
                   | (1u << 24);                          /* DIVR1 / 2 */
    RCC_CR |= (1u << 24);                                 /* PLL1ON */
    while ((RCC_CR & (1u << 25)) == 0) {
    }
    /* Flash: 4 wait states and the highest programming delay for 240 MHz AXI. */
    FLASH_ACR = (FLASH_ACR & ~0x3Fu) | 4u | (2u << 4);
    while ((FLASH_ACR & 0xFu) != 4u) {
    }
    RCC_D1CFGR = (0u << 8)              /* D1CPRE: cpu = sys */
                 | (8u << 0)            /* HPRE / 2: AXI/AHB 240 (200) MHz */
                 | (4u << 4);           /* D1PPRE / 2 */
    RCC_D2CFGR = (4u << 4) | (4u << 8); /* D2PPRE1, D2PPRE2 / 2: 120 (100) MHz */
    RCC_D3CFGR = (4u << 4);             /* D3PPRE / 2 */
    RCC_CFGR = (RCC_CFGR & ~7u) | 3u;   /* system clock: PLL1 */
    while (((RCC_CFGR >> 3) & 7u) != 3u) {
    }
    g_cpu_hz = mhz * 1000000u;
}

void board_init(void) {
    clock_max();
    cortex_caches_enable();
    RCC_AHB4ENR |= (1u << 3);   /* GPIOD */
    RCC_APB1LENR |= (1u << 18); /* USART3 */
    stm32_gpio_af(GPIOD_BASE, 8, 7);
    stm32_gpio_af(GPIOD_BASE, 9, 7);
    const uint32_t pclk1 = g_cpu_hz / 4u; /* HPRE / 2, then D2PPRE1 / 2 */
    F7_USART_BRR(USART3_BASE) = (pclk1 + 57600u) / 115200u;
    F7_USART_CR1(USART3_BASE) = F7_USART_CR1_UE | USART_TE | USART_RE;
    cortex_dwt_start();
}

void board_putc(char c) { stm32_f7_usart_putc(USART3_BASE, c); }

char board_getc(void) { return stm32_f7_usart_getc(USART3_BASE); }

uint32_t board_timer_now(void) { return DWT_CYCCNT; }

void board_timestamp_pin_init(void) {
    RCC_AHB4ENR |= (1u << 6); /* GPIOG */
    (void)RCC_AHB4ENR;        /* the clock is on before the port is written */
    stm32_gpio_open_drain(GPIOG_BASE, 12);
}

void board_timestamp_pulse(void) { stm32_gpio_pulse_low(GPIOG_BASE, 12, BOARD_TIMESTAMP_LOW_US); }
