/* SPDX-License-Identifier: MIT */
/*
 * KVM's side of a snapshot on x86: what the kernel keeps for the VM (both PICs, the
 * IOAPIC, the PIT) and for each vCPU (registers, FPU/XSAVE, XCRs, debug registers, local
 * APIC, MSRs, pending events, MP state), as sections of the state file
 * (vmm/snapshot_format.h). kvmclock is not here: the pause already read it
 * (vmm/pause.h), and the snapshot saves that value.
 *
 * The order matters on the way back in (docs/snapshot.md, "Restore order"):
 *   VM:   PIT, PIC master, PIC slave, IOAPIC, before any vCPU state;
 *   vCPU: MP state, regs, sregs (CR0/CR4/EFER before anything that depends on the mode),
 *         XSAVE (or FPU), XCRs, LAPIC (before the MSRs: the TSC-deadline MSR is only
 *         writable in the LAPIC mode the guest chose), MSRs, debug registers, and last the
 *         pending events (an exception or NMI is injected into the state now complete).
 * The caller sets the clock (KVM_SET_CLOCK) after all of this, just before the vCPUs run.
 *
 * Threads: main thread only, every vCPU parked (saving) or not yet started (restoring).
 */
#ifndef VMM_X86_KVM_STATE_H
#define VMM_X86_KVM_STATE_H

#include "vmm/snapshot_format.h"

/*
 * Read once, before the sandbox closes: the MSRs KVM can save, and which of the optional
 * state ioctls this kernel has. Returns 0 or -errno. Needed before every call below.
 */
int kvm_state_init(int sys_fd, int vm_fd);

int kvm_state_save_vm(int vm_fd, struct snap_writer *w);
int kvm_state_save_vcpu(int vcpu_fd, unsigned int index, struct snap_writer *w);

/* Returns 0, or -errno with the failing step named in err. */
int kvm_state_restore_vm(int vm_fd, const struct snap_reader *r, char *err, size_t errlen);
int kvm_state_restore_vcpu(int vcpu_fd, unsigned int index, const struct snap_reader *r, char *err,
			   size_t errlen);

#endif
