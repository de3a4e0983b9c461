// SPDX-License-Identifier: MIT
/*
 * virtio-pci modern transport (VIRTIO 1.2 section 4.1). BAR 0 layout:
 *   0x0000 common configuration   0x1000 ISR status   0x2000 device configuration
 *   0x3000 notifications (4 bytes per queue)   0x4000 MSI-X table   0x6000 MSI-X PBA
 */
#include "virtio/pci.h"
#include "virtio/pci_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

static struct virtio_pci *to_vp(struct virtio_device *vdev)
{
	return vdev->transport_ctx;
}

uint64_t virtio_pci_offered_features(const struct virtio_pci *vp)
{
	return vp->vdev->device_features | TRANSPORT_FEATURES;
}

static uint32_t pci_class_for(uint32_t device_id)
{
	switch (device_id) {
	case VIRTIO_ID_BLOCK:
		return 0x018000; /* mass storage, other */
	case VIRTIO_ID_NET:
		return 0x020000; /* ethernet */
	default:
		return 0xff0000; /* unassigned class */
	}
}

/* ---- interrupts ---- */

static void raise_vector(struct virtio_pci *vp, uint16_t vector, uint8_t isr_bit)
{
	/* false only while MSI-X is off; VIRTIO_MSI_NO_VECTOR is out of range and ignored */
	if (msix_notify(&vp->msix, vector))
		return;
	__atomic_fetch_add(&vp->intx_raised, 1, __ATOMIC_RELAXED);
	__atomic_or_fetch(&vp->isr, isr_bit, __ATOMIC_SEQ_CST);
	pci_device_set_intx(&vp->pci, true);
}

static void transport_notify_queue(struct virtio_device *vdev, unsigned int q)
{
	struct virtio_pci *vp = to_vp(vdev);

	raise_vector(vp, __atomic_load_n(&vp->queue_vector[q], __ATOMIC_ACQUIRE), ISR_QUEUE);
}

/*
 * Called from device threads: it must not take vp->lock, which a vCPU thread may hold
 * while it waits in ops->reset for that very device thread. Logged once per device, not
 * once per reset: a driver that resets and breaks the rings again in a loop would
 * otherwise write a line per round.
 */
static void transport_needs_reset(struct virtio_device *vdev)
{
	struct virtio_pci *vp = to_vp(vdev);
	bool first;

	__atomic_or_fetch(&vp->status, VIRTIO_CONFIG_S_NEEDS_RESET, __ATOMIC_SEQ_CST);
	first = !__atomic_exchange_n(&vp->needs_reset_logged, true, __ATOMIC_SEQ_CST);
	if (first)
		fprintf(stderr,
			"vmm: %s: the driver broke the virtqueue rules; device needs reset "
			"(further faults are not logged)\n",
			vdev->name);
	raise_vector(vp, __atomic_load_n(&vp->msix_config, __ATOMIC_ACQUIRE),
		     VIRTIO_PCI_ISR_CONFIG);
}

/*
 * A new generation first, so that a driver reading several fields at once sees the change
 * (4.1.4.3), then the config vector. Before DRIVER_OK the driver has nothing to be told.
 */
static void transport_notify_config(struct virtio_device *vdev)
{
	struct virtio_pci *vp = to_vp(vdev);

	pthread_mutex_lock(&vp->lock);
	vp->config_generation++;
	pthread_mutex_unlock(&vp->lock);
	if (__atomic_load_n(&vp->status, __ATOMIC_SEQ_CST) & VIRTIO_CONFIG_S_DRIVER_OK)
		raise_vector(vp, __atomic_load_n(&vp->msix_config, __ATOMIC_ACQUIRE),
			     VIRTIO_PCI_ISR_CONFIG);
}

/*
 * The irqfd goes straight to KVM, past the MSI-X model: a message sent while the vector
 * is masked is delivered with its last route instead of being held pending. Linux does
 * not mask a vector it expects interrupts on, so a kernel data path accepts that.
 */
static int transport_queue_call_fd(struct virtio_device *vdev, unsigned int q)
{
	struct virtio_pci *vp = to_vp(vdev);
	uint16_t vec;

	if (q >= vdev->num_queues || !msix_enabled(&vp->msix))
		return -1;
	vec = __atomic_load_n(&vp->queue_vector[q], __ATOMIC_ACQUIRE);
	return vec < vp->nvectors ? vp->vectors[vec].irqfd : -1;
}

/*
 * Device threads write any vector's irqfd (the driver may move a queue to another vector
 * at any time) and wait on their queues' kicks; vCPUs write kicks when no ioeventfd is
 * bound, and irqfds for MSI-X messages the table releases.
 */
static void transport_seccomp_fds(struct virtio_device *vdev, struct vmm_seccomp_fds *fds)
{
	struct virtio_pci *vp = to_vp(vdev);

	for (unsigned int i = 0; i < vp->nvectors; i++)
		vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_EVENT, vp->vectors[i].irqfd);
	for (unsigned int q = 0; q < vdev->num_queues; q++)
		vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_EVENT, vp->kick_fd[q]);
}

static const struct virtio_transport_ops transport_ops = {
	.notify_queue = transport_notify_queue,
	.needs_reset = transport_needs_reset,
	.notify_config = transport_notify_config,
	.queue_call_fd = transport_queue_call_fd,
	.seccomp_fds = transport_seccomp_fds,
};

static void msix_vector_changed(void *ctx, unsigned int vec, uint64_t addr, uint32_t data,
				bool masked)
{
	struct virtio_pci *vp = ctx;

	if (!masked && vec < vp->nvectors)
		irq_msi_set(vp->irq, vp->vectors[vec].gsi, addr, data);
}

static void msix_fire(void *ctx, unsigned int vec)
{
	struct virtio_pci *vp = ctx;

	if (vec >= vp->nvectors)
		return;
	__atomic_fetch_add(&vp->msix_fired, 1, __ATOMIC_RELAXED);
	if (eventfd_write(vp->vectors[vec].irqfd, 1) < 0) {
		/* an eventfd counter cannot overflow from single increments */
	}
}

static const struct msix_ops msix_ops = {
	.vector_changed = msix_vector_changed,
	.fire = msix_fire,
};

/* ---- queue notifications (ioeventfd) ---- */

static int ioeventfd(struct virtio_pci *vp, unsigned int q, uint64_t bar, bool assign)
{
	struct kvm_ioeventfd ev = {
		.addr = bar + BAR_NOTIFY + q * NOTIFY_MULTIPLIER,
		.len = 2, /* the driver writes the 16-bit queue index */
		.fd = vp->kick_fd[q],
		.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};

	return ioctl(vp->vm_fd, KVM_IOEVENTFD, &ev) < 0 ? -errno : 0;
}

void virtio_pci_bind_notifications(struct virtio_pci *vp)
{
	for (unsigned int q = 0; q < vp->vdev->num_queues; q++) {
		if (!vp->queue_started[q] || vp->ioeventfd_bound[q] || !vp->bar_addr)
			continue;
		/* without ioeventfd the notify write still reaches us through an MMIO exit */
		vp->ioeventfd_bound[q] = ioeventfd(vp, q, vp->bar_addr, true) == 0;
	}
}

void virtio_pci_unbind_notifications(struct virtio_pci *vp, uint64_t bar)
{
	for (unsigned int q = 0; q < vp->vdev->num_queues; q++) {
		if (vp->ioeventfd_bound[q])
			ioeventfd(vp, q, bar, false);
		vp->ioeventfd_bound[q] = false;
	}
}

/* ---- BAR 0 ---- */

static void virtio_pci_bar_read(struct pci_device *dev, unsigned int bar, uint64_t offset,
				void *data, unsigned int len)
{
	struct virtio_pci *vp = dev->opaque;

	(void)bar; /* BAR 0 is our only BAR */
	__atomic_fetch_add(&vp->bar_reads, 1, __ATOMIC_RELAXED);
	memset(data, 0, len);
	if (offset < BAR_COMMON + BAR_COMMON_SIZE) {
		virtio_pci_common_read(vp, offset, data, len);
	} else if (offset == BAR_ISR) {
		/* reading ISR acknowledges the interrupt, which is what lowers INTx */
		uint8_t isr = __atomic_exchange_n(&vp->isr, 0, __ATOMIC_SEQ_CST);
		if (isr)
			pci_device_set_intx(&vp->pci, false);
		*(uint8_t *)data = isr;
	} else if (offset >= BAR_DEVICE && offset < BAR_DEVICE + BAR_DEVICE_SIZE) {
		virtio_config_read(vp->vdev, offset - BAR_DEVICE, data, len);
	} else if (offset >= BAR_MSIX_TABLE && offset < BAR_MSIX_PBA) {
		msix_table_read(&vp->msix, offset - BAR_MSIX_TABLE, data, len);
	} else if (offset >= BAR_MSIX_PBA) {
		msix_pba_read(&vp->msix, offset - BAR_MSIX_PBA, data, len);
	}
}

static void virtio_pci_bar_write(struct pci_device *dev, unsigned int bar, uint64_t offset,
				 const void *data, unsigned int len)
{
	struct virtio_pci *vp = dev->opaque;

	(void)bar;
	__atomic_fetch_add(&vp->bar_writes, 1, __ATOMIC_RELAXED);
	if (offset < BAR_COMMON + BAR_COMMON_SIZE) {
		virtio_pci_common_write(vp, offset, data, len);
	} else if (offset >= BAR_DEVICE && offset < BAR_DEVICE + BAR_DEVICE_SIZE) {
		/* every field we offer is read-only: the write is ignored */
	} else if (offset >= BAR_NOTIFY && offset < BAR_MSIX_TABLE) {
		/* only reached when no ioeventfd is bound for this address */
		uint64_t q = (offset - BAR_NOTIFY) / NOTIFY_MULTIPLIER;
		__atomic_fetch_add(&vp->notify_exits, 1, __ATOMIC_RELAXED);
		if (q < vp->vdev->num_queues && vp->queue_started[q] &&
		    eventfd_write(vp->kick_fd[q], 1) < 0) {
			/* cannot overflow */
		}
	} else if (offset >= BAR_MSIX_TABLE && offset < BAR_MSIX_PBA) {
		msix_table_write(&vp->msix, offset - BAR_MSIX_TABLE, data, len);
	}
}

/* The guest (or firmware) moved BAR 0 or switched its decoding: follow it. */
static void virtio_pci_bar_remap(struct pci_device *dev, unsigned int bar, uint64_t old_addr,
				 uint64_t new_addr)
{
	struct virtio_pci *vp = dev->opaque;

	/* accesses reach us through the PCI code; only the ioeventfds are ours to move */
	if (bar != 0)
		return;
	/*
	 * vp->lock, as a device reset and DRIVER_OK (which bind and unbind them too) take it:
	 * the bus lock is held here, and no path takes the bus lock under vp->lock.
	 */
	pthread_mutex_lock(&vp->lock);
	if (old_addr)
		virtio_pci_unbind_notifications(vp, old_addr);
	vp->bar_addr = new_addr;
	if (new_addr)
		virtio_pci_bind_notifications(vp);
	pthread_mutex_unlock(&vp->lock);
}

static void virtio_pci_config_write(struct pci_device *dev, unsigned int offset, unsigned int len)
{
	struct virtio_pci *vp = dev->opaque;
	unsigned int cap = vp->msix_cap;

	if (offset < cap + MSIX_CAP_SIZE && offset + len > cap)
		msix_config_written(&vp->msix, &dev->config[cap]);
}

static const struct pci_device_ops pci_ops = {
	.bar_remap = virtio_pci_bar_remap,
	.config_write = virtio_pci_config_write,
	.bar_read = virtio_pci_bar_read,
	.bar_write = virtio_pci_bar_write,
};

/* ---- capabilities ---- */

static int add_virtio_cap(struct virtio_pci *vp, uint8_t type, uint32_t offset, uint32_t length,
			  bool notify)
{
	struct virtio_pci_notify_cap cap = {
		.cap = {
			.cap_vndr = 0x09, /* vendor-specific */
			.cap_len = notify ? sizeof(struct virtio_pci_notify_cap)
					  : sizeof(struct virtio_pci_cap),
			.cfg_type = type,
			.bar = 0,
			.offset = offset,
			.length = length,
		},
		.notify_off_multiplier = NOTIFY_MULTIPLIER,
	};
	int ret = pci_device_add_capability(&vp->pci, &cap, cap.cap.cap_len, NULL);

	return ret < 0 ? ret : 0;
}

static int add_capabilities(struct virtio_pci *vp)
{
	uint8_t msix_cap[MSIX_CAP_SIZE], msix_wmask[MSIX_CAP_SIZE];
	int ret;

	ret = add_virtio_cap(vp, VIRTIO_PCI_CAP_COMMON_CFG, BAR_COMMON, BAR_COMMON_SIZE, false);
	if (!ret)
		ret = add_virtio_cap(vp, VIRTIO_PCI_CAP_ISR_CFG, BAR_ISR, 1, false);
	if (!ret)
		ret = add_virtio_cap(vp, VIRTIO_PCI_CAP_DEVICE_CFG, BAR_DEVICE,
				     vp->vdev->config_size ? vp->vdev->config_size : 1, false);
	if (!ret)
		ret = add_virtio_cap(vp, VIRTIO_PCI_CAP_NOTIFY_CFG, BAR_NOTIFY,
				     vp->vdev->num_queues * NOTIFY_MULTIPLIER, true);
	if (ret)
		return ret;
	msix_capability(&vp->msix, msix_cap, msix_wmask);
	ret = pci_device_add_capability(&vp->pci, msix_cap, MSIX_CAP_SIZE, msix_wmask);
	if (ret < 0)
		return ret;
	vp->msix_cap = (unsigned int)ret;
	return 0;
}

static int setup_vectors(struct virtio_pci *vp)
{
	vp->nvectors = vp->vdev->num_queues + 1;
	for (unsigned int i = 0; i < vp->nvectors; i++) {
		struct virtio_pci_vector *v = &vp->vectors[i];

		v->gsi = irq_msi_alloc(vp->irq);
		if (v->gsi < 0)
			return v->gsi;
		v->irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (v->irqfd < 0)
			return -errno;
		/* every entry starts masked, so this placeholder route is never used */
		int ret = irq_msi_set(vp->irq, v->gsi, 0, 0);
		if (!ret)
			ret = irq_irqfd_assign(vp->irq, v->gsi, v->irqfd, -1);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * One kick eventfd per queue for the device's whole life, made now: once the guest runs,
 * the seccomp lists let no thread create the I/O engine that waits on it.
 */
static int create_kick_fds(struct virtio_pci *vp)
{
	for (unsigned int q = 0; q < vp->vdev->num_queues; q++) {
		vp->kick_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vp->kick_fd[q] < 0)
			return -errno;
	}
	return 0;
}

int virtio_pci_init(struct virtio_pci *vp, struct virtio_device *vdev, struct pci_bus *bus,
		    struct irq_router *irq, int vm_fd)
{
	int ret;

	memset(vp, 0, sizeof(*vp));
	if (vdev->num_queues == 0 || vdev->num_queues > VIRTIO_MAX_QUEUES)
		return -EINVAL;
	pthread_mutex_init(&vp->lock, NULL);
	vp->vdev = vdev;
	vp->irq = irq;
	vp->vm_fd = vm_fd;
	vdev->transport = &transport_ops;
	vdev->transport_ctx = vp;
	vdev->transport_irq_fd = vm_fd;
	vp->status = 0;
	vp->msix_config = VIRTIO_MSI_NO_VECTOR;
	for (unsigned int q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		vp->kick_fd[q] = -1;
		vp->queue_vector[q] = VIRTIO_MSI_NO_VECTOR;
		virtq_reset(&vdev->queues[q]);
		vdev->queues[q].size = vdev->queue_max_size;
	}

	pci_device_init(&vp->pci, VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE_BASE + vdev->device_id,
			pci_class_for(vdev->device_id), VIRTIO_PCI_VENDOR,
			VIRTIO_PCI_DEVICE_BASE + vdev->device_id, VIRTIO_PCI_REVISION, &pci_ops,
			vp);
	ret = pci_device_add_bar(&vp->pci, 0, BAR_SIZE, PCI_BAR_MEM64);
	if (ret)
		return ret;
	ret = msix_init(&vp->msix, vdev->num_queues + 1, 0, BAR_MSIX_TABLE, BAR_MSIX_PBA, &msix_ops,
			vp);
	if (!ret)
		ret = add_capabilities(vp);
	if (!ret)
		ret = setup_vectors(vp);
	if (!ret)
		ret = create_kick_fds(vp);
	if (!ret && vdev->ops->prepare)
		ret = vdev->ops->prepare(vdev, vp->kick_fd);
	if (!ret)
		ret = pci_bus_add_device(bus, &vp->pci);
	/* now that it has a slot: bus 0, function 0, so the requester ID is slot << 3 */
	for (unsigned int i = 0; ret >= 0 && i < vp->nvectors; i++)
		irq_msi_set_device(vp->irq, vp->vectors[i].gsi, vp->pci.slot << 3);
	return ret < 0 ? ret : 0;
}
