/* SPDX-License-Identifier: MIT */
/* Unit tests for the e820 map: what Linux will see as RAM for a few guest sizes. */
#include <errno.h>
#include <string.h>

#include "check_main.h"
#include "devices/platform.h"
#include "firmware/x86/e820.h"

#define RAM 1
#define RESERVED 2
#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define MAX 16
#define GUARD 0xa5

static struct boot_e820_entry map[MAX + 4];

struct range {
	uint64_t addr, end;
	uint32_t type;
};

static int build(uint64_t mem_size, int max)
{
	memset(map, GUARD, sizeof(map));
	return e820_build(map, max, mem_size);
}

static void expect_map(uint64_t mem_size, const struct range *want, int n)
{
	ck_assert_int_eq(build(mem_size, MAX), n);
	for (int i = 0; i < n; i++) {
		ck_assert_uint_eq(map[i].addr, want[i].addr);
		ck_assert_uint_eq(map[i].addr + map[i].size, want[i].end);
		ck_assert_uint_eq(map[i].type, want[i].type);
	}
}

/* The map is sorted, entries do not overlap, and none is empty. */
static void check_well_formed(int n)
{
	for (int i = 0; i < n; i++) {
		ck_assert_uint_gt(map[i].size, 0);
		if (i)
			ck_assert_uint_ge(map[i].addr, map[i - 1].addr + map[i - 1].size);
	}
}

static uint64_t ram_total(uint64_t mem_size)
{
	int n = build(mem_size, MAX);
	uint64_t sum = 0;

	ck_assert_int_gt(n, 0);
	check_well_formed(n);
	for (int i = 0; i < n; i++)
		if (map[i].type == RAM)
			sum += map[i].size;
	return sum;
}

/* What a PC leaves out of RAM below 1 MiB: the EBDA, VGA window and BIOS area. */
#define LOW_HOLE (MiB - PLATFORM_EBDA_START)
#define ECAM_END (PLATFORM_PCI_ECAM_START + PLATFORM_PCI_ECAM_SIZE)

START_TEST(test_512m)
{
	static const struct range want[] = {
		{ 0, PLATFORM_EBDA_START, RAM },
		{ PLATFORM_EBDA_START, 0xa0000, RESERVED },
		{ PLATFORM_ACPI_START, PLATFORM_SMBIOS_END, RESERVED },
		{ MiB, 512 * MiB, RAM },
		{ PLATFORM_PCI_ECAM_START, ECAM_END, RESERVED },
	};

	expect_map(512 * MiB, want, 5);
	ck_assert_uint_eq(ram_total(512 * MiB), 512 * MiB - LOW_HOLE);
}
END_TEST

START_TEST(test_3g_exactly)
{
	static const struct range want[] = {
		{ 0, PLATFORM_EBDA_START, RAM },
		{ PLATFORM_EBDA_START, 0xa0000, RESERVED },
		{ PLATFORM_ACPI_START, PLATFORM_SMBIOS_END, RESERVED },
		{ MiB, PLATFORM_PCI_HOLE_START, RAM },
		{ PLATFORM_PCI_ECAM_START, ECAM_END, RESERVED },
	};

	ck_assert_uint_eq(PLATFORM_PCI_HOLE_START, 3 * GiB);
	expect_map(3 * GiB, want, 5);
	ck_assert_uint_eq(ram_total(3 * GiB), 3 * GiB - LOW_HOLE);
}
END_TEST

START_TEST(test_4g_splits_across_the_hole)
{
	static const struct range want[] = {
		{ 0, PLATFORM_EBDA_START, RAM },
		{ PLATFORM_EBDA_START, 0xa0000, RESERVED },
		{ PLATFORM_ACPI_START, PLATFORM_SMBIOS_END, RESERVED },
		{ MiB, PLATFORM_PCI_HOLE_START, RAM },
		{ PLATFORM_PCI_ECAM_START, ECAM_END, RESERVED },
		{ PLATFORM_4G, PLATFORM_4G + GiB, RAM },
	};

	expect_map(4 * GiB, want, 6);
	/* All of mem_size is RAM except what a PC reserves below 1 MiB. */
	ck_assert_uint_eq(ram_total(4 * GiB), 4 * GiB - LOW_HOLE);
	ck_assert_uint_eq(ram_total(64 * GiB), 64 * GiB - LOW_HOLE);
	ck_assert_uint_eq(ram_total(3 * GiB + 4096), 3 * GiB + 4096 - LOW_HOLE);
}
END_TEST

START_TEST(test_nothing_is_ram_in_the_pci_hole)
{
	int n = build(8 * GiB, MAX);

	for (int i = 0; i < n; i++) {
		if (map[i].type != RAM)
			continue;
		ck_assert(map[i].addr + map[i].size <= PLATFORM_PCI_HOLE_START ||
			  map[i].addr >= PLATFORM_4G);
	}
}
END_TEST

/* The RSDP and tables at PLATFORM_ACPI_START must not be handed out as RAM. */
START_TEST(test_acpi_area_reserved)
{
	int n = build(512 * MiB, MAX);
	int found = 0;

	for (int i = 0; i < n; i++) {
		if (map[i].addr <= PLATFORM_ACPI_START &&
		    map[i].addr + map[i].size >= PLATFORM_SMBIOS_END) {
			ck_assert_uint_eq(map[i].type, RESERVED);
			found = 1;
		}
	}
	ck_assert(found);
}
END_TEST

/*
 * Linux trusts the MCFG's ECAM only when the range is reserved: one reserved entry covers
 * exactly the ECAM, for every guest size, and nothing else touches it.
 */
START_TEST(test_ecam_reserved)
{
	static const uint64_t sizes[] = { 2 * MiB,	  512 * MiB, 3 * GiB,
					  3 * GiB + 4096, 4 * GiB,   64 * GiB };
	int n, found;

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		n = build(sizes[k], MAX);
		ck_assert_int_gt(n, 0);
		check_well_formed(n);
		found = 0;
		for (int i = 0; i < n; i++) {
			uint64_t end = map[i].addr + map[i].size;

			if (map[i].addr == PLATFORM_PCI_ECAM_START && end == ECAM_END) {
				ck_assert_uint_eq(map[i].type, RESERVED);
				found++;
			} else {
				ck_assert(end <= PLATFORM_PCI_ECAM_START ||
					  map[i].addr >= ECAM_END);
			}
		}
		ck_assert_int_eq(found, 1);
	}
}
END_TEST

/*
 * The VM generation ID's 16 bytes: inside a reserved entry and in no RAM entry, for every
 * guest size, so the guest never reuses the page the VMM rewrites at a restore.
 */
START_TEST(test_vmgenid_reserved)
{
	static const uint64_t sizes[] = { 2 * MiB, 512 * MiB, 3 * GiB, 4 * GiB, 64 * GiB };
	const uint64_t id = PLATFORM_VMGENID_ADDR, id_end = id + PLATFORM_VMGENID_LEN;
	int n, reserved;

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		n = build(sizes[k], MAX);
		ck_assert_int_gt(n, 0);
		reserved = 0;
		for (int i = 0; i < n; i++) {
			uint64_t end = map[i].addr + map[i].size;

			if (map[i].type == RAM)
				ck_assert(end <= id || map[i].addr >= id_end);
			else if (map[i].addr <= id && end >= id_end)
				reserved++;
		}
		ck_assert_int_eq(reserved, 1);
	}
}
END_TEST

START_TEST(test_tiny_sizes_rejected)
{
	ck_assert_int_eq(build(0, MAX), -EINVAL);
	ck_assert_int_eq(build(MiB, MAX), -EINVAL);
	ck_assert_int_eq(build(2 * MiB - 1, MAX), -EINVAL);
	ck_assert_int_eq(build(2 * MiB, MAX), 5);
	ck_assert_int_eq(build(UINT64_MAX, MAX), -EINVAL);
}
END_TEST

START_TEST(test_too_few_entries)
{
	const uint8_t *bytes = (const uint8_t *)map;

	ck_assert_int_eq(build(512 * MiB, 4), -ENOSPC);
	ck_assert_int_eq(build(4 * GiB, 5), -ENOSPC);
	for (size_t i = 5 * sizeof(map[0]); i < sizeof(map); i++)
		ck_assert_uint_eq(bytes[i], GUARD);
	ck_assert_int_eq(build(4 * GiB, 0), -ENOSPC);
	for (size_t i = 0; i < sizeof(map); i++)
		ck_assert_uint_eq(bytes[i], GUARD);
	ck_assert_int_eq(build(4 * GiB, 6), 6);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("e820");
	TCase *tc = tcase_create("map");

	tcase_add_test(tc, test_512m);
	tcase_add_test(tc, test_3g_exactly);
	tcase_add_test(tc, test_4g_splits_across_the_hole);
	tcase_add_test(tc, test_nothing_is_ram_in_the_pci_hole);
	tcase_add_test(tc, test_acpi_area_reserved);
	tcase_add_test(tc, test_ecam_reserved);
	tcase_add_test(tc, test_vmgenid_reserved);
	tcase_add_test(tc, test_tiny_sizes_rejected);
	tcase_add_test(tc, test_too_few_entries);
	suite_add_tcase(s, tc);
	return s;
}
