/* SPDX-License-Identifier: MIT */
/*
 * The PC chipset that KVM emulates inside the kernel: the two 8259 PICs, the IOAPIC, the
 * local APICs and the PIT, and how the GSIs are wired to them. With all of them in the
 * kernel, timer ticks and interrupt acknowledgements never exit to user space.
 *
 * This is x86 only. The generic interrupt router (vmm/irq.h) puts its MSI routes after
 * the chipset's fixed ones; another architecture brings its own interrupt controller
 * here, with the same three functions.
 */
#ifndef VMM_X86_CHIPSET_H
#define VMM_X86_CHIPSET_H

#include <stddef.h>
#include <linux/kvm.h>

/* GSIs 0-15 reach both PICs and the IOAPIC, 16-23 the IOAPIC only. */
#define CHIPSET_GSIS 24
/* What KVM_IRQ_LINE takes for a GSI: the GSI itself (the PIC's and IOAPIC's input). */
#define CHIPSET_IRQ_LINE(gsi) (gsi)
/* Routing entries for them: 16 PIC + 23 IOAPIC (the cascade, GSI 2, has no IOAPIC pin). */
#define CHIPSET_ROUTES (16 + CHIPSET_GSIS - 1)

/*
 * Fill e (room for CHIPSET_ROUTES) with the fixed routes; returns how many. GSI 0 (the
 * PIT) drives IOAPIC pin 2, as the MADT's interrupt source override says.
 */
unsigned int chipset_routes(struct kvm_irq_routing_entry *e);
/* Install only the fixed routes on the VM (KVM_SET_GSI_ROUTING). Returns 0 or -errno. */
int chipset_install_routing(int vm_fd);
/*
 * On a fresh VM: the TSS and identity-map pages Intel VT-x needs, the in-kernel irqchip,
 * the fixed routes and the PIT. Returns 0, or -errno with a sentence in err.
 */
int chipset_create(int sys_fd, int vm_fd, char *err, size_t errlen);

#endif
