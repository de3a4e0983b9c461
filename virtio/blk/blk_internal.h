/* SPDX-License-Identifier: MIT */
/*
 * What virtio-blk's two halves share: the device (virtio/blk/blk.c: queue threads, transport
 * glue, set-up) and the request parser (virtio/blk/blk_req.c). Everything here runs on the
 * queue's own thread.
 */
#ifndef VIRTIO_BLK_BLK_INTERNAL_H
#define VIRTIO_BLK_BLK_INTERNAL_H

#include "virtio/blk/blk.h"

struct blk_range {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

struct blk_req {
	struct blk_queue *q;
	struct blk_req *next_free;
	uint8_t *status; /* the last writable byte, in guest memory */
	uint32_t type;
	uint32_t used_len; /* reported on success; 1 (the status byte) on failure */
	unsigned int nranges;
	unsigned int range;
	struct blk_range ranges[BLK_DWZ_SEG_MAX];
	struct disk_io io;
	struct virtq_chain chain; /* last: only the segments in use are ever touched */
};

/* Give r back to its queue's free list. */
void blk_req_free(struct blk_queue *q, struct blk_req *r);
/*
 * Parse and start one chain. Returns false if the chain has no writable byte for the
 * status: nothing can be reported, so the driver broke the rules (NEEDS_RESET).
 */
bool blk_req_start(struct blk_queue *q, struct blk_req *r);
/* The engine finished io: complete its request (the engine's done callback). */
void blk_io_done(struct disk_io *io, void *opaque);

#endif
