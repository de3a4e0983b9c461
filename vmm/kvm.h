/* SPDX-License-Identifier: MIT */
/*
 * The KVM system and VM file descriptors: open /dev/kvm, check that the kernel offers
 * every capability this VMM relies on, and create a VM. Its in-kernel interrupt
 * controllers (x86: PIC, IOAPIC, local APICs and PIT; arm64: the GIC) come from
 * vmm/arch.h, so timer and interrupt traffic never has to leave the kernel.
 */
#ifndef VMM_KVM_H
#define VMM_KVM_H

#include <stdbool.h>
#include <stddef.h>

struct kvm {
	int sys_fd;
	int vm_fd;
	int vcpu_mmap_size; /* size of each vCPU's shared kvm_run area */
	int max_vcpus;
	bool tsc_deadline; /* the in-kernel local APIC offers the TSC-deadline timer */
};

/*
 * Open path (normally "/dev/kvm") and check API version and capabilities. On failure,
 * returns -errno and writes a sentence naming what is missing into err.
 */
int kvm_open(struct kvm *kvm, const char *path, char *err, size_t errlen);
/* Create the VM (its interrupt controllers come from vmm/arch.h). Same error convention. */
int kvm_create_vm(struct kvm *kvm, char *err, size_t errlen);
/* Drive an interrupt line of the in-kernel PIC/IOAPIC or GIC (level 1 = asserted). */
int kvm_irq_line(struct kvm *kvm, unsigned int irq, int level);
void kvm_close(struct kvm *kvm);

#endif
