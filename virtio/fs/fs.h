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
 *              (hiprio: FORGET) and queue 1 (requests), one thread per queue.
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

struct fs_device;

struct fs_queue {
	struct fs_device *fs;
	unsigned int index;
	bool running; /* started by the driver and not reset since */
	/*
	 * The worker exists from fs_device_start() on, parked until the driver starts the
	 * queue: made by the main thread before its own seccomp list, once the process has
	 * given up its privileges, it loads the file-server list itself first thing instead
	 * of inheriting a vCPU's (which has no business opening files).
	 */
	pthread_t thread;
	bool has_thread;
	bool fence_done; /* under fs->lock: the worker has tried to load its list */
	bool go;	 /* under fs->lock: serve from kick_fd */
	bool serving;	 /* under fs->lock: the worker is in its serving loop */
	bool quit;	 /* under fs->lock: the device is going away */
	bool fenced;	 /* the worker confined itself and loaded its seccomp list */
	bool exited;	 /* under fs->lock: the worker has left its loop, ready to be joined */
	int stop_fd;
	int kick_fd;
	bool stopping; /* atomic: reset() wants the thread to end */
	/*
	 * Held by the worker while it takes a chain from the ring or gives one back; reset()
	 * takes it once after setting stopping, so from then on the ring is the next driver's,
	 * even if the worker stays stuck in a host call long after reset() stopped waiting.
	 */
	pthread_mutex_t ring_lock;
	struct virtq_chain *chain;
	/* statistics: relaxed atomics, kept across device resets */
	uint64_t kicks;
	uint64_t requests;
};

struct fs_device {
	struct virtio_device vdev;
	uint8_t config[FS_CONFIG_SIZE]; /* virtio_fs_config, little-endian */
	struct fs_server *server;
	pthread_mutex_t lock;	     /* queue_start() against reset(); the workers' orders */
	pthread_cond_t cond;	     /* an order or a state change of a worker */
	bool server_reset;	     /* under lock: worker 0 forgets every node, then clears it */
	pthread_mutex_t server_lock; /* one request at a time in the server */
	bool bad_request_logged;
	bool stuck_logged; /* a worker outlived a reset or teardown: said once */
	struct fs_queue queues[FS_NUM_QUEUES];
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
