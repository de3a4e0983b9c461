// SPDX-License-Identifier: MIT
/* The in-kernel chipset's and each vCPU's state, to and from snapshot sections (kvm_state.h). */
#include "vmm/x86/kvm_state.h"

#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#define MAX_MSRS 1024

/*
 * Facts about this KVM, read once at start-up while KVM_GET_MSR_INDEX_LIST and
 * KVM_CHECK_EXTENSION are still allowed; written before any other thread exists.
 */
static struct {
	uint32_t msrs[MAX_MSRS];
	unsigned int nmsrs;
	size_t xsave_size; /* 0: no XSAVE, use KVM_GET_FPU */
	bool xsave2, xcrs, debugregs, events;
} caps;

int kvm_state_init(int sys_fd, int vm_fd)
{
	struct {
		struct kvm_msr_list list;
		uint32_t room[MAX_MSRS];
	} l = { .list.nmsrs = MAX_MSRS };
	int size;

	if (ioctl(sys_fd, KVM_GET_MSR_INDEX_LIST, &l) < 0)
		return -errno;
	caps.nmsrs = l.list.nmsrs < MAX_MSRS ? l.list.nmsrs : MAX_MSRS;
	memcpy(caps.msrs, l.list.indices, caps.nmsrs * sizeof(uint32_t));
	size = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	if (size > (int)sizeof(struct kvm_xsave)) {
		caps.xsave2 = true;
		caps.xsave_size = (size_t)size;
	} else if (ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0) {
		caps.xsave_size = sizeof(struct kvm_xsave);
	}
	caps.xcrs = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0;
	caps.debugregs = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_DEBUGREGS) > 0;
	caps.events = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_VCPU_EVENTS) > 0;
	return 0;
}

/* ---- saving ---- */

/* One ioctl into a buffer of len bytes, saved as one section. */
static int save_one(int fd, unsigned long req, struct snap_writer *w, uint32_t id,
		    uint32_t instance, void *buf, size_t len)
{
	if (ioctl(fd, req, buf) < 0)
		return -errno;
	return snap_section(w, id, instance, buf, len);
}

static int save_irqchip(int vm_fd, struct snap_writer *w, uint32_t chip, uint32_t id)
{
	struct kvm_irqchip c = { .chip_id = chip };

	return save_one(vm_fd, KVM_GET_IRQCHIP, w, id, 0, &c, sizeof(c));
}

int kvm_state_save_vm(int vm_fd, struct snap_writer *w)
{
	struct kvm_pit_state2 pit;

	return save_irqchip(vm_fd, w, KVM_IRQCHIP_PIC_MASTER, SNAP_VM_PIC_MASTER)
		       ?: save_irqchip(vm_fd, w, KVM_IRQCHIP_PIC_SLAVE, SNAP_VM_PIC_SLAVE)
		       ?: save_irqchip(vm_fd, w, KVM_IRQCHIP_IOAPIC, SNAP_VM_IOAPIC)
		       ?: save_one(vm_fd, KVM_GET_PIT2, w, SNAP_VM_PIT, 0, &pit, sizeof(pit));
}

/*
 * Every MSR in KVM's list that this vCPU lets us read. KVM_GET_MSRS stops at the first
 * one it refuses and says how many it read: skip that one and go on from the next.
 */
static int save_msrs(int fd, unsigned int index, struct snap_writer *w)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[MAX_MSRS];
	} *m = calloc(1, sizeof(*m));
	struct kvm_msr_entry *out = calloc(MAX_MSRS, sizeof(*out));
	unsigned int at = 0, n = 0;
	int ret = 0;

	if (!m || !out) {
		free(m);
		free(out);
		return -ENOMEM;
	}
	while (at < caps.nmsrs) {
		unsigned int todo = caps.nmsrs - at;
		int got;

		m->hdr.nmsrs = todo;
		for (unsigned int i = 0; i < todo; i++)
			m->e[i] = (struct kvm_msr_entry){ .index = caps.msrs[at + i] };
		got = ioctl(fd, KVM_GET_MSRS, m);
		if (got < 0) {
			ret = -errno;
			break;
		}
		memcpy(out + n, m->e, (size_t)got * sizeof(*out));
		n += (unsigned int)got;
		at += (unsigned int)got + 1; /* the one it stopped at is not readable */
	}
	if (!ret)
		ret = snap_section(w, SNAP_VCPU_MSRS, index, out, n * sizeof(*out));
	free(m);
	free(out);
	return ret;
}

static int save_xsave(int fd, unsigned int index, struct snap_writer *w)
{
	void *buf;
	int ret;

	if (!caps.xsave_size) {
		struct kvm_fpu fpu;

		return save_one(fd, KVM_GET_FPU, w, SNAP_VCPU_FPU, index, &fpu, sizeof(fpu));
	}
	buf = calloc(1, caps.xsave_size);
	if (!buf)
		return -ENOMEM;
	ret = save_one(fd, caps.xsave2 ? KVM_GET_XSAVE2 : KVM_GET_XSAVE, w, SNAP_VCPU_XSAVE, index,
		       buf, caps.xsave_size);
	free(buf);
	return ret;
}

int kvm_state_save_vcpu(int fd, unsigned int index, struct snap_writer *w)
{
	struct kvm_mp_state mp;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xcrs xcrs;
	struct kvm_debugregs dbg;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	int ret;

	/* MP state first: reading it makes KVM settle pending INIT/SIPI into the state */
	ret = save_one(fd, KVM_GET_MP_STATE, w, SNAP_VCPU_MP_STATE, index, &mp, sizeof(mp))
		      ?: save_one(fd, KVM_GET_REGS, w, SNAP_VCPU_REGS, index, &regs, sizeof(regs))
		      ?: save_one(fd, KVM_GET_SREGS, w, SNAP_VCPU_SREGS, index, &sregs,
				  sizeof(sregs))
		      ?: save_xsave(fd, index, w);
	if (!ret && caps.xcrs)
		ret = save_one(fd, KVM_GET_XCRS, w, SNAP_VCPU_XCRS, index, &xcrs, sizeof(xcrs));
	if (!ret && caps.debugregs)
		ret = save_one(fd, KVM_GET_DEBUGREGS, w, SNAP_VCPU_DEBUGREGS, index, &dbg,
			       sizeof(dbg));
	if (!ret)
		ret = save_one(fd, KVM_GET_LAPIC, w, SNAP_VCPU_LAPIC, index, &lapic, sizeof(lapic))
			      ?: save_msrs(fd, index, w);
	if (!ret && caps.events)
		ret = save_one(fd, KVM_GET_VCPU_EVENTS, w, SNAP_VCPU_EVENTS, index, &events,
			       sizeof(events));
	return ret;
}

/* ---- restoring ---- */

/*
 * Section (id, instance) of exactly len bytes into buf, then the ioctl. A missing
 * section is an error unless optional; a KVM refusal names the step.
 */
static int restore_one(int fd, unsigned long req, const char *what, const struct snap_reader *r,
		       uint32_t id, uint32_t instance, void *buf, size_t len, bool optional,
		       char *err, size_t errlen)
{
	int ret = snap_get(r, id, instance, buf, len);

	if (ret == -ENOENT && optional)
		return 0;
	if (ret) {
		snprintf(err, errlen, "%s of %u: %s", what, instance,
			 ret == -ENOENT ? "missing" : "of the wrong size");
		return ret;
	}
	if (ioctl(fd, req, buf) < 0) {
		ret = -errno;
		snprintf(err, errlen, "KVM refused %s of %u: %s", what, instance, strerror(-ret));
	}
	return ret;
}

int kvm_state_restore_vm(int vm_fd, const struct snap_reader *r, char *err, size_t errlen)
{
	struct kvm_pit_state2 pit;
	struct kvm_irqchip chips[3];
	static const uint32_t ids[3] = { SNAP_VM_PIC_MASTER, SNAP_VM_PIC_SLAVE, SNAP_VM_IOAPIC };

	/* each chip's id picks which chip KVM_SET_IRQCHIP sets: all checked before any is set */
	for (unsigned int i = 0; i < 3; i++)
		if (snap_get(r, ids[i], 0, &chips[i], sizeof(chips[i])) || chips[i].chip_id != i) {
			snprintf(err, errlen, "the interrupt controllers' state is missing or bad");
			return -EINVAL;
		}
	return restore_one(vm_fd, KVM_SET_PIT2, "the PIT's state", r, SNAP_VM_PIT, 0, &pit,
			   sizeof(pit), false, err, errlen)
		       ?: restore_one(vm_fd, KVM_SET_IRQCHIP, "the master PIC's state", r,
				      SNAP_VM_PIC_MASTER, 0, &chips[0], sizeof(chips[0]), false,
				      err, errlen)
		       ?: restore_one(vm_fd, KVM_SET_IRQCHIP, "the slave PIC's state", r,
				      SNAP_VM_PIC_SLAVE, 0, &chips[1], sizeof(chips[1]), false,
				      err, errlen)
		       ?: restore_one(vm_fd, KVM_SET_IRQCHIP, "the IOAPIC's state", r,
				      SNAP_VM_IOAPIC, 0, &chips[2], sizeof(chips[2]), false, err,
				      errlen);
}

/* Set every saved MSR; KVM stops at one it refuses, which is skipped (a read-only one). */
static int restore_msrs(int fd, unsigned int index, const struct snap_reader *r, char *err,
			size_t errlen)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[MAX_MSRS];
	} * m;
	const void *data;
	size_t len;
	unsigned int n, at = 0;
	int ret = 0;

	if (snap_find(r, SNAP_VCPU_MSRS, index, &data, &len) ||
	    len % sizeof(struct kvm_msr_entry) || len / sizeof(struct kvm_msr_entry) > MAX_MSRS) {
		snprintf(err, errlen, "the MSRs of vCPU %u: missing or bad", index);
		return -EINVAL;
	}
	n = (unsigned int)(len / sizeof(struct kvm_msr_entry));
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	while (at < n) {
		int done;

		m->hdr.nmsrs = n - at;
		memcpy(m->e, (const struct kvm_msr_entry *)data + at,
		       (n - at) * sizeof(struct kvm_msr_entry));
		done = ioctl(fd, KVM_SET_MSRS, m);
		if (done < 0) {
			ret = -errno;
			snprintf(err, errlen, "KVM refused the MSRs of vCPU %u: %s", index,
				 strerror(-ret));
			break;
		}
		at += (unsigned int)done + 1;
	}
	free(m);
	return ret;
}

static int restore_xsave(int fd, unsigned int index, const struct snap_reader *r, char *err,
			 size_t errlen)
{
	const void *data;
	size_t len;
	void *buf;
	int ret = 0;

	if (snap_find(r, SNAP_VCPU_XSAVE, index, &data, &len)) {
		struct kvm_fpu fpu;

		return restore_one(fd, KVM_SET_FPU, "the FPU", r, SNAP_VCPU_FPU, index, &fpu,
				   sizeof(fpu), false, err, errlen);
	}
	/* KVM_SET_XSAVE reads as many bytes as this host's XSAVE2 size: no less may be there */
	if (len < sizeof(struct kvm_xsave) || len < caps.xsave_size) {
		snprintf(err, errlen, "the XSAVE area of vCPU %u: %zu bytes, this host needs %zu",
			 index, len, caps.xsave_size);
		return -EINVAL;
	}
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, data, len);
	if (ioctl(fd, KVM_SET_XSAVE, buf) < 0) {
		ret = -errno;
		snprintf(err, errlen, "KVM refused the XSAVE area of vCPU %u: %s", index,
			 strerror(-ret));
	}
	free(buf);
	return ret;
}

/* KVM runs its guests with AMD's SVM here (CPUID 0x80000001, ECX bit 2), not Intel's VMX. */
static bool host_has_svm(void)
{
	unsigned int eax, ebx, ecx = 0, edx;

	return __get_cpuid(0x80000001, &eax, &ebx, &ecx, &edx) && (ecx & (1u << 2));
}

/*
 * The system registers, with one fix-up for AMD. An AMD CPU keeps the task register's
 * type as "available 64-bit TSS" (9) in what VMSAVE stores, and KVM reports it as "busy"
 * (11), since a loaded TR is busy. Set back as 11, that is not what the CPU itself would
 * have saved, and at least QEMU's emulated SVM then refuses user-space port I/O through
 * the I/O bitmap (it wants type 9): an ioperm() user, such as `vmm run`'s init, faults on
 * its first IN after a restore. So on SVM the type goes back as the CPU saves it. Intel's
 * VMX requires 11 on VM entry and keeps it.
 */
static int restore_sregs(int fd, unsigned int index, const struct snap_reader *r, char *err,
			 size_t errlen)
{
	struct kvm_sregs sregs;
	int ret = snap_get(r, SNAP_VCPU_SREGS, index, &sregs, sizeof(sregs));

	if (ret) {
		snprintf(err, errlen, "the system registers of %u: %s", index,
			 ret == -ENOENT ? "missing" : "of the wrong size");
		return ret;
	}
	if (sregs.tr.type == 11 && host_has_svm())
		sregs.tr.type = 9;
	if (ioctl(fd, KVM_SET_SREGS, &sregs) < 0) {
		ret = -errno;
		snprintf(err, errlen, "KVM refused the system registers of %u: %s", index,
			 strerror(-ret));
	}
	return ret;
}

int kvm_state_restore_vcpu(int fd, unsigned int index, const struct snap_reader *r, char *err,
			   size_t errlen)
{
	struct kvm_mp_state mp;
	struct kvm_regs regs;
	struct kvm_xcrs xcrs;
	struct kvm_debugregs dbg;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;

	return restore_one(fd, KVM_SET_MP_STATE, "the MP state", r, SNAP_VCPU_MP_STATE, index, &mp,
			   sizeof(mp), false, err, errlen)
		       ?: restore_one(fd, KVM_SET_REGS, "the registers", r, SNAP_VCPU_REGS, index,
				      &regs, sizeof(regs), false, err, errlen)
		       ?: restore_sregs(fd, index, r, err, errlen)
		       ?: restore_xsave(fd, index, r, err, errlen)
		       ?: restore_one(fd, KVM_SET_XCRS, "the XCRs", r, SNAP_VCPU_XCRS, index, &xcrs,
				      sizeof(xcrs), true, err, errlen)
		       ?: restore_one(fd, KVM_SET_LAPIC, "the local APIC", r, SNAP_VCPU_LAPIC,
				      index, &lapic, sizeof(lapic), false, err, errlen)
		       ?: restore_msrs(fd, index, r, err, errlen)
		       ?: restore_one(fd, KVM_SET_DEBUGREGS, "the debug registers", r,
				      SNAP_VCPU_DEBUGREGS, index, &dbg, sizeof(dbg), true, err,
				      errlen)
		       ?: restore_one(fd, KVM_SET_VCPU_EVENTS, "the pending events", r,
				      SNAP_VCPU_EVENTS, index, &events, sizeof(events), true, err,
				      errlen);
}
