/* SPDX-License-Identifier: MIT */
/*
 * Compressed kernel payloads made at test time with the same libraries the VMM unpacks
 * them with, in the shape the kernel's build gives them: the compressed stream, then the
 * uncompressed size as a 32-bit little-endian trailer (gzip's own ISIZE serves as it).
 */
#ifndef TESTS_UNIT_VMM_PAYLOAD_H
#define TESTS_UNIT_VMM_PAYLOAD_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bzlib.h>
#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "vmm/unpack.h"

#define TEST_LZ4_BLOCK (8u << 20)

static inline void test_put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline size_t test_gzip(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	z_stream zs = { 0 };
	size_t n;

	if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return 0;
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	n = deflate(&zs, Z_FINISH) == Z_STREAM_END ? cap - zs.avail_out : 0;
	deflateEnd(&zs);
	return n;
}

static inline size_t test_lzma(int xz, const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_options_lzma opt;
	size_t n;

	lzma_lzma_preset(&opt, 1);
	if ((xz ? lzma_easy_encoder(&s, 1, LZMA_CHECK_CRC32) : lzma_alone_encoder(&s, &opt)) !=
	    LZMA_OK)
		return 0;
	s.next_in = in;
	s.avail_in = len;
	s.next_out = out;
	s.avail_out = cap;
	n = lzma_code(&s, LZMA_FINISH) == LZMA_STREAM_END ? cap - s.avail_out : 0;
	lzma_end(&s);
	return n;
}

/* lz4 -l: the legacy magic, then blocks of TEST_LZ4_BLOCK input bytes, each size-prefixed */
static inline size_t test_lz4(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	size_t pos = 4;

	test_put_le32(out, 0x184c2102);
	for (size_t done = 0; done < len; done += TEST_LZ4_BLOCK) {
		size_t chunk = len - done < TEST_LZ4_BLOCK ? len - done : TEST_LZ4_BLOCK;
		int n = LZ4_compress_default((const char *)in + done, (char *)out + pos + 4,
					     (int)chunk, (int)(cap - pos - 4));

		if (n <= 0)
			return 0;
		test_put_le32(out + pos, (uint32_t)n);
		pos += 4 + (size_t)n;
	}
	return pos;
}

/*
 * The payload for data (len bytes) in format, into out (cap bytes). Returns its length
 * with the size trailer, or 0 when a library refused.
 */
static inline size_t test_payload(enum unpack_format format, const uint8_t *data, size_t len,
				  uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned int bz = (unsigned int)cap;

	switch (format) {
	case UNPACK_GZIP:
		return test_gzip(data, len, out, cap); /* ISIZE is the trailer */
	case UNPACK_XZ:
	case UNPACK_LZMA:
		n = test_lzma(format == UNPACK_XZ, data, len, out, cap);
		break;
	case UNPACK_ZSTD:
		n = ZSTD_compress(out, cap, data, len, 3);
		if (ZSTD_isError(n))
			n = 0;
		break;
	case UNPACK_LZ4:
		n = test_lz4(data, len, out, cap);
		break;
	case UNPACK_BZIP2:
		n = BZ2_bzBuffToBuffCompress((char *)out, &bz, (char *)data, (unsigned int)len, 1,
					     0, 0) == BZ_OK
			    ? bz
			    : 0;
		break;
	default:
		return 0;
	}
	if (n == 0 || n + 4 > cap)
		return 0;
	test_put_le32(out + n, (uint32_t)len);
	return n + 4;
}

#endif
