/* SPDX-License-Identifier: MIT */
/*
 * The virtio-pci modern transport (VIRTIO 1.2 section 4.1): a PCI function whose
 * BAR 0 holds the common configuration, ISR, device configuration, notification area
 * and MSI-X table. Queue notifications are bound to KVM ioeventfds and interrupts to
 * irqfds, so a request costs the guest one notify write and no other exit.
 */
#ifndef VIRTIO_PCI_H
#define VIRTIO_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_config.h>

#include "devices/msix.h"
#include "devices/pci.h"
#include "virtio/device.h"
#include "vmm/snapshot_format.h"
#include "vmm/irq.h"

#define VIRTIO_PCI_MAX_VECTORS (VIRTIO_MAX_QUEUES + 1)

struct virtio_pci_vector {
	int gsi;   /* KVM GSI carrying this vector's MSI route, -1 if none */
	int irqfd; /* eventfd bound to gsi */
};

struct virtio_pci {
	struct pci_device pci;
	struct virtio_device *vdev;
	struct msix msix;
	unsigned int msix_cap; /* offset of the MSI-X capability in config space */
	struct virtio_pci_vector vectors[VIRTIO_PCI_MAX_VECTORS];
	unsigned int nvectors;
	struct irq_router *irq;
	int vm_fd;
	uint64_t bar_addr; /* where BAR 0 is decoded now, 0 when it is not (vp->lock) */
	/*
	 * The common configuration registers, queue start and reset, and the ioeventfd
	 * bindings. Taken under the PCI bus lock (BAR moves), never the other way round.
	 */
	pthread_mutex_t lock;

	uint32_t device_feature_select;
	uint32_t driver_feature_select;
	uint64_t driver_features;
	uint16_t msix_config;
	uint8_t status; /* atomic; bits only added under lock, NEEDS_RESET also without */
	uint8_t config_generation;
	uint16_t queue_select;
	uint16_t queue_vector[VIRTIO_MAX_QUEUES];
	bool queue_enabled[VIRTIO_MAX_QUEUES];
	int kick_fd[VIRTIO_MAX_QUEUES]; /* created at set-up, kept across resets */
	bool queue_started[VIRTIO_MAX_QUEUES];
	bool ioeventfd_bound[VIRTIO_MAX_QUEUES];
	uint8_t isr;		    /* atomic: bit 0 queue interrupt, bit 1 configuration change */
	bool needs_reset_logged;    /* once per device: a reset does not clear them */
	bool bad_start_logged;	    /* (vp->lock) */
	bool cleared_status_logged; /* (vp->lock) */
	/* statistics (vmm/stats.h): relaxed atomics, kept across device resets */
	uint64_t msix_fired;		/* MSI-X messages sent to KVM (irqfd writes) */
	uint64_t intx_raised;		/* INTx assertions */
	uint64_t notify_exits;		/* queue notifications that came as MMIO exits */
	uint64_t bar_reads, bar_writes; /* BAR 0 accesses (each one a vCPU exit) */
};

/* Wrap vdev in a PCI function and put it on the bus. Returns 0 or -errno. */
int virtio_pci_init(struct virtio_pci *vp, struct virtio_device *vdev, struct pci_bus *bus,
		    struct irq_router *irq, int vm_fd);

/*
 * Snapshots (virtio/pci_snapshot.c). The transport's registers and each queue's set-up
 * and ring indices, as section SNAP_VIRTIO; with the function's config space
 * (SNAP_PCI_CONFIG) and its MSI-X table (SNAP_MSIX), all under one instance number.
 */
struct virtio_pci_queue_state {
	uint64_t desc, avail, used;
	struct virtq_indices ix;
	uint16_t size, vector;
	uint8_t enabled, started, pad[4];
};

struct virtio_pci_state {
	uint64_t driver_features;
	uint32_t device_feature_select, driver_feature_select;
	uint32_t num_queues;
	uint16_t msix_config, queue_select;
	uint8_t status, config_generation, isr, pad[5];
	struct virtio_pci_queue_state queues[VIRTIO_MAX_QUEUES];
};

/*
 * Make a running device hold still for a snapshot, with every vCPU parked: the device's
 * quiesce op (or, without one, its reset op) stops its threads once every request they
 * took is complete (pushed to the used ring) or given back, so the rings and indices in
 * memory agree. Only for kinds that keep no request half done and whose queue_start goes
 * on from the rings' indices (blk, rng, net: virtio_kind.snapshot_live). Returns true when it
 * stopped something, which virtio_pci_unquiesce then starts again (and kicks, and interrupts: a
 * completion pushed while stopping raised none), unless the device needs a reset by then: the
 * driver's reset is what such a device waits for.
 */
bool virtio_pci_quiesce(struct virtio_pci *vp);
void virtio_pci_unquiesce(struct virtio_pci *vp);
/* Whether the driver has started the device (DRIVER_OK): its threads may run. */
static inline bool virtio_pci_live(const struct virtio_pci *vp)
{
	return __atomic_load_n(&vp->status, __ATOMIC_SEQ_CST) & VIRTIO_CONFIG_S_DRIVER_OK;
}
/* Save: no thread of the device may be running (quiesced, or never started). */
int virtio_pci_save(struct virtio_pci *vp, struct snap_writer *w, uint32_t instance);
/*
 * Restore into a device freshly set up from the same command line, before any vCPU runs:
 * config space, MSI-X, the transport's registers, and the queues started again where the
 * driver had started them, from their saved indices. Every saved value is checked as a
 * driver's write would be (a queue size, features not offered, ring addresses outside RAM).
 * Returns 0, or -EINVAL with one line in err.
 */
int virtio_pci_restore(struct virtio_pci *vp, const struct snap_reader *r, uint32_t instance,
		       char *err, size_t errlen);

#endif
