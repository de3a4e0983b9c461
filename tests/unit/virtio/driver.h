/* SPDX-License-Identifier: MIT */
/*
 * The test as a virtio driver, for a device tested without the PCI transport: a fake
 * transport that counts interrupts (queue and configuration) and NEEDS_RESET, split rings in real
 * guest memory (queue q's at 64 KiB * (q + 1), data buffers from 1 MiB up), chains written into
 * them, kicks through the queues' eventfds, and waits on the used rings.
 *
 * Include it once, in the test program: it holds that program's state. The test creates
 * mem, sets vdev and opens kick_fd[] in its fixture.
 */
#ifndef TESTS_UNIT_VIRTIO_DRIVER_H
#define TESTS_UNIT_VIRTIO_DRIVER_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <sys/eventfd.h>
#include <linux/virtio_ring.h>

#include "check_main.h"
#include "virtio/device.h"
#include "vmm/memory.h"

#define MiB (1ull << 20)
#define QSIZE 256u
#define DRV_QUEUES 5

static struct guest_mem mem;
static struct virtio_device *vdev;
static int kick_fd[DRV_QUEUES] = { -1, -1, -1, -1, -1 };
static int notifies[DRV_QUEUES];
static int needs_reset;
static int config_notifies; /* configuration change interrupts */

static inline void t_notify(struct virtio_device *v, unsigned int q)
{
	(void)v;
	__atomic_add_fetch(&notifies[q], 1, __ATOMIC_SEQ_CST);
}

static inline void t_needs_reset(struct virtio_device *v)
{
	(void)v;
	__atomic_store_n(&needs_reset, 1, __ATOMIC_SEQ_CST);
}

static inline void t_notify_config(struct virtio_device *v)
{
	(void)v;
	__atomic_add_fetch(&config_notifies, 1, __ATOMIC_SEQ_CST);
}

static const struct virtio_transport_ops transport = {
	.notify_queue = t_notify,
	.needs_reset = t_needs_reset,
	.notify_config = t_notify_config,
};

static inline int nnotify(unsigned int q)
{
	return __atomic_load_n(&notifies[q], __ATOMIC_SEQ_CST);
}

/* The driver's side of each queue. */
struct drv {
	uint64_t desc, avail, used;
	uint16_t next_desc;
	uint16_t avail_idx;
	uint16_t used_seen;
};
static struct drv drv[DRV_QUEUES];
static uint64_t data_next = MiB;

static inline void *gpa(uint64_t a, uint64_t len)
{
	void *p = guest_mem_ptr(&mem, a, len);

	ck_assert_ptr_nonnull(p);
	return p;
}

static inline uint64_t alloc_gpa(uint64_t len)
{
	uint64_t a = data_next;

	data_next += (len + 4095) & ~4095ull;
	ck_assert_uint_le(data_next, 32 * MiB);
	return a;
}

/* Empty rings for queue q, given to the device's virtq as a driver's writes would. */
static inline void ring_setup(unsigned int q, bool event_idx)
{
	struct virtq *vq = &vdev->queues[q];
	struct drv *d = &drv[q];

	d->desc = 0x10000ull * (q + 1);
	d->avail = d->desc + 16 * QSIZE;
	d->used = d->avail + 0x1000;
	memset(gpa(d->desc, 0x10000), 0, 0x10000);
	d->next_desc = 0;
	d->avail_idx = 0;
	d->used_seen = 0;
	virtq_reset(vq);
	vq->size = QSIZE;
	vq->desc_gpa = d->desc;
	vq->avail_gpa = d->avail;
	vq->used_gpa = d->used;
	vq->event_idx = event_idx;
	ck_assert_int_eq(virtq_enable(vq, &mem), 0);
}

struct seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

/* Write a chain into the table and make it available (without kicking). */
static inline uint16_t add_chain(unsigned int q, const struct seg *s, unsigned int n)
{
	struct drv *d = &drv[q];
	struct vring_desc *table = gpa(d->desc, 16 * QSIZE);
	struct vring_avail *avail = gpa(d->avail, 6 + 2 * QSIZE);
	uint16_t head = d->next_desc;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t at = (uint16_t)((head + i) % QSIZE);
		uint16_t flags =
			(s[i].write ? VRING_DESC_F_WRITE : 0) | (i + 1 < n ? VRING_DESC_F_NEXT : 0);

		table[at].addr = htole64(s[i].gpa);
		table[at].len = htole32(s[i].len);
		table[at].flags = htole16(flags);
		table[at].next = htole16((uint16_t)((at + 1) % QSIZE));
	}
	d->next_desc = (uint16_t)((head + n) % QSIZE);
	avail->ring[d->avail_idx % QSIZE] = htole16(head);
	d->avail_idx++;
	__atomic_store_n(&avail->idx, htole16(d->avail_idx), __ATOMIC_RELEASE);
	return head;
}

static inline void kick(unsigned int q)
{
	ck_assert_int_eq(eventfd_write(kick_fd[q], 1), 0);
}

static inline uint16_t used_idx(unsigned int q)
{
	struct vring_used *used = gpa(drv[q].used, 6 + 8 * QSIZE);

	return le16toh(__atomic_load_n(&used->idx, __ATOMIC_ACQUIRE));
}

static inline void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/*
 * Wait (10 s at most) for queue q's interrupt count to reach n. The device decides about
 * the interrupt after it pushed, so the used ring may move a moment before the count does.
 */
static inline void wait_notify(unsigned int q, int n)
{
	for (int i = 0; i < 10000 && nnotify(q) < n; i++)
		sleep_ms(1);
	ck_assert_int_ge(nnotify(q), n);
}

/* Wait (10 s at most) until the used ring holds n more entries than we have seen. */
static inline void wait_used(unsigned int q, uint16_t n)
{
	uint16_t want = (uint16_t)(drv[q].used_seen + n);

	for (int i = 0; i < 10000 && used_idx(q) != want; i++)
		sleep_ms(1);
	ck_assert_uint_eq(used_idx(q), want);
}

/* The k-th used entry from the first one not yet taken. */
static inline struct vring_used_elem used_elem(unsigned int q, unsigned int k)
{
	struct vring_used *used = gpa(drv[q].used, 6 + 8 * QSIZE);
	struct vring_used_elem e = used->ring[(uint16_t)(drv[q].used_seen + k) % QSIZE];

	return (struct vring_used_elem){ le32toh(e.id), le32toh(e.len) };
}

/* The next used entry, marked seen. */
static inline struct vring_used_elem take_used(unsigned int q)
{
	struct vring_used_elem e = used_elem(q, 0);

	drv[q].used_seen++;
	return e;
}

#endif
