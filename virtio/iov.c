/* SPDX-License-Identifier: MIT */
/* Byte ranges of iovec arrays, checked against what the segments hold (virtio/iov.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "virtio/iov.h"

size_t iov_size(const struct iovec *iov, unsigned int cnt)
{
	size_t total = 0;

	/* no overflow: a chain's segments lie in guest RAM and sum to at most 32 bits */
	for (unsigned int i = 0; i < cnt; i++)
		total += iov[i].iov_len;
	return total;
}

/* [off, off + len) inside the segments, without overflowing */
static bool range_fits(const struct iovec *iov, unsigned int cnt, size_t off, size_t len)
{
	size_t total = iov_size(iov, cnt);

	return len <= total && off <= total - len;
}

/*
 * Walk [off, off + len) segment by segment; copy between the segments and buf when buf is
 * not NULL (to_iov picks the direction). The range has been checked.
 */
static void copy_range(const struct iovec *iov, size_t off, uint8_t *buf, size_t len, bool to_iov)
{
	for (unsigned int i = 0; len; i++) {
		size_t n;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		n = iov[i].iov_len - off < len ? iov[i].iov_len - off : len;
		if (to_iov)
			memcpy((uint8_t *)iov[i].iov_base + off, buf, n);
		else
			memcpy(buf, (const uint8_t *)iov[i].iov_base + off, n);
		buf += n;
		len -= n;
		off = 0;
	}
}

int iov_to_buf(const struct iovec *iov, unsigned int cnt, size_t off, void *dst, size_t len)
{
	if (!range_fits(iov, cnt, off, len))
		return -EMSGSIZE;
	copy_range(iov, off, dst, len, false);
	return 0;
}

int iov_from_buf(const struct iovec *iov, unsigned int cnt, size_t off, const void *src, size_t len)
{
	if (!range_fits(iov, cnt, off, len))
		return -EMSGSIZE;
	copy_range(iov, off, (uint8_t *)src, len, true);
	return 0;
}

int iov_slice(const struct iovec *iov, unsigned int cnt, size_t off, size_t len, struct iovec *out,
	      unsigned int max)
{
	unsigned int k = 0;

	if (!range_fits(iov, cnt, off, len))
		return -EMSGSIZE;
	for (unsigned int i = 0; len; i++) {
		size_t take;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		if (k == max)
			return -E2BIG;
		take = iov[i].iov_len - off < len ? iov[i].iov_len - off : len;
		out[k].iov_base = (uint8_t *)iov[i].iov_base + off;
		out[k].iov_len = take;
		k++;
		len -= take;
		off = 0;
	}
	return (int)k;
}

int iov_pull(struct iovec **iov, unsigned int *cnt, size_t n)
{
	if (n > iov_size(*iov, *cnt))
		return -EMSGSIZE;
	while (n && *cnt) {
		if (n < (*iov)->iov_len) {
			(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + n;
			(*iov)->iov_len -= n;
			return 0;
		}
		n -= (*iov)->iov_len;
		(*iov)++;
		(*cnt)--;
	}
	return 0;
}
