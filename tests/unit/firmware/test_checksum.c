/* SPDX-License-Identifier: MIT */
/* The ACPI/SMBIOS byte checksum: the byte that makes the whole add up to zero. */
#include <stdint.h>

#include "check_main.h"
#include "firmware/checksum.h"

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

START_TEST(test_empty_and_zeros)
{
	const uint8_t zeros[8] = { 0 };

	ck_assert_uint_eq(firmware_checksum(zeros, 0), 0);
	ck_assert_uint_eq(firmware_checksum(zeros, sizeof(zeros)), 0);
}
END_TEST

START_TEST(test_makes_the_sum_zero)
{
	uint8_t t[37];

	for (unsigned int i = 0; i < sizeof(t); i++)
		t[i] = (uint8_t)(i * 37 + 11);
	t[9] = 0; /* the checksum field, as a table builder leaves it */
	t[9] = firmware_checksum(t, sizeof(t));
	ck_assert_uint_eq(sum(t, sizeof(t)), 0);
}
END_TEST

START_TEST(test_wraps)
{
	const uint8_t one[1] = { 1 }, ff[2] = { 0xff, 0xff };

	ck_assert_uint_eq(firmware_checksum(one, 1), 0xff);
	ck_assert_uint_eq(firmware_checksum(ff, 2), 2); /* 0x1fe: 0xfe, and 0xfe + 2 = 0x100 */
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("checksum");
	TCase *tc = tcase_create("checksum");

	tcase_add_test(tc, test_empty_and_zeros);
	tcase_add_test(tc, test_makes_the_sum_zero);
	tcase_add_test(tc, test_wraps);
	suite_add_tcase(s, tc);
	return s;
}
