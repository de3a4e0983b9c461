/* SPDX-License-Identifier: MIT */
/* The Ctrl-A escape filter between the user's keyboard and the guest's UART. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "check_main.h"
#include "vmm/console.h"

static struct console_escape esc;
static uint8_t out[64];
static bool quit;

static void setup(void)
{
	memset(&esc, 0, sizeof(esc));
	memset(out, 0xee, sizeof(out));
	quit = true; /* every call must report for itself */
}

static size_t filter(const char *in, size_t len)
{
	ck_assert_uint_le(2 * len, sizeof(out));
	return console_filter(&esc, (const uint8_t *)in, len, out, &quit);
}

START_TEST(test_plain_bytes_pass)
{
	static const char text[] = "ls -l\r\x1b[A\x7f\x02\x00z";
	size_t n = filter(text, sizeof(text) - 1);

	ck_assert_uint_eq(n, sizeof(text) - 1);
	ck_assert_mem_eq(out, text, sizeof(text) - 1);
	ck_assert(!quit);

	ck_assert_uint_eq(filter("", 0), 0);
	ck_assert(!quit);
}
END_TEST

START_TEST(test_quit_lower_and_upper)
{
	size_t n = filter("ab\x01xcd", 6);

	ck_assert(quit);
	ck_assert_uint_eq(n, 2); /* what came before is still delivered, what follows is not */
	ck_assert_mem_eq(out, "ab", 2);

	setup();
	n = filter("\x01X", 2);
	ck_assert(quit);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_double_escape_sends_one)
{
	size_t n = filter("a\x01\x01z", 4);

	ck_assert(!quit);
	ck_assert_uint_eq(n, 3);
	ck_assert_mem_eq(out, "a\x01z", 3);

	/* two escaped Ctrl-As in a row: two Ctrl-As, and the filter is not left pending */
	setup();
	n = filter("\x01\x01\x01\x01x", 5);
	ck_assert(!quit);
	ck_assert_uint_eq(n, 3);
	ck_assert_mem_eq(out, "\x01\x01x", 3);
}
END_TEST

START_TEST(test_other_pair_passes_whole)
{
	size_t n = filter("\001b", 2);

	ck_assert(!quit);
	ck_assert_uint_eq(n, 2);
	ck_assert_mem_eq(out, "\001b", 2);

	/* Ctrl-A then another control byte: both go through, nothing is swallowed */
	setup();
	n = filter("\x01\r!", 3);
	ck_assert_uint_eq(n, 3);
	ck_assert_mem_eq(out, "\x01\r!", 3);
}
END_TEST

START_TEST(test_escape_split_across_reads)
{
	size_t n = filter("hi\x01", 3);

	ck_assert(!quit);
	ck_assert_uint_eq(n, 2); /* the Ctrl-A is held back until the next byte says what it is */
	ck_assert_mem_eq(out, "hi", 2);
	ck_assert(esc.pending);

	n = filter("x!", 2);
	ck_assert(quit);
	ck_assert_uint_eq(n, 0);

	setup();
	ck_assert_uint_eq(filter("\x01", 1), 0);
	n = filter("b", 1); /* one byte in, two out */
	ck_assert(!quit);
	ck_assert_uint_eq(n, 2);
	ck_assert_mem_eq(out, "\001b", 2);

	setup();
	ck_assert_uint_eq(filter("\x01", 1), 0);
	n = filter("\x01", 1);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(out[0], 0x01);
	ck_assert(!esc.pending);
}
END_TEST

START_TEST(test_quit_flag_resets)
{
	filter("\x01x", 2);
	ck_assert(quit);
	ck_assert(!esc.pending);
	/* a later call (the user did not mean it, or main ignored it) starts clean */
	ck_assert_uint_eq(filter("ok", 2), 2);
	ck_assert(!quit);
	ck_assert_mem_eq(out, "ok", 2);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("console");
	TCase *tc = tcase_create("filter");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_plain_bytes_pass);
	tcase_add_test(tc, test_quit_lower_and_upper);
	tcase_add_test(tc, test_double_escape_sends_one);
	tcase_add_test(tc, test_other_pair_passes_whole);
	tcase_add_test(tc, test_escape_split_across_reads);
	tcase_add_test(tc, test_quit_flag_resets);
	suite_add_tcase(s, tc);
	return s;
}
