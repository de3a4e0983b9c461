/* SPDX-License-Identifier: MIT */
/* The PC chipset's fixed interrupt routes, and its set-up's errors without a VM. */
#include <errno.h>
#include <string.h>

#include "check_main.h"
#include "vmm/x86/chipset.h"

static struct kvm_irq_routing_entry routes[CHIPSET_ROUTES];
static unsigned int nr;

static unsigned int pins(unsigned int gsi, unsigned int chip, unsigned int *pin)
{
	unsigned int found = 0;

	for (unsigned int i = 0; i < nr; i++) {
		if (routes[i].gsi != gsi || routes[i].u.irqchip.irqchip != chip)
			continue;
		ck_assert_uint_eq(routes[i].type, KVM_IRQ_ROUTING_IRQCHIP);
		*pin = routes[i].u.irqchip.pin;
		found++;
	}
	return found;
}

START_TEST(test_routes)
{
	unsigned int pin = ~0u;

	nr = chipset_routes(routes);
	ck_assert_uint_eq(nr, CHIPSET_ROUTES);
	ck_assert_uint_eq(pins(0, KVM_IRQCHIP_IOAPIC, &pin), 1);
	ck_assert_uint_eq(pin, 2); /* the PIT, as the MADT's interrupt source override says */
	ck_assert_uint_eq(pins(2, KVM_IRQCHIP_IOAPIC, &pin), 0); /* the cascade has no pin */
	ck_assert_uint_eq(pins(23, KVM_IRQCHIP_IOAPIC, &pin), 1);
	ck_assert_uint_eq(pin, 23);
	ck_assert_uint_eq(pins(9, KVM_IRQCHIP_PIC_SLAVE, &pin), 1);
	ck_assert_uint_eq(pin, 1);
	ck_assert_uint_eq(pins(16, KVM_IRQCHIP_PIC_MASTER, &pin), 0);
}
END_TEST

START_TEST(test_without_kvm)
{
	char err[128] = "";

	ck_assert_int_eq(chipset_install_routing(-1), -EBADF);
	ck_assert_int_eq(chipset_create(-1, -1, err, sizeof(err)), -EBADF);
	ck_assert_str_eq(err, "KVM_SET_TSS_ADDR: Bad file descriptor");
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("chipset");
	TCase *tc = tcase_create("chipset");

	tcase_add_test(tc, test_routes);
	tcase_add_test(tc, test_without_kvm);
	suite_add_tcase(s, tc);
	return s;
}
