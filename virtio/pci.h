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

#include "devices/msix.h"
#include "devices/pci.h"
#include "virtio/device.h"
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

#endif
