/* SPDX-License-Identifier: MIT */
/*
 * The arm64 machine's fixed map: where its devices sit in the guest-physical address space
 * and which interrupts they raise. RAM is laid out as on x86 (vmm/memory.h: from 0 up to
 * 3 GiB, the rest from 4 GiB), so the hole between 3 and 4 GiB holds every device. The
 * device tree (firmware/arm64/fdt.c) and the VMM both read this map, so they cannot disagree.
 */
#ifndef DEVICES_ARM64_PLATFORM_H
#define DEVICES_ARM64_PLATFORM_H

/* The kernel Image goes here (2 MiB aligned, plus the text_offset its header names). */
#define ARM64_KERNEL_ADDR 0x200000ull
/* The device tree: at most 2 MiB (the boot protocol's limit), in its own 2 MiB block. */
#define ARM64_FDT_MAX_SIZE 0x200000ull

/*
 * GICv3: the distributor's 64 KiB, the ITS, then one 128 KiB redistributor (two frames) per
 * vCPU.
 */
#define ARM64_GIC_DIST_ADDR 0xf0000000ull
#define ARM64_GIC_DIST_SIZE 0x10000ull
/* The ITS, which turns a PCI device's MSI writes into LPIs: a control and a translation frame. */
#define ARM64_GIC_ITS_ADDR 0xf0080000ull
#define ARM64_GIC_ITS_SIZE 0x20000ull
#define ARM64_GIC_REDIST_ADDR 0xf0100000ull
#define ARM64_GIC_REDIST_SIZE_PER_CPU 0x20000ull
/* The redistributors end below the UART: 0xf0100000 + 120 * 128 KiB = 0xf1000000. */
#define ARM64_MAX_CPUS 120

/*
 * A GICv2 instead, where the host cannot emulate a GICv3: its distributor (4 KiB) at the
 * GICv3's, its CPU interface in the distributor's 64 KiB block's successor. A GICv2 serves
 * at most 8 CPUs, and has no ITS: PCI devices interrupt through their INTx lines.
 */
#define ARM64_GICV2_DIST_SIZE 0x1000ull
#define ARM64_GICV2_CPU_ADDR 0xf0010000ull
#define ARM64_GICV2_CPU_SIZE 0x2000ull
#define ARM64_GICV2_MAX_CPUS 8

/* Interrupt numbers as the GIC counts them: SPIs start at 32, PPIs at 16. */
#define ARM64_GIC_SPI_BASE 32
#define ARM64_GIC_PPI_BASE 16
/* The architected timer's per-CPU interrupts (PPI numbers, as the device tree gives them). */
#define ARM64_TIMER_PPI_SECURE 13
#define ARM64_TIMER_PPI_NONSECURE 14
#define ARM64_TIMER_PPI_VIRTUAL 11
#define ARM64_TIMER_PPI_HYP 10

/* A 16550A UART on MMIO, one byte per register (devices/uart.c), and its SPI. */
#define ARM64_UART_ADDR 0xf1000000ull
#define ARM64_UART_SIZE 0x1000ull
#define ARM64_UART_SPI 1

/*
 * `vmm run`'s command port (devices/cmdport.h): the registers x86 has on ports, at the start
 * of the page after the UART's. The device tree does not name it: the init maps the page
 * through /dev/mem, which the kernel allows for a region no driver has claimed.
 */
#define ARM64_CMDPORT_ADDR 0xf1001000ull
#define ARM64_CMDPORT_SIZE 0x1000ull

#endif
