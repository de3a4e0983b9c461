/* SPDX-License-Identifier: MIT */
/*
 * Address-range buses: one for x86 port I/O, one for MMIO. A device claims a
 * range; a vCPU exit is routed to the device whose range holds the address.
 * Accesses that hit no device read as all-ones and are counted, never fatal.
 */
#ifndef DEVICES_BUS_H
#define DEVICES_BUS_H

#include <stdbool.h>
#include <stdint.h>

struct bus_device_ops {
	/* offset is relative to the start of the claimed range; len is 1, 2, 4 or 8 */
	void (*read)(void *opaque, uint64_t offset, void *data, unsigned int len);
	void (*write)(void *opaque, uint64_t offset, const void *data, unsigned int len);
};

/*
 * The value in an access's len bytes, little-endian as the guest wrote it; bytes past the
 * eighth are ignored. And the other way: fill len bytes with v, bytes past the eighth 0.
 * Byte by byte, so the host's own byte order does not matter.
 */
static inline uint64_t bus_load_le(const void *data, unsigned int len)
{
	const uint8_t *p = data;
	uint64_t v = 0;

	for (unsigned int i = 0; i < len && i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline void bus_store_le(void *data, unsigned int len, uint64_t v)
{
	uint8_t *p = data;

	for (unsigned int i = 0; i < len; i++)
		p[i] = i < 8 ? (uint8_t)(v >> (8 * i)) : 0;
}

struct bus_range {
	uint64_t base;
	uint64_t len;
	const struct bus_device_ops *ops;
	void *opaque;
	const char *name;
	/* accesses routed to this range (relaxed atomics; they move with the range) */
	uint64_t reads, writes;
};

#define BUS_MAX_RANGES 64

struct bus {
	const char *name;
	struct bus_range ranges[BUS_MAX_RANGES]; /* kept sorted by base */
	unsigned int count;
	bool sealed; /* bus_seal() was called: the ranges no longer change */
	/* accesses that hit no device; the first is logged, the rest counted */
	uint64_t unhandled;
	bool quiet; /* count without logging: vmm run's stderr belongs to the command */
};

/*
 * Threading: register and unregister during set-up only, before any other thread can
 * read or write the bus; then bus_seal(). From there on any number of threads may call
 * bus_read(), bus_write() and bus_snapshot() at once, without a lock.
 */
void bus_init(struct bus *bus, const char *name);
/* The set of ranges is final: bus_register() and bus_unregister() fail with -EBUSY. */
void bus_seal(struct bus *bus);
/*
 * Returns 0, -EEXIST when the range overlaps a registered one, -ENOSPC when full, -EBUSY
 * once sealed.
 */
int bus_register(struct bus *bus, uint64_t base, uint64_t len, const struct bus_device_ops *ops,
		 void *opaque, const char *name);
int bus_unregister(struct bus *bus, uint64_t base);
/* Return true when a device handled the access; unhandled reads fill data with 0xff. */
bool bus_read(struct bus *bus, uint64_t addr, void *data, unsigned int len);
bool bus_write(struct bus *bus, uint64_t addr, const void *data, unsigned int len);
/* Copy up to max ranges, counters included; returns how many. */
unsigned int bus_snapshot(struct bus *bus, struct bus_range *out, unsigned int max);

#endif
