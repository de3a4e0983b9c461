/* SPDX-License-Identifier: MIT */
/* The x86 types and constants of vmm/arch.h: the 64-bit boot entry, COM1's IRQ. */
#ifndef VMM_X86_ARCH_TYPES_H
#define VMM_X86_ARCH_TYPES_H

#include "devices/platform.h"
#include "vmm/x86/boot.h"

/* The serial port's line, as kvm_irq_line() takes it: an ISA IRQ of the PIC and IOAPIC. */
#define ARCH_SERIAL_IRQ PLATFORM_COM1_IRQ

#endif
