// SPDX-License-Identifier: MIT
/* --disk PATH[,key=value...]: the disk's option parser (virtio/blk/disk.h). */
#include "virtio/blk/disk.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------ */
/* --disk */

static int opt_error(char *err, size_t errlen, const char *key, const char *value, const char *why)
{
	snprintf(err, errlen, "--disk %s=%s: %s", key, value, why);
	return -EINVAL;
}

static int parse_on_off(const char *value, bool *out)
{
	if (!strcmp(value, "on")) {
		*out = true;
		return 0;
	}
	if (!strcmp(value, "off")) {
		*out = false;
		return 0;
	}
	return -EINVAL;
}

static int parse_queues(const char *value, unsigned int *out)
{
	unsigned long n = 0;

	if (!*value || strlen(value) > 3)
		return -EINVAL;
	for (const char *p = value; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		n = n * 10 + (unsigned long)(*p - '0');
	}
	if (n > DISK_MAX_QUEUES)
		return -EINVAL;
	*out = (unsigned int)n;
	return 0;
}

/* A split virtqueue's size: a power of two up to the spec's 32768. */
static int parse_queue_size(const char *value, unsigned int *out)
{
	char *end;
	unsigned long n;

	if (!isdigit((unsigned char)*value))
		return -EINVAL;
	errno = 0;
	n = strtoul(value, &end, 10);
	if (errno || *end || n == 0 || n > DISK_MAX_QUEUE_SIZE || (n & (n - 1)))
		return -EINVAL;
	*out = (unsigned int)n;
	return 0;
}

enum {
	KEY_PATH = 1 << 0,
	KEY_READONLY = 1 << 1,
	KEY_SERIAL = 1 << 2,
	KEY_CACHE = 1 << 3,
	KEY_QUEUES = 1 << 4,
	KEY_QUEUE_SIZE = 1 << 5,
};

static int apply_item(struct disk_options *o, unsigned int *seen, const char *key,
		      const char *value, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		unsigned int bit;
	} keys[] = {
		{ "path", KEY_PATH },	  { "readonly", KEY_READONLY },
		{ "serial", KEY_SERIAL }, { "cache", KEY_CACHE },
		{ "queues", KEY_QUEUES }, { "queue-size", KEY_QUEUE_SIZE },
	};
	unsigned int bit = 0;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(key, keys[i].name))
			bit = keys[i].bit;
	if (!bit)
		return opt_error(err, errlen, key, value,
				 "unknown key (expected path, readonly, serial, cache, queues or "
				 "queue-size)");
	if (*seen & bit)
		return opt_error(err, errlen, key, value, "key given twice");
	*seen |= bit;

	switch (bit) {
	case KEY_PATH:
		if (!*value)
			return opt_error(err, errlen, key, value, "empty file name");
		if (strlen(value) >= sizeof(o->path))
			return opt_error(err, errlen, key, value, "file name too long");
		strcpy(o->path, value);
		return 0;
	case KEY_READONLY:
		if (parse_on_off(value, &o->readonly))
			return opt_error(err, errlen, key, value, "must be on or off");
		return 0;
	case KEY_SERIAL:
		if (strlen(value) > DISK_SERIAL_MAX)
			return opt_error(err, errlen, key, value,
					 "longer than 20 bytes (VIRTIO_BLK_ID_BYTES)");
		for (const char *p = value; *p; p++)
			if (*p < 0x20 || *p > 0x7e)
				return opt_error(err, errlen, key, value,
						 "must be printable ASCII");
		strcpy(o->serial, value);
		return 0;
	case KEY_CACHE:
		if (!strcmp(value, "none"))
			o->cache = DISK_CACHE_NONE;
		else if (!strcmp(value, "writeback"))
			o->cache = DISK_CACHE_WRITEBACK;
		else
			return opt_error(err, errlen, key, value, "must be none or writeback");
		return 0;
	case KEY_QUEUE_SIZE:
		if (parse_queue_size(value, &o->queue_size))
			return opt_error(err, errlen, key, value,
					 "must be a power of two from 1 to 32768");
		return 0;
	default: /* KEY_QUEUES */
		if (parse_queues(value, &o->queues))
			return opt_error(
				err, errlen, key, value,
				"must be a whole number from 1 to 63, or 0 for one per vCPU");
		return 0;
	}
}

int disk_parse_option(const char *text, struct disk_options *out, char *err, size_t errlen)
{
	struct disk_options o = { .cache = DISK_CACHE_WRITEBACK };
	unsigned int seen = 0;
	const char *p = text;
	char key[16];
	char value[DISK_PATH_MAX];
	int r;

	if (!text || !*text) {
		snprintf(err, errlen,
			 "--disk needs path=FILE[,readonly=on|off][,serial=S]"
			 "[,cache=none|writeback][,queues=N][,queue-size=N]");
		return -EINVAL;
	}
	for (;;) {
		const char *item = p;
		size_t klen = strcspn(p, "=,");
		size_t vlen = 0;

		if (p[klen] != '=' || klen == 0) {
			snprintf(err, errlen, "--disk %.*s: expected key=value",
				 (int)strcspn(p, ","), item);
			return -EINVAL;
		}
		if (klen >= sizeof(key)) {
			snprintf(err, errlen,
				 "--disk %.*s: unknown key (expected path, readonly, "
				 "serial, cache, queues or queue-size)",
				 (int)strcspn(p, ","), item);
			return -EINVAL;
		}
		memcpy(key, p, klen);
		key[klen] = '\0';
		p += klen + 1;
		/* the value runs to the next single comma; ",," stands for one comma */
		for (;;) {
			if (*p == '\0')
				break;
			if (*p == ',') {
				if (p[1] != ',')
					break;
				p++;
			}
			if (vlen + 1 >= sizeof(value)) {
				value[vlen] = '\0';
				return opt_error(err, errlen, key, "...", "value too long");
			}
			value[vlen++] = *p++;
		}
		value[vlen] = '\0';
		r = apply_item(&o, &seen, key, value, err, errlen);
		if (r)
			return r;
		if (*p == '\0')
			break;
		p++; /* the separating comma */
		if (*p == '\0' || *p == ',') {
			snprintf(err, errlen, "--disk %s=%s: empty item after it", key, value);
			return -EINVAL;
		}
	}
	if (!(seen & KEY_PATH)) {
		snprintf(err, errlen, "--disk %s: path=FILE is required", text);
		return -EINVAL;
	}
	*out = o;
	return 0;
}
