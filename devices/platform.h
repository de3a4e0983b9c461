/* SPDX-License-Identifier: MIT */
/*
 * The fixed platform map: which port, address and IRQ each built-in device uses.
 * The ACPI tables and the device models both read it from here so they cannot disagree.
 */
#ifndef DEVICES_PLATFORM_H
#define DEVICES_PLATFORM_H

#define PLATFORM_COM1_PORT 0x3f8
#define PLATFORM_COM1_IRQ 4

#define PLATFORM_I8042_DATA_PORT 0x60
#define PLATFORM_I8042_CMD_PORT 0x64

/* POST codes: the kernel itself writes here as an I/O delay, so it is only counted. */
#define PLATFORM_POST_PORT 0x80

/*
 * Boot-marker port: the guest writes one byte (a milestone number of its choice) and the
 * VMM logs the time since it started. From a shell: write the byte to /dev/port at 0x440.
 */
#define PLATFORM_BOOT_MARKER_PORT 0x440

/*
 * Test builds only (-DVMM_TEST_HOOKS, make static-test): a write here makes the vCPU
 * thread make a forbidden system call (byte 1: socket; 2: write into the first disk's
 * image), to test the seccomp lists end to end. In normal builds nothing decodes it.
 */
#define PLATFORM_TEST_HOOK_PORT 0x441

/*
 * The command port (devices/cmdport.h): `vmm run`'s channel from the guest's init. +0 takes the
 * command's stdout bytes, +1 its stderr bytes (byte writes, rep outsb included), +2 is
 * control (write 1: pass the buffered bytes on; read: PLATFORM_CMDPORT_MAGIC when present),
 * +4 takes the final status as one 32-bit write, +8/+12/+16 pass a chunk in guest memory,
 * +20 (32-bit read) hands the guest a chunk of our stdin, +24 the terminal's size, +28 is the
 * boot point (the init stops there while a boot cache is written), +32 (32-bit read) hands
 * the guest a chunk of the run's configuration.
 */
#define PLATFORM_CMDPORT_PORT 0x450
#define PLATFORM_CMDPORT_LEN 0x24
#define PLATFORM_CMDPORT_MAGIC 0x52 /* 'R' */

/* ACPI fixed hardware, described by the FADT (legacy, not hardware-reduced). */
#define PLATFORM_ACPI_PM1A_EVT_PORT 0x600 /* 4 bytes: PM1 status (2) + enable (2) */
#define PLATFORM_ACPI_PM1A_EVT_LEN 4
#define PLATFORM_ACPI_PM1A_CNT_PORT 0x604 /* 2 bytes: SLP_TYP in bits 10-12, SLP_EN bit 13 */
#define PLATFORM_ACPI_PM1A_CNT_LEN 2
#define PLATFORM_ACPI_RESET_PORT 0x608 /* FADT RESET_REG, 1 byte */
#define PLATFORM_ACPI_RESET_VALUE 0x01
#define PLATFORM_ACPI_SCI_IRQ 9
/*
 * General-purpose event block 0: 1 byte of status, then 1 byte of enable (8 GPEs). The
 * SCI is raised while a status bit is set whose enable bit the guest set; the DSDT's
 * \_GPE._Exx method for GPE xx says what the event means.
 */
#define PLATFORM_ACPI_GPE0_PORT 0x60c
#define PLATFORM_ACPI_GPE0_LEN 2
#define PLATFORM_ACPI_GPE_VMGENID 0 /* the VM generation ID changed (\_GPE._E00) */
#define PLATFORM_ACPI_S5_SLP_TYP 5  /* value the DSDT's \_S5 package gives */

#define PLATFORM_IOAPIC_ADDR 0xfec00000u
#define PLATFORM_IOAPIC_ID 0
#define PLATFORM_LAPIC_ADDR 0xfee00000u

/* Guest-physical layout of what the VMM places in low memory. */
#define PLATFORM_GDT_ADDR 0x500
#define PLATFORM_ZERO_PAGE_ADDR 0x7000
#define PLATFORM_PML4_ADDR 0x9000
#define PLATFORM_CMDLINE_ADDR 0x20000
#define PLATFORM_CMDLINE_MAX 0x10000
#define PLATFORM_EBDA_START 0x9fc00
#define PLATFORM_ACPI_START 0xe0000 /* RSDP first; Linux also scans here for it */
#define PLATFORM_ACPI_END 0xef000
/*
 * The VM generation ID (16 bytes, Microsoft's "Virtual Machine Generation ID" spec): a page
 * of its own between the ACPI tables and SMBIOS, inside the BIOS area that e820 reserves,
 * so the guest never takes it for RAM; the VMM rewrites it when a snapshot is restored.
 */
#define PLATFORM_VMGENID_ADDR 0xef000
#define PLATFORM_VMGENID_LEN 16
/* SMBIOS: the 64-bit entry point first; Linux scans 0xf0000-0xfffff for it. */
#define PLATFORM_SMBIOS_START 0xf0000
#define PLATFORM_SMBIOS_END 0x100000
#define PLATFORM_KERNEL_ADDR 0x100000

/* The 32-bit PCI hole: guest RAM stops below it and resumes at 4 GiB. */
#define PLATFORM_PCI_HOLE_START 0xc0000000ull
#define PLATFORM_4G 0x100000000ull

/* PCI: configuration mechanism #1 ports, ECAM for bus 0, and the BAR windows. */
#define PLATFORM_PCI_CONFIG_ADDRESS_PORT 0xcf8
#define PLATFORM_PCI_CONFIG_DATA_PORT 0xcfc
#define PLATFORM_PCI_MMIO32_START 0xc0000000ull /* 32-bit BAR window: 0xc0000000-0xdfffffff */
#define PLATFORM_PCI_MMIO32_SIZE 0x20000000ull
#define PLATFORM_PCI_ECAM_START 0xe0000000ull /* 1 MiB: bus 0 only (MCFG end bus 0) */
#define PLATFORM_PCI_ECAM_SIZE 0x100000ull
#define PLATFORM_PCI_IO_START 0x1000 /* I/O BAR window: 0x1000-0xffff */
#define PLATFORM_PCI_IO_END 0xffff
#define PLATFORM_PCI_MMIO64_SIZE (64ull << 30) /* 64-bit window: after RAM, see pci.h */
/* INTx: slot S pin P (0 = INTA) -> GSI 16 + (S + P) % 4, level-triggered, active low */
#define PLATFORM_PCI_INTX_GSI_BASE 16

#endif
