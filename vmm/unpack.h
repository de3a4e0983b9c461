/* SPDX-License-Identifier: MIT */
/*
 * Decompressing a Linux kernel's payload, the vmlinux a bzImage carries compressed, as
 * pure functions over bytes: recognise the compression by its magic and unpack it into a
 * buffer of the size the kernel's build states. No file access here, so every format and
 * every way of being corrupt is unit-testable and fuzzable.
 *
 * The kernel's build (arch/x86/boot/compressed/Makefile) compresses vmlinux.bin, plus on
 * a kernel with KASLR its relocation table, and appends the uncompressed size as a
 * 32-bit little-endian number (for gzip that is the format's own ISIZE trailer). lz4 is
 * the legacy frame ("lz4 -l") the kernel's unlz4 reads.
 */
#ifndef VMM_UNPACK_H
#define VMM_UNPACK_H

#include <stddef.h>
#include <stdint.h>

/* A vmlinux is tens of MiB; a payload that claims more is taken as corrupt. */
#define UNPACK_MAX_OUTPUT (1ull << 30)

enum unpack_format {
	UNPACK_UNKNOWN = 0,
	UNPACK_GZIP,
	UNPACK_XZ,
	UNPACK_ZSTD,
	UNPACK_LZ4,
	UNPACK_LZMA,
	UNPACK_BZIP2,
	UNPACK_LZO, /* recognised so that it can be named, but not unpacked here */
};

/* The format of a payload of len bytes, from its first bytes. */
enum unpack_format unpack_detect(const uint8_t *in, size_t len);
/* "gzip", "xz", ...; "unknown" for UNPACK_UNKNOWN. */
const char *unpack_format_name(enum unpack_format format);
/* Whether unpack_payload() can unpack this format. */
int unpack_supported(enum unpack_format format);

/*
 * The uncompressed size the build appended to the payload. Returns 0, or -EINVAL with a
 * sentence in err when the payload is too short for it or the size is 0 or above
 * UNPACK_MAX_OUTPUT.
 */
int unpack_output_size(const uint8_t *in, size_t len, size_t *out_len, char *err, size_t errlen);

/*
 * Unpack the payload in (in_len bytes, the size trailer included) into out, which must be
 * exactly out_len bytes: the stream must end where it says and fill out exactly. Returns 0,
 * -EINVAL with a sentence in err ("truncated", "corrupt ...") or -ENOMEM.
 */
int unpack_payload(enum unpack_format format, const uint8_t *in, size_t in_len, uint8_t *out,
		   size_t out_len, char *err, size_t errlen);

#endif
