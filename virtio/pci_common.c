// SPDX-License-Identifier: MIT
/*
 * virtio-pci's common configuration (VIRTIO 1.2 section 4.1.4.3) and the device status it
 * drives: feature negotiation, queue set-up, DRIVER_OK and reset (virtio/pci_internal.h).
 */
#include "virtio/pci_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>

/* ---- device status ---- */

static void device_reset(struct virtio_pci *vp)
{
	struct virtio_device *vdev = vp->vdev;

	vdev->ops->reset(vdev);
	virtio_pci_unbind_notifications(vp, vp->bar_addr);
	for (unsigned int q = 0; q < vdev->num_queues; q++) {
		/* the kick eventfd stays: a stale kick only makes the next start look once more */
		vp->queue_started[q] = false;
		vp->queue_enabled[q] = false;
		__atomic_store_n(&vp->queue_vector[q], VIRTIO_MSI_NO_VECTOR, __ATOMIC_RELEASE);
		virtq_reset(&vdev->queues[q]);
		vdev->queues[q].size = vdev->queue_max_size;
	}
	__atomic_store_n(&vp->msix_config, VIRTIO_MSI_NO_VECTOR, __ATOMIC_RELEASE);
	vp->device_feature_select = vp->driver_feature_select = 0;
	vp->driver_features = vdev->driver_features = 0;
	vp->queue_select = 0;
	__atomic_store_n(&vp->isr, 0, __ATOMIC_SEQ_CST);
	pci_device_set_intx(&vp->pci, false);
	__atomic_store_n(&vp->status, 0, __ATOMIC_SEQ_CST);
}

static bool features_acceptable(struct virtio_pci *vp)
{
	return !(vp->driver_features & ~virtio_pci_offered_features(vp)) &&
	       (vp->driver_features & (1ull << VIRTIO_F_VERSION_1));
}

int virtio_pci_enable_queues(struct virtio_pci *vp)
{
	struct virtio_device *vdev = vp->vdev;

	for (unsigned int q = 0; q < vdev->num_queues; q++) {
		struct virtq *vq = &vdev->queues[q];

		if (!vp->queue_enabled[q])
			continue;
		vq->event_idx = virtio_has_feature(vdev, VIRTIO_RING_F_EVENT_IDX);
		vq->indirect_desc = virtio_has_feature(vdev, VIRTIO_RING_F_INDIRECT_DESC);
		if (virtq_enable(vq, vdev->mem))
			return -EINVAL;
	}
	return 0;
}

/* DRIVER_OK: validate every enabled queue, then hand them to the device. */
static int start_queues(struct virtio_pci *vp)
{
	struct virtio_device *vdev = vp->vdev;

	if (virtio_pci_enable_queues(vp))
		return -EINVAL;
	for (unsigned int q = 0; q < vdev->num_queues; q++) {
		int ret;

		if (!vp->queue_enabled[q])
			continue;
		ret = vdev->ops->queue_start(vdev, q, vp->kick_fd[q]);
		if (ret)
			return ret;
		vp->queue_started[q] = true;
	}
	virtio_pci_bind_notifications(vp);
	return 0;
}

/*
 * Status bits are only ever added (VIRTIO 1.2 section 2.1.2: the driver must not clear a
 * bit); only a write of 0 takes them away, through a full reset. A write that would clear
 * one (DRIVER_OK, say, to reach the queue registers of a running device) changes nothing
 * but NEEDS_RESET: the queues stay started with the rings they were checked with, and the
 * driver must reset. Called with vp->lock held; device threads only ever OR NEEDS_RESET in
 * without the lock, so the new bits are ORed in too and none of theirs is lost.
 */
static void write_status(struct virtio_pci *vp, uint8_t status)
{
	uint8_t old = __atomic_load_n(&vp->status, __ATOMIC_SEQ_CST);
	uint8_t added;

	if (status == 0) {
		device_reset(vp);
		return;
	}
	if (old & (uint8_t)~status & (uint8_t)~VIRTIO_CONFIG_S_NEEDS_RESET) {
		__atomic_or_fetch(&vp->status, VIRTIO_CONFIG_S_NEEDS_RESET, __ATOMIC_SEQ_CST);
		if (!vp->cleared_status_logged)
			fprintf(stderr,
				"vmm: %s: driver tried to clear device status bits (0x%02x to "
				"0x%02x); device needs reset (not logged again)\n",
				vp->vdev->name, old, status);
		vp->cleared_status_logged = true;
		return;
	}
	if ((status & VIRTIO_CONFIG_S_FEATURES_OK) && !(old & VIRTIO_CONFIG_S_FEATURES_OK)) {
		if (features_acceptable(vp))
			vp->vdev->driver_features = vp->driver_features;
		else
			status &= (uint8_t)~VIRTIO_CONFIG_S_FEATURES_OK; /* the driver reads back */
	}
	if ((status & VIRTIO_CONFIG_S_DRIVER_OK) && !(old & VIRTIO_CONFIG_S_DRIVER_OK)) {
		if (!(status & VIRTIO_CONFIG_S_FEATURES_OK) || start_queues(vp)) {
			status |= VIRTIO_CONFIG_S_NEEDS_RESET;
			if (!vp->bad_start_logged)
				fprintf(stderr,
					"vmm: %s: driver started the device with unusable queues "
					"(not logged again)\n",
					vp->vdev->name);
			vp->bad_start_logged = true;
		}
	}
	added = status & (uint8_t)~old;
	if (added)
		__atomic_or_fetch(&vp->status, added, __ATOMIC_SEQ_CST);
}

/* ---- common configuration ---- */

static void common_image(struct virtio_pci *vp, struct virtio_pci_common_cfg *c, uint8_t tail[8])
{
	struct virtio_device *vdev = vp->vdev;
	uint16_t q = vp->queue_select;
	bool valid = q < vdev->num_queues;
	uint64_t features = virtio_pci_offered_features(vp);

	memset(c, 0, sizeof(*c));
	memset(tail, 0, 8);
	c->device_feature_select = vp->device_feature_select;
	c->device_feature = vp->device_feature_select < 2
				    ? (uint32_t)(features >> (32 * vp->device_feature_select))
				    : 0;
	c->guest_feature_select = vp->driver_feature_select;
	c->guest_feature =
		vp->driver_feature_select < 2
			? (uint32_t)(vp->driver_features >> (32 * vp->driver_feature_select))
			: 0;
	c->msix_config = vp->msix_config;
	c->num_queues = (uint16_t)vdev->num_queues;
	c->device_status = __atomic_load_n(&vp->status, __ATOMIC_SEQ_CST);
	c->config_generation = vp->config_generation;
	c->queue_select = q;
	if (!valid)
		return; /* a queue that does not exist reads as size 0 */
	c->queue_size = vdev->queues[q].size;
	c->queue_msix_vector = vp->queue_vector[q];
	c->queue_enable = vp->queue_enabled[q];
	c->queue_notify_off = q;
	c->queue_desc_lo = (uint32_t)vdev->queues[q].desc_gpa;
	c->queue_desc_hi = (uint32_t)(vdev->queues[q].desc_gpa >> 32);
	c->queue_avail_lo = (uint32_t)vdev->queues[q].avail_gpa;
	c->queue_avail_hi = (uint32_t)(vdev->queues[q].avail_gpa >> 32);
	c->queue_used_lo = (uint32_t)vdev->queues[q].used_gpa;
	c->queue_used_hi = (uint32_t)(vdev->queues[q].used_gpa >> 32);
	tail[0] = (uint8_t)q; /* queue_notify_data (VIRTIO 1.2): the queue index */
	tail[1] = (uint8_t)(q >> 8);
}

void virtio_pci_common_read(struct virtio_pci *vp, uint64_t offset, void *data, unsigned int len)
{
	uint8_t image[BAR_COMMON_SIZE];

	pthread_mutex_lock(&vp->lock);
	common_image(vp, (struct virtio_pci_common_cfg *)image,
		     image + sizeof(struct virtio_pci_common_cfg));
	pthread_mutex_unlock(&vp->lock);
	memset(data, 0, len);
	if (offset < sizeof(image))
		memcpy(data, image + offset,
		       len < sizeof(image) - offset ? len : sizeof(image) - offset);
}

static void set_low_or_high(uint64_t *field, uint64_t offset_in_field, uint64_t value,
			    unsigned int len)
{
	if (len == 8)
		*field = value;
	else if (offset_in_field == 0)
		*field = (*field & ~0xffffffffull) | (uint32_t)value;
	else
		*field = (*field & 0xffffffffull) | ((uint64_t)(uint32_t)value << 32);
}

/*
 * A queue's fields may only change while the driver sets that queue up: not once it has
 * enabled the queue, and not once the device runs. Later writes are ignored, so reading
 * the fields back shows what the queue really uses.
 */
static bool queue_writable(struct virtio_pci *vp)
{
	uint8_t status = __atomic_load_n(&vp->status, __ATOMIC_SEQ_CST);
	unsigned int q = vp->queue_select;

	return q < vp->vdev->num_queues && !vp->queue_enabled[q] &&
	       !(status & (VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_NEEDS_RESET |
			   VIRTIO_CONFIG_S_FAILED));
}

static void queue_field_write(struct virtio_pci *vp, uint64_t offset, uint64_t v, unsigned int len)
{
	struct virtio_device *vdev = vp->vdev;
	unsigned int q = vp->queue_select;
	struct virtq *vq = &vdev->queues[q];

	switch (offset) {
	case offsetof(struct virtio_pci_common_cfg, queue_size):
		/* a power of two no larger than we offered; anything else is kept out */
		if (v && v <= vdev->queue_max_size && !(v & (v - 1)))
			vq->size = (uint16_t)v;
		break;
	case offsetof(struct virtio_pci_common_cfg, queue_enable):
		if (v == 1)
			vp->queue_enabled[q] = true;
		break;
	case offsetof(struct virtio_pci_common_cfg, queue_desc_lo):
	case offsetof(struct virtio_pci_common_cfg, queue_desc_hi):
		set_low_or_high(&vq->desc_gpa,
				offset - offsetof(struct virtio_pci_common_cfg, queue_desc_lo), v,
				len);
		break;
	case offsetof(struct virtio_pci_common_cfg, queue_avail_lo):
	case offsetof(struct virtio_pci_common_cfg, queue_avail_hi):
		set_low_or_high(&vq->avail_gpa,
				offset - offsetof(struct virtio_pci_common_cfg, queue_avail_lo), v,
				len);
		break;
	case offsetof(struct virtio_pci_common_cfg, queue_used_lo):
	case offsetof(struct virtio_pci_common_cfg, queue_used_hi):
		set_low_or_high(&vq->used_gpa,
				offset - offsetof(struct virtio_pci_common_cfg, queue_used_lo), v,
				len);
		break;
	}
}

void virtio_pci_common_write(struct virtio_pci *vp, uint64_t offset, const void *data,
			     unsigned int len)
{
	uint64_t v = 0;

	memcpy(&v, data, len < sizeof(v) ? len : sizeof(v));
	pthread_mutex_lock(&vp->lock);
	switch (offset) {
	case offsetof(struct virtio_pci_common_cfg, device_feature_select):
		vp->device_feature_select = (uint32_t)v;
		break;
	case offsetof(struct virtio_pci_common_cfg, guest_feature_select):
		vp->driver_feature_select = (uint32_t)v;
		break;
	case offsetof(struct virtio_pci_common_cfg, guest_feature):
		/* features are frozen once FEATURES_OK is set */
		if (vp->driver_feature_select < 2 &&
		    !(__atomic_load_n(&vp->status, __ATOMIC_SEQ_CST) & VIRTIO_CONFIG_S_FEATURES_OK))
			set_low_or_high(&vp->driver_features, vp->driver_feature_select * 4, v, 4);
		break;
	case offsetof(struct virtio_pci_common_cfg, msix_config):
		__atomic_store_n(&vp->msix_config, (uint16_t)v, __ATOMIC_RELEASE);
		break;
	case offsetof(struct virtio_pci_common_cfg, device_status):
		write_status(vp, (uint8_t)v);
		break;
	case offsetof(struct virtio_pci_common_cfg, queue_select):
		vp->queue_select = (uint16_t)v;
		break;
	case offsetof(struct virtio_pci_common_cfg, queue_msix_vector):
		if (vp->queue_select < vp->vdev->num_queues)
			__atomic_store_n(&vp->queue_vector[vp->queue_select], (uint16_t)v,
					 __ATOMIC_RELEASE);
		break;
	default:
		if (queue_writable(vp))
			queue_field_write(vp, offset, v, len);
		break;
	}
	pthread_mutex_unlock(&vp->lock);
}
