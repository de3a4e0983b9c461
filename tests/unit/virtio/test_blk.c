/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk against a fake transport: the test plays the driver, writing descriptor
 * chains into a split ring in real guest memory, kicking the queue's eventfd and waiting
 * for the used ring to move, with each engine (loop index 0: thread, 1: io_uring).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <linux/virtio_ring.h>

#include "capture.h"
#include "check_main.h"
#include "driver.h"
#include "virtio/blk/blk.h"

#define IMG_SECTORS 2048ull /* 1 MiB */
#define SERIAL "VMM-SERIAL-0042"

/* ------------------------------------------------------------------------------------ */
/* The device under test and the driver side (driver.h) */

static struct blk blk;
static char *image;
static unsigned int nqueues;
static char err[512];
static bool use_event_idx;

/* One request: header, data (one segment, device-writable for reads), status. */
struct req {
	uint64_t hdr, data, status;
	uint32_t len;
};

static struct req make_req(uint32_t len)
{
	struct req r = { .len = len };

	r.hdr = alloc_gpa(16);
	r.data = len ? alloc_gpa(len) : 0;
	r.status = alloc_gpa(1);
	*(uint8_t *)gpa(r.status, 1) = 0xff;
	return r;
}

static void put_hdr(uint64_t at, uint32_t type, uint64_t sector)
{
	struct virtio_blk_outhdr h = {
		.type = htole32(type),
		.ioprio = 0,
		.sector = htole64(sector),
	};

	memcpy(gpa(at, sizeof(h)), &h, sizeof(h));
}

static uint16_t queue_req(unsigned int q, const struct req *r, uint32_t type, uint64_t sector,
			  bool data_write)
{
	struct seg s[3];
	unsigned int n = 0;

	put_hdr(r->hdr, type, sector);
	s[n++] = (struct seg){ r->hdr, 16, false };
	if (r->len)
		s[n++] = (struct seg){ r->data, r->len, data_write };
	s[n++] = (struct seg){ r->status, 1, true };
	return add_chain(q, s, n);
}

/* Run one request to completion; returns the status byte, *used_len the used length. */
static uint8_t do_req(unsigned int q, const struct req *r, uint32_t type, uint64_t sector,
		      bool data_write, uint32_t *used_len)
{
	uint16_t head = queue_req(q, r, type, sector, data_write);
	struct vring_used_elem e;

	kick(q);
	wait_used(q, 1);
	e = used_elem(q, 0);
	ck_assert_uint_eq(e.id, head);
	drv[q].used_seen++;
	if (used_len)
		*used_len = e.len;
	return *(uint8_t *)gpa(r->status, 1);
}

static uint8_t rw(uint32_t type, uint64_t sector, void *buf, uint32_t len, uint32_t *used_len)
{
	struct req r = make_req(len);
	uint8_t st;

	if (type == VIRTIO_BLK_T_OUT)
		memcpy(gpa(r.data, len), buf, len);
	else if (len)
		memset(gpa(r.data, len), 0xcc, len);
	st = do_req(0, &r, type, sector, type != VIRTIO_BLK_T_OUT, used_len);
	if (type == VIRTIO_BLK_T_IN && len)
		memcpy(buf, gpa(r.data, len), len);
	return st;
}

/* ------------------------------------------------------------------------------------ */
/* Image and device set-up */

static uint8_t pat(uint64_t off)
{
	return (uint8_t)(off * 13 + off / 512 + 1);
}

static char *make_image(uint64_t size)
{
	const char *dir = getenv("TMPDIR");
	char *path = malloc(4096);
	uint8_t *buf = malloc(size);
	int fd;

	ck_assert_ptr_nonnull(path);
	ck_assert_ptr_nonnull(buf);
	snprintf(path, 4096, "%s/vmm-blk-test-XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	for (uint64_t i = 0; i < size; i++)
		buf[i] = pat(i);
	ck_assert_int_eq(pwrite(fd, buf, size, 0), (ssize_t)size);
	close(fd);
	free(buf);
	return path;
}

static void file_read(uint64_t off, void *buf, size_t len)
{
	int fd = open(image, O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	memset(buf, 0xee, len);
	ck_assert_int_ge(pread(fd, buf, len, (off_t)off), 0);
	close(fd);
}

static uint64_t file_size(void)
{
	struct stat st;

	ck_assert_int_eq(stat(image, &st), 0);
	return (uint64_t)st.st_size;
}

static void start_queues(void)
{
	for (unsigned int q = 0; q < nqueues; q++) {
		ring_setup(q, use_event_idx);
		ck_assert_int_eq(vdev->ops->queue_start(vdev, q, kick_fd[q]), 0);
	}
}

/* A device over an image of size bytes, driver features = all offered but strip. */
static void start_dev(int engine, uint64_t size, bool readonly, unsigned int nq, uint64_t strip)
{
	struct disk_options o = { .readonly = readonly, .serial = SERIAL };

	/* io_uring where the host has it; the fallback otherwise (the loop still runs) */
	setenv("VMM_DISK_ENGINE", engine ? "auto" : "thread", 1);
	image = make_image(size);
	snprintf(o.path, sizeof(o.path), "%s", image);
	ck_assert_int_eq(guest_mem_alloc(&mem, 32 * MiB), 0);
	data_next = MiB;
	ck_assert_msg(blk_init(&blk, &vdev, &o, nq, &mem, err, sizeof(err)) == 0, "%s", err);
	vdev->transport = &transport;
	vdev->driver_features = vdev->device_features & ~strip;
	nqueues = nq;
	for (unsigned int q = 0; q < nq; q++) {
		/*
		 * Non-blocking like the PCI transport's, except queue 1: a blocking one must
		 * work too (the engines never read an eventfd that is not ready).
		 */
		kick_fd[q] = eventfd(0, EFD_CLOEXEC | (q == 1 ? 0 : EFD_NONBLOCK));
		ck_assert_int_ge(kick_fd[q], 0);
	}
	start_queues();
	ck_assert_str_eq(blk_queue_engine(&blk, 0), engine ? blk_queue_engine(&blk, 0) : "thread");
	if (engine && strcmp(blk_queue_engine(&blk, 0), "io_uring"))
		fprintf(stderr, "test_blk: io_uring unavailable here; loop 1 ran the fallback\n");
}

static void teardown(void)
{
	if (vdev) {
		vdev->ops->reset(vdev);
		blk_destroy(&blk);
		vdev = NULL;
	}
	for (unsigned int q = 0; q < 4; q++) {
		if (kick_fd[q] >= 0)
			close(kick_fd[q]);
		kick_fd[q] = -1;
	}
	guest_mem_free(&mem);
	if (image) {
		unlink(image);
		free(image);
		image = NULL;
	}
}

/* ------------------------------------------------------------------------------------ */
/* Tests */

START_TEST(test_config)
{
	uint8_t cfg[128];
	struct virtio_blk_config c;

	start_dev(_i, IMG_SECTORS * 512 + 100, false, 2, 0);
	ck_assert_uint_eq(vdev->device_id, 2);
	ck_assert_uint_eq(vdev->num_queues, 2);
	ck_assert_uint_eq(vdev->queue_max_size, BLK_QUEUE_SIZE);
	ck_assert_uint_eq(vdev->config_size, 60);
	ck_assert(vdev->device_features & (1ull << VIRTIO_BLK_F_SEG_MAX));
	ck_assert(vdev->device_features & (1ull << VIRTIO_BLK_F_BLK_SIZE));
	ck_assert(vdev->device_features & (1ull << VIRTIO_BLK_F_FLUSH));
	ck_assert(vdev->device_features & (1ull << VIRTIO_BLK_F_DISCARD));
	ck_assert(vdev->device_features & (1ull << VIRTIO_BLK_F_WRITE_ZEROES));
	ck_assert(vdev->device_features & (1ull << VIRTIO_BLK_F_MQ));
	ck_assert(!(vdev->device_features & (1ull << VIRTIO_BLK_F_RO)));
	/* the transport's bits are not ours to offer */
	ck_assert_uint_eq(vdev->device_features >> 24, 0);

	memset(cfg, 0xaa, sizeof(cfg));
	virtio_config_read(vdev, 0, cfg, 60);
	memcpy(&c, cfg, 60);
	ck_assert_uint_eq(le64toh(c.capacity), IMG_SECTORS + 1); /* partial sector rounds up */
	ck_assert_uint_eq(le32toh(c.seg_max), VIRTQ_MAX_SEGMENTS - 2);
	ck_assert_uint_eq(le32toh(c.blk_size), 512);
	ck_assert_uint_eq(le16toh(c.num_queues), 2);
	ck_assert_uint_eq(le32toh(c.max_discard_sectors), BLK_DWZ_SECTORS_MAX);
	ck_assert_uint_eq(le32toh(c.max_discard_seg), BLK_DWZ_SEG_MAX);
	ck_assert_uint_ge(le32toh(c.discard_sector_alignment), 1);
	ck_assert_uint_eq(le32toh(c.max_write_zeroes_sectors), BLK_DWZ_SECTORS_MAX);
	ck_assert_uint_eq(le32toh(c.max_write_zeroes_seg), BLK_DWZ_SEG_MAX);
	ck_assert_uint_eq(c.write_zeroes_may_unmap, 1);
	ck_assert_uint_eq(c.wce, 0);

	/* piecewise, across the end, and past it: zeros, never anything else */
	memset(cfg, 0xaa, sizeof(cfg));
	virtio_config_read(vdev, 0, cfg, 4);
	ck_assert_uint_eq(cfg[0], (IMG_SECTORS + 1) & 0xff);
	memset(cfg, 0xaa, sizeof(cfg));
	virtio_config_read(vdev, 56, cfg, 4);
	ck_assert_uint_eq(cfg[0], 1); /* write_zeroes_may_unmap */
	for (int i = 1; i < 4; i++)
		ck_assert_uint_eq(cfg[i], 0);
	memset(cfg, 0xaa, sizeof(cfg));
	virtio_config_read(vdev, 58, cfg, 4); /* across the end: all zeros */
	virtio_config_read(vdev, 60, cfg + 4, 4);
	virtio_config_read(vdev, 4096, cfg + 8, 4);
	virtio_config_read(vdev, UINT64_MAX - 1, cfg + 12, 4);
	for (int i = 0; i < 16; i++)
		ck_assert_uint_eq(cfg[i], 0);
}
END_TEST

START_TEST(test_config_readonly_single)
{
	struct virtio_blk_config c;

	start_dev(_i, IMG_SECTORS * 512, true, 1, 0);
	ck_assert(vdev->device_features & (1ull << VIRTIO_BLK_F_RO));
	ck_assert(!(vdev->device_features & (1ull << VIRTIO_BLK_F_MQ)));
	ck_assert(!(vdev->device_features & (1ull << VIRTIO_BLK_F_DISCARD)));
	ck_assert(!(vdev->device_features & (1ull << VIRTIO_BLK_F_WRITE_ZEROES)));
	virtio_config_read(vdev, 0, &c, 60);
	ck_assert_uint_eq(le64toh(c.capacity), IMG_SECTORS);
	ck_assert_uint_eq(le16toh(c.num_queues), 1);
}
END_TEST

START_TEST(test_read_write)
{
	static uint8_t out[16384], in[16384], file[16384];
	uint32_t len;

	start_dev(_i, IMG_SECTORS * 512, false, 1, 0);
	/* the image as it was */
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_IN, 8, in, 4096, &len), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(len, 4097);
	for (int i = 0; i < 4096; i++)
		ck_assert_uint_eq(in[i], pat(8 * 512 + i));

	for (unsigned int i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 31 + 7);
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_OUT, 100, out, sizeof(out), &len), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(len, 1);
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_IN, 100, in, sizeof(in), &len), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(len, sizeof(in) + 1);
	ck_assert_mem_eq(in, out, sizeof(out));
	file_read(100 * 512, file, sizeof(file));
	ck_assert_mem_eq(file, out, sizeof(out));
	/* neighbours untouched */
	file_read(99 * 512, file, 512);
	ck_assert_uint_eq(file[511], pat(100 * 512 - 1));
	file_read(132 * 512, file, 512);
	ck_assert_uint_eq(file[0], pat(132 * 512));
	/* the last sector, and a zero-length read */
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_IN, IMG_SECTORS - 1, in, 512, NULL), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(in[511], pat(IMG_SECTORS * 512 - 1));
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_IN, 0, in, 0, &len), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(len, 1);
	ck_assert_int_eq(__atomic_load_n(&needs_reset, __ATOMIC_SEQ_CST), 0);
	wait_notify(0, 1);
}
END_TEST

START_TEST(test_readonly)
{
	static uint8_t buf[4096], file[4096];
	struct req r;
	uint32_t len;

	start_dev(_i, IMG_SECTORS * 512, true, 1, 0);
	memset(buf, 0x11, sizeof(buf));
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_OUT, 0, buf, sizeof(buf), &len), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(len, 1);
	file_read(0, file, sizeof(file));
	for (int i = 0; i < 4096; i++)
		ck_assert_uint_eq(file[i], pat(i));
	/* reads work, a flush is fine, discarding was not offered */
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_IN, 0, buf, sizeof(buf), NULL), VIRTIO_BLK_S_OK);
	ck_assert_mem_eq(buf, file, sizeof(buf));
	r = make_req(0);
	ck_assert_uint_eq(do_req(0, &r, VIRTIO_BLK_T_FLUSH, 0, false, &len), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(len, 1);
	r = make_req(16);
	memset(gpa(r.data, 16), 0, 16);
	ck_assert_uint_eq(do_req(0, &r, VIRTIO_BLK_T_DISCARD, 0, false, NULL), VIRTIO_BLK_S_UNSUPP);
	ck_assert_uint_eq(do_req(0, &r, VIRTIO_BLK_T_WRITE_ZEROES, 0, false, NULL),
			  VIRTIO_BLK_S_UNSUPP);
	/* and the driver cannot talk us into it by accepting features we did not offer */
	vdev->driver_features |=
		(1ull << VIRTIO_BLK_F_DISCARD) | (1ull << VIRTIO_BLK_F_WRITE_ZEROES);
	ck_assert_uint_eq(do_req(0, &r, VIRTIO_BLK_T_WRITE_ZEROES, 0, false, NULL),
			  VIRTIO_BLK_S_IOERR);
	file_read(0, file, 16);
	ck_assert_uint_eq(file[0], pat(0));
}
END_TEST

START_TEST(test_out_of_range)
{
	static uint8_t buf[1024], before[IMG_SECTORS * 512], after[IMG_SECTORS * 512];

	start_dev(_i, IMG_SECTORS * 512, false, 1, 0);
	file_read(0, before, sizeof(before));
	memset(buf, 0x99, sizeof(buf));
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_OUT, IMG_SECTORS, buf, 512, NULL), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_OUT, IMG_SECTORS - 1, buf, 1024, NULL),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_IN, IMG_SECTORS, buf, 512, NULL), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_IN, IMG_SECTORS - 1, buf, 1024, NULL),
			  VIRTIO_BLK_S_IOERR);
	/* sector * 512 + len wrapping around 2^64 */
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_OUT, UINT64_MAX / 512 + 1, buf, 512, NULL),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_OUT, UINT64_MAX - 1, buf, 1024, NULL),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_IN, UINT64_MAX, buf, 512, NULL), VIRTIO_BLK_S_IOERR);
	/* not a whole number of sectors */
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_OUT, 0, buf, 100, NULL), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_IN, 0, buf, 513, NULL), VIRTIO_BLK_S_IOERR);
	/* the last whole sector is fine */
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_IN, IMG_SECTORS - 1, buf, 512, NULL), VIRTIO_BLK_S_OK);

	file_read(0, after, sizeof(after));
	ck_assert_mem_eq(before, after, sizeof(before));
	ck_assert_uint_eq(file_size(), IMG_SECTORS * 512);
	ck_assert_int_eq(__atomic_load_n(&needs_reset, __ATOMIC_SEQ_CST), 0);
}
END_TEST

START_TEST(test_flush)
{
	struct req r;
	uint32_t len = 0;

	start_dev(_i, IMG_SECTORS * 512, false, 1, 0);
	r = make_req(0);
	ck_assert_uint_eq(do_req(0, &r, VIRTIO_BLK_T_FLUSH, 0, false, &len), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(len, 1);
}
END_TEST

START_TEST(test_writethrough_without_flush)
{
	static uint8_t buf[8192], in[8192];

	/* the driver did not take FLUSH: every write is made durable before it completes */
	start_dev(_i, IMG_SECTORS * 512, false, 1, 1ull << VIRTIO_BLK_F_FLUSH);
	ck_assert(blk.queues[0].writethrough);
	memset(buf, 0x3c, sizeof(buf));
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_OUT, 64, buf, sizeof(buf), NULL), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_IN, 64, in, sizeof(in), NULL), VIRTIO_BLK_S_OK);
	ck_assert_mem_eq(in, buf, sizeof(buf));
}
END_TEST

START_TEST(test_get_id)
{
	struct req r;
	uint8_t *id;
	uint32_t len;

	start_dev(_i, IMG_SECTORS * 512, false, 1, 0);
	/* 20 bytes: the serial, NUL-padded */
	r = make_req(20);
	id = gpa(r.data, 20);
	memset(id, 0xff, 20);
	ck_assert_uint_eq(do_req(0, &r, VIRTIO_BLK_T_GET_ID, 0, true, &len), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(len, 21);
	ck_assert_mem_eq(id, SERIAL, strlen(SERIAL));
	for (size_t i = strlen(SERIAL); i < 20; i++)
		ck_assert_uint_eq(id[i], 0);

	/* a bigger buffer: 20 bytes written, the rest left alone */
	r = make_req(64);
	id = gpa(r.data, 64);
	memset(id, 0xff, 64);
	ck_assert_uint_eq(do_req(0, &r, VIRTIO_BLK_T_GET_ID, 0, true, &len), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(len, 21);
	ck_assert_mem_eq(id, SERIAL, strlen(SERIAL));
	ck_assert_uint_eq(id[19], 0);
	ck_assert_uint_eq(id[20], 0xff);

	/* a smaller one: as much as fits */
	r = make_req(8);
	id = gpa(r.data, 8);
	ck_assert_uint_eq(do_req(0, &r, VIRTIO_BLK_T_GET_ID, 0, true, &len), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(len, 9);
	ck_assert_mem_eq(id, SERIAL, 8);

	/* the ID and the status byte in one segment */
	{
		uint64_t h = alloc_gpa(16), d = alloc_gpa(21);
		struct seg s[2] = { { h, 16, false }, { d, 21, true } };
		uint8_t *p = gpa(d, 21);

		memset(p, 0xff, 21);
		put_hdr(h, VIRTIO_BLK_T_GET_ID, 0);
		add_chain(0, s, 2);
		kick(0);
		wait_used(0, 1);
		ck_assert_uint_eq(used_elem(0, 0).len, 21);
		drv[0].used_seen++;
		ck_assert_mem_eq(p, SERIAL, strlen(SERIAL));
		ck_assert_uint_eq(p[19], 0);
		ck_assert_uint_eq(p[20], VIRTIO_BLK_S_OK);
	}
}
END_TEST

static void put_range(uint64_t at, uint64_t sector, uint32_t n, uint32_t flags)
{
	struct virtio_blk_discard_write_zeroes r = {
		.sector = htole64(sector),
		.num_sectors = htole32(n),
		.flags = htole32(flags),
	};

	memcpy(gpa(at, sizeof(r)), &r, sizeof(r));
}

static void expect_zero(uint64_t sector, uint64_t n, bool zero)
{
	static uint8_t buf[64 * 512];

	ck_assert_uint_le(n * 512, sizeof(buf));
	file_read(sector * 512, buf, n * 512);
	for (uint64_t i = 0; i < n * 512; i++)
		ck_assert_msg(buf[i] == (zero ? 0 : pat(sector * 512 + i)),
			      "sector %llu byte %llu: %u", (unsigned long long)sector,
			      (unsigned long long)i, buf[i]);
}

START_TEST(test_discard_write_zeroes)
{
	static uint8_t before[IMG_SECTORS * 512], after[IMG_SECTORS * 512];
	struct req r;
	uint32_t len;

	start_dev(_i, IMG_SECTORS * 512, false, 1, 0);

	/* discard one range */
	r = make_req(16);
	put_range(r.data, 16, 16, 0);
	ck_assert_uint_eq(do_req(0, &r, VIRTIO_BLK_T_DISCARD, 0, false, &len), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(len, 1);
	expect_zero(15, 1, false);
	expect_zero(16, 16, true);
	expect_zero(32, 1, false);

	/* write zeroes: two segments in one request, one with unmap */
	r = make_req(32);
	put_range(r.data, 100, 3, 0);
	put_range(r.data + 16, 200, 9, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	ck_assert_uint_eq(do_req(0, &r, VIRTIO_BLK_T_WRITE_ZEROES, 0, false, &len),
			  VIRTIO_BLK_S_OK);
	expect_zero(99, 1, false);
	expect_zero(100, 3, true);
	expect_zero(103, 1, false);
	expect_zero(199, 1, false);
	expect_zero(200, 9, true);
	expect_zero(209, 1, false);
	/* and the guest sees them too */
	{
		static uint8_t buf[512];

		ck_assert_uint_eq(rw(VIRTIO_BLK_T_IN, 101, buf, 512, NULL), VIRTIO_BLK_S_OK);
		for (int i = 0; i < 512; i++)
			ck_assert_uint_eq(buf[i], 0);
	}
	/* a zero-length segment is a no-op */
	r = make_req(16);
	put_range(r.data, 300, 0, 0);
	ck_assert_uint_eq(do_req(0, &r, VIRTIO_BLK_T_WRITE_ZEROES, 0, false, NULL),
			  VIRTIO_BLK_S_OK);
	expect_zero(300, 1, false);

	/* refused without touching anything */
	file_read(0, before, sizeof(before));
	r = make_req(16);
	put_range(r.data, 0, 8, 2); /* unknown flag */
	ck_assert_uint_eq(do_req(0, &r, VIRTIO_BLK_T_WRITE_ZEROES, 0, false, NULL),
			  VIRTIO_BLK_S_UNSUPP);
	ck_assert_uint_eq(do_req(0, &r, VIRTIO_BLK_T_DISCARD, 0, false, NULL), VIRTIO_BLK_S_UNSUPP);
	put_range(r.data, 0, 8, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP); /* unmap on discard */
	ck_assert_uint_eq(do_req(0, &r, VIRTIO_BLK_T_DISCARD, 0, false, NULL), VIRTIO_BLK_S_UNSUPP);
	put_range(r.data, IMG_SECTORS - 4, 8, 0); /* past the end */
	ck_assert_uint_eq(do_req(0, &r, VIRTIO_BLK_T_DISCARD, 0, false, NULL), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(do_req(0, &r, VIRTIO_BLK_T_WRITE_ZEROES, 0, false, NULL),
			  VIRTIO_BLK_S_IOERR);
	put_range(r.data, UINT64_MAX - 2, 8, 0); /* wrapping */
	ck_assert_uint_eq(do_req(0, &r, VIRTIO_BLK_T_WRITE_ZEROES, 0, false, NULL),
			  VIRTIO_BLK_S_IOERR);
	put_range(r.data, 0, BLK_DWZ_SECTORS_MAX + 1, 0); /* more than max_*_sectors */
	ck_assert_uint_eq(do_req(0, &r, VIRTIO_BLK_T_WRITE_ZEROES, 0, false, NULL),
			  VIRTIO_BLK_S_IOERR);
	/* a good segment, then a bad one: nothing is done */
	r = make_req(32);
	put_range(r.data, 0, 8, 0);
	put_range(r.data + 16, IMG_SECTORS, 1, 0);
	ck_assert_uint_eq(do_req(0, &r, VIRTIO_BLK_T_WRITE_ZEROES, 0, false, NULL),
			  VIRTIO_BLK_S_IOERR);
	/* not a whole number of segments; none at all */
	r = make_req(15);
	ck_assert_uint_eq(do_req(0, &r, VIRTIO_BLK_T_DISCARD, 0, false, NULL), VIRTIO_BLK_S_IOERR);
	r = make_req(0);
	ck_assert_uint_eq(do_req(0, &r, VIRTIO_BLK_T_DISCARD, 0, false, NULL), VIRTIO_BLK_S_IOERR);
	/* more segments than max_discard_seg */
	r = make_req(16 * (BLK_DWZ_SEG_MAX + 1));
	for (unsigned int i = 0; i <= BLK_DWZ_SEG_MAX; i++)
		put_range(r.data + 16 * i, i, 1, 0);
	ck_assert_uint_eq(do_req(0, &r, VIRTIO_BLK_T_DISCARD, 0, false, NULL), VIRTIO_BLK_S_IOERR);
	file_read(0, after, sizeof(after));
	ck_assert_mem_eq(before, after, sizeof(before));

	/* not negotiated: unsupported */
	vdev->driver_features &= ~(1ull << VIRTIO_BLK_F_DISCARD);
	r = make_req(16);
	put_range(r.data, 0, 8, 0);
	ck_assert_uint_eq(do_req(0, &r, VIRTIO_BLK_T_DISCARD, 0, false, NULL), VIRTIO_BLK_S_UNSUPP);
	expect_zero(0, 8, false);
	ck_assert_uint_eq(file_size(), IMG_SECTORS * 512);
}
END_TEST

/*
 * A host write error (here EFBIG: RLIMIT_FSIZE stops writes at 512 KiB, the way a full
 * file system stops them with ENOSPC) reaches the guest as IOERR with nothing but the
 * status byte used, is logged once however often it happens, and leaves the device
 * working. SIGXFSZ stays at its default (terminate): only threads that block every
 * signal may write to the image, so the signal the kernel sends can never kill the VMM.
 */
START_TEST(test_host_write_error)
{
	static uint8_t buf[8192], file[8192];
	const uint64_t limit = IMG_SECTORS * 512 / 2;
	struct rlimit rl = { .rlim_cur = limit, .rlim_max = RLIM_INFINITY };
	const char *dir = getenv("TMPDIR");
	char log[4096];
	int log_fd, saved = dup(2);
	uint32_t len;
	FILE *f;
	int lines = 0, c;

	snprintf(log, sizeof(log), "%s/vmm-blk-log-XXXXXX", dir && *dir ? dir : "/tmp");
	log_fd = mkstemp(log);
	ck_assert_int_ge(log_fd, 0);
	ck_assert_int_ge(saved, 0);
	start_dev(_i, IMG_SECTORS * 512, false, 1, 0);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	ck_assert_int_ge(dup2(log_fd, 2), 0);
	memset(buf, 0x5a, sizeof(buf));
	/* wholly past the limit, twice */
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_OUT, limit / 512, buf, 4096, &len), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(len, 1);
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_OUT, limit / 512 + 64, buf, 4096, &len),
			  VIRTIO_BLK_S_IOERR);
	/* across it: the first part is written, then the rest fails */
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_OUT, limit / 512 - 8, buf, sizeof(buf), &len),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(len, 1);
	/* below it, and reads anywhere, still work */
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_OUT, 0, buf, 4096, &len), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_IN, limit / 512, file, 4096, &len), VIRTIO_BLK_S_OK);
	for (int i = 0; i < 4096; i++)
		ck_assert_uint_eq(file[i], pat(limit + (uint64_t)i));
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rl.rlim_cur = RLIM_INFINITY;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	file_read(0, file, 4096);
	ck_assert_mem_eq(file, buf, 4096);
	ck_assert_int_eq(__atomic_load_n(&needs_reset, __ATOMIC_SEQ_CST), 0);

	f = fdopen(log_fd, "r");
	ck_assert_ptr_nonnull(f);
	rewind(f);
	while ((c = fgetc(f)) != EOF)
		lines += c == '\n';
	ck_assert_int_eq(lines, 1);
	rewind(f);
	ck_assert_ptr_nonnull(fgets((char *)file, sizeof(file), f));
	ck_assert_ptr_nonnull(strstr((char *)file, image));
	ck_assert_ptr_nonnull(strstr((char *)file, strerror(EFBIG)));
	fclose(f);
	unlink(log);
}
END_TEST

START_TEST(test_unknown_type)
{
	uint32_t types[] = { 2, 3, 5, 10, 14, 16, 0x80000001u, UINT32_MAX };
	static uint8_t buf[512];

	start_dev(_i, IMG_SECTORS * 512, false, 1, 0);
	for (unsigned int i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct req r = make_req(512);
		uint32_t len;

		memset(gpa(r.data, 512), 0x5a, 512);
		ck_assert_uint_eq(do_req(0, &r, types[i], 0, true, &len), VIRTIO_BLK_S_UNSUPP);
		ck_assert_uint_eq(len, 1);
		ck_assert_uint_eq(*(uint8_t *)gpa(r.data, 1), 0x5a);
	}
	file_read(0, buf, sizeof(buf));
	ck_assert_uint_eq(buf[0], pat(0));
}
END_TEST

START_TEST(test_split_header)
{
	static uint8_t out[1024], in[1024];
	uint64_t h = 0, d, st;
	struct vring_used_elem e;
	struct virtio_blk_outhdr hdr;

	start_dev(_i, IMG_SECTORS * 512, false, 1, 0);
	for (unsigned int i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i ^ 0x5c);

	/* a write: header split 7 + 9 over two descriptors, data in two more */
	hdr = (struct virtio_blk_outhdr){ htole32(VIRTIO_BLK_T_OUT), 0, htole64(40) };
	h = alloc_gpa(64);
	d = alloc_gpa(1024);
	st = alloc_gpa(1);
	memcpy(gpa(h, 7), &hdr, 7);
	memcpy(gpa(h + 32, 9), (uint8_t *)&hdr + 7, 9);
	memcpy(gpa(d, 1024), out, 1024);
	{
		struct seg s[] = { { h, 7, false },
				   { h + 32, 9, false },
				   { d, 300, false },
				   { d + 300, 724, false },
				   { st, 1, true } };

		add_chain(0, s, 5);
	}
	kick(0);
	wait_used(0, 1);
	drv[0].used_seen++;
	ck_assert_uint_eq(*(uint8_t *)gpa(st, 1), VIRTIO_BLK_S_OK);

	/* a read: header and the first data bytes in one readable descriptor is wrong for a
	 * read (data must be writable), so: header split 15 + 1, data 1024 writable */
	hdr = (struct virtio_blk_outhdr){ htole32(VIRTIO_BLK_T_IN), 0, htole64(40) };
	memcpy(gpa(h, 15), &hdr, 15);
	memcpy(gpa(h + 32, 1), (uint8_t *)&hdr + 15, 1);
	memset(gpa(d, 1024), 0, 1024);
	{
		struct seg s[] = {
			{ h, 15, false }, { h + 32, 1, false }, { d, 1024, true }, { st, 1, true }
		};

		add_chain(0, s, 4);
	}
	kick(0);
	wait_used(0, 1);
	e = used_elem(0, 0);
	drv[0].used_seen++;
	ck_assert_uint_eq(e.len, 1025);
	ck_assert_uint_eq(*(uint8_t *)gpa(st, 1), VIRTIO_BLK_S_OK);
	memcpy(in, gpa(d, 1024), 1024);
	ck_assert_mem_eq(in, out, 1024);

	/* a write whose header and data share one descriptor */
	hdr = (struct virtio_blk_outhdr){ htole32(VIRTIO_BLK_T_OUT), 0, htole64(50) };
	memcpy(gpa(d, 16), &hdr, 16);
	memcpy(gpa(d + 16, 512), out + 512, 512);
	{
		struct seg s[] = { { d, 16 + 512, false }, { st, 1, true } };

		add_chain(0, s, 2);
	}
	kick(0);
	wait_used(0, 1);
	drv[0].used_seen++;
	ck_assert_uint_eq(*(uint8_t *)gpa(st, 1), VIRTIO_BLK_S_OK);
	file_read(50 * 512, in, 512);
	ck_assert_mem_eq(in, out + 512, 512);
}
END_TEST

START_TEST(test_status_shares_segment)
{
	static uint8_t in[1024];
	uint64_t h, d;
	struct vring_used_elem e;
	uint8_t *p;

	start_dev(_i, IMG_SECTORS * 512, false, 1, 0);
	h = alloc_gpa(16);
	d = alloc_gpa(1025);
	p = gpa(d, 1025);
	memset(p, 0xcc, 1025);
	put_hdr(h, VIRTIO_BLK_T_IN, 3);
	{
		/* data 1024 + status in one writable buffer, with an empty one after it */
		struct seg s[] = { { h, 16, false }, { d, 1025, true }, { d + 2048, 0, true } };

		add_chain(0, s, 3);
	}
	kick(0);
	wait_used(0, 1);
	e = used_elem(0, 0);
	drv[0].used_seen++;
	ck_assert_uint_eq(e.len, 1025);
	ck_assert_uint_eq(p[1024], VIRTIO_BLK_S_OK);
	file_read(3 * 512, in, 1024);
	ck_assert_mem_eq(p, in, 1024);

	/* split the other way: 512 + (512 data + status) */
	memset(p, 0xcc, 1025);
	{
		struct seg s[] = { { h, 16, false }, { d, 512, true }, { d + 512, 513, true } };

		add_chain(0, s, 3);
	}
	kick(0);
	wait_used(0, 1);
	drv[0].used_seen++;
	ck_assert_uint_eq(p[1024], VIRTIO_BLK_S_OK);
	ck_assert_mem_eq(p, in, 1024);
}
END_TEST

START_TEST(test_malformed)
{
	uint64_t h, st, d;
	struct req r;

	start_dev(_i, IMG_SECTORS * 512, false, 1, 0);
	h = alloc_gpa(16);
	st = alloc_gpa(1);
	d = alloc_gpa(4096);

	/* header shorter than 16 bytes: IOERR (the status byte can still be written) */
	put_hdr(h, VIRTIO_BLK_T_IN, 0);
	*(uint8_t *)gpa(st, 1) = 0xff;
	{
		struct seg s[] = { { h, 12, false }, { st, 1, true } };

		add_chain(0, s, 2);
	}
	kick(0);
	wait_used(0, 1);
	ck_assert_uint_eq(used_elem(0, 0).len, 1);
	drv[0].used_seen++;
	ck_assert_uint_eq(*(uint8_t *)gpa(st, 1), VIRTIO_BLK_S_IOERR);

	/* a read with device-readable data; a write with device-writable data */
	r = make_req(512);
	ck_assert_uint_eq(do_req(0, &r, VIRTIO_BLK_T_IN, 0, false, NULL), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(do_req(0, &r, VIRTIO_BLK_T_OUT, 0, true, NULL), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(do_req(0, &r, VIRTIO_BLK_T_GET_ID, 0, false, NULL), VIRTIO_BLK_S_IOERR);
	ck_assert_int_eq(__atomic_load_n(&needs_reset, __ATOMIC_SEQ_CST), 0);

	/* no writable byte at all: nowhere to put a status, so the device needs a reset */
	put_hdr(h, VIRTIO_BLK_T_OUT, 0);
	{
		struct seg s[] = { { h, 16, false }, { d, 512, false }, { d + 512, 0, true } };

		add_chain(0, s, 3);
	}
	kick(0);
	for (int i = 0; i < 10000 && !__atomic_load_n(&needs_reset, __ATOMIC_SEQ_CST); i++)
		sleep_ms(1);
	ck_assert_int_eq(__atomic_load_n(&needs_reset, __ATOMIC_SEQ_CST), 1);
	ck_assert_uint_eq(used_idx(0), drv[0].used_seen); /* nothing pushed for it */
}
END_TEST

START_TEST(test_ring_error_needs_reset)
{
	struct vring_avail *avail;

	start_dev(_i, IMG_SECTORS * 512, false, 1, 0);
	/* the driver claims more entries than the ring holds */
	avail = gpa(drv[0].avail, 6 + 2 * QSIZE);
	__atomic_store_n(&avail->idx, htole16(QSIZE + 5), __ATOMIC_RELEASE);
	kick(0);
	for (int i = 0; i < 10000 && !__atomic_load_n(&needs_reset, __ATOMIC_SEQ_CST); i++)
		sleep_ms(1);
	ck_assert_int_eq(__atomic_load_n(&needs_reset, __ATOMIC_SEQ_CST), 1);
}
END_TEST

/* Break queue 0 with a two-descriptor loop, kick, and wait for NEEDS_RESET. */
static void break_with_loop(void)
{
	struct vring_desc *table = gpa(drv[0].desc, 16 * QSIZE);
	struct vring_avail *avail = gpa(drv[0].avail, 6 + 2 * QSIZE);
	uint64_t d = alloc_gpa(16);

	for (int i = 0; i < 2; i++) {
		table[i].addr = htole64(d);
		table[i].len = htole32(16);
		table[i].flags = htole16(VRING_DESC_F_NEXT);
		table[i].next = htole16((uint16_t)(1 - i));
	}
	avail->ring[0] = 0;
	__atomic_store_n(&avail->idx, htole16(1), __ATOMIC_RELEASE);
	kick(0);
	for (int i = 0; i < 10000 && !__atomic_load_n(&needs_reset, __ATOMIC_SEQ_CST); i++)
		sleep_ms(1);
	ck_assert_int_eq(__atomic_load_n(&needs_reset, __ATOMIC_SEQ_CST), 1);
}

/*
 * A driver that resets the device after every fault and breaks it again the same way
 * gets one log line for that kind of fault, not one per round; a new kind is logged.
 */
START_TEST(test_fault_logged_once_per_kind)
{
	static uint8_t buf[512];
	struct vring_avail *avail;
	FILE *f;
	int saved;

	start_dev(_i, IMG_SECTORS * 512, false, 1, 0);
	saved = capture_stderr(&f);
	for (int round = 0; round < 20; round++) {
		break_with_loop();
		vdev->ops->reset(vdev);
		__atomic_store_n(&needs_reset, 0, __ATOMIC_SEQ_CST);
		start_queues();
	}
	/* after all that the device still serves a request */
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_IN, 5, buf, 512, NULL), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(buf[0], pat(5 * 512));
	/* another kind of fault: more entries than the ring holds */
	avail = gpa(drv[0].avail, 6 + 2 * QSIZE);
	__atomic_store_n(&avail->idx, htole16((uint16_t)(drv[0].avail_idx + QSIZE + 1)),
			 __ATOMIC_RELEASE);
	kick(0);
	for (int i = 0; i < 10000 && !__atomic_load_n(&needs_reset, __ATOMIC_SEQ_CST); i++)
		sleep_ms(1);
	ck_assert_int_eq(__atomic_load_n(&needs_reset, __ATOMIC_SEQ_CST), 1);
	vdev->ops->reset(vdev);
	ck_assert_int_eq(captured_lines(f, saved, "driver error"), 2);
}
END_TEST

/* One pass on the calling thread (what the fuzzer uses): same requests, same answers. */
START_TEST(test_serve_on_calling_thread)
{
	struct req a, b;
	struct vring_used_elem e0, e1;
	uint16_t ha;

	start_dev(_i, IMG_SECTORS * 512, false, 1, 0);
	ck_assert_int_eq(blk_queue_serve(&blk, 0), -EBUSY); /* its thread serves it */
	ck_assert_int_eq(blk_queue_serve(&blk, 1), -EINVAL);
	vdev->ops->reset(vdev);
	ring_setup(0, use_event_idx);
	a = make_req(1024);
	b = make_req(512);
	ha = queue_req(0, &a, VIRTIO_BLK_T_IN, 8, true);
	queue_req(0, &b, VIRTIO_BLK_T_OUT, IMG_SECTORS, false); /* past the end */
	ck_assert_int_eq(blk_queue_serve(&blk, 0), 0);
	ck_assert_uint_eq(used_idx(0), 2);
	/* the error needs no I/O, so it may be answered first */
	e0 = used_elem(0, 0);
	e1 = used_elem(0, 1);
	ck_assert_uint_eq(e0.id == ha ? e0.len : e1.len, 1025);
	ck_assert_uint_eq(e0.id == ha ? e1.len : e0.len, 1);
	ck_assert_uint_eq(*(uint8_t *)gpa(a.status, 1), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(*(uint8_t *)gpa(a.data + 1023, 1), pat(8 * 512 + 1023));
	ck_assert_uint_eq(*(uint8_t *)gpa(b.status, 1), VIRTIO_BLK_S_IOERR);
	ck_assert_int_ge(nnotify(0), 1);
	ck_assert_int_eq(blk_queue_serve(&blk, 0), 0); /* nothing new */
	ck_assert_uint_eq(used_idx(0), 2);

	/* a chain with no writable byte: the driver broke the rules */
	put_hdr(a.hdr, VIRTIO_BLK_T_OUT, 0);
	{
		struct seg s[] = { { a.hdr, 16, false }, { a.data, 512, false } };

		add_chain(0, s, 2);
	}
	ck_assert_int_eq(blk_queue_serve(&blk, 0), -EPROTO);
	ck_assert_int_eq(__atomic_load_n(&needs_reset, __ATOMIC_SEQ_CST), 1);
	ck_assert_uint_eq(used_idx(0), 2);
}
END_TEST

START_TEST(test_odd_size_image)
{
	static uint8_t buf[1024];
	const uint64_t size = IMG_SECTORS * 512 + 100;

	start_dev(_i, size, false, 1, 0);
	/* the partial last sector reads as the file's 100 bytes and zeros */
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_IN, IMG_SECTORS - 1, buf, 1024, NULL), VIRTIO_BLK_S_OK);
	for (int i = 0; i < 612; i++)
		ck_assert_uint_eq(buf[i], pat((IMG_SECTORS - 1) * 512 + i));
	for (int i = 612; i < 1024; i++)
		ck_assert_uint_eq(buf[i], 0);
	/* beyond it: out of range */
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_IN, IMG_SECTORS, buf, 1024, NULL), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(file_size(), size);
	/* writing it grows the file to the sector boundary */
	memset(buf, 0x6b, 512);
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_OUT, IMG_SECTORS, buf, 512, NULL), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(file_size(), (IMG_SECTORS + 1) * 512);
	memset(buf, 0, 512);
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_IN, IMG_SECTORS, buf, 512, NULL), VIRTIO_BLK_S_OK);
	for (int i = 0; i < 512; i++)
		ck_assert_uint_eq(buf[i], 0x6b);
}
END_TEST

START_TEST(test_many_in_one_kick)
{
	enum { N = 80 };
	struct req r[N];
	uint8_t *p;

	start_dev(_i, IMG_SECTORS * 512, false, 1, 0);
	/* more than one pop batch, all made available before a single kick */
	for (int i = 0; i < N; i++) {
		r[i] = make_req(2048);
		if (i % 2) {
			memset(gpa(r[i].data, 2048), i, 2048);
			queue_req(0, &r[i], VIRTIO_BLK_T_OUT, 1000 + 4 * (uint64_t)i, false);
		} else {
			queue_req(0, &r[i], VIRTIO_BLK_T_IN, 4 * (uint64_t)i, true);
		}
	}
	kick(0);
	wait_used(0, N);
	drv[0].used_seen += N;
	for (int i = 0; i < N; i++) {
		ck_assert_uint_eq(*(uint8_t *)gpa(r[i].status, 1), VIRTIO_BLK_S_OK);
		if (i % 2 == 0) {
			p = gpa(r[i].data, 2048);
			for (int k = 0; k < 2048; k += 97)
				ck_assert_uint_eq(p[k], pat(4 * 512 * (uint64_t)i + k));
		}
	}
	for (int i = 1; i < N; i += 2) {
		static uint8_t f[2048];

		file_read((1000 + 4 * (uint64_t)i) * 512, f, 2048);
		ck_assert_uint_eq(f[0], (uint8_t)i);
		ck_assert_uint_eq(f[2047], (uint8_t)i);
	}
	wait_notify(0, 1);
	ck_assert_int_le(nnotify(0), N);
}
END_TEST

START_TEST(test_interrupt_suppressed)
{
	struct vring_avail *avail;
	static uint8_t buf[512];

	start_dev(_i, IMG_SECTORS * 512, false, 1, 0);
	ck_assert_uint_eq(rw(VIRTIO_BLK_T_IN, 0, buf, 512, NULL), VIRTIO_BLK_S_OK);
	wait_notify(0, 1);
	/* the driver polls: VRING_AVAIL_F_NO_INTERRUPT; no interrupt while it is set */
	avail = gpa(drv[0].avail, 6 + 2 * QSIZE);
	__atomic_store_n(&avail->flags, htole16(VRING_AVAIL_F_NO_INTERRUPT), __ATOMIC_SEQ_CST);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(rw(VIRTIO_BLK_T_IN, 0, buf, 512, NULL), VIRTIO_BLK_S_OK);
	sleep_ms(100);
	ck_assert_int_eq(nnotify(0), 1);
}
END_TEST

START_TEST(test_event_idx)
{
	uint16_t *used_event, *avail_event;
	static uint8_t buf[512];

	/* VIRTIO_F_EVENT_IDX negotiated: the driver says after which entry it wants a call */
	use_event_idx = true;
	start_dev(_i, IMG_SECTORS * 512, false, 1, 0);
	used_event = gpa(drv[0].avail + 4 + 2 * QSIZE, 2);
	avail_event = gpa(drv[0].used + 4 + 8 * QSIZE, 2);
	for (int i = 0; i < 3; i++) {
		__atomic_store_n(used_event, htole16((uint16_t)i), __ATOMIC_SEQ_CST);
		ck_assert_uint_eq(rw(VIRTIO_BLK_T_IN, 0, buf, 512, NULL), VIRTIO_BLK_S_OK);
		wait_notify(0, i + 1);
		/* and the device asks to be kicked for the next entry */
		ck_assert_uint_eq(le16toh(__atomic_load_n(avail_event, __ATOMIC_SEQ_CST)), i + 1);
	}
	/* used_event left behind: three more completions, no interrupt */
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(rw(VIRTIO_BLK_T_IN, 0, buf, 512, NULL), VIRTIO_BLK_S_OK);
	sleep_ms(100);
	ck_assert_int_eq(nnotify(0), 3);
}
END_TEST

START_TEST(test_multiqueue)
{
	struct req r0, r1;
	uint32_t len;

	start_dev(_i, IMG_SECTORS * 512, false, 3, 0);
	r1 = make_req(4096);
	ck_assert_uint_eq(do_req(2, &r1, VIRTIO_BLK_T_IN, 8, true, &len), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(len, 4097);
	ck_assert_uint_eq(*(uint8_t *)gpa(r1.data, 1), pat(8 * 512));
	wait_notify(2, 1);
	ck_assert_int_eq(nnotify(0), 0);
	r0 = make_req(512);
	memset(gpa(r0.data, 512), 0x12, 512);
	ck_assert_uint_eq(do_req(0, &r0, VIRTIO_BLK_T_OUT, 8, false, NULL), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(do_req(1, &r1, VIRTIO_BLK_T_IN, 8, true, NULL), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(*(uint8_t *)gpa(r1.data, 1), 0x12);
	wait_notify(0, 1);
	wait_notify(1, 1);
	ck_assert_int_eq(nnotify(2), 1);
	/* a started queue cannot be started twice; one past the end cannot be started */
	ck_assert_int_eq(vdev->ops->queue_start(vdev, 0, kick_fd[0]), -EBUSY);
	ck_assert_int_eq(vdev->ops->queue_start(vdev, 3, kick_fd[0]), -EINVAL);
}
END_TEST

START_TEST(test_reset_in_flight)
{
	enum { N = 60 };
	struct req r[N];
	uint16_t after;
	static uint8_t buf[512];

	start_dev(_i, IMG_SECTORS * 512, false, 2, 0);
	for (int round = 0; round < 3; round++) {
		/* big reads and writes, flushes and discards, then reset right after the kick */
		for (int i = 0; i < N; i++) {
			uint64_t sector = (uint64_t)(i % 15) * 128;

			r[i] = make_req(i % 4 == 3 ? 16 : 64 * 1024);
			switch (i % 4) {
			case 0:
				queue_req(i % 2, &r[i], VIRTIO_BLK_T_IN, sector, true);
				break;
			case 1:
				queue_req(i % 2, &r[i], VIRTIO_BLK_T_OUT, sector, false);
				break;
			case 2:
				queue_req(i % 2, &r[i], VIRTIO_BLK_T_FLUSH, 0, false);
				break;
			default:
				put_range(r[i].data, sector, 8, 0);
				queue_req(i % 2, &r[i], VIRTIO_BLK_T_DISCARD, 0, false);
				break;
			}
		}
		kick(0);
		kick(1);
		if (round == 1)
			sleep_ms(1);
		vdev->ops->reset(vdev);

		/* nothing moves in guest memory any more */
		after = used_idx(0);
		sleep_ms(50);
		ck_assert_uint_eq(used_idx(0), after);
		ck_assert_uint_le(used_idx(0), drv[0].used_seen + N / 2);
		ck_assert_uint_le(used_idx(1), drv[1].used_seen + N / 2);
		ck_assert_ptr_null(blk_queue_engine(&blk, 0));

		/* the driver sets the device up again, and it works */
		/* (a kick left in the eventfd from before is harmless: one more look) */
		data_next = MiB;
		start_queues();
		ck_assert_uint_eq(rw(VIRTIO_BLK_T_IN, 2047, buf, 512, NULL), VIRTIO_BLK_S_OK);
		ck_assert_uint_eq(buf[0], pat(2047 * 512)); /* no request above went there */
	}
	ck_assert_int_eq(__atomic_load_n(&needs_reset, __ATOMIC_SEQ_CST), 0);
}
END_TEST

START_TEST(test_reset_idle_and_twice)
{
	start_dev(_i, IMG_SECTORS * 512, false, 1, 0);
	vdev->ops->reset(vdev);
	vdev->ops->reset(vdev);
	/* a queue that is not enabled cannot start */
	virtq_reset(&vdev->queues[0]);
	ck_assert_int_eq(vdev->ops->queue_start(vdev, 0, kick_fd[0]), -EINVAL);
}
END_TEST

START_TEST(test_init_errors)
{
	struct disk_options o = { .readonly = false };
	struct virtio_device *v = NULL;
	struct blk b2;

	image = make_image(4096);
	snprintf(o.path, sizeof(o.path), "%s", image);
	ck_assert_int_eq(blk_init(&blk, &v, &o, 0, &mem, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(blk_init(&blk, &v, &o, DISK_MAX_QUEUES + 1, &mem, err, sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "queues"));
	ck_assert_int_eq(blk_init(&blk, &v, &o, DISK_MAX_QUEUES, &mem, err, sizeof(err)), 0);
	ck_assert_ptr_eq(v, &blk.vdev);
	/* the image is locked while the device holds it */
	ck_assert_int_eq(blk_init(&b2, &v, &o, 1, &mem, err, sizeof(err)), -EBUSY);
	ck_assert_ptr_nonnull(strstr(err, "in use by another process"));
	blk_destroy(&blk);
	ck_assert_int_eq(blk_init(&b2, &v, &o, 1, &mem, err, sizeof(err)), 0);
	blk_destroy(&b2);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("blk");
	TCase *tc = tcase_create("blk");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_config, 0, 2);
	tcase_add_loop_test(tc, test_config_readonly_single, 0, 2);
	tcase_add_loop_test(tc, test_read_write, 0, 2);
	tcase_add_loop_test(tc, test_readonly, 0, 2);
	tcase_add_loop_test(tc, test_out_of_range, 0, 2);
	tcase_add_loop_test(tc, test_flush, 0, 2);
	tcase_add_loop_test(tc, test_writethrough_without_flush, 0, 2);
	tcase_add_loop_test(tc, test_get_id, 0, 2);
	tcase_add_loop_test(tc, test_discard_write_zeroes, 0, 2);
	tcase_add_loop_test(tc, test_host_write_error, 0, 2);
	tcase_add_loop_test(tc, test_unknown_type, 0, 2);
	tcase_add_loop_test(tc, test_split_header, 0, 2);
	tcase_add_loop_test(tc, test_status_shares_segment, 0, 2);
	tcase_add_loop_test(tc, test_malformed, 0, 2);
	tcase_add_loop_test(tc, test_ring_error_needs_reset, 0, 2);
	tcase_add_loop_test(tc, test_fault_logged_once_per_kind, 0, 2);
	tcase_add_loop_test(tc, test_serve_on_calling_thread, 0, 2);
	tcase_add_loop_test(tc, test_odd_size_image, 0, 2);
	tcase_add_loop_test(tc, test_many_in_one_kick, 0, 2);
	tcase_add_loop_test(tc, test_interrupt_suppressed, 0, 2);
	tcase_add_loop_test(tc, test_event_idx, 0, 2);
	tcase_add_loop_test(tc, test_multiqueue, 0, 2);
	tcase_add_loop_test(tc, test_reset_in_flight, 0, 2);
	tcase_add_loop_test(tc, test_reset_idle_and_twice, 0, 2);
	tcase_add_test(tc, test_init_errors);
	suite_add_tcase(s, tc);
	return s;
}
