/* SPDX-License-Identifier: MIT */
/*
 * An uncompressed Linux kernel as the build leaves it (vmlinux, an x86-64 ELF executable)
 * as pure functions over bytes: validate its ELF and program headers, and find its release.
 * (It has no setup header; bzimage_stand_in_header() writes one for the zero page.) No
 * file or guest-memory access here, so every rule is unit-testable and fuzzable.
 *
 * Why boot a vmlinux at all: a bzImage spends its first moments copying and decompressing
 * itself; a vmlinux's segments go straight to the physical addresses they were linked for
 * and the vCPU starts at the ELF entry point (startup_64) with the zero page in RSI, the
 * same 64-bit boot protocol the bzImage's decompressor ends with.
 */
#ifndef VMM_X86_ELF_H
#define VMM_X86_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How much of the file the loader reads before parsing: the program headers must be in it. */
#define ELF_HEADER_BYTES 4096
/* PT_LOAD segments we accept; a vmlinux has four or five. */
#define ELF_MAX_SEGMENTS 16

struct elf_segment {
	uint64_t offset; /* in the file */
	uint64_t filesz; /* bytes copied from the file */
	uint64_t paddr;	 /* guest-physical destination */
	uint64_t memsz;	 /* filesz plus the bytes that are zeroed (.bss) */
};

struct elf_info {
	uint64_t entry; /* guest-physical, inside a segment's file bytes */
	uint64_t end;	/* highest paddr + memsz */
	unsigned int nsegments;
	struct elf_segment seg[ELF_MAX_SEGMENTS];
};

/* Whether image (len bytes) starts with the ELF magic: the loader's choice of format. */
bool elf_is_elf(const uint8_t *image, size_t len);

/*
 * Check that a file of file_len bytes, whose first avail bytes are in image, is an x86-64
 * ELF executable whose loadable segments lie inside the file, do not overlap, start at or
 * above min_paddr and have the entry point in their bytes. Returns 0, or -ENOEXEC /
 * -EINVAL with a sentence in err saying what is wrong.
 */
int elf_parse(const uint8_t *image, size_t avail, size_t file_len, uint64_t min_paddr,
	      struct elf_info *info, char *err, size_t errlen);

#endif
