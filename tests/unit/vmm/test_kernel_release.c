/* SPDX-License-Identifier: MIT */
/* The release banner, as an x86 vmlinux and an arm64 Image carry it. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "check_main.h"
#include "vmm/kernel_release.h"

START_TEST(test_release_banner)
{
	static const char data[] =
		"\x7f"
		"ELF...Linux version %s (%s)\n..."
		"Linux version 6.1.0-56-cloud-amd64-but-far-too-long-for-the-buffer-x ("
		"Linux version  (nothing)..."
		"Linux version 6.1.0-56-cloud-amd64 (debian-kernel@lists.debian.org)";
	char out[48];

	ck_assert_int_eq(
		kernel_release_from_banner((const uint8_t *)data, sizeof(data), out, sizeof(out)),
		0);
	ck_assert_str_eq(out, "6.1.0-56-cloud-amd64");

	/* a release cut off by the data's end is not one */
	ck_assert_int_eq(kernel_release_from_banner((const uint8_t *)data, sizeof(data) - 40, out,
						    sizeof(out)),
			 -ENOENT);
	ck_assert_int_eq(
		kernel_release_from_banner((const uint8_t *)"Linux version ", 14, out, sizeof(out)),
		-ENOENT);
}
END_TEST

/* An arm64 Image: the header's magic at byte 56, the banner somewhere in its data. */
START_TEST(test_arm64_image_banner)
{
	static uint8_t image[4096];
	static const char banner[] = "Linux version 6.1.0-57-cloud-arm64 (debian-kernel@lists."
				     "debian.org) (aarch64-linux-gnu-gcc-12)";
	char out[64];

	memset(image, 0, sizeof(image));
	memcpy(image + 56, "ARM\x64", 4);
	ck_assert_int_eq(kernel_release_from_banner(image, sizeof(image), out, sizeof(out)),
			 -ENOENT);
	memcpy(image + 3000, banner, sizeof(banner) - 1);
	ck_assert_int_eq(kernel_release_from_banner(image, sizeof(image), out, sizeof(out)), 0);
	ck_assert_str_eq(out, "6.1.0-57-cloud-arm64");
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("kernel_release");
	TCase *tc = tcase_create("banner");

	tcase_add_test(tc, test_release_banner);
	tcase_add_test(tc, test_arm64_image_banner);
	suite_add_tcase(s, tc);
	return s;
}
