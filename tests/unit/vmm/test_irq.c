/* SPDX-License-Identifier: MIT */
/* Interrupt router: the tables and requests it hands to KVM, seen through a fake ioctl. */
#include <errno.h>
#include <string.h>

#include "check_main.h"
#include "vmm/irq.h"

#define VM_FD 42

static struct {
	int cap_answer; /* what KVM_CHECK_EXTENSION(KVM_CAP_IRQ_ROUTING) returns */
	int msi_devid;	/* what KVM_CHECK_EXTENSION(KVM_CAP_MSI_DEVID) returns */
	int fail_next;	/* -errno for the next request, then 0 again */
	unsigned int set_calls;
	struct kvm_irq_routing_entry table[IRQ_MAX_ROUTES];
	unsigned int nr;
	struct kvm_irqfd irqfd;
	struct kvm_irq_level line;
	unsigned long last;
} kvm;

static struct irq_router r;

static int fake_ioctl(int fd, unsigned long request, void *arg)
{
	ck_assert_int_eq(fd, VM_FD);
	kvm.last = request;
	if (request == KVM_CHECK_EXTENSION && (uintptr_t)arg == KVM_CAP_MSI_DEVID)
		return kvm.msi_devid;
	if (request == KVM_CHECK_EXTENSION) {
		ck_assert_uint_eq((uintptr_t)arg, KVM_CAP_IRQ_ROUTING);
		return kvm.cap_answer;
	}
	if (kvm.fail_next) {
		int ret = kvm.fail_next;

		kvm.fail_next = 0;
		return ret;
	}
	if (request == KVM_SET_GSI_ROUTING) {
		const struct kvm_irq_routing *t = arg;

		/* what the kernel checks: entry count and GSIs below its limit, no flags */
		ck_assert_uint_le(t->nr, (unsigned int)kvm.cap_answer);
		ck_assert_uint_eq(t->flags, 0);
		for (unsigned int i = 0; i < t->nr; i++)
			ck_assert_uint_lt(t->entries[i].gsi, (unsigned int)kvm.cap_answer);
		memcpy(kvm.table, t->entries, t->nr * sizeof(t->entries[0]));
		kvm.nr = t->nr;
		kvm.set_calls++;
	} else if (request == KVM_IRQFD) {
		kvm.irqfd = *(struct kvm_irqfd *)arg;
	} else if (request == KVM_IRQ_LINE) {
		kvm.line = *(struct kvm_irq_level *)arg;
	} else {
		ck_abort_msg("unexpected ioctl %#lx", request);
	}
	return 0;
}

static void init_with_limit(int limit)
{
	memset(&kvm, 0, sizeof(kvm));
	kvm.cap_answer = limit;
	ck_assert_int_eq(irq_router_init_with(&r, VM_FD, fake_ioctl), 0);
}

static void setup(void)
{
	init_with_limit(1024);
}

static void teardown(void)
{
	irq_router_destroy(&r);
}

/* The installed entries for gsi, by type; returns how many, copies the last into *out. */
static unsigned int find(unsigned int gsi, unsigned int type, struct kvm_irq_routing_entry *out)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < kvm.nr; i++) {
		if (kvm.table[i].gsi == gsi && kvm.table[i].type == type) {
			n++;
			if (out)
				*out = kvm.table[i];
		}
	}
	return n;
}

static unsigned int find_pin(unsigned int gsi, unsigned int chip)
{
	struct kvm_irq_routing_entry e;
	unsigned int found = ~0u;

	for (unsigned int i = 0; i < kvm.nr; i++) {
		e = kvm.table[i];
		if (e.gsi == gsi && e.type == KVM_IRQ_ROUTING_IRQCHIP &&
		    e.u.irqchip.irqchip == chip)
			found = e.u.irqchip.pin;
	}
	return found;
}

START_TEST(test_pc_routes)
{
	ck_assert_uint_eq(kvm.set_calls, 1);
	ck_assert_uint_eq(kvm.nr, 39);
	ck_assert_uint_eq(find_pin(0, KVM_IRQCHIP_IOAPIC), 2);	 /* PIT: interrupt override */
	ck_assert_uint_eq(find_pin(2, KVM_IRQCHIP_IOAPIC), ~0u); /* cascade: no pin */
	ck_assert_uint_eq(find_pin(1, KVM_IRQCHIP_IOAPIC), 1);
	ck_assert_uint_eq(find_pin(23, KVM_IRQCHIP_IOAPIC), 23);
	ck_assert_uint_eq(find_pin(0, KVM_IRQCHIP_PIC_MASTER), 0);
	ck_assert_uint_eq(find_pin(7, KVM_IRQCHIP_PIC_MASTER), 7);
	ck_assert_uint_eq(find_pin(9, KVM_IRQCHIP_PIC_SLAVE), 1);
	ck_assert_uint_eq(find_pin(15, KVM_IRQCHIP_PIC_SLAVE), 7);
	ck_assert_uint_eq(find_pin(16, KVM_IRQCHIP_PIC_MASTER), ~0u);
	ck_assert_uint_eq(find_pin(16, KVM_IRQCHIP_PIC_SLAVE), ~0u);
	for (unsigned int gsi = 0; gsi < 24; gsi++)
		ck_assert_uint_eq(find(gsi, KVM_IRQ_ROUTING_IRQCHIP, NULL),
				  (gsi < 16) + (gsi != 2));
}
END_TEST

START_TEST(test_msi_route_installed_with_pc_routes)
{
	struct kvm_irq_routing_entry e;
	int gsi = irq_msi_alloc(&r);

	ck_assert_int_eq(gsi, 24);
	ck_assert_uint_eq(kvm.set_calls, 1); /* allocating installs nothing */
	ck_assert_int_eq(irq_msi_set(&r, gsi, 0x00000001fee01000ull, 0x4031), 0);
	ck_assert_uint_eq(kvm.set_calls, 2);
	ck_assert_uint_eq(kvm.nr, 40);
	ck_assert_uint_eq(find(24, KVM_IRQ_ROUTING_MSI, &e), 1);
	ck_assert_uint_eq(e.u.msi.address_lo, 0xfee01000);
	ck_assert_uint_eq(e.u.msi.address_hi, 1);
	ck_assert_uint_eq(e.u.msi.data, 0x4031);
	ck_assert_uint_eq(e.flags, 0);
	ck_assert_uint_eq(find_pin(0, KVM_IRQCHIP_IOAPIC), 2);

	/* same message: nothing to install; new one: replaced, not added */
	ck_assert_int_eq(irq_msi_set(&r, gsi, 0x00000001fee01000ull, 0x4031), 0);
	ck_assert_uint_eq(kvm.set_calls, 2);
	ck_assert_int_eq(irq_msi_set(&r, gsi, 0xfee02000, 0x4032), 0);
	ck_assert_uint_eq(kvm.set_calls, 3);
	ck_assert_uint_eq(find(24, KVM_IRQ_ROUTING_MSI, &e), 1);
	ck_assert_uint_eq(e.u.msi.address_lo, 0xfee02000);
	ck_assert_uint_eq(e.u.msi.address_hi, 0);
	ck_assert_uint_eq(e.u.msi.data, 0x4032);
}
END_TEST

/* An arm64 ITS translates by device: each route names its sender once KVM asks for it. */
START_TEST(test_msi_route_carries_the_device_where_kvm_wants_it)
{
	struct kvm_irq_routing_entry e;
	int gsi = irq_msi_alloc(&r);

	ck_assert_int_eq(irq_msi_set_device(&r, gsi, 0x18), 0);
	ck_assert_int_eq(irq_msi_set(&r, gsi, 0x08090040, 7), 0);
	ck_assert_uint_eq(find(gsi, KVM_IRQ_ROUTING_MSI, &e), 1);
	ck_assert_uint_eq(e.flags, 0); /* this KVM did not ask */
	ck_assert_uint_eq(e.u.msi.devid, 0);

	irq_router_destroy(&r);
	memset(&kvm, 0, sizeof(kvm));
	kvm.cap_answer = 1024;
	kvm.msi_devid = 1;
	ck_assert_int_eq(irq_router_init_with(&r, VM_FD, fake_ioctl), 0);
	gsi = irq_msi_alloc(&r);
	ck_assert_int_eq(irq_msi_set_device(&r, gsi, 0x18), 0);
	ck_assert_int_eq(irq_msi_set(&r, gsi, 0x08090040, 7), 0);
	ck_assert_uint_eq(find(gsi, KVM_IRQ_ROUTING_MSI, &e), 1);
	ck_assert_uint_eq(e.flags, KVM_MSI_VALID_DEVID);
	ck_assert_uint_eq(e.u.msi.devid, 0x18);
	ck_assert_uint_eq(e.u.msi.data, 7);
	ck_assert_int_eq(irq_msi_set_device(&r, gsi + 1, 0x18), -EINVAL); /* not allocated */
}
END_TEST

START_TEST(test_msi_set_rejects_unallocated)
{
	ck_assert_int_eq(irq_msi_set(&r, 24, 0xfee00000, 0), -EINVAL);
	ck_assert_int_eq(irq_msi_set(&r, 5, 0xfee00000, 0), -EINVAL);
	ck_assert_int_eq(irq_msi_set(&r, -1, 0xfee00000, 0), -EINVAL);
	ck_assert_int_eq(irq_msi_set(&r, 1 << 20, 0xfee00000, 0), -EINVAL);
	ck_assert_int_eq(irq_msi_free(&r, 24), -EINVAL);
	ck_assert_int_eq(irq_msi_free(&r, 0), -EINVAL);
	ck_assert_uint_eq(kvm.set_calls, 1);
}
END_TEST

START_TEST(test_alloc_until_kvm_limit)
{
	int gsi, count = 0, last = -1;

	irq_router_destroy(&r);
	init_with_limit(64); /* 64 entries: 39 PC + 25 MSI, GSIs 24..48 */
	while ((gsi = irq_msi_alloc(&r)) >= 0) {
		ck_assert_int_eq(gsi, 24 + count);
		ck_assert_int_eq(irq_msi_set(&r, gsi, 0xfee00000, (uint32_t)gsi), 0);
		last = gsi;
		count++;
	}
	ck_assert_int_eq(gsi, -ENOSPC);
	ck_assert_int_eq(count, 25);
	ck_assert_int_eq(last, 48);
	ck_assert_uint_eq(kvm.nr, 64);

	/* a freed GSI is handed out again, and its route is gone meanwhile */
	ck_assert_int_eq(irq_msi_free(&r, 30), 0);
	ck_assert_uint_eq(kvm.nr, 63);
	ck_assert_uint_eq(find(30, KVM_IRQ_ROUTING_MSI, NULL), 0);
	ck_assert_int_eq(irq_msi_free(&r, 30), -EINVAL);
	ck_assert_int_eq(irq_msi_alloc(&r), 30);
	ck_assert_int_eq(irq_msi_alloc(&r), -ENOSPC);
}
END_TEST

START_TEST(test_limits_from_kvm)
{
	int gsi, count = 0;

	irq_router_destroy(&r);
	init_with_limit(4096); /* more than the router's own table: its limit wins */
	while ((gsi = irq_msi_alloc(&r)) >= 0)
		count++;
	ck_assert_int_eq(count, IRQ_MAX_ROUTES - 39);

	irq_router_destroy(&r);
	init_with_limit(39); /* no room beyond the PC routes */
	ck_assert_int_eq(irq_msi_alloc(&r), -ENOSPC);
}
END_TEST

START_TEST(test_free_unrouted_installs_nothing)
{
	int gsi = irq_msi_alloc(&r);

	ck_assert_int_eq(irq_msi_free(&r, gsi), 0);
	ck_assert_uint_eq(kvm.set_calls, 1);
	ck_assert_int_eq(irq_msi_alloc(&r), gsi);
}
END_TEST

START_TEST(test_failed_install_changes_nothing)
{
	struct kvm_irq_routing_entry e;
	int a = irq_msi_alloc(&r), b = irq_msi_alloc(&r);

	ck_assert_int_eq(irq_msi_set(&r, a, 0xfee00000, 0x10), 0);
	kvm.fail_next = -ENOMEM;
	ck_assert_int_eq(irq_msi_set(&r, a, 0xfee00000, 0x11), -ENOMEM);
	kvm.fail_next = -ENOMEM;
	ck_assert_int_eq(irq_msi_set(&r, b, 0xfee00000, 0x20), -ENOMEM);
	kvm.fail_next = -ENOMEM;
	ck_assert_int_eq(irq_msi_free(&r, a), -ENOMEM);

	/* the next install shows the state before the failures, plus the new route */
	ck_assert_int_eq(irq_msi_set(&r, b, 0xfee00000, 0x21), 0);
	ck_assert_uint_eq(kvm.nr, 41);
	ck_assert_uint_eq(find((unsigned int)a, KVM_IRQ_ROUTING_MSI, &e), 1);
	ck_assert_uint_eq(e.u.msi.data, 0x10);
	ck_assert_uint_eq(find((unsigned int)b, KVM_IRQ_ROUTING_MSI, &e), 1);
	ck_assert_uint_eq(e.u.msi.data, 0x21);
	/* a failed retry of the same value is retried, not skipped */
	ck_assert_int_eq(irq_msi_set(&r, a, 0xfee00000, 0x11), 0);
	ck_assert_uint_eq(find((unsigned int)a, KVM_IRQ_ROUTING_MSI, &e), 1);
	ck_assert_uint_eq(e.u.msi.data, 0x11);
}
END_TEST

START_TEST(test_init_failure)
{
	memset(&kvm, 0, sizeof(kvm));
	kvm.cap_answer = 1024;
	kvm.fail_next = -EINVAL;
	ck_assert_int_eq(irq_router_init_with(&r, VM_FD, fake_ioctl), -EINVAL);
	init_with_limit(1024); /* for teardown */
}
END_TEST

START_TEST(test_irqfd_requests)
{
	ck_assert_int_eq(irq_irqfd_assign(&r, 24, 7, -1), 0);
	ck_assert_uint_eq(kvm.last, KVM_IRQFD);
	ck_assert_uint_eq(kvm.irqfd.fd, 7);
	ck_assert_uint_eq(kvm.irqfd.gsi, 24);
	ck_assert_uint_eq(kvm.irqfd.flags, 0);

	ck_assert_int_eq(irq_irqfd_assign(&r, 17, 8, 9), 0);
	ck_assert_uint_eq(kvm.irqfd.fd, 8);
	ck_assert_uint_eq(kvm.irqfd.gsi, 17);
	ck_assert_uint_eq(kvm.irqfd.flags, KVM_IRQFD_FLAG_RESAMPLE);
	ck_assert_uint_eq(kvm.irqfd.resamplefd, 9);

	ck_assert_int_eq(irq_irqfd_deassign(&r, 24, 7), 0);
	ck_assert_uint_eq(kvm.irqfd.fd, 7);
	ck_assert_uint_eq(kvm.irqfd.gsi, 24);
	ck_assert_uint_eq(kvm.irqfd.flags, KVM_IRQFD_FLAG_DEASSIGN);

	kvm.fail_next = -EBUSY;
	ck_assert_int_eq(irq_irqfd_assign(&r, 24, 7, -1), -EBUSY);
	ck_assert_int_eq(irq_irqfd_assign(&r, -1, 7, -1), -EINVAL);
	ck_assert_int_eq(irq_irqfd_assign(&r, 24, -1, -1), -EINVAL);
	ck_assert_int_eq(irq_irqfd_deassign(&r, 24, -1), -EINVAL);
}
END_TEST

START_TEST(test_irq_line)
{
	ck_assert_int_eq(irq_line(&r, 17, true), 0);
	ck_assert_uint_eq(kvm.last, KVM_IRQ_LINE);
	ck_assert_uint_eq(kvm.line.irq, 17);
	ck_assert_uint_eq(kvm.line.level, 1);
	ck_assert_int_eq(irq_line(&r, 17, false), 0);
	ck_assert_uint_eq(kvm.line.level, 0);
	kvm.fail_next = -EINVAL;
	ck_assert_int_eq(irq_line(&r, 17, true), -EINVAL);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("irq");
	TCase *tc = tcase_create("irq");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_pc_routes);
	tcase_add_test(tc, test_msi_route_installed_with_pc_routes);
	tcase_add_test(tc, test_msi_route_carries_the_device_where_kvm_wants_it);
	tcase_add_test(tc, test_msi_set_rejects_unallocated);
	tcase_add_test(tc, test_alloc_until_kvm_limit);
	tcase_add_test(tc, test_limits_from_kvm);
	tcase_add_test(tc, test_free_unrouted_installs_nothing);
	tcase_add_test(tc, test_failed_install_changes_nothing);
	tcase_add_test(tc, test_init_failure);
	tcase_add_test(tc, test_irqfd_requests);
	tcase_add_test(tc, test_irq_line);
	suite_add_tcase(s, tc);
	return s;
}
