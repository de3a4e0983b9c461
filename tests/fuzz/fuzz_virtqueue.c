/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the split virtqueue: the input is a queue configuration followed by
 * an image of a small guest's RAM, i.e. everything a malicious driver controls. We enable
 * the queue, pop chains (a bounded number), touch the first and last byte of every segment
 * we were given, check the chain's bookkeeping and push it back. Out-of-range pointers show
 * up either in the explicit checks below or, for reads and writes, under ASan: the guest
 * RAM is one heap block of exactly RAM_SIZE bytes.
 *
 * Input layout (little-endian):
 *   0  u8   log2 of the queue size in bits 0-3; bit 7: use raw_size instead
 *   1  u8   bit 0: EVENT_IDX negotiated, bit 1: INDIRECT_DESC negotiated
 *   2  u16  starting value of last_avail_idx and used_idx
 *   4  u32  descriptor table gpa
 *   8  u32  avail ring gpa
 *   12 u32  used ring gpa
 *   16 u16  raw_size (any value, mostly invalid)
 *   18 u16  reserved
 *   20 ...  guest RAM from gpa 0, zero-filled up to RAM_SIZE
 *
 * Built with -DVIRTQ_FUZZ_MAKE_SEEDS (and without -fsanitize=fuzzer) this file is instead a
 * program that writes the seed corpus into the directory named on its command line.
 */
#include <endian.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/virtqueue.h"

#define RAM_SIZE 0x10000u
#define HEADER_SIZE 20u
#define MAX_POPS 64

#define HDR_SIZE_RAW 0x80
#define HDR_EVENT_IDX 0x01
#define HDR_INDIRECT 0x02

#ifndef VIRTQ_FUZZ_MAKE_SEEDS

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint8_t *ram;
static struct virtq_chain chain;

static void check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

static bool in_ram(const struct iovec *iov)
{
	uintptr_t p = (uintptr_t)iov->iov_base, base = (uintptr_t)ram;

	return p >= base && p - base <= RAM_SIZE && iov->iov_len <= RAM_SIZE - (p - base);
}

/* Check what pop handed out; touch both ends of each segment so ASan sees any overrun. */
static uint32_t consume(void)
{
	uint64_t rbytes = 0, wbytes = 0;
	unsigned int n = chain.nreadable + chain.nwritable;
	volatile uint8_t sink = 0;

	check(n <= VIRTQ_MAX_SEGMENTS);
	for (unsigned int i = 0; i < n; i++) {
		struct iovec *iov = &chain.iov[i];
		uint8_t *p = iov->iov_base;

		check(in_ram(iov));
		if (i < chain.nreadable) {
			rbytes += iov->iov_len;
			if (iov->iov_len)
				sink ^= p[0] ^ p[iov->iov_len - 1];
		} else {
			wbytes += iov->iov_len;
			if (iov->iov_len) {
				p[0] = 0xa5;
				p[iov->iov_len - 1] = 0x5a;
			}
		}
	}
	(void)sink;
	check(rbytes == chain.readable_bytes && wbytes == chain.writable_bytes);
	check(rbytes + wbytes <= UINT32_MAX);
	return chain.writable_bytes;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest_mem mem;
	struct virtq vq;
	uint16_t start;
	int r = 0;

	if (size < HEADER_SIZE)
		return 0;
	if (!ram) {
		ram = aligned_alloc(4096, RAM_SIZE);
		if (!ram)
			abort();
		mem.regions[0] = (struct guest_region){ .gpa = 0, .size = RAM_SIZE, .host = ram };
		mem.count = 1;
		mem.size = RAM_SIZE;
	}
	memset(ram, 0, RAM_SIZE);
	memcpy(ram, data + HEADER_SIZE,
	       size - HEADER_SIZE < RAM_SIZE ? size - HEADER_SIZE : RAM_SIZE);

	virtq_reset(&vq);
	vq.size = (data[0] & HDR_SIZE_RAW) ? get16(data + 16) : 1u << (data[0] & 0x0f);
	vq.event_idx = data[1] & HDR_EVENT_IDX;
	vq.indirect_desc = data[1] & HDR_INDIRECT;
	vq.desc_gpa = get32(data + 4);
	vq.avail_gpa = get32(data + 8);
	vq.used_gpa = get32(data + 12);
	if (virtq_enable(&vq, &mem) != 0)
		return 0;
	start = get16(data + 2);
	vq.last_avail_idx = start;
	vq.used_idx = start;
	vq.signalled_used = start;

	virtq_set_notify(&vq, false);
	for (int i = 0; i < MAX_POPS; i++) {
		r = virtq_pop(&vq, &chain);
		if (r <= 0)
			break;
		check(chain.head < vq.size);
		virtq_push(&vq, chain.head, consume());
		if (i % 4 == 3)
			(void)virtq_needs_interrupt(&vq);
	}
	if (r < 0) {
		/* sticky until the queue is enabled again */
		check(virtq_pop(&vq, &chain) == r);
		check(!virtq_has_work(&vq));
	}
	virtq_set_notify(&vq, true);
	(void)virtq_has_work(&vq);
	(void)virtq_avail_pending(&vq);
	(void)virtq_needs_interrupt(&vq);
	return 0;
}

#else /* VIRTQ_FUZZ_MAKE_SEEDS: write the seed corpus */

#include <stdio.h>

/* A seed being built: header plus as much of guest RAM as it uses. */
struct seed {
	uint8_t buf[HEADER_SIZE + RAM_SIZE];
	size_t len;
	unsigned int qsize;
	uint32_t desc, avail, used;
	uint16_t avail_idx;
};

static void put16(struct seed *s, uint32_t gpa, uint16_t v)
{
	uint8_t *p = s->buf + HEADER_SIZE + gpa;

	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	if (HEADER_SIZE + gpa + 2 > s->len)
		s->len = HEADER_SIZE + gpa + 2;
}

static void put32(struct seed *s, uint32_t gpa, uint32_t v)
{
	put16(s, gpa, (uint16_t)v);
	put16(s, gpa + 2, (uint16_t)(v >> 16));
}

static void seed_init(struct seed *s, unsigned int log2size, uint8_t features, uint16_t start)
{
	uint8_t *h = s->buf;

	memset(s, 0, sizeof(*s));
	s->qsize = 1u << log2size;
	s->desc = 0;
	s->avail = 16 * s->qsize;
	s->used = (s->avail + 6 + 2 * s->qsize + 3) & ~3u;
	s->avail_idx = start;
	h[0] = (uint8_t)log2size;
	h[1] = features;
	h[2] = (uint8_t)start;
	h[3] = (uint8_t)(start >> 8);
	for (int i = 0; i < 4; i++) {
		h[4 + i] = (uint8_t)(s->desc >> 8 * i);
		h[8 + i] = (uint8_t)(s->avail >> 8 * i);
		h[12 + i] = (uint8_t)(s->used >> 8 * i);
	}
	s->len = HEADER_SIZE;
	put16(s, s->avail + 2, start);
	put16(s, s->used + 2, start);
	put16(s, s->used + 4 + 8 * s->qsize, 0); /* avail_event: the whole used ring is in */
}

/* Descriptor i of the table at gpa table. */
static void desc(struct seed *s, uint32_t table, unsigned int i, uint32_t addr, uint32_t len,
		 uint16_t flags, uint16_t next)
{
	uint32_t d = table + 16 * i;

	put32(s, d, addr);
	put32(s, d + 4, 0);
	put32(s, d + 8, len);
	put16(s, d + 12, flags);
	put16(s, d + 14, next);
}

static void offer(struct seed *s, uint16_t head)
{
	put16(s, s->avail + 4 + 2 * (s->avail_idx & (s->qsize - 1)), head);
	s->avail_idx++;
	put16(s, s->avail + 2, s->avail_idx);
}

#include "seed.h"

static int save(const struct seed *s, const char *dir, const char *name)
{
	return seed_save(s->buf, s->len, dir, name);
}

int main(int argc, char **argv)
{
	static struct seed s;
	const uint32_t buf = 0x8000, table = 0x100;
	int err = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}

	/* two chains: a request (readable header, writable data and status) and a plain one */
	seed_init(&s, 3, 0, 0);
	desc(&s, s.desc, 0, buf, 16, VRING_DESC_F_NEXT, 1);
	desc(&s, s.desc, 1, buf + 0x100, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	desc(&s, s.desc, 2, buf + 0x400, 1, VRING_DESC_F_WRITE, 0);
	desc(&s, s.desc, 5, buf + 0x800, 64, 0, 0);
	offer(&s, 0);
	offer(&s, 5);
	err |= save(&s, argv[1], "simple");

	/* 16-bit indices about to wrap, with event indices */
	seed_init(&s, 4, HDR_EVENT_IDX, 65534);
	for (unsigned int i = 0; i < 4; i++) {
		desc(&s, s.desc, i, buf + 0x100 * i, 0x80, VRING_DESC_F_WRITE, 0);
		offer(&s, (uint16_t)i);
	}
	put16(&s, s.avail + 4 + 2 * s.qsize, 65535); /* used_event */
	err |= save(&s, argv[1], "wrap_event_idx");

	/* an indirect table after a direct header */
	seed_init(&s, 2, HDR_INDIRECT | HDR_EVENT_IDX, 0);
	desc(&s, table, 0, buf, 32, VRING_DESC_F_NEXT, 1);
	desc(&s, table, 1, buf + 0x100, 200, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	desc(&s, table, 2, buf + 0x400, 1, VRING_DESC_F_WRITE, 0);
	desc(&s, s.desc, 3, buf + 0x600, 8, VRING_DESC_F_NEXT, 1);
	desc(&s, s.desc, 1, table, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	desc(&s, s.desc, 2, table, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	offer(&s, 3);
	offer(&s, 2);
	err |= save(&s, argv[1], "indirect");

	/* a full ring of 64 chains of two descriptors */
	seed_init(&s, 7, 0, 100);
	for (unsigned int i = 0; i < 128; i += 2) {
		desc(&s, s.desc, i, buf + 0x40 * i, 0x40, VRING_DESC_F_NEXT, (uint16_t)(i + 1));
		desc(&s, s.desc, i + 1, buf + 0x40 * i + 0x40, 0x40, VRING_DESC_F_WRITE, 0);
		offer(&s, (uint16_t)i);
	}
	err |= save(&s, argv[1], "many_chains");

	/* a driver bug: the second chain loops */
	seed_init(&s, 3, 0, 0);
	desc(&s, s.desc, 0, buf, 16, 0, 0);
	desc(&s, s.desc, 1, buf, 16, VRING_DESC_F_NEXT, 2);
	desc(&s, s.desc, 2, buf, 16, VRING_DESC_F_NEXT, 1);
	offer(&s, 0);
	offer(&s, 1);
	err |= save(&s, argv[1], "loop");
	return err;
}

#endif
