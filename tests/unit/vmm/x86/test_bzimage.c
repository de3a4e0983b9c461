/* SPDX-License-Identifier: MIT */
/* bzImage header validation and zero-page construction, on synthetic images in memory. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "check_main.h"
#include "vmm/x86/bzimage.h"

#define HDR_OFFSET 0x1f1
#define SETUP_SECTS 4
#define SETUP_SIZE ((SETUP_SECTS + 1) * 512)
#define KERNEL_SIZE 8192
#define IMAGE_SIZE (SETUP_SIZE + KERNEL_SIZE)
#define HDRS_MAGIC 0x53726448 /* "HdrS" */

static uint8_t image[IMAGE_SIZE];
static struct setup_header hdr;
static struct bzimage_info info;
static char err[256];

/* A header like a current x86-64 kernel's: protocol 2.15, relocatable, 64-bit entry. */
static void default_header(void)
{
	memset(&hdr, 0, sizeof(hdr));
	hdr.setup_sects = SETUP_SECTS;
	hdr.boot_flag = 0xaa55;
	hdr.jump = 0x6aeb; /* "jmp short +0x6a": the header ends at 0x26c */
	hdr.header = HDRS_MAGIC;
	hdr.version = 0x020f;
	hdr.loadflags = LOADED_HIGH;
	hdr.initrd_addr_max = 0x7fffffff;
	hdr.kernel_alignment = 0x200000;
	hdr.relocatable_kernel = 1;
	hdr.min_alignment = 21;
	hdr.xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G;
	hdr.cmdline_size = 2047;
	hdr.pref_address = 0x1000000;
	hdr.init_size = 0x400000;
	hdr.handover_offset = 0x190;
}

/* Write hdr into image and return the image's length. */
static size_t write_image(void)
{
	memset(image, 0, sizeof(image));
	memcpy(image + HDR_OFFSET, &hdr, sizeof(hdr));
	for (size_t i = SETUP_SIZE; i < IMAGE_SIZE; i++)
		image[i] = (uint8_t)(i * 7);
	return IMAGE_SIZE;
}

static void setup(void)
{
	default_header();
	memset(&info, 0xa5, sizeof(info));
	memset(err, 0, sizeof(err));
}

static int parse_len(size_t len)
{
	return bzimage_parse(image, len, &info, err, sizeof(err));
}

static int parse(void)
{
	return parse_len(write_image());
}

#define ck_assert_err_has(text)                                                                    \
	ck_assert_msg(strstr(err, (text)) != NULL, "error \"%s\" does not mention \"%s\"", err,    \
		      (text))

START_TEST(test_kernel_version)
{
	static const char text[] = "6.1.0-13-cloud-amd64 (debian-kernel@lists.debian.org) #1";
	char release[64];
	size_t len;

	hdr.kernel_version = 0x300; /* the string lies at 0x300 + 0x200 */
	len = write_image();
	memcpy(image + 0x500, text, sizeof(text));
	ck_assert_int_eq(bzimage_kernel_version(image, len, release, sizeof(release)), 0);
	ck_assert_str_eq(release, "6.1.0-13-cloud-amd64");
	/* truncated to the buffer, never past it */
	ck_assert_int_eq(bzimage_kernel_version(image, len, release, 6), 0);
	ck_assert_str_eq(release, "6.1.0");
	/* pointing past the end of the image, or nowhere */
	hdr.kernel_version = 0xff00;
	len = write_image();
	ck_assert_int_eq(bzimage_kernel_version(image, len, release, sizeof(release)), -ENOENT);
	hdr.kernel_version = 0;
	len = write_image();
	ck_assert_int_eq(bzimage_kernel_version(image, len, release, sizeof(release)), -ENOENT);
	ck_assert_int_eq(bzimage_kernel_version(image, 100, release, sizeof(release)), -ENOENT);
}
END_TEST

START_TEST(test_accepted)
{
	ck_assert_int_eq(parse(), 0);
	ck_assert_uint_eq(info.protocol, 0x020f);
	ck_assert_uint_eq(info.setup_size, SETUP_SIZE);
	ck_assert_uint_eq(info.kernel_size, KERNEL_SIZE);
	ck_assert_uint_eq(info.init_size, 0x400000);
	ck_assert_uint_eq(info.alignment, 0x200000);
	ck_assert_uint_eq(info.cmdline_size, 2047);
	ck_assert_uint_eq(info.initrd_max, 0x7fffffff);
	ck_assert_int_ne(info.relocatable, 0);
	ck_assert_uint_eq(info.pref_address, 0x1000000);
}
END_TEST

START_TEST(test_setup_sects)
{
	hdr.setup_sects = 0; /* means 4 */
	ck_assert_int_eq(parse(), 0);
	ck_assert_uint_eq(info.setup_size, 5 * 512);
	ck_assert_uint_eq(info.kernel_size, IMAGE_SIZE - 5 * 512);

	hdr.setup_sects = 1;
	ck_assert_int_eq(parse(), 0);
	ck_assert_uint_eq(info.setup_size, 1024);
	ck_assert_uint_eq(info.kernel_size, IMAGE_SIZE - 1024);
}
END_TEST

START_TEST(test_no_magic)
{
	hdr.boot_flag = 0;
	ck_assert_int_lt(parse(), 0);
	ck_assert_str_ne(err, "");

	default_header();
	hdr.header = 0x12345678;
	memset(err, 0, sizeof(err));
	ck_assert_int_lt(parse(), 0);
	ck_assert_str_ne(err, "");

	/* a random file: all zeroes */
	memset(image, 0, sizeof(image));
	memset(err, 0, sizeof(err));
	ck_assert_int_lt(parse_len(sizeof(image)), 0);
	ck_assert_str_ne(err, "");
}
END_TEST

START_TEST(test_too_short)
{
	write_image();
	ck_assert_int_lt(parse_len(0x100), 0);
	ck_assert_str_ne(err, "");
	memset(err, 0, sizeof(err));
	ck_assert_int_lt(parse_len(HDR_OFFSET + sizeof(hdr) - 1), 0);
	ck_assert_str_ne(err, "");
	ck_assert_int_lt(parse_len(0), 0);
}
END_TEST

START_TEST(test_old_protocol)
{
	hdr.version = 0x0205;
	ck_assert_int_lt(parse(), 0);
	ck_assert_err_has("2.05");

	/* 2.06 is the oldest accepted; before 2.12 there are no xloadflags to check */
	hdr.version = 0x0206;
	hdr.xloadflags = 0;
	hdr.init_size = 0; /* no such field before 2.10 */
	ck_assert_int_eq(parse(), 0);
	ck_assert_uint_eq(info.protocol, 0x0206);
	ck_assert_uint_ge(info.init_size, info.kernel_size);
	ck_assert_uint_eq(info.pref_address, 0); /* no such field before 2.10 either */

	hdr.version = 0x020b;
	hdr.init_size = 0x400000;
	ck_assert_int_eq(parse(), 0);
	ck_assert_uint_eq(info.init_size, 0x400000);
}
END_TEST

START_TEST(test_loaded_low)
{
	hdr.loadflags = 0;
	ck_assert_int_lt(parse(), 0);
	ck_assert_str_ne(err, "");
}
END_TEST

START_TEST(test_no_64bit_entry)
{
	hdr.version = 0x020c;
	hdr.xloadflags = XLF_CAN_BE_LOADED_ABOVE_4G;
	ck_assert_int_lt(parse(), 0);
	ck_assert_err_has("64-bit");

	hdr.xloadflags = XLF_KERNEL_64;
	ck_assert_int_eq(parse(), 0);
}
END_TEST

START_TEST(test_truncated_after_setup)
{
	write_image();
	ck_assert_int_lt(parse_len(SETUP_SIZE), 0);
	ck_assert_err_has("truncated");

	hdr.setup_sects = 30; /* setup claims more than the whole file */
	ck_assert_int_lt(parse(), 0);
	ck_assert_str_ne(err, "");

	default_header();
	write_image();
	ck_assert_int_eq(parse_len(SETUP_SIZE + 1), 0);
	ck_assert_uint_eq(info.kernel_size, 1);
}
END_TEST

START_TEST(test_alignment)
{
	hdr.kernel_alignment = 0x300000;
	ck_assert_int_lt(parse(), 0);
	ck_assert_err_has("kernel_alignment");

	hdr.kernel_alignment = 0;
	memset(err, 0, sizeof(err));
	ck_assert_int_lt(parse(), 0);
	ck_assert_str_ne(err, "");

	hdr.kernel_alignment = 0x1000;
	ck_assert_int_eq(parse(), 0);
	ck_assert_uint_eq(info.alignment, 0x1000);

	/* a kernel that is not relocatable never uses the field */
	hdr.relocatable_kernel = 0;
	hdr.kernel_alignment = 0x300000;
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(info.relocatable, 0);
}
END_TEST

START_TEST(test_init_size_too_small)
{
	hdr.init_size = KERNEL_SIZE - 1;
	ck_assert_int_lt(parse(), 0);
	ck_assert_str_ne(err, "");

	hdr.init_size = KERNEL_SIZE;
	ck_assert_int_eq(parse(), 0);
}
END_TEST

/* the loader computes pref_address + init_size; a header must not make it wrap to a small end */
START_TEST(test_unpack_end_overflow)
{
	hdr.pref_address = UINT64_MAX - 0xfff;
	hdr.init_size = 0x400000;
	ck_assert_int_eq(parse(), -EINVAL);
	ck_assert_err_has("pref_address + init_size");

	hdr.init_size = 0x1000; /* one past the last address */
	ck_assert_int_eq(parse(), -EINVAL);

	hdr.pref_address = UINT64_MAX - 0x400000;
	hdr.init_size = 0x400000; /* ends exactly at the top: no wrap */
	ck_assert_int_eq(parse(), 0);
	ck_assert_uint_eq(info.pref_address + info.init_size, UINT64_MAX);
}
END_TEST

static struct boot_params zp;

static const struct boot_e820_entry test_e820[] = {
	{ .addr = 0, .size = 0x9fc00, .type = 1 },
	{ .addr = 0x9fc00, .size = 0x400, .type = 2 },
	{ .addr = 0xe0000, .size = 0x20000, .type = 2 },
	{ .addr = 0x100000, .size = 0x3f00000, .type = 1 },
};

static int build(const struct zero_page_config *cfg)
{
	memset(&zp, 0xcc, sizeof(zp)); /* garbage that must not survive */
	return bzimage_build_zero_page(&zp, image, cfg);
}

START_TEST(test_zero_page)
{
	struct zero_page_config cfg = {
		.cmdline_gpa = 0x20000,
		.initrd_gpa = 0x3c00000,
		.initrd_size = 0x123456,
		.rsdp_gpa = 0xe0000,
		.e820 = test_e820,
		.e820_count = 4,
	};

	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(build(&cfg), 0);

	ck_assert_uint_eq(zp.hdr.type_of_loader, 0xff);
	ck_assert_uint_ne(zp.hdr.loadflags & CAN_USE_HEAP, 0);
	ck_assert_uint_ne(zp.hdr.loadflags & LOADED_HIGH, 0);
	ck_assert_uint_ne(zp.hdr.heap_end_ptr, 0);
	ck_assert_uint_eq(zp.hdr.vid_mode, 0xffff);
	ck_assert_uint_eq(zp.hdr.cmd_line_ptr, 0x20000);
	ck_assert_uint_eq(zp.ext_cmd_line_ptr, 0);
	ck_assert_uint_eq(zp.hdr.ramdisk_image, 0x3c00000);
	ck_assert_uint_eq(zp.hdr.ramdisk_size, 0x123456);
	ck_assert_uint_eq(zp.ext_ramdisk_image, 0);
	ck_assert_uint_eq(zp.ext_ramdisk_size, 0);
	ck_assert_uint_eq(zp.acpi_rsdp_addr, 0xe0000);

	ck_assert_uint_eq(zp.e820_entries, 4);
	for (unsigned int i = 0; i < 4; i++) {
		ck_assert_uint_eq(zp.e820_table[i].addr, test_e820[i].addr);
		ck_assert_uint_eq(zp.e820_table[i].size, test_e820[i].size);
		ck_assert_uint_eq(zp.e820_table[i].type, test_e820[i].type);
	}
	ck_assert_uint_eq(zp.e820_table[4].size, 0);

	/* outside the header and the fields above, the page starts zeroed */
	ck_assert_uint_eq(zp.screen_info.orig_video_isVGA, 0);
	ck_assert_uint_eq(zp.sentinel, 0);
	ck_assert_uint_eq(zp.hdr.setup_data, 0);
}
END_TEST

/* Found by fuzz_bzimage: an image's own initrd and setup_data fields must not leak. */
START_TEST(test_zero_page_loader_fields_without_initrd)
{
	struct zero_page_config cfg = { .cmdline_gpa = 0x20000,
					.e820 = test_e820,
					.e820_count = 4 };

	hdr.ramdisk_image = 0xfe62e960;
	hdr.ramdisk_size = 0x1000;
	hdr.setup_data = 0x12345678;
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(build(&cfg), 0);
	ck_assert_uint_eq(zp.hdr.ramdisk_image, 0);
	ck_assert_uint_eq(zp.hdr.ramdisk_size, 0);
	ck_assert_uint_eq(zp.ext_ramdisk_image, 0);
	ck_assert_uint_eq(zp.ext_ramdisk_size, 0);
	ck_assert_uint_eq(zp.hdr.setup_data, 0);
}
END_TEST

START_TEST(test_zero_page_copies_header)
{
	struct zero_page_config cfg = { .cmdline_gpa = 0x20000,
					.e820 = test_e820,
					.e820_count = 1 };

	hdr.root_flags = 1;
	hdr.syssize = 0x1234;
	hdr.kernel_version = 0x3e0;
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(build(&cfg), 0);

	ck_assert_uint_eq(zp.hdr.setup_sects, SETUP_SECTS);
	ck_assert_uint_eq(zp.hdr.root_flags, 1);
	ck_assert_uint_eq(zp.hdr.syssize, 0x1234);
	ck_assert_uint_eq(zp.hdr.boot_flag, 0xaa55);
	ck_assert_uint_eq(zp.hdr.header, HDRS_MAGIC);
	ck_assert_uint_eq(zp.hdr.version, 0x020f);
	ck_assert_uint_eq(zp.hdr.kernel_version, 0x3e0);
	ck_assert_uint_eq(zp.hdr.initrd_addr_max, 0x7fffffff);
	ck_assert_uint_eq(zp.hdr.kernel_alignment, 0x200000);
	ck_assert_uint_eq(zp.hdr.relocatable_kernel, 1);
	ck_assert_uint_eq(zp.hdr.min_alignment, 21);
	ck_assert_uint_eq(zp.hdr.xloadflags, XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G);
	ck_assert_uint_eq(zp.hdr.cmdline_size, 2047);
	ck_assert_uint_eq(zp.hdr.pref_address, 0x1000000);
	ck_assert_uint_eq(zp.hdr.init_size, 0x400000);
	ck_assert_uint_eq(zp.hdr.handover_offset, 0x190);
	/* no initrd: nothing claims one */
	ck_assert_uint_eq(zp.hdr.ramdisk_image, 0);
	ck_assert_uint_eq(zp.hdr.ramdisk_size, 0);
	ck_assert_uint_eq(zp.acpi_rsdp_addr, 0);
}
END_TEST

/* The header ends at 0x202 + the byte at 0x201; what lies beyond is not header. */
START_TEST(test_zero_page_header_length)
{
	struct zero_page_config cfg = { .cmdline_gpa = 0x20000,
					.e820 = test_e820,
					.e820_count = 1 };

	hdr.jump = 0x26eb; /* header ends at 0x228, before kernel_alignment at 0x230 */
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(build(&cfg), 0);
	ck_assert_uint_eq(zp.hdr.version, 0x020f);
	ck_assert_uint_eq(zp.hdr.kernel_alignment, 0);
	ck_assert_uint_eq(zp.hdr.init_size, 0);
	ck_assert_uint_eq(zp.hdr.cmd_line_ptr, 0x20000);
}
END_TEST

START_TEST(test_zero_page_high_addresses)
{
	struct zero_page_config cfg = {
		.cmdline_gpa = 0x20000,
		.initrd_gpa = 0x123456000ull,
		.initrd_size = 0x100001000ull,
		.rsdp_gpa = 0x1000e0000ull,
		.e820 = test_e820,
		.e820_count = 4,
	};

	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(build(&cfg), 0);
	ck_assert_uint_eq(zp.hdr.ramdisk_image, 0x23456000u);
	ck_assert_uint_eq(zp.ext_ramdisk_image, 0x1);
	ck_assert_uint_eq(zp.hdr.ramdisk_size, 0x00001000u);
	ck_assert_uint_eq(zp.ext_ramdisk_size, 0x1);
	ck_assert_uint_eq(zp.acpi_rsdp_addr, 0x1000e0000ull);

	cfg.cmdline_gpa = 0x200020000ull;
	ck_assert_int_eq(build(&cfg), 0);
	ck_assert_uint_eq(zp.hdr.cmd_line_ptr, 0x20000);
	ck_assert_uint_eq(zp.ext_cmd_line_ptr, 2);
}
END_TEST

START_TEST(test_zero_page_e820_limit)
{
	static struct boot_e820_entry many[E820_MAX_ENTRIES_ZEROPAGE + 1];
	struct zero_page_config cfg = { .cmdline_gpa = 0x20000, .e820 = many };

	for (unsigned int i = 0; i < E820_MAX_ENTRIES_ZEROPAGE + 1; i++)
		many[i] = (struct boot_e820_entry){ .addr = i * 0x10000ull,
						    .size = 0x1000,
						    .type = 1 };
	ck_assert_int_eq(parse(), 0);

	cfg.e820_count = E820_MAX_ENTRIES_ZEROPAGE + 1;
	ck_assert_int_eq(bzimage_build_zero_page(&zp, image, &cfg), -EINVAL);

	cfg.e820_count = E820_MAX_ENTRIES_ZEROPAGE;
	ck_assert_int_eq(build(&cfg), 0);
	ck_assert_uint_eq(zp.e820_entries, E820_MAX_ENTRIES_ZEROPAGE);
	ck_assert_uint_eq(zp.e820_table[E820_MAX_ENTRIES_ZEROPAGE - 1].addr,
			  (E820_MAX_ENTRIES_ZEROPAGE - 1) * 0x10000ull);
}
END_TEST

/* The header written for a vmlinux goes through the same zero-page builder as a bzImage's own. */
START_TEST(test_stand_in_setup_header)
{
	uint8_t head[BZIMAGE_HEADER_BYTES] = { 0 };
	struct boot_e820_entry e820 = { .addr = 0, .size = 0x9fc00, .type = 1 };
	struct zero_page_config zcfg = { .cmdline_gpa = 0x20000,
					 .initrd_gpa = 0x7000000,
					 .initrd_size = 0x1234,
					 .rsdp_gpa = 0xe0000,
					 .e820 = &e820,
					 .e820_count = 1 };

	bzimage_stand_in_header(head, 2047, 0x7fffffff);
	ck_assert_int_eq(bzimage_build_zero_page(&zp, head, &zcfg), 0);
	ck_assert_uint_eq(zp.hdr.boot_flag, 0xaa55);
	ck_assert_uint_eq(zp.hdr.header, 0x53726448);
	ck_assert_uint_ge(zp.hdr.version, 0x020c);
	ck_assert_uint_ne(zp.hdr.loadflags & LOADED_HIGH, 0);
	ck_assert_uint_eq(zp.hdr.type_of_loader, 0xff);
	/* the last fields too: the jump must cover the whole header */
	ck_assert_uint_eq(zp.hdr.cmdline_size, 2047);
	ck_assert_uint_eq(zp.hdr.initrd_addr_max, 0x7fffffff);
	ck_assert_uint_ne(zp.hdr.xloadflags & XLF_KERNEL_64, 0);
	ck_assert_uint_eq(zp.hdr.cmd_line_ptr, 0x20000);
	ck_assert_uint_eq(zp.hdr.ramdisk_image, 0x7000000);
	ck_assert_uint_eq(zp.hdr.ramdisk_size, 0x1234);
	ck_assert_uint_eq(zp.e820_entries, 1);
	ck_assert_uint_eq(zp.acpi_rsdp_addr, 0xe0000);
	/* no bzImage fields that would send the kernel looking for things */
	ck_assert_uint_eq(zp.hdr.setup_data, 0);
	ck_assert_uint_eq(zp.hdr.kernel_version, 0);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("bzimage");
	TCase *tc = tcase_create("parse");
	TCase *zc = tcase_create("zero_page");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_accepted);
	tcase_add_test(tc, test_kernel_version);
	tcase_add_test(tc, test_setup_sects);
	tcase_add_test(tc, test_no_magic);
	tcase_add_test(tc, test_too_short);
	tcase_add_test(tc, test_old_protocol);
	tcase_add_test(tc, test_loaded_low);
	tcase_add_test(tc, test_no_64bit_entry);
	tcase_add_test(tc, test_truncated_after_setup);
	tcase_add_test(tc, test_alignment);
	tcase_add_test(tc, test_init_size_too_small);
	tcase_add_test(tc, test_unpack_end_overflow);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(zc, setup, NULL);
	tcase_add_test(zc, test_zero_page);
	tcase_add_test(zc, test_zero_page_copies_header);
	tcase_add_test(zc, test_zero_page_header_length);
	tcase_add_test(zc, test_zero_page_high_addresses);
	tcase_add_test(zc, test_zero_page_e820_limit);
	tcase_add_test(zc, test_zero_page_loader_fields_without_initrd);
	tcase_add_test(zc, test_stand_in_setup_header);
	suite_add_tcase(s, zc);
	return s;
}
