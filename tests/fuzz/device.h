/* SPDX-License-Identifier: MIT */
/*
 * What the virtio device fuzz targets (fuzz_blk, fuzz_net, fuzz_rng) share: the oracle
 * that traps, a transport that counts the device's NEEDS_RESET reports, and one region of
 * guest memory at guest address 0. Included by one target file each.
 */
#ifndef TESTS_FUZZ_DEVICE_H
#define TESTS_FUZZ_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "virtio/device.h"
#include "vmm/memory.h"

/* A broken promise: the trap makes libFuzzer keep the input that broke it. */
static inline void check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

/* How often the device asked the transport for NEEDS_RESET; each target zeroes it. */
static unsigned int needs_reset;

static inline void fuzz_notify(struct virtio_device *v, unsigned int q)
{
	check(q < v->num_queues);
}

static inline void fuzz_needs_reset(struct virtio_device *v)
{
	(void)v;
	needs_reset++;
}

static const struct virtio_transport_ops fuzz_transport = {
	.notify_queue = fuzz_notify,
	.needs_reset = fuzz_needs_reset,
};

/* size bytes of page-aligned RAM, described in mem as the guest's only region. */
static inline uint8_t *fuzz_guest_ram(struct guest_mem *mem, size_t size)
{
	uint8_t *ram = aligned_alloc(4096, size);

	check(ram != NULL);
	mem->regions[0] = (struct guest_region){ .gpa = 0, .size = size, .host = ram };
	mem->count = 1;
	mem->size = size;
	return ram;
}

#endif
