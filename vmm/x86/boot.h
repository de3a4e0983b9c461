/* SPDX-License-Identifier: MIT */
/*
 * Putting a guest's first code into its memory: a Linux kernel (bzImage or ELF vmlinux)
 * with its initrd, command line and zero page, or a flat test binary; plus the GDT and
 * identity page tables that let the boot vCPU start directly in 64-bit mode, as a 64-bit
 * boot loader would leave it.
 */
#ifndef VMM_X86_BOOT_H
#define VMM_X86_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/x86/kernel_unpack.h"
#include "vmm/memory.h"

/* GDT selectors the 64-bit boot protocol expects (__BOOT_CS, __BOOT_DS) plus a TSS. */
#define BOOT_GDT_CODE 0x10
#define BOOT_GDT_DATA 0x18
#define BOOT_GDT_TSS 0x20
#define BOOT_GDT_ENTRIES 5
/* The identity map covers the first 4 GiB with 2 MiB pages. */
#define BOOT_IDENTITY_MAP_SIZE 0x100000000ull

struct boot_entry {
	uint64_t rip;
	uint64_t rsi; /* zero-page address for Linux */
	uint64_t rsp;
};

struct boot_linux_config {
	const char *kernel_path;
	const char *initrd_path;    /* NULL for none */
	const uint8_t *initrd_data; /* instead of initrd_path: an initrd built in memory */
	size_t initrd_len;
	const char *cmdline;
	uint64_t rsdp_gpa;
	enum kernel_unpack_mode unpack;	       /* a bzImage: boot its payload unpacked here? */
	struct kernel_unpack_result *unpacked; /* out, may be NULL: what became of a bzImage */
};

/*
 * Load a kernel (a bzImage, or an ELF vmlinux when the file starts with the ELF magic),
 * initrd and command line and build the zero page. Returns 0, or -errno with a sentence
 * in err naming the file and the problem (all of them are input errors).
 */
int boot_load_linux(const struct guest_mem *mem, const struct boot_linux_config *cfg,
		    struct boot_entry *entry, char *err, size_t errlen);
/* Load a flat binary at 1 MiB; it starts there in long mode with a stack below 1 MiB. */
int boot_load_flat(const struct guest_mem *mem, const char *path, struct boot_entry *entry,
		   char *err, size_t errlen);
/* Write the GDT and page tables that vcpu_setup_long_mode() points the boot vCPU at. */
int boot_setup_long_mode(const struct guest_mem *mem);

#endif
