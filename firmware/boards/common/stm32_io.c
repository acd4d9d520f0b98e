#include "board.h"
#include "stm32_usart.h"

#define GPIO_MODER(base) HILNAS_REG((base) + 0x00u)
#define GPIO_OTYPER(base) HILNAS_REG((base) + 0x04u)
#define GPIO_PUPDR(base) HILNAS_REG((base) + 0x0Cu)
#define GPIO_BSRR(base) HILNAS_REG((base) + 0x18u)

void stm32_gpio_af(uint32_t base, unsigned pin, unsigned af) {
    volatile uint32_t* moder = &HILNAS_REG(base + 0x00u);
    volatile uint32_t* ospeedr = &HILNAS_REG(base + 0x08u);
    volatile uint32_t* afr = &HILNAS_REG(base + (pin < 8 ? 0x20u : 0x24u));
    *moder = (*moder & ~(3u << (2 * pin))) | (2u << (2 * pin));     /* alternate function */
    *ospeedr = (*ospeedr & ~(3u << (2 * pin))) | (2u << (2 * pin)); /* high speed */
    const unsigned shift = 4 * (pin % 8);
    *afr = (*afr & ~(0xFu << shift)) | ((af & 0xFu) << shift);
}

void stm32_f7_usart_putc(uint32_t base, char c) {
    while ((F7_USART_ISR(base) & USART_TXE) == 0) {
    }
    F7_USART_TDR(base) = (uint32_t)(unsigned char)c;
}

char stm32_f7_usart_getc(uint32_t base) {
    while ((F7_USART_ISR(base) & USART_RXNE) == 0) {
        if (F7_USART_ISR(base) & F7_USART_ISR_ORE) F7_USART_ICR(base) = F7_USART_ISR_ORE;
    }
    return (char)(F7_USART_RDR(base) & 0xFFu);
}

void stm32_gpio_open_drain(uint32_t base, unsigned pin) {
    GPIO_BSRR(base) = 1u << pin;    /* released before it becomes an output */
    GPIO_OTYPER(base) |= 1u << pin; /* open-drain */
    GPIO_PUPDR(base) = (GPIO_PUPDR(base) & ~(3u << (2 * pin))) | (1u << (2 * pin)); /* pull-up */
    GPIO_MODER(base) = (GPIO_MODER(base) & ~(3u << (2 * pin))) | (1u << (2 * pin)); /* output */
}

void stm32_gpio_pulse_low(uint32_t base, unsigned pin, uint32_t us) {
    /* More than `us`: whole ticks, plus one for the partial tick at the start. */
    const uint32_t hold = (uint32_t)((uint64_t)board_timer_hz() * us / 1000000u) + 1u;
    GPIO_BSRR(base) = 1u << (pin + 16u); /* reset: low */
    __asm volatile("dsb" ::: "memory");  /* the write has reached the port */
    const uint32_t start = board_timer_now();
    while ((uint32_t)(board_timer_now() - start) < hold) {
    }
    GPIO_BSRR(base) = 1u << pin; /* set: released */
    __asm volatile("dsb" ::: "memory");
}
