/* SPDX-License-Identifier: MIT */
/*
 * The 8-bit checksum ACPI (6.5, section 5.2.5.3 and 5.2.6) and SMBIOS (3.x, section 5.2.2)
 * both use: the byte that makes a structure's bytes add up to zero, modulo 256. Write 0
 * in the checksum field, then store this over the same bytes.
 */
#ifndef FIRMWARE_CHECKSUM_H
#define FIRMWARE_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

static inline uint8_t firmware_checksum(const void *p, size_t len)
{
	const uint8_t *bytes = p;
	uint8_t sum = 0;

	while (len--)
		sum += *bytes++;
	return (uint8_t)-sum;
}

#endif
