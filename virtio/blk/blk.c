// SPDX-License-Identifier: MIT
/*
 * virtio-blk (VIRTIO 1.2 section 5.2): the device. One thread per queue pops chains,
 * starts them as requests (virtio/blk/blk_req.c) on the queue's disk engine and pushes them
 * back as the engine completes them; the transport glue and set-up are here too.
 */
#include "virtio/blk/blk.h"
#include "virtio/blk/blk_internal.h"
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
_Static_assert(offsetof(struct virtio_blk_config, unused1) + 3 == BLK_CONFIG_SIZE, "config layout");

#define BLK_POP_BATCH 32 /* chains started before completions get a look-in */

static struct blk *to_blk(struct virtio_device *vdev)
{
	return vdev->priv;
}

/* ------------------------------------------------------------------------------------ */
/* The queue thread */

/* The kinds of driver error virtq_pop() and blk_req_start() report, one bit each. */
static void queue_broken(struct blk_queue *q, int why)
{
	q->broken = true;
	virtio_queue_fault(&q->blk->vdev, q->index, why);
}

/*
 * Start what the driver made available, at most BLK_POP_BATCH chains. Returns true if it
 * stopped early (batch used up, or no free slot) and should be called again.
 */
static bool blk_queue_drain(struct blk_queue *q)
{
	struct virtq *vq = &q->blk->vdev.queues[q->index];
	unsigned int budget = BLK_POP_BATCH;

	virtq_set_notify(vq, false);
	while (budget) {
		struct blk_req *r = q->free;
		int ret;

		if (!r) {
			/* notifications stay off: a completion brings us back */
			q->starved = true;
			return false;
		}
		ret = virtq_pop_or_rearm(vq, &r->chain);
		if (ret == 0)
			return false;
		if (ret < 0) {
			queue_broken(q, ret);
			return false;
		}
		q->free = r->next_free;
		q->inflight++;
		__atomic_fetch_add(&q->requests, 1, __ATOMIC_RELAXED);
		budget--;
		if (!blk_req_start(q, r)) {
			blk_req_free(q, r);
			queue_broken(q, -EINVAL);
			return false;
		}
	}
	return true;
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
	vmm_seccomp_gate_open(&q->fence, !q->broken);
}

static void *blk_queue_thread(void *arg)
{
	struct blk_queue *q = arg;
	bool more = true; /* look once: chains may have been made available before the start */

	queue_thread_setup(q);

	for (;;) {
		unsigned int events = 0;
		int r;

		if (more && !q->stopping && !q->broken)
			more = blk_queue_drain(q);
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
	vmm_seccomp_gate_init(&q->fence);
	r = -pthread_create(&q->thread, NULL, blk_queue_thread, q);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		goto out;
	q->running = true;
out:
	pthread_mutex_unlock(&b->lock);
	/*
	 * A restore starts queues from the main thread before it has a list of its own: wait
	 * until this one has its list (a broken queue has said so and stays idle), so that no
	 * thread is unfenced once the guest runs. The thread takes no lock to get there.
	 */
	if (!r)
		vmm_seccomp_gate_wait(&q->fence);
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
			more = blk_queue_drain(q);
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
	/* nothing is writable: the writeback toggle (CONFIG_WCE) is not offered */
	vdev->config = &b->config;
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

/*
 * Snapshots: the image must be the one the guest wrote to, as far as we can tell from
 * here (its size and whether it is writable), and everything written must be on it.
 */
struct blk_snapshot {
	uint64_t size;
	uint8_t readonly;
	uint8_t pad[7];
};

static int blk_kind_save(struct virtio_slot *slot, struct snap_writer *w, uint32_t instance)
{
	struct blk *b = slot->state;
	struct blk_snapshot st = { .size = b->disk.size, .readonly = b->disk.readonly };

	if (!b->disk.readonly && fdatasync(b->disk.fd) < 0)
		return -errno;
	return snap_section(w, SNAP_DEVICE, instance, &st, sizeof(st));
}

static int blk_kind_restore(struct virtio_slot *slot, const void *data, size_t len, char *err,
			    size_t errlen)
{
	struct blk *b = slot->state;
	struct blk_snapshot st;

	if (len != sizeof(st)) {
		snprintf(err, errlen, "%s: its saved state is not a disk's", slot->name);
		return -EINVAL;
	}
	memcpy(&st, data, sizeof(st));
	if (st.size != b->disk.size) {
		snprintf(err, errlen, "--disk path=%s: %llu bytes, the snapshot's disk had %llu",
			 b->disk.path, (unsigned long long)b->disk.size,
			 (unsigned long long)st.size);
		return -EINVAL;
	}
	if (st.readonly != b->disk.readonly) {
		snprintf(err, errlen, "--disk path=%s: %s, the snapshot's disk was %s",
			 b->disk.path, b->disk.readonly ? "read-only" : "writable",
			 st.readonly ? "read-only" : "writable");
		return -EINVAL;
	}
	return 0;
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
	.save = blk_kind_save,
	.snapshot_live = true,
	.restore = blk_kind_restore,
};
