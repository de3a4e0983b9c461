/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the kernel payload decompression (vmm/unpack.c): the input is a
 * bzImage's payload, which whoever built the kernel controls. Its format comes from its
 * magic, as the loader decides; the size its trailer states is taken modulo 1 MiB (plus
 * one) so that every input gets unpacked into a buffer of exactly that size, which ASan
 * watches for any write or read outside it and outside the input.
 *
 * unpack_payload() must return 0, -EINVAL with a sentence, or -ENOMEM; never crash, hang
 * or leak (liblzma's memory limit keeps a claimed huge dictionary from being allocated).
 *
 * Built with -DUNPACK_FUZZ_MAKE_SEEDS (and without -fsanitize=fuzzer) this file is instead
 * a program that writes one small valid payload per format into the directory named on
 * its command line.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/unpack.h"

#ifndef UNPACK_FUZZ_MAKE_SEEDS

#define FUZZ_MAX_OUTPUT (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum unpack_format format = unpack_detect(data, size);
	char err[256];
	size_t out_len;
	uint8_t *out;
	int ret;

	if (!unpack_supported(format))
		return 0;
	memset(err, 0, sizeof(err));
	if (unpack_output_size(data, size, &out_len, err, sizeof(err))) {
		if (!err[0])
			__builtin_trap();
		return 0;
	}
	out_len = out_len % FUZZ_MAX_OUTPUT + 1;
	out = malloc(out_len);
	if (!out)
		return 0;
	ret = unpack_payload(format, data, size, out, out_len, err, sizeof(err));
	if (ret != 0 && ret != -EINVAL && ret != -ENOMEM)
		__builtin_trap();
	if (ret == -EINVAL && (!err[0] || !memchr(err, 0, sizeof(err))))
		__builtin_trap();
	free(out);
	return 0;
}

#else

#include "../unit/vmm/payload.h"

int main(int argc, char **argv)
{
	static const enum unpack_format formats[] = { UNPACK_GZIP, UNPACK_XZ,	UNPACK_ZSTD,
						      UNPACK_LZ4,  UNPACK_LZMA, UNPACK_BZIP2 };
	static uint8_t data[3000], payload[8192];

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)("vmlinux payload "[i % 16] + (i % 251 == 0));
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		size_t n = test_payload(formats[i], data, sizeof(data), payload, sizeof(payload));
		char path[4096];
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", argv[1], unpack_format_name(formats[i]));
		f = fopen(path, "wb");
		if (!n || !f || fwrite(payload, 1, n, f) != n || fclose(f)) {
			fprintf(stderr, "cannot write %s\n", path);
			return 1;
		}
	}
	return 0;
}

#endif
