/* SPDX-License-Identifier: MIT */
/*
 * SHA-256 (FIPS 180-4) of a buffer in memory: the name of a kernel cache entry is the hash
 * of the bzImage it was unpacked from. Pure function, no state between calls.
 */
#ifndef VMM_SHA256_H
#define VMM_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_BYTES 32

void sha256(const uint8_t *data, size_t len, uint8_t digest[SHA256_BYTES]);

/* bytes[0..n) as 2n lowercase hex digits and a NUL in out (2n + 1 bytes): digests in names. */
void hex_string(const uint8_t *bytes, size_t n, char *out);

#endif
