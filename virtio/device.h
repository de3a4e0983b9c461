/* SPDX-License-Identifier: MIT */
/*
 * What a virtio device (block, net, ...) and its transport (virtio-pci) promise each
 * other (VIRTIO 1.2 sections 2 and 4.1). The device knows its config space, features
 * and queues; the transport owns feature negotiation, device status, the notification
 * path (ioeventfd in) and the interrupt path (MSI-X or INTx out).
 */
#ifndef VIRTIO_DEVICE_H
#define VIRTIO_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtqueue.h"
#include "vmm/memory.h"
#include "vmm/seccomp.h"

#define VIRTIO_MAX_QUEUES 64

struct virtio_device;

struct virtio_device_ops {
	/*
	 * The driver set DRIVER_OK: start serving queue q. Notifications for it arrive as
	 * reads becoming possible on kick_fd (an eventfd wired to the notify register by
	 * ioeventfd; the transport owns it, and gives the same one at every start). Returns 0
	 * or -errno.
	 */
	int (*queue_start)(struct virtio_device *vdev, unsigned int q, int kick_fd);
	/*
	 * Optional, called once by the transport at set-up, before the VMM's seccomp lists
	 * are loaded: create what serving the queues needs (an I/O engine per queue) while
	 * that is still allowed. kick_fds[q] is the eventfd queue_start() will be given for
	 * queue q; the transport keeps it for the life of the device. Returns 0 or -errno.
	 */
	int (*prepare)(struct virtio_device *vdev, const int *kick_fds);
	/*
	 * Stop serving every queue and forget negotiated state; when it returns, no device
	 * thread touches guest memory or the queues any more (a driver reset, or NEEDS_RESET).
	 */
	void (*reset)(struct virtio_device *vdev);
	/*
	 * Optional, for a snapshot (virtio_pci_quiesce): stop serving every queue as reset
	 * does, with every request taken completed or given back to its ring, but keep what
	 * the driver set up beyond the transport's registers (virtio-net: its multiqueue
	 * setting); queue_start then goes on from the rings' indices. NULL: reset serves.
	 */
	void (*quiesce)(struct virtio_device *vdev);
};

struct virtio_transport_ops {
	/* raise queue q's interrupt (used buffers added) */
	void (*notify_queue)(struct virtio_device *vdev, unsigned int q);
	/* the device found the driver breaking the rules: set DEVICE_NEEDS_RESET */
	void (*needs_reset)(struct virtio_device *vdev);
	/*
	 * The device changed a field of its configuration space: raise the configuration
	 * change interrupt (MSI-X config vector, or INTx with ISR bit 1). From the main or a
	 * vCPU thread, not a device thread (the transport takes its lock). May be NULL: none.
	 */
	void (*notify_config)(struct virtio_device *vdev);
	/*
	 * An eventfd that raises queue q's interrupt inside KVM when written (its MSI-X
	 * vector's irqfd), for an in-kernel data path such as vhost; -1 when there is none
	 * (INTx, MSI-X off, no vector). The transport owns it. May be NULL: none.
	 */
	int (*queue_call_fd)(struct virtio_device *vdev, unsigned int q);
	/*
	 * Add the eventfds a thread of this device reads or writes to fds (class
	 * VMM_SECCOMP_FD_EVENT): every queue's kick and every vector's irqfd. They exist from
	 * set-up on and never change. May be NULL: none.
	 */
	void (*seccomp_fds)(struct virtio_device *vdev, struct vmm_seccomp_fds *fds);
};

struct virtio_device {
	const char *name;	  /* for log lines, e.g. "virtio-blk0" */
	uint32_t device_id;	  /* VIRTIO_ID_* from <linux/virtio_ids.h> */
	uint64_t device_features; /* device-specific bits; the transport adds the rest */
	uint64_t driver_features; /* what the driver accepted, valid from FEATURES_OK */
	unsigned int num_queues;
	uint16_t queue_max_size;
	/*
	 * The device-specific configuration space (VIRTIO 1.2 section 5.x.4): config_size
	 * bytes, little-endian, as the driver reads them through virtio_config_read(). Set
	 * at creation; read-only to the driver (writes are ignored). A device that changes a
	 * field later (virtio-net's status) stores it with single atomic byte writes and
	 * calls virtio_notify_config().
	 */
	const void *config;
	uint32_t config_size;
	const struct guest_mem *mem;
	struct virtq queues[VIRTIO_MAX_QUEUES];
	const struct virtio_device_ops *ops;
	const struct virtio_transport_ops *transport;
	void *transport_ctx;
	/*
	 * The KVM VM descriptor the transport raises interrupt lines on when a device thread
	 * calls notify_queue (INTx): that thread's seccomp list allows it; -1 if none.
	 */
	int transport_irq_fd;
	uint32_t faults_logged; /* kinds of driver fault already logged (atomic; never cleared) */
	void *priv;		/* the device's own state */
};

static inline bool virtio_has_feature(const struct virtio_device *vdev, unsigned int bit)
{
	return vdev->driver_features & (1ull << bit);
}

static inline void virtio_notify_queue(struct virtio_device *vdev, unsigned int q)
{
	vdev->transport->notify_queue(vdev, q);
}

static inline void virtio_needs_reset(struct virtio_device *vdev)
{
	vdev->transport->needs_reset(vdev);
}

static inline void virtio_notify_config(struct virtio_device *vdev)
{
	if (vdev->transport && vdev->transport->notify_config)
		vdev->transport->notify_config(vdev);
}

static inline void virtio_transport_seccomp_fds(struct virtio_device *vdev,
						struct vmm_seccomp_fds *fds)
{
	if (vdev->transport && vdev->transport->seccomp_fds)
		vdev->transport->seccomp_fds(vdev, fds);
}

static inline int virtio_queue_call_fd(struct virtio_device *vdev, unsigned int q)
{
	return vdev->transport->queue_call_fd ? vdev->transport->queue_call_fd(vdev, q) : -1;
}

/*
 * The bytes [offset, offset + len) of vdev's configuration space into data: the transport's
 * one copy, for a driver read. An access not wholly inside the space reads as zeros.
 */
void virtio_config_read(const struct virtio_device *vdev, uint64_t offset, void *data,
			unsigned int len);

/*
 * The driver broke queue q's rules (why: virtq_pop()'s errno, or the device's own): log it,
 * once per kind of fault per device, so that a driver that breaks the rings again after
 * every reset cannot flood the log, and set NEEDS_RESET. The caller stops using the queue.
 */
void virtio_queue_fault(struct virtio_device *vdev, unsigned int q, int why);

/*
 * Fence the calling device thread before it touches anything the guest controls: load
 * role's seccomp list over fds, the transport's interrupt descriptor and eventfds added. Returns 0,
 * or -1 after one log line naming queue index ("queue" or "queue pair": what) and a request for
 * NEEDS_RESET: a thread without its fence must serve nothing until the driver resets.
 */
int virtio_thread_fence(struct virtio_device *vdev, enum vmm_seccomp_role role,
			struct vmm_seccomp_fds *fds, const char *what, unsigned int index);

#endif
