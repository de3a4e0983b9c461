/* SPDX-License-Identifier: MIT */
/*
 * Exit statistics: how often the guest made the VMM do something, and why. The counters
 * live next to what they count, so that counting costs almost nothing on the hot paths:
 *   - exits by reason: struct vcpu_exit_stats in each struct vcpu, written only by that
 *     vCPU's own thread (a relaxed load and store, no locked instruction);
 *   - accesses by address range: struct bus_range (devices/bus.h), relaxed atomics;
 *   - virtio: interrupts injected and BAR accesses in struct virtio_pci, kicks consumed
 *     and requests taken per queue in struct blk_queue, relaxed atomics.
 * The printers below only read them (relaxed loads), so they may run while the guest
 * does: the totals are then a moment's snapshot, not one consistent instant.
 */
#ifndef VMM_STATS_H
#define VMM_STATS_H

#include <stdint.h>
#include <stdio.h>
#include <linux/kvm.h>

struct vm;

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

/* Short name of a reason, as the JSON keys spell it ("io", "mmio", ...). */
const char *stats_exit_key(enum stats_exit kind);

/*
 * Print the tables (exits by reason and vCPU; accesses by bus range, unhandled ones
 * included; per virtio device: kicks, requests and interrupts injected) to out. Lines end
 * in "\r\n" when out is a terminal, which may be in raw mode while the guest runs.
 */
void stats_print(FILE *out, struct vm *vm);

/*
 * The same numbers as one JSON object, written to path (created or truncated). Returns 0
 * or -errno.
 */
int stats_write_json(const char *path, struct vm *vm);
/*
 * The same into f, opened earlier (the VMM opens it before its seccomp lists allow no
 * more opens), which is closed afterwards. Returns 0 or -errno.
 */
int stats_write_json_file(FILE *f, struct vm *vm);
/* The same JSON to an open stream ("\n" line ends); returns 0 or -EIO. */
int stats_json(FILE *out, struct vm *vm);

#endif
