/* SPDX-License-Identifier: MIT */
/*
 * The BIOS memory map (e820) handed to Linux in the zero page: which guest-physical
 * ranges are RAM and which are reserved: the EBDA, the BIOS area holding the ACPI tables,
 * and PCI's ECAM. The rest of the PCI hole is left out, so it is neither.
 */
#ifndef FIRMWARE_X86_E820_H
#define FIRMWARE_X86_E820_H

#include <stdint.h>
#include <asm/bootparam.h>

/*
 * Fill out[] (room for max entries) for a guest with mem_size bytes of RAM laid out as
 * in vmm/memory.h: RAM below the PCI hole, the rest from 4 GiB. The entries are sorted by
 * address. Returns the number of entries, -ENOSPC, or -EINVAL for a size below 2 MiB or
 * too large to lay out.
 */
int e820_build(struct boot_e820_entry *out, int max, uint64_t mem_size);

#endif
