// SPDX-License-Identifier: MIT
/* Loading the kernel, initrd and command line, and the 64-bit start-up environment. */
#include "vmm/boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "devices/platform.h"
#include "firmware/e820.h"
#include "vmm/bzimage.h"

#define PAGE_SIZE 4096ull
#define PDPT_ADDR (PLATFORM_PML4_ADDR + 0x1000)
#define PD_ADDR (PLATFORM_PML4_ADDR + 0x2000) /* four page directories follow */
#define PTE_PRESENT 0x1ull
#define PTE_WRITE 0x2ull
#define PTE_LARGE 0x80ull
#define FLAT_STACK_TOP 0x80000

static uint64_t align_up(uint64_t value, uint64_t align)
{
	return (value + align - 1) & ~(align - 1);
}

/* Open an input file and learn its size; input files are checked here once, by name. */
static int open_input(const char *path, const char *what, int *fd, size_t *len, char *err,
		      size_t errlen)
{
	struct stat st;

	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0) {
		int ret = -errno;
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(-ret));
		return ret;
	}
	if (fstat(*fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s %s: not a regular file", what, path);
		close(*fd);
		*fd = -1;
		return -EINVAL;
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
			const struct bzimage_info *info, uint64_t kernel_end, uint64_t *gpa,
			uint64_t *size, char *err, size_t errlen)
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
	if (info->initrd_max && info->initrd_max + 1 < top)
		top = info->initrd_max + 1;
	if (len == 0) {
		snprintf(err, errlen, "--initrd %s: empty file", name);
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	if (len > top || ((top - len) & ~(PAGE_SIZE - 1)) < kernel_end) {
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
			 const struct bzimage_info *info, char *err, size_t errlen)
{
	size_t len = strlen(cmdline);
	size_t limit = info->cmdline_size;

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

int boot_load_linux(const struct guest_mem *mem, const struct boot_linux_config *cfg,
		    struct boot_entry *entry, char *err, size_t errlen)
{
	struct bzimage_info info;
	struct boot_e820_entry e820[E820_MAX_ENTRIES_ZEROPAGE];
	struct zero_page_config zcfg = { .cmdline_gpa = PLATFORM_CMDLINE_ADDR,
					 .rsdp_gpa = cfg->rsdp_gpa };
	uint64_t kernel_end;
	uint8_t image[BZIMAGE_HEADER_BYTES] = { 0 }; /* the part the header parsers read */
	size_t len;
	char why[160];
	int fd, ret, count;

	ret = open_input(cfg->kernel_path, "--kernel", &fd, &len, err, errlen);
	if (ret)
		return ret;
	ret = read_at(fd, cfg->kernel_path, "--kernel", image,
		      len < sizeof(image) ? len : sizeof(image), 0, err, errlen);
	if (ret)
		goto out;
	ret = bzimage_parse(image, len, &info, why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "--kernel %s: %s", cfg->kernel_path, why);
		goto out;
	}
	kernel_end = kernel_unpack_start(&info) + info.init_size;
	if (kernel_end > low_ram_end(mem) ||
	    !guest_mem_ptr(mem, PLATFORM_KERNEL_ADDR, info.kernel_size)) {
		snprintf(err, errlen,
			 "--kernel %s: needs %llu MiB of RAM to unpack (try a larger "
			 "--memory)",
			 cfg->kernel_path, (unsigned long long)(kernel_end >> 20) + 1);
		ret = -EINVAL;
		goto out;
	}
	ret = read_at(fd, cfg->kernel_path, "--kernel",
		      guest_mem_ptr(mem, PLATFORM_KERNEL_ADDR, info.kernel_size), info.kernel_size,
		      (off_t)info.setup_size, err, errlen);
	if (ret)
		goto out;

	ret = write_cmdline(mem, cfg->cmdline, &info, err, errlen);
	if (ret)
		goto out;
	ret = place_initrd(mem, cfg, &info, kernel_end, &zcfg.initrd_gpa, &zcfg.initrd_size, err,
			   errlen);
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
		guest_mem_ptr(mem, PLATFORM_ZERO_PAGE_ADDR, sizeof(struct boot_params)), image,
		&zcfg);
	if (ret) {
		snprintf(err, errlen, "--kernel %s: cannot build the zero page", cfg->kernel_path);
		goto out;
	}
	entry->rip = PLATFORM_KERNEL_ADDR + BZIMAGE_ENTRY64_OFFSET;
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
