/* SPDX-License-Identifier: MIT */
/*
 * The arm64 Linux kernel Image (Documentation/arm64/booting.rst): its 64-byte header says
 * where in a 2 MiB-aligned block the kernel wants to run (text_offset) and how much memory
 * it occupies from there (image_size, which covers its BSS and early page tables too).
 */
#ifndef VMM_ARM64_IMAGE_H
#define VMM_ARM64_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/memory.h"

#define IMAGE_HEADER_SIZE 64

struct image_layout {
	uint64_t text_offset; /* from the 2 MiB-aligned base */
	uint64_t image_size;  /* bytes from base + text_offset the kernel may use */
};

/*
 * Check an Image header (the first len bytes of a file of file_size bytes). Returns 0, or
 * -ENOEXEC with a sentence in err (no arm64 magic, big-endian, sizes that disagree).
 */
int image_parse(const uint8_t *head, size_t len, uint64_t file_size, struct image_layout *out,
		char *err, size_t errlen);
/*
 * Read the Image at path into guest memory at base (2 MiB aligned) + text_offset. *entry
 * is where it starts, *end the first byte past image_size. 0 or -errno with err.
 */
int image_load(const struct guest_mem *mem, const char *path, uint64_t base, uint64_t *entry,
	       uint64_t *end, char *err, size_t errlen);

#endif
