/* SPDX-License-Identifier: MIT */
/* vmlinux (ELF) validation. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "check_main.h"
#include "elf_image.h"
#include "vmm/x86/elf.h"

#define MIN_PADDR 0x100000

static uint8_t image[TEST_ELF_SIZE];
static struct elf_info info;
static char err[256];
static Elf64_Ehdr *eh;

static void setup(void)
{
	eh = test_elf_build(image, sizeof(image), TEST_ELF_ENTRY, test_elf_vmlinux, TEST_ELF_NSEGS);
	memset(&info, 0xa5, sizeof(info));
	memset(err, 0, sizeof(err));
}

static int parse(void)
{
	return elf_parse(image, ELF_HEADER_BYTES, sizeof(image), MIN_PADDR, &info, err,
			 sizeof(err));
}

#define ck_assert_rejected(ret, text)                                                              \
	do {                                                                                       \
		ck_assert_int_eq(parse(), (ret));                                                  \
		ck_assert_msg(strstr(err, (text)) != NULL, "error \"%s\" lacks \"%s\"", err,       \
			      (text));                                                             \
	} while (0)

START_TEST(test_vmlinux_accepted)
{
	ck_assert_msg(parse() == 0, "rejected: %s", err);
	ck_assert_uint_eq(info.entry, TEST_ELF_ENTRY);
	/* the note is not loaded; the four PT_LOADs are, in file order */
	ck_assert_uint_eq(info.nsegments, 4);
	for (unsigned int i = 0; i < 4; i++) {
		ck_assert_uint_eq(info.seg[i].offset, test_elf_vmlinux[i].offset);
		ck_assert_uint_eq(info.seg[i].filesz, test_elf_vmlinux[i].filesz);
		ck_assert_uint_eq(info.seg[i].paddr, test_elf_vmlinux[i].paddr);
		ck_assert_uint_eq(info.seg[i].memsz, test_elf_vmlinux[i].memsz);
	}
	ck_assert_uint_eq(info.end, 0x1305000); /* the .bss counts */
	ck_assert(elf_is_elf(image, sizeof(image)));
}
END_TEST

START_TEST(test_not_elf)
{
	static const uint8_t text[] = "#!/bin/sh\necho not a kernel\n";

	ck_assert(!elf_is_elf(text, sizeof(text)));
	ck_assert(!elf_is_elf(image, 3)); /* the magic cut short */
	ck_assert_int_eq(
		elf_parse(text, sizeof(text), sizeof(text), MIN_PADDR, &info, err, sizeof(err)),
		-ENOEXEC);
	/* the magic, then the file ends: the length given wins over the buffer's */
	ck_assert_int_eq(elf_parse(image, sizeof(image), 16, MIN_PADDR, &info, err, sizeof(err)),
			 -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(err, "too short"));
}
END_TEST

START_TEST(test_wrong_kind_of_elf)
{
	eh->e_ident[EI_CLASS] = ELFCLASS32;
	ck_assert_rejected(-ENOEXEC, "x86-64");
	setup();
	eh->e_machine = EM_AARCH64;
	ck_assert_rejected(-ENOEXEC, "x86-64");
	setup();
	eh->e_ident[EI_DATA] = ELFDATA2MSB;
	ck_assert_rejected(-ENOEXEC, "little-endian");
	setup();
	eh->e_type = ET_DYN; /* a shared object or PIE program is not a kernel */
	ck_assert_rejected(-ENOEXEC, "not an executable");
	setup();
	eh->e_version = 2;
	ck_assert_rejected(-ENOEXEC, "version");
}
END_TEST

START_TEST(test_program_header_table)
{
	eh->e_phnum = 0;
	ck_assert_rejected(-EINVAL, "program header");
	setup();
	eh->e_phentsize = 32;
	ck_assert_rejected(-EINVAL, "program header");
	setup();
	eh->e_phnum = 65;
	ck_assert_rejected(-EINVAL, "program header");
	setup();
	eh->e_phoff = UINT64_MAX - 8; /* wraps when the table's size is added */
	ck_assert_rejected(-EINVAL, "past the file's end");
	setup();
	/* in the file, but beyond what the loader reads before parsing */
	eh->e_phoff = ELF_HEADER_BYTES;
	ck_assert_rejected(-EINVAL, "first 4 KiB");
	/* and the loader's buffer may be shorter than the file */
	setup();
	ck_assert_int_eq(elf_parse(image, 100, sizeof(image), MIN_PADDR, &info, err, sizeof(err)),
			 -EINVAL);
}
END_TEST

START_TEST(test_segment_outside_file)
{
	test_elf_phdr(image, 3)->p_filesz = 0x1001; /* one byte past the end */
	test_elf_phdr(image, 3)->p_memsz = 0x5000;
	ck_assert_rejected(-EINVAL, "past the file's end");
	setup();
	test_elf_phdr(image, 1)->p_offset = UINT64_MAX - 0x10; /* wraps */
	ck_assert_rejected(-EINVAL, "past the file's end");
}
END_TEST

START_TEST(test_segment_sizes_and_addresses)
{
	test_elf_phdr(image, 1)->p_memsz = 0x800; /* less than its file bytes */
	ck_assert_rejected(-EINVAL, "more bytes in the file");
	setup();
	test_elf_phdr(image, 3)->p_paddr = UINT64_MAX - 0x1000;
	ck_assert_rejected(-EINVAL, "wraps");
	setup();
	/* over the zero page, page tables and command line the VMM writes below 1 MiB */
	test_elf_phdr(image, 2)->p_paddr = 0x7000;
	ck_assert_rejected(-EINVAL, "0x7000");
	setup();
	/* the per-CPU segment moved into the data segment */
	test_elf_phdr(image, 2)->p_paddr = 0x1200800;
	ck_assert_rejected(-EINVAL, "overlap");
	setup();
	/* an overlap in the .bss alone counts too */
	test_elf_phdr(image, 1)->p_paddr = 0x1302000;
	ck_assert_rejected(-EINVAL, "overlap");
}
END_TEST

START_TEST(test_entry_point)
{
	eh->e_entry = 0x2000000;
	ck_assert_rejected(-EINVAL, "entry point");
	setup();
	eh->e_entry = 0x1301000; /* in the last segment's .bss: zeroes, not code */
	ck_assert_rejected(-EINVAL, "entry point");
	setup();
	eh->e_entry = 0x1300fff; /* its last file byte */
	ck_assert_int_eq(parse(), 0);
	/*
	 * Found by fuzz_kernel (corpus/kernel/entry-in-empty-segment): the entry in the file
	 * bytes of a PT_LOAD that claims no memory, so is never loaded.
	 */
	setup();
	eh->e_entry = 0x5000000;
	test_elf_phdr(image, 4)->p_type = PT_LOAD;
	test_elf_phdr(image, 4)->p_paddr = 0x5000000;
	test_elf_phdr(image, 4)->p_memsz = 0;
	ck_assert_rejected(-EINVAL, "more bytes in the file");
	test_elf_phdr(image, 4)->p_filesz = 0;
	ck_assert_rejected(-EINVAL, "entry point");
}
END_TEST

START_TEST(test_what_is_loaded)
{
	struct test_seg segs[ELF_MAX_SEGMENTS + 1];

	/* a PT_LOAD of no size takes no room and is not counted */
	test_elf_phdr(image, 2)->p_memsz = 0;
	test_elf_phdr(image, 2)->p_filesz = 0;
	ck_assert_int_eq(parse(), 0);
	ck_assert_uint_eq(info.nsegments, 3);

	/* only a note */
	eh = test_elf_build(image, sizeof(image), 0x1000800, &test_elf_vmlinux[4], 1);
	ck_assert_rejected(-EINVAL, "nothing to load");

	/* more segments than the loader keeps: refused, never written past the table */
	for (unsigned int i = 0; i < ELF_MAX_SEGMENTS + 1; i++)
		segs[i] = (struct test_seg){ PT_LOAD, 0x1000, 0x10, 0x1000000 + i * 0x1000, 0x10 };
	eh = test_elf_build(image, sizeof(image), TEST_ELF_ENTRY, segs, ELF_MAX_SEGMENTS + 1);
	ck_assert_rejected(-EINVAL, "too many");
	eh->e_phnum = ELF_MAX_SEGMENTS;
	ck_assert_int_eq(parse(), 0);
	ck_assert_uint_eq(info.nsegments, ELF_MAX_SEGMENTS);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("elf");
	TCase *tc = tcase_create("parse");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_vmlinux_accepted);
	tcase_add_test(tc, test_not_elf);
	tcase_add_test(tc, test_wrong_kind_of_elf);
	tcase_add_test(tc, test_program_header_table);
	tcase_add_test(tc, test_segment_outside_file);
	tcase_add_test(tc, test_segment_sizes_and_addresses);
	tcase_add_test(tc, test_entry_point);
	tcase_add_test(tc, test_what_is_loaded);
	suite_add_tcase(s, tc);
	return s;
}
