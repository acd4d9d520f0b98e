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
