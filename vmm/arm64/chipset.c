// SPDX-License-Identifier: MIT
/* KVM's virtual GICv3 (or GICv2): created with the VM, initialised once the vCPUs exist. */
#include "vmm/arm64/chipset.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "devices/arm64/platform.h"

/* The GIC's and its ITS's device descriptors: one VM per process, so one of each. */
static int gic_fd = -1, its_fd = -1;
static unsigned int gic_version;

unsigned int chipset_gic_version(void)
{
	return gic_version;
}

unsigned int chipset_routes(struct kvm_irq_routing_entry *e)
{
	for (unsigned int gsi = 0; gsi < CHIPSET_GSIS; gsi++)
		e[gsi] = (struct kvm_irq_routing_entry){
			.gsi = gsi,
			.type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = 0, .pin = gsi },
		};
	return CHIPSET_GSIS;
}

static int set_attr(int fd, uint32_t group, uint64_t attr, const void *value)
{
	struct kvm_device_attr a = {
		.group = group,
		.attr = attr,
		.addr = (uint64_t)(uintptr_t)value,
	};

	return ioctl(fd, KVM_SET_DEVICE_ATTR, &a) < 0 ? -errno : 0;
}

/* An in-kernel device of the given type; its descriptor, or -errno. */
static int create_device(int vm_fd, uint32_t type)
{
	struct kvm_create_device dev = { .type = type };

	return ioctl(vm_fd, KVM_CREATE_DEVICE, &dev) < 0 ? -errno : (int)dev.fd;
}

/* The fallback: a GICv2's distributor and CPU interface; no ITS, so no MSIs. */
static int create_gicv2(int vm_fd, int v3_error, char *err, size_t errlen)
{
	const uint64_t dist = ARM64_GIC_DIST_ADDR, cpu = ARM64_GICV2_CPU_ADDR;
	int ret;

	gic_fd = create_device(vm_fd, KVM_DEV_TYPE_ARM_VGIC_V2);
	if (gic_fd < 0) {
		snprintf(err, errlen,
			 "cannot create a virtual GIC (KVM_CREATE_DEVICE): GICv3: %s, GICv2: %s",
			 strerror(-v3_error), strerror(-gic_fd));
		return gic_fd;
	}
	ret = set_attr(gic_fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V2_ADDR_TYPE_DIST, &dist);
	if (!ret)
		ret = set_attr(gic_fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V2_ADDR_TYPE_CPU, &cpu);
	if (ret) {
		snprintf(err, errlen, "cannot place the GICv2's registers: %s", strerror(-ret));
		return ret;
	}
	gic_version = 2;
	return 0;
}

int chipset_create(int sys_fd, int vm_fd, char *err, size_t errlen)
{
	const uint64_t dist = ARM64_GIC_DIST_ADDR, redist = ARM64_GIC_REDIST_ADDR;
	const uint64_t its = ARM64_GIC_ITS_ADDR;
	int ret;

	(void)sys_fd;
	gic_fd = create_device(vm_fd, KVM_DEV_TYPE_ARM_VGIC_V3);
	if (gic_fd < 0)
		return create_gicv2(vm_fd, gic_fd, err, errlen);
	ret = set_attr(gic_fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, &dist);
	if (!ret)
		ret = set_attr(gic_fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST,
			       &redist);
	if (ret) {
		snprintf(err, errlen, "cannot place the GICv3's registers: %s", strerror(-ret));
		return ret;
	}
	its_fd = create_device(vm_fd, KVM_DEV_TYPE_ARM_VGIC_ITS);
	ret = its_fd < 0
		      ? its_fd
		      : set_attr(its_fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_ITS_ADDR_TYPE, &its);
	if (ret)
		snprintf(err, errlen, "cannot create the GICv3's ITS (MSIs): %s", strerror(-ret));
	else
		gic_version = 3;
	return ret;
}

int chipset_finish(char *err, size_t errlen)
{
	const uint32_t nr_irqs = CHIPSET_GIC_NR_IRQS;
	int ret = set_attr(gic_fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr_irqs);

	if (!ret)
		ret = set_attr(gic_fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, NULL);
	if (!ret && its_fd >= 0)
		ret = set_attr(its_fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, NULL);
	if (ret)
		snprintf(err, errlen, "cannot initialise the GICv%u: %s", gic_version,
			 strerror(-ret));
	return ret;
}
