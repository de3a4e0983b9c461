/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the bzImage loader's header code (vmm/bzimage.c): the input is the
 * kernel image file, which the user names but whoever built it controls. bzimage_parse()
 * must accept or reject it without reading outside it; when it accepts, the info must be
 * consistent with the header, and bzimage_build_zero_page() must produce a zero page with
 * the fields it promises. The e820 table's length comes from the input's last byte and may
 * exceed E820_MAX_ENTRIES_ZEROPAGE (then -EINVAL and nothing else is checked).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "vmm/bzimage.h"

#define E820_FUZZ_MAX (E820_MAX_ENTRIES_ZEROPAGE + 2)

static void check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

static bool pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct boot_params zp;
	static struct boot_e820_entry e820[E820_FUZZ_MAX];
	struct setup_header hdr;
	struct bzimage_info info;
	struct zero_page_config cfg;
	char err[128];
	unsigned int count, sects;
	int ret;

	memset(err, 'X', sizeof(err));
	ret = bzimage_parse(data, size, &info, err, sizeof(err));
	if (ret) {
		check(ret == -EINVAL || ret == -ENOEXEC);
		check(memchr(err, 0, sizeof(err)) != NULL && err[0] != 0);
		return 0;
	}

	/* Accepted: it is at least as long as the header, and the info agrees with it. */
	check(size >= 0x1f1 + sizeof(hdr));
	memcpy(&hdr, data + 0x1f1, sizeof(hdr));
	check(hdr.boot_flag == 0xaa55 && hdr.header == 0x53726448);
	check(info.protocol == hdr.version && info.protocol >= BZIMAGE_MIN_PROTOCOL);
	check(hdr.loadflags & LOADED_HIGH);
	sects = hdr.setup_sects ? hdr.setup_sects : 4;
	check(info.setup_size == (sects + 1) * 512u);
	check(info.setup_size < size && info.setup_size + info.kernel_size == size);
	check(info.init_size >= info.kernel_size);
	check(!info.relocatable || pow2(info.alignment));
	check(info.cmdline_size == hdr.cmdline_size);
	check(info.initrd_max == hdr.initrd_addr_max);

	/* The loader's side of the zero page, with values that have high bits set. */
	count = data[size - 1] % (E820_FUZZ_MAX + 1);
	for (unsigned int i = 0; i < count; i++) {
		e820[i].addr = (uint64_t)i << 32 | 0x1000u * i;
		e820[i].size = 0x1000u + i;
		e820[i].type = 1 + i % 5;
	}
	cfg = (struct zero_page_config){
		.cmdline_gpa = 0x20000 | (uint64_t)(data[size - 1] & 1) << 32,
		.initrd_gpa = (data[size - 1] & 2) ? 0x1234567000ull : 0,
		.initrd_size = (data[size - 1] & 2) ? 0x100000001ull : 0,
		.rsdp_gpa = 0xe0000,
		.e820 = e820,
		.e820_count = count,
	};
	memset(&zp, 0xa5, sizeof(zp));
	ret = bzimage_build_zero_page(&zp, data, &cfg);
	if (count > E820_MAX_ENTRIES_ZEROPAGE) {
		check(ret == -EINVAL);
		return 0;
	}
	check(ret == 0);
	check(zp.hdr.setup_sects == hdr.setup_sects);
	check(zp.hdr.boot_flag == 0xaa55);
	/* the header is copied up to the end of the jump at 0x200 (0x202 + byte 0x201) */
	if (0x202u + data[0x201] >= 0x208u) {
		check(zp.hdr.header == 0x53726448);
		check(zp.hdr.version == hdr.version);
	}
	check(zp.hdr.type_of_loader == 0xff);
	check(zp.hdr.vid_mode == 0xffff);
	check(zp.hdr.loadflags & CAN_USE_HEAP);
	if (0x202u + data[0x201] > 0x211u)
		check(zp.hdr.loadflags & LOADED_HIGH);
	check(zp.hdr.cmd_line_ptr == (uint32_t)cfg.cmdline_gpa);
	check(zp.ext_cmd_line_ptr == (uint32_t)(cfg.cmdline_gpa >> 32));
	/* the loader's own fields, never the image's (tests/fuzz/corpus/bzimage/stale-*) */
	check(zp.hdr.ramdisk_image == (cfg.initrd_size ? (uint32_t)cfg.initrd_gpa : 0));
	check(zp.hdr.ramdisk_size == (uint32_t)cfg.initrd_size);
	check(zp.ext_ramdisk_image == (cfg.initrd_size ? (uint32_t)(cfg.initrd_gpa >> 32) : 0));
	check(zp.ext_ramdisk_size == (uint32_t)(cfg.initrd_size >> 32));
	check(zp.hdr.setup_data == 0);
	check(zp.acpi_rsdp_addr == cfg.rsdp_gpa);
	check(zp.e820_entries == count);
	check(memcmp(zp.e820_table, e820, count * sizeof(e820[0])) == 0);
	/* memset first: what the loader does not fill must be zero, e.g. the screen info */
	for (size_t i = 0; i < sizeof(zp.screen_info); i++)
		check(((const uint8_t *)&zp.screen_info)[i] == 0);
	for (unsigned int i = count; i < E820_MAX_ENTRIES_ZEROPAGE; i++)
		check(zp.e820_table[i].addr == 0 && zp.e820_table[i].size == 0 &&
		      zp.e820_table[i].type == 0);
	return 0;
}
