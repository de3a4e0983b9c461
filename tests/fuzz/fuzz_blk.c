/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for virtio-blk request parsing (virtio/blk/blk.c over virtio/virtqueue.c and
 * virtio/blk/disk.c): the input is a driver's whole view of one queue, i.e. which features it
 * negotiated and an image of guest RAM holding the rings, headers, data buffers and status
 * bytes in whatever shape it likes. Each input runs one pass of blk_queue_serve() on the
 * calling thread with the thread engine, so it is deterministic and starts no thread.
 *
 * The disks are 64 KiB files (128 sectors) in a temporary directory, unlinked at once: one
 * read-write, one read-only; both start out holding a known pattern. Guest RAM is one heap
 * block of exactly RAM_SIZE bytes, so ASan reports any access outside it.
 *
 * Input layout (little-endian):
 *   0  u8   bit 0: the read-only disk; bit 1: FLUSH negotiated; bit 2: DISCARD; bit 3:
 *           WRITE_ZEROES; bit 4: INDIRECT_DESC; bit 5: EVENT_IDX
 *   1  u8   log2 of the queue size, bits 0-2 (at most QMAX)
 *   2  u16  reserved
 *   4  ...  guest RAM from gpa 0, zero-filled up to RAM_SIZE. The rings are at fixed
 *           places: descriptors at DESC_GPA, available ring at AVAIL_GPA, used ring at
 *           USED_GPA (room for QMAX entries each); the rest is the driver's to use.
 *
 * Checked after each input: the pass ended with 0 or -EPROTO, and -EPROTO exactly when the
 * transport was asked for NEEDS_RESET; every slot is free again; every chain taken was
 * answered in the used ring except, on a driver error, the one that caused it; neither
 * disk changed size; the read-only disk holds its pattern still.
 *
 * Built with -DBLK_FUZZ_MAKE_SEEDS (and without -fsanitize=fuzzer) this file is instead a
 * program that writes the seed corpus into the directory named on its command line.
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#define RAM_SIZE 0x10000u
#define HEADER_SIZE 4u
#define QMAX 32u
#define DESC_GPA 0x0000u
#define AVAIL_GPA 0x0200u
#define USED_GPA 0x0300u
#define DISK_SIZE 0x10000u

#define F_READONLY 0x01
#define F_FLUSH 0x02
#define F_DISCARD 0x04
#define F_WRITE_ZEROES 0x08
#define F_INDIRECT 0x10
#define F_EVENT_IDX 0x20

#ifndef BLK_FUZZ_MAKE_SEEDS

#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

#include "virtio/blk/blk.h"

#include "device.h"

static uint8_t *ram;
static struct guest_mem mem;
static uint8_t pattern[DISK_SIZE];
static struct blk disks[2]; /* 0: read-write, 1: read-only */

static void open_disk(struct blk *b, bool readonly)
{
	const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	struct disk_options o = { .readonly = readonly,
				  .queue_size = QMAX,
				  .serial = "fuzz-serial" };
	struct virtio_device *vdev;
	char err[512];
	int fd;

	snprintf(o.path, sizeof(o.path), "%s/fuzz_blk.XXXXXX", dir);
	fd = mkstemp(o.path);
	check(fd >= 0);
	check(write(fd, pattern, DISK_SIZE) == DISK_SIZE);
	close(fd);
	if (blk_init(b, &vdev, &o, 1, &mem, err, sizeof(err))) {
		fprintf(stderr, "fuzz_blk: %s\n", err);
		abort();
	}
	unlink(o.path);
	vdev->transport = &fuzz_transport;
}

static void setup(void)
{
	for (unsigned int i = 0; i < DISK_SIZE; i++)
		pattern[i] = (uint8_t)(i / 512 * 7 + i);
	ram = fuzz_guest_ram(&mem, RAM_SIZE);
	/* one pass on the calling thread, no io_uring ring per input */
	setenv("VMM_DISK_ENGINE", "thread", 1);
	open_disk(&disks[0], false);
	open_disk(&disks[1], true);
}

/* The disk must keep its size; the read-only one its contents too. Restore the other. */
static void check_disk(struct blk *b)
{
	static uint8_t now[DISK_SIZE];
	struct stat st;

	check(fstat(b->disk.fd, &st) == 0 && st.st_size == DISK_SIZE);
	check(pread(b->disk.fd, now, DISK_SIZE, 0) == DISK_SIZE);
	if (memcmp(now, pattern, DISK_SIZE) == 0)
		return;
	check(!b->disk.readonly);
	check(pwrite(b->disk.fd, pattern, DISK_SIZE, 0) == DISK_SIZE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct blk *b;
	struct virtq *vq;
	uint64_t features;
	uint8_t flags;
	int r;

	if (size < HEADER_SIZE)
		return 0;
	if (!ram)
		setup();
	flags = data[0];
	b = &disks[flags & F_READONLY ? 1 : 0];
	memset(ram, 0, RAM_SIZE);
	memcpy(ram, data + HEADER_SIZE,
	       size - HEADER_SIZE < RAM_SIZE ? size - HEADER_SIZE : RAM_SIZE);

	/* what the driver accepted: only offered bits, as the transport would allow */
	features = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_BLK_F_SEG_MAX) |
		   (1ull << VIRTIO_BLK_F_BLK_SIZE);
	if (flags & F_FLUSH)
		features |= 1ull << VIRTIO_BLK_F_FLUSH;
	if (flags & F_DISCARD)
		features |= 1ull << VIRTIO_BLK_F_DISCARD;
	if (flags & F_WRITE_ZEROES)
		features |= 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	if (flags & F_INDIRECT)
		features |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	if (flags & F_EVENT_IDX)
		features |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	b->vdev.driver_features =
		features &
		(b->vdev.device_features | (1ull << VIRTIO_F_VERSION_1) |
		 (1ull << VIRTIO_RING_F_INDIRECT_DESC) | (1ull << VIRTIO_RING_F_EVENT_IDX));

	vq = &b->vdev.queues[0];
	virtq_reset(vq);
	vq->size = 1u << (data[1] % 6);
	vq->desc_gpa = DESC_GPA;
	vq->avail_gpa = AVAIL_GPA;
	vq->used_gpa = USED_GPA;
	vq->event_idx = flags & F_EVENT_IDX;
	vq->indirect_desc = flags & F_INDIRECT;
	check(virtq_enable(vq, &mem) == 0);

	needs_reset = 0;
	r = blk_queue_serve(b, 0);
	check(r == 0 || r == -EPROTO);
	check((r == -EPROTO) == (needs_reset == 1));
	check(needs_reset <= 1);
	check(b->queues[0].inflight == 0);
	if (r == 0)
		check(vq->used_idx == vq->last_avail_idx && vq->error == 0);
	else
		check((uint16_t)(vq->last_avail_idx - vq->used_idx) <= 1);
	check_disk(b);
	return 0;
}

#else /* BLK_FUZZ_MAKE_SEEDS: write the seed corpus */

#include <stdio.h>

/* A seed being built: header plus as much of guest RAM as it uses. */
struct seed {
	uint8_t buf[HEADER_SIZE + RAM_SIZE];
	size_t len;
	unsigned int qsize;
	uint16_t avail_idx, next_desc;
};

static void put(struct seed *s, uint32_t gpa, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		s->buf[HEADER_SIZE + gpa + i] = (uint8_t)(v >> 8 * i);
	if (HEADER_SIZE + gpa + n > s->len)
		s->len = HEADER_SIZE + gpa + n;
}

static void seed_init(struct seed *s, uint8_t flags, unsigned int log2size)
{
	memset(s, 0, sizeof(*s));
	s->buf[0] = flags;
	s->buf[1] = (uint8_t)log2size;
	s->qsize = 1u << log2size;
	s->len = HEADER_SIZE;
	put(s, AVAIL_GPA, 0, 4);
	put(s, USED_GPA, 0, 4);
}

static void desc_at(struct seed *s, uint32_t table, unsigned int i, uint32_t addr, uint32_t len,
		    uint16_t flags, uint16_t next)
{
	uint32_t d = table + 16 * i;

	put(s, d, addr, 8);
	put(s, d + 8, len, 4);
	put(s, d + 12, flags, 2);
	put(s, d + 14, next, 2);
}

/* A 16-byte request header at gpa. */
static void hdr(struct seed *s, uint32_t gpa, uint32_t type, uint64_t sector)
{
	put(s, gpa, type, 4);
	put(s, gpa + 4, 0, 4);
	put(s, gpa + 8, sector, 8);
}

struct seg {
	uint32_t addr, len;
	bool write;
};

/* Put a chain of n segments in the descriptor table and make it available. */
static void chain(struct seed *s, const struct seg *g, unsigned int n)
{
	uint16_t head = s->next_desc;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t at = (uint16_t)((head + i) % s->qsize);
		uint16_t f =
			(g[i].write ? VRING_DESC_F_WRITE : 0) | (i + 1 < n ? VRING_DESC_F_NEXT : 0);

		desc_at(s, DESC_GPA, at, g[i].addr, g[i].len, f, (uint16_t)((at + 1) % s->qsize));
	}
	s->next_desc = (uint16_t)((head + n) % s->qsize);
	put(s, AVAIL_GPA + 4 + 2 * (s->avail_idx % s->qsize), head, 2);
	s->avail_idx++;
	put(s, AVAIL_GPA + 2, s->avail_idx, 2);
}

/* header, one data segment, status: the usual three-descriptor request */
static void req(struct seed *s, uint32_t at, uint32_t type, uint64_t sector, uint32_t len,
		bool data_write)
{
	struct seg g[] = { { at, 16, false },
			   { at + 0x100, len, data_write },
			   { at + 0x80, 1, true } };

	hdr(s, at, type, sector);
	if (len)
		chain(s, g, 3);
	else
		chain(s, (struct seg[]){ g[0], g[2] }, 2);
}

#include "seed.h"

static int save(const struct seed *s, const char *dir, const char *name)
{
	return seed_save(s->buf, s->len, dir, name);
}

int main(int argc, char **argv)
{
	static struct seed s;
	const uint32_t buf = 0x1000;
	int err = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}

	/* a read and a write of two sectors each, a flush and GET_ID */
	seed_init(&s, F_FLUSH, 5);
	req(&s, buf, VIRTIO_BLK_T_IN, 2, 1024, true);
	req(&s, buf + 0x1000, VIRTIO_BLK_T_OUT, 4, 1024, false);
	req(&s, buf + 0x2000, VIRTIO_BLK_T_FLUSH, 0, 0, false);
	req(&s, buf + 0x3000, VIRTIO_BLK_T_GET_ID, 0, VIRTIO_BLK_ID_BYTES, true);
	err |= save(&s, argv[1], "read-write-flush-id");

	/* the read-only disk: a write and a flush, a read of the last sector */
	seed_init(&s, F_READONLY | F_FLUSH, 4);
	req(&s, buf, VIRTIO_BLK_T_OUT, 0, 512, false);
	req(&s, buf + 0x1000, VIRTIO_BLK_T_FLUSH, 0, 0, false);
	req(&s, buf + 0x2000, VIRTIO_BLK_T_IN, DISK_SIZE / 512 - 1, 512, true);
	err |= save(&s, argv[1], "readonly");

	/* past the end, a sector count that overflows, a partial sector, no FLUSH (writethrough) */
	seed_init(&s, 0, 5);
	req(&s, buf, VIRTIO_BLK_T_IN, DISK_SIZE / 512, 512, true);
	req(&s, buf + 0x1000, VIRTIO_BLK_T_OUT, UINT64_MAX / 512 + 1, 512, false);
	req(&s, buf + 0x2000, VIRTIO_BLK_T_IN, UINT64_MAX, 512, true);
	req(&s, buf + 0x3000, VIRTIO_BLK_T_OUT, DISK_SIZE / 512 - 1, 1024, false);
	req(&s, buf + 0x4000, VIRTIO_BLK_T_IN, 0, 100, true);
	req(&s, buf + 0x5000, 0x7777, 0, 512, true);
	err |= save(&s, argv[1], "out-of-range");

	/* header split 5 + 11, status sharing the data segment, empty writable tail */
	seed_init(&s, F_FLUSH, 2);
	hdr(&s, buf, VIRTIO_BLK_T_IN, 3);
	chain(&s,
	      (struct seg[]){ { buf, 5, false },
			      { buf + 5, 11, false },
			      { buf + 0x200, 513, true },
			      { buf + 0x800, 0, true } },
	      4);
	err |= save(&s, argv[1], "split");

	/* discard and write-zeroes with two ranges each, one with the unmap flag */
	seed_init(&s, F_DISCARD | F_WRITE_ZEROES | F_FLUSH, 2);
	hdr(&s, buf, VIRTIO_BLK_T_DISCARD, 0);
	put(&s, buf + 16, 8, 8);
	put(&s, buf + 24, 8, 4);
	put(&s, buf + 28, 0, 4);
	put(&s, buf + 32, 64, 8);
	put(&s, buf + 40, 64, 4);
	put(&s, buf + 44, 0, 4);
	chain(&s, (struct seg[]){ { buf, 48, false }, { buf + 0x80, 1, true } }, 2);
	hdr(&s, buf + 0x1000, VIRTIO_BLK_T_WRITE_ZEROES, 0);
	put(&s, buf + 0x1010, 16, 8);
	put(&s, buf + 0x1018, 16, 4);
	put(&s, buf + 0x101c, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP, 4);
	put(&s, buf + 0x1020, 120, 8);
	put(&s, buf + 0x1028, 8, 4);
	put(&s, buf + 0x102c, 0, 4);
	chain(&s, (struct seg[]){ { buf + 0x1000, 48, false }, { buf + 0x1080, 1, true } }, 2);
	err |= save(&s, argv[1], "discard-write-zeroes");

	/* a request in an indirect table, with event indices */
	seed_init(&s, F_INDIRECT | F_EVENT_IDX | F_FLUSH, 2);
	hdr(&s, buf, VIRTIO_BLK_T_IN, 1);
	desc_at(&s, buf + 0x800, 0, buf, 16, VRING_DESC_F_NEXT, 1);
	desc_at(&s, buf + 0x800, 1, buf + 0x200, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	desc_at(&s, buf + 0x800, 2, buf + 0x80, 1, VRING_DESC_F_WRITE, 0);
	desc_at(&s, DESC_GPA, 0, buf + 0x800, 48, VRING_DESC_F_INDIRECT, 0);
	put(&s, AVAIL_GPA + 4, 0, 2);
	put(&s, AVAIL_GPA + 2, 1, 2);
	put(&s, AVAIL_GPA + 4 + 2 * 4, 0, 2); /* used_event */
	err |= save(&s, argv[1], "indirect");

	/* a driver bug: the status has nowhere to go (no writable byte) */
	seed_init(&s, F_FLUSH, 1);
	hdr(&s, buf, VIRTIO_BLK_T_OUT, 0);
	chain(&s, (struct seg[]){ { buf, 16, false }, { buf + 0x200, 512, false } }, 2);
	err |= save(&s, argv[1], "no-status");

	/* a full ring: 16 one-sector reads, the status sharing the data segment */
	seed_init(&s, F_FLUSH, 5);
	for (unsigned int i = 0; i < 16; i++) {
		uint32_t at = buf + 0x400 * i;

		hdr(&s, at, VIRTIO_BLK_T_IN, i);
		chain(&s, (struct seg[]){ { at, 16, false }, { at + 0x100, 513, true } }, 2);
	}
	err |= save(&s, argv[1], "full-ring");
	return err;
}

#endif
