/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueue, device side (VIRTIO 1.2, section 2.7).
 *
 * Three areas in guest RAM, written by the driver, read (and, for the used ring, written)
 * by us while the guest runs:
 *   descriptor table  16 * size bytes, 16-aligned: { addr, len, flags, next }
 *   available ring    6 + 2 * size bytes, 2-aligned: flags, idx, ring[size], used_event
 *   used ring         6 + 8 * size bytes, 4-aligned: flags, idx, ring[size] { id, len },
 *                     avail_event
 * All fields are little-endian. Everything in guest RAM may change under us at any time,
 * so each field is read exactly once into a local and only the local is checked and used.
 *
 * Typical device loop, on a driver notification:
 *
 *	virtq_set_notify(vq, false);
 *	while ((r = virtq_pop_or_rearm(vq, &chain)) > 0) {
 *		... read chain.iov[0 .. nreadable), write the nwritable after them ...
 *		virtq_push(vq, chain.head, bytes_written);
 *	}
 *	if (r < 0)
 *		... set DEVICE_NEEDS_RESET, tell the driver, stop using the queue ...
 *	if (virtq_needs_interrupt(vq))
 *		... raise the queue's interrupt ...
 *
 * Locking: none inside. One thread at a time per queue (the device's lock).
 */
#ifndef VIRTIO_VIRTQUEUE_H
#define VIRTIO_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <linux/virtio_ring.h>

#include "vmm/memory.h"

#define VIRTQ_MAX_SIZE 32768u
/* Most segments (non-indirect descriptors) one chain may have; more is -E2BIG. */
#define VIRTQ_MAX_SEGMENTS 1024u
/* Most entries an indirect table may have: all that a 16-bit next field can reach. */
#define VIRTQ_MAX_INDIRECT 65536u

struct virtq {
	/*
	 * What the driver configured, written by the transport before virtq_enable();
	 * virtq_reset() clears them. Nothing below reads them after virtq_enable(): the
	 * transport may go on writing them (a hostile driver may try), and the queue keeps
	 * using the copies enable validated.
	 */
	unsigned int size; /* entries: a power of two, 1..VIRTQ_MAX_SIZE */
	uint64_t desc_gpa;
	uint64_t avail_gpa;
	uint64_t used_gpa;
	bool event_idx;	    /* VIRTIO_F_EVENT_IDX (bit 29, VIRTIO_RING_F_EVENT_IDX) negotiated */
	bool indirect_desc; /* VIRTIO_F_INDIRECT_DESC (bit 28, VIRTIO_RING_F_INDIRECT_DESC) */

	/* Ring state: virtq_enable() zeroes it. */
	uint16_t last_avail_idx; /* next avail entry we will pop (free-running) */
	uint16_t used_idx; /* next used entry we will fill; what used->idx says after a push */
	uint16_t signalled_used;   /* used_idx when virtq_needs_interrupt() last decided */
	bool signalled_used_valid; /* false once 65536 pushes went by without a decision */
	uint16_t used_flags;	   /* our copy of used->flags (VRING_USED_F_NO_NOTIFY) */
	int error; /* first driver error seen by virtq_pop(); sticky until reset or enable */

	/* Set by virtq_enable(), from the configuration it checked. */
	bool enabled;
	unsigned int num; /* the live size: size as it was when enable checked it */
	uint16_t mask;	  /* num - 1: ring index mask */
	const struct guest_mem *mem;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
};

/*
 * One descriptor chain: the device-readable segments come first, then the device-writable
 * ones; iov_base are host pointers into guest RAM (a zero-length segment's pointer must not
 * be dereferenced).
 */
struct virtq_chain {
	uint16_t head;		/* descriptor index to hand back to virtq_push() */
	unsigned int nreadable; /* iov[0 .. nreadable) */
	unsigned int nwritable; /* iov[nreadable .. nreadable + nwritable) */
	uint32_t readable_bytes;
	uint32_t writable_bytes;
	struct iovec iov[VIRTQ_MAX_SEGMENTS];
};

static inline struct iovec *virtq_chain_writable(struct virtq_chain *chain)
{
	return chain->iov + chain->nreadable;
}

/*
 * Check the configured areas and size and resolve them to host pointers: size a power of two
 * in 1..VIRTQ_MAX_SIZE, each area aligned and wholly inside one RAM region. Zeroes the ring
 * state (indices start at 0, as after a device reset). Returns 0 or -EINVAL; on failure the
 * queue stays disabled. mem must outlive the queue's use.
 */
int virtq_enable(struct virtq *vq, const struct guest_mem *mem);

/* Disable the queue and clear everything, configuration included (all-zero struct). */
void virtq_reset(struct virtq *vq);

/*
 * Take the next available chain. Returns 1 and fills chain, 0 when there is nothing new (or
 * the queue is disabled), or a negative errno when the driver broke the rules; then the
 * caller must set DEVICE_NEEDS_RESET and the queue keeps returning that error until
 * virtq_reset() or virtq_enable():
 *   -EPROTO     avail->idx is more than size entries ahead of last_avail_idx
 *   -ERANGE     a head index or a next index outside the descriptor table (or indirect table)
 *   -ELOOP      a chain longer than the table it lives in: a loop
 *   -EFAULT     a buffer or an indirect table not wholly in guest RAM (len 0 included; its
 *               address must still be RAM)
 *   -EOVERFLOW  the chain's total length does not fit in 32 bits
 *   -E2BIG      more than VIRTQ_MAX_SEGMENTS buffers
 *   -EINVAL     a device-readable buffer after a device-writable one; INDIRECT without the
 *               feature, combined with NEXT, inside an indirect table, or with a table
 *               length that is 0, not a multiple of 16 or over VIRTQ_MAX_INDIRECT entries
 * Allocates nothing, makes no system call.
 */
int virtq_pop(struct virtq *vq, struct virtq_chain *chain);

/*
 * virtq_pop(), and when the ring is empty: turn notifications on and look again, so that
 * a chain the driver added meanwhile (without a kick: it saw them off) is not left behind.
 * Returns as virtq_pop(): 1 with notifications as they were (the caller turned them off
 * before its loop), 0 with notifications on (wait for the next kick), or a negative errno.
 * A loop that stops early (a budget, no room) leaves notifications off and comes back by
 * itself.
 */
int virtq_pop_or_rearm(struct virtq *vq, struct virtq_chain *chain);

/*
 * Give back the last n chains virtq_pop() returned, unused: the next pops return them
 * again (re-read from guest memory). For a device that found it cannot use them yet.
 */
void virtq_unpop(struct virtq *vq, uint16_t n);

/* Hand chain head back with written bytes written into it; publishes used->idx (release). */
void virtq_push(struct virtq *vq, uint16_t head, uint32_t written);

/*
 * After one or more pushes: whether the driver wants an interrupt for them (false when
 * nothing was pushed since the last call). Call once per batch: it remembers used_idx.
 */
bool virtq_needs_interrupt(struct virtq *vq);

/* Ask the driver to notify us (enable) or not for new available buffers; a hint only. */
void virtq_set_notify(struct virtq *vq, bool enable);

/* Whether avail->idx differs from last_avail_idx: the re-check after virtq_set_notify(true). */
bool virtq_has_work(struct virtq *vq);

/*
 * Entries the driver made available that we have not popped yet; more than size means a
 * broken driver (virtq_pop() reports it). 0 when disabled.
 */
uint16_t virtq_avail_pending(struct virtq *vq);

/*
 * Snapshots: the ring state a device carries between two requests. Saved from a queue no
 * thread serves; restored right after virtq_enable() (which zeroes it) and before the
 * device is told to start. The rings themselves are in guest RAM, which comes back whole.
 */
struct virtq_indices {
	uint16_t last_avail_idx, used_idx, signalled_used, used_flags;
	uint8_t signalled_used_valid, pad[7];
};
void virtq_save_indices(const struct virtq *vq, struct virtq_indices *ix);
void virtq_restore_indices(struct virtq *vq, const struct virtq_indices *ix);

#endif
