/* SPDX-License-Identifier: MIT */
/*
 * A newc ("070701") cpio archive built in memory: what `vmm run` hands the guest kernel
 * as its initramfs. Only what an initramfs needs: directories, regular files, symlinks
 * and device nodes, owned by root, with mtime 0 so an image is reproducible.
 */
#ifndef VMM_RUN_CPIO_H
#define VMM_RUN_CPIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cpio {
	uint8_t *buf;
	size_t len, cap;
	uint32_t next_ino;
	int error; /* the first -errno; every later call does nothing */
};

void cpio_init(struct cpio *c);
/* mode holds the file type bits (S_IFREG, S_IFDIR, ...) and the permissions. */
int cpio_add(struct cpio *c, const char *name, mode_t mode, const void *data, size_t len);
int cpio_add_dir(struct cpio *c, const char *name, mode_t perm);
int cpio_add_file(struct cpio *c, const char *name, mode_t perm, const void *data, size_t len);
int cpio_add_symlink(struct cpio *c, const char *name, const char *target);
int cpio_add_node(struct cpio *c, const char *name, mode_t mode, unsigned int major,
		  unsigned int minor);
/* Append the trailer; returns 0 or the first error any call met. */
int cpio_finish(struct cpio *c);
void cpio_free(struct cpio *c);

#endif
