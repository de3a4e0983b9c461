/* SPDX-License-Identifier: MIT */
/*
 * The exit counters a vCPU keeps while it runs: written only by that vCPU's own thread (a
 * relaxed load and store, no locked instruction), read by vmm/stats.c's printers. Apart
 * from the printers so that struct vm and struct vcpu can hold them without including
 * what reports them.
 */
#ifndef VMM_EXIT_STATS_H
#define VMM_EXIT_STATS_H

#include <stdint.h>
#include <linux/kvm.h>

/* What KVM_RUN came back for; the order is the table's. */
enum stats_exit {
	STATS_EXIT_IO,		   /* KVM_EXIT_IO: in/out to a port */
	STATS_EXIT_MMIO,	   /* KVM_EXIT_MMIO: a load or store with no RAM behind it */
	STATS_EXIT_HLT,		   /* KVM_EXIT_HLT (never with the in-kernel local APIC) */
	STATS_EXIT_SHUTDOWN,	   /* KVM_EXIT_SHUTDOWN: triple fault */
	STATS_EXIT_SYSTEM_EVENT,   /* KVM_EXIT_SYSTEM_EVENT: shutdown or reset request */
	STATS_EXIT_INTERNAL_ERROR, /* KVM_EXIT_INTERNAL_ERROR */
	STATS_EXIT_FAIL_ENTRY,	   /* KVM_EXIT_FAIL_ENTRY */
	STATS_EXIT_INTERRUPTED,	   /* KVM_RUN failed with EINTR/EAGAIN, or KVM_EXIT_INTR */
	STATS_EXIT_OTHER,	   /* anything else */
	STATS_EXIT_NR
};

struct vcpu_exit_stats {
	uint64_t exits[STATS_EXIT_NR];
};

static inline enum stats_exit stats_exit_kind(uint32_t kvm_exit_reason)
{
	switch (kvm_exit_reason) {
	case KVM_EXIT_IO:
		return STATS_EXIT_IO;
	case KVM_EXIT_MMIO:
		return STATS_EXIT_MMIO;
	case KVM_EXIT_HLT:
		return STATS_EXIT_HLT;
	case KVM_EXIT_SHUTDOWN:
		return STATS_EXIT_SHUTDOWN;
	case KVM_EXIT_SYSTEM_EVENT:
		return STATS_EXIT_SYSTEM_EVENT;
	case KVM_EXIT_INTERNAL_ERROR:
		return STATS_EXIT_INTERNAL_ERROR;
	case KVM_EXIT_FAIL_ENTRY:
		return STATS_EXIT_FAIL_ENTRY;
	case KVM_EXIT_INTR:
		return STATS_EXIT_INTERRUPTED;
	default:
		return STATS_EXIT_OTHER;
	}
}

/* Count one exit. Only the vCPU's own thread may call it (single writer). */
static inline void stats_count_exit(struct vcpu_exit_stats *s, enum stats_exit kind)
{
	uint64_t *c = &s->exits[kind];

	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

#endif
