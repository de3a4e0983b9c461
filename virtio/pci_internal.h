/* SPDX-License-Identifier: MIT */
/*
 * What the two halves of the virtio-pci transport share: virtio/pci.c (BAR 0, interrupts,
 * notifications, capabilities, set-up) and virtio/pci_common.c (the common configuration
 * structure and the device status it drives). Locking as in virtio/pci.h: the common
 * configuration is read and written under vp->lock.
 */
#ifndef VIRTIO_PCI_INTERNAL_H
#define VIRTIO_PCI_INTERNAL_H

#include "virtio/pci.h"

#include <stdint.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040 /* modern devices: 0x1040 + device type */
#define VIRTIO_PCI_REVISION 1

#define BAR_COMMON 0x0000
#define BAR_COMMON_SIZE 0x40
#define BAR_ISR 0x1000
#define BAR_DEVICE 0x2000
#define BAR_DEVICE_SIZE 0x1000
#define BAR_NOTIFY 0x3000
#define NOTIFY_MULTIPLIER 4
#define BAR_MSIX_TABLE 0x4000
#define BAR_MSIX_PBA 0x6000
#define BAR_SIZE 0x8000
#define ISR_QUEUE 0x1 /* ISR bit 0; bit 1 (VIRTIO_PCI_ISR_CONFIG) is a config change */

#define TRANSPORT_FEATURES                                                                         \
	((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_EVENT_IDX) |                        \
	 (1ull << VIRTIO_RING_F_INDIRECT_DESC))

/* The features we offer: the device's and the transport's. */
uint64_t virtio_pci_offered_features(const struct virtio_pci *vp);
/* Bind (or unbind, at bar) each started queue's notify address to its ioeventfd. */
void virtio_pci_bind_notifications(struct virtio_pci *vp);
/*
 * DRIVER_OK's check: every enabled queue's rings validated and enabled (virtq_enable, which
 * zeroes its indices). Returns 0, or -EINVAL for the first queue that fails.
 */
int virtio_pci_enable_queues(struct virtio_pci *vp);
void virtio_pci_unbind_notifications(struct virtio_pci *vp, uint64_t bar);
/* A driver access to the common configuration at offset (inside BAR_COMMON_SIZE). */
void virtio_pci_common_read(struct virtio_pci *vp, uint64_t offset, void *data, unsigned int len);
void virtio_pci_common_write(struct virtio_pci *vp, uint64_t offset, const void *data,
			     unsigned int len);

#endif
