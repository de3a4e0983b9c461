// SPDX-License-Identifier: MIT
/* Loading an arm64 kernel Image: its header checked, its bytes read into guest RAM. */
#include "vmm/arm64/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "vmm/hostfile.h"

#define IMAGE_MAGIC 0x644d5241u /* "ARM\x64" at offset 56 */
#define IMAGE_FLAG_BIG_ENDIAN 0x1ull
/* Kernels before 3.17 leave image_size 0 and expect text_offset 0x80000 (booting.rst). */
#define IMAGE_OLD_TEXT_OFFSET 0x80000ull
#define IMAGE_ALIGN 0x200000ull

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

int image_parse(const uint8_t *head, size_t len, uint64_t file_size, struct image_layout *out,
		char *err, size_t errlen)
{
	uint64_t flags;

	if (len < IMAGE_HEADER_SIZE || (uint32_t)le64(head + 56) != IMAGE_MAGIC) {
		snprintf(err, errlen,
			 "not an arm64 kernel Image (no \"ARM\\x64\" magic at byte 56)");
		return -ENOEXEC;
	}
	out->text_offset = le64(head + 8);
	out->image_size = le64(head + 16);
	flags = le64(head + 24);
	if (out->image_size == 0) {
		out->text_offset = IMAGE_OLD_TEXT_OFFSET;
		out->image_size = file_size;
	}
	if (flags & IMAGE_FLAG_BIG_ENDIAN) {
		snprintf(err, errlen,
			 "a big-endian arm64 kernel; this VMM runs little-endian ones");
		return -ENOEXEC;
	}
	if (out->text_offset >= IMAGE_ALIGN || out->image_size < file_size) {
		snprintf(err, errlen,
			 "the Image header's sizes disagree with the file (text_offset 0x%llx, "
			 "image_size %llu, file %llu bytes)",
			 (unsigned long long)out->text_offset, (unsigned long long)out->image_size,
			 (unsigned long long)file_size);
		return -ENOEXEC;
	}
	return 0;
}

static int read_at(int fd, void *dst, size_t len, off_t offset)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (uint8_t *)dst + done, len - done, offset + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

int image_load(const struct guest_mem *mem, const char *path, uint64_t base, uint64_t *entry,
	       uint64_t *end, char *err, size_t errlen)
{
	uint8_t head[IMAGE_HEADER_SIZE];
	struct image_layout layout;
	const char *why;
	struct stat st;
	char reason[160];
	uint8_t *dst;
	int fd = hostfile_open(path, O_RDONLY, 0, HOSTFILE_REGULAR, &st, &why), ret;

	if (fd < 0) {
		snprintf(err, errlen, "--kernel %s: %s", path, why);
		return fd;
	}
	ret = read_at(fd, head, sizeof(head), 0);
	if (!ret) {
		ret = image_parse(head, sizeof(head), (uint64_t)st.st_size, &layout, reason,
				  sizeof(reason));
		if (ret)
			snprintf(err, errlen, "--kernel %s: %s", path, reason);
	} else {
		snprintf(err, errlen, "--kernel %s: too short for an arm64 Image", path);
	}
	if (ret)
		goto out;
	*entry = base + layout.text_offset;
	*end = *entry + layout.image_size;
	dst = guest_mem_ptr(mem, *entry, layout.image_size);
	if (!dst) {
		snprintf(err, errlen, "--kernel %s: needs %llu MiB from 0x%llx, more than --memory",
			 path, (unsigned long long)(layout.image_size >> 20),
			 (unsigned long long)*entry);
		ret = -EFBIG;
		goto out;
	}
	ret = read_at(fd, dst, (size_t)st.st_size, 0);
	if (ret)
		snprintf(err, errlen, "--kernel %s: read failed: %s", path, strerror(-ret));
out:
	close(fd);
	return ret;
}
