// SPDX-License-Identifier: MIT
/*
 * --share HOSTDIR[:TAG][,readonly=on|off][,cache=never|auto|always]: one virtio-fs share's
 * directory, tag, mode and how long the guest may cache what it reads.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/options.h"
#include "vmm/parse.h"

/* A tag the guest can type after mount -t virtiofs: printable, no blanks. */
static bool tag_ok(const char *tag, size_t len)
{
	if (len == 0 || len > FS_TAG_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (tag[i] <= ' ' || tag[i] > '~')
			return false;
	return true;
}

/* The directory's last component when it makes a tag, else "share<index>". */
static void default_tag(struct fs_share_options *s, unsigned int index)
{
	size_t end = strlen(s->dir), start;

	while (end > 1 && s->dir[end - 1] == '/')
		end--;
	start = end;
	while (start > 0 && s->dir[start - 1] != '/')
		start--;
	if (tag_ok(s->dir + start, end - start) && strncmp(s->dir + start, ".", end - start) &&
	    strncmp(s->dir + start, "..", end - start)) {
		memcpy(s->tag, s->dir + start, end - start);
		s->tag[end - start] = '\0';
	} else {
		snprintf(s->tag, sizeof(s->tag), "share%u", index);
	}
}

/* HOSTDIR[:TAG], the list's first item, into s. */
static int parse_dir_tag(const char *text, const char *spec, struct fs_share_options *s,
			 unsigned int index, char *err, size_t errlen)
{
	/* the last colon: a directory name may have colons if a tag follows */
	const char *colon = strrchr(spec, ':');
	size_t dirlen = colon ? (size_t)(colon - spec) : strlen(spec), taglen;

	if (dirlen == 0) {
		snprintf(err, errlen, "--share %s: needs a host directory (HOSTDIR[:TAG])", text);
		return -EINVAL;
	}
	if (dirlen >= sizeof(s->dir)) {
		snprintf(err, errlen, "--share: directory name longer than %d bytes",
			 FS_DIR_MAX - 1);
		return -EINVAL;
	}
	memcpy(s->dir, spec, dirlen);
	if (!colon) {
		default_tag(s, index);
		return 0;
	}
	taglen = strlen(colon + 1);
	if (taglen == 0) {
		snprintf(err, errlen, "--share %s: empty tag after ':'", text);
		return -EINVAL;
	}
	if (taglen > FS_TAG_MAX) {
		snprintf(err, errlen, "--share %s: tag longer than %d bytes", text, FS_TAG_MAX);
		return -EINVAL;
	}
	if (!tag_ok(colon + 1, taglen)) {
		snprintf(err, errlen, "--share %s: the tag must be printable ASCII without blanks",
			 text);
		return -EINVAL;
	}
	memcpy(s->tag, colon + 1, taglen);
	return 0;
}

static int parse_cache(const char *value, enum fs_cache *cache)
{
	static const char *const names[] = {
		[FS_CACHE_AUTO] = "auto",
		[FS_CACHE_NEVER] = "never",
		[FS_CACHE_ALWAYS] = "always",
	};

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(value, names[i])) {
			*cache = (enum fs_cache)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_share_text(const char *text, struct fs_share_options *s, unsigned int index,
			    char *err, size_t errlen)
{
	struct kv_list list;
	int ret = kv_split(text, KV_POSITIONAL, &list);

	memset(s, 0, sizeof(*s));
	if (ret == -E2BIG) {
		snprintf(err, errlen, "--share: directory name longer than %d bytes",
			 FS_DIR_MAX - 1);
		return -EINVAL;
	}
	if (ret && list.bad == 0) {
		snprintf(err, errlen, "--share %s: needs a host directory (HOSTDIR[:TAG])", text);
		return -EINVAL;
	}
	if (parse_dir_tag(text, list.items[0].value, s, index, err, errlen))
		return -EINVAL;
	for (unsigned int i = 1; i < list.count; i++) {
		const struct kv_item *it = &list.items[i];

		bool ok = false;

		if (it->value && !strcmp(it->key, "readonly"))
			ok = !parse_on_off(it->value, &s->readonly);
		else if (it->value && !strcmp(it->key, "cache"))
			ok = !parse_cache(it->value, &s->cache);
		if (!ok) {
			snprintf(err, errlen,
				 "--share %s: unknown setting '%.*s' (readonly=on|off, "
				 "cache=never|auto|always)",
				 text, it->rawlen, it->raw);
			return -EINVAL;
		}
		if (kv_repeats(&list, i)) {
			snprintf(err, errlen, "--share %s: '%.*s' given twice", text, it->rawlen,
				 it->raw);
			return -EINVAL;
		}
	}
	return 0; /* an empty setting (a trailing comma) was refused in the loop */
}

int options_add_share(struct vmm_options *opts, const char *text, char *err, size_t errlen)
{
	struct fs_share_options *s;

	if (opts->nshares == VMM_MAX_SHARES) {
		snprintf(err, errlen, "--share %s: at most %d shares", text, VMM_MAX_SHARES);
		return -EINVAL;
	}
	s = &opts->shares[opts->nshares];
	if (parse_share_text(text, s, opts->nshares, err, errlen))
		return -EINVAL;
	for (unsigned int i = 0; i < opts->nshares; i++) {
		if (!strcmp(opts->shares[i].tag, s->tag)) {
			snprintf(err, errlen,
				 "--share %s: tag '%s' is already used by another --share "
				 "(name one with HOSTDIR:TAG)",
				 text, s->tag);
			return -EINVAL;
		}
	}
	opts->nshares++;
	return 0;
}
