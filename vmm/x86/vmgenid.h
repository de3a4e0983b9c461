/* SPDX-License-Identifier: MIT */
/*
 * The VM generation ID (Microsoft's "Virtual Machine Generation ID" specification): 16
 * bytes at PLATFORM_VMGENID_ADDR that change whenever the VM may have been copied, so
 * the guest knows to renew what must differ between copies (Linux reseeds its RNG). The
 * DSDT names the address (firmware/x86/acpi_dsdt.c); a restore writes a new ID and raises
 * the GPE whose method notifies the guest's driver (vmm/snapshot.c).
 */
#ifndef VMM_X86_VMGENID_H
#define VMM_X86_VMGENID_H

struct guest_mem;

/*
 * Write a fresh random ID (getrandom) over the 16 bytes. Returns 0, -EFAULT when the
 * address is not in guest RAM (a machine under 1 MiB), or getrandom's -errno.
 */
int vmgenid_write(struct guest_mem *mem);

#endif
