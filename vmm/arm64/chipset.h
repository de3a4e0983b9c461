/* SPDX-License-Identifier: MIT */
/*
 * The arm64 machine's interrupt controller: KVM's in-kernel GICv3 and its ITS
 * (Documentation/virt/kvm/devices/arm-vgic-v3.rst, arm-vgic-its.rst), or a GICv2
 * (arm-vgic.rst) where the host cannot give a GICv3, created through
 * KVM_CREATE_DEVICE at the addresses of devices/arm64/platform.h. With an ITS, KVM wants the
 * sender's device ID in every MSI route (KVM_CAP_MSI_DEVID; vmm/irq.c asks). The same contract as
 * vmm/x86/chipset.h, so that vmm/irq.c routes GSIs the same way on both: GSI n is the GIC's SPI n
 * (interrupt ID 32 + n).
 */
#ifndef VMM_ARM64_CHIPSET_H
#define VMM_ARM64_CHIPSET_H

#include <stddef.h>
#include <linux/kvm.h>

/* SPIs 0-31 have fixed routes; MSI routes take the GSIs above. */
#define CHIPSET_GSIS 32
#define CHIPSET_ROUTES CHIPSET_GSIS
/* Interrupt IDs the GIC implements: 32 private (SGIs, PPIs) plus the SPIs (a multiple of 32). */
#define CHIPSET_GIC_NR_IRQS 128

/* The fixed routes (GSI n to SPI n) into e, which has room for CHIPSET_ROUTES. Returns that. */
unsigned int chipset_routes(struct kvm_irq_routing_entry *e);
/*
 * The GICv3 device with its distributor and redistributor addresses, and the ITS; where KVM
 * cannot make a GICv3 (KVM_CREATE_DEVICE fails: a host with a GICv2, or a GICv3 without
 * the GICv2 compatibility KVM would need), a GICv2 with its distributor and CPU interface
 * and no ITS. Returns 0, or -errno with a sentence in err.
 */
int chipset_create(int sys_fd, int vm_fd, char *err, size_t errlen);
/* Which GIC chipset_create() made: 3 or 2 (0 before it succeeded). */
unsigned int chipset_gic_version(void);
/* Once every vCPU exists: the number of interrupts, then the GIC's and the ITS's set-up. */
int chipset_finish(char *err, size_t errlen);
/*
 * The value KVM_IRQ_LINE takes for SPI n: the interrupt type in bits 24-31, the interrupt
 * ID in bits 0-15 (Documentation/virt/kvm/api.rst, KVM_IRQ_LINE, arm64).
 */
#define CHIPSET_SPI_LINE(n) ((KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | (32 + (n)))
/* What KVM_IRQ_LINE takes for a GSI (vmm/irq.c): GSI n is SPI n. */
#define CHIPSET_IRQ_LINE(gsi) CHIPSET_SPI_LINE(gsi)

#endif
