// SPDX-License-Identifier: MIT
/* bzImage setup-header validation and zero-page construction (x86 boot protocol). */
#include "vmm/x86/bzimage.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define SETUP_HEADER_OFFSET 0x1f1
#define JUMP_END 0x202 /* the setup header's jump instruction ends here */
#define BOOT_FLAG_MAGIC 0xaa55
#define HDRS_MAGIC 0x53726448 /* "HdrS" */
#define LOADER_TYPE_UNDEFINED 0xff
#define VIDEO_MODE_NORMAL 0xffff

_Static_assert(SETUP_HEADER_OFFSET + sizeof(struct setup_header) <= BZIMAGE_HEADER_BYTES,
	       "the header parsers would read past what the loader reads");

static int reject(char *err, size_t errlen, int ret, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return ret;
}

int bzimage_parse(const uint8_t *image, size_t len, struct bzimage_info *info, char *err,
		  size_t errlen)
{
	struct setup_header hdr;
	unsigned int setup_sects;

	memset(info, 0, sizeof(*info));
	if (len < SETUP_HEADER_OFFSET + sizeof(hdr))
		return reject(err, errlen, -ENOEXEC, "not a bzImage (too short for a boot header)");
	memcpy(&hdr, image + SETUP_HEADER_OFFSET, sizeof(hdr));
	if (hdr.boot_flag != BOOT_FLAG_MAGIC || hdr.header != HDRS_MAGIC)
		return reject(err, errlen, -ENOEXEC,
			      "not a bzImage (no 0xAA55 boot flag and 'HdrS' header)");
	info->protocol = hdr.version;
	if (hdr.version < BZIMAGE_MIN_PROTOCOL) {
		snprintf(err, errlen, "boot protocol %u.%02u is too old (need 2.06 or later)",
			 hdr.version >> 8, hdr.version & 0xff);
		return -EINVAL;
	}
	if (!(hdr.loadflags & LOADED_HIGH))
		return reject(err, errlen, -EINVAL, "a zImage (loaded low) is not supported");
	/* xloadflags only exist from 2.12; older 64-bit kernels all have the entry point */
	if (hdr.version >= 0x020c && !(hdr.xloadflags & XLF_KERNEL_64))
		return reject(err, errlen, -EINVAL, "kernel has no 64-bit entry point");

	setup_sects = hdr.setup_sects ? hdr.setup_sects : 4; /* 0 means 4, for old images */
	info->setup_size = (size_t)(setup_sects + 1) * 512;
	if (info->setup_size >= len)
		return reject(err, errlen, -ENOEXEC, "bzImage is truncated after its setup code");
	info->kernel_size = len - info->setup_size;
	info->cmdline_size = hdr.cmdline_size;
	info->initrd_max = hdr.initrd_addr_max;
	info->relocatable = hdr.relocatable_kernel;
	info->alignment = hdr.kernel_alignment;
	info->pref_address = hdr.version >= 0x020a ? hdr.pref_address : 0;
	if (info->relocatable &&
	    (info->alignment == 0 || (info->alignment & (info->alignment - 1))))
		return reject(err, errlen, -EINVAL, "kernel_alignment is not a power of two");
	/* init_size exists from 2.10; before that, assume a generous multiple of the image */
	info->init_size = hdr.version >= 0x020a ? hdr.init_size : (uint32_t)info->kernel_size * 4;
	if (info->init_size < info->kernel_size)
		return reject(err, errlen, -EINVAL, "init_size is smaller than the kernel itself");
	/* the loader adds them to find where unpacking ends: a wrapped sum would look small */
	if (info->pref_address > UINT64_MAX - info->init_size)
		return reject(err, errlen, -EINVAL,
			      "pref_address + init_size is beyond the 64-bit address space");
	return 0;
}

int bzimage_kernel_version(const uint8_t *image, size_t len, char *out, size_t outlen)
{
	struct setup_header hdr;
	size_t pos, n = 0;

	if (outlen == 0 || len < SETUP_HEADER_OFFSET + sizeof(hdr))
		return -ENOENT;
	memcpy(&hdr, image + SETUP_HEADER_OFFSET, sizeof(hdr));
	if (hdr.header != HDRS_MAGIC || hdr.version < 0x0200 || hdr.kernel_version == 0)
		return -ENOENT;
	/* the field is an offset from the end of the boot sector, 0x200 */
	pos = (size_t)hdr.kernel_version + 0x200;
	while (pos + n < len && n + 1 < outlen && image[pos + n] > ' ' && image[pos + n] < 0x7f)
		n++;
	if (n == 0)
		return -ENOENT;
	memcpy(out, image + pos, n);
	out[n] = 0;
	return 0;
}

void bzimage_stand_in_header(uint8_t *image, uint32_t cmdline_size, uint32_t initrd_max)
{
	struct setup_header hdr = {
		.boot_flag = BOOT_FLAG_MAGIC,
		/* a short jump over the whole header: bzimage_build_zero_page() copies that far */
		.jump = 0xeb | (SETUP_HEADER_OFFSET + sizeof(hdr) - JUMP_END) << 8,
		.header = HDRS_MAGIC,
		.version = 0x020f,
		.loadflags = LOADED_HIGH,
		.initrd_addr_max = initrd_max,
		.kernel_alignment = 0x200000,
		.xloadflags = XLF_KERNEL_64,
		.cmdline_size = cmdline_size,
	};

	memcpy(image + SETUP_HEADER_OFFSET, &hdr, sizeof(hdr));
}

int bzimage_build_zero_page(struct boot_params *zp, const uint8_t *image,
			    const struct zero_page_config *cfg)
{
	/* The header runs from 0x1f1 to the end of the jump's target, capped at our struct. */
	size_t hdr_end = 0x202 + image[0x201];
	size_t hdr_len;

	if (cfg->e820_count > E820_MAX_ENTRIES_ZEROPAGE)
		return -EINVAL;
	memset(zp, 0, sizeof(*zp));
	if (hdr_end > SETUP_HEADER_OFFSET + sizeof(zp->hdr))
		hdr_end = SETUP_HEADER_OFFSET + sizeof(zp->hdr);
	hdr_len = hdr_end - SETUP_HEADER_OFFSET;
	memcpy(&zp->hdr, image + SETUP_HEADER_OFFSET, hdr_len);

	zp->hdr.type_of_loader = LOADER_TYPE_UNDEFINED;
	zp->hdr.vid_mode = VIDEO_MODE_NORMAL;
	zp->hdr.loadflags |= CAN_USE_HEAP;
	zp->hdr.heap_end_ptr = 0xe000 - 0x200; /* only the real-mode setup code would use it */
	zp->hdr.cmd_line_ptr = (uint32_t)cfg->cmdline_gpa;
	zp->ext_cmd_line_ptr = (uint32_t)(cfg->cmdline_gpa >> 32);
	/*
	 * Fields the loader owns are written whatever the image's header held: an image may
	 * carry stale values, and the kernel would go looking for an initrd or a setup_data
	 * list that is not there.
	 */
	zp->hdr.ramdisk_image = cfg->initrd_size ? (uint32_t)cfg->initrd_gpa : 0;
	zp->hdr.ramdisk_size = (uint32_t)cfg->initrd_size;
	zp->ext_ramdisk_image = cfg->initrd_size ? (uint32_t)(cfg->initrd_gpa >> 32) : 0;
	zp->ext_ramdisk_size = (uint32_t)(cfg->initrd_size >> 32);
	zp->hdr.setup_data = 0;
	/* Protocol 2.14 reads it here; older kernels find the RSDP by scanning the BIOS area. */
	zp->acpi_rsdp_addr = cfg->rsdp_gpa;
	memcpy(zp->e820_table, cfg->e820, cfg->e820_count * sizeof(cfg->e820[0]));
	zp->e820_entries = (uint8_t)cfg->e820_count;
	return 0;
}
