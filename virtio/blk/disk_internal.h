/* SPDX-License-Identifier: MIT */
/*
 * What the disk's I/O engines (virtio/blk/disk_io.c) and the per-I/O state machine they share
 * (virtio/blk/disk_step.c) say to each other. One I/O is one or more steps, each one system
 * call (or one io_uring SQE): a read, a write, a sync, a fallocate. Runs on the engine's
 * thread only.
 */
#ifndef VIRTIO_BLK_DISK_INTERNAL_H
#define VIRTIO_BLK_DISK_INTERNAL_H

#include "virtio/blk/disk.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

enum step_kind { STEP_PREADV, STEP_PWRITEV, STEP_FDATASYNC, STEP_FALLOCATE };

struct step {
	enum step_kind kind;
	int fd;
	struct iovec *iov;
	unsigned int iovcnt;
	uint64_t offset;
	uint64_t len;
	int mode;
};

/* Reset io's engine state; true if it is already finished (nothing to do). */
bool disk_io_begin(struct disk *d, struct disk_io *io);
/* The next system call io needs, in s. */
void disk_step_prepare(struct disk *d, struct disk_io *io, struct step *s);
/* Account for one system call's result; true when io is finished (io->result set). */
bool disk_io_advance(struct disk *d, struct disk_io *io, const struct step *s, long res);
/* Carry on with an io that disk_io_begin() began, on this thread, until it finishes. */
void disk_io_continue_sync(struct disk *d, struct disk_io *io);

#endif
