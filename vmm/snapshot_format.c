// SPDX-License-Identifier: MIT
/* The snapshot state file: sections in, sections out, every byte checked (snapshot_format.h). */
#include "vmm/snapshot_format.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/version.h"

#define SNAP_ALIGN 8

static size_t padded(size_t n)
{
	return (n + SNAP_ALIGN - 1) & ~(size_t)(SNAP_ALIGN - 1);
}

void snap_writer_init(struct snap_writer *w)
{
	memset(w, 0, sizeof(*w));
	w->len = sizeof(struct snap_header);
}

void snap_writer_free(struct snap_writer *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

static int reserve(struct snap_writer *w, size_t more)
{
	size_t cap = w->cap ? w->cap : 4096;
	uint8_t *p;

	if (w->error)
		return w->error;
	if (more > SNAP_MAX_STATE || w->len + more > SNAP_MAX_STATE)
		return w->error = -EFBIG;
	while (cap < w->len + more)
		cap *= 2;
	if (cap == w->cap)
		return 0;
	p = realloc(w->buf, cap);
	if (!p)
		return w->error = -ENOMEM;
	/* the header's room and every pad byte read as zeros */
	memset(p + w->cap, 0, cap - w->cap);
	w->buf = p;
	w->cap = cap;
	return 0;
}

int snap_begin(struct snap_writer *w, uint32_t id, uint32_t instance)
{
	struct snap_section s = { .id = id, .instance = instance };

	if (!w->error && w->open)
		w->error = -EINVAL;
	if (reserve(w, sizeof(s)))
		return w->error;
	w->open = w->len;
	memcpy(w->buf + w->len, &s, sizeof(s));
	w->len += sizeof(s);
	return 0;
}

int snap_put(struct snap_writer *w, const void *data, size_t len)
{
	if (!w->error && !w->open)
		w->error = -EINVAL;
	if (reserve(w, len))
		return w->error;
	if (len)
		memcpy(w->buf + w->len, data, len);
	w->len += len;
	return 0;
}

int snap_end(struct snap_writer *w)
{
	struct snap_section s;
	size_t end;

	if (!w->error && !w->open)
		w->error = -EINVAL;
	if (w->error)
		return w->error;
	memcpy(&s, w->buf + w->open, sizeof(s));
	s.size = w->len - w->open - sizeof(s);
	memcpy(w->buf + w->open, &s, sizeof(s));
	end = padded(w->len);
	if (reserve(w, end - w->len))
		return w->error;
	w->len = end; /* the pad bytes are zero already */
	w->open = 0;
	return 0;
}

int snap_section(struct snap_writer *w, uint32_t id, uint32_t instance, const void *data,
		 size_t len)
{
	snap_begin(w, id, instance);
	snap_put(w, data, len);
	return snap_end(w);
}

int snap_finish(struct snap_writer *w)
{
	struct snap_header h = { .format_version = SNAP_FORMAT_VERSION };

	if (!w->error && w->open)
		w->error = -EINVAL;
	if (reserve(w, 0))
		return w->error;
	memcpy(h.magic, SNAP_MAGIC, SNAP_MAGIC_LEN);
	h.header_size = sizeof(h);
	h.payload_size = w->len - sizeof(h);
	snprintf(h.vmm_version, sizeof(h.vmm_version), "%s", VMM_VERSION);
	/* over the whole file, with the checksum's own bytes as zeros */
	memcpy(w->buf, &h, sizeof(h));
	sha256(w->buf, w->len, h.sha256);
	memcpy(w->buf, &h, sizeof(h));
	return 0;
}

/* Every section header and payload inside the payload, and nothing left over. */
static bool sections_fit(const uint8_t *p, size_t len)
{
	size_t at = 0;

	while (at < len) {
		struct snap_section s;

		if (len - at < sizeof(s))
			return false;
		memcpy(&s, p + at, sizeof(s));
		at += sizeof(s);
		if (s.size > len - at || padded(s.size) > len - at)
			return false;
		at += padded(s.size);
	}
	return true;
}

int snap_reader_open(struct snap_reader *r, uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct snap_header *h = &r->header;
	uint8_t digest[SHA256_BYTES];
	const size_t sum_at = offsetof(struct snap_header, sha256);

	memset(r, 0, sizeof(*r));
	if (len < sizeof(*h)) {
		snprintf(err, errlen, "truncated: %zu bytes, not even a header", len);
		return -EINVAL;
	}
	memcpy(h, buf, sizeof(*h));
	h->vmm_version[SNAP_VERSION_LEN - 1] = '\0';
	if (memcmp(h->magic, SNAP_MAGIC, SNAP_MAGIC_LEN)) {
		snprintf(err, errlen, "not a snapshot state file (no VMMSNAP magic)");
		return -EINVAL;
	}
	if (h->format_version != SNAP_FORMAT_VERSION || h->header_size != sizeof(*h)) {
		snprintf(err, errlen,
			 "format version %u (written by vmm %s); this VMM reads version %u only",
			 h->format_version, h->vmm_version, SNAP_FORMAT_VERSION);
		return -EINVAL;
	}
	if (h->payload_size != len - sizeof(*h)) {
		snprintf(err, errlen, "truncated: %zu bytes, the header says %llu", len,
			 (unsigned long long)(h->payload_size + sizeof(*h)));
		return -EINVAL;
	}
	/* as the writer computed it: with the checksum's bytes zeroed for the while */
	memset(buf + sum_at, 0, SHA256_BYTES);
	sha256(buf, len, digest);
	memcpy(buf + sum_at, h->sha256, SHA256_BYTES);
	if (memcmp(digest, h->sha256, SHA256_BYTES)) {
		snprintf(err, errlen, "corrupted: the checksum does not match the contents");
		return -EINVAL;
	}
	/* a good checksum over bad sections: only a writer's bug, but never trusted */
	if (!sections_fit(buf + sizeof(*h), len - sizeof(*h))) {
		snprintf(err, errlen, "corrupted: a section runs past the end");
		return -EINVAL;
	}
	r->buf = buf;
	r->len = len;
	return 0;
}

int snap_find(const struct snap_reader *r, uint32_t id, uint32_t instance, const void **data,
	      size_t *len)
{
	size_t at = sizeof(struct snap_header);

	while (r->buf && at < r->len) {
		struct snap_section s;

		memcpy(&s, r->buf + at, sizeof(s));
		at += sizeof(s);
		if (s.id == id && s.instance == instance) {
			*data = r->buf + at;
			*len = s.size;
			return 0;
		}
		at += padded(s.size);
	}
	return -ENOENT;
}

int snap_get(const struct snap_reader *r, uint32_t id, uint32_t instance, void *out, size_t len)
{
	const void *data;
	size_t n;

	if (snap_find(r, id, instance, &data, &n))
		return -ENOENT;
	if (n != len)
		return -EBADMSG;
	memcpy(out, data, len);
	return 0;
}

int snap_meta_check(const struct snap_meta *saved, const struct snap_meta *wanted, char *err,
		    size_t errlen)
{
	if (saved->memory_size != wanted->memory_size) {
		snprintf(err, errlen,
			 "its memory is %lluK, the command line asks for %lluK (--memory)",
			 (unsigned long long)(saved->memory_size >> 10),
			 (unsigned long long)(wanted->memory_size >> 10));
		return -EINVAL;
	}
	if (saved->ncpus != wanted->ncpus) {
		snprintf(err, errlen, "it has %u vCPUs, the command line asks for %u (--cpus)",
			 saved->ncpus, wanted->ncpus);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < saved->ndevices || i < wanted->ndevices; i++) {
		const char *s = i < saved->ndevices ? saved->devices[i] : "nothing";
		const char *w = i < wanted->ndevices ? wanted->devices[i] : "nothing";

		if (i >= SNAP_MAX_DEVICES) {
			snprintf(err, errlen, "more than %u devices", SNAP_MAX_DEVICES);
			return -EINVAL;
		}
		if (strncmp(s, w, SNAP_KIND_LEN)) {
			snprintf(err, errlen,
				 "its device %u is %.*s, the command line's is %.*s (give the same "
				 "--disk, --net, --share and --rng options, in the same order)",
				 i, SNAP_KIND_LEN, s, SNAP_KIND_LEN, w);
			return -EINVAL;
		}
	}
	return 0;
}

int snap_parse_url(const char *url, char *path, size_t cap, char *err, size_t errlen)
{
	static const char scheme[] = "file://";
	const char *p = url;

	if (strncmp(url, scheme, sizeof(scheme) - 1)) {
		snprintf(err, errlen, "%s: not a file:///DIR URL", url);
		return -EINVAL;
	}
	p += sizeof(scheme) - 1;
	if (p[0] != '/' || !p[1]) {
		snprintf(err, errlen, "%s: needs an absolute directory after file:// (file:///DIR)",
			 url);
		return -EINVAL;
	}
	if (strlen(p) >= cap) {
		snprintf(err, errlen, "%s: the path is too long", url);
		return -EINVAL;
	}
	strcpy(path, p);
	return 0;
}
