/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the kernel loader's format code: the input is the kernel file,
 * which the user names but whoever built it controls. Like boot_load_linux(), it is taken
 * as an ELF vmlinux when it starts with the ELF magic and as a bzImage otherwise.
 *
 * bzImage (vmm/x86/bzimage.c): bzimage_parse() must accept or reject it without reading
 * outside it; when it accepts, the info must be consistent with the header, and
 * bzimage_build_zero_page() must produce a zero page with the fields it promises. The e820
 * table's length comes from the input's last byte and may exceed E820_MAX_ENTRIES_ZEROPAGE
 * (then -EINVAL and nothing else is checked).
 *
 * vmlinux (vmm/x86/elf.c): elf_parse() sees the first ELF_HEADER_BYTES of it, as the loader
 * does, and the whole length; every segment it accepts must lie inside the file, above
 * the VMM's boot data and apart from the others, with the entry point in file bytes.
 * kernel_release_from_banner() searches the whole input and may only return a banner's release.
 * An ELF input is also a kernel module of a build tree (vmm/run/kernel_tree.c):
 * kernel_tree_modinfo_depends() may only return a NUL-terminated string from the input.
 *
 * Built with -DKERNEL_FUZZ_MAKE_SEEDS (and without -fsanitize=fuzzer) this file is instead
 * a program that writes the vmlinux seeds into the directory named on its command line.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "vmm/kernel_release.h"
#include "vmm/run/kernel_tree.h"
#include "vmm/x86/bzimage.h"
#include "vmm/x86/elf.h"

#define MIN_PADDR 0x100000 /* the loader's: everything below is the VMM's boot data */

#ifndef KERNEL_FUZZ_MAKE_SEEDS

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

static void fuzz_bzimage(const uint8_t *data, size_t size)
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
		return;
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
	check(info.pref_address + info.init_size >= info.pref_address); /* the loader's sum */
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
		return;
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
}

static void fuzz_elf(const uint8_t *data, size_t size)
{
	static struct elf_info info;
	char err[128], release[64];
	bool entry_in_file = false;
	size_t avail = size < ELF_HEADER_BYTES ? size : ELF_HEADER_BYTES;
	int ret;

	memset(err, 'X', sizeof(err));
	ret = elf_parse(data, avail, size, MIN_PADDR, &info, err, sizeof(err));
	if (ret) {
		check(ret == -EINVAL || ret == -ENOEXEC);
		check(memchr(err, 0, sizeof(err)) != NULL && err[0] != 0);
	} else {
		check(info.nsegments >= 1 && info.nsegments <= ELF_MAX_SEGMENTS);
		for (unsigned int i = 0; i < info.nsegments; i++) {
			const struct elf_segment *s = &info.seg[i];

			check(s->filesz <= s->memsz && s->memsz > 0);
			check(s->offset <= size && s->filesz <= size - s->offset);
			check(s->paddr >= MIN_PADDR);
			check(s->paddr + s->memsz > s->paddr && s->paddr + s->memsz <= info.end);
			for (unsigned int j = 0; j < i; j++)
				check(s->paddr >= info.seg[j].paddr + info.seg[j].memsz ||
				      info.seg[j].paddr >= s->paddr + s->memsz);
			if (info.entry >= s->paddr && info.entry - s->paddr < s->filesz)
				entry_in_file = true;
		}
		check(entry_in_file);
	}

	memset(release, 'X', sizeof(release));
	if (kernel_release_from_banner(data, size, release, sizeof(release)) == 0) {
		size_t n = strnlen(release, sizeof(release));

		check(n > 0 && n < sizeof(release));
		check(release[0] >= '0' && release[0] <= '9');
		check(memmem(data, size, release, n) != NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (elf_is_elf(data, size)) {
		char deps[64];
		int ret;

		fuzz_elf(data, size);
		ret = kernel_tree_modinfo_depends(data, size, deps, sizeof(deps));
		if (ret == 0 &&
		    (strlen(deps) >= sizeof(deps) || !memmem(data, size, deps, strlen(deps))))
			__builtin_trap();
	} else
		fuzz_bzimage(data, size);
	return 0;
}

#else /* KERNEL_FUZZ_MAKE_SEEDS: write the vmlinux seeds */

#include <stdio.h>

#include "tests/fuzz/seed.h"
#include "tests/unit/vmm/x86/elf_image.h"

static uint8_t buf[TEST_ELF_SIZE + 128];

int main(int argc, char **argv)
{
	static const char banner[] = "Linux version 6.1.0-56-cloud-amd64 (debian-kernel@x) #1";
	int bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	/* the unit tests' vmlinux, with a release banner in its text */
	test_elf_build(buf, TEST_ELF_SIZE, TEST_ELF_ENTRY, test_elf_vmlinux, TEST_ELF_NSEGS);
	memcpy(buf + 0x2000, banner, sizeof(banner));
	bad |= seed_save(buf, TEST_ELF_SIZE, argv[1], "vmlinux-like");
	/* one text segment whose .bss runs past its file bytes */
	test_elf_build(buf, 0x1800, TEST_ELF_ENTRY,
		       &(struct test_seg){ PT_LOAD, 0x1000, 0x800, 0x1000000, 0x40000 }, 1);
	bad |= seed_save(buf, 0x1800, argv[1], "one-segment-bss");
	/* refused: two segments on top of each other */
	test_elf_build(buf, 0x1800, TEST_ELF_ENTRY,
		       (const struct test_seg[]){ { PT_LOAD, 0x1000, 0x400, 0x1000000, 0x400 },
						  { PT_LOAD, 0x1400, 0x400, 0x1000200, 0x400 } },
		       2);
	bad |= seed_save(buf, 0x1800, argv[1], "overlap");
	/* refused: the entry in zeroed memory */
	test_elf_build(buf, 0x1800, 0x1000900,
		       &(struct test_seg){ PT_LOAD, 0x1000, 0x800, 0x1000000, 0x1000 }, 1);
	bad |= seed_save(buf, 0x1800, argv[1], "entry-in-bss");
	return bad;
}

#endif
