/* SPDX-License-Identifier: MIT */
/* The arm64 types and constants of vmm/arch.h: the boot entry, the UART's interrupt line. */
#ifndef VMM_ARM64_ARCH_TYPES_H
#define VMM_ARM64_ARCH_TYPES_H

#include <stdint.h>

#include "devices/arm64/platform.h"
#include "vmm/arm64/chipset.h"

/* Where the boot vCPU starts (Documentation/arm64/booting.rst): PC, and x0 = the DTB. */
struct boot_entry {
	uint64_t pc;
	uint64_t dtb;
};

/* The UART's line, as kvm_irq_line() takes it: an SPI of the GIC. */
#define ARCH_SERIAL_IRQ CHIPSET_SPI_LINE(ARM64_UART_SPI)

#endif
