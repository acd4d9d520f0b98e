#include "stm32_usart.h"

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
