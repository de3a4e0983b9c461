/* SPDX-License-Identifier: MIT */
/*
 * ACPI tables (ACPI 6.x): RSDP, XSDT, FADT, FACS, DSDT, MADT and MCFG, enough for Linux
 * to find every vCPU, the IOAPIC, the power-off path, the PCI root bridge (with its
 * ECAM, windows and INTx routing) and the VM generation ID device. Built once at start-up
 * into the BIOS area of guest memory, where Linux also scans for the RSDP.
 */
#ifndef FIRMWARE_X86_ACPI_H
#define FIRMWARE_X86_ACPI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct acpi_config {
	unsigned int ncpus; /* local APIC IDs are 0 .. ncpus-1 */
	/*
	 * The PCI root bridge's 64-bit memory window (pci_mmio64_base() and
	 * PLATFORM_PCI_MMIO64_SIZE); size 0 leaves it out of the DSDT.
	 */
	uint64_t pci_mmio64_base;
	uint64_t pci_mmio64_size;
	/*
	 * Where the 16-byte VM generation ID is (PLATFORM_VMGENID_ADDR); 0 leaves the
	 * device, and the GPE method that notifies it, out of the DSDT.
	 */
	uint64_t vmgenid_addr;
};

/*
 * Write every table into buf, which the guest sees at guest-physical address gpa.
 * The RSDP is at offset 0 (so at gpa). Returns the bytes used, or -ENOSPC when
 * size is too small, or -EINVAL for a config we cannot describe.
 */
ssize_t acpi_build(void *buf, size_t size, uint64_t gpa, const struct acpi_config *cfg);

#endif
