/* SPDX-License-Identifier: MIT */
/* The newc writer: header fields, 4-byte alignment, trailer, errors that stick. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check_main.h"
#include "vmm/run/cpio.h"

/* Field i (0 = ino ... 12 = check) of the header at p, as a number. */
static unsigned long field(const uint8_t *p, int i)
{
	char hex[9];

	memcpy(hex, p + 6 + 8 * i, 8);
	hex[8] = 0;
	return strtoul(hex, NULL, 16);
}

START_TEST(test_file_entry)
{
	struct cpio c;
	const uint8_t *p;

	cpio_init(&c);
	ck_assert_int_eq(cpio_add_file(&c, "init", 0755, "abcde", 5), 0);
	ck_assert_int_eq(cpio_finish(&c), 0);
	p = c.buf;
	ck_assert(!memcmp(p, "070701", 6));
	ck_assert_uint_eq(field(p, 1), S_IFREG | 0755);
	ck_assert_uint_eq(field(p, 4), 1);  /* nlink */
	ck_assert_uint_eq(field(p, 6), 5);  /* filesize */
	ck_assert_uint_eq(field(p, 11), 5); /* namesize, NUL included */
	ck_assert_str_eq((const char *)p + 110, "init");
	/* 110 + 5 = 115, padded to 116; data 5, padded to 8 */
	ck_assert(!memcmp(p + 116, "abcde\0\0\0", 8));
	p += 124;
	ck_assert(!memcmp(p, "070701", 6));
	ck_assert_str_eq((const char *)p + 110, "TRAILER!!!");
	ck_assert_uint_eq(c.len % 4, 0);
	cpio_free(&c);
}
END_TEST

START_TEST(test_node_and_symlink)
{
	struct cpio c;
	const uint8_t *p;

	cpio_init(&c);
	ck_assert_int_eq(cpio_add_node(&c, "dev/console", S_IFCHR | 0600, 5, 1), 0);
	ck_assert_int_eq(cpio_add_symlink(&c, "bin/sh", "busybox"), 0);
	ck_assert_int_eq(cpio_finish(&c), 0);
	p = c.buf;
	ck_assert_uint_eq(field(p, 1), S_IFCHR | 0600);
	ck_assert_uint_eq(field(p, 9), 5);
	ck_assert_uint_eq(field(p, 10), 1);
	ck_assert_uint_eq(field(p, 6), 0);
	p += 124; /* 110 + 12 = 122 -> 124, no data */
	ck_assert_uint_eq(field(p, 1), S_IFLNK | 0777);
	ck_assert_uint_eq(field(p, 6), 7);
	ck_assert_str_eq((const char *)p + 110, "bin/sh");
	ck_assert(!memcmp(p + 120, "busybox", 7));
	ck_assert_uint_ne(field(p, 0), field(c.buf, 0)); /* inode numbers differ */
	cpio_free(&c);
}
END_TEST

START_TEST(test_grows_past_first_block)
{
	static uint8_t big[200 * 1024];
	struct cpio c;

	memset(big, 0x5a, sizeof(big));
	cpio_init(&c);
	ck_assert_int_eq(cpio_add_file(&c, "big", 0644, big, sizeof(big)), 0);
	ck_assert_int_eq(cpio_add_dir(&c, "d", 0755), 0);
	ck_assert_int_eq(cpio_finish(&c), 0);
	ck_assert(!memcmp(c.buf + 116, big, sizeof(big)));
	cpio_free(&c);
}
END_TEST

START_TEST(test_error_sticks)
{
	static char name[5000];
	struct cpio c;

	memset(name, 'a', sizeof(name) - 1);
	cpio_init(&c);
	ck_assert_int_ne(cpio_add_dir(&c, name, 0755), 0);
	ck_assert_int_ne(cpio_add_dir(&c, "ok", 0755), 0);
	ck_assert_int_ne(cpio_finish(&c), 0);
	cpio_free(&c);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("cpio");
	TCase *tc = tcase_create("newc");

	tcase_add_test(tc, test_file_entry);
	tcase_add_test(tc, test_node_and_symlink);
	tcase_add_test(tc, test_grows_past_first_block);
	tcase_add_test(tc, test_error_sticks);
	suite_add_tcase(s, tc);
	return s;
}
