/* SPDX-License-Identifier: MIT */
/*
 * virtio-fs (VIRTIO 1.2 section 5.11): a host directory the guest mounts with
 * `mount -t virtiofs TAG /mnt`. The guest's FUSE requests arrive over the virtqueues and
 * are answered here, inside the VMM; there is no separate daemon and no /dev/fuse.
 *
 * Two layers:
 *   fs_server  the FUSE file server for one shared directory. It takes one request as
 *              the readable buffers of a descriptor chain and writes the reply into the
 *              writable ones; it knows nothing about virtqueues, so tests and the fuzz
 *              target drive it directly.
 *   fs_device  the virtio device: configuration space (tag, one request queue), queue 0
 *              (hiprio: FORGET) with one worker thread and queue 1 (requests) with
 *              FS_REQ_WORKERS of them.
 *
 * Threading: every worker calls fs_server_handle() with its own scratch and chain, and the
 * server takes care of its own tables (virtio/fs/fs_server.h), so a request that waits in
 * the host (a slow file, a large directory) holds up only its own worker: the other
 * request workers go on with the ring, and the hiprio worker's FORGETs never wait for a
 * request. A queue's ring_lock is held to take a chain, to give one back and to decide on
 * an interrupt, never while a request is served; chains are given back in the order
 * they finish, which virtio-fs allows. Driver notifications stay on while requests are
 * served, so a chain that arrives while every awake worker waits in the host still wakes
 * a parked one. fs->lock orders the workers (start, park, reset, quit) against
 * queue_start() and reset(), which run on a vCPU.
 *
 * The file server's safety rules are in virtio/fs/fs_server.h.
 */
#ifndef VIRTIO_FS_FS_H
#define VIRTIO_FS_FS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "virtio/fs/fs_server.h"

#define FS_TAG_MAX 36	   /* bytes of virtio_fs_config.tag, not NUL-terminated there */
#define FS_DIR_MAX 4096	   /* bytes of a --share directory path, NUL included */
#define FS_QUEUE_SIZE 1024 /* entries offered per queue */

/* One --share HOSTDIR[:TAG][,readonly=on][,cache=never|auto|always]. */
struct fs_share_options {
	char dir[FS_DIR_MAX];
	char tag[FS_TAG_MAX + 1]; /* NUL-terminated here */
	bool readonly;
	enum fs_cache cache; /* zero: FS_CACHE_AUTO */
};

#include "virtio/device.h"

#define FS_NUM_QUEUES 2 /* hiprio + one request queue */
#define FS_CONFIG_SIZE 40
/*
 * Workers of the request queue. Four: enough that a few requests waiting in the host (a
 * slow or hung file system below the share, a large READDIRPLUS) leave the rest of the
 * guest's file I/O served, and few enough to be cheap when idle (a parked thread and about
 * 180 KiB of buffers each). Past a handful, more threads would mostly queue for the same
 * disk and the same few host CPUs; the number is a judgement, not a measurement.
 */
#define FS_REQ_WORKERS 4
#define FS_WORKERS (1 + FS_REQ_WORKERS) /* the hiprio queue has one */

struct fs_device;
struct fs_queue;

/*
 * One worker thread. It exists from fs_device_start() on, parked until the driver starts
 * its queue: made by the main thread before its own seccomp list, once the process has
 * given up its privileges, it loads the file-server list itself first thing instead of
 * inheriting a vCPU's (which has no business opening files).
 */
struct fs_worker {
	struct fs_queue *q;
	unsigned int id; /* index in fs->workers: 0 is the hiprio queue's */
	pthread_t thread;
	bool has_thread;
	bool fence_done; /* under fs->lock: the worker has tried to load its list */
	bool go;	 /* under fs->lock: serve from the queue's kick_fd */
	bool serving;	 /* under fs->lock: the worker is in its serving loop */
	bool fenced;	 /* the worker confined itself and loaded its seccomp list */
	bool exited;	 /* under fs->lock: the worker has left its loop, ready to be joined */
	/* its own, allocated at init: serving allocates nothing */
	struct virtq_chain *chain;
	struct fs_scratch *scratch;
};

struct fs_queue {
	struct fs_device *fs;
	unsigned int index;
	unsigned int first, nworkers; /* its workers: fs->workers[first, first + nworkers) */
	bool running;		      /* started by the driver and not reset since */
	int stop_fd; /* written once by reset(): every worker of the queue sees it */
	int wake_fd; /* a worker that takes a chain with more behind it wakes another */
	int kick_fd;
	bool stopping; /* atomic: reset() wants the threads to end */
	/*
	 * Held by a worker while it takes a chain from the ring, gives one back or decides on
	 * an interrupt; reset() takes it once after setting stopping, so from then on the ring
	 * is the next driver's, even if a worker stays stuck in a host call long after reset()
	 * stopped waiting.
	 */
	pthread_mutex_t ring_lock;
	bool broken; /* under ring_lock: a worker found the ring broken; none pops until reset */
	/* statistics: relaxed atomics, kept across device resets */
	uint64_t kicks;
	uint64_t requests;
};

struct fs_device {
	struct virtio_device vdev;
	uint8_t config[FS_CONFIG_SIZE]; /* virtio_fs_config, little-endian */
	struct fs_server *server;
	pthread_mutex_t lock; /* queue_start() against reset(); the workers' orders */
	pthread_cond_t cond;  /* an order or a state change of a worker */
	bool server_reset;    /* under lock: worker 0 forgets every node, then clears it */
	bool quit;	      /* under lock: the device is going away */
	bool bad_request_logged;
	bool stuck_logged; /* a worker outlived a reset or teardown: said once */
	struct fs_queue queues[FS_NUM_QUEUES];
	struct fs_worker workers[FS_WORKERS];
};

/*
 * Open o->dir and fill f->vdev (device ID 26, two queues, config space, ops); the caller
 * then wires the transport and may rename vdev->name ("virtio-fs" by default). Makes no
 * thread. Returns 0 with *vdev_out = &f->vdev, or -errno with one sentence in err.
 */
int fs_device_init(struct fs_device *f, struct virtio_device **vdev_out,
		   const struct fs_share_options *o, const struct guest_mem *mem, char *err,
		   size_t errlen);
/*
 * Make the queue workers, once the transport is wired and the process has dropped its
 * privileges: capabilities and no-new-privs are per thread, so a worker made earlier
 * would keep root's. Each worker confines itself (Landlock) and loads its seccomp list
 * before this returns. Returns 0; a negative errno when a thread cannot be made; 1 when
 * a worker could not confine itself (it said why on stderr). err gets one sentence
 * either way.
 */
int fs_device_start(struct fs_device *f, char *err, size_t errlen);
/*
 * Stop the queue threads and release everything fs_device_init() took. Waits a bounded
 * time for the workers: one stuck in a host call is reported, and what it may still touch
 * (the server, its chain) is left alone; calling this again later finishes the job.
 */
void fs_device_destroy(struct fs_device *f);
/*
 * Add the queues' stop eventfds to a seccomp descriptor set: what a thread that starts
 * or resets the device (a vCPU, or the main thread at exit) reads and writes.
 */
void fs_seccomp_fds(const struct fs_device *f, struct vmm_seccomp_fds *fds);

/* --share in the VMM's device registry (virtio/registry.h) */
struct virtio_kind;
extern const struct virtio_kind virtio_fs_kind;

#endif
