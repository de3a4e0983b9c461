/* SPDX-License-Identifier: MIT */
/*
 * KVM's side of a gdb session (vmm/gdb/stub.c is its caller): a vCPU's registers in gdb's
 * layout, guest-virtual memory through that vCPU's own page tables (KVM_TRANSLATE, one
 * page at a time, guest RAM only), and KVM_SET_GUEST_DEBUG for breakpoints, watchpoints
 * and steps. Main thread; the vCPU must be parked (out of KVM_RUN), or KVM makes the
 * caller wait for it.
 */
#ifndef VMM_GDB_KVM_H
#define VMM_GDB_KVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/gdb/session.h"
#include "vmm/vm.h"

/* The register set in gdb's 'g' layout: its length, or -errno. */
int gdb_kvm_read_regs(struct vm *vm, unsigned int cpu, uint8_t *out, size_t cap);
int gdb_kvm_write_regs(struct vm *vm, unsigned int cpu, const uint8_t *in, size_t len);
/* 0, or -EFAULT where the guest has nothing mapped or the page is not guest RAM. */
int gdb_kvm_copy_mem(struct vm *vm, unsigned int cpu, uint64_t addr, void *buf, size_t len,
		     bool write);
/*
 * Load d into the vCPU (caps: KVM_CAP_SET_GUEST_DEBUG2's bits); step: one instruction;
 * inject_bp: hand the guest the #BP it just hit (an int3 of its own).
 */
int gdb_kvm_set_debug(struct vm *vm, unsigned int cpu, const struct gdb_debug_state *d,
		      uint32_t caps, bool step, bool inject_bp);

#endif
