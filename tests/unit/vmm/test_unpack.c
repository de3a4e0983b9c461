/* SPDX-License-Identifier: MIT */
/* Kernel payload decompression: every format, and every way a payload can be bad. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "check_main.h"
#include "vmm/payload.h"
#include "vmm/unpack.h"

#define DATA_SIZE (200 * 1024)
#define CAP (DATA_SIZE * 2 + 4096)

static const enum unpack_format formats[] = { UNPACK_GZIP, UNPACK_XZ,	UNPACK_ZSTD,
					      UNPACK_LZ4,  UNPACK_LZMA, UNPACK_BZIP2 };
#define NFORMATS (int)(sizeof(formats) / sizeof(formats[0]))

static uint8_t data[DATA_SIZE], payload[CAP], out[DATA_SIZE + 64];
static char err[256];

/* compressible but not trivially: words and a counter */
static void fill(uint8_t *buf, size_t len)
{
	static const char words[] = "startup_64 decompress vmlinux relocs payload kernel ";

	for (size_t i = 0; i < len; i++)
		buf[i] =
			(i % 97 == 0) ? (uint8_t)(i >> 7) : (uint8_t)words[i % (sizeof(words) - 1)];
}

static size_t make(enum unpack_format f)
{
	size_t n;

	fill(data, sizeof(data));
	n = test_payload(f, data, sizeof(data), payload, sizeof(payload));
	ck_assert_msg(n > 8, "could not build a %s payload", unpack_format_name(f));
	memset(err, 0, sizeof(err));
	return n;
}

START_TEST(test_each_format_unpacks)
{
	enum unpack_format f = formats[_i];
	size_t n = make(f), out_len = 0;

	ck_assert_int_eq(unpack_detect(payload, n), f);
	ck_assert(unpack_supported(f));
	ck_assert_int_eq(unpack_output_size(payload, n, &out_len, err, sizeof(err)), 0);
	ck_assert_uint_eq(out_len, sizeof(data));
	memset(out, 0xee, sizeof(out));
	ck_assert_msg(unpack_payload(f, payload, n, out, out_len, err, sizeof(err)) == 0, "%s: %s",
		      unpack_format_name(f), err);
	ck_assert(!memcmp(out, data, sizeof(data)));
}
END_TEST

START_TEST(test_truncated_payload)
{
	enum unpack_format f = formats[_i];
	size_t n = make(f), cut = n / 2;

	/* the stream cut short; the stated size kept, as a truncated file's would not be */
	memcpy(payload + cut, payload + n - 4, 4);
	ck_assert_int_eq(unpack_payload(f, payload, cut + 4, out, sizeof(data), err, sizeof(err)),
			 -EINVAL);
	ck_assert_msg(strstr(err, "payload is"), "%s: %s", unpack_format_name(f), err);
}
END_TEST

START_TEST(test_wrong_stated_size)
{
	enum unpack_format f = formats[_i];
	size_t n = make(f);

	/* one byte more than the stream holds, and one byte less */
	ck_assert_int_eq(unpack_payload(f, payload, n, out, sizeof(data) + 1, err, sizeof(err)),
			 -EINVAL);
	ck_assert_msg(strstr(err, "payload is"), "%s: %s", unpack_format_name(f), err);
	ck_assert_int_eq(unpack_payload(f, payload, n, out, sizeof(data) - 1, err, sizeof(err)),
			 -EINVAL);
	ck_assert_msg(strstr(err, "corrupt"), "%s: %s", unpack_format_name(f), err);
}
END_TEST

START_TEST(test_garbage_after_magic)
{
	enum unpack_format f = formats[_i];
	size_t n = make(f);

	/* keep the first 6 bytes (every magic), then noise */
	for (size_t i = 6; i < n - 4; i++)
		payload[i] = (uint8_t)(i * 2654435761u >> 13);
	ck_assert_int_eq(unpack_payload(f, payload, n, out, sizeof(data), err, sizeof(err)),
			 -EINVAL);
	ck_assert_msg(strstr(err, "payload is"), "%s: %s", unpack_format_name(f), err);
}
END_TEST

START_TEST(test_lz4_several_blocks)
{
	static uint8_t big[TEST_LZ4_BLOCK + 5000], packed[TEST_LZ4_BLOCK + 200000],
		back[TEST_LZ4_BLOCK + 5000];
	size_t n;

	fill(big, sizeof(big));
	n = test_payload(UNPACK_LZ4, big, sizeof(big), packed, sizeof(packed));
	ck_assert(n > 0);
	ck_assert_int_eq(
		unpack_payload(UNPACK_LZ4, packed, n, back, sizeof(back), err, sizeof(err)), 0);
	ck_assert(!memcmp(big, back, sizeof(big)));
}
END_TEST

START_TEST(test_detect_and_size)
{
	static const uint8_t lzo[] = { 0x89, 'L', 'Z', 'O', 0, 0, 0, 0, 1, 0, 0, 0 };
	uint8_t p[16] = { 0 };
	size_t len;

	ck_assert_int_eq(unpack_detect(lzo, sizeof(lzo)), UNPACK_LZO);
	ck_assert(!unpack_supported(UNPACK_LZO));
	ck_assert_str_eq(unpack_format_name(UNPACK_LZO), "lzo");
	ck_assert_int_eq(unpack_payload(UNPACK_LZO, lzo, sizeof(lzo), p, 1, err, sizeof(err)),
			 -EOPNOTSUPP);
	ck_assert_int_eq(unpack_detect(p, sizeof(p)), UNPACK_UNKNOWN);
	ck_assert_int_eq(unpack_detect((const uint8_t *)"\x1f", 1), UNPACK_UNKNOWN);
	ck_assert_str_eq(unpack_format_name((enum unpack_format)99), "unknown");

	ck_assert_int_eq(unpack_output_size(p, 7, &len, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(unpack_output_size(p, 8, &len, err, sizeof(err)), -EINVAL); /* 0 */
	test_put_le32(p + 12, 0x40000001); /* past UNPACK_MAX_OUTPUT */
	ck_assert_int_eq(unpack_output_size(p, 16, &len, err, sizeof(err)), -EINVAL);
	test_put_le32(p + 12, 0x1234);
	ck_assert_int_eq(unpack_output_size(p, 16, &len, err, sizeof(err)), 0);
	ck_assert_uint_eq(len, 0x1234);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("unpack");
	TCase *tc = tcase_create("formats");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_each_format_unpacks, 0, NFORMATS);
	tcase_add_loop_test(tc, test_truncated_payload, 0, NFORMATS);
	tcase_add_loop_test(tc, test_wrong_stated_size, 0, NFORMATS);
	tcase_add_loop_test(tc, test_garbage_after_magic, 0, NFORMATS);
	tcase_add_test(tc, test_lz4_several_blocks);
	tcase_add_test(tc, test_detect_and_size);
	suite_add_tcase(s, tc);
	return s;
}
