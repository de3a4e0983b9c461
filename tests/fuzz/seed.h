/* SPDX-License-Identifier: MIT */
/* For the seed-corpus writers (a fuzz target built with -D<TARGET>_FUZZ_MAKE_SEEDS). */
#ifndef TESTS_FUZZ_SEED_H
#define TESTS_FUZZ_SEED_H

#include <stddef.h>
#include <stdio.h>

/* Write buf as dir/name; returns 0, or 1 after a message naming the file. */
static inline int seed_save(const void *buf, size_t len, const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		return 1;
	}
	return 0;
}

#endif
