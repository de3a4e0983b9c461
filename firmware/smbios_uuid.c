/* SPDX-License-Identifier: MIT */
/*
 * The machine's identity as a user writes it (--uuid, --name) and as SMBIOS's system
 * structure (type 1) holds it: a name's characters checked, a UUID parsed from and
 * formatted to its 36-character text, or made at random (RFC 4122 version 4).
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "firmware/smbios.h"
#include "vmm/parse.h"

bool smbios_name_valid(const char *name)
{
	size_t len;

	if (!name)
		return true;
	len = strnlen(name, SMBIOS_NAME_MAX + 1);
	if (len > SMBIOS_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (name[i] < 0x20 || name[i] > 0x7e)
			return false;
	}
	return true;
}

/* Hyphens after the 4th, 6th, 8th and 10th byte: text positions 8, 13, 18 and 23. */
static bool smbios_uuid_hyphen_at(size_t pos)
{
	return pos == 8 || pos == 13 || pos == 18 || pos == 23;
}

int smbios_uuid_parse(const char *text, uint8_t out[SMBIOS_UUID_LEN])
{
	uint8_t uuid[SMBIOS_UUID_LEN] = { 0 };
	unsigned int nibble = 0;

	if (!text || strnlen(text, SMBIOS_UUID_TEXT_LEN + 1) != SMBIOS_UUID_TEXT_LEN)
		return -EINVAL;
	for (size_t pos = 0; pos < SMBIOS_UUID_TEXT_LEN; pos++) {
		int v;

		if (smbios_uuid_hyphen_at(pos)) {
			if (text[pos] != '-')
				return -EINVAL;
			continue;
		}
		v = parse_digit(text[pos], 16);
		if (v < 0)
			return -EINVAL;
		uuid[nibble / 2] |= nibble % 2 ? v : v << 4;
		nibble++;
	}
	memcpy(out, uuid, sizeof(uuid));
	return 0;
}

void smbios_uuid_format(const uint8_t uuid[SMBIOS_UUID_LEN], char out[SMBIOS_UUID_TEXT_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	size_t pos = 0;

	for (unsigned int i = 0; i < SMBIOS_UUID_LEN; i++) {
		if (smbios_uuid_hyphen_at(pos))
			out[pos++] = '-';
		out[pos++] = digits[uuid[i] >> 4];
		out[pos++] = digits[uuid[i] & 0xf];
	}
	out[pos] = '\0';
}

int smbios_uuid_generate(uint8_t out[SMBIOS_UUID_LEN])
{
	uint8_t uuid[SMBIOS_UUID_LEN];
	size_t got = 0;

	while (got < sizeof(uuid)) {
		ssize_t n = getrandom(uuid + got, sizeof(uuid) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += n;
	}
	uuid[6] = (uuid[6] & 0x0f) | 0x40; /* version 4: random */
	uuid[8] = (uuid[8] & 0x3f) | 0x80; /* variant: RFC 4122 */
	memcpy(out, uuid, sizeof(uuid));
	return 0;
}
