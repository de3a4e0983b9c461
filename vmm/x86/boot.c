// SPDX-License-Identifier: MIT
/* Loading the kernel, initrd and command line, and the 64-bit start-up environment. */
#include "vmm/x86/boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "devices/platform.h"
#include "firmware/x86/e820.h"
#include "vmm/x86/bzimage.h"
#include "vmm/x86/elf.h"
#include "vmm/hostfile.h"

#define PAGE_SIZE 4096ull
#define PDPT_ADDR (PLATFORM_PML4_ADDR + 0x1000)
#define PD_ADDR (PLATFORM_PML4_ADDR + 0x2000) /* four page directories follow */
#define PTE_PRESENT 0x1ull
#define PTE_WRITE 0x2ull
#define PTE_LARGE 0x80ull
#define FLAT_STACK_TOP 0x80000
/* A vmlinux states no limits: COMMAND_LINE_SIZE on x86 less the NUL, and the 2 GiB every
 * 64-bit kernel takes an initrd below. */
#define VMLINUX_CMDLINE_SIZE 2047
#define VMLINUX_INITRD_MAX 0x7fffffff
/* The loader reads this much of a kernel file before choosing how to load it. */
#define KERNEL_HEAD_BYTES                                                                          \
	(ELF_HEADER_BYTES > BZIMAGE_HEADER_BYTES ? ELF_HEADER_BYTES : BZIMAGE_HEADER_BYTES)

/*
 * What the rest of the loader needs to know of a kernel once it is in guest memory,
 * whichever format it came in.
 */
struct kernel_layout {
	uint64_t entry;
	uint64_t end; /* the first byte the kernel will not use while it starts */
	uint32_t cmdline_size;
	uint64_t initrd_max;
};

static uint64_t align_up(uint64_t value, uint64_t align)
{
	return (value + align - 1) & ~(align - 1);
}

/* Open an input file and learn its size; input files are checked here once, by name. */
static int open_input(const char *path, const char *what, int *fd, size_t *len, char *err,
		      size_t errlen)
{
	struct stat st;
	const char *why;

	*fd = hostfile_open(path, O_RDONLY, 0, HOSTFILE_REGULAR, &st, &why);
	if (*fd < 0) {
		int ret = *fd;

		snprintf(err, errlen, "%s %s: %s", what, path, why);
		*fd = -1;
		return ret;
	}
	*len = (size_t)st.st_size;
	return 0;
}

/*
 * Read len bytes at offset into dst. The kernel and initrd go straight to their place in
 * guest memory this way: a bounce buffer in the heap would cost a page fault per page and
 * a second copy of every byte (about a third of loading a 14 MiB kernel).
 */
static int read_at(int fd, const char *path, const char *what, void *dst, size_t len, off_t offset,
		   char *err, size_t errlen)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (uint8_t *)dst + done, len - done, offset + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int ret = n < 0 ? -errno : -EIO;
			snprintf(err, errlen, "%s %s: read failed: %s", what, path, strerror(-ret));
			return ret;
		}
		done += (size_t)n;
	}
	return 0;
}

/* Read a whole (small) file into the heap. */
static int read_file(const char *path, const char *what, uint8_t **data, size_t *len, char *err,
		     size_t errlen)
{
	int fd, ret = open_input(path, what, &fd, len, err, errlen);

	if (ret)
		return ret;
	*data = malloc(*len ? *len : 1);
	if (!*data) {
		close(fd);
		snprintf(err, errlen, "%s %s: out of memory reading it", what, path);
		return -ENOMEM;
	}
	ret = read_at(fd, path, what, *data, *len, 0, err, errlen);
	close(fd);
	if (ret)
		free(*data);
	return ret;
}

/*
 * Where the kernel decompresses itself: a relocatable kernel uses its load address
 * rounded up to kernel_alignment, but never goes below pref_address (the address it was
 * linked for, 16 MiB on x86-64), so everything from there to init_size must be free.
 */
static uint64_t kernel_unpack_start(const struct bzimage_info *info)
{
	uint64_t start = PLATFORM_KERNEL_ADDR;

	if (info->relocatable)
		start = align_up(start, info->alignment);
	return start > info->pref_address ? start : info->pref_address;
}

static uint64_t low_ram_end(const struct guest_mem *mem)
{
	return mem->regions[0].size;
}

/* The initrd goes as high as the kernel allows, clear of where the kernel decompresses. */
static int place_initrd(const struct guest_mem *mem, const struct boot_linux_config *cfg,
			const struct kernel_layout *kl, uint64_t *gpa, uint64_t *size, char *err,
			size_t errlen)
{
	/* vmm run builds its initramfs in memory; --initrd names a file */
	const char *name = cfg->initrd_data ? "(built in memory)" : cfg->initrd_path;
	size_t len;
	uint64_t top = low_ram_end(mem);
	int fd = -1, ret;

	*gpa = *size = 0;
	if (cfg->initrd_data) {
		len = cfg->initrd_len;
	} else if (!cfg->initrd_path) {
		return 0;
	} else {
		ret = open_input(cfg->initrd_path, "--initrd", &fd, &len, err, errlen);
		if (ret)
			return ret;
	}
	if (kl->initrd_max && kl->initrd_max + 1 < top)
		top = kl->initrd_max + 1;
	if (len == 0) {
		snprintf(err, errlen, "--initrd %s: empty file", name);
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	if (len > top || ((top - len) & ~(PAGE_SIZE - 1)) < kl->end) {
		snprintf(err, errlen,
			 "--initrd %s: %zu bytes do not fit in guest memory beside the kernel "
			 "(try a larger --memory)",
			 name, len);
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	*gpa = (top - len) & ~(PAGE_SIZE - 1);
	*size = len;
	if (cfg->initrd_data) {
		memcpy(guest_mem_ptr(mem, *gpa, len), cfg->initrd_data, len);
		return 0;
	}
	ret = read_at(fd, cfg->initrd_path, "--initrd", guest_mem_ptr(mem, *gpa, len), len, 0, err,
		      errlen);
	close(fd);
	return ret;
}

static int write_cmdline(const struct guest_mem *mem, const char *cmdline,
			 const struct kernel_layout *kl, char *err, size_t errlen)
{
	size_t len = strlen(cmdline);
	size_t limit = kl->cmdline_size;

	if (limit > PLATFORM_CMDLINE_MAX - 1)
		limit = PLATFORM_CMDLINE_MAX - 1;
	if (len > limit) {
		snprintf(err, errlen, "--cmdline: %zu bytes, the kernel accepts at most %zu", len,
			 limit);
		return -EINVAL;
	}
	memcpy(guest_mem_ptr(mem, PLATFORM_CMDLINE_ADDR, len + 1), cmdline, len + 1);
	return 0;
}

static int too_small(const char *path, uint64_t end, char *err, size_t errlen)
{
	snprintf(err, errlen,
		 "--kernel %s: needs %llu MiB of RAM to unpack (try a larger --memory)", path,
		 (unsigned long long)(end >> 20) + 1);
	return -EINVAL;
}

/* A bzImage: its protected-mode part at 1 MiB, where its decompressor expects to run. */
static int load_bzimage(const struct guest_mem *mem, int fd, size_t len, const char *path,
			const uint8_t *head, struct kernel_layout *kl, char *err, size_t errlen)
{
	struct bzimage_info info;
	char why[160];
	int ret = bzimage_parse(head, len, &info, why, sizeof(why));

	if (ret) {
		/* the file is not ELF either, or load_vmlinux() would have it */
		snprintf(err, errlen, "--kernel %s: %s%s", path, why,
			 ret == -ENOEXEC ? ", nor an ELF vmlinux" : "");
		return ret;
	}
	kl->end = kernel_unpack_start(&info) + info.init_size;
	if (kl->end > low_ram_end(mem) ||
	    !guest_mem_ptr(mem, PLATFORM_KERNEL_ADDR, info.kernel_size))
		return too_small(path, kl->end, err, errlen);
	ret = read_at(fd, path, "--kernel",
		      guest_mem_ptr(mem, PLATFORM_KERNEL_ADDR, info.kernel_size), info.kernel_size,
		      (off_t)info.setup_size, err, errlen);
	kl->entry = PLATFORM_KERNEL_ADDR + BZIMAGE_ENTRY64_OFFSET;
	kl->cmdline_size = info.cmdline_size;
	kl->initrd_max = info.initrd_max;
	return ret;
}

/*
 * A vmlinux: each segment at the physical address it was linked for, its .bss zeroed, and
 * a setup header of our making in place of the bzImage's (head is rewritten for that).
 */
static int load_vmlinux(const struct guest_mem *mem, int fd, size_t len, const char *path,
			uint8_t *head, struct kernel_layout *kl, char *err, size_t errlen)
{
	struct elf_info info;
	char why[160];
	int ret = elf_parse(head, KERNEL_HEAD_BYTES, len, PLATFORM_KERNEL_ADDR, &info, why,
			    sizeof(why));

	if (ret) {
		snprintf(err, errlen, "--kernel %s: %s", path, why);
		return ret;
	}
	if (info.end > low_ram_end(mem))
		return too_small(path, info.end, err, errlen);
	for (unsigned int i = 0; i < info.nsegments; i++) {
		const struct elf_segment *s = &info.seg[i];
		uint8_t *dst = guest_mem_ptr(mem, s->paddr, s->memsz);

		if (!dst)
			return too_small(path, info.end, err, errlen);
		ret = read_at(fd, path, "--kernel", dst, s->filesz, (off_t)s->offset, err, errlen);
		if (ret)
			return ret;
		memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
	memset(head, 0, BZIMAGE_HEADER_BYTES);
	bzimage_stand_in_header(head, VMLINUX_CMDLINE_SIZE, VMLINUX_INITRD_MAX);
	kl->entry = info.entry;
	kl->end = info.end;
	kl->cmdline_size = VMLINUX_CMDLINE_SIZE;
	kl->initrd_max = VMLINUX_INITRD_MAX;
	return 0;
}

/*
 * A bzImage whose payload is unpacked on the host boots as the vmlinux it carries
 * (vmm/kernel_unpack.h). Returns 1 when it is not unpacked: load the bzImage itself.
 */
static int load_unpacked(const struct guest_mem *mem, int fd, size_t len,
			 const struct boot_linux_config *cfg, uint8_t *head,
			 struct kernel_layout *kl, char *err, size_t errlen)
{
	struct kernel_unpack_result local, *res = cfg->unpacked ? cfg->unpacked : &local;
	char why[200];
	int ret = kernel_unpack(fd, len, NULL, res, why, sizeof(why));

	if (ret) {
		snprintf(err, errlen, "--kernel %s: %s", cfg->kernel_path, why);
		return ret;
	}
	if (res->fd < 0)
		return 1;
	memset(head, 0, KERNEL_HEAD_BYTES);
	ret = read_at(res->fd, cfg->kernel_path, "--kernel", head,
		      res->len < KERNEL_HEAD_BYTES ? res->len : KERNEL_HEAD_BYTES, 0, err, errlen)
		      ?: load_vmlinux(mem, res->fd, res->len, cfg->kernel_path, head, kl, err,
				      errlen);
	close(res->fd);
	res->fd = -1;
	return ret;
}

int boot_load_linux(const struct guest_mem *mem, const struct boot_linux_config *cfg,
		    struct boot_entry *entry, char *err, size_t errlen)
{
	struct kernel_layout kl = { 0 };
	struct boot_e820_entry e820[E820_MAX_ENTRIES_ZEROPAGE];
	struct zero_page_config zcfg = { .cmdline_gpa = PLATFORM_CMDLINE_ADDR,
					 .rsdp_gpa = cfg->rsdp_gpa };
	uint8_t head[KERNEL_HEAD_BYTES] = { 0 }; /* the part the header parsers read */
	size_t len;
	int fd, ret, count;

	ret = open_input(cfg->kernel_path, "--kernel", &fd, &len, err, errlen);
	if (ret)
		return ret;
	ret = read_at(fd, cfg->kernel_path, "--kernel", head,
		      len < sizeof(head) ? len : sizeof(head), 0, err, errlen);
	if (ret)
		goto out;
	ret = 1;
	if (elf_is_elf(head, len))
		ret = load_vmlinux(mem, fd, len, cfg->kernel_path, head, &kl, err, errlen);
	else if (cfg->unpack == KERNEL_UNPACK_HOST)
		ret = load_unpacked(mem, fd, len, cfg, head, &kl, err, errlen);
	if (ret == 1) /* a bzImage whose decompressor runs in the guest */
		ret = load_bzimage(mem, fd, len, cfg->kernel_path, head, &kl, err, errlen);
	if (ret)
		goto out;

	ret = write_cmdline(mem, cfg->cmdline, &kl, err, errlen);
	if (ret)
		goto out;
	ret = place_initrd(mem, cfg, &kl, &zcfg.initrd_gpa, &zcfg.initrd_size, err, errlen);
	if (ret)
		goto out;
	count = e820_build(e820, E820_MAX_ENTRIES_ZEROPAGE, mem->size);
	if (count < 0) {
		ret = count;
		snprintf(err, errlen, "--memory: cannot describe this much memory to the guest");
		goto out;
	}
	zcfg.e820 = e820;
	zcfg.e820_count = (unsigned int)count;
	ret = bzimage_build_zero_page(
		guest_mem_ptr(mem, PLATFORM_ZERO_PAGE_ADDR, sizeof(struct boot_params)), head,
		&zcfg);
	if (ret) {
		snprintf(err, errlen, "--kernel %s: cannot build the zero page", cfg->kernel_path);
		goto out;
	}
	entry->rip = kl.entry;
	entry->rsi = PLATFORM_ZERO_PAGE_ADDR;
	entry->rsp = 0; /* the kernel sets up its own stack before using one */
out:
	close(fd);
	return ret;
}

int boot_load_flat(const struct guest_mem *mem, const char *path, struct boot_entry *entry,
		   char *err, size_t errlen)
{
	uint8_t *image;
	size_t len;
	void *dst;
	int ret = read_file(path, "--flat", &image, &len, err, errlen);

	if (ret)
		return ret;
	dst = guest_mem_ptr(mem, PLATFORM_KERNEL_ADDR, len);
	if (!dst || len == 0) {
		snprintf(err, errlen, "--flat %s: %s", path,
			 len ? "does not fit in guest memory above 1 MiB" : "empty file");
		free(image);
		return -EINVAL;
	}
	memcpy(dst, image, len);
	free(image);
	entry->rip = PLATFORM_KERNEL_ADDR;
	entry->rsi = 0;
	entry->rsp = FLAT_STACK_TOP;
	return 0;
}

int boot_setup_long_mode(const struct guest_mem *mem)
{
	/* flat 64-bit code and data segments; the TSS only satisfies VT-x's entry checks */
	static const uint64_t gdt[BOOT_GDT_ENTRIES] = {
		[BOOT_GDT_CODE / 8] = 0x00af9b000000ffffull,
		[BOOT_GDT_DATA / 8] = 0x00cf93000000ffffull,
		[BOOT_GDT_TSS / 8] = 0x00008b0000000067ull,
	};
	uint64_t *gdt_mem = guest_mem_ptr(mem, PLATFORM_GDT_ADDR, sizeof(gdt));
	uint64_t *pml4 = guest_mem_ptr(mem, PLATFORM_PML4_ADDR, PAGE_SIZE);
	uint64_t *pdpt = guest_mem_ptr(mem, PDPT_ADDR, PAGE_SIZE);
	uint64_t *pd = guest_mem_ptr(mem, PD_ADDR, 4 * PAGE_SIZE);

	if (!gdt_mem || !pml4 || !pdpt || !pd)
		return -ENOMEM;
	memcpy(gdt_mem, gdt, sizeof(gdt));
	memset(pml4, 0, PAGE_SIZE);
	memset(pdpt, 0, PAGE_SIZE);
	pml4[0] = PDPT_ADDR | PTE_PRESENT | PTE_WRITE;
	for (unsigned int i = 0; i < 4; i++)
		pdpt[i] = (PD_ADDR + i * PAGE_SIZE) | PTE_PRESENT | PTE_WRITE;
	for (uint64_t i = 0; i < BOOT_IDENTITY_MAP_SIZE >> 21; i++)
		pd[i] = (i << 21) | PTE_PRESENT | PTE_WRITE | PTE_LARGE;
	return 0;
}
