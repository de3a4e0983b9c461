/* SPDX-License-Identifier: MIT */
/*
 * The release a kernel file was built as ("6.1.0-57-cloud-amd64"), which names its modules'
 * directory for `vmm run`. Every Linux kernel carries it in the banner
 * "Linux version RELEASE (builder) ..." in its read-only data; an uncompressed kernel (an
 * x86 vmlinux, an arm64 Image) has it as plain bytes.
 */
#ifndef VMM_KERNEL_RELEASE_H
#define VMM_KERNEL_RELEASE_H

#include <stddef.h>
#include <stdint.h>

/* The release from the banner in data; 0, or -ENOENT when data holds no such banner. */
int kernel_release_from_banner(const uint8_t *data, size_t len, char *out, size_t outlen);
/*
 * The same for the whole of an open file of size bytes, mapped (page cache, no copy): 0,
 * -ENOENT, or -errno when it cannot be mapped.
 */
int kernel_release_from_fd(int fd, uint64_t size, char *out, size_t outlen);

#endif
