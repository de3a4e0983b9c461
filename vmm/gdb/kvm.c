/* SPDX-License-Identifier: MIT */
/* KVM's side of a gdb session: registers, guest memory and guest debugging (see kvm.h). */
#include "vmm/gdb/kvm.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/x86/gdb_regs.h"

#define PAGE 4096u

int gdb_kvm_read_regs(struct vm *vm, unsigned int cpu, uint8_t *out, size_t cap)
{
	int fd = vm->vcpus[cpu].fd;
	struct kvm_regs r;
	struct kvm_sregs sr;
	struct kvm_fpu f;

	if (cap < X86_GDB_REGS_SIZE)
		return -ENOSPC;
	if (ioctl(fd, KVM_GET_REGS, &r) < 0 || ioctl(fd, KVM_GET_SREGS, &sr) < 0 ||
	    ioctl(fd, KVM_GET_FPU, &f) < 0)
		return -errno;
	x86_gdb_regs_read(&r, &sr, &f, out);
	return X86_GDB_REGS_SIZE;
}

int gdb_kvm_write_regs(struct vm *vm, unsigned int cpu, const uint8_t *in, size_t len)
{
	int fd = vm->vcpus[cpu].fd;
	struct kvm_regs r;

	if (ioctl(fd, KVM_GET_REGS, &r) < 0)
		return -errno;
	if (x86_gdb_regs_write(&r, in, len))
		return -EINVAL;
	return ioctl(fd, KVM_SET_REGS, &r) < 0 ? -errno : 0;
}

/*
 * Guest-virtual to host memory, one page at a time, through the vCPU's own page tables
 * (KVM_TRANSLATE). Only guest RAM is ever touched: guest_mem_ptr refuses the rest.
 */
int gdb_kvm_copy_mem(struct vm *vm, unsigned int cpu, uint64_t addr, void *buf, size_t len,
		     bool write)
{
	uint8_t *p = buf;

	while (len) {
		struct kvm_translation t = { .linear_address = addr };
		size_t chunk = PAGE - (addr & (PAGE - 1));
		void *host;

		if (chunk > len)
			chunk = len;
		if (ioctl(vm->vcpus[cpu].fd, KVM_TRANSLATE, &t) < 0 || !t.valid)
			return -EFAULT;
		host = guest_mem_ptr(&vm->mem, t.physical_address, chunk);
		if (!host)
			return -EFAULT;
		if (write)
			memcpy(host, p, chunk);
		else
			memcpy(p, host, chunk);
		addr += chunk;
		p += chunk;
		len -= chunk;
	}
	return 0;
}

/* DR7 for the session's hardware breakpoints: enable, type and length per register. */
static uint64_t dr7_of(const struct gdb_debug_state *d)
{
	static const unsigned int rw[] = {
		[GDB_HW_EXEC] = 0, [GDB_HW_WRITE] = 1, [GDB_HW_ACCESS] = 3
	};
	uint64_t dr7 = 0x600; /* GE, and bit 10 that always reads one */

	for (unsigned int i = 0; i < d->nhw; i++) {
		unsigned int len = d->hw[i].len == 8 ? 2 : d->hw[i].len - 1;

		dr7 |= 1ull << (2 * i);
		dr7 |= (uint64_t)(rw[d->hw[i].kind] | len << 2) << (16 + 4 * i);
	}
	return dr7;
}

int gdb_kvm_set_debug(struct vm *vm, unsigned int cpu, const struct gdb_debug_state *d,
		      uint32_t caps, bool step, bool inject_bp)
{
	struct kvm_guest_debug dbg = { 0 };

	if (d->sw_breakpoints)
		dbg.control |= KVM_GUESTDBG_USE_SW_BP;
	if (d->nhw) {
		dbg.control |= KVM_GUESTDBG_USE_HW_BP;
		for (unsigned int i = 0; i < d->nhw; i++)
			dbg.arch.debugreg[i] = d->hw[i].addr;
		dbg.arch.debugreg[7] = dr7_of(d);
	}
	if (step) {
		struct kvm_mp_state mp = { 0 };

		dbg.control |= KVM_GUESTDBG_SINGLESTEP;
		/*
		 * A step should not land in whatever interrupt is pending; but a vCPU halted
		 * in the idle loop runs again only for an interrupt, so there it must come.
		 */
		(void)ioctl(vm->vcpus[cpu].fd, KVM_GET_MP_STATE, &mp);
		if (caps & KVM_GUESTDBG_BLOCKIRQ && mp.mp_state != KVM_MP_STATE_HALTED)
			dbg.control |= KVM_GUESTDBG_BLOCKIRQ;
	}
	if (inject_bp)
		dbg.control |= KVM_GUESTDBG_INJECT_BP;
	if (dbg.control)
		dbg.control |= KVM_GUESTDBG_ENABLE;
	return ioctl(vm->vcpus[cpu].fd, KVM_SET_GUEST_DEBUG, &dbg) < 0 ? -errno : 0;
}
