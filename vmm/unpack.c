// SPDX-License-Identifier: MIT
/* Kernel payload decompression through zlib, liblzma, libzstd, liblz4 and libbz2. */
#include "vmm/unpack.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <bzlib.h>
#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

/* lzma -9, what the kernel uses, asks for a 64 MiB dictionary; leave room, but not 4 GiB. */
#define LZMA_MEMLIMIT (256ull << 20)
#define LZ4_LEGACY_MAGIC 0x184c2102u
#define LZ4_LEGACY_BLOCK (8u << 20) /* every block but the last unpacks to this */
#define SIZE_TRAILER 4

struct magic {
	enum unpack_format format;
	uint8_t len;
	uint8_t bytes[6];
};

static const struct magic magics[] = {
	{ UNPACK_GZIP, 2, { 0x1f, 0x8b } },
	{ UNPACK_XZ, 6, { 0xfd, '7', 'z', 'X', 'Z', 0x00 } },
	{ UNPACK_ZSTD, 4, { 0x28, 0xb5, 0x2f, 0xfd } },
	{ UNPACK_LZ4, 4, { 0x02, 0x21, 0x4c, 0x18 } },
	/* lzma_alone: properties 0x5d (lc=3 lp=0 pb=2), then a dictionary size below 16 MiB*256 */
	{ UNPACK_LZMA, 3, { 0x5d, 0x00, 0x00 } },
	{ UNPACK_BZIP2, 3, { 'B', 'Z', 'h' } },
	{ UNPACK_LZO, 4, { 0x89, 'L', 'Z', 'O' } },
};

static const char *const names[] = {
	[UNPACK_UNKNOWN] = "unknown", [UNPACK_GZIP] = "gzip", [UNPACK_XZ] = "xz",
	[UNPACK_ZSTD] = "zstd",	      [UNPACK_LZ4] = "lz4",   [UNPACK_LZMA] = "lzma",
	[UNPACK_BZIP2] = "bzip2",     [UNPACK_LZO] = "lzo",
};

enum unpack_format unpack_detect(const uint8_t *in, size_t len)
{
	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (len >= magics[i].len && !memcmp(in, magics[i].bytes, magics[i].len))
			return magics[i].format;
	return UNPACK_UNKNOWN;
}

const char *unpack_format_name(enum unpack_format format)
{
	if ((unsigned int)format >= sizeof(names) / sizeof(names[0]))
		return names[UNPACK_UNKNOWN];
	return names[format];
}

int unpack_supported(enum unpack_format format)
{
	return format != UNPACK_UNKNOWN && format != UNPACK_LZO;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int unpack_output_size(const uint8_t *in, size_t len, size_t *out_len, char *err, size_t errlen)
{
	uint32_t size;

	if (len < 2 * SIZE_TRAILER) {
		snprintf(err, errlen, "payload of %zu bytes is too short", len);
		return -EINVAL;
	}
	size = le32(in + len - SIZE_TRAILER);
	if (size == 0 || size > UNPACK_MAX_OUTPUT) {
		snprintf(err, errlen, "payload states an unpacked size of %u bytes", size);
		return -EINVAL;
	}
	*out_len = size;
	return 0;
}

/*
 * One verdict for every format. ended: the decoder saw the stream's end; starved: it wanted
 * more input than there is; produced: bytes it wrote; why: the library's word otherwise.
 */
static int verdict(bool ended, bool starved, size_t produced, size_t out_len, const char *why,
		   char *err, size_t errlen)
{
	if (ended && produced == out_len)
		return 0;
	if (ended)
		snprintf(err, errlen,
			 "payload is corrupt: it unpacks to %zu bytes, not the %zu it states",
			 produced, out_len);
	else if (starved)
		snprintf(err, errlen, "payload is truncated (it ends after %zu unpacked bytes)",
			 produced);
	else if (produced == out_len)
		snprintf(err, errlen,
			 "payload is corrupt: it unpacks to more than the %zu bytes it states",
			 out_len);
	else
		snprintf(err, errlen, "payload is corrupt (%s after %zu unpacked bytes)", why,
			 produced);
	return -EINVAL;
}

static int unpack_gzip(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len, char *err,
		       size_t errlen)
{
	z_stream zs = { 0 };
	int ret;
	bool starved;
	size_t produced;
	char why[64];

	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		return -ENOMEM;
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)in_len;
	zs.next_out = out;
	zs.avail_out = (uInt)out_len;
	ret = inflate(&zs, Z_FINISH);
	starved = ret == Z_BUF_ERROR && zs.avail_in == 0;
	produced = out_len - zs.avail_out;
	snprintf(why, sizeof(why), "zlib: %s", zs.msg ? zs.msg : zError(ret));
	inflateEnd(&zs);
	if (ret == Z_MEM_ERROR)
		return -ENOMEM;
	return verdict(ret == Z_STREAM_END, starved, produced, out_len, why, err, errlen);
}

/* xz (the kernel's CRC32-checked .xz) and lzma (the old .lzma "alone" format). */
static int unpack_xz_or_lzma(bool xz, const uint8_t *in, size_t in_len, uint8_t *out,
			     size_t out_len, char *err, size_t errlen)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_ret ret = xz ? lzma_stream_decoder(&s, LZMA_MEMLIMIT, 0)
			  : lzma_alone_decoder(&s, LZMA_MEMLIMIT);
	size_t produced;
	char why[64];

	if (ret != LZMA_OK)
		return -ENOMEM;
	s.next_in = in;
	s.avail_in = in_len;
	s.next_out = out;
	s.avail_out = out_len;
	do
		ret = lzma_code(&s, LZMA_FINISH);
	while (ret == LZMA_OK);
	produced = out_len - s.avail_out;
	snprintf(why, sizeof(why), "liblzma error %d", (int)ret);
	lzma_end(&s);
	if (ret == LZMA_MEM_ERROR)
		return -ENOMEM;
	if (ret == LZMA_MEMLIMIT_ERROR)
		snprintf(why, sizeof(why), "it asks for more than %llu MiB to unpack",
			 LZMA_MEMLIMIT >> 20);
	return verdict(ret == LZMA_STREAM_END, ret == LZMA_BUF_ERROR && s.avail_in == 0, produced,
		       out_len, why, err, errlen);
}

static int unpack_zstd(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len, char *err,
		       size_t errlen)
{
	/* one frame, then the size trailer, which ZSTD_decompress() would take for a frame */
	size_t frame = ZSTD_findFrameCompressedSize(in, in_len);
	size_t n;

	if (ZSTD_isError(frame))
		return verdict(false, ZSTD_getErrorCode(frame) == ZSTD_error_srcSize_wrong, 0,
			       out_len, ZSTD_getErrorName(frame), err, errlen);
	n = ZSTD_decompress(out, out_len, in, frame);
	if (ZSTD_isError(n)) {
		if (ZSTD_getErrorCode(n) == ZSTD_error_memory_allocation)
			return -ENOMEM;
		return verdict(false, false,
			       ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall ? out_len : 0,
			       out_len, ZSTD_getErrorName(n), err, errlen);
	}
	return verdict(true, false, n, out_len, NULL, err, errlen);
}

/* The legacy frame: a magic, then blocks, each a 32-bit compressed size and its bytes. */
static int unpack_lz4(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len, char *err,
		      size_t errlen)
{
	size_t pos = 4, done = 0;

	while (done < out_len) {
		uint32_t csize;
		size_t cap = out_len - done < LZ4_LEGACY_BLOCK ? out_len - done : LZ4_LEGACY_BLOCK;
		int n;

		if (in_len - pos < 4)
			return verdict(false, true, done, out_len, NULL, err, errlen);
		csize = le32(in + pos);
		pos += 4;
		if (csize == LZ4_LEGACY_MAGIC) /* lz4 -l output concatenated */
			continue;
		if (csize > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK))
			return verdict(false, false, done, out_len, "an oversized block", err,
				       errlen);
		if (csize > in_len - pos)
			return verdict(false, true, done, out_len, NULL, err, errlen);
		n = LZ4_decompress_safe((const char *)in + pos, (char *)out + done, (int)csize,
					(int)cap);
		if (n <= 0)
			return verdict(false, false, done, out_len, "a bad lz4 block", err, errlen);
		done += (size_t)n;
		pos += csize;
		if ((size_t)n < LZ4_LEGACY_BLOCK && done < out_len)
			return verdict(true, false, done, out_len, NULL, err, errlen);
	}
	return 0;
}

static int unpack_bzip2(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len, char *err,
			size_t errlen)
{
	bz_stream s = { 0 };
	int ret;
	unsigned int in_left, out_left;
	size_t produced;
	char why[64];

	ret = BZ2_bzDecompressInit(&s, 0, 0);
	if (ret != BZ_OK)
		return ret == BZ_MEM_ERROR ? -ENOMEM : -EINVAL;
	s.next_in = (char *)in;
	s.avail_in = (unsigned int)in_len;
	s.next_out = (char *)out;
	s.avail_out = (unsigned int)out_len;
	do {
		in_left = s.avail_in;
		out_left = s.avail_out;
		ret = BZ2_bzDecompress(&s);
	} while (ret == BZ_OK && (s.avail_in != in_left || s.avail_out != out_left));
	produced = out_len - s.avail_out;
	snprintf(why, sizeof(why), "libbz2 error %d", ret);
	BZ2_bzDecompressEnd(&s);
	if (ret == BZ_MEM_ERROR)
		return -ENOMEM;
	return verdict(ret == BZ_STREAM_END, ret == BZ_OK && s.avail_in == 0, produced, out_len,
		       why, err, errlen);
}

int unpack_payload(enum unpack_format format, const uint8_t *in, size_t in_len, uint8_t *out,
		   size_t out_len, char *err, size_t errlen)
{
	/* the libraries count in 32 bits; a kernel's payload_length is 32 bits too */
	if (in_len > UINT_MAX || out_len > UNPACK_MAX_OUTPUT) {
		snprintf(err, errlen, "payload is too large");
		return -EINVAL;
	}
	switch (format) {
	case UNPACK_GZIP:
		return unpack_gzip(in, in_len, out, out_len, err, errlen);
	case UNPACK_XZ:
	case UNPACK_LZMA:
		return unpack_xz_or_lzma(format == UNPACK_XZ, in, in_len, out, out_len, err,
					 errlen);
	case UNPACK_ZSTD:
		return unpack_zstd(in, in_len, out, out_len, err, errlen);
	case UNPACK_LZ4:
		if (in_len < 4)
			return verdict(false, true, 0, out_len, NULL, err, errlen);
		return unpack_lz4(in, in_len, out, out_len, err, errlen);
	case UNPACK_BZIP2:
		return unpack_bzip2(in, in_len, out, out_len, err, errlen);
	default:
		snprintf(err, errlen, "payload compression %s is not supported",
			 unpack_format_name(format));
		return -EOPNOTSUPP;
	}
}
