/* SPDX-License-Identifier: MIT */
/* The strict JSON parser: values, escapes, positions, and each kind of rejection. */
#include <errno.h>
#include <string.h>

#include "check_main.h"
#include "vmm/json.h"

static struct json_value *root;
static char err[256];

static int parse(const char *text)
{
	json_free(root);
	root = NULL;
	memset(err, 0, sizeof(err));
	return json_parse(text, strlen(text), &root, err, sizeof(err));
}

static void teardown(void)
{
	json_free(root);
	root = NULL;
}

#define ck_reject(text, where, what)                                                               \
	do {                                                                                       \
		ck_assert_int_eq(parse(text), -EINVAL);                                            \
		ck_assert_msg(!strncmp(err, where, strlen(where)), "error \"%s\" is not at %s",    \
			      err, where);                                                         \
		ck_assert_msg(strstr(err, what) != NULL, "error \"%s\" lacks \"%s\"", err, what);  \
	} while (0)

START_TEST(test_values)
{
	const struct json_value *v;

	ck_assert_int_eq(parse(" {\"a\": [1, -2.5e3, true, false, null, \"x\"], \"b\": {}}\n"), 0);
	ck_assert_int_eq(root->type, JSON_OBJECT);
	ck_assert_uint_eq(root->count, 2);
	v = json_get(root, "a");
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(v->type, JSON_ARRAY);
	ck_assert_uint_eq(v->count, 6);
	ck_assert_str_eq(v->items[0].text, "1");
	ck_assert_str_eq(v->items[1].text, "-2.5e3");
	ck_assert(v->items[2].boolean);
	ck_assert(!v->items[3].boolean);
	ck_assert_int_eq(v->items[4].type, JSON_NULL);
	ck_assert_str_eq(v->items[5].text, "x");
	ck_assert_int_eq(json_get(root, "b")->type, JSON_OBJECT);
	ck_assert_ptr_null(json_get(root, "c"));
}
END_TEST

START_TEST(test_escapes)
{
	ck_assert_int_eq(parse("\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20ac\\ud83d\\ude00\""), 0);
	ck_assert_str_eq(root->text, "a\"\\/\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	ck_assert_int_eq(parse("\"caf\xc3\xa9\""), 0);
	ck_assert_str_eq(root->text, "caf\xc3\xa9");
}
END_TEST

START_TEST(test_positions)
{
	ck_assert_int_eq(parse("{\n  \"k\":\n    [ 1,\n      \"v\" ] }"), 0);
	ck_assert_uint_eq(root->line, 1);
	ck_assert_uint_eq(root->items[0].line, 3);
	ck_assert_uint_eq(root->items[0].column, 5);
	ck_assert_uint_eq(root->items[0].items[1].line, 4);
	ck_assert_uint_eq(root->items[0].items[1].column, 7);
}
END_TEST

START_TEST(test_rejections)
{
	ck_reject("", "1:1:", "expected a value");
	ck_reject("{\"a\": 1,}", "1:9:", "trailing comma");
	ck_reject("[1,]", "1:4:", "trailing comma");
	ck_reject("{\"a\": 1, \"a\": 2}", "1:10:", "duplicate key \"a\"");
	ck_reject("{\"a\" 1}", "1:6:", "expected ':'");
	ck_reject("{a: 1}", "1:2:", "expected a key");
	ck_reject("[01]", "1:3:", "leading zeros");
	ck_reject("[1.]", "1:4:", "after '.'");
	ck_reject("[1e]", "1:4:", "exponent");
	ck_reject("[-]", "1:3:", "expected a digit");
	ck_reject("tru", "1:4:", "true");
	ck_reject("\"abc", "1:1:", "never ends");
	ck_reject("\"a\nb\"", "1:3:", "control character");
	ck_reject("\"\\x\"", "1:3:", "unknown escape");
	ck_reject("\"\\u12\"", "1:6:", "four hex digits");
	ck_reject("\"\\u0000\"", "1:2:", "\\u0000");
	ck_reject("\"\\ud800\"", "1:2:", "surrogate");
	ck_reject("\"\\udc00\"", "1:2:", "surrogate");
	ck_reject("\"\xff\"", "1:2:", "UTF-8");
	ck_reject("\"\xc0\xaf\"", "1:2:", "UTF-8");
	ck_reject("\"\xed\xa0\x80\"", "1:2:", "UTF-8");
	ck_reject("{} {}", "1:4:", "after the end");
	ck_reject("// comment\n{}", "1:1:", "expected a value");
	ck_reject("{\n\n   ]", "3:4:", "expected a key");
}
END_TEST

START_TEST(test_depth)
{
	char deep[2 * (JSON_MAX_DEPTH + 2) + 1];
	size_t n = 0;

	for (int i = 0; i < JSON_MAX_DEPTH + 1; i++)
		deep[n++] = '[';
	for (int i = 0; i < JSON_MAX_DEPTH + 1; i++)
		deep[n++] = ']';
	deep[n] = 0;
	ck_assert_int_eq(parse(deep), 0);
	memmove(deep + 1, deep, n + 1);
	deep[0] = '[';
	deep[n + 1] = ']';
	deep[n + 2] = 0;
	ck_reject(deep, "1:", "nested deeper");
}
END_TEST

START_TEST(test_tiny_error_buffer)
{
	char small[4];

	json_free(root);
	root = NULL;
	ck_assert_int_eq(json_parse("[", 1, &root, small, sizeof(small)), -EINVAL);
	ck_assert_ptr_nonnull(memchr(small, 0, sizeof(small)));
	ck_assert_ptr_null(root);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("parse");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_escapes);
	tcase_add_test(tc, test_positions);
	tcase_add_test(tc, test_rejections);
	tcase_add_test(tc, test_depth);
	tcase_add_test(tc, test_tiny_error_buffer);
	suite_add_tcase(s, tc);
	return s;
}
