// SPDX-License-Identifier: MIT
/* virtio-rng (VIRTIO 1.2 section 5.4): see virtio/rng/rng.h. */
#include "virtio/rng/rng.h"
#include "virtio/registry.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <linux/virtio_ids.h>

#define NS_PER_S 1000000000ull
/* The host's pool is not ready yet (early boot): look again this much later. */
#define RNG_NO_ENTROPY_WAIT_NS (10 * 1000000ull)

/* ---- the token bucket ---- */

void rng_bucket_init(struct rng_bucket *b, uint64_t rate, uint64_t now_ns)
{
	uint64_t burst = rate / 16 > RNG_MIN_CHARGE ? rate / 16 : RNG_MIN_CHARGE;

	b->rate = rate;
	b->ceiling = burst * NS_PER_S;
	b->credit = b->ceiling;
	b->last_ns = now_ns;
}

uint64_t rng_bucket_available(struct rng_bucket *b, uint64_t now_ns)
{
	uint64_t elapsed = now_ns > b->last_ns ? now_ns - b->last_ns : 0;

	/* a second refills any bucket (the ceiling is at most a second's worth) */
	if (elapsed > NS_PER_S)
		elapsed = NS_PER_S;
	b->credit += elapsed * b->rate;
	if (b->credit > b->ceiling)
		b->credit = b->ceiling;
	if (now_ns > b->last_ns)
		b->last_ns = now_ns;
	return b->credit / NS_PER_S;
}

void rng_bucket_take(struct rng_bucket *b, uint64_t bytes)
{
	uint64_t cost = bytes * NS_PER_S;

	b->credit = cost < b->credit ? b->credit - cost : 0;
}

uint64_t rng_bucket_wait_ns(const struct rng_bucket *b, uint64_t bytes)
{
	uint64_t need = bytes * NS_PER_S;

	if (b->credit >= need)
		return 0;
	return (need - b->credit + b->rate - 1) / b->rate;
}

/* ---- serving the queue ---- */

static void driver_error(struct rng *r, int why)
{
	r->broken = true;
	virtio_queue_fault(&r->vdev, 0, why);
}

/* Random bytes into the chain's writable buffers, at most max: the count or -EAGAIN. */
static ssize_t fill_chain(struct virtq_chain *c, uint64_t max)
{
	struct iovec *iov = virtq_chain_writable(c);
	size_t done = 0;

	for (unsigned int i = 0; i < c->nwritable && done < max; i++) {
		size_t want = iov[i].iov_len < max - done ? iov[i].iov_len : max - done;
		ssize_t n;

		if (!want)
			continue; /* a zero-length buffer's pointer is not to be used */
		n = getrandom(iov[i].iov_base, want, GRND_NONBLOCK);
		if (n < 0)
			return done ? (ssize_t)done : -EAGAIN;
		done += (size_t)n;
		if ((size_t)n < want)
			break;
	}
	return (ssize_t)done;
}

int rng_queue_serve(struct rng *r, uint64_t now_ns, uint64_t *wait_ns)
{
	struct virtq *vq = &r->vdev.queues[0];
	bool pushed = false;
	int ret = 0;

	*wait_ns = 0;
	if (r->broken)
		return -EPROTO;
	virtq_set_notify(vq, false);
	while (!__atomic_load_n(&r->stopping, __ATOMIC_ACQUIRE)) {
		uint64_t allowed = rng_bucket_available(&r->bucket, now_ns);
		struct virtq_chain *c = r->chain;
		ssize_t n;
		int got;

		if (allowed < RNG_MIN_CHARGE && virtq_has_work(vq)) {
			*wait_ns = rng_bucket_wait_ns(&r->bucket, RNG_MIN_CHARGE);
			break; /* notifications stay off: the timer brings the worker back */
		}
		got = allowed < RNG_MIN_CHARGE ? 0 : virtq_pop(vq, c);
		if (got == 0) {
			virtq_set_notify(vq, true);
			if (!virtq_has_work(vq))
				break;
			virtq_set_notify(vq, false);
			continue;
		}
		if (got > 0 && (c->nreadable || !c->writable_bytes))
			got = -EINVAL; /* a buffer the device may not write (5.4.6.1) */
		if (got < 0) {
			driver_error(r, got);
			ret = got;
			break;
		}
		n = fill_chain(c, allowed);
		if (n < 0) {
			virtq_unpop(vq, 1);
			if (!__atomic_exchange_n(&r->no_entropy_logged, true, __ATOMIC_RELAXED))
				fprintf(stderr,
					"vmm: %s: the host's entropy pool is not ready yet\n",
					r->vdev.name);
			*wait_ns = RNG_NO_ENTROPY_WAIT_NS;
			ret = -EAGAIN;
			break;
		}
		virtq_push(vq, c->head, (uint32_t)n);
		rng_bucket_take(&r->bucket,
				(uint64_t)n > RNG_MIN_CHARGE ? (uint64_t)n : RNG_MIN_CHARGE);
		__atomic_fetch_add(&r->requests, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&r->bytes, (uint64_t)n, __ATOMIC_RELAXED);
		pushed = true;
	}
	if (pushed && virtq_needs_interrupt(vq))
		virtio_notify_queue(&r->vdev, 0);
	return ret;
}

/* ---- the worker ---- */

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * NS_PER_S + (uint64_t)t.tv_nsec;
}

/* Serve until reset() writes stop_fd. */
static void serve(struct rng *r)
{
	struct pollfd pfd[2] = { { .fd = r->stop_fd, .events = POLLIN },
				 { .fd = r->kick_fd, .events = POLLIN } };
	uint64_t wait = 0, v;
	bool more = true; /* chains may have been made available before the start */

	for (;;) {
		struct timespec t;

		if (more && !r->broken)
			rng_queue_serve(r, now_ns(), &wait);
		more = false;
		t.tv_sec = (time_t)(wait / NS_PER_S);
		t.tv_nsec = (long)(wait % NS_PER_S);
		/* throttled: the kicks wait too, or each one would wake us for nothing */
		if (ppoll(pfd, wait ? 1 : 2, wait ? &t : NULL, NULL) < 0 && errno != EINTR) {
			fprintf(stderr, "vmm: %s: queue 0: poll: %s\n", r->vdev.name,
				strerror(errno));
			break;
		}
		if (pfd[0].revents || __atomic_load_n(&r->stopping, __ATOMIC_ACQUIRE))
			break;
		if (wait) {
			wait = 0;
			more = true;
		} else if (pfd[1].revents) {
			if (read(r->kick_fd, &v, sizeof(v)) > 0)
				__atomic_fetch_add(&r->kicks, 1, __ATOMIC_RELAXED);
			more = true;
		}
		pfd[1].revents = 0;
	}
}

static void *worker(void *arg)
{
	struct rng *r = arg;
	struct vmm_seccomp_fds fds = { 0 };
	bool fenced;

	pthread_setname_np(pthread_self(), "rng-q0");
	vmm_seccomp_fds_add(&fds, VMM_SECCOMP_FD_EVENT, r->stop_fd);
	/* loaded before the guest runs: no thread of the VMM is ever without its list */
	fenced = !virtio_thread_fence(&r->vdev, VMM_SECCOMP_RNG, &fds, "queue", 0);
	pthread_mutex_lock(&r->lock);
	r->fenced = fenced;
	r->fence_done = true;
	pthread_cond_broadcast(&r->cond);
	for (;;) {
		while (!r->quit && !r->go)
			pthread_cond_wait(&r->cond, &r->lock);
		if (r->quit)
			break;
		r->go = false;
		r->serving = true;
		pthread_mutex_unlock(&r->lock);
		if (fenced)
			serve(r);
		pthread_mutex_lock(&r->lock);
		r->serving = false;
		pthread_cond_broadcast(&r->cond);
	}
	r->exited = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

static int rng_queue_start(struct virtio_device *vdev, unsigned int index, int kick_fd)
{
	struct rng *r = vdev->priv;
	uint64_t v;
	int ret = 0;

	if (index != 0)
		return -EINVAL;
	pthread_mutex_lock(&r->lock);
	if (r->running || r->serving) {
		ret = -EBUSY;
	} else if (!vdev->queues[0].enabled || !r->has_thread) {
		ret = -EINVAL;
	} else {
		while (read(r->stop_fd, &v, sizeof(v)) > 0)
			; /* a stop left over from the last reset */
		r->kick_fd = kick_fd;
		r->broken = false;
		__atomic_store_n(&r->stopping, false, __ATOMIC_RELEASE);
		r->go = true;
		r->running = true;
		pthread_cond_broadcast(&r->cond);
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

/* The worker never blocks in a host call, so this wait is short and unbounded. */
static void rng_reset(struct virtio_device *vdev)
{
	struct rng *r = vdev->priv;

	pthread_mutex_lock(&r->lock);
	if (r->running) {
		__atomic_store_n(&r->stopping, true, __ATOMIC_RELEASE);
		eventfd_write(r->stop_fd, 1);
		while (r->go || r->serving)
			pthread_cond_wait(&r->cond, &r->lock);
		r->running = false;
		r->kick_fd = -1;
	}
	r->broken = false;
	pthread_mutex_unlock(&r->lock);
}

static const struct virtio_device_ops rng_ops = {
	.queue_start = rng_queue_start,
	.reset = rng_reset,
};

int rng_init(struct rng *r, struct virtio_device **vdev_out, uint64_t rate,
	     const struct guest_mem *mem, char *err, size_t errlen)
{
	struct virtio_device *vdev = &r->vdev;

	memset(r, 0, sizeof(*r));
	r->stop_fd = -1;
	r->kick_fd = -1;
	if (rate < RNG_RATE_MIN || rate > RNG_RATE_MAX) {
		snprintf(err, errlen, "rate=%" PRIu64 ": must be %llu to %llu bytes per second",
			 rate, RNG_RATE_MIN, RNG_RATE_MAX);
		return -EINVAL;
	}
	r->chain = malloc(sizeof(*r->chain));
	r->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!r->chain || r->stop_fd < 0) {
		int ret = -errno;

		snprintf(err, errlen, "%s", strerror(errno));
		free(r->chain);
		if (r->stop_fd >= 0)
			close(r->stop_fd);
		return ret;
	}
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	rng_bucket_init(&r->bucket, rate, now_ns());

	vdev->name = "virtio-rng";
	vdev->device_id = VIRTIO_ID_RNG;
	vdev->device_features = 0;
	vdev->num_queues = 1;
	vdev->queue_max_size = RNG_QUEUE_SIZE;
	vdev->config_size = 0;
	vdev->mem = mem;
	vdev->transport_irq_fd = -1;
	vdev->ops = &rng_ops;
	vdev->priv = r;
	*vdev_out = vdev;
	return 0;
}

int rng_start(struct rng *r, char *err, size_t errlen)
{
	sigset_t all, old;
	int ret;

	if (r->has_thread)
		return 0;
	/* the worker takes no signals: vCPU kicks and SIGINT/SIGTERM are for others */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&r->thread, NULL, worker, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		snprintf(err, errlen, "cannot start its worker: %s", strerror(ret));
		return -ret;
	}
	pthread_mutex_lock(&r->lock);
	r->has_thread = true;
	while (!r->fence_done)
		pthread_cond_wait(&r->cond, &r->lock);
	ret = r->fenced ? 0 : 1;
	pthread_mutex_unlock(&r->lock);
	if (ret)
		snprintf(err, errlen, "its worker could not load its seccomp list");
	return ret;
}

void rng_destroy(struct rng *r)
{
	if (!r->vdev.ops)
		return;
	rng_reset(&r->vdev);
	pthread_mutex_lock(&r->lock);
	r->quit = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	if (r->has_thread)
		pthread_join(r->thread, NULL);
	r->has_thread = false;
	close(r->stop_fd);
	r->stop_fd = -1;
	free(r->chain);
	r->chain = NULL;
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	r->vdev.ops = NULL;
}

void rng_seccomp_fds(const struct rng *r, struct vmm_seccomp_fds *fds)
{
	vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_EVENT, r->stop_fd);
}

/* ------------------------------------------------------------------------------------ */
/* The kind: --rng, in the VMM's registry (virtio/registry.h) */

static int rng_kind_open(struct virtio_slot *slot, const struct virtio_host *host, char *err,
			 size_t errlen)
{
	const struct rng_options *o = slot->options;
	struct rng *r = calloc(1, sizeof(*r));
	char why[256];

	if (!r || rng_init(r, &slot->vdev, o->rate, host->mem, why, sizeof(why))) {
		snprintf(err, errlen, "--rng: %s", r ? why : strerror(ENOMEM));
		free(r);
		return -EINVAL;
	}
	slot->state = r;
	return 0;
}

static int rng_kind_start(struct virtio_slot *slot, char *err, size_t errlen)
{
	char why[256];
	int ret = rng_start(slot->state, why, sizeof(why));

	if (ret)
		snprintf(err, errlen, "%s: %s", slot->name, why);
	return ret < 0 ? -ret : ret; /* the host's fault either way */
}

static void rng_kind_stop(struct virtio_slot *slot)
{
	rng_destroy(slot->state); /* the counters stay for --stats */
}

static void rng_kind_destroy(struct virtio_slot *slot)
{
	free(slot->state);
	slot->state = NULL;
}

static void rng_kind_seccomp_fds(const struct virtio_slot *slot, struct vmm_seccomp_fds *fds)
{
	rng_seccomp_fds(slot->state, fds);
}

static void rng_kind_queue_counters(const struct virtio_slot *slot, unsigned int q, uint64_t *kicks,
				    uint64_t *requests)
{
	const struct rng *r = slot->state;

	(void)q; /* one queue */
	*kicks = virtio_report_load(&r->kicks);
	*requests = virtio_report_load(&r->requests);
}

const struct virtio_kind virtio_rng_kind = {
	.name = "virtio-rng",
	.noun = "entropy device",
	.stage = VIRTIO_OPEN_HOST,
	.open = rng_kind_open,
	.start = rng_kind_start,
	.stop = rng_kind_stop,
	.destroy = rng_kind_destroy,
	.seccomp_fds = rng_kind_seccomp_fds,
	.queue_counters = rng_kind_queue_counters,
	.save = NULL, /* snapshots: no state of its own beyond the transport's */
	.snapshot_live = true,
	.restore = NULL,
};
