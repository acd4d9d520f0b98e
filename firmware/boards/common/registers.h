/* Cortex-M system registers shared by every board (ARMv7-M). */
#ifndef HILNAS_REGISTERS_H_
#define HILNAS_REGISTERS_H_

#include <stdint.h>

#define HILNAS_REG(addr) (*(volatile uint32_t*)(addr))

/* System control block */
#define SCB_CPACR HILNAS_REG(0xE000ED88u)
#define SCB_ICSR HILNAS_REG(0xE000ED04u)
#define SCB_ICSR_PENDSTSET (1u << 26)
#define SCB_CCR HILNAS_REG(0xE000ED14u)
#define SCB_ICIALLU HILNAS_REG(0xE000EF50u)
#define SCB_CCSIDR HILNAS_REG(0xE000ED80u)
#define SCB_CSSELR HILNAS_REG(0xE000ED84u)
#define SCB_DCISW HILNAS_REG(0xE000EF60u)
#define SCB_CCR_IC (1u << 17)
#define SCB_CCR_DC (1u << 16)

/* SysTick */
#define SYST_CSR HILNAS_REG(0xE000E010u)
#define SYST_RVR HILNAS_REG(0xE000E014u)
#define SYST_CVR HILNAS_REG(0xE000E018u)

/* Debug: DWT cycle counter */
#define DEMCR HILNAS_REG(0xE000EDFCu)
#define DWT_CTRL HILNAS_REG(0xE0001000u)
#define DWT_CYCCNT HILNAS_REG(0xE0001004u)
#define DWT_LAR HILNAS_REG(0xE0001FB0u)

void cortex_fpu_enable(void);
uint32_t cortex_irq_save(void);
void cortex_irq_restore(uint32_t primask);
void cortex_dwt_start(void);
void cortex_caches_enable(void); /* Cortex-M7: I-cache and D-cache */

#endif
