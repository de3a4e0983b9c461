// SPDX-License-Identifier: MIT
/* GSI routing, irqfd and interrupt lines (Documentation/virt/kvm/api.rst). */
#include "vmm/irq.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

enum { MSI_FREE, MSI_ALLOCATED, MSI_ROUTED };

static int sys_ioctl(int fd, unsigned long request, void *arg)
{
	int ret = ioctl(fd, request, arg);

	return ret < 0 ? -errno : ret;
}

_Static_assert(CHIPSET_ROUTES < IRQ_MAX_ROUTES, "room for the chipset's routes");

/* Install the chipset's entries plus every MSI route, in GSI order. Called with r->lock held. */
static int install(struct irq_router *r)
{
	unsigned int n = r->nr_fixed;
	int ret;

	for (unsigned int gsi = IRQ_MSI_GSI_BASE; gsi < r->msi_end; gsi++) {
		const struct irq_msi_route *m = &r->msi[gsi - IRQ_MSI_GSI_BASE];

		if (m->state != MSI_ROUTED)
			continue;
		r->table.entries[n++] = (struct kvm_irq_routing_entry){
			.gsi = gsi,
			.type = KVM_IRQ_ROUTING_MSI,
			.flags = r->msi_devid ? KVM_MSI_VALID_DEVID : 0,
			.u.msi = { .address_lo = (uint32_t)m->addr,
				   .address_hi = (uint32_t)(m->addr >> 32),
				   .data = m->data,
				   .devid = r->msi_devid ? m->devid : 0 },
		};
	}
	r->table.hdr.nr = n;
	r->table.hdr.flags = 0;
	ret = r->ioctl(r->vm_fd, KVM_SET_GSI_ROUTING, &r->table);
	return ret < 0 ? ret : 0;
}

int irq_router_init_with(struct irq_router *r, int vm_fd, irq_ioctl_fn fn)
{
	int limit, ret;

	/*
	 * Not a memset: the router is 70 KiB and sits in the VM's static state, where a page
	 * never written costs no memory. Only a slot an earlier use of r left taken is
	 * cleared; the table's entries are written whole before KVM reads them.
	 */
	for (unsigned int i = 0; i < IRQ_MAX_ROUTES - IRQ_MSI_GSI_BASE; i++)
		if (r->msi[i].state != MSI_FREE)
			r->msi[i] = (struct irq_msi_route){ .state = MSI_FREE };
	r->vm_fd = vm_fd;
	r->ioctl = fn;
	r->table.hdr = (struct kvm_irq_routing){ 0 };
	r->nr_fixed = chipset_routes(r->table.entries);

	/* KVM_CAP_IRQ_ROUTING answers KVM_MAX_IRQ_ROUTES: bound on both GSIs and entries */
	limit = fn(vm_fd, KVM_CHECK_EXTENSION, (void *)(uintptr_t)KVM_CAP_IRQ_ROUTING);
	if (limit <= 0 || limit > IRQ_MAX_ROUTES)
		limit = IRQ_MAX_ROUTES; /* a VM fd too old to answer: 1024 is KVM's oldest */
	r->msi_devid = fn(vm_fd, KVM_CHECK_EXTENSION, (void *)(uintptr_t)KVM_CAP_MSI_DEVID) > 0;
	r->msi_end = IRQ_MSI_GSI_BASE;
	if ((unsigned int)limit > r->nr_fixed)
		r->msi_end += (unsigned int)limit - r->nr_fixed;

	ret = pthread_mutex_init(&r->lock, NULL);
	if (ret)
		return -ret;
	ret = install(r);
	if (ret)
		pthread_mutex_destroy(&r->lock);
	return ret;
}

int irq_router_init(struct irq_router *r, int vm_fd)
{
	return irq_router_init_with(r, vm_fd, sys_ioctl);
}

void irq_router_destroy(struct irq_router *r)
{
	pthread_mutex_destroy(&r->lock);
}

int irq_msi_alloc(struct irq_router *r)
{
	int ret = -ENOSPC;

	pthread_mutex_lock(&r->lock);
	for (unsigned int gsi = IRQ_MSI_GSI_BASE; gsi < r->msi_end; gsi++) {
		struct irq_msi_route *m = &r->msi[gsi - IRQ_MSI_GSI_BASE];

		if (m->state == MSI_FREE) {
			*m = (struct irq_msi_route){ .state = MSI_ALLOCATED };
			ret = (int)gsi;
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

/* The GSI's MSI slot if it is allocated, else NULL. Called with r->lock held. */
static struct irq_msi_route *msi_slot(struct irq_router *r, int gsi)
{
	struct irq_msi_route *m;

	if (gsi < IRQ_MSI_GSI_BASE || (unsigned int)gsi >= r->msi_end)
		return NULL;
	m = &r->msi[gsi - IRQ_MSI_GSI_BASE];
	return m->state == MSI_FREE ? NULL : m;
}

int irq_msi_set(struct irq_router *r, int gsi, uint64_t addr, uint32_t data)
{
	struct irq_msi_route *m, old;
	int ret = 0;

	pthread_mutex_lock(&r->lock);
	m = msi_slot(r, gsi);
	if (!m) {
		ret = -EINVAL;
	} else if (m->state != MSI_ROUTED || m->addr != addr || m->data != data) {
		old = *m;
		*m = (struct irq_msi_route){
			.addr = addr, .data = data, .devid = old.devid, .state = MSI_ROUTED
		};
		ret = install(r);
		if (ret)
			*m = old;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int irq_msi_set_device(struct irq_router *r, int gsi, uint32_t devid)
{
	struct irq_msi_route *m;

	pthread_mutex_lock(&r->lock);
	m = msi_slot(r, gsi);
	if (m)
		m->devid = devid;
	pthread_mutex_unlock(&r->lock);
	return m ? 0 : -EINVAL;
}

int irq_msi_free(struct irq_router *r, int gsi)
{
	struct irq_msi_route *m;
	int ret = 0;

	pthread_mutex_lock(&r->lock);
	m = msi_slot(r, gsi);
	if (!m) {
		ret = -EINVAL;
	} else if (m->state == MSI_ALLOCATED) {
		m->state = MSI_FREE;
	} else {
		m->state = MSI_FREE;
		ret = install(r);
		if (ret)
			m->state = MSI_ROUTED; /* KVM still has the route; so do we */
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

static int irqfd(struct irq_router *r, struct kvm_irqfd *req)
{
	int ret = r->ioctl(r->vm_fd, KVM_IRQFD, req);

	return ret < 0 ? ret : 0;
}

int irq_irqfd_assign(struct irq_router *r, int gsi, int eventfd, int resample_fd)
{
	struct kvm_irqfd req = { .fd = (uint32_t)eventfd, .gsi = (uint32_t)gsi };

	if (gsi < 0 || eventfd < 0)
		return -EINVAL;
	if (resample_fd >= 0) {
		req.flags = KVM_IRQFD_FLAG_RESAMPLE;
		req.resamplefd = (uint32_t)resample_fd;
	}
	return irqfd(r, &req);
}

int irq_irqfd_deassign(struct irq_router *r, int gsi, int eventfd)
{
	struct kvm_irqfd req = {
		.fd = (uint32_t)eventfd,
		.gsi = (uint32_t)gsi,
		.flags = KVM_IRQFD_FLAG_DEASSIGN,
	};

	if (gsi < 0 || eventfd < 0)
		return -EINVAL;
	return irqfd(r, &req);
}

int irq_line(struct irq_router *r, unsigned int gsi, bool level)
{
	struct kvm_irq_level line = { .irq = CHIPSET_IRQ_LINE(gsi), .level = level ? 1 : 0 };
	int ret = r->ioctl(r->vm_fd, KVM_IRQ_LINE, &line);

	return ret < 0 ? ret : 0;
}
