/* SPDX-License-Identifier: MIT */
/*
 * The Linux x86 boot protocol (Documentation/arch/x86/boot.rst) as pure functions over
 * bytes: validate a bzImage's setup header and fill the zero page (struct boot_params)
 * that tells the kernel where its command line, initrd, memory map and ACPI tables are.
 * No file or guest-memory access here, so every rule is unit-testable.
 */
#ifndef VMM_X86_BZIMAGE_H
#define VMM_X86_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <asm/bootparam.h>

#define BZIMAGE_MIN_PROTOCOL 0x0206
#define BZIMAGE_ENTRY64_OFFSET 0x200 /* 64-bit entry point, from the protected-mode start */

struct bzimage_info {
	uint16_t protocol;
	size_t setup_size;     /* bytes before the protected-mode kernel: (setup_sects+1)*512 */
	size_t kernel_size;    /* protected-mode kernel bytes that follow */
	uint32_t init_size;    /* memory the kernel needs from its aligned load address */
	uint32_t alignment;    /* kernel_alignment */
	uint64_t pref_address; /* never unpacked below this (2.10+); + init_size cannot wrap */
	uint32_t cmdline_size; /* longest command line it accepts, without the NUL */
	uint64_t initrd_max;   /* highest address the initrd's last byte may have */
	int relocatable;
};

/*
 * How much of the file the two functions below read: the loader reads only this much into
 * memory of its own and the protected-mode kernel straight into guest memory.
 */
#define BZIMAGE_HEADER_BYTES 1024

/*
 * Check that a file of len bytes, whose first min(len, BZIMAGE_HEADER_BYTES) bytes are in
 * image, is a bzImage we can boot through the 64-bit entry point.
 * Returns 0, or -EINVAL / -ENOEXEC with a sentence in err saying what is wrong.
 */
int bzimage_parse(const uint8_t *image, size_t len, struct bzimage_info *info, char *err,
		  size_t errlen);

/*
 * The kernel's release ("6.1.0-13-cloud-amd64"), from the string the setup header's
 * kernel_version field points at: its first word, printable characters only. Returns 0,
 * or -ENOENT when the image has no such string.
 */
int bzimage_kernel_version(const uint8_t *image, size_t len, char *out, size_t outlen);

struct zero_page_config {
	uint64_t cmdline_gpa;
	uint64_t initrd_gpa; /* 0 when there is none */
	uint64_t initrd_size;
	uint64_t rsdp_gpa;
	const struct boot_e820_entry *e820;
	unsigned int e820_count;
};

/*
 * For a kernel without a setup header (an ELF vmlinux): write one into image, a zeroed
 * BZIMAGE_HEADER_BYTES buffer, as a current 64-bit bzImage would carry it, so that
 * bzimage_build_zero_page() serves both. cmdline_size and initrd_max are the loader's
 * limits, since no file states them.
 */
void bzimage_stand_in_header(uint8_t *image, uint32_t cmdline_size, uint32_t initrd_max);

/*
 * Build the zero page for a parsed image (its first BZIMAGE_HEADER_BYTES bytes are enough).
 * Returns 0 or -EINVAL (too many e820 entries).
 */
int bzimage_build_zero_page(struct boot_params *zp, const uint8_t *image,
			    const struct zero_page_config *cfg);

#endif
