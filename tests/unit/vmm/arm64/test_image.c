/* SPDX-License-Identifier: MIT */
/*
 * The arm64 Image loader: which headers it accepts, what it says about the others, and
 * where a loaded kernel lands in guest memory. Runs on any host: no KVM involved.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "vmm/arm64/image.h"
#include "vmm/memory.h"

#define MiB (1024 * 1024ull)

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A header as a 4.x+ kernel writes it: text_offset, image_size, flags, "ARM\x64". */
static void header(uint8_t h[IMAGE_HEADER_SIZE], uint64_t text_offset, uint64_t image_size,
		   uint64_t flags)
{
	memset(h, 0, IMAGE_HEADER_SIZE);
	put64(h + 8, text_offset);
	put64(h + 16, image_size);
	put64(h + 24, flags);
	memcpy(h + 56, "ARM\x64", 4);
}

START_TEST(test_accepts_a_modern_header)
{
	uint8_t h[IMAGE_HEADER_SIZE];
	struct image_layout l;
	char err[160];

	header(h, 0, 40 * MiB, 0xa); /* 4K pages, anywhere in memory */
	ck_assert_int_eq(image_parse(h, sizeof(h), 30 * MiB, &l, err, sizeof(err)), 0);
	ck_assert_uint_eq(l.text_offset, 0);
	ck_assert_uint_eq(l.image_size, 40 * MiB);
}
END_TEST

START_TEST(test_old_kernel_without_image_size)
{
	uint8_t h[IMAGE_HEADER_SIZE];
	struct image_layout l;
	char err[160];

	header(h, 0, 0, 0);
	ck_assert_int_eq(image_parse(h, sizeof(h), 12345, &l, err, sizeof(err)), 0);
	ck_assert_uint_eq(l.text_offset, 0x80000);
	ck_assert_uint_eq(l.image_size, 12345);
}
END_TEST

START_TEST(test_refuses_what_is_no_little_endian_image)
{
	uint8_t h[IMAGE_HEADER_SIZE];
	struct image_layout l;
	char err[160];

	header(h, 0, MiB, 0);
	h[59] = 0; /* the magic */
	ck_assert_int_eq(image_parse(h, sizeof(h), MiB, &l, err, sizeof(err)), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(err, "not an arm64 kernel Image"));
	ck_assert_int_eq(image_parse(h, 10, MiB, &l, err, sizeof(err)), -ENOEXEC);
	header(h, 0, MiB, 1); /* big-endian */
	ck_assert_int_eq(image_parse(h, sizeof(h), MiB, &l, err, sizeof(err)), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(err, "big-endian"));
}
END_TEST

START_TEST(test_refuses_sizes_that_disagree)
{
	uint8_t h[IMAGE_HEADER_SIZE];
	struct image_layout l;
	char err[160];

	header(h, 0, MiB, 0); /* image_size smaller than the file */
	ck_assert_int_eq(image_parse(h, sizeof(h), 2 * MiB, &l, err, sizeof(err)), -ENOEXEC);
	header(h, 2 * MiB, 4 * MiB, 0); /* text_offset past the 2 MiB block */
	ck_assert_int_eq(image_parse(h, sizeof(h), MiB, &l, err, sizeof(err)), -ENOEXEC);
}
END_TEST

/* The file's bytes at base + text_offset; the rest of image_size must be RAM too. */
START_TEST(test_load_places_the_kernel)
{
	char path[] = "/tmp/vmm-image-XXXXXX", err[256];
	uint8_t h[IMAGE_HEADER_SIZE];
	struct guest_mem mem;
	uint64_t entry, end;
	uint8_t *p;
	int fd;

	header(h, 0x80000, 3 * MiB, 0);
	h[0] = 0x4d; /* something to find */
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, h, sizeof(h)), sizeof(h));
	close(fd);
	ck_assert_int_eq(guest_mem_alloc(&mem, 8 * MiB), 0);
	ck_assert_int_eq(image_load(&mem, path, 2 * MiB, &entry, &end, err, sizeof(err)), 0);
	ck_assert_uint_eq(entry, 2 * MiB + 0x80000);
	ck_assert_uint_eq(end, entry + 3 * MiB);
	p = guest_mem_ptr(&mem, entry, IMAGE_HEADER_SIZE);
	ck_assert_uint_eq(p[0], 0x4d);
	ck_assert_int_eq(memcmp(p + 56, "ARM\x64", 4), 0);
	/* 3 MiB from 6.5 MiB does not fit in 8 MiB of RAM */
	ck_assert_int_eq(image_load(&mem, path, 6 * MiB, &entry, &end, err, sizeof(err)), -EFBIG);
	ck_assert_ptr_nonnull(strstr(err, "more than --memory"));
	guest_mem_free(&mem);
	unlink(path);
	ck_assert_int_lt(image_load(&mem, path, 0, &entry, &end, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, path));
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("arm64 Image");
	TCase *tc = tcase_create("image");

	tcase_add_test(tc, test_accepts_a_modern_header);
	tcase_add_test(tc, test_old_kernel_without_image_size);
	tcase_add_test(tc, test_refuses_what_is_no_little_endian_image);
	tcase_add_test(tc, test_refuses_sizes_that_disagree);
	tcase_add_test(tc, test_load_places_the_kernel);
	suite_add_tcase(s, tc);
	return s;
}
