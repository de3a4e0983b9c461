// SPDX-License-Identifier: MIT
/*
 * The per-I/O state machine both disk engines share (virtio/blk/disk_internal.h): how a READ,
 * WRITE, FLUSH, DISCARD or WRITE_ZEROES becomes steps, what each step's result means, and
 * the fallbacks when the file refuses one (no hole punching, no O_DIRECT alignment).
 */
#include "virtio/blk/disk_internal.h"
#include "virtio/iov.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <linux/falloc.h>

/* ------------------------------------------------------------------------------------ */
/* The per-I/O state machine, shared by both engines */

/* Where writing zeros by hand comes from: read-only use, aligned for O_DIRECT. */
static uint8_t zero_buf[64 << 10] __attribute__((aligned(4096)));

enum { WZ_PUNCH, WZ_ZERO_RANGE, WZ_WRITE };

static bool flag_get(bool *flag)
{
	return __atomic_load_n(flag, __ATOMIC_RELAXED);
}

static void flag_set(bool *flag)
{
	__atomic_store_n(flag, true, __ATOMIC_RELAXED);
}

static bool unsupported(long res)
{
	return res == -EOPNOTSUPP || res == -ENOSYS;
}

static unsigned int first_wz_method(struct disk *d, bool unmap)
{
	if (unmap && !flag_get(&d->no_punch_hole))
		return WZ_PUNCH;
	if (!flag_get(&d->no_zero_range))
		return WZ_ZERO_RANGE;
	return WZ_WRITE;
}

static bool finish(struct disk_io *io, int result)
{
	io->result = result;
	return true;
}

/* Reset io's engine state; true if it is already finished (nothing to do). */
bool disk_io_begin(struct disk *d, struct disk_io *io)
{
	io->done = 0;
	io->buffered = false;
	io->result = 0;
	io->next = NULL;
	switch (io->op) {
	case DISK_IO_READ:
	case DISK_IO_WRITE:
	case DISK_IO_WRITE_ZEROES:
		io->method = first_wz_method(d, io->unmap);
		return io->len == 0;
	case DISK_IO_DISCARD:
		if (flag_get(&d->no_punch_hole))
			return finish(io, -EOPNOTSUPP);
		return io->len == 0;
	case DISK_IO_FLUSH:
		return false;
	}
	return finish(io, -EINVAL);
}

static bool dio_ok(const struct disk *d, const struct step *s)
{
	if ((s->offset | s->len) % d->dio_offset_align)
		return false;
	for (unsigned int i = 0; i < s->iovcnt; i++) {
		if (s->iov[i].iov_len == 0)
			continue;
		if ((uintptr_t)s->iov[i].iov_base % d->dio_mem_align ||
		    s->iov[i].iov_len % d->dio_offset_align)
			return false;
	}
	return true;
}

void disk_step_prepare(struct disk *d, struct disk_io *io, struct step *s)
{
	uint64_t pos = io->offset + io->done, left = io->len - io->done;

	memset(s, 0, sizeof(*s));
	s->fd = d->fd;
	s->offset = pos;
	s->len = left;
	switch (io->op) {
	case DISK_IO_READ:
	case DISK_IO_WRITE:
		s->kind = io->op == DISK_IO_READ ? STEP_PREADV : STEP_PWRITEV;
		s->iov = io->iov;
		s->iovcnt = io->iovcnt;
		break;
	case DISK_IO_FLUSH:
		s->kind = STEP_FDATASYNC;
		break;
	case DISK_IO_DISCARD:
		s->kind = STEP_FALLOCATE;
		s->mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		break;
	case DISK_IO_WRITE_ZEROES:
		if (io->method == WZ_WRITE) {
			unsigned int n = 0;
			uint64_t chunk = 0;

			while (n < DISK_ZERO_IOVS && chunk < left) {
				uint64_t piece = left - chunk;

				if (piece > sizeof(zero_buf))
					piece = sizeof(zero_buf);
				io->zero_iov[n].iov_base = zero_buf;
				io->zero_iov[n].iov_len = piece;
				chunk += piece;
				n++;
			}
			s->kind = STEP_PWRITEV;
			s->iov = io->zero_iov;
			s->iovcnt = n;
			s->len = chunk;
		} else {
			s->kind = STEP_FALLOCATE;
			s->mode = FALLOC_FL_KEEP_SIZE |
				  (io->method == WZ_PUNCH ? FALLOC_FL_PUNCH_HOLE
							  : FALLOC_FL_ZERO_RANGE);
		}
		break;
	}
	if ((s->kind == STEP_PREADV || s->kind == STEP_PWRITEV) && d->direct &&
	    (io->buffered || !dio_ok(d, s)))
		s->fd = d->fd_buffered;
}

/* Account for one system call's result; true when io is finished (io->result set). */
bool disk_io_advance(struct disk *d, struct disk_io *io, const struct step *s, long res)
{
	if (res == -EINTR || res == -EAGAIN)
		return false; /* the same step again */

	if (s->kind == STEP_PREADV || s->kind == STEP_PWRITEV) {
		/* O_DIRECT refused this buffer or offset: the buffered descriptor takes it */
		if (res == -EINVAL && d->direct && s->fd == d->fd && !io->buffered) {
			io->buffered = true;
			return false;
		}
		if (res < 0)
			return finish(io, (int)res);
		if (res == 0) {
			if (s->kind == STEP_PWRITEV)
				return finish(io, -EIO);
			/* end of file inside the capacity (the partial last sector): zeros */
			for (unsigned int i = 0; i < io->iovcnt; i++)
				memset(io->iov[i].iov_base, 0, io->iov[i].iov_len);
			io->done = io->len;
			return finish(io, 0);
		}
		if ((uint64_t)res > s->len)
			return finish(io, -EIO);
		io->done += (uint64_t)res;
		if (s->iov != io->zero_iov)
			iov_pull(&io->iov, &io->iovcnt, (size_t)res); /* res <= s->len: fits */
		return io->done >= io->len ? finish(io, 0) : false;
	}

	switch (io->op) {
	case DISK_IO_DISCARD:
		if (unsupported(res))
			flag_set(&d->no_punch_hole);
		return finish(io, res < 0 ? (int)res : 0);
	case DISK_IO_WRITE_ZEROES:
		if (unsupported(res)) {
			if (io->method == WZ_PUNCH) {
				flag_set(&d->no_punch_hole);
				io->method = flag_get(&d->no_zero_range) ? WZ_WRITE : WZ_ZERO_RANGE;
			} else {
				flag_set(&d->no_zero_range);
				io->method = WZ_WRITE;
			}
			return false;
		}
		return finish(io, res < 0 ? (int)res : 0);
	default: /* FLUSH */
		return finish(io, res < 0 ? (int)res : 0);
	}
}

static long step_sync(const struct step *s)
{
	ssize_t r = 0;

	switch (s->kind) {
	case STEP_PREADV:
		r = preadv(s->fd, s->iov, (int)s->iovcnt, (off_t)s->offset);
		break;
	case STEP_PWRITEV:
		r = pwritev(s->fd, s->iov, (int)s->iovcnt, (off_t)s->offset);
		break;
	case STEP_FDATASYNC:
		r = fdatasync(s->fd);
		break;
	case STEP_FALLOCATE:
		r = fallocate(s->fd, s->mode, (off_t)s->offset, (off_t)s->len);
		break;
	}
	return r < 0 ? -errno : (long)r;
}

/* Carry on with an io that disk_io_begin() began, on this thread, until it finishes. */
void disk_io_continue_sync(struct disk *d, struct disk_io *io)
{
	struct step s;

	do {
		disk_step_prepare(d, io, &s);
	} while (!disk_io_advance(d, io, &s, step_sync(&s)));
}

void disk_io_run_sync(struct disk *d, struct disk_io *io)
{
	if (!disk_io_begin(d, io))
		disk_io_continue_sync(d, io);
}
