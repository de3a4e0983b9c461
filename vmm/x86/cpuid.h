/* SPDX-License-Identifier: MIT */
/*
 * What CPUID tells the guest: the features KVM can virtualize on this host, with the
 * per-vCPU facts only the VMM knows (APIC ID, how many CPUs share a package) and the
 * hypervisor bit, so the guest sees a coherent topology and knows it runs under KVM.
 */
#ifndef VMM_X86_CPUID_H
#define VMM_X86_CPUID_H

#include <linux/kvm.h>

/* The host's KVM_GET_SUPPORTED_CPUID list (malloc'ed), or NULL with errno set. */
struct kvm_cpuid2 *cpuid_supported(int kvm_sys_fd);
/* Adjust a copy of the supported list for the vCPU with this APIC ID out of ncpus. */
void cpuid_for_vcpu(struct kvm_cpuid2 *cpuid, unsigned int apic_id, unsigned int ncpus);
/*
 * KVM emulates the TSC-deadline timer in its local APIC but leaves the CPUID bit to us
 * (KVM_CAP_TSC_DEADLINE_TIMER). Without it Linux must calibrate the APIC timer.
 */
void cpuid_set_tsc_deadline(struct kvm_cpuid2 *cpuid);

#endif
