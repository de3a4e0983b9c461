/* SPDX-License-Identifier: MIT */
/*
 * A raw disk image (regular file or block device) and the engines that do its I/O: the
 * option parser in disk_options.c, opening and locking in disk.c, the engines in
 * disk_io.c and the per-I/O state machine they share in disk_step.c.
 *
 * The image:
 *   - opened read-write or read-only, O_CLOEXEC, and O_DIRECT for cache=none;
 *   - locked with an open-file-description lock (F_OFD_SETLK) over the whole file: a write
 *     lock when read-write, a read lock when read-only. Two VMMs may share an image
 *     read-only; any other combination is refused ("... is in use by another process");
 *   - capacity in 512-byte sectors is the size rounded UP: an image whose size is not a
 *     multiple of 512 shows its last partial sector whole. Reading it returns what the
 *     file holds followed by zeros; writing it grows the file to the sector boundary (by
 *     less than 512 bytes). Nothing beyond the capacity is ever read or written.
 *
 * The engines, one per virtqueue, each driven by one thread (the caller's):
 *   - io_uring: requests become SQEs and one io_uring_submit_and_wait() both submits a
 *     batch and sleeps. The queue's kick eventfd and a stop eventfd are watched by
 *     IORING_OP_POLL_ADD SQEs in the same ring, so that single wait returns for a guest
 *     notification, a stop request or an I/O completion alike; no epoll, no extra thread.
 *     Poll rather than a read SQE: a read of an O_NONBLOCK eventfd completes at once
 *     with -EAGAIN, and the transport owns the kick fd's flags.
 *   - thread: the calling thread does preadv/pwritev/fdatasync/fallocate itself, one
 *     request at a time, and sleeps in poll(2) on the two eventfds. Chosen when
 *     io_uring_queue_init() fails (ENOSYS, EPERM under seccomp, ENOMEM from the locked
 *     memory limit) or lacks an opcode we need, or when the environment says
 *     VMM_DISK_ENGINE=thread (VMM_DISK_ENGINE=io_uring forbids the fallback instead).
 *
 * Both engines run the same per-I/O state machine, so a READ always completes with the
 * whole length (short reads are continued, end of file reads as zeros), a WRITE with the
 * whole length or an error, and WRITE_ZEROES falls back from FALLOC_FL_ZERO_RANGE (or
 * PUNCH_HOLE with unmap) to writing zeros where the file system does not support it.
 * With O_DIRECT, a request whose buffers or offset are not aligned the way the file wants
 * (or that the kernel refuses with EINVAL) goes through a second, buffered descriptor.
 */
#ifndef VIRTIO_BLK_DISK_H
#define VIRTIO_BLK_DISK_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <liburing.h>

#include "vmm/seccomp.h"

#define DISK_SECTOR_SIZE 512u
#define DISK_SECTOR_SHIFT 9
#define DISK_SERIAL_MAX 20 /* VIRTIO_BLK_ID_BYTES */
#define DISK_PATH_MAX PATH_MAX
#define DISK_MAX_QUEUES 63	   /* VIRTIO_MAX_QUEUES - 1 */
#define DISK_MAX_QUEUE_SIZE 32768u /* VIRTIO 1.2: split queues hold at most 2^15 */

enum disk_cache {
	DISK_CACHE_WRITEBACK, /* host page cache; guest FLUSH requests make writes durable */
	DISK_CACHE_NONE,      /* O_DIRECT: no host page cache */
};

/* --disk path=FILE[,readonly=on|off][,serial=S][,cache=none|writeback][,queues=N][,queue-size=N] */
struct disk_options {
	char path[DISK_PATH_MAX];
	bool readonly;			  /* default off */
	char serial[DISK_SERIAL_MAX + 1]; /* printable ASCII, NUL-terminated; default "" */
	enum disk_cache cache;		  /* default writeback */
	unsigned int queues;		  /* 1..DISK_MAX_QUEUES; 0 (default): one per vCPU */
	unsigned int queue_size;	  /* power of two up to 32768; 0 (default): 256 */
};

/*
 * Parse the text of one --disk option (without "--disk"). Items are separated by commas;
 * a comma inside a value is written twice (",,"). Every key at most once; path is
 * required. Returns 0, or -EINVAL with one sentence in err that names the key and value.
 * Pure: touches no file.
 */
int disk_parse_option(const char *text, struct disk_options *out, char *err, size_t errlen);

struct disk {
	int fd;		 /* the locked descriptor; O_DIRECT with cache=none */
	int fd_buffered; /* same file without O_DIRECT (cache=none), else == fd */
	bool readonly;
	bool direct;
	bool blockdev;
	uint64_t size;		       /* bytes, at open time */
	uint64_t sectors;	       /* capacity: size / 512 rounded up */
	unsigned int dio_mem_align;    /* O_DIRECT buffer alignment (direct only) */
	unsigned int dio_offset_align; /* O_DIRECT offset and length alignment (direct only) */
	unsigned int discard_align;    /* suggested discard granularity in sectors (>= 1) */
	/* learned at run time, shared by the queues (atomic access) */
	bool no_zero_range;
	bool no_punch_hole;
	char path[DISK_PATH_MAX];
};

/*
 * Open, lock and size the image. Returns 0, or -errno with one sentence naming the file
 * in err (missing, unreadable, empty, not a file or block device, O_DIRECT refused by
 * the file system, in use by another process). d is unchanged on failure.
 */
int disk_open(struct disk *d, const struct disk_options *o, char *err, size_t errlen);
/* Close both descriptors (releasing the lock). Safe on a zeroed or closed disk. */
void disk_close(struct disk *d);

enum disk_io_op {
	DISK_IO_READ,	      /* iov <- [offset, offset + len) */
	DISK_IO_WRITE,	      /* iov -> [offset, offset + len) */
	DISK_IO_FLUSH,	      /* fdatasync */
	DISK_IO_DISCARD,      /* deallocate (punch a hole); -EOPNOTSUPP where impossible */
	DISK_IO_WRITE_ZEROES, /* reads of the range return zeros afterwards */
};

#define DISK_ZERO_IOVS 16

/* One I/O. The caller owns it (no allocation inside) and fills the first block. */
struct disk_io {
	enum disk_io_op op;
	bool unmap;	   /* WRITE_ZEROES: deallocating is allowed */
	uint64_t offset;   /* bytes */
	uint64_t len;	   /* bytes; READ/WRITE: the sum of the iov lengths */
	struct iovec *iov; /* READ/WRITE; the engine advances it and edits entries */
	unsigned int iovcnt;
	int result; /* on completion: 0 (whole length done) or -errno */
	void *priv; /* the caller's */

	/* engine state */
	uint64_t done;
	unsigned int method;
	bool buffered;
	struct iovec zero_iov[DISK_ZERO_IOVS];
	struct disk_io *next;
};

/* Run io to completion on the calling thread (what the thread engine does). */
void disk_io_run_sync(struct disk *d, struct disk_io *io);

enum disk_engine_kind { DISK_ENGINE_IO_URING, DISK_ENGINE_THREAD };

/* What disk_engine_run() saw besides completions. */
#define DISK_EVENT_KICK 1u /* kick_fd was signalled (and has been read) */
#define DISK_EVENT_STOP 2u /* stop_fd was signalled (and has been read) */

typedef void disk_io_done_fn(struct disk_io *io, void *opaque);

struct disk_engine {
	struct disk *disk;
	enum disk_engine_kind kind;
	int kick_fd;
	int stop_fd;
	disk_io_done_fn *done;
	void *opaque;
	/* io_uring */
	struct io_uring ring;
	bool kick_armed;
	bool stop_armed;
	unsigned int queued; /* SQEs prepared since the last submit */
	/* both: finished I/O waiting to be handed to done() */
	struct disk_io *done_head;
	struct disk_io *done_tail;
};

/*
 * Set up an engine for up to depth I/Os in flight that also watches kick_fd and stop_fd
 * (eventfds; -1 to watch none). Picks io_uring unless VMM_DISK_ENGINE=thread or io_uring
 * is unusable (see above). Returns 0, or -errno with one sentence in err.
 */
int disk_engine_init(struct disk_engine *e, struct disk *d, unsigned int depth, int kick_fd,
		     int stop_fd, disk_io_done_fn *done, void *opaque, char *err, size_t errlen);
/*
 * Start io; done(io, opaque) is called from a later disk_engine_run() on the same thread.
 * The thread engine does the I/O here, before returning.
 */
void disk_engine_submit(struct disk_engine *e, struct disk_io *io);
/*
 * Submit what is queued, then hand finished I/O to done() and report kicks and stops in
 * *events. With wait, sleeps until at least one of those happened; without, never sleeps.
 * done() may submit more I/O. Returns 0 or -errno (a broken ring).
 */
int disk_engine_run(struct disk_engine *e, bool wait, unsigned int *events);
/* Release the engine. No I/O may be in flight. */
void disk_engine_destroy(struct disk_engine *e);
const char *disk_engine_name(const struct disk_engine *e);
/*
 * Give up io_uring (after it failed) for the synchronous calls; the caller owns e and no
 * I/O is in flight. Needs no new descriptor, so it works inside the seccomp lists.
 */
void disk_engine_fall_back(struct disk_engine *e);
/* Add the descriptors the engine's thread works on to a seccomp descriptor set. */
void disk_engine_seccomp_fds(const struct disk_engine *e, struct vmm_seccomp_fds *fds);

#endif
