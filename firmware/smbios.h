/* SPDX-License-Identifier: MIT */
/*
 * SMBIOS tables (DMTF DSP0134, version 3.0): what a PC's firmware tells the OS about the
 * machine itself. Here they say that it is a virtual machine, which one (its UUID and
 * name) and what it has (vCPUs, RAM). Built once at start-up into the BIOS area of guest
 * memory, where Linux scans for the entry point; it then shows them in
 * /sys/class/dmi/id/.
 */
#ifndef FIRMWARE_SMBIOS_H
#define FIRMWARE_SMBIOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SMBIOS_UUID_LEN 16
#define SMBIOS_UUID_TEXT_LEN 36 /* 8-4-4-4-12 hex digits and hyphens, without the NUL */
#define SMBIOS_MAX_CPUS 254	/* one type 4 structure per vCPU, as many as the VMM allows */
#define SMBIOS_NAME_MAX 64	/* bytes in cfg->name, without the NUL */
#define SMBIOS_DEFAULT_NAME "minivmm"

struct smbios_config {
	/* The system UUID in RFC 4122 byte order: as smbios_uuid_parse() returns it. */
	uint8_t uuid[SMBIOS_UUID_LEN];
	/* Product name (type 1); NULL or "" gives SMBIOS_DEFAULT_NAME. See smbios_name_valid(). */
	const char *name;
	unsigned int ncpus; /* 1 .. SMBIOS_MAX_CPUS: one processor structure each */
	uint64_t mem_size;  /* guest RAM in bytes, laid out as devices/platform.h says */
};

/*
 * Write the 64-bit (SMBIOS 3.0) entry point at offset 0 of buf, which the guest sees at
 * guest-physical address gpa (16-byte aligned), and the structure table after it.
 * Returns the bytes used, -ENOSPC when size is too small (nothing is written past size),
 * or -EINVAL for a config it cannot describe (ncpus 0 or over SMBIOS_MAX_CPUS, mem_size
 * under 1 MiB, an invalid name, a misaligned gpa).
 */
ssize_t smbios_build(void *buf, size_t size, uint64_t gpa, const struct smbios_config *cfg);

/*
 * Whether name can be the product name: at most SMBIOS_NAME_MAX bytes, printable ASCII
 * only (SMBIOS strings are NUL-terminated and shown as they are). NULL and "" are valid
 * (the default name).
 */
bool smbios_name_valid(const char *name);

/*
 * Parse a UUID in the canonical form 8-4-4-4-12 (hex digits, either case, nothing before
 * or after) into its 16 bytes in RFC 4122 order, the order of the text. 0 or -EINVAL.
 */
int smbios_uuid_parse(const char *text, uint8_t out[SMBIOS_UUID_LEN]);

/* The canonical lower-case text of uuid (RFC 4122 byte order), NUL-terminated. */
void smbios_uuid_format(const uint8_t uuid[SMBIOS_UUID_LEN], char out[SMBIOS_UUID_TEXT_LEN + 1]);

/* A random (version 4, RFC 4122 variant) UUID from getrandom(). 0 or -errno. */
int smbios_uuid_generate(uint8_t out[SMBIOS_UUID_LEN]);

#endif
