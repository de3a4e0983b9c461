/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng, the entropy device (VIRTIO 1.2 section 5.4): one request queue; the driver
 * posts device-writable buffers and the device fills them with random bytes, here from
 * the host's getrandom() (GRND_NONBLOCK: it never waits for the host's pool).
 *
 * Rate limit: a token bucket of rate bytes per second (--rng rate=, default 1 MiB/s) that
 * holds at most 1/16 s worth (at least RNG_MIN_CHARGE). Every chain costs at least
 * RNG_MIN_CHARGE bytes of it, however small, so a guest cannot make the host spin by
 * posting tiny buffers; when the bucket is empty the worker sleeps until it refills and
 * does not look at the ring.
 *
 * Threads: one worker, made at set-up (rng_start(), once the privileges are gone), which
 * loads the "entropy" seccomp list (the only one that allows getrandom) and then waits
 * to be told to serve. queue_start() (a vCPU) tells it; reset() (a vCPU, or the main
 * thread at exit) tells it to stop and waits until it no longer touches the ring or guest
 * memory; neither waits for a host call, since the worker makes none that blocks.
 *
 * A chain with a device-readable buffer, or without a writable byte, breaks the rules
 * (5.4.6.1): the device asks for NEEDS_RESET, as for any virtqueue fault, and serves
 * nothing more until the driver resets it.
 */
#ifndef VIRTIO_RNG_RNG_H
#define VIRTIO_RNG_RNG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/device.h"

#define RNG_QUEUE_SIZE 256
#define RNG_DEFAULT_RATE (1ull << 20) /* bytes per second */
#define RNG_RATE_MIN 64ull
#define RNG_RATE_MAX (1ull << 30)
#define RNG_MIN_CHARGE 64u /* bytes of the bucket one chain costs at least */

/* --rng [rate=BYTES_PER_SEC] */
struct rng_options {
	uint64_t rate; /* RNG_RATE_MIN..RNG_RATE_MAX */
};

/* Bytes allowed so far, kept in byte-nanoseconds so that no refill is rounded away. */
struct rng_bucket {
	uint64_t rate;	  /* bytes per second */
	uint64_t credit;  /* bytes * 1e9 */
	uint64_t ceiling; /* the most credit it holds */
	uint64_t last_ns; /* when credit was last brought up to date */
};

/* A full bucket at now_ns. */
void rng_bucket_init(struct rng_bucket *b, uint64_t rate, uint64_t now_ns);
/* Whole bytes available at now_ns (refilled first). */
uint64_t rng_bucket_available(struct rng_bucket *b, uint64_t now_ns);
/* Spend bytes, at most what rng_bucket_available() just said. */
void rng_bucket_take(struct rng_bucket *b, uint64_t bytes);
/* Nanoseconds from the last refill until bytes are available. */
uint64_t rng_bucket_wait_ns(const struct rng_bucket *b, uint64_t bytes);

struct rng {
	struct virtio_device vdev;
	struct rng_bucket bucket; /* the worker's */
	struct virtq_chain *chain;
	pthread_mutex_t lock; /* queue_start() and reset() against the worker */
	pthread_cond_t cond;
	pthread_t thread;
	int stop_fd;	   /* eventfd: reset() or teardown wakes the worker */
	int kick_fd;	   /* the queue's, from queue_start(); -1 when stopped */
	bool has_thread;   /* (lock) */
	bool fence_done;   /* (lock) the worker tried to load its seccomp list */
	bool fenced;	   /* (lock) and did */
	bool go, running;  /* (lock) told to serve; started and not reset */
	bool serving;	   /* (lock) in the serve loop: it may touch the ring */
	bool quit, exited; /* (lock) teardown */
	bool stopping;	   /* atomic: leave the serve loop now */
	bool broken;	   /* the driver broke the rules: nothing until reset (worker) */
	bool no_entropy_logged;
	/* statistics (vmm/stats.h): relaxed atomics, kept across device resets */
	uint64_t kicks;	   /* notifications the worker consumed */
	uint64_t requests; /* chains it filled */
	uint64_t bytes;	   /* random bytes it wrote */
};

/*
 * Fill r->vdev (device ID 4, one queue, no configuration space) for a bucket of rate
 * bytes per second. Makes no thread. Returns 0 with *vdev_out = &r->vdev, or -errno with
 * one sentence in err.
 */
int rng_init(struct rng *r, struct virtio_device **vdev_out, uint64_t rate,
	     const struct guest_mem *mem, char *err, size_t errlen);
/*
 * Make the worker (see above); it has loaded its seccomp list when this returns. Returns
 * 0; -errno when no thread can be made; 1 when it could not load its list.
 */
int rng_start(struct rng *r, char *err, size_t errlen);
/*
 * One pass over the queue at now_ns, on the calling thread: fill every available chain
 * the bucket allows and raise the interrupt. What the worker does after each wake-up;
 * tests and fuzzers call it on an enabled queue without a worker. Returns 0 with
 * *wait_ns 0 (the ring is empty, notifications are on) or the time until the bucket
 * allows the next chain; -EAGAIN (the host has no entropy yet: try again later); or a
 * negative errno once the driver broke the rules (NEEDS_RESET was asked for).
 */
int rng_queue_serve(struct rng *r, uint64_t now_ns, uint64_t *wait_ns);
/* Reset, stop the worker, release everything rng_init() took. */
void rng_destroy(struct rng *r);
/* The stop eventfd: what a thread that resets the device writes. */
void rng_seccomp_fds(const struct rng *r, struct vmm_seccomp_fds *fds);

/* --rng in the VMM's device registry (virtio/registry.h) */
struct virtio_kind;
extern const struct virtio_kind virtio_rng_kind;

#endif
