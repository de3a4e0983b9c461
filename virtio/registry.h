/* SPDX-License-Identifier: MIT */
/*
 * One shape for every virtio device kind (block, network, shared directory, entropy): a
 * table of operations that the VMM calls at each step of a device's life, and the slot
 * each device lives in. A kind's table sits at the end of its own file (virtio_blk_kind
 * in virtio/blk/blk.c, ...); vmm/devices.c lists the kinds, one line each, and walks the
 * slots, so vmm/ never names a kind.
 *
 * A device's life, in the order vmm/main.c goes through it (one thread, the main one):
 *   open        from its options, at the kind's stage, while the VMM may still open
 *               files and devices (before the privileges go); sets slot->state, ->vdev
 *   log_opened  its line on stderr, once every input is accepted
 *   connect     the KVM VM exists (vhost-net wants the rings' memory)
 *   (the VMM wraps slot->vdev in slot->pci and puts it on the PCI bus)
 *   start       the threads it makes at set-up, each loading its own seccomp list
 *   ... the guest runs: queues start and reset through virtio_device_ops (device.h) ...
 *   stop        after the vCPUs: no thread of it touches guest memory any more; its
 *               counters stay readable for --stats
 *   destroy     release everything open took
 * Every operation but open may be NULL: nothing to do at that step. stop and destroy are
 * called only for slots whose open succeeded.
 */
#ifndef VIRTIO_REGISTRY_H
#define VIRTIO_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "virtio/device.h"
#include "virtio/pci.h"
#include "vmm/memory.h"
#include "vmm/seccomp.h"
#include "vmm/snapshot_format.h"

struct event_loop;
struct virtio_kind;

/* When a kind opens its devices: the order of the VMM's start-up, and of its errors. */
enum virtio_open_stage {
	/* before the kernel is read: its errors are named first (an inherited TAP by number) */
	VIRTIO_OPEN_FIRST,
	/* after the kernel, before --jail: host files by their paths (disk images) */
	VIRTIO_OPEN_HOST,
	/* inside --jail: what the jail bind-mounts for it (shared directories) */
	VIRTIO_OPEN_JAILED,
};

/* What open may use from the VMM. */
struct virtio_host {
	const struct guest_mem *mem; /* its size is known from the start; RAM comes later */
	unsigned int ncpus;
	struct event_loop *loop; /* back ends served by the main thread register here */
};

struct virtio_slot {
	const struct virtio_kind *kind;
	unsigned int index;	    /* among the devices of its kind */
	const void *options;	    /* the kind's own (struct disk_options, ...) */
	char name[24];		    /* "virtio-blk0": the kind's name and the index */
	void *state;		    /* the kind's device (struct blk, ...), from open */
	struct virtio_device *vdev; /* inside state, from open */
	struct virtio_pci pci;	    /* its transport, once on the bus */
	bool opened;		    /* open succeeded: stop and destroy are owed */
};

/* Where --stats goes: the table's rows end in eol ("\r\n" on a raw terminal). */
struct virtio_report {
	FILE *out;
	const char *eol;
};

void virtio_report_row(struct virtio_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* s as a JSON string, quotes included. */
void virtio_report_json_string(FILE *out, const char *s);
/* A counter the hot paths keep with relaxed atomics. */
static inline uint64_t virtio_report_load(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

struct virtio_kind {
	const char *name; /* "virtio-blk": each device's name is this and its index */
	const char *noun; /* "disk": in "cannot put disk 0 on the PCI bus" */
	enum virtio_open_stage stage;
	/*
	 * Create the device from slot->options: set slot->state and slot->vdev. Returns 0, or
	 * -errno with one sentence in err that names the option ("--disk path=...: ...").
	 */
	int (*open)(struct virtio_slot *slot, const struct virtio_host *host, char *err,
		    size_t errlen);
	void (*log_opened)(const struct virtio_slot *slot);
	/* The KVM VM exists and guest RAM is registered. Returns 0 or -errno with err. */
	int (*connect)(struct virtio_slot *slot, char *err, size_t errlen);
	/*
	 * Make the device's own threads; the privileges are gone. Returns 0; -errno when
	 * the options are at fault (exit status 2), a positive value when the host is (1).
	 */
	int (*start)(struct virtio_slot *slot, char *err, size_t errlen);
	void (*stop)(struct virtio_slot *slot);
	void (*destroy)(struct virtio_slot *slot);
	/*
	 * The descriptors a thread that starts, resets or runs its queues uses (the
	 * transport's kicks and irqfds are added by the VMM): every vCPU's list, the main
	 * thread's, and through them the queue threads they make.
	 */
	void (*seccomp_fds)(const struct virtio_slot *slot, struct vmm_seccomp_fds *fds);
	/* Its back end runs in the main thread's event loop and needs sockets there. */
	bool (*uses_main_loop)(const struct virtio_slot *slot);

	/*
	 * --stats. queue_counters, if set, puts the device in the "virtio devices" table and
	 * the "virtio" JSON array: kicks and requests of queue q (below vdev->num_queues).
	 * report_key, if set, gives the kind a table and a JSON array of its own under that
	 * key (always present, empty without devices): report_heading once, report_rows
	 * per device, report_json writes one device's object.
	 */
	void (*queue_counters)(const struct virtio_slot *slot, unsigned int q, uint64_t *kicks,
			       uint64_t *requests);
	const char *report_key;
	void (*report_heading)(struct virtio_report *r);
	void (*report_rows)(struct virtio_report *r, const struct virtio_slot *slot);
	void (*report_json)(FILE *out, const struct virtio_slot *slot);

	/*
	 * vm.pause and vm.resume (vmm/pause.h), called on the main thread once every vCPU
	 * has parked and before any runs again. pause must return only when no thread of
	 * the device touches guest memory or issues host I/O; resume lets them go on. NULL
	 * in every kind for now: with the vCPUs parked no new request can start, but a
	 * request already queued completes and a TAP's frames are still received.
	 */
	void (*pause)(struct virtio_slot *slot);
	void (*resume)(struct virtio_slot *slot);

	/*
	 * Snapshots (vmm/snapshot.h), on the main thread with every vCPU parked. save makes
	 * what the device holds durable (a disk: fdatasync) and writes its own state as
	 * section SNAP_DEVICE, instance, of w; restore gets that section's bytes back on a
	 * device opened from the restore's command line, and refuses (-EINVAL, one line in
	 * err) one that cannot carry on from it (a disk of another size). Both return 0 or
	 * -errno. NULL: nothing to save; restore then accepts only an empty section.
	 */
	int (*save)(struct virtio_slot *slot, struct snap_writer *w, uint32_t instance);
	/*
	 * A device the driver has started can be saved: the device's reset op completes
	 * every request its threads took, and queue_start goes on from the rings' indices
	 * (virtio_pci_quiesce). Without it, vm.snapshot refuses while the device is live.
	 */
	bool snapshot_live;
	/*
	 * Optional, with snapshot_live: why this one device, live, cannot be saved after all
	 * (a phrase for the refusal's line: "its queues are served by vhost-net"), or NULL.
	 */
	const char *(*snapshot_refusal)(const struct virtio_slot *slot);
	int (*restore)(struct virtio_slot *slot, const void *data, size_t len, char *err,
		       size_t errlen);
	/*
	 * Optional: the restored VM is complete (devices, vCPUs, clock) and its vCPUs run
	 * next, on this host, behind this command line's back ends: tell the guest what
	 * that changes (a NIC: announce the guest's addresses to the new network). Main
	 * thread; an interrupt raised here is pending when the vCPUs start.
	 */
	void (*restored)(struct virtio_slot *slot);
};

#endif
