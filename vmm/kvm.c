// SPDX-License-Identifier: MIT
/* /dev/kvm, capability checks and VM creation (Documentation/virt/kvm/api.rst). */
#include "vmm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

struct kvm_required_cap {
	int cap;
	const char *name;
	const char *why;
};

static const struct kvm_required_cap required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY", "guest RAM from our own mapping" },
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP", "in-kernel interrupt controllers" },
#if defined(__x86_64__)
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2", "in-kernel PIT timer" },
	{ KVM_CAP_IRQ_INJECT_STATUS, "KVM_CAP_IRQ_INJECT_STATUS", "interrupt lines" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID", "CPUID set-up" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR", "VM creation on Intel hosts" },
#elif defined(__aarch64__)
	{ KVM_CAP_ARM_PSCI_0_2, "KVM_CAP_ARM_PSCI_0_2", "starting and stopping vCPUs" },
	{ KVM_CAP_DEVICE_CTRL, "KVM_CAP_DEVICE_CTRL", "the in-kernel GIC" },
#endif
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD", "virtio notifications" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD", "virtio interrupts" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT", "stopping vCPUs cleanly" },
	{ KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING", "PC interrupt wiring" },
};

static int fail(char *err, size_t errlen, int ret, const char *fmt, const char *arg)
{
	snprintf(err, errlen, fmt, arg, strerror(-ret));
	return ret;
}

int kvm_open(struct kvm *kvm, const char *path, char *err, size_t errlen)
{
	int version;

	memset(kvm, 0, sizeof(*kvm));
	kvm->vm_fd = -1;
	kvm->sys_fd = open(path, O_RDWR | O_CLOEXEC);
	if (kvm->sys_fd < 0)
		return fail(err, errlen, -errno, "cannot open %s: %s", path);

	version = ioctl(kvm->sys_fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		snprintf(err, errlen, "%s speaks KVM API version %d, this VMM needs %d", path,
			 version, KVM_API_VERSION);
		kvm_close(kvm);
		return -ENOTSUP;
	}
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		const struct kvm_required_cap *c = &required_caps[i];
		if (ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, c->cap) <= 0) {
			snprintf(err, errlen, "KVM lacks %s, needed for %s", c->name, c->why);
			kvm_close(kvm);
			return -ENOTSUP;
		}
	}
	kvm->vcpu_mmap_size = ioctl(kvm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm->vcpu_mmap_size <= 0) {
		snprintf(err, errlen, "KVM_GET_VCPU_MMAP_SIZE failed");
		kvm_close(kvm);
		return -ENOTSUP;
	}
	kvm->tsc_deadline = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	kvm->max_vcpus = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (kvm->max_vcpus <= 0)
		kvm->max_vcpus = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (kvm->max_vcpus <= 0)
		kvm->max_vcpus = 4; /* the API's documented minimum when neither cap answers */
	return 0;
}

int kvm_create_vm(struct kvm *kvm, char *err, size_t errlen)
{
	kvm->vm_fd = ioctl(kvm->sys_fd, KVM_CREATE_VM, 0);
	if (kvm->vm_fd < 0)
		return fail(err, errlen, -errno, "KVM_CREATE_VM%s: %s", "");
	return 0;
}

int kvm_irq_line(struct kvm *kvm, unsigned int irq, int level)
{
	struct kvm_irq_level line = { .irq = irq, .level = level };

	return ioctl(kvm->vm_fd, KVM_IRQ_LINE, &line) < 0 ? -errno : 0;
}

void kvm_close(struct kvm *kvm)
{
	if (kvm->vm_fd >= 0)
		close(kvm->vm_fd);
	if (kvm->sys_fd >= 0)
		close(kvm->sys_fd);
	kvm->vm_fd = kvm->sys_fd = -1;
}
