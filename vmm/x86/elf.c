// SPDX-License-Identifier: MIT
/* vmlinux (x86-64 ELF) validation. */
#include "vmm/x86/elf.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MAX_PHDRS 64 /* a vmlinux has five; more means a file that is not a kernel */

_Static_assert(ELF_HEADER_BYTES >= sizeof(Elf64_Ehdr) + MAX_PHDRS * sizeof(Elf64_Phdr),
	       "the loader must read every program header it accepts");

bool elf_is_elf(const uint8_t *image, size_t len)
{
	return len >= SELFMAG && memcmp(image, ELFMAG, SELFMAG) == 0;
}

static int reject(char *err, size_t errlen, int ret, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return ret;
}

/* a + b without wrapping past 2^64 (then the sum is treated as out of range) */
static bool add_ok(uint64_t a, uint64_t b, uint64_t *sum)
{
	return !__builtin_add_overflow(a, b, sum);
}

static int check_ehdr(const Elf64_Ehdr *eh, size_t avail, size_t file_len, char *err, size_t errlen)
{
	uint64_t table_end;

	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_machine != EM_X86_64)
		return reject(err, errlen, -ENOEXEC,
			      "an ELF file, but not a 64-bit little-endian x86-64 one");
	if (eh->e_ident[EI_VERSION] != EV_CURRENT || eh->e_version != EV_CURRENT)
		return reject(err, errlen, -ENOEXEC, "ELF version is not 1");
	if (eh->e_type != ET_EXEC)
		return reject(err, errlen, -ENOEXEC,
			      "an ELF file, but not an executable (a vmlinux is one)");
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 || eh->e_phnum > MAX_PHDRS)
		return reject(err, errlen, -EINVAL, "ELF program header table is malformed");
	if (!add_ok(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), &table_end) ||
	    table_end > file_len)
		return reject(err, errlen, -EINVAL, "ELF program headers lie past the file's end");
	if (table_end > avail)
		return reject(err, errlen, -EINVAL,
			      "ELF program headers are not in the file's first 4 KiB");
	return 0;
}

/* One PT_LOAD header into info, or the reason it cannot be loaded. */
static int add_segment(struct elf_info *info, const Elf64_Phdr *ph, size_t file_len,
		       uint64_t min_paddr, char *err, size_t errlen)
{
	struct elf_segment *s;
	uint64_t end, file_end;

	if (ph->p_filesz > ph->p_memsz)
		return reject(err, errlen, -EINVAL,
			      "ELF segment has more bytes in the file than in memory");
	if (ph->p_memsz == 0)
		return 0; /* occupies nothing */
	if (info->nsegments == ELF_MAX_SEGMENTS)
		return reject(err, errlen, -EINVAL, "ELF file has too many loadable segments");
	if (!add_ok(ph->p_offset, ph->p_filesz, &file_end) || file_end > file_len)
		return reject(err, errlen, -EINVAL, "ELF segment lies past the file's end");
	if (!add_ok(ph->p_paddr, ph->p_memsz, &end))
		return reject(err, errlen, -EINVAL, "ELF segment wraps past the top of memory");
	if (ph->p_paddr < min_paddr) {
		snprintf(err, errlen,
			 "ELF segment at 0x%llx is below 0x%llx, where the VMM keeps boot data",
			 (unsigned long long)ph->p_paddr, (unsigned long long)min_paddr);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < info->nsegments; i++) {
		const struct elf_segment *o = &info->seg[i];

		if (ph->p_paddr < o->paddr + o->memsz && o->paddr < end)
			return reject(err, errlen, -EINVAL, "ELF segments overlap in memory");
	}
	s = &info->seg[info->nsegments++];
	*s = (struct elf_segment){ .offset = ph->p_offset,
				   .filesz = ph->p_filesz,
				   .paddr = ph->p_paddr,
				   .memsz = ph->p_memsz };
	if (end > info->end)
		info->end = end;
	return 0;
}

int elf_parse(const uint8_t *image, size_t avail, size_t file_len, uint64_t min_paddr,
	      struct elf_info *info, char *err, size_t errlen)
{
	Elf64_Ehdr eh;
	bool entry_found = false;
	int ret;

	memset(info, 0, sizeof(*info));
	if (avail > file_len)
		avail = file_len;
	if (!elf_is_elf(image, avail))
		return reject(err, errlen, -ENOEXEC, "not an ELF file");
	if (avail < sizeof(eh))
		return reject(err, errlen, -ENOEXEC, "ELF file is too short for its header");
	memcpy(&eh, image, sizeof(eh));
	ret = check_ehdr(&eh, avail, file_len, err, errlen);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, image + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		ret = add_segment(info, &ph, file_len, min_paddr, err, errlen);
		if (ret)
			return ret;
	}
	if (info->nsegments == 0)
		return reject(err, errlen, -EINVAL, "ELF file has nothing to load");
	/* the entry must be code the file provides to a segment that is loaded, not .bss */
	for (unsigned int i = 0; i < info->nsegments; i++) {
		const struct elf_segment *s = &info->seg[i];

		if (eh.e_entry >= s->paddr && eh.e_entry - s->paddr < s->filesz)
			entry_found = true;
	}
	if (!entry_found)
		return reject(err, errlen, -EINVAL,
			      "ELF entry point is not inside a loaded segment (is it a vmlinux?)");
	info->entry = eh.e_entry;
	return 0;
}
