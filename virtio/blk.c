// SPDX-License-Identifier: MIT
/*
 * virtio-blk: turn descriptor chains into disk I/O (VIRTIO 1.2 section 5.2.6).
 *
 * A request is a 16-byte header (type, reserved/ioprio, sector) in the first readable
 * bytes, then data, then one status byte: the last writable byte. Header and data may be
 * split across descriptors in any way, and the status byte may share a descriptor with
 * data; the parser below works on byte counts, not on descriptor boundaries.
 */
#include "virtio/blk.h"
#include "virtio/registry.h"

#include <endian.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <linux/virtio_ids.h>

_Static_assert(DISK_MAX_QUEUES == VIRTIO_MAX_QUEUES - 1, "queue limits disagree");
_Static_assert(DISK_SERIAL_MAX == VIRTIO_BLK_ID_BYTES, "serial length");
_Static_assert(sizeof(struct virtio_blk_outhdr) == 16, "virtio_blk_outhdr");
_Static_assert(sizeof(struct virtio_blk_discard_write_zeroes) == 16, "discard segment");
_Static_assert(offsetof(struct virtio_blk_config, unused1) + 3 == BLK_CONFIG_SIZE, "config layout");

#define BLK_POP_BATCH 32 /* chains started before completions get a look-in */

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

static struct blk *to_blk(struct virtio_device *vdev)
{
	return vdev->priv;
}

/* ------------------------------------------------------------------------------------ */
/* Configuration space */

static void blk_config_read(struct virtio_device *vdev, uint64_t offset, void *data,
			    unsigned int len)
{
	struct blk *b = to_blk(vdev);
	const uint8_t *cfg = (const uint8_t *)&b->config;
	uint64_t size = vdev->config_size;

	memset(data, 0, len);
	if (offset >= size)
		return;
	if (len > size - offset)
		len = (unsigned int)(size - offset);
	memcpy(data, cfg + offset, len);
}

static void blk_config_write(struct virtio_device *vdev, uint64_t offset, const void *data,
			     unsigned int len)
{
	/* nothing is writable: the writeback toggle (CONFIG_WCE) is not offered */
	(void)vdev;
	(void)offset;
	(void)data;
	(void)len;
}

/* ------------------------------------------------------------------------------------ */
/* Requests */

static void log_io_error(struct blk_queue *q, struct blk_req *r)
{
	struct blk *b = q->blk;

	if (__atomic_exchange_n(&b->io_error_logged, true, __ATOMIC_RELAXED))
		return;
	fprintf(stderr,
		"vmm: %s: %s: request type %u at byte %llu failed: %s "
		"(further errors not logged)\n",
		b->vdev.name, b->disk.path, r->type, (unsigned long long)r->io.offset,
		strerror(-r->io.result));
}

static void req_free(struct blk_queue *q, struct blk_req *r)
{
	r->next_free = q->free;
	q->free = r;
	q->inflight--;
}

static void req_complete(struct blk_queue *q, struct blk_req *r, uint8_t status)
{
	struct virtio_device *vdev = &q->blk->vdev;

	*(volatile uint8_t *)r->status = status;
	/* virtq_push publishes used->idx with release semantics: the status byte goes first */
	virtq_push(&vdev->queues[q->index], r->chain.head,
		   status == VIRTIO_BLK_S_OK ? r->used_len : 1);
	q->pushed = true;
	req_free(q, r);
}

/* Copy len bytes out of the segments starting at *iov, consuming them (edits the iovecs). */
static void iov_take(struct iovec **iov, unsigned int *cnt, void *dst, size_t len)
{
	uint8_t *out = dst;

	while (len && *cnt) {
		size_t n = (*iov)->iov_len < len ? (*iov)->iov_len : len;

		memcpy(out, (*iov)->iov_base, n);
		out += n;
		len -= n;
		(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + n;
		(*iov)->iov_len -= n;
		if ((*iov)->iov_len == 0) {
			(*iov)++;
			(*cnt)--;
		}
	}
}

/* [sector, sector + bytes/512) inside the capacity, without overflowing */
static bool range_ok(const struct blk *b, uint64_t sector, uint64_t bytes)
{
	uint64_t cap = b->disk.sectors;

	return sector <= cap && bytes / DISK_SECTOR_SIZE <= cap - sector;
}

static void req_submit(struct blk_queue *q, struct blk_req *r, enum disk_io_op op, uint64_t offset,
		       uint64_t len, struct iovec *iov, unsigned int iovcnt)
{
	struct disk_io *io = &r->io;

	io->op = op;
	io->unmap = false;
	io->offset = offset;
	io->len = len;
	io->iov = iov;
	io->iovcnt = iovcnt;
	io->priv = r;
	disk_engine_submit(&q->engine, io);
}

static void start_range(struct blk_queue *q, struct blk_req *r)
{
	const struct blk_range *rg = &r->ranges[r->range];
	struct disk_io *io = &r->io;

	io->op = r->type == VIRTIO_BLK_T_DISCARD ? DISK_IO_DISCARD : DISK_IO_WRITE_ZEROES;
	io->unmap = r->type == VIRTIO_BLK_T_WRITE_ZEROES &&
		    (rg->flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	io->offset = rg->sector * DISK_SECTOR_SIZE;
	io->len = (uint64_t)rg->num_sectors * DISK_SECTOR_SIZE;
	io->iov = NULL;
	io->iovcnt = 0;
	io->priv = r;
	disk_engine_submit(&q->engine, io);
}

/* DISCARD and WRITE_ZEROES: copy and check every segment before touching the file. */
static int start_dwz(struct blk_queue *q, struct blk_req *r, struct iovec *rd, unsigned int rdcnt,
		     uint64_t rd_bytes, uint64_t wr_bytes)
{
	struct blk *b = q->blk;
	bool discard = r->type == VIRTIO_BLK_T_DISCARD;
	unsigned int feature = discard ? VIRTIO_BLK_F_DISCARD : VIRTIO_BLK_F_WRITE_ZEROES;

	if (!virtio_has_feature(&b->vdev, feature))
		return VIRTIO_BLK_S_UNSUPP;
	if (b->disk.readonly)
		return VIRTIO_BLK_S_IOERR;
	if (wr_bytes || rd_bytes == 0 || rd_bytes % sizeof(struct virtio_blk_discard_write_zeroes))
		return VIRTIO_BLK_S_IOERR;
	r->nranges = (unsigned int)(rd_bytes / sizeof(struct virtio_blk_discard_write_zeroes));
	if (rd_bytes / sizeof(struct virtio_blk_discard_write_zeroes) > BLK_DWZ_SEG_MAX)
		return VIRTIO_BLK_S_IOERR;
	for (unsigned int i = 0; i < r->nranges; i++) {
		struct virtio_blk_discard_write_zeroes seg;
		struct blk_range *rg = &r->ranges[i];

		iov_take(&rd, &rdcnt, &seg, sizeof(seg));
		rg->sector = le64toh(seg.sector);
		rg->num_sectors = le32toh(seg.num_sectors);
		rg->flags = le32toh(seg.flags);
		if (rg->flags & ~(uint32_t)VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)
			return VIRTIO_BLK_S_UNSUPP; /* unknown flag */
		if (discard && (rg->flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP))
			return VIRTIO_BLK_S_UNSUPP;
		if (rg->num_sectors > BLK_DWZ_SECTORS_MAX)
			return VIRTIO_BLK_S_IOERR;
		if (!range_ok(b, rg->sector, (uint64_t)rg->num_sectors * DISK_SECTOR_SIZE))
			return VIRTIO_BLK_S_IOERR;
	}
	r->range = 0;
	r->used_len = 1;
	start_range(q, r);
	return -1;
}

/*
 * Parse and start one chain. Returns false if the chain has no writable byte for the
 * status: nothing can be reported, so the driver broke the rules (NEEDS_RESET).
 */
static bool req_start(struct blk_queue *q, struct blk_req *r)
{
	struct blk *b = q->blk;
	struct virtq_chain *c = &r->chain;
	struct virtio_blk_outhdr hdr;
	unsigned int wr_first = c->nreadable, wr_end = c->nreadable + c->nwritable;
	struct iovec *rd = c->iov, *last;
	unsigned int rdcnt = c->nreadable, wrcnt;
	uint64_t rd_bytes, wr_bytes, sector;
	int status;

	/* the status byte: the last byte of the last non-empty writable segment */
	while (wr_end > wr_first && c->iov[wr_end - 1].iov_len == 0)
		wr_end--;
	if (wr_end == wr_first)
		return false;
	last = &c->iov[wr_end - 1];
	last->iov_len--;
	r->status = (uint8_t *)last->iov_base + last->iov_len;
	wrcnt = wr_end - wr_first;
	wr_bytes = (uint64_t)c->writable_bytes - 1;
	r->used_len = 1;
	r->type = UINT32_MAX;

	if (c->readable_bytes < sizeof(hdr)) {
		req_complete(q, r, VIRTIO_BLK_S_IOERR);
		return true;
	}
	iov_take(&rd, &rdcnt, &hdr, sizeof(hdr));
	rd_bytes = c->readable_bytes - sizeof(hdr);
	r->type = le32toh(hdr.type);
	sector = le64toh(hdr.sector);

	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		if (rd_bytes || wr_bytes % DISK_SECTOR_SIZE || !range_ok(b, sector, wr_bytes)) {
			status = VIRTIO_BLK_S_IOERR;
			break;
		}
		r->used_len = (uint32_t)wr_bytes + 1;
		req_submit(q, r, DISK_IO_READ, sector * DISK_SECTOR_SIZE, wr_bytes,
			   &c->iov[wr_first], wrcnt);
		return true;
	case VIRTIO_BLK_T_OUT:
		if (b->disk.readonly || wr_bytes || rd_bytes % DISK_SECTOR_SIZE ||
		    !range_ok(b, sector, rd_bytes)) {
			status = VIRTIO_BLK_S_IOERR;
			break;
		}
		req_submit(q, r, DISK_IO_WRITE, sector * DISK_SECTOR_SIZE, rd_bytes, rd, rdcnt);
		return true;
	case VIRTIO_BLK_T_FLUSH:
		if (b->disk.readonly) {
			status = VIRTIO_BLK_S_OK;
			break;
		}
		req_submit(q, r, DISK_IO_FLUSH, 0, 0, NULL, 0);
		return true;
	case VIRTIO_BLK_T_GET_ID: {
		size_t n = wr_bytes < sizeof(b->serial) ? wr_bytes : sizeof(b->serial);
		size_t off = 0;

		if (rd_bytes) {
			status = VIRTIO_BLK_S_IOERR;
			break;
		}
		for (unsigned int i = 0; i < wrcnt && off < n; i++) {
			struct iovec *v = &c->iov[wr_first + i];
			size_t k = v->iov_len < n - off ? v->iov_len : n - off;

			memcpy(v->iov_base, b->serial + off, k);
			off += k;
		}
		r->used_len = (uint32_t)n + 1;
		status = VIRTIO_BLK_S_OK;
		break;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		status = start_dwz(q, r, rd, rdcnt, rd_bytes, wr_bytes);
		if (status < 0)
			return true;
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
	req_complete(q, r, (uint8_t)status);
	return true;
}

/* The engine finished r->io. */
static void blk_io_done(struct disk_io *io, void *opaque)
{
	struct blk_queue *q = opaque;
	struct blk_req *r = io->priv;

	switch (r->type) {
	case VIRTIO_BLK_T_OUT:
		if (io->result == 0 && io->op == DISK_IO_WRITE && q->writethrough) {
			req_submit(q, r, DISK_IO_FLUSH, 0, 0, NULL, 0);
			return;
		}
		break;
	case VIRTIO_BLK_T_DISCARD:
		/* discarding is a hint (the device MAY deallocate): no hole punching is fine */
		if (io->result == -EOPNOTSUPP)
			io->result = 0;
		/* fall through */
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (io->result == 0 && ++r->range < r->nranges) {
			start_range(q, r);
			return;
		}
		break;
	}
	if (io->result)
		log_io_error(q, r);
	req_complete(q, r, io->result ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
}

/* ------------------------------------------------------------------------------------ */
/* The queue thread */

/* The kinds of driver error virtq_pop() and req_start() report, one bit each. */
static uint32_t fault_bit(int why)
{
	static const int kinds[] = {
		-EPROTO, -ERANGE, -ELOOP, -EFAULT, -E2BIG, -EOVERFLOW, -EINVAL
	};

	for (unsigned int i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (why == kinds[i])
			return 1u << i;
	return 1u << 31; /* anything else shares one bit */
}

/*
 * A driver that resets the device after each fault and breaks the rings again must not
 * turn every round into a log line: each kind of fault is logged once per device.
 */
static void queue_broken(struct blk_queue *q, int why)
{
	struct blk *b = q->blk;
	uint32_t bit = fault_bit(why);

	if (!(__atomic_fetch_or(&b->faults_logged, bit, __ATOMIC_RELAXED) & bit))
		fprintf(stderr,
			"vmm: %s: queue %u: driver error (%s); device needs reset "
			"(this kind is not logged again)\n",
			b->vdev.name, q->index, strerror(-why));
	q->broken = true;
	virtio_needs_reset(&b->vdev);
}

/*
 * Start what the driver made available, at most BLK_POP_BATCH chains. Returns true if it
 * stopped early (batch used up, or no free slot) and should be called again.
 */
static bool queue_drain(struct blk_queue *q)
{
	struct virtq *vq = &q->blk->vdev.queues[q->index];
	unsigned int budget = BLK_POP_BATCH;

	virtq_set_notify(vq, false);
	for (;;) {
		while (budget) {
			struct blk_req *r = q->free;
			int ret;

			if (!r) {
				/* notifications stay off: a completion brings us back */
				q->starved = true;
				return false;
			}
			ret = virtq_pop(vq, &r->chain);
			if (ret == 0)
				break;
			if (ret < 0) {
				queue_broken(q, ret);
				return false;
			}
			q->free = r->next_free;
			q->inflight++;
			__atomic_fetch_add(&q->requests, 1, __ATOMIC_RELAXED);
			budget--;
			if (!req_start(q, r)) {
				req_free(q, r);
				queue_broken(q, -EINVAL);
				return false;
			}
		}
		if (!budget)
			return true;
		virtq_set_notify(vq, true);
		if (!virtq_has_work(vq))
			return false;
		virtq_set_notify(vq, false);
	}
}

static void queue_signal(struct blk_queue *q)
{
	struct virtio_device *vdev = &q->blk->vdev;

	if (!q->pushed)
		return;
	q->pushed = false;
	/* while stopping the transport is resetting us: no callbacks into it */
	if (!q->stopping && virtq_needs_interrupt(&vdev->queues[q->index]))
		virtio_notify_queue(vdev, q->index);
}

/* Named and fenced in by the thread itself: naming another thread would open /proc. */
static void queue_thread_setup(struct blk_queue *q)
{
	struct vmm_seccomp_fds fds = { 0 };
	char name[16];

	snprintf(name, sizeof(name), "blk-q%u", q->index);
	pthread_setname_np(pthread_self(), name);
	disk_engine_seccomp_fds(&q->engine, &fds);
	/* no I/O without the fence: the queue stays idle until the driver resets it */
	if (virtio_thread_fence(&q->blk->vdev, VMM_SECCOMP_BLK, &fds, "queue", q->index))
		q->broken = true;
}

static void *queue_thread(void *arg)
{
	struct blk_queue *q = arg;
	bool more = true; /* look once: chains may have been made available before the start */

	queue_thread_setup(q);

	for (;;) {
		unsigned int events = 0;
		int r;

		if (more && !q->stopping && !q->broken)
			more = queue_drain(q);
		else
			more = false;
		queue_signal(q);
		if (q->stopping && q->inflight == 0)
			break;

		r = disk_engine_run(&q->engine, !more, &events);
		if (r < 0) {
			fprintf(stderr, "vmm: %s: queue %u: I/O engine failed: %s\n",
				q->blk->vdev.name, q->index, strerror(-r));
			/* the next start gets the thread engine: no new ring can be made now */
			disk_engine_fall_back(&q->engine);
			if (!q->stopping && !q->broken) {
				q->broken = true;
				virtio_needs_reset(&q->blk->vdev);
			}
			break;
		}
		if (events & DISK_EVENT_STOP)
			q->stopping = true;
		if (events & DISK_EVENT_KICK) {
			__atomic_fetch_add(&q->kicks, 1, __ATOMIC_RELAXED);
			more = true;
		}
		if (q->starved && q->free) {
			q->starved = false;
			more = true;
		}
	}
	return NULL;
}

static void queue_init_slots(struct blk_queue *q)
{
	q->free = NULL;
	for (unsigned int i = q->blk->queue_size; i-- > 0;) {
		struct blk_req *r = &q->slots[i];

		r->q = q;
		r->next_free = q->free;
		q->free = r;
	}
	q->inflight = 0;
	q->starved = false;
	q->pushed = false;
	q->broken = false;
	q->stopping = false;
}

/*
 * The queue's engine (its io_uring, registered files and restrictions) lives from set-up
 * to blk_destroy(), across device resets: once the guest runs, no thread may create a
 * ring, because a fresh, unrestricted ring could do what no seccomp list allows.
 */
static int queue_engine_init(struct blk_queue *q, int kick_fd)
{
	struct blk *b = q->blk;
	unsigned int depth =
		b->queue_size < BLK_ENGINE_DEPTH_MAX ? b->queue_size : BLK_ENGINE_DEPTH_MAX;
	char err[256];
	int r = disk_engine_init(&q->engine, &b->disk, depth, kick_fd, q->stop_fd, blk_io_done, q,
				 err, sizeof(err));

	if (r < 0) {
		fprintf(stderr, "vmm: %s: queue %u: %s\n", b->vdev.name, q->index, err);
		return r;
	}
	q->engine_ready = true;
	q->engine_kick_fd = kick_fd;
	return 0;
}

static int blk_prepare(struct virtio_device *vdev, const int *kick_fds)
{
	struct blk *b = to_blk(vdev);
	int r = 0;

	pthread_mutex_lock(&b->lock);
	for (unsigned int i = 0; i < vdev->num_queues && !r; i++)
		if (!b->queues[i].engine_ready)
			r = queue_engine_init(&b->queues[i], kick_fds[i]);
	pthread_mutex_unlock(&b->lock);
	return r;
}

static int blk_queue_start(struct virtio_device *vdev, unsigned int index, int kick_fd)
{
	struct blk *b = to_blk(vdev);
	struct blk_queue *q;
	sigset_t all, old;
	uint64_t v;
	int r;

	if (index >= vdev->num_queues)
		return -EINVAL;
	q = &b->queues[index];
	pthread_mutex_lock(&b->lock);
	if (q->running) {
		r = -EBUSY;
		goto out;
	}
	if (!vdev->queues[index].enabled) {
		r = -EINVAL;
		goto out;
	}
	while (read(q->stop_fd, &v, sizeof(v)) > 0)
		; /* a stop left over from a thread that ended on its own */
	queue_init_slots(q);
	q->writethrough = !virtio_has_feature(vdev, VIRTIO_BLK_F_FLUSH);
	if (q->engine_ready && q->engine_kick_fd != kick_fd) {
		/* only without prepare (unit tests): the transport's kick eventfds never change */
		disk_engine_destroy(&q->engine);
		q->engine_ready = false;
	}
	if (!q->engine_ready) {
		r = queue_engine_init(q, kick_fd);
		if (r < 0)
			goto out;
	}
	/* the thread takes no signals: vCPU kicks and SIGINT/SIGTERM are for others */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&q->thread, NULL, queue_thread, q);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		goto out;
	q->running = true;
out:
	pthread_mutex_unlock(&b->lock);
	return r;
}

int blk_queue_serve(struct blk *b, unsigned int index)
{
	struct virtio_device *vdev = &b->vdev;
	struct blk_queue *q;
	char err[256];
	bool more = true;
	int r;

	if (index >= vdev->num_queues)
		return -EINVAL;
	q = &b->queues[index];
	pthread_mutex_lock(&b->lock);
	if (q->running || !vdev->queues[index].enabled) {
		pthread_mutex_unlock(&b->lock);
		return q->running ? -EBUSY : -EINVAL;
	}
	queue_init_slots(q);
	q->writethrough = !virtio_has_feature(vdev, VIRTIO_BLK_F_FLUSH);
	r = disk_engine_init(&q->engine, &b->disk, 1, -1, -1, blk_io_done, q, err, sizeof(err));
	if (r < 0) {
		pthread_mutex_unlock(&b->lock);
		return r;
	}
	for (;;) {
		unsigned int events = 0;

		if (more && !q->broken)
			more = queue_drain(q);
		else
			more = false;
		queue_signal(q);
		if (!more && q->inflight == 0)
			break;
		r = disk_engine_run(&q->engine, !more, &events);
		if (r < 0)
			break;
		if (q->starved && q->free) {
			q->starved = false;
			more = true;
		}
	}
	disk_engine_destroy(&q->engine);
	pthread_mutex_unlock(&b->lock);
	if (r < 0)
		return r;
	return q->broken ? -EPROTO : 0;
}

static void blk_reset(struct virtio_device *vdev)
{
	struct blk *b = to_blk(vdev);
	unsigned int n = vdev->num_queues;

	pthread_mutex_lock(&b->lock);
	for (unsigned int i = 0; i < n; i++)
		if (b->queues[i].running)
			eventfd_write(b->queues[i].stop_fd, 1);
	for (unsigned int i = 0; i < n; i++) {
		struct blk_queue *q = &b->queues[i];

		if (!q->running)
			continue;
		pthread_join(q->thread, NULL);
		q->running = false;
	}
	pthread_mutex_unlock(&b->lock);
}

void blk_seccomp_fds(const struct blk *b, struct vmm_seccomp_fds *fds)
{
	vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_DISK, b->disk.fd);
	vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_DISK, b->disk.fd_buffered);
	for (unsigned int i = 0; i < b->vdev.num_queues; i++)
		vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_EVENT, b->queues[i].stop_fd);
	for (unsigned int i = 0; i < b->vdev.num_queues; i++)
		if (b->queues[i].engine_ready && b->queues[i].engine.kind == DISK_ENGINE_IO_URING)
			vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_RING,
					    b->queues[i].engine.ring.ring_fd);
}

const char *blk_queue_engine(struct blk *b, unsigned int q)
{
	if (q >= VIRTIO_MAX_QUEUES || !b->queues[q].running)
		return NULL;
	return disk_engine_name(&b->queues[q].engine);
}

/* ------------------------------------------------------------------------------------ */
/* Set-up */

static const struct virtio_device_ops blk_ops = {
	.config_read = blk_config_read,
	.config_write = blk_config_write,
	.queue_start = blk_queue_start,
	.prepare = blk_prepare,
	.reset = blk_reset,
};

static void blk_fill_config(struct blk *b, unsigned int num_queues)
{
	struct virtio_blk_config *c = &b->config;

	memset(c, 0, sizeof(*c));
	c->capacity = htole64(b->disk.sectors);
	c->seg_max = htole32(BLK_SEG_MAX);
	c->blk_size = htole32(DISK_SECTOR_SIZE);
	c->num_queues = htole16((uint16_t)num_queues);
	if (!b->disk.readonly) {
		c->max_discard_sectors = htole32(BLK_DWZ_SECTORS_MAX);
		c->max_discard_seg = htole32(BLK_DWZ_SEG_MAX);
		c->discard_sector_alignment = htole32(b->disk.discard_align);
		c->max_write_zeroes_sectors = htole32(BLK_DWZ_SECTORS_MAX);
		c->max_write_zeroes_seg = htole32(BLK_DWZ_SEG_MAX);
		c->write_zeroes_may_unmap = 1;
	}
}

int blk_init(struct blk *b, struct virtio_device **vdev_out, const struct disk_options *o,
	     unsigned int num_queues, const struct guest_mem *mem, char *err, size_t errlen)
{
	struct virtio_device *vdev = &b->vdev;
	unsigned int queue_size = o->queue_size ? o->queue_size : BLK_QUEUE_SIZE;
	size_t slots_bytes = sizeof(struct blk_req) * queue_size;
	unsigned int i;
	int r;

	if (num_queues < 1 || num_queues > DISK_MAX_QUEUES) {
		snprintf(err, errlen, "%s: %u queues: must be 1 to %u", o->path, num_queues,
			 DISK_MAX_QUEUES);
		return -EINVAL;
	}
	memset(b, 0, sizeof(*b));
	for (i = 0; i < VIRTIO_MAX_QUEUES; i++)
		b->queues[i].stop_fd = -1;
	b->disk.fd = -1;
	b->disk.fd_buffered = -1;
	b->queue_size = queue_size;
	vdev->transport_irq_fd = -1;

	r = disk_open(&b->disk, o, err, errlen);
	if (r < 0)
		return r;
	pthread_mutex_init(&b->lock, NULL);
	memcpy(b->serial, o->serial, strnlen(o->serial, sizeof(b->serial)));

	for (i = 0; i < num_queues; i++) {
		struct blk_queue *q = &b->queues[i];
		void *p;

		q->blk = b;
		q->index = i;
		q->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->stop_fd < 0) {
			r = -errno;
			snprintf(err, errlen, "%s: eventfd: %s", o->path, strerror(errno));
			goto fail;
		}
		/* lazily backed: a slot's pages are touched only as far as its chain goes */
		p = mmap(NULL, slots_bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED) {
			r = -errno;
			snprintf(err, errlen, "%s: request slots: %s", o->path, strerror(errno));
			goto fail;
		}
		q->slots = p;
	}

	vdev->name = "virtio-blk";
	vdev->device_id = VIRTIO_ID_BLOCK;
	vdev->device_features = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
				(1ull << VIRTIO_BLK_F_FLUSH);
	if (b->disk.readonly)
		vdev->device_features |= 1ull << VIRTIO_BLK_F_RO;
	else
		vdev->device_features |=
			(1ull << VIRTIO_BLK_F_DISCARD) | (1ull << VIRTIO_BLK_F_WRITE_ZEROES);
	if (num_queues > 1)
		vdev->device_features |= 1ull << VIRTIO_BLK_F_MQ;
	vdev->num_queues = num_queues;
	vdev->queue_max_size = (uint16_t)queue_size;
	vdev->config_size = BLK_CONFIG_SIZE;
	vdev->mem = mem;
	vdev->ops = &blk_ops;
	vdev->priv = b;
	blk_fill_config(b, num_queues);
	*vdev_out = vdev;
	return 0;

fail:
	blk_destroy(b);
	return r;
}

void blk_destroy(struct blk *b)
{
	size_t slots_bytes = sizeof(struct blk_req) * b->queue_size;

	if (b->vdev.ops)
		blk_reset(&b->vdev);
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		struct blk_queue *q = &b->queues[i];

		if (q->engine_ready)
			disk_engine_destroy(&q->engine);
		q->engine_ready = false;

		if (q->slots)
			munmap(q->slots, slots_bytes);
		q->slots = NULL;
		if (q->stop_fd >= 0)
			close(q->stop_fd);
		q->stop_fd = -1;
	}
	if (b->disk.fd >= 0) {
		disk_close(&b->disk);
		pthread_mutex_destroy(&b->lock);
	}
	b->vdev.ops = NULL;
}

/* ------------------------------------------------------------------------------------ */
/* The kind: --disk, in the VMM's registry (virtio/registry.h) */

static int blk_kind_open(struct virtio_slot *slot, const struct virtio_host *host, char *err,
			 size_t errlen)
{
	const struct disk_options *o = slot->options;
	unsigned int queues = o->queues ? o->queues : host->ncpus;
	struct blk *b = calloc(1, sizeof(*b));
	char why[384];

	if (!b) {
		snprintf(err, errlen, "--disk: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	if (queues > DISK_MAX_QUEUES)
		queues = DISK_MAX_QUEUES;
	if (blk_init(b, &slot->vdev, o, queues, host->mem, why, sizeof(why))) {
		free(b);
		snprintf(err, errlen, "--disk: %s", why); /* why names the file */
		return -EINVAL;
	}
	slot->state = b;
	return 0;
}

static void blk_kind_stop(struct virtio_slot *slot)
{
	blk_destroy(slot->state); /* the queues' counters stay for --stats */
}

static void blk_kind_destroy(struct virtio_slot *slot)
{
	free(slot->state);
	slot->state = NULL;
}

static void blk_kind_seccomp_fds(const struct virtio_slot *slot, struct vmm_seccomp_fds *fds)
{
	blk_seccomp_fds(slot->state, fds);
}

static void blk_kind_queue_counters(const struct virtio_slot *slot, unsigned int q, uint64_t *kicks,
				    uint64_t *requests)
{
	const struct blk *b = slot->state;

	*kicks = virtio_report_load(&b->queues[q].kicks);
	*requests = virtio_report_load(&b->queues[q].requests);
}

const struct virtio_kind virtio_blk_kind = {
	.name = "virtio-blk",
	.noun = "disk",
	.stage = VIRTIO_OPEN_HOST,
	.open = blk_kind_open,
	.stop = blk_kind_stop,
	.destroy = blk_kind_destroy,
	.seccomp_fds = blk_kind_seccomp_fds,
	.queue_counters = blk_kind_queue_counters,
	.save = NULL, /* snapshots: filled by the snapshot work */
	.restore = NULL,
};
