/* SPDX-License-Identifier: MIT */
/*
 * Address-range buses (port I/O and MMIO): devices claim non-overlapping ranges, kept
 * sorted by base so that a vCPU exit finds its device by binary search. An access is
 * routed only when it lies wholly inside one range; anything else reads as all-ones,
 * is counted, and only the first per bus is logged so a probing guest cannot flood stderr.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "devices/bus.h"

void bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
}

void bus_seal(struct bus *bus)
{
	bus->sealed = true;
}

/* Index of the first range whose base is above addr. */
static unsigned int bus_upper_bound(const struct bus *bus, uint64_t addr)
{
	unsigned int lo = 0, hi = bus->count;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (bus->ranges[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool bus_range_contains(const struct bus_range *r, uint64_t addr, uint64_t len)
{
	uint64_t offset = addr - r->base;

	/* Written so that neither side can wrap around the top of the address space. */
	return addr >= r->base && offset < r->len && len <= r->len - offset;
}

static bool bus_overlaps(const struct bus *bus, unsigned int pos, uint64_t base, uint64_t len)
{
	if (pos > 0 && bus_range_contains(&bus->ranges[pos - 1], base, 1))
		return true;
	return pos < bus->count && bus->ranges[pos].base - base < len;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len, const struct bus_device_ops *ops,
		 void *opaque, const char *name)
{
	unsigned int pos;
	int ret = 0;

	if (!len || !ops || len - 1 > UINT64_MAX - base)
		return -EINVAL;
	if (bus->sealed)
		return -EBUSY;
	pos = bus_upper_bound(bus, base);
	if (bus_overlaps(bus, pos, base, len)) {
		ret = -EEXIST;
	} else if (bus->count == BUS_MAX_RANGES) {
		ret = -ENOSPC;
	} else {
		memmove(&bus->ranges[pos + 1], &bus->ranges[pos],
			(bus->count - pos) * sizeof(bus->ranges[0]));
		bus->ranges[pos] = (struct bus_range){
			.base = base, .len = len, .ops = ops, .opaque = opaque, .name = name
		};
		bus->count++;
	}
	return ret;
}

int bus_unregister(struct bus *bus, uint64_t base)
{
	unsigned int pos;
	int ret = -ENOENT;

	if (bus->sealed)
		return -EBUSY;
	pos = bus_upper_bound(bus, base);
	if (pos > 0 && bus->ranges[pos - 1].base == base) {
		pos--;
		bus->count--;
		memmove(&bus->ranges[pos], &bus->ranges[pos + 1],
			(bus->count - pos) * sizeof(bus->ranges[0]));
		ret = 0;
	}
	return ret;
}

/* The range that wholly holds [addr, addr + len), or NULL. */
static const struct bus_range *bus_lookup(const struct bus *bus, uint64_t addr, unsigned int len)
{
	unsigned int pos = bus_upper_bound(bus, addr);
	const struct bus_range *r;

	if (pos == 0 || !len)
		return NULL;
	r = &bus->ranges[pos - 1];
	return bus_range_contains(r, addr, len) ? r : NULL;
}

static void bus_count_unhandled(struct bus *bus, const char *what, uint64_t addr, unsigned int len)
{
	if (__atomic_fetch_add(&bus->unhandled, 1, __ATOMIC_RELAXED) == 0 && !bus->quiet)
		fprintf(stderr,
			"vmm: %s: unhandled %s at 0x%" PRIx64
			" (len %u); further ones are counted only\n",
			bus->name ? bus->name : "bus", what, addr, len);
}

bool bus_read(struct bus *bus, uint64_t addr, void *data, unsigned int len)
{
	const struct bus_range *r;
	bool handled;

	/* Bytes a device leaves untouched read as all-ones too, like a floating bus. */
	memset(data, 0xff, len);
	r = bus_lookup(bus, addr, len);
	handled = r != NULL;
	if (r)
		__atomic_fetch_add(&((struct bus_range *)r)->reads, 1, __ATOMIC_RELAXED);
	if (r && r->ops->read)
		r->ops->read(r->opaque, addr - r->base, data, len);
	if (!handled)
		bus_count_unhandled(bus, "read", addr, len);
	return handled;
}

bool bus_write(struct bus *bus, uint64_t addr, const void *data, unsigned int len)
{
	const struct bus_range *r;
	bool handled;

	r = bus_lookup(bus, addr, len);
	handled = r != NULL;
	if (r)
		__atomic_fetch_add(&((struct bus_range *)r)->writes, 1, __ATOMIC_RELAXED);
	if (r && r->ops->write)
		r->ops->write(r->opaque, addr - r->base, data, len);
	if (!handled)
		bus_count_unhandled(bus, "write", addr, len);
	return handled;
}

unsigned int bus_snapshot(struct bus *bus, struct bus_range *out, unsigned int max)
{
	unsigned int n = bus->count < max ? bus->count : max;

	for (unsigned int i = 0; i < n; i++) {
		const struct bus_range *r = &bus->ranges[i];

		/* field by field: vCPUs add to the counters meanwhile */
		out[i] = (struct bus_range){
			.base = r->base,
			.len = r->len,
			.ops = r->ops,
			.opaque = r->opaque,
			.name = r->name,
			.reads = __atomic_load_n(&r->reads, __ATOMIC_RELAXED),
			.writes = __atomic_load_n(&r->writes, __ATOMIC_RELAXED),
		};
	}
	return n;
}
