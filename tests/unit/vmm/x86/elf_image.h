/* SPDX-License-Identifier: MIT */
/* Synthetic x86-64 ELF executables laid out like a vmlinux, for the loader's tests. */
#ifndef TESTS_UNIT_VMM_ELF_IMAGE_H
#define TESTS_UNIT_VMM_ELF_IMAGE_H

#include <elf.h>
#include <stdint.h>
#include <string.h>

struct test_seg {
	uint32_t type;
	uint64_t offset, filesz, paddr, memsz;
};

/*
 * Like the kernel's: text at 16 MiB (the entry point), data, the per-CPU segment right
 * after it, init code with .bss at the end, and a note. Offsets are small to keep the
 * file small.
 */
#define TEST_ELF_ENTRY 0x1000000ull
static const struct test_seg test_elf_vmlinux[] = {
	{ PT_LOAD, 0x1000, 0x3000, 0x1000000, 0x3000 },
	{ PT_LOAD, 0x4000, 0x1000, 0x1200000, 0x1000 },
	{ PT_LOAD, 0x5000, 0x800, 0x1201000, 0x800 },
	{ PT_LOAD, 0x6000, 0x1000, 0x1300000, 0x5000 },
	{ PT_NOTE, 0x1800, 0x40, 0x1000800, 0x40 },
};
#define TEST_ELF_NSEGS (sizeof(test_elf_vmlinux) / sizeof(test_elf_vmlinux[0]))
#define TEST_ELF_SIZE 0x7000

/* The byte a segment's file part holds at offset i of the file. */
static inline uint8_t test_elf_byte(uint64_t i)
{
	return (uint8_t)(i * 31 + 7);
}

/*
 * Write the ELF header, the program headers for segs at offset 64, and patterned bytes
 * elsewhere into buf (cap bytes, zeroed first). Returns the header for the caller to edit.
 */
static inline Elf64_Ehdr *test_elf_build(uint8_t *buf, size_t cap, uint64_t entry,
					 const struct test_seg *segs, unsigned int n)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;

	for (size_t i = 0; i < cap; i++)
		buf[i] = test_elf_byte(i);
	memset(buf, 0, sizeof(*eh) + n * sizeof(Elf64_Phdr));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = entry;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = (uint16_t)n;
	for (unsigned int i = 0; i < n; i++) {
		Elf64_Phdr *ph = (Elf64_Phdr *)(buf + sizeof(*eh)) + i;

		ph->p_type = segs[i].type;
		ph->p_flags = PF_R | PF_W | PF_X;
		ph->p_offset = segs[i].offset;
		ph->p_filesz = segs[i].filesz;
		ph->p_paddr = segs[i].paddr;
		ph->p_vaddr = 0xffffffff80000000ull + segs[i].paddr;
		ph->p_memsz = segs[i].memsz;
		ph->p_align = 0x200000;
	}
	return eh;
}

static inline Elf64_Phdr *test_elf_phdr(uint8_t *buf, unsigned int i)
{
	return (Elf64_Phdr *)(buf + sizeof(Elf64_Ehdr)) + i;
}

#endif
