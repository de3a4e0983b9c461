/* SPDX-License-Identifier: MIT */
/*
 * The arm64 machine's device tree (Devicetree Specification v0.4; Linux's bindings for
 * each node): what an arm64 kernel learns its hardware from, as an x86 one learns it from
 * ACPI. Written with libfdt into a buffer the caller places in guest memory; the boot vCPU
 * gets its address in x0 (Documentation/arm64/booting.rst).
 */
#ifndef FIRMWARE_ARM64_FDT_H
#define FIRMWARE_ARM64_FDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DEVTREE_MAX_MEM_REGIONS 2

struct devtree_config {
	unsigned int ncpus; /* 1 to ARM64_MAX_CPUS */
	struct {
		uint64_t gpa;
		uint64_t size;
	} mem[DEVTREE_MAX_MEM_REGIONS];
	unsigned int nmem;
	const char *cmdline;   /* NULL: none */
	uint64_t initrd_start; /* with initrd_size 0: no initrd */
	uint64_t initrd_size;
	uint64_t pci_mmio64_base; /* pci_mmio64_base() (devices/pci.h); 0: no 64-bit window */
	bool gicv2; /* a GICv2 (at most ARM64_GICV2_MAX_CPUS, no ITS) instead of a GICv3 */
};

/*
 * The whole tree: memory, cpus (started through PSCI), PSCI 0.2+ over hvc, the architected
 * timer, a GICv3 with an ITS (or a GICv2), the 16550 UART at ARM64_UART_ADDR, the PCI host
 * bridge of devices/pci_bus.c (ECAM, its memory windows, INTx wired to SPIs, MSIs to the ITS) and
 * chosen (bootargs, stdout-path, initrd). Returns its size in bytes, or -ENOSPC (buf too
 * small) or -EINVAL (cfg out of range).
 */
ssize_t devtree_build(void *buf, size_t size, const struct devtree_config *cfg);

/* The MPIDR_EL1 affinity KVM gives vCPU index (Aff0: index % 16, Aff1: index / 16). */
uint64_t devtree_cpu_mpidr(unsigned int index);

#endif
