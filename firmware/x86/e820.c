/* SPDX-License-Identifier: MIT */
/*
 * The e820 memory map (ACPI 6.x chapter 15 "System Address Map Interfaces", as passed in
 * the Linux x86 boot protocol's zero page) for the layout of devices/platform.h.
 */
#include <errno.h>

#include "devices/platform.h"
#include "firmware/x86/e820.h"

#ifndef E820_TYPE_RAM
#define E820_TYPE_RAM 1
#endif
#ifndef E820_TYPE_RESERVED
#define E820_TYPE_RESERVED 2
#endif

/* Below this there is no room for the low-memory structures and a kernel above 1 MiB. */
#define E820_MIN_MEM_SIZE (2ull << 20)

#define E820_1M 0x100000ull
#define E820_LEGACY_HOLE_END 0xa0000ull

struct e820_map {
	struct boot_e820_entry *out;
	int max;
	int n;
};

static int e820_add(struct e820_map *m, uint64_t addr, uint64_t end, uint32_t type)
{
	if (m->n == m->max)
		return -ENOSPC;
	m->out[m->n++] = (struct boot_e820_entry){ .addr = addr, .size = end - addr, .type = type };
	return 0;
}

int e820_build(struct boot_e820_entry *out, int max, uint64_t mem_size)
{
	struct e820_map m = { .out = out, .max = max < 0 ? 0 : max };
	uint64_t low_end = mem_size < PLATFORM_PCI_HOLE_START ? mem_size : PLATFORM_PCI_HOLE_START;
	int err;

	if (mem_size < E820_MIN_MEM_SIZE ||
	    mem_size > UINT64_MAX - (PLATFORM_4G - PLATFORM_PCI_HOLE_START))
		return -EINVAL;
	/* The EBDA and the BIOS area holding the ACPI tables are reserved, like on a PC. */
	err = e820_add(&m, 0, PLATFORM_EBDA_START, E820_TYPE_RAM);
	err = err ?: e820_add(&m, PLATFORM_EBDA_START, E820_LEGACY_HOLE_END, E820_TYPE_RESERVED);
	/* the BIOS area: ACPI tables, then SMBIOS, up to 1 MiB */
	err = err ?: e820_add(&m, PLATFORM_ACPI_START, PLATFORM_SMBIOS_END, E820_TYPE_RESERVED);
	err = err ?: e820_add(&m, E820_1M, low_end, E820_TYPE_RAM);
	/* PCI ECAM: Linux uses the MCFG's range only when firmware reserved it. */
	err = err
		      ?: e820_add(&m, PLATFORM_PCI_ECAM_START,
				  PLATFORM_PCI_ECAM_START + PLATFORM_PCI_ECAM_SIZE,
				  E820_TYPE_RESERVED);
	if (!err && mem_size > PLATFORM_PCI_HOLE_START)
		err = e820_add(&m, PLATFORM_4G, PLATFORM_4G + (mem_size - PLATFORM_PCI_HOLE_START),
			       E820_TYPE_RAM);
	return err ?: m.n;
}
