/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng: the token bucket on its own, then the device over a split ring in guest
 * memory, served pass by pass at chosen times (rng_queue_serve) and through its worker.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <linux/virtio_ring.h>

#include "check_main.h"
#include "virtio/rng/rng.h"

#define QSIZE 16u
#define RING 0x10000ull
#define DATA 0x100000ull
#define MS 1000000ull

static struct guest_mem mem;
static int notifies, needs_reset;
static char err[256];

static void t_notify(struct virtio_device *v, unsigned int q)
{
	(void)v;
	(void)q;
	__atomic_add_fetch(&notifies, 1, __ATOMIC_SEQ_CST);
}

static void t_needs_reset(struct virtio_device *v)
{
	(void)v;
	__atomic_store_n(&needs_reset, 1, __ATOMIC_SEQ_CST);
}

static const struct virtio_transport_ops transport = { .notify_queue = t_notify,
						       .needs_reset = t_needs_reset };

static void *gpa(uint64_t a, uint64_t len)
{
	void *p = guest_mem_ptr(&mem, a, len);

	ck_assert_ptr_nonnull(p);
	return p;
}

static struct vring_desc *desc_table(void)
{
	return gpa(RING, 16 * QSIZE);
}

static struct vring_avail *avail(void)
{
	return gpa(RING + 16 * QSIZE, 6 + 2 * QSIZE);
}

static struct vring_used *used(void)
{
	return gpa(RING + 0x1000, 6 + 8 * QSIZE);
}

static void ring_setup(struct virtio_device *vdev)
{
	struct virtq *vq = &vdev->queues[0];

	memset(gpa(RING, 0x2000), 0, 0x2000);
	virtq_reset(vq);
	vq->size = QSIZE;
	vq->desc_gpa = RING;
	vq->avail_gpa = RING + 16 * QSIZE;
	vq->used_gpa = RING + 0x1000;
	ck_assert_int_eq(virtq_enable(vq, &mem), 0);
}

/* Post a chain at descriptor head: n buffers of len[i] bytes with flags[i] (NEXT added). */
static void post(uint16_t head, unsigned int n, const uint32_t *len, const uint16_t *flags)
{
	struct vring_desc *t = desc_table();
	struct vring_avail *av = avail();
	uint16_t idx = le16toh(av->idx);

	for (unsigned int i = 0; i < n; i++) {
		uint16_t d = (uint16_t)(head + i);

		memset(gpa(DATA + 0x2000ull * d, len[i] ? len[i] : 1), 0, len[i] ? len[i] : 1);
		t[d].addr = htole64(DATA + 0x2000ull * d);
		t[d].len = htole32(len[i]);
		t[d].flags = htole16(flags[i] | (i + 1 < n ? VRING_DESC_F_NEXT : 0));
		t[d].next = htole16((uint16_t)(d + 1));
	}
	av->ring[idx % QSIZE] = htole16(head);
	__atomic_store_n(&av->idx, htole16((uint16_t)(idx + 1)), __ATOMIC_RELEASE);
}

static void post_writable(uint16_t head, uint32_t len)
{
	uint16_t w = VRING_DESC_F_WRITE;

	post(head, 1, &len, &w);
}

static uint16_t used_idx(void)
{
	return le16toh(__atomic_load_n(&used()->idx, __ATOMIC_ACQUIRE));
}

static uint32_t used_len(uint16_t i)
{
	return le32toh(used()->ring[i % QSIZE].len);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static struct rng *dev_new(uint64_t rate, struct virtio_device **vdev)
{
	struct rng *r = calloc(1, sizeof(*r));

	ck_assert_ptr_nonnull(r);
	notifies = needs_reset = 0;
	ck_assert_int_eq(guest_mem_alloc(&mem, 4ull << 20), 0);
	ck_assert_msg(rng_init(r, vdev, rate, &mem, err, sizeof(err)) == 0, "%s", err);
	(*vdev)->transport = &transport;
	ring_setup(*vdev);
	/* a known start for the bucket: full at time 0 */
	rng_bucket_init(&r->bucket, rate, 0);
	return r;
}

static void dev_free(struct rng *r)
{
	rng_destroy(r);
	free(r);
	guest_mem_free(&mem);
}

/* ------------------------------------------------------------------------------------ */

START_TEST(test_bucket)
{
	struct rng_bucket b;

	rng_bucket_init(&b, 16384, 0); /* holds 1/16 s: 1024 bytes */
	ck_assert_uint_eq(rng_bucket_available(&b, 0), 1024);
	rng_bucket_take(&b, 1000);
	ck_assert_uint_eq(rng_bucket_available(&b, 0), 24);
	ck_assert_uint_eq(rng_bucket_wait_ns(&b, 64), (40 * 1000000000ull + 16383) / 16384);
	/* 10 ms later: 163.84 bytes more, nothing rounded away */
	ck_assert_uint_eq(rng_bucket_available(&b, 10 * MS), 187);
	ck_assert_uint_eq(rng_bucket_available(&b, 20 * MS), 351);
	/* never more than the ceiling, however long it waited */
	ck_assert_uint_eq(rng_bucket_available(&b, 3600000 * MS), 1024);
	/* time going backwards gives nothing */
	ck_assert_uint_eq(rng_bucket_available(&b, 5 * MS), 1024);
	/* the smallest rate still holds one chain's worth */
	rng_bucket_init(&b, RNG_RATE_MIN, 0);
	ck_assert_uint_eq(rng_bucket_available(&b, 0), RNG_MIN_CHARGE);
}
END_TEST

START_TEST(test_fills_buffers)
{
	struct virtio_device *vdev;
	struct rng *r = dev_new(RNG_DEFAULT_RATE, &vdev);
	uint32_t lens[2] = { 100, 300 };
	uint16_t flags[2] = { VRING_DESC_F_WRITE, VRING_DESC_F_WRITE };
	uint64_t wait;

	ck_assert_uint_eq(vdev->device_id, 4);
	ck_assert_uint_eq(vdev->num_queues, 1);
	ck_assert_uint_eq(vdev->config_size, 0);
	post_writable(0, 16);
	post(1, 2, lens, flags);
	post_writable(3, 4096);
	ck_assert_int_eq(rng_queue_serve(r, 0, &wait), 0);
	ck_assert_uint_eq(wait, 0);
	ck_assert_uint_eq(used_idx(), 3);
	ck_assert_uint_eq(used_len(0), 16);
	ck_assert_uint_eq(used_len(1), 400);
	ck_assert_uint_eq(used_len(2), 4096);
	ck_assert(!all_zero(gpa(DATA + 0x2000 * 1, 100), 100));
	ck_assert(!all_zero(gpa(DATA + 0x2000 * 2, 300), 300));
	ck_assert(!all_zero(gpa(DATA + 0x2000 * 3, 4096), 4096));
	ck_assert_int_eq(notifies, 1);
	ck_assert_int_eq(needs_reset, 0);
	ck_assert_uint_eq(r->requests, 3);
	ck_assert_uint_eq(r->bytes, 16 + 400 + 4096);
	/* nothing more: no interrupt, notifications back on */
	ck_assert_int_eq(rng_queue_serve(r, 0, &wait), 0);
	ck_assert_int_eq(notifies, 1);
	ck_assert_uint_eq(le16toh(used()->flags) & VRING_USED_F_NO_NOTIFY, 0);
	dev_free(r);
}
END_TEST

START_TEST(test_readable_buffer_needs_reset)
{
	struct virtio_device *vdev;
	struct rng *r = dev_new(RNG_DEFAULT_RATE, &vdev);
	uint32_t lens[2] = { 64, 64 };
	uint16_t flags[2] = { 0, VRING_DESC_F_WRITE };
	uint64_t wait;

	post(0, 2, lens, flags); /* a device-readable buffer first */
	post_writable(2, 64);
	ck_assert_int_lt(rng_queue_serve(r, 0, &wait), 0);
	ck_assert_int_eq(needs_reset, 1);
	ck_assert_uint_eq(used_idx(), 0);
	/* sticky: the next chain waits for the reset */
	ck_assert_int_eq(rng_queue_serve(r, 0, &wait), -EPROTO);
	ck_assert_uint_eq(used_idx(), 0);
	/* after a reset and a fresh ring it serves again */
	vdev->ops->reset(vdev);
	ring_setup(vdev);
	needs_reset = 0;
	post_writable(0, 64);
	ck_assert_int_eq(rng_queue_serve(r, 0, &wait), 0);
	ck_assert_uint_eq(used_idx(), 1);
	ck_assert_uint_eq(used_len(0), 64);
	ck_assert_int_eq(needs_reset, 0);
	dev_free(r);
}
END_TEST

START_TEST(test_empty_or_broken_chain_needs_reset)
{
	struct virtio_device *vdev;
	struct rng *r = dev_new(RNG_DEFAULT_RATE, &vdev);
	uint64_t wait;

	post_writable(0, 0); /* no byte to write */
	ck_assert_int_lt(rng_queue_serve(r, 0, &wait), 0);
	ck_assert_int_eq(needs_reset, 1);
	vdev->ops->reset(vdev);

	/* a head outside the table: the virtqueue's own check */
	ring_setup(vdev);
	needs_reset = 0;
	avail()->ring[0] = htole16(QSIZE + 3);
	avail()->idx = htole16(1);
	ck_assert_int_lt(rng_queue_serve(r, 0, &wait), 0);
	ck_assert_int_eq(needs_reset, 1);
	ck_assert_uint_eq(used_idx(), 0);
	dev_free(r);
}
END_TEST

START_TEST(test_rate_limit)
{
	struct virtio_device *vdev;
	struct rng *r = dev_new(16384, &vdev); /* a 1024-byte bucket */
	uint64_t wait;

	for (uint16_t i = 0; i < QSIZE; i++)
		post_writable(i, 100);
	/* 10 chains of 100 bytes, then 24 bytes left: less than one chain's charge */
	ck_assert_int_eq(rng_queue_serve(r, 0, &wait), 0);
	ck_assert_uint_eq(used_idx(), 10);
	ck_assert_uint_gt(wait, 0);
	ck_assert_uint_le(wait, 3 * MS);
	/* too early: nothing */
	ck_assert_int_eq(rng_queue_serve(r, wait / 2, &wait), 0);
	ck_assert_uint_eq(used_idx(), 10);
	/* 50 ms later: 819 bytes more, 843 in all; each chain may be partly filled */
	ck_assert_int_eq(rng_queue_serve(r, 50 * MS, &wait), 0);
	ck_assert_uint_eq(used_idx(), QSIZE);
	ck_assert_uint_eq(wait, 0);
	ck_assert_uint_eq(r->bytes, 16 * 100);
	/* tiny buffers still cost RNG_MIN_CHARGE each: no more than 1024 / 64 at once */
	ring_setup(vdev);
	rng_bucket_init(&r->bucket, 16384, 0);
	for (uint16_t i = 0; i < QSIZE; i++)
		post_writable(i, 1);
	ck_assert_int_eq(rng_queue_serve(r, 0, &wait), 0);
	ck_assert_uint_eq(used_idx(), 1024 / RNG_MIN_CHARGE);
	dev_free(r);
}
END_TEST

START_TEST(test_partial_fill_when_short)
{
	struct virtio_device *vdev;
	struct rng *r = dev_new(16384, &vdev);
	uint64_t wait;

	post_writable(0, 4000); /* more than the bucket holds */
	ck_assert_int_eq(rng_queue_serve(r, 0, &wait), 0);
	ck_assert_uint_eq(used_idx(), 1);
	ck_assert_uint_eq(used_len(0), 1024);
	dev_free(r);
}
END_TEST

START_TEST(test_worker_serves_and_resets)
{
	struct virtio_device *vdev;
	struct rng *r = dev_new(RNG_DEFAULT_RATE, &vdev);
	int kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	ck_assert_int_ge(kick, 0);
	/* no worker yet: the queue cannot start */
	ck_assert_int_eq(vdev->ops->queue_start(vdev, 0, kick), -EINVAL);
	ck_assert_msg(rng_start(r, err, sizeof(err)) == 0, "%s", err);
	post_writable(0, 512); /* before the start: found at once */
	ck_assert_int_eq(vdev->ops->queue_start(vdev, 0, kick), 0);
	ck_assert_int_eq(vdev->ops->queue_start(vdev, 0, kick), -EBUSY);
	for (int i = 0; i < 2000 && used_idx() < 1; i++)
		nanosleep(&(struct timespec){ 0, MS }, NULL);
	ck_assert_uint_eq(used_idx(), 1);
	post_writable(1, 256);
	ck_assert_int_eq(eventfd_write(kick, 1), 0);
	for (int i = 0; i < 2000 && used_idx() < 2; i++)
		nanosleep(&(struct timespec){ 0, MS }, NULL);
	ck_assert_uint_eq(used_idx(), 2);
	ck_assert_uint_eq(used_len(1), 256);
	/* reset: the worker parks; a chain posted now stays untouched */
	vdev->ops->reset(vdev);
	post_writable(2, 64);
	ck_assert_int_eq(eventfd_write(kick, 1), 0);
	nanosleep(&(struct timespec){ 0, 20 * MS }, NULL);
	ck_assert_uint_eq(used_idx(), 2);
	/* and starts again */
	ck_assert_int_eq(vdev->ops->queue_start(vdev, 0, kick), 0);
	for (int i = 0; i < 2000 && used_idx() < 3; i++)
		nanosleep(&(struct timespec){ 0, MS }, NULL);
	ck_assert_uint_eq(used_idx(), 3);
	ck_assert_int_eq(needs_reset, 0);
	dev_free(r);
	close(kick);
}
END_TEST

START_TEST(test_bad_rate_refused)
{
	struct rng r;
	struct virtio_device *vdev;

	ck_assert_int_eq(rng_init(&r, &vdev, RNG_RATE_MIN - 1, &mem, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "bytes per second"));
	ck_assert_int_eq(rng_init(&r, &vdev, RNG_RATE_MAX + 1, &mem, err, sizeof(err)), -EINVAL);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("rng");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_bucket);
	tcase_add_test(tc, test_fills_buffers);
	tcase_add_test(tc, test_readable_buffer_needs_reset);
	tcase_add_test(tc, test_empty_or_broken_chain_needs_reset);
	tcase_add_test(tc, test_rate_limit);
	tcase_add_test(tc, test_partial_fill_when_short);
	tcase_add_test(tc, test_worker_serves_and_resets);
	tcase_add_test(tc, test_bad_rate_refused);
	suite_add_tcase(s, tc);
	return s;
}
