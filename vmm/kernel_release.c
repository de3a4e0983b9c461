// SPDX-License-Identifier: MIT
/* A kernel's release, read from the banner in its read-only data. */
#include "vmm/kernel_release.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define BANNER "Linux version "

int kernel_release_from_banner(const uint8_t *data, size_t len, char *out, size_t outlen)
{
	const size_t blen = sizeof(BANNER) - 1;
	const uint8_t *p = data;

	while (outlen && len >= (size_t)(p - data) + blen) {
		size_t left = len - (size_t)(p - data), pos, n = 0;
		const uint8_t *hit = memmem(p, left, BANNER, blen);

		if (!hit)
			break;
		pos = (size_t)(hit - data) + blen;
		while (pos + n < len && n + 1 < outlen && data[pos + n] > ' ' &&
		       data[pos + n] < 0x7f)
			n++;
		/* the banner itself (a release starts with a digit), not a format or a quote */
		if (n && data[pos] >= '0' && data[pos] <= '9' && pos + n + 1 < len &&
		    data[pos + n] == ' ' && data[pos + n + 1] == '(') {
			memcpy(out, data + pos, n);
			out[n] = 0;
			return 0;
		}
		p = hit + 1;
	}
	return -ENOENT;
}

int kernel_release_from_fd(int fd, uint64_t size, char *out, size_t outlen)
{
	void *map;
	int ret;

	if (size == 0 || size > SIZE_MAX)
		return -EIO;
	map = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	ret = kernel_release_from_banner(map, (size_t)size, out, outlen);
	munmap(map, (size_t)size);
	return ret;
}
