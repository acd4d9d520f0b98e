/* The two USART register layouts of the STM32 parts we support. */
#ifndef HILNAS_STM32_USART_H_
#define HILNAS_STM32_USART_H_

#include "registers.h"

/* STM32F4: SR, DR, BRR, CR1. */
#define F4_USART_SR(base) HILNAS_REG((base) + 0x00u)
#define F4_USART_DR(base) HILNAS_REG((base) + 0x04u)
#define F4_USART_BRR(base) HILNAS_REG((base) + 0x08u)
#define F4_USART_CR1(base) HILNAS_REG((base) + 0x0Cu)
#define F4_USART_CR1_UE (1u << 13)

/* STM32F7 and H7: CR1, BRR, ISR, ICR, RDR, TDR. */
#define F7_USART_CR1(base) HILNAS_REG((base) + 0x00u)
#define F7_USART_BRR(base) HILNAS_REG((base) + 0x0Cu)
#define F7_USART_ISR(base) HILNAS_REG((base) + 0x1Cu)
#define F7_USART_ICR(base) HILNAS_REG((base) + 0x20u)
#define F7_USART_RDR(base) HILNAS_REG((base) + 0x24u)
#define F7_USART_TDR(base) HILNAS_REG((base) + 0x28u)
#define F7_USART_CR1_UE (1u << 0)
#define F7_USART_ISR_ORE (1u << 3)

#define USART_TE (1u << 3)
#define USART_RE (1u << 2)
#define USART_TXE (1u << 7)
#define USART_RXNE (1u << 5)

/* Blocking byte I/O on an STM32F7/H7-layout USART at `base` (an overrun is
 * cleared so reception resumes). */
void stm32_f7_usart_putc(uint32_t base, char c);
char stm32_f7_usart_getc(uint32_t base);

/* GPIO: pin `pin` of the port at `base` to alternate function `af`. */
void stm32_gpio_af(uint32_t base, unsigned pin, unsigned af);

/* GPIO (the same register layout on F4, F7 and H7): pin `pin` of the port at
 * `base` to an open-drain output with the internal pull-up, released (high).
 * The port's clock must be on. */
void stm32_gpio_open_drain(uint32_t base, unsigned pin);
/* Drives the pin low, waits more than `us` microseconds on the board's timer
 * (board_timer_now), then releases it. */
void stm32_gpio_pulse_low(uint32_t base, unsigned pin, uint32_t us);

#endif
