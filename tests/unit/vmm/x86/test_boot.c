/* SPDX-License-Identifier: MIT */
/*
 * Loading a (synthetic) bzImage or vmlinux, initrd and command line into guest memory, and the GDT
 * and identity-mapped page tables for a 64-bit start.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "elf_image.h"
#include "devices/platform.h"
#include "vmm/x86/boot.h"
#include "vmm/x86/bzimage.h"

#define MiB (1ull << 20)
#define HDR_OFFSET 0x1f1
#define SETUP_SECTS 4
#define SETUP_SIZE ((SETUP_SECTS + 1) * 512)
#define KERNEL_SIZE (12 * 1024 + 123)
#define IMAGE_SIZE (SETUP_SIZE + KERNEL_SIZE)
#define CMDLINE_SIZE 255
#define E820_RAM 1
#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_PS 0x80ull
#define PTE_ADDR 0x000ffffffffff000ull

static char dir[256];
static char kernel_path[300], initrd_path[300];
static uint8_t image[IMAGE_SIZE];
static struct setup_header hdr;
static struct guest_mem mem;
static struct boot_entry entry;
static struct boot_linux_config cfg;
static char err[512];

/* A header like a current x86-64 kernel's (protocol 2.15), with a small init_size. */
static void default_header(void)
{
	memset(&hdr, 0, sizeof(hdr));
	hdr.setup_sects = SETUP_SECTS;
	hdr.boot_flag = 0xaa55;
	hdr.jump = 0x6aeb;
	hdr.header = 0x53726448; /* "HdrS" */
	hdr.version = 0x020f;
	hdr.loadflags = LOADED_HIGH;
	hdr.initrd_addr_max = 0x7fffffff;
	hdr.kernel_alignment = 0x200000;
	hdr.relocatable_kernel = 1;
	hdr.xloadflags = XLF_KERNEL_64;
	hdr.cmdline_size = CMDLINE_SIZE;
	hdr.pref_address = 0x1000000;
	hdr.init_size = 4 * MiB;
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
}

/* Write hdr, a setup area and a patterned protected-mode part to kernel_path. */
static void write_kernel(void)
{
	memset(image, 0, sizeof(image));
	memcpy(image + HDR_OFFSET, &hdr, sizeof(hdr));
	for (size_t i = SETUP_SIZE; i < IMAGE_SIZE; i++)
		image[i] = (uint8_t)(i * 13 + 1);
	write_file(kernel_path, image, sizeof(image));
}

static uint8_t initrd_byte(size_t i)
{
	return (uint8_t)(i ^ (i >> 8) ^ 0x5a);
}

/* An initrd of len bytes whose contents can be checked byte by byte. */
static void write_initrd(size_t len)
{
	uint8_t *data = malloc(len);

	ck_assert_ptr_nonnull(data);
	for (size_t i = 0; i < len; i++)
		data[i] = initrd_byte(i);
	write_file(initrd_path, data, len);
	free(data);
	cfg.initrd_path = initrd_path;
}

/*
 * The temporary directory is made and removed by the parent process, once per test case:
 * a failed check ends a test's own process at once, without its teardown.
 */
static void make_dir(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/test_boot.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(kernel_path, sizeof(kernel_path), "%s/bzImage", dir);
	snprintf(initrd_path, sizeof(initrd_path), "%s/initrd", dir);
}

static void remove_dir(void)
{
	unlink(kernel_path);
	unlink(initrd_path);
	rmdir(dir);
}

static void setup(void)
{
	unlink(initrd_path);
	default_header();
	write_kernel();
	memset(&cfg, 0, sizeof(cfg));
	cfg.kernel_path = kernel_path;
	cfg.cmdline = "console=ttyS0 reboot=k panic=-1";
	cfg.rsdp_gpa = PLATFORM_ACPI_START;
	memset(&entry, 0xa5, sizeof(entry));
	memset(err, 0, sizeof(err));
	memset(&mem, 0, sizeof(mem));
}

static void teardown(void)
{
	guest_mem_free(&mem);
}

static int load(uint64_t mem_size)
{
	guest_mem_free(&mem);
	ck_assert_int_eq(guest_mem_alloc(&mem, mem_size), 0);
	return boot_load_linux(&mem, &cfg, &entry, err, sizeof(err));
}

static struct boot_params *zero_page(void)
{
	struct boot_params *zp = guest_mem_ptr(&mem, PLATFORM_ZERO_PAGE_ADDR, sizeof(*zp));

	ck_assert_ptr_nonnull(zp);
	return zp;
}

static uint64_t initrd_gpa(void)
{
	const struct boot_params *zp = zero_page();

	return zp->hdr.ramdisk_image | (uint64_t)zp->ext_ramdisk_image << 32;
}

static uint64_t initrd_size(void)
{
	const struct boot_params *zp = zero_page();

	return zp->hdr.ramdisk_size | (uint64_t)zp->ext_ramdisk_size << 32;
}

/* Where the kernel moves itself to decompress (Documentation/arch/x86/boot.rst, init_size). */
static uint64_t runtime_start(void)
{
	uint64_t load = PLATFORM_KERNEL_ADDR;

	if (!hdr.relocatable_kernel)
		return hdr.pref_address;
	if (load < hdr.pref_address)
		load = hdr.pref_address;
	return (load + hdr.kernel_alignment - 1) & ~((uint64_t)hdr.kernel_alignment - 1);
}

#define ck_assert_err_has(text)                                                                    \
	ck_assert_msg(strstr(err, (text)) != NULL, "error \"%s\" does not mention \"%s\"", err,    \
		      (text))

START_TEST(test_kernel_cmdline_zero_page)
{
	const struct boot_params *zp;
	const char *cmdline;

	ck_assert_msg(load(64 * MiB) == 0, "load failed: %s", err);

	/* the protected-mode part, and nothing of the setup code, at 1 MiB */
	ck_assert_mem_eq(guest_mem_ptr(&mem, PLATFORM_KERNEL_ADDR, KERNEL_SIZE), image + SETUP_SIZE,
			 KERNEL_SIZE);

	cmdline = guest_mem_ptr(&mem, PLATFORM_CMDLINE_ADDR, strlen(cfg.cmdline) + 1);
	ck_assert_ptr_nonnull(cmdline);
	ck_assert_str_eq(cmdline, cfg.cmdline);

	zp = zero_page();
	ck_assert_uint_eq(zp->hdr.cmd_line_ptr, PLATFORM_CMDLINE_ADDR);
	ck_assert_uint_eq(zp->ext_cmd_line_ptr, 0);
	ck_assert_uint_eq(zp->hdr.type_of_loader, 0xff);
	ck_assert_uint_ne(zp->hdr.loadflags & CAN_USE_HEAP, 0);
	ck_assert_uint_eq(zp->hdr.version, 0x020f);
	ck_assert_uint_eq(zp->hdr.boot_flag, 0xaa55);
	ck_assert_uint_eq(zp->acpi_rsdp_addr, PLATFORM_ACPI_START);
	ck_assert_uint_eq(initrd_gpa(), 0);
	ck_assert_uint_eq(initrd_size(), 0);

	/* e820: conventional RAM from 0, RAM from 1 MiB to the end of RAM, then only reserved */
	ck_assert_uint_ge(zp->e820_entries, 2);
	ck_assert_uint_le(zp->e820_entries, E820_MAX_ENTRIES_ZEROPAGE);
	ck_assert_uint_eq(zp->e820_table[0].addr, 0);
	ck_assert_uint_eq(zp->e820_table[0].type, E820_RAM);
	ck_assert_uint_le(zp->e820_table[0].size, PLATFORM_EBDA_START);
	{
		const struct boot_e820_entry *last = NULL;
		uint64_t ram = 0;

		for (unsigned int i = 0; i < zp->e820_entries; i++)
			if (zp->e820_table[i].type == E820_RAM)
				last = &zp->e820_table[i];
		ck_assert_ptr_nonnull(last);
		ck_assert_uint_eq(last->addr, 1 * MiB);
		ck_assert_uint_eq(last->addr + last->size, 64 * MiB);
		for (unsigned int i = 0; i < zp->e820_entries; i++) {
			if (zp->e820_table[i].type == E820_RAM)
				ram += zp->e820_table[i].size;
		}
		ck_assert_uint_le(ram, 64 * MiB);
		ck_assert_uint_ge(ram, 63 * MiB);
	}

	ck_assert_uint_eq(entry.rip, 0x100200);
	ck_assert_uint_eq(entry.rsi, PLATFORM_ZERO_PAGE_ADDR);
}
END_TEST

START_TEST(test_initrd_placed)
{
	const size_t len = 1 * MiB + 123;
	const uint8_t *p;
	uint64_t gpa;

	write_initrd(len);
	ck_assert_msg(load(64 * MiB) == 0, "load failed: %s", err);
	gpa = initrd_gpa();
	ck_assert_uint_eq(initrd_size(), len);
	ck_assert_uint_eq(gpa % 4096, 0);
	ck_assert_uint_le(gpa + len - 1, hdr.initrd_addr_max);
	ck_assert_uint_le(gpa + len, 64 * MiB);
	/* clear of the kernel as loaded and as it will unpack itself */
	ck_assert_uint_ge(gpa, PLATFORM_KERNEL_ADDR + KERNEL_SIZE);
	ck_assert_uint_ge(gpa, runtime_start() + hdr.init_size);

	p = guest_mem_ptr(&mem, gpa, len);
	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < len; i++)
		if (p[i] != initrd_byte(i))
			ck_abort_msg("initrd byte %zu is 0x%02x, not 0x%02x", i, p[i],
				     initrd_byte(i));
	/* loading the initrd did not disturb the kernel */
	ck_assert_mem_eq(guest_mem_ptr(&mem, PLATFORM_KERNEL_ADDR, KERNEL_SIZE), image + SETUP_SIZE,
			 KERNEL_SIZE);
}
END_TEST

START_TEST(test_initrd_below_initrd_addr_max)
{
	const size_t len = 300 * 1024;
	uint64_t gpa;

	hdr.initrd_addr_max = 0x1ffffff; /* last byte below 32 MiB */
	write_kernel();
	write_initrd(len);
	ck_assert_msg(load(64 * MiB) == 0, "load failed: %s", err);
	gpa = initrd_gpa();
	ck_assert_uint_eq(gpa % 4096, 0);
	ck_assert_uint_le(gpa + len - 1, 0x1ffffff);
	ck_assert_uint_ge(gpa, runtime_start() + hdr.init_size);
	ck_assert_uint_eq(initrd_size(), len);
	ck_assert_uint_eq(*(uint8_t *)guest_mem_ptr(&mem, gpa + len - 1, 1), initrd_byte(len - 1));
}
END_TEST

START_TEST(test_initrd_too_large)
{
	/* a sparse 70 MiB file: more than the whole of a 64 MiB guest */
	int fd = open(initrd_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 70 * MiB), 0);
	close(fd);
	cfg.initrd_path = initrd_path;
	ck_assert_int_lt(load(64 * MiB), 0);
	ck_assert_err_has("try a larger --memory");
	ck_assert_err_has("--initrd");
}
END_TEST

/*
 * A relocatable kernel loaded below pref_address first moves itself to pref_address and
 * unpacks there, so [pref_address, pref_address + init_size) must stay free of the initrd.
 * Here: 64 MiB of RAM, pref_address 16 MiB, init_size 8 MiB, a 44 MiB initrd. It cannot fit
 * above 24 MiB, so the load must be refused.
 */
START_TEST(test_initrd_clear_of_unpacked_kernel)
{
	const size_t len = 44 * MiB;
	int ret;

	hdr.init_size = 8 * MiB;
	write_kernel();
	write_initrd(len);
	ret = load(64 * MiB);
	if (ret == 0)
		ck_abort_msg("initrd at [0x%llx, 0x%llx) overlaps where the kernel unpacks itself, "
			     "[0x%llx, 0x%llx)",
			     (unsigned long long)initrd_gpa(),
			     (unsigned long long)(initrd_gpa() + initrd_size()),
			     (unsigned long long)runtime_start(),
			     (unsigned long long)(runtime_start() + hdr.init_size));
	ck_assert_err_has("try a larger --memory");
}
END_TEST

/* The same rule decides how much RAM the kernel needs at all. */
START_TEST(test_kernel_needs_ram_from_pref_address)
{
	hdr.init_size = 8 * MiB;
	write_kernel();
	/* 16 MiB of RAM: the kernel would unpack to 16..24 MiB, beyond the end */
	ck_assert_msg(load(16 * MiB) < 0, "a kernel that unpacks at [16M, 24M) accepted in 16M");
	ck_assert_err_has("try a larger --memory");
	ck_assert_msg(load(24 * MiB) == 0, "24M refused: %s", err);

	/* a kernel that is not relocatable runs at pref_address, whatever its alignment */
	hdr.relocatable_kernel = 0;
	hdr.kernel_alignment = 0x1000;
	write_kernel();
	memset(err, 0, sizeof(err));
	ck_assert_msg(load(20 * MiB) < 0, "a kernel that runs at [16M, 24M) accepted in 20M");
	ck_assert_err_has("try a larger --memory");
	ck_assert_msg(load(24 * MiB) == 0, "24M refused: %s", err);
}
END_TEST

START_TEST(test_kernel_too_large_for_memory)
{
	hdr.init_size = 64 * MiB;
	write_kernel();
	ck_assert_int_lt(load(32 * MiB), 0);
	ck_assert_err_has("--kernel");
	ck_assert_err_has("try a larger --memory");
}
END_TEST

START_TEST(test_cmdline_length)
{
	char longest[CMDLINE_SIZE + 2];

	memset(longest, 'a', CMDLINE_SIZE);
	longest[CMDLINE_SIZE] = '\0';
	cfg.cmdline = longest;
	ck_assert_msg(load(64 * MiB) == 0, "a %d-byte command line refused: %s", CMDLINE_SIZE, err);
	ck_assert_str_eq(guest_mem_ptr(&mem, PLATFORM_CMDLINE_ADDR, CMDLINE_SIZE + 1), longest);

	longest[CMDLINE_SIZE] = 'b';
	longest[CMDLINE_SIZE + 1] = '\0';
	memset(err, 0, sizeof(err));
	ck_assert_int_eq(load(64 * MiB), -EINVAL);
	ck_assert_err_has("--cmdline");
	ck_assert_err_has("255");
}
END_TEST

START_TEST(test_bad_kernel_files)
{
	char missing[320];

	snprintf(missing, sizeof(missing), "%s/no-such-file", dir);
	cfg.kernel_path = missing;
	ck_assert_int_eq(load(64 * MiB), -ENOENT);
	ck_assert_err_has(missing);

	/* neither a bzImage nor a vmlinux: the message names the file and both formats */
	memset(image, 0x90, sizeof(image));
	write_file(kernel_path, image, sizeof(image));
	cfg.kernel_path = kernel_path;
	memset(err, 0, sizeof(err));
	ck_assert_int_lt(load(64 * MiB), 0);
	ck_assert_err_has("--kernel");
	ck_assert_err_has(kernel_path);
	ck_assert_err_has("not a bzImage");
	ck_assert_err_has("nor an ELF vmlinux");

	/* a directory is not a kernel */
	cfg.kernel_path = dir;
	memset(err, 0, sizeof(err));
	ck_assert_int_lt(load(64 * MiB), 0);
	ck_assert_err_has(dir);

	/* a missing initrd is named too */
	cfg.kernel_path = kernel_path;
	default_header();
	write_kernel();
	cfg.initrd_path = missing;
	memset(err, 0, sizeof(err));
	ck_assert_int_eq(load(64 * MiB), -ENOENT);
	ck_assert_err_has("--initrd");
	ck_assert_err_has(missing);
}
END_TEST

static uint8_t elf[TEST_ELF_SIZE];

/* The synthetic vmlinux as kernel_path, into memory full of 0xa5 (to see what is zeroed). */
static int load_vmlinux(uint64_t mem_size)
{
	write_file(kernel_path, elf, sizeof(elf));
	guest_mem_free(&mem);
	ck_assert_int_eq(guest_mem_alloc(&mem, mem_size), 0);
	memset(guest_mem_ptr(&mem, PLATFORM_KERNEL_ADDR, mem_size - PLATFORM_KERNEL_ADDR), 0xa5,
	       mem_size - PLATFORM_KERNEL_ADDR);
	return boot_load_linux(&mem, &cfg, &entry, err, sizeof(err));
}

START_TEST(test_vmlinux_segments_and_entry)
{
	const struct boot_params *zp;
	const uint8_t *p;

	test_elf_build(elf, sizeof(elf), TEST_ELF_ENTRY, test_elf_vmlinux, TEST_ELF_NSEGS);
	write_initrd(3 * 4096 + 5);
	ck_assert_msg(load_vmlinux(64 * MiB) == 0, "load failed: %s", err);

	/* each PT_LOAD's file bytes at its physical address, then zeroes up to its memsz */
	for (unsigned int i = 0; i < TEST_ELF_NSEGS; i++) {
		const struct test_seg *sg = &test_elf_vmlinux[i];

		if (sg->type != PT_LOAD)
			continue;
		p = guest_mem_ptr(&mem, sg->paddr, sg->memsz);
		ck_assert_mem_eq(p, elf + sg->offset, sg->filesz);
		for (uint64_t j = sg->filesz; j < sg->memsz; j++)
			ck_assert_uint_eq(p[j], 0);
	}
	/* the note lives inside the text segment; nothing is written where it is not */
	ck_assert_uint_eq(*(const uint8_t *)guest_mem_ptr(&mem, 0x1305000, 1), 0xa5);
	ck_assert_uint_eq(*(const uint8_t *)guest_mem_ptr(&mem, 0x1003000, 1), 0xa5);

	/* started at the ELF entry point with the zero page in RSI, as a bzImage is */
	ck_assert_uint_eq(entry.rip, TEST_ELF_ENTRY);
	ck_assert_uint_eq(entry.rsi, PLATFORM_ZERO_PAGE_ADDR);
	zp = zero_page();
	ck_assert_uint_eq(zp->hdr.boot_flag, 0xaa55);
	ck_assert_uint_eq(zp->hdr.header, 0x53726448);
	ck_assert_uint_eq(zp->hdr.cmd_line_ptr, PLATFORM_CMDLINE_ADDR);
	ck_assert_str_eq(guest_mem_ptr(&mem, PLATFORM_CMDLINE_ADDR, 1), cfg.cmdline);
	ck_assert_uint_gt(zp->e820_entries, 0);
	/* the initrd is whole, and clear of the kernel and its .bss */
	ck_assert_uint_eq(initrd_size(), 3 * 4096 + 5);
	ck_assert_uint_ge(initrd_gpa(), 0x1305000);
	ck_assert_uint_eq(*(const uint8_t *)guest_mem_ptr(&mem, initrd_gpa() + 4, 1),
			  initrd_byte(4));
}
END_TEST

START_TEST(test_vmlinux_refused)
{
	Elf64_Ehdr *eh;

	/* more than the guest has: the message says how much it needs */
	test_elf_build(elf, sizeof(elf), TEST_ELF_ENTRY, test_elf_vmlinux, TEST_ELF_NSEGS);
	test_elf_phdr(elf, 3)->p_paddr = 0x3f00000;
	test_elf_phdr(elf, 3)->p_memsz = 0x200000;
	ck_assert_int_eq(load_vmlinux(64 * MiB), -EINVAL);
	ck_assert_err_has("66 MiB");
	ck_assert_err_has("--memory");
	ck_assert_int_eq(load_vmlinux(80 * MiB), 0);

	/* a malformed one: the file and the reason */
	eh = test_elf_build(elf, sizeof(elf), TEST_ELF_ENTRY, test_elf_vmlinux, TEST_ELF_NSEGS);
	eh->e_entry = 0x5000000;
	ck_assert_int_eq(load_vmlinux(64 * MiB), -EINVAL);
	ck_assert_err_has(kernel_path);
	ck_assert_err_has("entry point");

	/* one that would write over the VMM's boot data below 1 MiB */
	eh = test_elf_build(elf, sizeof(elf), TEST_ELF_ENTRY, test_elf_vmlinux, TEST_ELF_NSEGS);
	test_elf_phdr(elf, 2)->p_paddr = PLATFORM_ZERO_PAGE_ADDR;
	ck_assert_int_eq(load_vmlinux(64 * MiB), -EINVAL);
	ck_assert_err_has("below");

	/* an ELF file that is not an x86-64 executable */
	eh = test_elf_build(elf, sizeof(elf), TEST_ELF_ENTRY, test_elf_vmlinux, TEST_ELF_NSEGS);
	eh->e_machine = EM_AARCH64;
	ck_assert_int_eq(load_vmlinux(64 * MiB), -ENOEXEC);
	ck_assert_err_has("x86-64");
}
END_TEST

START_TEST(test_flat_binary)
{
	static const uint8_t code[] = { 0xf4, 0xeb, 0xfd, 0x90, 0x42 };

	write_file(initrd_path, code, sizeof(code));
	ck_assert_int_eq(guest_mem_alloc(&mem, 8 * MiB), 0);
	ck_assert_int_eq(boot_load_flat(&mem, initrd_path, &entry, err, sizeof(err)), 0);
	ck_assert_mem_eq(guest_mem_ptr(&mem, PLATFORM_KERNEL_ADDR, sizeof(code)), code,
			 sizeof(code));
	ck_assert_uint_eq(entry.rip, PLATFORM_KERNEL_ADDR);
	ck_assert_uint_gt(entry.rsp, 0);
	ck_assert_uint_le(entry.rsp, PLATFORM_KERNEL_ADDR);

	write_file(initrd_path, code, 0);
	ck_assert_int_lt(boot_load_flat(&mem, initrd_path, &entry, err, sizeof(err)), 0);
	ck_assert_err_has("--flat");
}
END_TEST

static const uint64_t *gdt(void)
{
	const uint64_t *g = guest_mem_ptr(&mem, PLATFORM_GDT_ADDR, BOOT_GDT_ENTRIES * 8);

	ck_assert_ptr_nonnull(g);
	return g;
}

#define DESC_TYPE(d) (((d) >> 40) & 0xf)
#define DESC_S(d) (((d) >> 44) & 1)
#define DESC_DPL(d) (((d) >> 45) & 3)
#define DESC_P(d) (((d) >> 47) & 1)
#define DESC_L(d) (((d) >> 53) & 1)
#define DESC_DB(d) (((d) >> 54) & 1)
#define DESC_G(d) (((d) >> 55) & 1)

START_TEST(test_gdt)
{
	uint64_t code, data, tss;

	ck_assert_int_eq(guest_mem_alloc(&mem, 64 * MiB), 0);
	ck_assert_int_eq(boot_setup_long_mode(&mem), 0);

	ck_assert_uint_eq(gdt()[0], 0); /* the null descriptor */
	code = gdt()[BOOT_GDT_CODE / 8];
	ck_assert_uint_eq(BOOT_GDT_CODE, 0x10); /* __BOOT_CS */
	ck_assert_uint_eq(DESC_P(code), 1);
	ck_assert_uint_eq(DESC_S(code), 1);
	ck_assert_uint_eq(DESC_DPL(code), 0);
	ck_assert_uint_ne(DESC_TYPE(code) & 0x8, 0); /* executable */
	ck_assert_uint_ne(DESC_TYPE(code) & 0x2, 0); /* readable */
	ck_assert_uint_eq(DESC_L(code), 1);	     /* 64-bit code */
	ck_assert_uint_eq(DESC_DB(code), 0);	     /* must be 0 when L is set */

	data = gdt()[BOOT_GDT_DATA / 8];
	ck_assert_uint_eq(BOOT_GDT_DATA, 0x18); /* __BOOT_DS */
	ck_assert_uint_eq(DESC_P(data), 1);
	ck_assert_uint_eq(DESC_S(data), 1);
	ck_assert_uint_eq(DESC_DPL(data), 0);
	ck_assert_uint_eq(DESC_TYPE(data) & 0x8, 0); /* data */
	ck_assert_uint_ne(DESC_TYPE(data) & 0x2, 0); /* writable */
	ck_assert_uint_eq(DESC_G(data), 1);
	ck_assert_uint_eq(data & 0xffff, 0xffff); /* flat 4 GiB limit */
	ck_assert_uint_eq((data >> 48) & 0xf, 0xf);

	tss = gdt()[BOOT_GDT_TSS / 8];
	ck_assert_uint_eq(DESC_P(tss), 1);
	ck_assert_uint_eq(DESC_S(tss), 0);
	ck_assert_uint_eq(DESC_TYPE(tss), 0xb); /* busy 64-bit TSS */
	ck_assert_uint_ge(tss & 0xffff, 0x67);	/* limit covers a whole TSS */
}
END_TEST

/* Translate va through the tables boot_setup_long_mode() wrote, as the MMU would. */
static uint64_t walk(uint64_t va, int *large)
{
	const uint64_t *pml4 = guest_mem_ptr(&mem, PLATFORM_PML4_ADDR, 4096);
	const uint64_t *pdpt, *pd;
	uint64_t e;

	ck_assert_ptr_nonnull(pml4);
	e = pml4[(va >> 39) & 511];
	ck_assert_msg((e & (PTE_P | PTE_W)) == (PTE_P | PTE_W), "PML4E for 0x%llx: 0x%llx",
		      (unsigned long long)va, (unsigned long long)e);
	pdpt = guest_mem_ptr(&mem, e & PTE_ADDR, 4096);
	ck_assert_ptr_nonnull(pdpt);
	e = pdpt[(va >> 30) & 511];
	ck_assert_msg((e & (PTE_P | PTE_W)) == (PTE_P | PTE_W) && !(e & PTE_PS),
		      "PDPTE for 0x%llx: 0x%llx", (unsigned long long)va, (unsigned long long)e);
	pd = guest_mem_ptr(&mem, e & PTE_ADDR, 4096);
	ck_assert_ptr_nonnull(pd);
	e = pd[(va >> 21) & 511];
	ck_assert_msg((e & (PTE_P | PTE_W)) == (PTE_P | PTE_W), "PDE for 0x%llx: 0x%llx",
		      (unsigned long long)va, (unsigned long long)e);
	*large = !!(e & PTE_PS);
	ck_assert_uint_eq(e & 0x1fe000, 0); /* reserved bits of a 2 MiB PDE */
	return (e & 0x000fffffffe00000ull) | (va & 0x1fffff);
}

START_TEST(test_identity_map)
{
	static const uint64_t addrs[] = {
		0,
		PLATFORM_ZERO_PAGE_ADDR,
		PLATFORM_CMDLINE_ADDR,
		0x100000,
		0x100200,
		0x1fffff,
		0x200000,
		0x3fffffff,
		0x40000000,
		0xbfffffff,
		0xc0000000,
		PLATFORM_IOAPIC_ADDR,
		0xfee00000,
		0xfee00300,
		0xffffffff,
	};

	ck_assert_int_eq(guest_mem_alloc(&mem, 64 * MiB), 0);
	ck_assert_int_eq(boot_setup_long_mode(&mem), 0);
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		int large = 0;
		uint64_t pa = walk(addrs[i], &large);

		ck_assert_msg(pa == addrs[i], "0x%llx maps to 0x%llx", (unsigned long long)addrs[i],
			      (unsigned long long)pa);
		ck_assert_msg(large, "0x%llx is not mapped by a 2 MiB page",
			      (unsigned long long)addrs[i]);
	}
	/* one PML4 entry (512 GiB) covers it all; the rest stay empty */
	ck_assert_uint_eq(((const uint64_t *)guest_mem_ptr(&mem, PLATFORM_PML4_ADDR, 4096))[1], 0);
}
END_TEST

START_TEST(test_long_mode_keeps_boot_data)
{
	struct boot_params saved;

	ck_assert_msg(load(64 * MiB) == 0, "load failed: %s", err);
	memcpy(&saved, zero_page(), sizeof(saved));
	ck_assert_int_eq(boot_setup_long_mode(&mem), 0);
	/* the GDT and page tables land beside the zero page, command line and kernel */
	ck_assert_mem_eq(zero_page(), &saved, sizeof(saved));
	ck_assert_str_eq(guest_mem_ptr(&mem, PLATFORM_CMDLINE_ADDR, 1), cfg.cmdline);
	ck_assert_mem_eq(guest_mem_ptr(&mem, PLATFORM_KERNEL_ADDR, KERNEL_SIZE), image + SETUP_SIZE,
			 KERNEL_SIZE);
}
END_TEST

START_TEST(test_long_mode_small_memory)
{
	/* the smallest guest the options allow still gets its tables */
	ck_assert_int_eq(guest_mem_alloc(&mem, 2 * MiB), 0);
	ck_assert_int_eq(boot_setup_long_mode(&mem), 0);
	{
		int large = 0;

		ck_assert_uint_eq(walk(0xfee00000, &large), 0xfee00000);
		ck_assert(large);
	}
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("boot");
	TCase *linux_tc = tcase_create("linux");
	TCase *lm_tc = tcase_create("long_mode");

	tcase_add_unchecked_fixture(linux_tc, make_dir, remove_dir);
	tcase_add_checked_fixture(linux_tc, setup, teardown);
	tcase_set_timeout(linux_tc, 30);
	tcase_add_test(linux_tc, test_kernel_cmdline_zero_page);
	tcase_add_test(linux_tc, test_initrd_placed);
	tcase_add_test(linux_tc, test_initrd_below_initrd_addr_max);
	tcase_add_test(linux_tc, test_initrd_too_large);
	tcase_add_test(linux_tc, test_initrd_clear_of_unpacked_kernel);
	tcase_add_test(linux_tc, test_kernel_needs_ram_from_pref_address);
	tcase_add_test(linux_tc, test_kernel_too_large_for_memory);
	tcase_add_test(linux_tc, test_cmdline_length);
	tcase_add_test(linux_tc, test_bad_kernel_files);
	tcase_add_test(linux_tc, test_vmlinux_segments_and_entry);
	tcase_add_test(linux_tc, test_vmlinux_refused);
	tcase_add_test(linux_tc, test_flat_binary);
	suite_add_tcase(s, linux_tc);

	tcase_add_unchecked_fixture(lm_tc, make_dir, remove_dir);
	tcase_add_checked_fixture(lm_tc, setup, teardown);
	tcase_add_test(lm_tc, test_gdt);
	tcase_add_test(lm_tc, test_identity_map);
	tcase_add_test(lm_tc, test_long_mode_keeps_boot_data);
	tcase_add_test(lm_tc, test_long_mode_small_memory);
	suite_add_tcase(s, lm_tc);
	return s;
}
