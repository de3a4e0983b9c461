/* SPDX-License-Identifier: MIT */
/*
 * Booting a bzImage without its decompressor: the VMM unpacks the payload (the vmlinux
 * the bzImage carries compressed, vmm/unpack.h) on the host, once, and keeps it in a
 * content-addressed cache, so that later boots load the vmlinux straight away.
 *
 * The cache: ${XDG_CACHE_HOME:-$HOME/.cache}/minivmm/kernels/<sha256 of the bzImage>.vmlinux,
 * mode 0600, written to a temporary name and renamed into place, so a reader sees a whole
 * entry or none. Beside each, <file identity>.name holds the entry's name for the bzImage
 * file it was made from (device, inode, size, mtime, ctime), so a known file is not hashed
 * again. An entry is used only when it is a regular file of ours with the size the
 * payload states and an ELF header; anything else is unpacked again over it. A directory
 * that cannot be made, is not ours, or is writable by others is not used: the vmlinux then
 * lives in an anonymous memory file for this boot only. A cache problem never fails a boot.
 *
 * Runs once, on the main thread, at start-up: before privileges are dropped and before any
 * seccomp filter is installed (vmm/main.c), so it needs no entry in vmm/seccomp.c.
 */
#ifndef VMM_X86_KERNEL_UNPACK_H
#define VMM_X86_KERNEL_UNPACK_H

#include <stddef.h>

#include "vmm/unpack.h"

/* --kernel-unpack */
enum kernel_unpack_mode {
	KERNEL_UNPACK_HOST = 0, /* the default: unpack on the host when the format allows */
	KERNEL_UNPACK_GUEST,	/* load the bzImage; its decompressor runs in the guest */
};

enum kernel_unpack_source {
	KERNEL_UNPACK_NONE,	 /* not unpacked here (format or protocol we do not unpack) */
	KERNEL_UNPACK_CACHE_HIT, /* a cache entry made by an earlier boot */
	KERNEL_UNPACK_CACHE_NEW, /* unpacked now and kept in the cache */
	KERNEL_UNPACK_MEMORY,	 /* unpacked now into memory: no usable cache directory */
};

struct kernel_unpack_result {
	int fd;	    /* the vmlinux, read-only use, owned by the caller; -1 with NONE */
	size_t len; /* its size */
	enum unpack_format format;
	enum kernel_unpack_source source;
	/* with MEMORY: why not cached, -errno (-EPERM: a directory not ours or others may
	 * write to; -ENOENT also when neither $XDG_CACHE_HOME nor $HOME is set), and of what */
	int cache_error;
	const char *cache_part; /* "the cache directory" or "its cache entry" */
};

/*
 * Unpack the bzImage open on fd (len bytes). cache_dir: the directory the entries live in,
 * or NULL for the user's (see above). Returns 0 with res->fd >= 0 (a vmlinux to load) or
 * res->fd == -1 (not a bzImage whose payload we unpack: load it as it is), or -EINVAL with
 * a sentence in err when the payload is truncated or corrupt (an input error), or another
 * -errno when the host cannot (memory).
 */
int kernel_unpack(int fd, size_t len, const char *cache_dir, struct kernel_unpack_result *res,
		  char *err, size_t errlen);

/*
 * One line for the user about what kernel_unpack() did ("unpacked on the host (lz4, ...)"),
 * with the reason when the cache was not used.
 */
void kernel_unpack_describe(const struct kernel_unpack_result *res, char *out, size_t outlen);

#endif
