/* SPDX-License-Identifier: MIT */
/*
 * Guest physical memory: one anonymous mapping per RAM region, registered with KVM as
 * a memory slot. RAM below the 32-bit PCI hole starts at 0; whatever does not fit below
 * the hole continues at 4 GiB. Every guest-physical address the VMM dereferences goes
 * through guest_mem_ptr(), which checks that the whole range is RAM.
 */
#ifndef VMM_MEMORY_H
#define VMM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_MAX_REGIONS 2

struct guest_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;
};

struct guest_mem {
	struct guest_region regions[GUEST_MEM_MAX_REGIONS];
	unsigned int count;
	uint64_t size; /* total RAM */
};

/* Compute the regions for size bytes of RAM (no allocation); used by the e820 builder too. */
void guest_mem_layout(struct guest_mem *mem, uint64_t size);
/* Map the regions; returns 0 or -errno. */
int guest_mem_alloc(struct guest_mem *mem, uint64_t size);
/*
 * The same regions, mapped from fd (regions back to back in the file) MAP_PRIVATE: a
 * restored snapshot's RAM, read from the file on first touch, written only in memory.
 * Returns 0 or -errno.
 */
int guest_mem_map_file(struct guest_mem *mem, uint64_t size, int fd);
/* Register each region with KVM as a memory slot; returns 0 or -errno. */
int guest_mem_register(const struct guest_mem *mem, int vm_fd);
void guest_mem_free(struct guest_mem *mem);
/* Host pointer for [gpa, gpa+len), or NULL unless the whole range lies in one RAM region. */
void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

#endif
