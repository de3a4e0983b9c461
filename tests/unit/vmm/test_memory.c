/* SPDX-License-Identifier: MIT */
/* Guest RAM layout around the PCI hole and bounds-checked guest-physical access. */
#include <stdint.h>
#include <string.h>

#include "check_main.h"
#include "devices/platform.h"
#include "vmm/memory.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

static struct guest_mem mem;

static void teardown(void)
{
	guest_mem_free(&mem);
}

START_TEST(test_layout_small)
{
	guest_mem_layout(&mem, 512 * MiB);
	ck_assert_uint_eq(mem.count, 1);
	ck_assert_uint_eq(mem.size, 512 * MiB);
	ck_assert_uint_eq(mem.regions[0].gpa, 0);
	ck_assert_uint_eq(mem.regions[0].size, 512 * MiB);
	ck_assert_ptr_null(mem.regions[0].host);
}
END_TEST

START_TEST(test_layout_up_to_hole)
{
	guest_mem_layout(&mem, PLATFORM_PCI_HOLE_START);
	ck_assert_uint_eq(mem.count, 1);
	ck_assert_uint_eq(mem.regions[0].size, PLATFORM_PCI_HOLE_START);

	guest_mem_layout(&mem, PLATFORM_PCI_HOLE_START + 4096);
	ck_assert_uint_eq(mem.count, 2);
	ck_assert_uint_eq(mem.regions[1].gpa, PLATFORM_4G);
	ck_assert_uint_eq(mem.regions[1].size, 4096);
}
END_TEST

START_TEST(test_layout_split)
{
	guest_mem_layout(&mem, 4 * GiB);
	ck_assert_uint_eq(mem.count, 2);
	ck_assert_uint_eq(mem.size, 4 * GiB);
	ck_assert_uint_eq(mem.regions[0].gpa, 0);
	ck_assert_uint_eq(mem.regions[0].size, PLATFORM_PCI_HOLE_START);
	ck_assert_uint_eq(mem.regions[1].gpa, 4 * GiB);
	ck_assert_uint_eq(mem.regions[0].size + mem.regions[1].size, 4 * GiB);
	/* nothing lands in the hole */
	ck_assert_uint_le(mem.regions[0].gpa + mem.regions[0].size, PLATFORM_PCI_HOLE_START);
}
END_TEST

START_TEST(test_ptr_in_range)
{
	uint8_t *base, *p;

	ck_assert_int_eq(guest_mem_alloc(&mem, 64 * MiB), 0);
	base = mem.regions[0].host;
	ck_assert_ptr_nonnull(base);

	ck_assert_ptr_eq(guest_mem_ptr(&mem, 0, 1), base);
	ck_assert_ptr_eq(guest_mem_ptr(&mem, 0x100000, 4096), base + 0x100000);
	ck_assert_ptr_eq(guest_mem_ptr(&mem, 0, 64 * MiB), base);
	ck_assert_ptr_eq(guest_mem_ptr(&mem, 64 * MiB - 16, 16), base + 64 * MiB - 16);

	/* the memory is really there: write through one pointer, read through another */
	p = guest_mem_ptr(&mem, 0x123456, 4);
	ck_assert_ptr_nonnull(p);
	memcpy(p, "abcd", 4);
	ck_assert_mem_eq(base + 0x123456, "abcd", 4);
	p = guest_mem_ptr(&mem, 64 * MiB - 1, 1);
	ck_assert_ptr_nonnull(p);
	*p = 0x5a;
	ck_assert_uint_eq(base[64 * MiB - 1], 0x5a);
}
END_TEST

START_TEST(test_ptr_rejects_out_of_range)
{
	ck_assert_int_eq(guest_mem_alloc(&mem, 64 * MiB), 0);

	/* crossing the end of RAM by one byte */
	ck_assert_ptr_null(guest_mem_ptr(&mem, 64 * MiB - 16, 17));
	ck_assert_ptr_null(guest_mem_ptr(&mem, 0, 64 * MiB + 1));
	ck_assert_ptr_null(guest_mem_ptr(&mem, 64 * MiB, 1));
	ck_assert_ptr_null(guest_mem_ptr(&mem, 64 * MiB + 1, 1));
	ck_assert_ptr_null(guest_mem_ptr(&mem, 64 * MiB + 1, 0));
	ck_assert_ptr_null(guest_mem_ptr(&mem, 64 * MiB + 4096, 16));
	ck_assert_ptr_null(guest_mem_ptr(&mem, 1 * GiB, 4));
	/* huge lengths and sums that wrap around */
	ck_assert_ptr_null(guest_mem_ptr(&mem, 0x1000, UINT64_MAX));
	ck_assert_ptr_null(guest_mem_ptr(&mem, 0x1000, UINT64_MAX - 0xfff));
	ck_assert_ptr_null(guest_mem_ptr(&mem, UINT64_MAX - 1, 16));
	ck_assert_ptr_null(guest_mem_ptr(&mem, UINT64_MAX, 1));
	ck_assert_ptr_null(guest_mem_ptr(&mem, UINT64_MAX, UINT64_MAX));
}
END_TEST

START_TEST(test_ptr_split_memory)
{
	uint8_t *high;

	/* 4 GiB of address space only; the pages are touched lazily */
	ck_assert_int_eq(guest_mem_alloc(&mem, 4 * GiB), 0);
	ck_assert_uint_eq(mem.count, 2);
	high = mem.regions[1].host;
	ck_assert_ptr_nonnull(high);

	ck_assert_ptr_eq(guest_mem_ptr(&mem, 4 * GiB, 8), high);
	ck_assert_ptr_eq(guest_mem_ptr(&mem, 4 * GiB + GiB - 8, 8), high + GiB - 8);
	ck_assert_ptr_eq(guest_mem_ptr(&mem, PLATFORM_PCI_HOLE_START - 8, 8),
			 mem.regions[0].host + PLATFORM_PCI_HOLE_START - 8);

	/* the PCI hole is not RAM, nor is anything crossing into it */
	ck_assert_ptr_null(guest_mem_ptr(&mem, PLATFORM_PCI_HOLE_START, 1));
	ck_assert_ptr_null(guest_mem_ptr(&mem, PLATFORM_IOAPIC_ADDR, 4));
	ck_assert_ptr_null(guest_mem_ptr(&mem, PLATFORM_LAPIC_ADDR, 4));
	ck_assert_ptr_null(guest_mem_ptr(&mem, 4 * GiB - 8, 8));
	ck_assert_ptr_null(guest_mem_ptr(&mem, PLATFORM_PCI_HOLE_START - 8, 16));
	/* from the low region across the hole into the high one */
	ck_assert_ptr_null(guest_mem_ptr(&mem, PLATFORM_PCI_HOLE_START - 8, 1 * GiB + 16));
	/* past the end of the high region */
	ck_assert_ptr_null(guest_mem_ptr(&mem, 5 * GiB - 8, 9));
	ck_assert_ptr_null(guest_mem_ptr(&mem, 5 * GiB, 1));
	ck_assert_ptr_null(guest_mem_ptr(&mem, 5 * GiB + 1, 1));
	ck_assert_ptr_null(guest_mem_ptr(&mem, PLATFORM_PCI_HOLE_START + 1, 1));
	ck_assert_ptr_null(guest_mem_ptr(&mem, 4 * GiB, GiB + 1));
	ck_assert_ptr_null(guest_mem_ptr(&mem, UINT64_MAX - 1, 16));
	ck_assert_ptr_null(guest_mem_ptr(&mem, 4 * GiB + 8, UINT64_MAX - 4));
}
END_TEST

START_TEST(test_ptr_without_allocation)
{
	/* layout only: there is no host memory to point at */
	guest_mem_layout(&mem, 64 * MiB);
	ck_assert_ptr_null(guest_mem_ptr(&mem, 0x1000, 16));
}
END_TEST

START_TEST(test_alloc_zeroed_and_free)
{
	uint8_t *p;

	ck_assert_int_eq(guest_mem_alloc(&mem, 8 * MiB), 0);
	p = guest_mem_ptr(&mem, 0, 8 * MiB);
	ck_assert_ptr_nonnull(p);
	for (uint64_t off = 0; off < 8 * MiB; off += 4096)
		ck_assert_uint_eq(p[off], 0);
	guest_mem_free(&mem);
	ck_assert_ptr_null(mem.regions[0].host);
	ck_assert_ptr_null(guest_mem_ptr(&mem, 0, 16));
	guest_mem_free(&mem); /* twice is harmless */
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("memory");
	TCase *tc = tcase_create("layout");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_layout_small);
	tcase_add_test(tc, test_layout_up_to_hole);
	tcase_add_test(tc, test_layout_split);
	tcase_add_test(tc, test_ptr_in_range);
	tcase_add_test(tc, test_ptr_rejects_out_of_range);
	tcase_add_test(tc, test_ptr_split_memory);
	tcase_add_test(tc, test_ptr_without_allocation);
	tcase_add_test(tc, test_alloc_zeroed_and_free);
	suite_add_tcase(s, tc);
	return s;
}
