/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk (VIRTIO 1.2 section 5.2) over a raw image (virtio/blk/disk.h).
 *
 * Offered: SEG_MAX, BLK_SIZE (512), FLUSH, DISCARD and WRITE_ZEROES (read-write images),
 * MQ (more than one queue), RO (read-only images). The transport adds VERSION_1,
 * EVENT_IDX and INDIRECT_DESC. The cache is always write-back towards the driver: writes
 * become durable on FLUSH; a driver that does not negotiate FLUSH gets every write
 * followed by an fdatasync before it completes (section 5.2.6.2, "stable writes").
 *
 * Threads: queue_start() starts one thread per queue; it alone pops, runs and pushes that
 * queue's requests (so the virtq needs no lock) and raises its interrupt. It sleeps in
 * its engine (io_uring or poll) on the queue's kick eventfd, a stop eventfd and I/O
 * completions. reset() signals every stop eventfd and joins the threads; a stopping
 * thread takes no new requests, waits for all its I/O to complete (pushing the used
 * entries, but raising no interrupt and calling nothing in the transport), then exits.
 * So reset() returns only when nothing touches guest memory any more. queue_start() and
 * reset() are serialized by the device's mutex.
 *
 * Contract for the transport: it must not hold a lock that notify_queue() or
 * needs_reset() take while it calls reset() (the queue threads may be inside those
 * callbacks until reset() has stopped them).
 *
 * Requests: slots are preallocated per queue (BLK_QUEUE_SIZE of them); nothing is
 * allocated per request.
 */
#ifndef VIRTIO_BLK_BLK_H
#define VIRTIO_BLK_BLK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_blk.h>

#include "virtio/device.h"
#include "virtio/blk/disk.h"

#define BLK_QUEUE_SIZE 256		     /* default queue_max_size = request slots per queue */
#define BLK_ENGINE_DEPTH_MAX 1024	     /* I/O in flight per queue, whatever its size */
#define BLK_SEG_MAX (VIRTQ_MAX_SEGMENTS - 2) /* data segments: all but header and status */
#define BLK_DWZ_SEG_MAX 32		     /* max_discard_seg, max_write_zeroes_seg */
#define BLK_DWZ_SECTORS_MAX (1u << 22)	     /* per segment: 2 GiB */
/* The configuration space we expose: VIRTIO 1.2 up to write_zeroes_may_unmap + padding. */
#define BLK_CONFIG_SIZE 60

struct blk;
struct blk_req;

struct blk_queue {
	struct blk *blk;
	unsigned int index;
	bool running;
	pthread_t thread;
	struct vmm_seccomp_gate fence; /* the thread opens it once its list is loaded */
	int stop_fd;
	struct disk_engine engine;
	bool engine_ready;  /* set up (at prepare, or at the first start) and kept until destroy */
	int engine_kick_fd; /* the kick eventfd it watches */
	/* owned by the queue's thread while it runs */
	struct blk_req *slots; /* BLK_QUEUE_SIZE of them (mmap) */
	struct blk_req *free;
	unsigned int inflight;
	bool starved; /* a chain waited for a free slot */
	bool pushed;  /* used entries added since the last interrupt decision */
	bool broken;  /* asked for NEEDS_RESET: take nothing more */
	bool stopping;
	bool writethrough; /* FLUSH not negotiated: fdatasync after each write */
	/* statistics (vmm/stats.h): relaxed atomics, kept across device resets */
	uint64_t kicks;	   /* notifications the thread consumed */
	uint64_t requests; /* chains it took off the available ring */
};

struct blk {
	struct virtio_device vdev;
	struct disk disk;
	struct virtio_blk_config config;     /* little-endian, as the driver reads it */
	uint8_t serial[VIRTIO_BLK_ID_BYTES]; /* NUL-padded */
	pthread_mutex_t lock;		     /* queue_start() against reset() */
	bool io_error_logged;
	unsigned int queue_size; /* queue_max_size offered, and request slots per queue */
	struct blk_queue queues[VIRTIO_MAX_QUEUES];
};

/*
 * Open the image (o; o->queues is ignored: num_queues is what the caller resolved, 1 to
 * DISK_MAX_QUEUES) and fill b->vdev: device ID, features, queues, config space and ops.
 * The caller then sets vdev->transport and transport_ctx, and may rename vdev->name
 * ("virtio-blk" by default). Returns 0 with *vdev_out = &b->vdev, or -errno with one
 * sentence in err.
 */
int blk_init(struct blk *b, struct virtio_device **vdev_out, const struct disk_options *o,
	     unsigned int num_queues, const struct guest_mem *mem, char *err, size_t errlen);
/* Reset (stopping the threads), then release everything a successful blk_init() took. */
void blk_destroy(struct blk *b);
/*
 * Serve queue index once on the calling thread, as its thread does after a notification:
 * take every available chain, run its I/O to completion, push it and ask the transport
 * for an interrupt, then return. For tests and fuzzers, which want a deterministic pass
 * without a thread; the device itself is driven by queue_start(). The queue must be
 * enabled (virtq_enable) and not started. With VMM_DISK_ENGINE=thread no ring is set up
 * and nothing runs concurrently. Returns 0; -EPROTO when the driver broke the rules (the
 * transport was told: NEEDS_RESET); -EINVAL, -EBUSY or the engine's -errno otherwise.
 */
int blk_queue_serve(struct blk *b, unsigned int index);
/* "io_uring" or "thread" for a started queue, NULL otherwise (for logs and tests). */
const char *blk_queue_engine(struct blk *b, unsigned int q);
/*
 * Add the disk's descriptors, its queues' rings and stop eventfds to a seccomp descriptor
 * set: what a thread that starts, stops or runs the queues uses (the transport's kicks
 * and irqfds come from virtio_transport_seccomp_fds()).
 */
void blk_seccomp_fds(const struct blk *b, struct vmm_seccomp_fds *fds);

/* --disk in the VMM's device registry (virtio/registry.h) */
struct virtio_kind;
extern const struct virtio_kind virtio_blk_kind;

#endif
