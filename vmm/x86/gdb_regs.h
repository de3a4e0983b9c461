/* SPDX-License-Identifier: MIT */
/*
 * The x86-64 registers in the order of gdb's 'g' packet for amd64, without a target
 * description (so gdb uses its built-in one): rax rbx rcx rdx rsi rdi rbp rsp r8-r15, rip
 * (8 bytes each), eflags, cs ss ds es fs gs (4 each), st0-st7 (10 each), fctrl fstat ftag
 * fiseg fioff foseg fooff fop (4 each), xmm0-xmm15 (16 each), mxcsr (4). All little-endian.
 * gdb marks what a reply leaves out (orig_rax, fs_base, ...) unavailable.
 */
#ifndef VMM_X86_GDB_REGS_H
#define VMM_X86_GDB_REGS_H

#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

#define X86_GDB_REGS_SIZE 536

void x86_gdb_regs_read(const struct kvm_regs *r, const struct kvm_sregs *s, const struct kvm_fpu *f,
		       uint8_t out[X86_GDB_REGS_SIZE]);
/*
 * Take a 'G' packet's registers (decoded from hex): the general registers, rip and
 * eflags change; segments and the FPU are left as they are (writing a selector without
 * its descriptor would not mean what gdb thinks). -EINVAL when in is too short for them.
 */
int x86_gdb_regs_write(struct kvm_regs *r, const uint8_t *in, size_t len);

#endif
