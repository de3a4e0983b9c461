/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for virtio-rng (virtio/rng/rng.c over virtio/virtqueue.c): the input is a
 * driver's whole view of the request queue, as in fuzz_blk.c: the features it took and an
 * image of guest RAM holding the rings and buffers in whatever shape it likes. Each input
 * runs passes of rng_queue_serve() on the calling thread at times the input picks, so it is
 * deterministic and starts no thread. Guest RAM is one heap block of exactly RAM_SIZE
 * bytes, so ASan reports any access outside it.
 *
 * Input layout (little-endian):
 *   0  u8   bit 0: INDIRECT_DESC; bit 1: EVENT_IDX
 *   1  u8   log2 of the queue size, bits 0-2 (at most QMAX)
 *   2  u8   the rate: RNG_RATE_MIN << (value % 25)
 *   3  u8   milliseconds between the passes
 *   4  ...  guest RAM from gpa 0, zero-filled up to RAM_SIZE; descriptors at DESC_GPA,
 *           available ring at AVAIL_GPA, used ring at USED_GPA
 *
 * Checked after each pass: it ended with 0 or -EAGAIN, or with a negative errno exactly
 * when the transport was asked for NEEDS_RESET (once); the used ring never runs ahead of
 * the chains taken; the bucket never allows more bytes than its rate and time explain.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/rng/rng.h"

#include "device.h"

#define RAM_SIZE 0x10000u
#define HEADER_SIZE 4u
#define DESC_GPA 0x0000u
#define AVAIL_GPA 0x0200u
#define USED_GPA 0x0300u
#define PASSES 4

static uint8_t *ram;
static struct guest_mem mem;
static struct rng dev;

static void setup(void)
{
	struct virtio_device *vdev;
	char err[256];

	ram = fuzz_guest_ram(&mem, RAM_SIZE);
	check(rng_init(&dev, &vdev, RNG_DEFAULT_RATE, &mem, err, sizeof(err)) == 0);
	vdev->name = "virtio-rng0";
	vdev->transport = &fuzz_transport;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtq *vq = &dev.vdev.queues[0];
	uint64_t rate, now = 0, spent = 0;

	if (size < HEADER_SIZE)
		return 0;
	if (!ram)
		setup();
	memset(ram, 0, RAM_SIZE);
	memcpy(ram, data + HEADER_SIZE,
	       size - HEADER_SIZE < RAM_SIZE ? size - HEADER_SIZE : RAM_SIZE);
	rate = RNG_RATE_MIN << (data[2] % 25);
	rng_bucket_init(&dev.bucket, rate, 0);
	dev.vdev.ops->reset(&dev.vdev);
	dev.bytes = 0;

	virtq_reset(vq);
	vq->size = 1u << (data[1] % 6);
	vq->desc_gpa = DESC_GPA;
	vq->avail_gpa = AVAIL_GPA;
	vq->used_gpa = USED_GPA;
	vq->event_idx = data[0] & 2;
	vq->indirect_desc = data[0] & 1;
	check(virtq_enable(vq, &mem) == 0);

	needs_reset = 0;
	for (int pass = 0; pass < PASSES; pass++) {
		uint64_t wait;
		int r = rng_queue_serve(&dev, now, &wait);

		check(r == 0 || r == -EAGAIN || r < 0);
		if (r < 0 && r != -EAGAIN)
			check(needs_reset == 1);
		else
			check(needs_reset == 0);
		check((uint16_t)(vq->last_avail_idx - vq->used_idx) <= 1);
		now += (uint64_t)data[3] * 1000000ull;
	}
	/* a full bucket, then rate bytes per second at most: each chain's charge included */
	spent = dev.bytes;
	check(spent <= (rate / 16 > RNG_MIN_CHARGE ? rate / 16 : RNG_MIN_CHARGE) +
			       rate * now / 1000000000ull + 1);
	return 0;
}
