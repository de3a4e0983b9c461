/* SPDX-License-Identifier: MIT */
/*
 * A vCPU's life: created with its CPUID, MSRs and local APIC wiring; the boot vCPU is
 * placed in 64-bit mode at the kernel's entry point, the others wait for the guest's
 * INIT/SIPI through the in-kernel local APIC. Each runs KVM_RUN in its own thread and
 * turns every exit that reaches user space into a bus access or a VM-level decision.
 */
#ifndef VMM_VCPU_H
#define VMM_VCPU_H

#include "vmm/vm.h"

struct arch_vcpu_template;

/* Signal used to kick a vCPU thread out of KVM_RUN. */
#define VCPU_KICK_SIGNAL (SIGRTMIN + 1)

/* KVM_CREATE_VCPU, its kvm_run area, then the architecture's set-up (vmm/arch.h). */
int vcpu_create(struct vm *vm, struct vcpu *vcpu, unsigned int index,
		const struct arch_vcpu_template *t);
/*
 * vcpu_start() makes the thread, which loads its seccomp list before anything else;
 * vcpu_wait_fenced() waits until it has (false: it could not, and has asked the VM to stop).
 */
int vcpu_start(struct vcpu *vcpu);
bool vcpu_wait_fenced(struct vcpu *vcpu);
/* Make KVM_RUN return at once, now and on every later entry. */
void vcpu_kick(struct vcpu *vcpu);
void vcpu_destroy(struct vcpu *vcpu);

/*
 * Ask every thread to stop; the first caller's code wins. Safe from any thread, including
 * a vCPU thread in the middle of an exit: the vCPUs are kicked out of KVM_RUN and the
 * main thread's stop eventfd is written. Here, with the kick, so that vm.c stays below
 * the vCPUs.
 */
void vm_request_stop(struct vm *vm, int exit_code);

#endif
