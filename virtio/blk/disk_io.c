// SPDX-License-Identifier: MIT
/*
 * Disk I/O engines (virtio/blk/disk.h): io_uring and the synchronous thread engine, both on
 * the per-I/O state machine in disk_step.c.
 */
#include "virtio/blk/disk_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/falloc.h>

/* ------------------------------------------------------------------------------------ */
/* Engines */

static void push_done(struct disk_engine *e, struct disk_io *io)
{
	io->next = NULL;
	if (e->done_tail)
		e->done_tail->next = io;
	else
		e->done_head = io;
	e->done_tail = io;
}

/* Hand finished I/O to done(); true if there was any. done() may add more. */
static bool deliver_done(struct disk_engine *e)
{
	bool any = false;

	while (e->done_head) {
		struct disk_io *io = e->done_head;

		e->done_head = io->next;
		if (!e->done_head)
			e->done_tail = NULL;
		io->next = NULL;
		any = true;
		e->done(io, e->opaque);
	}
	return any;
}

/* Read an eventfd that poll reported readable; only this thread reads it. */
static void consume_eventfd(int fd)
{
	uint64_t v;
	ssize_t r;

	do {
		r = read(fd, &v, sizeof(v));
	} while (r < 0 && errno == EINTR);
}

/* io_uring: user_data for the two polls; I/O carries its struct disk_io pointer. */
static char tag_kick, tag_stop;

/*
 * Registered (fixed) files: a ring only ever names these slots, never a descriptor
 * number, so a bug in request handling cannot aim the ring at another file.
 */
enum { SLOT_DIRECT, SLOT_BUFFERED, SLOT_KICK, SLOT_STOP, SLOTS };

static int uring_slot(const struct disk_engine *e, int fd)
{
	if (fd == e->kick_fd)
		return SLOT_KICK;
	if (fd == e->stop_fd)
		return SLOT_STOP;
	return fd == e->disk->fd ? SLOT_DIRECT : SLOT_BUFFERED;
}

static struct io_uring_sqe *uring_sqe(struct disk_engine *e)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&e->ring);

	if (!sqe) {
		io_uring_submit(&e->ring);
		e->queued = 0;
		sqe = io_uring_get_sqe(&e->ring);
	}
	return sqe;
}

static void uring_queue_step(struct disk_engine *e, struct disk_io *io)
{
	struct io_uring_sqe *sqe = uring_sqe(e);
	struct step s;
	int slot;

	if (!sqe) {
		/* cannot happen with a ring sized for depth; still never lose a request */
		disk_io_continue_sync(e->disk, io);
		push_done(e, io);
		return;
	}
	disk_step_prepare(e->disk, io, &s);
	slot = uring_slot(e, s.fd);
	switch (s.kind) {
	case STEP_PREADV:
		io_uring_prep_readv(sqe, slot, s.iov, s.iovcnt, s.offset);
		break;
	case STEP_PWRITEV:
		io_uring_prep_writev(sqe, slot, s.iov, s.iovcnt, s.offset);
		break;
	case STEP_FDATASYNC:
		io_uring_prep_fsync(sqe, slot, IORING_FSYNC_DATASYNC);
		break;
	case STEP_FALLOCATE:
		io_uring_prep_fallocate(sqe, slot, s.mode, s.offset, s.len);
		break;
	}
	io_uring_sqe_set_flags(sqe, IOSQE_FIXED_FILE);
	io_uring_sqe_set_data(sqe, io);
	e->queued++;
}

static bool uring_arm(struct disk_engine *e, int fd, void *tag)
{
	struct io_uring_sqe *sqe = uring_sqe(e);

	if (!sqe)
		return false;
	io_uring_prep_poll_add(sqe, uring_slot(e, fd), POLLIN);
	io_uring_sqe_set_flags(sqe, IOSQE_FIXED_FILE);
	io_uring_sqe_set_data(sqe, tag);
	e->queued++;
	return true;
}

/* liburing 2.3 (Debian 12) builds these two calls but does not export them */
static int ring_register(struct io_uring *ring, unsigned int op, void *arg, unsigned int n)
{
	return syscall(__NR_io_uring_register, ring->ring_fd, op, arg, n) < 0 ? -errno : 0;
}

/*
 * io_uring operations are not system calls, so seccomp never sees them: the ring itself
 * is restricted before it is enabled, to the five operations below, on the registered
 * files only, and to no further io_uring_register() call.
 */
static int uring_restrict(struct disk_engine *e, const int *ops, size_t nops)
{
	struct io_uring_restriction res[8];
	unsigned int n = 0;
	int files[SLOTS] = {
		[SLOT_DIRECT] = e->disk->fd,
		[SLOT_BUFFERED] = e->disk->fd_buffered,
		/* an unused slot repeats the disk: every slot then names a file we own */
		[SLOT_KICK] = e->kick_fd >= 0 ? e->kick_fd : e->disk->fd,
		[SLOT_STOP] = e->stop_fd >= 0 ? e->stop_fd : e->disk->fd,
	};
	int r;

	memset(res, 0, sizeof(res));
	for (size_t i = 0; i < nops; i++) {
		res[n].opcode = IORING_RESTRICTION_SQE_OP;
		res[n++].sqe_op = (uint8_t)ops[i];
	}
	res[n].opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED;
	res[n++].sqe_flags = IOSQE_FIXED_FILE;
	r = io_uring_register_files(&e->ring, files, SLOTS);
	if (r == 0)
		r = ring_register(&e->ring, IORING_REGISTER_RESTRICTIONS, res, n);
	if (r == 0)
		r = ring_register(&e->ring, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	return r;
}

static int uring_init(struct disk_engine *e, unsigned int depth)
{
	static const int needed[] = { IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_FSYNC,
				      IORING_OP_FALLOCATE, IORING_OP_POLL_ADD };
	struct io_uring_params params = { .flags = IORING_SETUP_R_DISABLED };
	struct io_uring_probe *probe;
	int r = io_uring_queue_init_params(depth + 2, &e->ring, &params);

	if (r < 0)
		return r;
	probe = io_uring_get_probe_ring(&e->ring);
	if (!probe) {
		io_uring_queue_exit(&e->ring);
		return -EOPNOTSUPP;
	}
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		if (!io_uring_opcode_supported(probe, needed[i])) {
			io_uring_free_probe(probe);
			io_uring_queue_exit(&e->ring);
			return -EOPNOTSUPP;
		}
	}
	io_uring_free_probe(probe);
	r = uring_restrict(e, needed, sizeof(needed) / sizeof(needed[0]));
	if (r < 0) {
		io_uring_queue_exit(&e->ring);
		return r;
	}
	return 0;
}

static int uring_run(struct disk_engine *e, bool wait, unsigned int *events)
{
	struct io_uring_cqe *cqes[32];
	struct {
		void *data;
		int res;
	} got[32];
	unsigned int n;
	int r;

	if (e->kick_fd >= 0 && !e->kick_armed)
		e->kick_armed = uring_arm(e, e->kick_fd, &tag_kick);
	if (e->stop_fd >= 0 && !e->stop_armed)
		e->stop_armed = uring_arm(e, e->stop_fd, &tag_stop);

	r = io_uring_submit_and_wait(&e->ring, wait && !e->done_head ? 1 : 0);
	if (r >= 0)
		e->queued = 0;
	else if (r != -EINTR && r != -EAGAIN && r != -EBUSY && r != -ETIME)
		return r;

	while ((n = io_uring_peek_batch_cqe(&e->ring, cqes, 32)) > 0) {
		for (unsigned int i = 0; i < n; i++) {
			got[i].data = io_uring_cqe_get_data(cqes[i]);
			got[i].res = cqes[i]->res;
		}
		io_uring_cq_advance(&e->ring, n);
		for (unsigned int i = 0; i < n; i++) {
			if (got[i].data == &tag_kick || got[i].data == &tag_stop) {
				bool kick = got[i].data == &tag_kick;

				if (kick)
					e->kick_armed = false;
				else
					e->stop_armed = false;
				if (got[i].res < 0 && got[i].res != -EINTR &&
				    got[i].res != -ECANCELED)
					return got[i].res;
				if (got[i].res > 0) {
					consume_eventfd(kick ? e->kick_fd : e->stop_fd);
					*events |= kick ? DISK_EVENT_KICK : DISK_EVENT_STOP;
				}
				continue;
			}
			struct disk_io *io = got[i].data;
			struct step s;

			/* the step that ran is the one disk_step_prepare() computes from io's state
			 */
			disk_step_prepare(e->disk, io, &s);
			if (disk_io_advance(e->disk, io, &s, got[i].res))
				push_done(e, io);
			else
				uring_queue_step(e, io);
		}
	}
	deliver_done(e);
	return 0;
}

static int thread_run(struct disk_engine *e, bool wait, unsigned int *events)
{
	struct pollfd pfd[2];
	int fds[2];
	nfds_t n = 0;
	bool delivered = deliver_done(e);
	int r;

	if (e->kick_fd >= 0) {
		pfd[n] = (struct pollfd){ .fd = e->kick_fd, .events = POLLIN };
		fds[n++] = e->kick_fd;
	}
	if (e->stop_fd >= 0) {
		pfd[n] = (struct pollfd){ .fd = e->stop_fd, .events = POLLIN };
		fds[n++] = e->stop_fd;
	}
	if (n == 0)
		return 0;
	r = poll(pfd, n, wait && !delivered ? -1 : 0);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	for (nfds_t i = 0; i < n; i++) {
		if (pfd[i].revents & POLLNVAL)
			return -EBADF;
		if (pfd[i].revents & POLLIN) {
			consume_eventfd(fds[i]);
			*events |= fds[i] == e->kick_fd ? DISK_EVENT_KICK : DISK_EVENT_STOP;
		}
	}
	return 0;
}

int disk_engine_init(struct disk_engine *e, struct disk *d, unsigned int depth, int kick_fd,
		     int stop_fd, disk_io_done_fn *done, void *opaque, char *err, size_t errlen)
{
	static bool warned;
	const char *want = getenv("VMM_DISK_ENGINE");
	bool force_thread = false, force_uring = false;
	int r;

	memset(e, 0, sizeof(*e));
	e->disk = d;
	e->kick_fd = kick_fd;
	e->stop_fd = stop_fd;
	e->done = done;
	e->opaque = opaque;
	if (want && *want) {
		if (!strcmp(want, "thread"))
			force_thread = true;
		else if (!strcmp(want, "io_uring"))
			force_uring = true;
		else if (strcmp(want, "auto")) {
			snprintf(err, errlen,
				 "VMM_DISK_ENGINE=%s: expected io_uring, thread or auto", want);
			return -EINVAL;
		}
	}
	if (force_thread) {
		e->kind = DISK_ENGINE_THREAD;
		return 0;
	}
	r = uring_init(e, depth ? depth : 1);
	if (r == 0) {
		e->kind = DISK_ENGINE_IO_URING;
		return 0;
	}
	if (force_uring) {
		snprintf(err, errlen, "%s: io_uring unavailable (VMM_DISK_ENGINE=io_uring): %s",
			 d->path, strerror(-r));
		return r;
	}
	if (!__atomic_exchange_n(&warned, true, __ATOMIC_RELAXED))
		fprintf(stderr, "vmm: disk: io_uring unavailable (%s); using the thread engine\n",
			strerror(-r));
	e->kind = DISK_ENGINE_THREAD;
	return 0;
}

void disk_engine_fall_back(struct disk_engine *e)
{
	if (e->kind == DISK_ENGINE_IO_URING)
		io_uring_queue_exit(&e->ring);
	e->kind = DISK_ENGINE_THREAD;
	e->kick_armed = e->stop_armed = false;
	e->queued = 0;
}

void disk_engine_submit(struct disk_engine *e, struct disk_io *io)
{
	if (disk_io_begin(e->disk, io)) {
		push_done(e, io);
		return;
	}
	if (e->kind == DISK_ENGINE_THREAD) {
		disk_io_continue_sync(e->disk, io);
		push_done(e, io);
		return;
	}
	uring_queue_step(e, io);
}

int disk_engine_run(struct disk_engine *e, bool wait, unsigned int *events)
{
	*events = 0;
	if (e->kind == DISK_ENGINE_IO_URING)
		return uring_run(e, wait, events);
	return thread_run(e, wait, events);
}

void disk_engine_destroy(struct disk_engine *e)
{
	if (e->kind == DISK_ENGINE_IO_URING && e->disk)
		io_uring_queue_exit(&e->ring);
	e->disk = NULL;
}

void disk_engine_seccomp_fds(const struct disk_engine *e, struct vmm_seccomp_fds *fds)
{
	vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_DISK, e->disk->fd);
	vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_DISK, e->disk->fd_buffered);
	vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_EVENT, e->kick_fd);
	vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_EVENT, e->stop_fd);
	if (e->kind == DISK_ENGINE_IO_URING)
		vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_RING, e->ring.ring_fd);
}

const char *disk_engine_name(const struct disk_engine *e)
{
	return e->kind == DISK_ENGINE_IO_URING ? "io_uring" : "thread";
}
