/* SPDX-License-Identifier: MIT */
/*
 * Interrupt routing for one VM: the chipset's fixed wiring of GSIs to the in-kernel
 * interrupt controllers (vmm/x86/chipset.h, vmm/arm64/chipset.h), plus MSI routes that
 * devices add and change while the guest runs (MSI-X vectors), and the eventfds (irqfd)
 * through which device threads raise a GSI without a vCPU exit.
 *
 * KVM_SET_GSI_ROUTING replaces the VM's whole routing table, so the router keeps the
 * table: the fixed entries are built once, and every MSI change re-installs them plus
 * all MSI routes, under a mutex, from an array inside struct irq_router (no allocation
 * after init).
 *
 * Typical use for one MSI-X vector: gsi = irq_msi_alloc(); an eventfd;
 * irq_irqfd_assign(gsi, eventfd, -1); irq_msi_set(gsi, addr, data) whenever the guest
 * programs (and unmasks) the vector; write the eventfd to interrupt the guest.
 * Teardown: irq_irqfd_deassign(), irq_msi_free().
 *
 * Every function returns 0 (or a GSI) on success, -errno on failure; a failed call
 * leaves the router's table as it was, which is also what KVM still has.
 */
#ifndef VMM_IRQ_H
#define VMM_IRQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

#if defined(__aarch64__)
#include "vmm/arm64/chipset.h"
#else
#include "vmm/x86/chipset.h"
#endif

/* GSIs below this are the chipset's; MSI routes take the ones above. */
#define IRQ_MSI_GSI_BASE CHIPSET_GSIS
/*
 * Most routing entries the router ever installs; the kernel's own limit (the value of
 * KVM_CAP_IRQ_ROUTING) lowers this further at init. GSIs must be below the limit and the
 * table may not hold more entries than it, so MSI GSIs end at limit - (fixed entries - 24).
 */
#define IRQ_MAX_ROUTES 1024

/*
 * The ioctl the router uses, replaceable so a unit test can run without /dev/kvm:
 * returns the ioctl's (non-negative) result or -errno.
 */
typedef int (*irq_ioctl_fn)(int fd, unsigned long request, void *arg);

struct irq_msi_route {
	uint64_t addr;
	uint32_t data;
	uint32_t devid; /* the sender's PCI requester ID, where KVM wants it */
	uint8_t state;	/* enum in irq.c: free, allocated (no route yet), routed */
};

struct irq_router {
	int vm_fd;
	irq_ioctl_fn ioctl;
	pthread_mutex_t lock;
	unsigned int nr_fixed; /* the chipset's entries at the start of table.entries */
	unsigned int msi_end;  /* first GSI past the MSI range */
	/* KVM translates MSIs by device (KVM_CAP_MSI_DEVID: an arm64 ITS): routes carry devid */
	bool msi_devid;
	struct irq_msi_route msi[IRQ_MAX_ROUTES - IRQ_MSI_GSI_BASE];
	struct {
		struct kvm_irq_routing hdr;
		struct kvm_irq_routing_entry entries[IRQ_MAX_ROUTES];
	} table;
};

/*
 * Take over the VM's routing: install the chipset's routes (chipset_routes()) and learn how
 * many routes KVM allows. Call before any device uses MSI, and before irqfds exist.
 */
int irq_router_init(struct irq_router *r, int vm_fd);
/* The same with another ioctl (tests). */
int irq_router_init_with(struct irq_router *r, int vm_fd, irq_ioctl_fn fn);
void irq_router_destroy(struct irq_router *r);

/* A free GSI for an MSI route (no route yet), or -ENOSPC. */
int irq_msi_alloc(struct irq_router *r);
/*
 * Who sends the GSI's messages: a PCI requester ID (bus << 8 | device << 3 | function),
 * which an interrupt controller that translates by device (an arm64 ITS) needs in every
 * route. Takes effect with the next irq_msi_set(); -EINVAL for a GSI that is not allocated.
 */
int irq_msi_set_device(struct irq_router *r, int gsi, uint32_t devid);
/*
 * Route an allocated GSI to the MSI message (addr, data) and re-install the table;
 * nothing is installed when the route already has these values. -EINVAL for a GSI that
 * is not allocated.
 */
int irq_msi_set(struct irq_router *r, int gsi, uint64_t addr, uint32_t data);
/* Drop the GSI's route (if any) and return it to the pool. Deassign its irqfds first. */
int irq_msi_free(struct irq_router *r, int gsi);

/*
 * Signalling eventfd raises gsi (KVM_IRQFD). resample_fd -1: edge (MSI). Otherwise the
 * GSI is level-triggered (INTx): the write asserts it, and KVM de-asserts it and
 * signals resample_fd when the guest acknowledges the interrupt.
 */
int irq_irqfd_assign(struct irq_router *r, int gsi, int eventfd, int resample_fd);
int irq_irqfd_deassign(struct irq_router *r, int gsi, int eventfd);

/* Drive a PIC/IOAPIC input (KVM_IRQ_LINE), e.g. a PCI INTx line. */
int irq_line(struct irq_router *r, unsigned int gsi, bool level);

#endif
