/* SPDX-License-Identifier: MIT */
/* iovec byte ranges: copies and slices across segment boundaries, and what does not fit. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "check_main.h"
#include "virtio/iov.h"

/* 10 bytes as 3 + 0 + 4 + 3, the empty segment in the middle */
static uint8_t a[3], b[4], c[3];
static struct iovec v[4];

static void setup(void)
{
	for (unsigned int i = 0; i < 3; i++)
		a[i] = (uint8_t)i;
	for (unsigned int i = 0; i < 4; i++)
		b[i] = (uint8_t)(3 + i);
	for (unsigned int i = 0; i < 3; i++)
		c[i] = (uint8_t)(7 + i);
	v[0] = (struct iovec){ a, 3 };
	v[1] = (struct iovec){ NULL, 0 };
	v[2] = (struct iovec){ b, 4 };
	v[3] = (struct iovec){ c, 3 };
}

START_TEST(test_size)
{
	ck_assert_uint_eq(iov_size(v, 4), 10);
	ck_assert_uint_eq(iov_size(v, 0), 0);
}
END_TEST

START_TEST(test_to_buf_across_segments)
{
	uint8_t out[10];

	ck_assert_int_eq(iov_to_buf(v, 4, 0, out, 10), 0);
	for (unsigned int i = 0; i < 10; i++)
		ck_assert_uint_eq(out[i], i);
	memset(out, 0xee, sizeof(out));
	ck_assert_int_eq(iov_to_buf(v, 4, 2, out, 6), 0);
	for (unsigned int i = 0; i < 6; i++)
		ck_assert_uint_eq(out[i], 2 + i);
	ck_assert_uint_eq(out[6], 0xee);
}
END_TEST

START_TEST(test_to_buf_overflow)
{
	uint8_t out[11];

	memset(out, 0xee, sizeof(out));
	ck_assert_int_eq(iov_to_buf(v, 4, 0, out, 11), -EMSGSIZE);
	ck_assert_int_eq(iov_to_buf(v, 4, 9, out, 2), -EMSGSIZE);
	ck_assert_int_eq(iov_to_buf(v, 4, 11, out, 0), -EMSGSIZE);
	ck_assert_int_eq(iov_to_buf(v, 4, SIZE_MAX, out, 2), -EMSGSIZE);
	ck_assert_int_eq(iov_to_buf(v, 4, 2, out, SIZE_MAX), -EMSGSIZE);
	/* nothing copied on failure */
	ck_assert_uint_eq(out[0], 0xee);
}
END_TEST

START_TEST(test_zero_length)
{
	uint8_t x = 0xee;

	ck_assert_int_eq(iov_to_buf(v, 4, 10, &x, 0), 0);
	ck_assert_int_eq(iov_from_buf(v, 4, 10, &x, 0), 0);
	ck_assert_int_eq(iov_to_buf(NULL, 0, 0, &x, 0), 0);
	ck_assert_int_eq(iov_to_buf(NULL, 0, 0, &x, 1), -EMSGSIZE);
	ck_assert_uint_eq(x, 0xee);
}
END_TEST

START_TEST(test_from_buf)
{
	const uint8_t in[5] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4 };

	ck_assert_int_eq(iov_from_buf(v, 4, 1, in, 5), 0);
	ck_assert_uint_eq(a[0], 0);
	ck_assert_uint_eq(a[1], 0xa0);
	ck_assert_uint_eq(a[2], 0xa1);
	ck_assert_uint_eq(b[0], 0xa2);
	ck_assert_uint_eq(b[2], 0xa4);
	ck_assert_uint_eq(b[3], 6);
	ck_assert_int_eq(iov_from_buf(v, 4, 8, in, 3), -EMSGSIZE);
	ck_assert_uint_eq(c[1], 8); /* untouched */
}
END_TEST

START_TEST(test_slice)
{
	struct iovec out[4];

	/* bytes 2..8: the end of a, all of b (the empty segment left out), the start of c */
	ck_assert_int_eq(iov_slice(v, 4, 2, 6, out, 4), 3);
	ck_assert_ptr_eq(out[0].iov_base, a + 2);
	ck_assert_uint_eq(out[0].iov_len, 1);
	ck_assert_ptr_eq(out[1].iov_base, b);
	ck_assert_uint_eq(out[1].iov_len, 4);
	ck_assert_ptr_eq(out[2].iov_base, c);
	ck_assert_uint_eq(out[2].iov_len, 1);
	/* exactly on a boundary */
	ck_assert_int_eq(iov_slice(v, 4, 3, 4, out, 4), 1);
	ck_assert_ptr_eq(out[0].iov_base, b);
	ck_assert_uint_eq(out[0].iov_len, 4);
	ck_assert_int_eq(iov_slice(v, 4, 10, 0, out, 4), 0);
}
END_TEST

START_TEST(test_slice_overflow)
{
	struct iovec out[4];

	ck_assert_int_eq(iov_slice(v, 4, 3, 8, out, 4), -EMSGSIZE);
	ck_assert_int_eq(iov_slice(v, 4, 0, 10, out, 2), -E2BIG);
	ck_assert_int_eq(iov_slice(v, 4, 0, 10, out, 3), 3);
}
END_TEST

START_TEST(test_pull)
{
	struct iovec *p = v;
	unsigned int n = 4;

	ck_assert_int_eq(iov_pull(&p, &n, 11), -EMSGSIZE);
	ck_assert_ptr_eq(p, v);
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(iov_pull(&p, &n, 5), 0);
	ck_assert_ptr_eq(p, v + 2);
	ck_assert_uint_eq(n, 2);
	ck_assert_ptr_eq(p->iov_base, b + 2);
	ck_assert_uint_eq(p->iov_len, 2);
	ck_assert_int_eq(iov_pull(&p, &n, 5), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(iov_size(p, n), 0);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("iov");
	TCase *tc = tcase_create("iov");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_size);
	tcase_add_test(tc, test_to_buf_across_segments);
	tcase_add_test(tc, test_to_buf_overflow);
	tcase_add_test(tc, test_zero_length);
	tcase_add_test(tc, test_from_buf);
	tcase_add_test(tc, test_slice);
	tcase_add_test(tc, test_slice_overflow);
	tcase_add_test(tc, test_pull);
	suite_add_tcase(s, tc);
	return s;
}
