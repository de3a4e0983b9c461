/* SPDX-License-Identifier: MIT */
/*
 * The BIOS memory map (e820) handed to Linux in the zero page: which guest-physical
 * ranges are RAM and which are reserved for the BIOS area, tables and the PCI hole.
 */
#ifndef FIRMWARE_E820_H
#define FIRMWARE_E820_H

#include <stdint.h>
#include <asm/bootparam.h>

/*
 * Fill out[] (room for max entries) for a guest with mem_size bytes of RAM laid out as
 * in vmm/memory.h: RAM below the PCI hole, the rest from 4 GiB. Returns the number of
 * entries, or -ENOSPC.
 */
int e820_build(struct boot_e820_entry *out, int max, uint64_t mem_size);

#endif
