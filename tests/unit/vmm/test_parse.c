/* SPDX-License-Identifier: MIT */
/* The shared value parsers: whole numbers, sizes and key=value lists. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "check_main.h"
#include "vmm/parse.h"

static uint64_t value;

static int number(const char *text, unsigned int flags, uint64_t max)
{
	value = 0xdead;
	return parse_number(text, SIZE_MAX, flags, max, &value, NULL);
}

START_TEST(test_number_accepted)
{
	ck_assert_int_eq(number("0", PARSE_DEC, 10), 0);
	ck_assert_uint_eq(value, 0);
	ck_assert_int_eq(number("007", PARSE_DEC, 10), 0);
	ck_assert_uint_eq(value, 7);
	ck_assert_int_eq(number("18446744073709551615", PARSE_DEC, UINT64_MAX), 0);
	ck_assert_uint_eq(value, UINT64_MAX);
	ck_assert_int_eq(number("0x1F", PARSE_DEC | PARSE_HEX_0X, UINT64_MAX), 0);
	ck_assert_uint_eq(value, 31);
	ck_assert_int_eq(number("0Xff", PARSE_HEX_0X, 255), 0);
	ck_assert_uint_eq(value, 255);
	ck_assert_int_eq(number("aB", PARSE_HEX_BARE, 255), 0);
	ck_assert_uint_eq(value, 0xab);
	ck_assert_int_eq(number("0xffffffffffffffff", PARSE_HEX_0X, UINT64_MAX), 0);
	ck_assert_uint_eq(value, UINT64_MAX);
}
END_TEST

START_TEST(test_number_rejected)
{
	static const struct {
		const char *text;
		unsigned int flags;
		uint64_t max;
	} cases[] = {
		{ "", PARSE_DEC, 10 },				     /* empty */
		{ "0x", PARSE_HEX_0X, 10 },			     /* a prefix alone */
		{ "12x", PARSE_DEC, 100 },			     /* trailing junk */
		{ "1 ", PARSE_DEC, 100 },			     /* trailing blank */
		{ " 1", PARSE_DEC, 100 },			     /* leading blank */
		{ "+1", PARSE_DEC, 100 },			     /* a sign */
		{ "-1", PARSE_DEC, 100 },			     /* a sign */
		{ "11", PARSE_DEC, 10 },			     /* above max */
		{ "9", PARSE_DEC, 8 },				     /* one digit above max */
		{ "18446744073709551616", PARSE_DEC, UINT64_MAX },   /* overflow */
		{ "0x10000000000000000", PARSE_HEX_0X, UINT64_MAX }, /* overflow */
		{ "0x10", PARSE_DEC, 100 },			     /* hex not asked for */
		{ "ff", PARSE_DEC, 1000 },			     /* hex digits, decimal asked */
		{ "0xg", PARSE_HEX_0X, 100 },			     /* no hex digit */
		{ "12", PARSE_HEX_0X, 100 },			     /* 0x required */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(number(cases[i].text, cases[i].flags, cases[i].max) == -EINVAL,
			      "\"%s\" accepted as %llu", cases[i].text, (unsigned long long)value);
	ck_assert_int_eq(parse_number(NULL, 1, PARSE_DEC, 1, &value, NULL), -EINVAL);
}
END_TEST

START_TEST(test_number_end_and_length)
{
	const char *end;

	ck_assert_int_eq(parse_number("12:34", SIZE_MAX, PARSE_DEC, 100, &value, &end), 0);
	ck_assert_uint_eq(value, 12);
	ck_assert_str_eq(end, ":34");
	/* only len bytes count, and a NUL before them ends the number */
	ck_assert_int_eq(parse_number("12345", 2, PARSE_DEC, 100, &value, NULL), 0);
	ck_assert_uint_eq(value, 12);
	ck_assert_int_eq(parse_number("1", 2, PARSE_DEC, 100, &value, &end), 0);
	ck_assert_uint_eq(value, 1);
	ck_assert_int_eq(parse_number(":1", SIZE_MAX, PARSE_DEC, 100, &value, &end), -EINVAL);
	ck_assert_str_eq(end, ":1"); /* where the number should have started */
	ck_assert_int_eq(parse_decimal("5", 6, 10, &value), -EINVAL); /* below min */
	ck_assert_int_eq(parse_decimal("6", 6, 10, &value), 0);
}
END_TEST

START_TEST(test_size)
{
	ck_assert_int_eq(parse_size("512M", &value), 0);
	ck_assert_uint_eq(value, 512ull << 20);
	ck_assert_int_eq(parse_size("1GiB", &value), 0);
	ck_assert_uint_eq(value, 1ull << 30);
	ck_assert_int_eq(parse_size("4kb", &value), 0);
	ck_assert_uint_eq(value, 4096);
	ck_assert_int_eq(parse_size("16777215T", &value), 0);
	ck_assert_int_eq(parse_size("16777216T", &value), -EINVAL); /* 2^64 */
	ck_assert_int_eq(parse_size("1X", &value), -EINVAL);
	ck_assert_int_eq(parse_size("1Mx", &value), -EINVAL);
	ck_assert_int_eq(parse_size("M", &value), -EINVAL);
	ck_assert_int_eq(parse_size("0x10", &value), -EINVAL);
}
END_TEST

static struct kv_list list;

START_TEST(test_kv_items)
{
	ck_assert_int_eq(kv_split("path=a.img,readonly=on,serial=", 0, &list), 0);
	ck_assert_uint_eq(list.count, 3);
	ck_assert_str_eq(list.items[0].key, "path");
	ck_assert_str_eq(list.items[0].value, "a.img");
	ck_assert_str_eq(list.items[1].key, "readonly");
	ck_assert_str_eq(list.items[1].value, "on");
	ck_assert_str_eq(list.items[2].key, "serial");
	ck_assert_str_eq(list.items[2].value, ""); /* an empty value is the caller's to judge */
	ck_assert_int_eq(list.items[1].rawlen, 11);
	ck_assert(!strncmp(list.items[1].raw, "readonly=on", 11));
	/* an item without '=' has no value; '=' after the first belongs to the value */
	ck_assert_int_eq(kv_split("user,a=b=c", 0, &list), 0);
	ck_assert_str_eq(list.items[0].key, "user");
	ck_assert_ptr_null(list.items[0].value);
	ck_assert_str_eq(list.items[1].value, "b=c");
}
END_TEST

START_TEST(test_kv_escaped_comma)
{
	ck_assert_int_eq(kv_split("path=/srv/a,,b.img,readonly=on", 0, &list), 0);
	ck_assert_uint_eq(list.count, 2);
	ck_assert_str_eq(list.items[0].value, "/srv/a,b.img");
	ck_assert_int_eq(list.items[0].rawlen, (int)strlen("path=/srv/a,,b.img"));
	/* three commas: a comma in the value, then the separator */
	ck_assert_int_eq(kv_split("path=a,,,readonly=on", 0, &list), 0);
	ck_assert_str_eq(list.items[0].value, "a,");
	ck_assert_str_eq(list.items[1].key, "readonly");
	/* at the end: a value that ends in a comma */
	ck_assert_int_eq(kv_split("path=a,,", 0, &list), 0);
	ck_assert_uint_eq(list.count, 1);
	ck_assert_str_eq(list.items[0].value, "a,");
	/* a positional first item keeps its '=' and unescapes its commas */
	ck_assert_int_eq(kv_split("/srv/x=1,,2:tag,readonly=on", KV_POSITIONAL, &list), 0);
	ck_assert_ptr_null(list.items[0].key);
	ck_assert_str_eq(list.items[0].value, "/srv/x=1,2:tag");
	ck_assert_str_eq(list.items[1].key, "readonly");
}
END_TEST

START_TEST(test_kv_empty_items)
{
	ck_assert_int_eq(kv_split("", 0, &list), -EINVAL);
	ck_assert_uint_eq(list.bad, 0);
	ck_assert_int_eq(kv_split("path=a,", 0, &list), -EINVAL); /* trailing comma */
	ck_assert_uint_eq(list.bad, 1);
	ck_assert_int_eq(kv_split(",path=a", 0, &list), -EINVAL); /* leading comma */
	ck_assert_uint_eq(list.bad, 0);
	ck_assert_int_eq(kv_split("a=1,b=2,", KV_POSITIONAL, &list), -EINVAL);
	ck_assert_uint_eq(list.bad, 2);
}
END_TEST

START_TEST(test_kv_limits)
{
	static char text[KV_TEXT_MAX + 1];

	memset(text, 'a', KV_TEXT_MAX - 1);
	ck_assert_int_eq(kv_split(text, 0, &list), 0);
	ck_assert_uint_eq(list.count, 1);
	memset(text, 'a', KV_TEXT_MAX);
	ck_assert_int_eq(kv_split(text, 0, &list), -E2BIG);
	memset(text, 0, sizeof(text));
	for (unsigned int i = 0; i < KV_MAX_ITEMS; i++)
		strcat(text, i ? ",a" : "a");
	ck_assert_int_eq(kv_split(text, 0, &list), 0);
	strcat(text, ",a");
	ck_assert_int_eq(kv_split(text, 0, &list), -E2BIG);
}
END_TEST

START_TEST(test_kv_duplicates)
{
	ck_assert_int_eq(kv_split("tap=a,queues=2,mac=x,queues=3", 0, &list), 0);
	ck_assert(!kv_repeats(&list, 0));
	ck_assert(!kv_repeats(&list, 1));
	ck_assert(!kv_repeats(&list, 2));
	ck_assert(kv_repeats(&list, 3));
	/* the key is compared unescaped: "a,,b" and "a,,b" are one key */
	ck_assert_int_eq(kv_split("a,,b=1,a,,b=2", 0, &list), 0);
	ck_assert(kv_repeats(&list, 1));
	ck_assert_int_eq(kv_split("dir,dir=1", KV_POSITIONAL, &list), 0);
	ck_assert(!kv_repeats(&list, 1)); /* a positional item has no key */
}
END_TEST

START_TEST(test_on_off)
{
	bool b = false;

	ck_assert_int_eq(parse_on_off("on", &b), 0);
	ck_assert(b);
	ck_assert_int_eq(parse_on_off("off", &b), 0);
	ck_assert(!b);
	ck_assert_int_eq(parse_on_off("1", &b), -EINVAL);
	ck_assert_int_eq(parse_on_off("", &b), -EINVAL);
	ck_assert_int_eq(parse_on_off("ON", &b), -EINVAL);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("parse");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_number_accepted);
	tcase_add_test(tc, test_number_rejected);
	tcase_add_test(tc, test_number_end_and_length);
	tcase_add_test(tc, test_size);
	tcase_add_test(tc, test_kv_items);
	tcase_add_test(tc, test_kv_escaped_comma);
	tcase_add_test(tc, test_kv_empty_items);
	tcase_add_test(tc, test_kv_limits);
	tcase_add_test(tc, test_kv_duplicates);
	tcase_add_test(tc, test_on_off);
	suite_add_tcase(s, tc);
	return s;
}
