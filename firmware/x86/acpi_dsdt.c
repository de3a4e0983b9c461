// SPDX-License-Identifier: MIT
/*
 * The DSDT's AML (ACPI 6.x section 5.2.11.1, the namespace of chapter 6): sleeping state
 * S5, COM1, the PCI root bridge with its resources (_CRS) and interrupt routing (_PRT),
 * the ECAM window reserved on the motherboard, and the VM generation ID device with the
 * GPE method that notifies it. firmware/x86/acpi.c wraps it in the table header; the
 * fixed hardware it names is in devices/platform.h.
 */
#include <stdio.h>

#include "devices/platform.h"
#include "firmware/aml.h"
#include "firmware/x86/acpi.h"
#include "firmware/x86/acpi_internal.h"

/* PCI interrupt pins INTA-INTD, and the GSIs PLATFORM_PCI_INTX_GSI_BASE.. they swizzle onto. */
#define ACPI_PCI_PINS 4
#define ACPI_PCI_SLOTS 32

#define ACPI_VMGENID_NAME "VGEN"
#define ACPI_VMGENID_NOTIFY 0x80 /* the spec's "the generation ID changed" */

/* Sleeping state S5 (soft off): the SLP_TYP values the OS writes to PM1a_CNT and PM1b_CNT. */
static void acpi_dsdt_s5(struct aml *a)
{
	aml_name(a, "\\_S5");
	aml_package_begin(a);
	aml_integer(a, PLATFORM_ACPI_S5_SLP_TYP);
	aml_integer(a, PLATFORM_ACPI_S5_SLP_TYP);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_end(a);
}

static void acpi_dsdt_com1(struct aml *a)
{
	aml_device_begin(a, "COM1");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0501"); /* 16550A-compatible COM port */
	aml_name(a, "_UID");
	aml_integer(a, 1);
	aml_name(a, "_STA");
	aml_integer(a, 0x0f); /* present, enabled, shown in the UI, functioning */
	aml_name(a, "_CRS");
	aml_resources_begin(a);
	aml_res_io(a, PLATFORM_COM1_PORT, PLATFORM_COM1_PORT, 1, 8);
	aml_res_irq_noflags(a, PLATFORM_COM1_IRQ);
	aml_resources_end(a);
	aml_end(a);
}

/*
 * The root bridge's resources: bus 0, the CF8/CFC ports it consumes, and the windows it
 * forwards to PCI. The I/O windows are everything but CF8-CFF, so that the legacy ports
 * (COM1, the PM registers) sit behind the bridge as they do on a PC.
 */
static void acpi_pci0_crs(struct aml *a, const struct acpi_config *cfg)
{
	aml_name(a, "_CRS");
	aml_resources_begin(a);
	aml_res_word_bus(a, 0, 0);
	aml_res_io(a, PLATFORM_PCI_CONFIG_ADDRESS_PORT, PLATFORM_PCI_CONFIG_ADDRESS_PORT, 1, 8);
	aml_res_word_io(a, 0x0000, PLATFORM_PCI_CONFIG_ADDRESS_PORT - 1);
	aml_res_word_io(a, PLATFORM_PCI_CONFIG_ADDRESS_PORT + 8, PLATFORM_PCI_IO_END);
	aml_res_dword_memory(a, PLATFORM_PCI_MMIO32_START,
			     PLATFORM_PCI_MMIO32_START + PLATFORM_PCI_MMIO32_SIZE - 1, false);
	/*
	 * Not marked prefetchable: Linux refuses to keep a non-prefetchable BAR that firmware
	 * put in a prefetchable window, and every 64-bit BAR is assigned here.
	 */
	if (cfg->pci_mmio64_size)
		aml_res_qword_memory(a, cfg->pci_mmio64_base,
				     cfg->pci_mmio64_base + cfg->pci_mmio64_size - 1, false);
	aml_resources_end(a);
}

/*
 * INTx routing: slot S pin P is wired straight to IOAPIC input (GSI) 16 + (S + P) % 4.
 * A GSI source (Source Zero) means level-triggered, active-low, shareable, so these
 * inputs need no MADT override.
 */
static void acpi_pci0_prt(struct aml *a)
{
	aml_name(a, "_PRT");
	aml_package_begin(a);
	for (unsigned int slot = 0; slot < ACPI_PCI_SLOTS; slot++) {
		for (unsigned int pin = 0; pin < ACPI_PCI_PINS; pin++) {
			aml_package_begin(a);
			aml_integer(a, (uint64_t)slot << 16 | 0xffff); /* any function */
			aml_integer(a, pin);
			aml_integer(a, 0); /* Source: none, so the next field is a GSI */
			aml_integer(a, PLATFORM_PCI_INTX_GSI_BASE + (slot + pin) % ACPI_PCI_PINS);
			aml_end(a);
		}
	}
	aml_end(a);
}

static void acpi_dsdt_pci0(struct aml *a, const struct acpi_config *cfg)
{
	aml_device_begin(a, "PCI0");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0A08"); /* PCI Express root bridge: its config space has ECAM */
	aml_name(a, "_CID");
	aml_eisaid(a, "PNP0A03"); /* PCI root bridge */
	aml_name(a, "_SEG");
	aml_integer(a, 0);
	aml_name(a, "_BBN");
	aml_integer(a, 0);
	aml_name(a, "_UID");
	aml_integer(a, 0);
	acpi_pci0_crs(a, cfg);
	acpi_pci0_prt(a);
	aml_end(a);
}

/*
 * Motherboard resources: the ECAM range is consumed by the chipset. Linux uses the MCFG
 * only when its range is reserved here (or in e820), so it is reserved in both.
 */
static void acpi_dsdt_mres(struct aml *a)
{
	const struct aml_addr_space ecam = {
		.type = AML_RES_TYPE_MEMORY,
		.flags = AML_RES_CONSUMER | AML_RES_MIN_FIXED | AML_RES_MAX_FIXED,
		.type_flags = AML_RES_MEM_RW | AML_RES_MEM_NONCACHEABLE,
		.min = PLATFORM_PCI_ECAM_START,
		.max = PLATFORM_PCI_ECAM_START + PLATFORM_PCI_ECAM_SIZE - 1,
		.len = PLATFORM_PCI_ECAM_SIZE,
	};

	aml_device_begin(a, "MRES");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0C02");
	aml_name(a, "_UID");
	aml_integer(a, 0);
	aml_name(a, "_CRS");
	aml_resources_begin(a);
	aml_res_dword(a, &ecam);
	aml_resources_end(a);
	aml_end(a);
}

/*
 * The VM generation ID (Microsoft's "Virtual Machine Generation ID" paper): a device whose
 * compatible ID is VM_GEN_COUNTER (Linux's vmgenid driver matches that, upper case, or
 * VMGENCTR) and whose ADDR package holds the ID's guest-physical address as two 32-bit
 * halves, low first. Linux 6.1 reads ADDR only, no _CRS. The memory is reserved in e820
 * (the BIOS area), so the guest maps it as firmware's and never reuses it.
 */
static void acpi_dsdt_vmgenid(struct aml *a, uint64_t addr)
{
	aml_device_begin(a, ACPI_VMGENID_NAME);
	aml_name(a, "_HID");
	aml_string(a, "MVMMVGID"); /* ours; the spec leaves _HID to the hypervisor */
	aml_name(a, "_CID");
	aml_string(a, "VM_GEN_COUNTER");
	aml_name(a, "_DDN");
	aml_string(a, "VM_GEN_COUNTER");
	aml_name(a, "_STA");
	aml_integer(a, 0x0f); /* present, enabled, shown in the UI, functioning */
	aml_name(a, "ADDR");
	aml_package_begin(a);
	aml_integer(a, addr & 0xffffffffu);
	aml_integer(a, addr >> 32);
	aml_end(a);
	aml_end(a);
}

/*
 * GPE PLATFORM_ACPI_GPE_VMGENID: the VMM wrote a new ID, and this method tells the
 * driver with Notify 0x80, as the spec asks. _Exx: edge, so the OS clears the status bit
 * before it runs the method, and an ID written again meanwhile raises a new event.
 */
static void acpi_dsdt_gpe(struct aml *a)
{
	char method[5];

	snprintf(method, sizeof(method), "_E%02X", PLATFORM_ACPI_GPE_VMGENID);
	aml_scope_begin(a, "\\_GPE");
	aml_method_begin(a, method, 0, false);
	aml_notify(a, "\\_SB." ACPI_VMGENID_NAME, ACPI_VMGENID_NOTIFY);
	aml_end(a);
	aml_end(a);
}

void acpi_dsdt_body(struct aml *a, const struct acpi_config *cfg)
{
	acpi_dsdt_s5(a);
	aml_scope_begin(a, "\\_SB");
	acpi_dsdt_com1(a);
	acpi_dsdt_pci0(a, cfg);
	acpi_dsdt_mres(a);
	if (cfg->vmgenid_addr)
		acpi_dsdt_vmgenid(a, cfg->vmgenid_addr);
	aml_end(a);
	if (cfg->vmgenid_addr)
		acpi_dsdt_gpe(a);
}
