/* SPDX-License-Identifier: MIT */
/*
 * Byte ranges of an iovec array: the one set of helpers every device uses to read and
 * write guest buffers, which a driver may split across descriptors in any way.
 *
 * Every helper checks the range it is given against the bytes the segments hold and fails
 * with -EMSGSIZE when the range does not fit, doing nothing then: no partial copy, no
 * silent truncation. The caller turns that into its device's error (a bad request, or
 * NEEDS_RESET). Zero-length segments are allowed anywhere and never dereferenced.
 *
 * Threading: none; the helpers touch only the memory they are given. The guest may write
 * its buffers while we copy: copy a value once, then check the copy.
 */
#ifndef VIRTIO_IOV_H
#define VIRTIO_IOV_H

#include <stddef.h>
#include <sys/uio.h>

/* Bytes in iov[0 .. cnt). */
size_t iov_size(const struct iovec *iov, unsigned int cnt);

/* Copy the bytes [off, off + len) of iov to dst. 0, or -EMSGSIZE. */
int iov_to_buf(const struct iovec *iov, unsigned int cnt, size_t off, void *dst, size_t len);

/* Copy len bytes from src into iov at byte off. 0, or -EMSGSIZE. */
int iov_from_buf(const struct iovec *iov, unsigned int cnt, size_t off, const void *src,
		 size_t len);

/*
 * Describe the bytes [off, off + len) of iov with at most max segments in out, leaving out
 * empty ones. Returns the count (0 when len is 0), -EMSGSIZE when iov holds fewer than
 * off + len bytes, or -E2BIG when the range spans more than max non-empty segments.
 */
int iov_slice(const struct iovec *iov, unsigned int cnt, size_t off, size_t len, struct iovec *out,
	      unsigned int max);

/*
 * Drop the first n bytes of *iov in place: whole segments leave the front (*iov and *cnt
 * move), and the segment where n ends is shortened. 0, or -EMSGSIZE (nothing changed).
 */
int iov_pull(struct iovec **iov, unsigned int *cnt, size_t n);

#endif
