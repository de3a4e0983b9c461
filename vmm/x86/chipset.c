// SPDX-License-Identifier: MIT
/* The in-kernel PICs, IOAPIC and PIT, and their GSI routes (Documentation/virt/kvm/api.rst). */
#include "vmm/x86/chipset.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

/*
 * Placed at the top of the 32-bit space, inside the PCI hole, where no RAM lives. Intel
 * VT-x needs these pages to emulate real mode; AMD-V ignores them but setting them is
 * harmless and keeps one code path.
 */
#define CHIPSET_IDENTITY_MAP_ADDR 0xfeffc000ul
#define CHIPSET_TSS_ADDR 0xfeffd000ul

_Static_assert(KVM_IOAPIC_NUM_PINS == CHIPSET_GSIS, "IOAPIC pins");

/*
 * KVM's default would wire the PIT to IOAPIC pin 0, and then no timer tick would arrive
 * once Linux switches to the IOAPIC.
 */
unsigned int chipset_routes(struct kvm_irq_routing_entry *e)
{
	unsigned int n = 0;

	for (unsigned int gsi = 0; gsi < 16; gsi++) {
		e[n++] = (struct kvm_irq_routing_entry){
			.gsi = gsi,
			.type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER
							  : KVM_IRQCHIP_PIC_SLAVE,
				       .pin = gsi % 8 },
		};
	}
	for (unsigned int gsi = 0; gsi < KVM_IOAPIC_NUM_PINS; gsi++) {
		if (gsi == 2)
			continue; /* pin 2 belongs to GSI 0; the cascade IRQ 2 has no pin */
		e[n++] = (struct kvm_irq_routing_entry){
			.gsi = gsi,
			.type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = gsi ? gsi : 2 },
		};
	}
	return n;
}

int chipset_install_routing(int vm_fd)
{
	struct {
		struct kvm_irq_routing hdr;
		struct kvm_irq_routing_entry entries[CHIPSET_ROUTES];
	} table;

	memset(&table, 0, sizeof(table));
	table.hdr.nr = chipset_routes(table.entries);
	return ioctl(vm_fd, KVM_SET_GSI_ROUTING, &table) < 0 ? -errno : 0;
}

static int fail(char *err, size_t errlen, int ret, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, strerror(-ret));
	return ret;
}

int chipset_create(int sys_fd, int vm_fd, char *err, size_t errlen)
{
	uint64_t identity = CHIPSET_IDENTITY_MAP_ADDR;
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	int ret;

	if (ioctl(vm_fd, KVM_SET_TSS_ADDR, CHIPSET_TSS_ADDR) < 0)
		return fail(err, errlen, -errno, "KVM_SET_TSS_ADDR");
	if (ioctl(sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0 &&
	    ioctl(vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0)
		return fail(err, errlen, -errno, "KVM_SET_IDENTITY_MAP_ADDR");
	if (ioctl(vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return fail(err, errlen, -errno, "KVM_CREATE_IRQCHIP");
	ret = chipset_install_routing(vm_fd); /* before the PIT: its GSI 0 goes to pin 2 */
	if (ret)
		return fail(err, errlen, ret, "KVM_SET_GSI_ROUTING");
	if (ioctl(vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return fail(err, errlen, -errno, "KVM_CREATE_PIT2");
	return 0;
}
