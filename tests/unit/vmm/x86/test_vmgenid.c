/* SPDX-License-Identifier: MIT */
/* The VM generation ID in guest memory: 16 fresh bytes at their address, nothing else. */
#include <string.h>

#include "check_main.h"
#include "devices/platform.h"
#include "vmm/memory.h"
#include "vmm/x86/vmgenid.h"

#define MiB (1ull << 20)

START_TEST(test_writes_a_new_id_each_time)
{
	struct guest_mem mem;
	uint8_t *page, first[PLATFORM_VMGENID_LEN], zero[PLATFORM_VMGENID_LEN] = { 0 };
	size_t around = 4096;

	ck_assert_int_eq(guest_mem_alloc(&mem, 8 * MiB), 0);
	page = guest_mem_ptr(&mem, PLATFORM_VMGENID_ADDR - around, 2 * around);
	ck_assert_ptr_nonnull(page);
	memset(page, 0x5a, 2 * around);
	ck_assert_int_eq(vmgenid_write(&mem), 0);
	memcpy(first, page + around, sizeof(first));
	/* 128 random bits: all zero or all 0x5a only by a bug */
	ck_assert_mem_ne(first, zero, sizeof(first));
	for (size_t i = 0; i < 2 * around; i++) {
		if (i >= around && i < around + PLATFORM_VMGENID_LEN)
			continue;
		ck_assert_msg(page[i] == 0x5a, "byte %zd from the ID changed",
			      (ssize_t)(i - around));
	}
	/* a restore of the same snapshot, later or elsewhere: another ID */
	ck_assert_int_eq(vmgenid_write(&mem), 0);
	ck_assert_mem_ne(page + around, first, sizeof(first));
	guest_mem_free(&mem);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("vmgenid");
	TCase *tc = tcase_create("id");

	tcase_add_test(tc, test_writes_a_new_id_each_time);
	suite_add_tcase(s, tc);
	return s;
}
