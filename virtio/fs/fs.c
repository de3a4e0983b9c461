// SPDX-License-Identifier: MIT
/*
 * virtio-fs (VIRTIO 1.2 section 5.11): the device. Two queues (hiprio for FORGET, one for
 * requests), one worker thread for hiprio and FS_REQ_WORKERS for requests, and the
 * transport glue; each chain goes to the FUSE server (virtio/fs/fs_server.c) and its
 * answer back into the ring, in the order the answers are ready.
 */
#include "virtio/fs/fs.h"
#include "virtio/registry.h"
#include "vmm/seccomp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <linux/virtio_fs.h>
#include <linux/virtio_ids.h>

_Static_assert(sizeof(struct virtio_fs_config) == FS_CONFIG_SIZE, "virtio_fs_config");

#define FS_WANT_NOFILE (1u << 18) /* room for a dozen full windows above the first quarter */
#define FS_STOP_WAIT_S 2	  /* reset and teardown wait this long for a worker, no longer */

/* ------------------------------------------------------------------------------------ */
/* The virtio device */

static struct fs_device *to_fs(struct virtio_device *vdev)
{
	return vdev->priv;
}

/*
 * Take the next chain into w->chain, unless reset() has taken the ring back or another
 * worker found it broken: 1, 0 or -errno. Notifications stay on while a request is
 * served, and a chain already waiting behind this one wakes a parked worker: this worker
 * may now wait in the host for long, and the next request must not wait with it. (A single
 * worker would turn them off for its whole round and save the driver some kicks; here that
 * would leave a chain that came meanwhile to whichever worker finishes first.)
 */
static int queue_pop(struct fs_worker *w, struct virtq *vq)
{
	struct fs_queue *q = w->q;
	bool wake = false;
	int r = 0;

	pthread_mutex_lock(&q->ring_lock);
	if (!__atomic_load_n(&q->stopping, __ATOMIC_ACQUIRE) && !q->broken) {
		r = virtq_pop(vq, w->chain);
		if (r >= 0) {
			/* the driver kicks for the next chain it adds (event index: from here) */
			virtq_set_notify(vq, true);
			/* it may have added one before it saw that: look again */
			if (r == 0 && virtq_has_work(vq)) {
				r = virtq_pop(vq, w->chain);
				if (r > 0)
					virtq_set_notify(vq, true);
			}
			wake = r > 0 && virtq_has_work(vq);
		}
		if (r < 0)
			q->broken = true;
	}
	pthread_mutex_unlock(&q->ring_lock);
	if (wake)
		eventfd_write(q->wake_fd, 1);
	return r;
}

/*
 * Give the chain back, unless reset() has taken the ring meanwhile (its answer is lost).
 * Each answer is signalled on its own: the next chain this worker takes may wait in the
 * host for long, and this answer must not wait with it.
 */
static bool queue_push(struct fs_worker *w, struct virtq *vq, uint32_t len)
{
	struct fs_queue *q = w->q;
	bool done = false, irq = false;

	pthread_mutex_lock(&q->ring_lock);
	if (!__atomic_load_n(&q->stopping, __ATOMIC_ACQUIRE)) {
		virtq_push(vq, w->chain->head, len);
		irq = virtq_needs_interrupt(vq);
		done = true;
	}
	pthread_mutex_unlock(&q->ring_lock);
	if (irq)
		virtio_notify_queue(&q->fs->vdev, q->index);
	return done;
}

/* Serve everything available; false once the ring is broken. */
static bool fs_queue_drain(struct fs_worker *w)
{
	struct fs_queue *q = w->q;
	struct fs_device *f = q->fs;
	struct virtq *vq = &f->vdev.queues[q->index];
	struct virtq_chain *c = w->chain;
	int r = 0;

	while ((r = queue_pop(w, vq)) > 0) {
		ssize_t n;

		__atomic_fetch_add(&q->requests, 1, __ATOMIC_RELAXED);
		n = fs_server_handle(f->server, w->scratch, c->iov, c->nreadable,
				     virtq_chain_writable(c), c->nwritable);
		if (n < 0) {
			/* no room for even a reply header: answer with nothing */
			if (!__atomic_exchange_n(&f->bad_request_logged, true, __ATOMIC_RELAXED))
				fprintf(stderr,
					"vmm: %s: a request left no room for its reply "
					"(further ones not logged)\n",
					f->vdev.name);
			n = 0;
		}
		if (!queue_push(w, vq, (uint32_t)n))
			break;
	}
	if (__atomic_load_n(&q->stopping, __ATOMIC_ACQUIRE))
		return true;
	if (r < 0) {
		virtio_queue_fault(&f->vdev, q->index, r);
		return false;
	}
	return true;
}

/* Serve the queue until reset() writes stop_fd. */
static void queue_serve(struct fs_worker *w)
{
	struct fs_queue *q = w->q;
	struct pollfd pfd[3] = { { .fd = q->kick_fd, .events = POLLIN },
				 { .fd = q->stop_fd, .events = POLLIN },
				 { .fd = q->wake_fd, .events = POLLIN } };
	bool ok = true, more = true; /* chains may have been queued before the start */
	uint64_t v;

	for (;;) {
		if (more && ok)
			ok = fs_queue_drain(w);
		more = false;
		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "vmm: %s: queue %u: poll: %s\n", q->fs->vdev.name, q->index,
				strerror(errno));
			break;
		}
		if (pfd[1].revents)
			break; /* left readable: the queue's other workers see it too */
		/* EAGAIN below: another worker took it; the ring is looked at anyway */
		if (pfd[0].revents) {
			if (read(q->kick_fd, &v, sizeof(v)) > 0)
				__atomic_fetch_add(&q->kicks, 1, __ATOMIC_RELAXED);
			more = true;
		}
		if (pfd[2].revents) {
			if (read(q->wake_fd, &v, sizeof(v)) < 0) {
				/* as above */
			}
			more = true;
		}
	}
}

/*
 * Before the first request: from then on the guest steers this thread. Landlock first (its
 * calls are not on the seccomp list), then the list, which names the server's window.
 * Landlock and seccomp are per thread: every worker does both for itself.
 */
static bool queue_fence(struct fs_worker *w)
{
	static bool no_landlock_logged;
	struct fs_queue *q = w->q;
	struct fs_device *f = q->fs;
	struct vmm_seccomp_fds fds = { 0 };
	int r;

	if (w->fenced)
		return true;
	r = fs_server_confine(f->server);
	if (r < 0) {
		fprintf(stderr, "vmm: %s: queue %u: Landlock: %s\n", f->vdev.name, q->index,
			strerror(-r));
		virtio_needs_reset(&f->vdev);
		return false;
	}
	if (r == 0 && !__atomic_exchange_n(&no_landlock_logged, true, __ATOMIC_RELAXED))
		fprintf(stderr, "vmm: this kernel has no Landlock: the file server is confined by "
				"seccomp and its own checks alone\n");
	fs_server_window(f->server, &fds.share_base, &fds.share_size);
	vmm_seccomp_fds_add(&fds, VMM_SECCOMP_FD_EVENT, q->stop_fd);
	vmm_seccomp_fds_add(&fds, VMM_SECCOMP_FD_EVENT, q->wake_fd);
	w->fenced = !virtio_thread_fence(&f->vdev, VMM_SECCOMP_FS, &fds, "queue", q->index);
	return w->fenced;
}

static void *fs_worker_thread(void *arg)
{
	struct fs_worker *w = arg;
	struct fs_device *f = w->q->fs;
	char name[16];

	snprintf(name, sizeof(name), "fs-q%u-%u", w->q->index, w->id - w->q->first);
	pthread_setname_np(pthread_self(), name);
	/* fenced before the guest runs: no thread of the VMM is ever without its list */
	queue_fence(w);
	pthread_mutex_lock(&f->lock);
	w->fence_done = true;
	pthread_cond_broadcast(&f->cond);
	for (;;) {
		while (!f->quit && !w->go && !(w->id == 0 && f->server_reset))
			pthread_cond_wait(&f->cond, &f->lock);
		if (f->quit)
			break;
		if (w->id == 0 && f->server_reset) {
			/* closing what the driver looked up is file-server work: this thread's */
			pthread_mutex_unlock(&f->lock);
			fs_server_reset(f->server);
			pthread_mutex_lock(&f->lock);
			f->server_reset = false;
			pthread_cond_broadcast(&f->cond);
			continue;
		}
		w->go = false;
		w->serving = true;
		pthread_mutex_unlock(&f->lock);
		if (queue_fence(w))
			queue_serve(w);
		pthread_mutex_lock(&f->lock);
		w->serving = false;
		pthread_cond_broadcast(&f->cond);
	}
	w->exited = true;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

static struct fs_worker *worker_of(struct fs_queue *q, unsigned int k)
{
	return &q->fs->workers[q->first + k];
}

static int fs_queue_start(struct virtio_device *vdev, unsigned int index, int kick_fd)
{
	struct fs_device *f = to_fs(vdev);
	bool busy = false, threads = true;
	struct fs_queue *q;
	uint64_t v;
	int r = 0;

	if (index >= FS_NUM_QUEUES)
		return -EINVAL;
	q = &f->queues[index];
	pthread_mutex_lock(&f->lock);
	for (unsigned int k = 0; k < q->nworkers; k++) {
		/* serving without running: still stuck in a host call since the last reset */
		busy |= worker_of(q, k)->serving;
		threads &= worker_of(q, k)->has_thread;
	}
	if (q->running || busy || !vdev->queues[index].enabled || !threads) {
		r = q->running || busy ? -EBUSY : -EINVAL;
		goto out;
	}
	/* a wake-up left over is harmless (a worker looks at the ring once): not read here */
	while (read(q->stop_fd, &v, sizeof(v)) > 0)
		; /* a stop left over from the last reset */
	q->kick_fd = kick_fd;
	q->broken = false; /* no worker is in the ring: nobody holds ring_lock */
	__atomic_store_n(&q->stopping, false, __ATOMIC_RELEASE);
	for (unsigned int k = 0; k < q->nworkers; k++)
		worker_of(q, k)->go = true;
	q->running = true;
	pthread_cond_broadcast(&f->cond);
out:
	pthread_mutex_unlock(&f->lock);
	return r;
}

/* The deadline for every wait of one reset or teardown. */
static struct timespec stop_deadline(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += FS_STOP_WAIT_S;
	return t;
}

/* Wait on f->cond (f->lock held) until the deadline; false once it has passed. */
static bool wait_until(struct fs_device *f, const struct timespec *deadline)
{
	return pthread_cond_timedwait(&f->cond, &f->lock, deadline) != ETIMEDOUT;
}

static void report_stuck(struct fs_device *f, const char *what)
{
	if (!__atomic_exchange_n(&f->stuck_logged, true, __ATOMIC_RELAXED))
		fprintf(stderr,
			"vmm: %s: a file server thread has been in a host call for over %d s; "
			"%s without it\n",
			f->vdev.name, FS_STOP_WAIT_S, what);
}

/*
 * Stop the queues and forget the session. Called with the transport's lock held (a vCPU
 * writing the status): every wait is bounded, and a worker still busy at the deadline is
 * left to finish on its own; it can no longer touch the ring.
 */
static void fs_reset(struct virtio_device *vdev)
{
	struct fs_device *f = to_fs(vdev);
	struct timespec deadline = stop_deadline();
	bool any = false, late = false;

	pthread_mutex_lock(&f->lock);
	for (unsigned int i = 0; i < FS_NUM_QUEUES; i++) {
		struct fs_queue *q = &f->queues[i];

		if (!q->running)
			continue;
		__atomic_store_n(&q->stopping, true, __ATOMIC_RELEASE);
		/* a chain being taken or given back finishes; after that none is */
		pthread_mutex_lock(&q->ring_lock);
		pthread_mutex_unlock(&q->ring_lock);
		eventfd_write(q->stop_fd, 1);
	}
	for (unsigned int i = 0; i < FS_NUM_QUEUES; i++) {
		struct fs_queue *q = &f->queues[i];

		if (!q->running)
			continue;
		/* parked again: the workers no longer touch the ring or guest memory */
		for (unsigned int k = 0; k < q->nworkers; k++) {
			struct fs_worker *w = worker_of(q, k);

			while ((w->go || w->serving) && !late)
				late = !wait_until(f, &deadline);
			w->go = false;
		}
		q->running = false;
		q->kick_fd = -1;
		any = true;
	}
	/* the driver starts over with FUSE_INIT: what it looked up and opened is gone */
	if (any && f->workers[0].has_thread) {
		f->server_reset = true;
		pthread_cond_broadcast(&f->cond);
		while (f->server_reset && !late)
			late = !wait_until(f, &deadline);
	}
	pthread_mutex_unlock(&f->lock);
	if (late)
		report_stuck(f, "the device was reset");
}

static const struct virtio_device_ops fs_ops = {
	.queue_start = fs_queue_start,
	.reset = fs_reset,
};

void fs_seccomp_fds(const struct fs_device *f, struct vmm_seccomp_fds *fds)
{
	for (unsigned int i = 0; i < f->vdev.num_queues && i < FS_NUM_QUEUES; i++)
		vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_EVENT, f->queues[i].stop_fd);
}

/*
 * Raise the process's descriptor limit so that full-size windows fit: the soft limit up
 * to the hard one, and the hard one too where we may (root with CAP_SYS_RESOURCE). Where
 * neither can grow, the windows shrink instead (window_take()).
 */
static void make_room(void)
{
	const rlim_t want = FS_WANT_NOFILE;
	struct rlimit rl, up;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	up.rlim_cur = want;
	up.rlim_max = rl.rlim_max > want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &up) == 0)
		return;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	setrlimit(RLIMIT_NOFILE, &rl);
}

int fs_device_init(struct fs_device *f, struct virtio_device **vdev_out,
		   const struct fs_share_options *o, const struct guest_mem *mem, char *err,
		   size_t errlen)
{
	struct virtio_device *vdev = &f->vdev;
	struct virtio_fs_config cfg;
	size_t taglen = strnlen(o->tag, sizeof(o->tag));

	memset(f, 0, sizeof(*f));
	for (unsigned int i = 0; i < FS_NUM_QUEUES; i++) {
		f->queues[i].stop_fd = -1;
		f->queues[i].wake_fd = -1;
		f->queues[i].kick_fd = -1;
	}
	if (taglen == 0 || taglen > FS_TAG_MAX) {
		snprintf(err, errlen, "%s: the tag must be 1 to %d bytes", o->dir, FS_TAG_MAX);
		return -EINVAL;
	}
	make_room();
	f->server = fs_server_create(o->dir, o->readonly, err, errlen);
	if (!f->server)
		return -EINVAL;
	fs_server_set_cache(f->server, o->cache);
	pthread_mutex_init(&f->lock, NULL);
	for (unsigned int i = 0; i < FS_NUM_QUEUES; i++)
		pthread_mutex_init(&f->queues[i].ring_lock, NULL);
	{
		pthread_condattr_t ca;

		/* the stop deadlines are on the monotonic clock */
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&f->cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	f->vdev.ops = &fs_ops; /* from here fs_device_destroy() undoes the rest */
	for (unsigned int i = 0; i < FS_NUM_QUEUES; i++) {
		struct fs_queue *q = &f->queues[i];

		q->fs = f;
		q->index = i;
		q->first = i == 0 ? 0 : 1;
		q->nworkers = i == 0 ? 1 : FS_REQ_WORKERS;
		q->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		q->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->stop_fd < 0 || q->wake_fd < 0) {
			snprintf(err, errlen, "%s: %s", o->dir, strerror(errno));
			fs_device_destroy(f);
			return -ENOMEM;
		}
		for (unsigned int k = 0; k < q->nworkers; k++) {
			struct fs_worker *w = worker_of(q, k);

			w->q = q;
			w->id = q->first + k;
			w->chain = malloc(sizeof(*w->chain));
			w->scratch = fs_scratch_create();
			if (!w->chain || !w->scratch) {
				snprintf(err, errlen, "%s: %s", o->dir, strerror(ENOMEM));
				fs_device_destroy(f);
				return -ENOMEM;
			}
		}
	}

	memset(&cfg, 0, sizeof(cfg));
	memcpy(cfg.tag, o->tag, taglen);
	cfg.num_request_queues = htole32(FS_NUM_QUEUES - 1);
	memcpy(f->config, &cfg, sizeof(cfg));

	vdev->name = "virtio-fs";
	vdev->device_id = VIRTIO_ID_FS;
	vdev->device_features = 0; /* no notification queue, no DAX window */
	vdev->num_queues = FS_NUM_QUEUES;
	vdev->queue_max_size = FS_QUEUE_SIZE;
	/* the tag and the queue count are read-only (5.11.4) */
	vdev->config = f->config;
	vdev->config_size = FS_CONFIG_SIZE;
	vdev->mem = mem;
	vdev->ops = &fs_ops;
	vdev->priv = f;
	*vdev_out = vdev;
	return 0;
}

int fs_device_start(struct fs_device *f, char *err, size_t errlen)
{
	unsigned int made = 0;
	bool fenced = true;
	int r = 0;

	for (unsigned int i = 0; i < FS_WORKERS; i++) {
		struct fs_worker *w = &f->workers[i];
		sigset_t all, old;

		if (w->has_thread) {
			made++;
			continue;
		}
		/* the worker takes no signals: vCPU kicks and SIGINT/SIGTERM are for others */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		r = pthread_create(&w->thread, NULL, fs_worker_thread, w);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (r)
			break;
		w->has_thread = true;
		made++;
	}
	/* the ones made wait for their fence either way: none serves without it */
	pthread_mutex_lock(&f->lock);
	for (unsigned int i = 0; i < made; i++) {
		while (!f->workers[i].fence_done)
			pthread_cond_wait(&f->cond, &f->lock);
		fenced &= f->workers[i].fenced;
	}
	pthread_mutex_unlock(&f->lock);
	if (r) {
		snprintf(err, errlen, "cannot start a worker: %s", strerror(r));
		return -r;
	}
	if (!fenced) {
		snprintf(err, errlen, "a worker could not confine itself (Landlock or seccomp)");
		return 1;
	}
	return 0;
}

void fs_device_destroy(struct fs_device *f)
{
	struct timespec deadline;
	bool late = false;

	if (!f->server)
		return;
	if (f->vdev.ops) {
		fs_reset(&f->vdev);
		deadline = stop_deadline();
		pthread_mutex_lock(&f->lock);
		f->quit = true;
		pthread_cond_broadcast(&f->cond);
		for (unsigned int i = 0; i < FS_WORKERS; i++)
			while (f->workers[i].has_thread && !f->workers[i].exited && !late)
				late = !wait_until(f, &deadline);
		pthread_mutex_unlock(&f->lock);
		if (late) {
			/* the process is on its way out; the worker may still use all of this */
			report_stuck(f, "stopping");
			return;
		}
	}
	for (unsigned int i = 0; i < FS_WORKERS; i++) {
		struct fs_worker *w = &f->workers[i];

		if (w->has_thread)
			pthread_join(w->thread, NULL); /* it has left its loop: returns at once */
		w->has_thread = false;
		free(w->chain);
		w->chain = NULL;
		fs_scratch_destroy(w->scratch);
		w->scratch = NULL;
	}
	for (unsigned int i = 0; i < FS_NUM_QUEUES; i++) {
		struct fs_queue *q = &f->queues[i];

		if (q->stop_fd >= 0)
			close(q->stop_fd);
		if (q->wake_fd >= 0)
			close(q->wake_fd);
		q->stop_fd = q->wake_fd = -1;
	}
	fs_server_destroy(f->server);
	f->server = NULL;
	pthread_mutex_destroy(&f->lock);
	for (unsigned int i = 0; i < FS_NUM_QUEUES; i++)
		pthread_mutex_destroy(&f->queues[i].ring_lock);
	pthread_cond_destroy(&f->cond);
	f->vdev.ops = NULL;
}

/* ------------------------------------------------------------------------------------ */
/* The kind: --share, in the VMM's registry (virtio/registry.h) */

/* Each guest-held node costs a descriptor: the soft limit goes up to the hard one. */
static int fs_kind_open(struct virtio_slot *slot, const struct virtio_host *host, char *err,
			size_t errlen)
{
	struct fs_device *f = calloc(1, sizeof(*f));
	struct rlimit rl;
	char why[384];

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (!f) {
		snprintf(err, errlen, "--share: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	if (fs_device_init(f, &slot->vdev, slot->options, host->mem, why, sizeof(why))) {
		free(f);
		snprintf(err, errlen, "--share %s", why); /* why names the directory */
		return -EINVAL;
	}
	slot->state = f;
	return 0;
}

/* The workers, made only now that no thread can inherit root's powers. */
static int fs_kind_start(struct virtio_slot *slot, char *err, size_t errlen)
{
	const struct fs_share_options *o = slot->options;
	char why[256];
	int r = fs_device_start(slot->state, why, sizeof(why));

	if (r)
		snprintf(err, errlen, "--share %s: %s", o->dir, why);
	return r < 0 ? -EINVAL : r;
}

static void fs_kind_stop(struct virtio_slot *slot)
{
	fs_device_destroy(slot->state);
}

static void fs_kind_destroy(struct virtio_slot *slot)
{
	struct fs_device *f = slot->state;

	/* a worker stuck in a host call may still use it: then it stays (fs_device_destroy) */
	if (!f->server) {
		free(f);
		slot->state = NULL;
	}
}

static void fs_kind_seccomp_fds(const struct virtio_slot *slot, struct vmm_seccomp_fds *fds)
{
	fs_seccomp_fds(slot->state, fds);
}

const struct virtio_kind virtio_fs_kind = {
	.name = "virtio-fs",
	.noun = "share",
	.stage = VIRTIO_OPEN_JAILED,
	.open = fs_kind_open,
	.start = fs_kind_start,
	.stop = fs_kind_stop,
	.destroy = fs_kind_destroy,
	.seccomp_fds = fs_kind_seccomp_fds,
	.save = NULL, /* snapshots: no state of its own beyond the transport's */
	.restore = NULL,
};
