/* SPDX-License-Identifier: MIT */
/*
 * AML writer: encodings from ACPI 6.x section 20.2 (AML grammar: PkgLength 20.2.4,
 * integers and strings 20.2.3, names 20.2.2) and resource descriptors from section 6.4.
 */
#include <errno.h>
#include <string.h>

#include "firmware/aml.h"

#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_STRING_PREFIX 0x0d
#define AML_QWORD_PREFIX 0x0e
#define AML_SCOPE_OP 0x10
#define AML_BUFFER_OP 0x11
#define AML_PACKAGE_OP 0x12
#define AML_METHOD_OP 0x14
#define AML_DUAL_NAME_PREFIX 0x2e
#define AML_MULTI_NAME_PREFIX 0x2f
#define AML_EXT_OP_PREFIX 0x5b
#define AML_DEVICE_OP 0x82 /* after AML_EXT_OP_PREFIX */
#define AML_NOTIFY_OP 0x86
#define AML_ROOT_CHAR '\\'
#define AML_PARENT_PREFIX '^'
#define AML_RETURN_OP 0xa4

#define AML_RES_IO_TAG 0x47	     /* small item 0x08, length 7 */
#define AML_RES_IRQ_NOFLAGS_TAG 0x22 /* small item 0x04, length 2 */
#define AML_RES_END_TAG 0x79	     /* small item 0x0f, length 1 */
#define AML_RES_DWORD_TAG 0x87
#define AML_RES_WORD_TAG 0x88
#define AML_RES_QWORD_TAG 0x8a

#define AML_INTEGER_MAX_LEN 9 /* QWordPrefix and 8 bytes */
#define AML_PKGLEN_MAX_LEN 4

void aml_init(struct aml *a, void *buf, size_t size)
{
	memset(a, 0, sizeof(*a));
	a->buf = buf;
	a->size = size;
}

static void aml_fail(struct aml *a, int err)
{
	if (!a->err)
		a->err = err;
}

ssize_t aml_finish(struct aml *a)
{
	if (a->err)
		return a->err;
	if (a->depth)
		return -EINVAL;
	return a->len;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->err || !n)
		return;
	if (n > a->size - a->len) {
		aml_fail(a, -ENOSPC);
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void aml_byte(struct aml *a, uint8_t v)
{
	aml_bytes(a, &v, 1);
}

static void aml_le(struct aml *a, uint64_t v, unsigned int n)
{
	uint8_t b[8];

	for (unsigned int i = 0; i < n; i++)
		b[i] = v >> (8 * i);
	aml_bytes(a, b, n);
}

static struct aml_frame *aml_top(struct aml *a)
{
	return a->depth ? &a->frames[a->depth - 1] : NULL;
}

static bool aml_in(struct aml *a, enum aml_frame_kind kind)
{
	struct aml_frame *f = aml_top(a);

	return f && f->kind == kind;
}

/* Term objects (names, statements) cannot sit in a Package's element list or a Buffer. */
static bool aml_check_term(struct aml *a)
{
	if (aml_in(a, AML_FRAME_PACKAGE) || aml_in(a, AML_FRAME_BUFFER)) {
		aml_fail(a, -EINVAL);
		return false;
	}
	return !a->err;
}

/* A data object: counted when it is an element of a Package, refused inside a Buffer. */
static bool aml_check_data(struct aml *a)
{
	if (aml_in(a, AML_FRAME_BUFFER)) {
		aml_fail(a, -EINVAL);
		return false;
	}
	if (aml_in(a, AML_FRAME_PACKAGE) && !a->err)
		aml_top(a)->count++;
	return !a->err;
}

size_t aml_pkglength(uint8_t out[4], size_t body_len)
{
	size_t v;

	if (body_len > AML_PKGLEN_MAX)
		return 0;
	if (body_len + 1 <= 0x3f) {
		out[0] = body_len + 1;
		return 1;
	}
	/* The multi-byte form: the low nibble in the lead byte, then whole bytes. */
	for (size_t n = 2; n <= AML_PKGLEN_MAX_LEN; n++) {
		v = body_len + n;
		if (v >> (4 + 8 * (n - 1)))
			continue;
		out[0] = (n - 1) << 6 | (v & 0xf);
		for (size_t i = 1; i < n; i++)
			out[i] = v >> (4 + 8 * (i - 1));
		return n;
	}
	return 0;
}

static size_t aml_integer_encode(uint8_t out[AML_INTEGER_MAX_LEN], uint64_t v)
{
	size_t n;

	if (v <= 1) {
		out[0] = v ? AML_ONE_OP : AML_ZERO_OP;
		return 1;
	}
	if (v <= UINT8_MAX) {
		out[0] = AML_BYTE_PREFIX;
		n = 1;
	} else if (v <= UINT16_MAX) {
		out[0] = AML_WORD_PREFIX;
		n = 2;
	} else if (v <= UINT32_MAX) {
		out[0] = AML_DWORD_PREFIX;
		n = 4;
	} else {
		out[0] = AML_QWORD_PREFIX;
		n = 8;
	}
	for (size_t i = 0; i < n; i++)
		out[1 + i] = v >> (8 * i);
	return n + 1;
}

void aml_integer(struct aml *a, uint64_t v)
{
	uint8_t b[AML_INTEGER_MAX_LEN];

	if (aml_check_data(a))
		aml_bytes(a, b, aml_integer_encode(b, v));
}

void aml_string(struct aml *a, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] > 0x7f) {
			aml_fail(a, -EINVAL);
			return;
		}
	}
	if (!aml_check_data(a))
		return;
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, n + 1);
}

/* EISA IDs are upper case: a lower-case digit is not one (unlike parse_digit). */
static int aml_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int aml_eisaid_value(const char *id, uint32_t *out)
{
	uint8_t b[4] = { 0 };
	int d;

	if (strlen(id) != 7)
		return -EINVAL;
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return -EINVAL;
	}
	/* Three letters of 5 bits each (A = 1), then four hex digits, stored big-endian. */
	b[0] = (id[0] - '@') << 2 | (id[1] - '@') >> 3;
	b[1] = ((id[1] - '@') & 7) << 5 | (id[2] - '@');
	for (int i = 0; i < 4; i++) {
		d = aml_hex_digit(id[3 + i]);
		if (d < 0)
			return -EINVAL;
		b[2 + i / 2] |= d << (i % 2 ? 0 : 4);
	}
	*out = b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
	return 0;
}

void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v;
	int err = aml_eisaid_value(id, &v);

	if (err) {
		aml_fail(a, err);
		return;
	}
	/* Always the DWord form, whatever the value, as ASL compilers emit EISAID(). */
	if (!aml_check_data(a))
		return;
	aml_byte(a, AML_DWORD_PREFIX);
	aml_le(a, v, 4);
}

static bool aml_name_char(char c, bool lead)
{
	return (c >= 'A' && c <= 'Z') || c == '_' || (!lead && c >= '0' && c <= '9');
}

/* Check one NameSeg of 1 to 4 characters (s, up to '.' or the end); returns its length. */
static size_t aml_nameseg_len(const char *s)
{
	size_t n = 0;

	while (s[n] && s[n] != '.') {
		if (n == 4 || !aml_name_char(s[n], n == 0))
			return 0;
		n++;
	}
	return n;
}

static void aml_nameseg(struct aml *a, const char *s, size_t n)
{
	char seg[4] = { '_', '_', '_', '_' };

	memcpy(seg, s, n);
	aml_bytes(a, seg, 4);
}

/* Count the segments of a dotted path, or return -1 if it is malformed. */
static int aml_path_segments(const char *p)
{
	int count = 0;
	size_t n;

	if (!*p)
		return 0;
	for (;;) {
		n = aml_nameseg_len(p);
		if (!n || ++count > UINT8_MAX)
			return -1;
		p += n;
		if (!*p)
			return count;
		p++; /* the '.' */
	}
}

/* A NameString: "\\_SB.PCI0", "^FOO", "_HID"; short segments are padded with '_'. */
static void aml_namestring(struct aml *a, const char *path)
{
	const char *p = path;
	int segs;
	size_t n;

	if (*p == AML_ROOT_CHAR)
		p++;
	else
		while (*p == AML_PARENT_PREFIX)
			p++;
	segs = aml_path_segments(p);
	if (segs < 0) {
		aml_fail(a, -EINVAL);
		return;
	}
	aml_bytes(a, path, p - path);
	if (segs == 0)
		aml_byte(a, AML_ZERO_OP); /* NullName */
	else if (segs == 2)
		aml_byte(a, AML_DUAL_NAME_PREFIX);
	else if (segs > 2) {
		aml_byte(a, AML_MULTI_NAME_PREFIX);
		aml_byte(a, segs);
	}
	while (segs--) {
		n = aml_nameseg_len(p);
		aml_nameseg(a, p, n);
		p += n + 1;
	}
}

void aml_name_ref(struct aml *a, const char *path)
{
	if (aml_check_data(a))
		aml_namestring(a, path);
}

void aml_name(struct aml *a, const char *path)
{
	if (!aml_check_term(a))
		return;
	aml_byte(a, AML_NAME_OP);
	aml_namestring(a, path);
}

void aml_return(struct aml *a)
{
	if (aml_check_term(a))
		aml_byte(a, AML_RETURN_OP);
}

void aml_notify(struct aml *a, const char *path, uint64_t value)
{
	uint8_t b[AML_INTEGER_MAX_LEN];

	if (!aml_check_term(a))
		return;
	aml_byte(a, AML_NOTIFY_OP);
	aml_namestring(a, path);
	aml_bytes(a, b, aml_integer_encode(b, value));
}

/*
 * Open an object after its opcode, with one byte held for the PkgLength plus extra for
 * other header fields whose size is known only at the end. The content follows.
 */
static void aml_open(struct aml *a, enum aml_frame_kind kind, size_t extra)
{
	size_t reserve = 1 + extra;
	struct aml_frame *f;

	if (a->err)
		return;
	if (a->depth == AML_MAX_DEPTH) {
		aml_fail(a, -EINVAL);
		return;
	}
	if (reserve > a->size - a->len) {
		aml_fail(a, -ENOSPC);
		return;
	}
	f = &a->frames[a->depth++];
	f->kind = kind;
	f->start = a->len;
	f->reserved = reserve;
	f->count = 0;
	a->len += reserve;
}

/*
 * Close the innermost object: now that the content's size is known, write the shortest
 * PkgLength (and a Buffer's size) and slide the content up when they need more room than
 * was held. Holding the minimum means the output fits whenever its final size does.
 */
void aml_end(struct aml *a)
{
	uint8_t hdr[AML_PKGLEN_MAX_LEN + AML_INTEGER_MAX_LEN];
	uint8_t size[AML_INTEGER_MAX_LEN];
	struct aml_frame *f = aml_top(a);
	size_t content, content_len, size_len = 0, n;

	if (a->err)
		return;
	if (!f) {
		aml_fail(a, -EINVAL);
		return;
	}
	content = f->start + f->reserved;
	content_len = a->len - content;
	if (f->kind == AML_FRAME_PACKAGE) {
		if (f->count > UINT8_MAX) {
			aml_fail(a, -EINVAL);
			return;
		}
		a->buf[content] = f->count; /* NumElements leads the content */
	}
	if (f->kind == AML_FRAME_BUFFER)
		size_len = aml_integer_encode(size, content_len);
	n = aml_pkglength(hdr, size_len + content_len);
	if (!n) {
		aml_fail(a, -EINVAL);
		return;
	}
	if (n + size_len - f->reserved > a->size - a->len) {
		aml_fail(a, -ENOSPC);
		return;
	}
	memcpy(hdr + n, size, size_len);
	memmove(a->buf + f->start + n + size_len, a->buf + content, content_len);
	memcpy(a->buf + f->start, hdr, n + size_len);
	a->len = f->start + n + size_len + content_len;
	a->depth--;
}

static void aml_named_begin(struct aml *a, const uint8_t *op, size_t oplen,
			    enum aml_frame_kind kind, const char *path)
{
	if (!aml_check_term(a))
		return;
	aml_bytes(a, op, oplen);
	aml_open(a, kind, 0);
	aml_namestring(a, path);
}

void aml_scope_begin(struct aml *a, const char *path)
{
	static const uint8_t op[] = { AML_SCOPE_OP };

	aml_named_begin(a, op, sizeof(op), AML_FRAME_SCOPE, path);
}

void aml_device_begin(struct aml *a, const char *path)
{
	static const uint8_t op[] = { AML_EXT_OP_PREFIX, AML_DEVICE_OP };

	aml_named_begin(a, op, sizeof(op), AML_FRAME_DEVICE, path);
}

void aml_method_begin(struct aml *a, const char *path, unsigned int nargs, bool serialized)
{
	static const uint8_t op[] = { AML_METHOD_OP };

	if (nargs > 7) {
		aml_fail(a, -EINVAL);
		return;
	}
	aml_named_begin(a, op, sizeof(op), AML_FRAME_METHOD, path);
	aml_byte(a, nargs | (serialized ? 1u << 3 : 0)); /* MethodFlags, SyncLevel 0 */
}

void aml_package_begin(struct aml *a)
{
	if (!aml_check_data(a))
		return;
	aml_byte(a, AML_PACKAGE_OP);
	aml_open(a, AML_FRAME_PACKAGE, 0);
	aml_byte(a, 0); /* NumElements, set by aml_end() */
}

void aml_buffer_begin(struct aml *a)
{
	if (!aml_check_data(a))
		return;
	aml_byte(a, AML_BUFFER_OP);
	aml_open(a, AML_FRAME_BUFFER, 1); /* BufferSize: at least one byte */
}

void aml_resources_begin(struct aml *a)
{
	aml_buffer_begin(a);
}

void aml_resources_end(struct aml *a)
{
	aml_res_end_tag(a);
	aml_end(a);
}

static bool aml_check_res(struct aml *a)
{
	if (!aml_in(a, AML_FRAME_BUFFER))
		aml_fail(a, -EINVAL);
	return !a->err;
}

void aml_res_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
	if (!aml_check_res(a))
		return;
	aml_byte(a, AML_RES_IO_TAG);
	aml_byte(a, 0x01); /* decodes 16 address bits */
	aml_le(a, min, 2);
	aml_le(a, max, 2);
	aml_byte(a, align);
	aml_byte(a, len);
}

void aml_res_irq_noflags(struct aml *a, unsigned int irq)
{
	if (irq > 15)
		aml_fail(a, -EINVAL);
	if (!aml_check_res(a))
		return;
	aml_byte(a, AML_RES_IRQ_NOFLAGS_TAG);
	aml_le(a, 1u << irq, 2);
}

void aml_res_end_tag(struct aml *a)
{
	if (!aml_check_res(a))
		return;
	aml_byte(a, AML_RES_END_TAG);
	aml_byte(a, 0); /* checksum 0: "treat the template as valid" */
}

/* The Word, DWord and QWord forms differ only in their tag and field width. */
static void aml_res_addr(struct aml *a, uint8_t tag, unsigned int width,
			 const struct aml_addr_space *r)
{
	uint64_t limit = width == 8 ? UINT64_MAX : (1ull << (8 * width)) - 1;
	const uint64_t fields[] = { r->granularity, r->min, r->max, r->translation, r->len };

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (fields[i] > limit)
			aml_fail(a, -EINVAL);
	}
	if (!aml_check_res(a))
		return;
	aml_byte(a, tag);
	aml_le(a, 3 + 5 * width, 2); /* the bytes after this length field */
	aml_byte(a, r->type);
	aml_byte(a, r->flags);
	aml_byte(a, r->type_flags);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		aml_le(a, fields[i], width);
}

void aml_res_word(struct aml *a, const struct aml_addr_space *r)
{
	aml_res_addr(a, AML_RES_WORD_TAG, 2, r);
}

void aml_res_dword(struct aml *a, const struct aml_addr_space *r)
{
	aml_res_addr(a, AML_RES_DWORD_TAG, 4, r);
}

void aml_res_qword(struct aml *a, const struct aml_addr_space *r)
{
	aml_res_addr(a, AML_RES_QWORD_TAG, 8, r);
}

/* A bridge window: produced by the device, fixed [min, max], length max - min + 1. */
static bool aml_window(struct aml *a, struct aml_addr_space *r, uint8_t type, uint8_t type_flags,
		       uint64_t min, uint64_t max)
{
	if (max < min || max - min == UINT64_MAX) {
		aml_fail(a, -EINVAL);
		return false;
	}
	*r = (struct aml_addr_space){
		.type = type,
		.flags = AML_RES_MIN_FIXED | AML_RES_MAX_FIXED,
		.type_flags = type_flags,
		.min = min,
		.max = max,
		.len = max - min + 1,
	};
	return true;
}

void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max)
{
	struct aml_addr_space r;

	if (aml_window(a, &r, AML_RES_TYPE_BUS, 0, min, max))
		aml_res_word(a, &r);
}

void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max)
{
	struct aml_addr_space r;

	if (aml_window(a, &r, AML_RES_TYPE_IO, AML_RES_IO_ENTIRE_RANGE, min, max))
		aml_res_word(a, &r);
}

static uint8_t aml_mem_flags(bool prefetchable)
{
	return AML_RES_MEM_RW |
	       (prefetchable ? AML_RES_MEM_PREFETCHABLE : AML_RES_MEM_NONCACHEABLE);
}

void aml_res_dword_memory(struct aml *a, uint32_t min, uint32_t max, bool prefetchable)
{
	struct aml_addr_space r;

	if (aml_window(a, &r, AML_RES_TYPE_MEMORY, aml_mem_flags(prefetchable), min, max))
		aml_res_dword(a, &r);
}

void aml_res_qword_memory(struct aml *a, uint64_t min, uint64_t max, bool prefetchable)
{
	struct aml_addr_space r;

	if (aml_window(a, &r, AML_RES_TYPE_MEMORY, aml_mem_flags(prefetchable), min, max))
		aml_res_qword(a, &r);
}
