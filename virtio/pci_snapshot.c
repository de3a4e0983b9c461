// SPDX-License-Identifier: MIT
/*
 * The virtio-pci transport in a snapshot (virtio/pci.h): holding a live device still,
 * saving its registers, queues and MSI-X table, and setting a fresh one up the same way.
 */
#include "virtio/pci_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <linux/virtio_config.h>

/* Started, and not waiting for the driver's reset: its queues serve. */
static bool serving(uint8_t status)
{
	return (status & VIRTIO_CONFIG_S_DRIVER_OK) && !(status & VIRTIO_CONFIG_S_NEEDS_RESET);
}

bool virtio_pci_quiesce(struct virtio_pci *vp)
{
	bool live;

	pthread_mutex_lock(&vp->lock);
	live = virtio_pci_live(vp);
	/* as a driver reset does, but the transport keeps every register and queue set-up */
	if (live && vp->vdev->ops->quiesce)
		vp->vdev->ops->quiesce(vp->vdev);
	else if (live)
		vp->vdev->ops->reset(vp->vdev);
	pthread_mutex_unlock(&vp->lock);
	return live;
}

/* Start queue q's device side again; a kick makes it look at what the driver added. */
static int restart_queue(struct virtio_pci *vp, unsigned int q)
{
	int ret = vp->vdev->ops->queue_start(vp->vdev, q, vp->kick_fd[q]);

	if (!ret)
		eventfd_write(vp->kick_fd[q], 1);
	return ret;
}

/* Completions pushed while the device stopped raised no interrupt: raise one per queue. */
static void interrupt_started(struct virtio_pci *vp)
{
	for (unsigned int q = 0; q < vp->vdev->num_queues; q++)
		if (vp->queue_started[q])
			virtio_notify_queue(vp->vdev, q);
}

void virtio_pci_unquiesce(struct virtio_pci *vp)
{
	bool failed = false;

	pthread_mutex_lock(&vp->lock);
	/* a device that needs reset stays stopped: the driver's reset is what it waits for */
	for (unsigned int q = 0;
	     serving(__atomic_load_n(&vp->status, __ATOMIC_SEQ_CST)) && q < vp->vdev->num_queues;
	     q++)
		if (vp->queue_started[q] && restart_queue(vp, q))
			failed = true;
	if (failed)
		__atomic_or_fetch(&vp->status, VIRTIO_CONFIG_S_NEEDS_RESET, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&vp->lock);
	interrupt_started(vp);
}

int virtio_pci_save(struct virtio_pci *vp, struct snap_writer *w, uint32_t instance)
{
	struct virtio_device *vdev = vp->vdev;
	uint8_t config[PCI_CONFIG_SIZE];
	struct msix_state msix;
	struct virtio_pci_state st;

	pci_bus_save_config(vp->pci.bus, &vp->pci, config);
	msix_save(&vp->msix, &msix);
	memset(&st, 0, sizeof(st));
	pthread_mutex_lock(&vp->lock);
	st.driver_features = vp->driver_features;
	st.device_feature_select = vp->device_feature_select;
	st.driver_feature_select = vp->driver_feature_select;
	st.num_queues = vdev->num_queues;
	st.msix_config = __atomic_load_n(&vp->msix_config, __ATOMIC_ACQUIRE);
	st.queue_select = vp->queue_select;
	st.status = __atomic_load_n(&vp->status, __ATOMIC_SEQ_CST);
	st.config_generation = vp->config_generation;
	st.isr = __atomic_load_n(&vp->isr, __ATOMIC_SEQ_CST);
	for (unsigned int q = 0; q < vdev->num_queues; q++) {
		const struct virtq *vq = &vdev->queues[q];
		struct virtio_pci_queue_state *qs = &st.queues[q];

		qs->desc = vq->desc_gpa;
		qs->avail = vq->avail_gpa;
		qs->used = vq->used_gpa;
		qs->size = (uint16_t)vq->size;
		qs->vector = __atomic_load_n(&vp->queue_vector[q], __ATOMIC_ACQUIRE);
		qs->enabled = vp->queue_enabled[q];
		qs->started = vp->queue_started[q];
		virtq_save_indices(vq, &qs->ix);
	}
	pthread_mutex_unlock(&vp->lock);
	return snap_section(w, SNAP_PCI_CONFIG, instance, config, sizeof(config)) ?:
		       snap_section(w, SNAP_MSIX, instance, &msix, sizeof(msix)) ?:
		       snap_section(w, SNAP_VIRTIO, instance, &st, sizeof(st));
}

/* What a driver could have written: checked before anything is set. */
static int check_state(struct virtio_pci *vp, const struct virtio_pci_state *st, char *err,
		       size_t errlen)
{
	struct virtio_device *vdev = vp->vdev;

	if (st->num_queues != vdev->num_queues) {
		snprintf(err, errlen, "%s: %u queues saved, the device has %u", vdev->name,
			 st->num_queues, vdev->num_queues);
		return -EINVAL;
	}
	if ((st->status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    ((st->driver_features & ~virtio_pci_offered_features(vp)) ||
	     !(st->driver_features & (1ull << VIRTIO_F_VERSION_1)))) {
		snprintf(err, errlen, "%s: the saved features are not what this device offers",
			 vdev->name);
		return -EINVAL;
	}
	for (unsigned int q = 0; q < vdev->num_queues; q++) {
		unsigned int size = st->queues[q].size;

		if (size > vdev->queue_max_size || (size & (size - 1))) {
			snprintf(err, errlen, "%s: queue %u: size %u is not one it offers",
				 vdev->name, q, size);
			return -EINVAL;
		}
	}
	return 0;
}

/* DRIVER_OK as saved: every enabled queue checked and given its indices, then started. */
static int start_saved_queues(struct virtio_pci *vp, const struct virtio_pci_state *st)
{
	struct virtio_device *vdev = vp->vdev;

	if (virtio_pci_enable_queues(vp))
		return -EINVAL;
	for (unsigned int q = 0; q < vdev->num_queues; q++)
		if (vp->queue_enabled[q])
			virtq_restore_indices(&vdev->queues[q], &st->queues[q].ix);
	for (unsigned int q = 0; q < vdev->num_queues; q++) {
		if (!vp->queue_enabled[q] || !st->queues[q].started)
			continue;
		if (restart_queue(vp, q))
			return -EINVAL;
		vp->queue_started[q] = true;
	}
	virtio_pci_bind_notifications(vp);
	return 0;
}

static int restore_transport(struct virtio_pci *vp, const struct virtio_pci_state *st)
{
	struct virtio_device *vdev = vp->vdev;
	int ret = 0;

	pthread_mutex_lock(&vp->lock);
	vp->device_feature_select = st->device_feature_select;
	vp->driver_feature_select = st->driver_feature_select;
	vp->driver_features = st->driver_features;
	if (st->status & VIRTIO_CONFIG_S_FEATURES_OK)
		vdev->driver_features = st->driver_features;
	__atomic_store_n(&vp->msix_config, st->msix_config, __ATOMIC_RELEASE);
	vp->queue_select = st->queue_select;
	vp->config_generation = st->config_generation;
	for (unsigned int q = 0; q < vdev->num_queues; q++) {
		const struct virtio_pci_queue_state *qs = &st->queues[q];
		struct virtq *vq = &vdev->queues[q];

		vq->size = qs->size;
		vq->desc_gpa = qs->desc;
		vq->avail_gpa = qs->avail;
		vq->used_gpa = qs->used;
		__atomic_store_n(&vp->queue_vector[q], qs->vector, __ATOMIC_RELEASE);
		vp->queue_enabled[q] = qs->enabled;
	}
	if ((st->status & VIRTIO_CONFIG_S_DRIVER_OK) && !(st->status & VIRTIO_CONFIG_S_NEEDS_RESET))
		ret = start_saved_queues(vp, st);
	__atomic_store_n(&vp->status, st->status, __ATOMIC_SEQ_CST);
	__atomic_store_n(&vp->isr, st->isr, __ATOMIC_SEQ_CST);
	if (st->isr)
		pci_device_set_intx(&vp->pci, true);
	pthread_mutex_unlock(&vp->lock);
	return ret;
}

int virtio_pci_restore(struct virtio_pci *vp, const struct snap_reader *r, uint32_t instance,
		       char *err, size_t errlen)
{
	uint8_t config[PCI_CONFIG_SIZE];
	static struct msix_state msix; /* 4 KiB: main thread only */
	static struct virtio_pci_state st;
	const char *name = vp->vdev->name;

	if (snap_get(r, SNAP_PCI_CONFIG, instance, config, sizeof(config)) ||
	    snap_get(r, SNAP_MSIX, instance, &msix, sizeof(msix)) ||
	    snap_get(r, SNAP_VIRTIO, instance, &st, sizeof(st))) {
		snprintf(err, errlen, "%s: its transport's state is missing or of the wrong size",
			 name);
		return -EINVAL;
	}
	if (check_state(vp, &st, err, errlen))
		return -EINVAL;
	pci_bus_restore_config(vp->pci.bus, &vp->pci, config);
	if (msix_restore(&vp->msix, &msix)) {
		snprintf(err, errlen, "%s: its MSI-X table has another size", name);
		return -EINVAL;
	}
	if (restore_transport(vp, &st)) {
		snprintf(err, errlen, "%s: its queues cannot start from the saved state", name);
		return -EINVAL;
	}
	interrupt_started(vp);
	return 0;
}
