/* SPDX-License-Identifier: MIT */
/*
 * What firmware/x86/acpi.c (the tables) and firmware/x86/acpi_dsdt.c (the DSDT's AML)
 * share. Private to those two files.
 */
#ifndef FIRMWARE_X86_ACPI_INTERNAL_H
#define FIRMWARE_X86_ACPI_INTERNAL_H

struct acpi_config;
struct aml;

/*
 * The namespace: \_S5, then \_SB with COM1, PCI0, the ECAM reservation and (when
 * cfg->vmgenid_addr) VGEN, the VM generation ID; then \_GPE with VGEN's event method.
 */
void acpi_dsdt_body(struct aml *a, const struct acpi_config *cfg);

#endif
