/* SPDX-License-Identifier: MIT */
/* Per-vCPU CPUID adjustments, applied to a hand-made "supported" list. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "vmm/x86/cpuid.h"

#define HYPERVISOR_BIT (1u << 31)
#define HTT_BIT (1u << 28)

/* Leaves as a host's KVM_GET_SUPPORTED_CPUID might report them (values are arbitrary). */
static const struct kvm_cpuid_entry2 host_entries[] = {
	{ .function = 0, .eax = 0x1f, .ebx = 0x756e6547, .ecx = 0x6c65746e, .edx = 0x49656e69 },
	{ .function = 1,
	  .eax = 0x000906ea,
	  .ebx = 0x07100800,
	  .ecx = 0x7ffafbff,
	  .edx = 0xbfebfbff },
	{ .function = 4,
	  .index = 0,
	  .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
	  .eax = 0x1c004121,
	  .ebx = 0x01c0003f,
	  .ecx = 0x3f,
	  .edx = 0 },
	{ .function = 4,
	  .index = 3,
	  .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
	  .eax = 0x1c03c163,
	  .ebx = 0x03c0003f,
	  .ecx = 0x2fff,
	  .edx = 6 },
	{ .function = 4, .index = 4, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX }, /* no cache */
	{ .function = 7, .index = 0, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .ebx = 0x029c6fbf },
	{ .function = 0xb,
	  .index = 0,
	  .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
	  .eax = 1,
	  .ebx = 2,
	  .ecx = 0x100,
	  .edx = 0x55 },
	{ .function = 0xb,
	  .index = 1,
	  .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
	  .eax = 4,
	  .ebx = 12,
	  .ecx = 0x201,
	  .edx = 0x55 },
	{ .function = 0xb,
	  .index = 2,
	  .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
	  .eax = 0,
	  .ebx = 0,
	  .ecx = 2,
	  .edx = 0x55 },
	{ .function = 0x80000000, .eax = 0x80000008 },
	{ .function = 0x80000001, .ecx = 0x121, .edx = 0x2c100800 },
	{ .function = 0x80000008, .eax = 0x3027, .ebx = 0x1234, .ecx = 0x7007, .edx = 0x99 },
	{ .function = 0x40000000, .eax = 0x40000001, .ebx = 0x4b4d564b },
};
#define HOST_COUNT (sizeof(host_entries) / sizeof(host_entries[0]))

static struct kvm_cpuid2 *cpuid;

/* (Re)start from the host's list. */
static void make_list(void)
{
	free(cpuid);
	cpuid = calloc(1, sizeof(*cpuid) + HOST_COUNT * sizeof(cpuid->entries[0]));
	ck_assert_ptr_nonnull(cpuid);
	cpuid->nent = HOST_COUNT;
	memcpy(cpuid->entries, host_entries, sizeof(host_entries));
}

static void setup(void)
{
	make_list();
}

static void teardown(void)
{
	free(cpuid);
	cpuid = NULL;
}

static const struct kvm_cpuid_entry2 *leaf(uint32_t function, uint32_t index)
{
	for (unsigned int i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == function && cpuid->entries[i].index == index)
			return &cpuid->entries[i];
	ck_abort_msg("leaf 0x%x.%u missing", function, index);
	return NULL;
}

static const struct kvm_cpuid_entry2 *host_leaf(uint32_t function, uint32_t index)
{
	for (unsigned int i = 0; i < HOST_COUNT; i++)
		if (host_entries[i].function == function && host_entries[i].index == index)
			return &host_entries[i];
	return NULL;
}

START_TEST(test_leaf1_apic_id_and_hypervisor)
{
	cpuid_for_vcpu(cpuid, 3, 4);

	ck_assert_uint_eq(leaf(1, 0)->ebx >> 24, 3);
	ck_assert_uint_eq(leaf(1, 0)->ebx & 0xffff, host_leaf(1, 0)->ebx & 0xffff);
	ck_assert_uint_ge((leaf(1, 0)->ebx >> 16) & 0xff, 4); /* logical processors in package */
	ck_assert_uint_ne(leaf(1, 0)->ecx & HYPERVISOR_BIT, 0);
	/* the rest of ECX and the signature in EAX are the host's */
	ck_assert_uint_eq(leaf(1, 0)->ecx & ~HYPERVISOR_BIT,
			  host_leaf(1, 0)->ecx & ~HYPERVISOR_BIT);
	ck_assert_uint_eq(leaf(1, 0)->eax, host_leaf(1, 0)->eax);
	ck_assert_uint_ne(leaf(1, 0)->edx & HTT_BIT, 0);
}
END_TEST

START_TEST(test_leaf1_each_vcpu)
{
	for (unsigned int id = 0; id < 254; id += 37) {
		make_list();
		cpuid_for_vcpu(cpuid, id, 254);
		ck_assert_uint_eq(leaf(1, 0)->ebx >> 24, id);
		ck_assert_uint_eq(leaf(0xb, 0)->edx, id);
		ck_assert_uint_eq(leaf(0xb, 1)->edx, id);
	}
	make_list();
	cpuid_for_vcpu(cpuid, 253, 254);
	ck_assert_uint_eq(leaf(1, 0)->ebx >> 24, 253);
}
END_TEST

START_TEST(test_single_cpu)
{
	cpuid_for_vcpu(cpuid, 0, 1);
	ck_assert_uint_eq(leaf(1, 0)->ebx >> 24, 0);
	ck_assert_uint_ne(leaf(1, 0)->ecx & HYPERVISOR_BIT, 0);
	ck_assert_uint_eq(leaf(0xb, 1)->ebx & 0xffff, 1);
	ck_assert_uint_eq(leaf(0x80000008, 0)->ecx & 0xff, 0);
}
END_TEST

START_TEST(test_leaf_b_topology)
{
	cpuid_for_vcpu(cpuid, 5, 6);

	/* subleaf 0: SMT level, one thread per core */
	ck_assert_uint_eq(leaf(0xb, 0)->ebx & 0xffff, 1);
	ck_assert_uint_eq((leaf(0xb, 0)->ecx >> 8) & 0xff, 1);
	ck_assert_uint_eq(leaf(0xb, 0)->ecx & 0xff, 0);
	ck_assert_uint_eq(leaf(0xb, 0)->edx, 5);
	/* subleaf 1: core level, all vCPUs */
	ck_assert_uint_eq(leaf(0xb, 1)->ebx & 0xffff, 6);
	ck_assert_uint_eq((leaf(0xb, 1)->ecx >> 8) & 0xff, 2);
	ck_assert_uint_eq(leaf(0xb, 1)->ecx & 0xff, 1);
	ck_assert_uint_eq(leaf(0xb, 1)->edx, 5);
	/* shift covers every APIC ID in the package: 2^3 >= 6 */
	ck_assert_uint_eq(leaf(0xb, 1)->eax & 0x1f, 3);
	/* subleaf 2: no further level */
	ck_assert_uint_eq(leaf(0xb, 2)->ebx & 0xffff, 0);
	ck_assert_uint_eq((leaf(0xb, 2)->ecx >> 8) & 0xff, 0);
	ck_assert_uint_eq(leaf(0xb, 2)->edx, 5);
}
END_TEST

START_TEST(test_leaf_80000008_core_count)
{
	cpuid_for_vcpu(cpuid, 2, 4);
	ck_assert_uint_eq(leaf(0x80000008, 0)->ecx & 0xff, 3);
	ck_assert_uint_eq(leaf(0x80000008, 0)->eax, host_leaf(0x80000008, 0)->eax);

	make_list();
	cpuid_for_vcpu(cpuid, 0, 254);
	ck_assert_uint_eq(leaf(0x80000008, 0)->ecx & 0xff, 253);
}
END_TEST

/* Leaf 4 EAX[31:26] is a 6-bit field: cores per package - 1, at most 63. */
START_TEST(test_leaf4_core_count)
{
	cpuid_for_vcpu(cpuid, 0, 4);
	ck_assert_uint_eq(leaf(4, 0)->eax >> 26, 3);
	ck_assert_uint_eq(leaf(4, 3)->eax >> 26, 3);
	ck_assert_uint_eq(leaf(4, 0)->eax & 0x1f, host_leaf(4, 0)->eax & 0x1f); /* cache type */
	ck_assert_uint_eq(leaf(4, 4)->eax, 0); /* the "no more caches" subleaf stays empty */

	make_list();
	cpuid_for_vcpu(cpuid, 0, 64);
	ck_assert_uint_eq(leaf(4, 0)->eax >> 26, 63);

	make_list();
	cpuid_for_vcpu(cpuid, 0, 254);
	ck_assert_msg(leaf(4, 0)->eax >> 26 == 63,
		      "254 vCPUs: leaf 4 EAX[31:26] = %u, should saturate at 63",
		      leaf(4, 0)->eax >> 26);
}
END_TEST

START_TEST(test_other_leaves_untouched)
{
	static const uint32_t untouched[][2] = {
		{ 0, 0 }, { 7, 0 }, { 0x80000000, 0 }, { 0x80000001, 0 }, { 0x40000000, 0 },
	};

	cpuid_for_vcpu(cpuid, 7, 8);
	ck_assert_uint_eq(cpuid->nent, HOST_COUNT);
	for (size_t i = 0; i < sizeof(untouched) / sizeof(untouched[0]); i++) {
		const struct kvm_cpuid_entry2 *e = leaf(untouched[i][0], untouched[i][1]);

		ck_assert_msg(memcmp(e, host_leaf(untouched[i][0], untouched[i][1]), sizeof(*e)) ==
				      0,
			      "leaf 0x%x changed", untouched[i][0]);
	}
	/* no leaf's function, index or flags change */
	for (unsigned int i = 0; i < cpuid->nent; i++) {
		ck_assert_uint_eq(cpuid->entries[i].function, host_entries[i].function);
		ck_assert_uint_eq(cpuid->entries[i].index, host_entries[i].index);
		ck_assert_uint_eq(cpuid->entries[i].flags, host_entries[i].flags);
	}
}
END_TEST

START_TEST(test_empty_list)
{
	cpuid->nent = 0;
	cpuid_for_vcpu(cpuid, 0, 1); /* nothing to do, and nothing read */
	ck_assert_uint_eq(cpuid->nent, 0);
	ck_assert_mem_eq(&cpuid->entries[1], &host_entries[1], sizeof(host_entries[1]));
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("cpuid");
	TCase *tc = tcase_create("for_vcpu");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_leaf1_apic_id_and_hypervisor);
	tcase_add_test(tc, test_leaf1_each_vcpu);
	tcase_add_test(tc, test_single_cpu);
	tcase_add_test(tc, test_leaf_b_topology);
	tcase_add_test(tc, test_leaf_80000008_core_count);
	tcase_add_test(tc, test_leaf4_core_count);
	tcase_add_test(tc, test_other_leaves_untouched);
	tcase_add_test(tc, test_empty_list);
	suite_add_tcase(s, tc);
	return s;
}
