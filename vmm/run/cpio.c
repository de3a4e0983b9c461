// SPDX-License-Identifier: MIT
/* newc cpio writer for the `vmm run` initramfs. */
#include "vmm/run/cpio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NEWC_HEADER_LEN 110

void cpio_init(struct cpio *c)
{
	memset(c, 0, sizeof(*c));
	c->next_ino = 1;
}

static int reserve(struct cpio *c, size_t more)
{
	size_t cap = c->cap ? c->cap : 64 * 1024;
	uint8_t *buf;

	if (c->len + more < c->len)
		return -ENOMEM;
	while (cap < c->len + more) {
		if (cap > SIZE_MAX / 2)
			return -ENOMEM;
		cap *= 2;
	}
	if (cap == c->cap)
		return 0;
	buf = realloc(c->buf, cap);
	if (!buf)
		return -ENOMEM;
	c->buf = buf;
	c->cap = cap;
	return 0;
}

static void pad4(struct cpio *c)
{
	while (c->len % 4)
		c->buf[c->len++] = 0;
}

static int add_entry(struct cpio *c, const char *name, uint32_t mode, uint32_t rmaj, uint32_t rmin,
		     const void *data, size_t len)
{
	size_t namesize = strlen(name) + 1;
	char hdr[NEWC_HEADER_LEN + 1];
	int ret;

	if (c->error)
		return c->error;
	/* newc sizes are 32-bit; the kernel would misread anything larger */
	if (len > UINT32_MAX || namesize > 4096) {
		c->error = -EFBIG;
		return c->error;
	}
	ret = reserve(c, NEWC_HEADER_LEN + namesize + len + 8);
	if (ret) {
		c->error = ret;
		return ret;
	}
	snprintf(hdr, sizeof(hdr), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 c->next_ino++, mode, 0, 0, 1, 0, (unsigned int)len, 0, 0, rmaj, rmin,
		 (unsigned int)namesize, 0);
	memcpy(c->buf + c->len, hdr, NEWC_HEADER_LEN);
	c->len += NEWC_HEADER_LEN;
	memcpy(c->buf + c->len, name, namesize);
	c->len += namesize;
	pad4(c);
	if (len)
		memcpy(c->buf + c->len, data, len);
	c->len += len;
	pad4(c);
	return 0;
}

int cpio_add(struct cpio *c, const char *name, mode_t mode, const void *data, size_t len)
{
	return add_entry(c, name, (uint32_t)mode, 0, 0, data, len);
}

int cpio_add_dir(struct cpio *c, const char *name, mode_t perm)
{
	return add_entry(c, name, S_IFDIR | (perm & 07777), 0, 0, NULL, 0);
}

int cpio_add_file(struct cpio *c, const char *name, mode_t perm, const void *data, size_t len)
{
	return add_entry(c, name, S_IFREG | (perm & 07777), 0, 0, data, len);
}

int cpio_add_symlink(struct cpio *c, const char *name, const char *target)
{
	return add_entry(c, name, S_IFLNK | 0777, 0, 0, target, strlen(target));
}

int cpio_add_node(struct cpio *c, const char *name, mode_t mode, unsigned int major,
		  unsigned int minor)
{
	return add_entry(c, name, (uint32_t)mode, major, minor, NULL, 0);
}

int cpio_finish(struct cpio *c)
{
	add_entry(c, "TRAILER!!!", 0, 0, 0, NULL, 0);
	return c->error;
}

void cpio_free(struct cpio *c)
{
	free(c->buf);
	cpio_init(c);
}
