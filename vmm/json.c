// SPDX-License-Identifier: MIT
/* Strict recursive-descent JSON parser with line:column errors. */
#include "vmm/json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/parse.h"

struct parser {
	const char *text;
	size_t len, pos;
	unsigned int line, column;
	char *err;
	size_t errlen;
	bool failed;
};

static int fail_at(struct parser *p, unsigned int line, unsigned int column, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->failed)
		return -EINVAL;
	p->failed = true;
	if (!p->errlen)
		return -EINVAL;
	n = snprintf(p->err, p->errlen, "%u:%u: ", line, column);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

#define fail(p, ...) fail_at((p), (p)->line, (p)->column, __VA_ARGS__)

static int peek(const struct parser *p)
{
	return p->pos < p->len ? (unsigned char)p->text[p->pos] : -1;
}

static void advance(struct parser *p)
{
	if (p->text[p->pos] == '\n') {
		p->line++;
		p->column = 1;
	} else if (((unsigned char)p->text[p->pos] & 0xc0) != 0x80) {
		p->column++; /* columns count characters, not UTF-8 continuation bytes */
	}
	p->pos++;
}

static void skip_space(struct parser *p)
{
	int c;

	while ((c = peek(p)) == ' ' || c == '\t' || c == '\n' || c == '\r')
		advance(p);
}

static const char *describe(int c)
{
	static char buf[16];

	if (c < 0)
		return "the end of the file";
	if (c >= 0x21 && c < 0x7f)
		snprintf(buf, sizeof(buf), "'%c'", c);
	else
		snprintf(buf, sizeof(buf), "byte 0x%02x", c);
	return buf;
}

static int parse_value(struct parser *p, struct json_value *v, unsigned int depth);

static int expect_word(struct parser *p, const char *word)
{
	for (const char *w = word; *w; w++) {
		if (peek(p) != *w)
			return fail(p, "unexpected %s (did you mean %s?)", describe(peek(p)), word);
		advance(p);
	}
	return 0;
}

/* Length of the UTF-8 sequence at s (1-4), or 0 when it is not valid UTF-8. */
static size_t utf8_length(const unsigned char *s, size_t avail)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* no overlong forms, no surrogates, nothing past U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static size_t put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int hex4(struct parser *p, uint32_t *out)
{
	const char *start = p->text + p->pos, *end;
	size_t avail = p->len - p->pos;
	uint64_t v = 0;

	parse_number(start, avail < 4 ? avail : 4, PARSE_HEX_BARE, 0xffff, &v, &end);
	while (p->text + p->pos < end)
		advance(p); /* so that a message points at the first byte that is no digit */
	if (end != start + 4)
		return fail(p, "\\u needs four hex digits, not %s", describe(peek(p)));
	*out = (uint32_t)v;
	return 0;
}

static int parse_escape(struct parser *p, char *out, size_t *n)
{
	unsigned int line = p->line, column = p->column;
	uint32_t cp, low;
	int c;

	advance(p); /* the backslash */
	c = peek(p);
	switch (c) {
	case '"':
	case '\\':
	case '/':
		out[(*n)++] = (char)c;
		break;
	case 'b':
		out[(*n)++] = '\b';
		break;
	case 'f':
		out[(*n)++] = '\f';
		break;
	case 'n':
		out[(*n)++] = '\n';
		break;
	case 'r':
		out[(*n)++] = '\r';
		break;
	case 't':
		out[(*n)++] = '\t';
		break;
	case 'u':
		advance(p);
		if (hex4(p, &cp))
			return -EINVAL;
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return fail_at(p, line, column, "lone low surrogate \\u%04x", cp);
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (peek(p) != '\\')
				return fail_at(p, line, column, "high surrogate \\u%04x alone", cp);
			advance(p);
			if (peek(p) != 'u')
				return fail_at(p, line, column, "high surrogate \\u%04x alone", cp);
			advance(p);
			if (hex4(p, &low))
				return -EINVAL;
			if (low < 0xdc00 || low > 0xdfff)
				return fail_at(p, line, column, "high surrogate \\u%04x alone", cp);
			cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
		}
		if (cp == 0)
			return fail_at(p, line, column, "\\u0000 is not allowed in a string");
		*n += put_utf8(out + *n, cp);
		return 0;
	default:
		return fail(p, "unknown escape \\%s",
			    c < 0 ? "at the end of the file" : describe(c));
	}
	advance(p);
	return 0;
}

static int parse_string(struct parser *p, char **out)
{
	unsigned int line = p->line, column = p->column;
	size_t n = 0;
	char *buf;

	advance(p); /* the opening quote */
	/* decoded text is never longer than the source */
	buf = malloc(p->len - p->pos + 1);
	if (!buf)
		return fail(p, "out of memory");
	for (;;) {
		int c = peek(p);
		size_t u;

		if (c < 0) {
			free(buf);
			return fail_at(p, line, column, "string never ends");
		}
		if (c == '"') {
			advance(p);
			break;
		}
		if (c < 0x20) {
			free(buf);
			return fail(p, "control character 0x%02x in a string (escape it)", c);
		}
		if (c == '\\') {
			if (parse_escape(p, buf, &n)) {
				free(buf);
				return -EINVAL;
			}
			continue;
		}
		u = utf8_length((const unsigned char *)p->text + p->pos, p->len - p->pos);
		if (!u) {
			free(buf);
			return fail(p, "invalid UTF-8 in a string");
		}
		while (u--) {
			buf[n++] = p->text[p->pos];
			advance(p);
		}
	}
	buf[n] = 0;
	*out = buf;
	return 0;
}

static bool digit(int c)
{
	return c >= '0' && c <= '9';
}

static int parse_json_number(struct parser *p, struct json_value *v)
{
	size_t start = p->pos;

	if (peek(p) == '-')
		advance(p);
	if (peek(p) == '0') {
		advance(p);
		if (digit(peek(p)))
			return fail(p, "a number may not have leading zeros");
	} else if (digit(peek(p))) {
		while (digit(peek(p)))
			advance(p);
	} else {
		return fail(p, "expected a digit, found %s", describe(peek(p)));
	}
	if (peek(p) == '.') {
		advance(p);
		if (!digit(peek(p)))
			return fail(p, "expected a digit after '.', found %s", describe(peek(p)));
		while (digit(peek(p)))
			advance(p);
	}
	if (peek(p) == 'e' || peek(p) == 'E') {
		advance(p);
		if (peek(p) == '+' || peek(p) == '-')
			advance(p);
		if (!digit(peek(p)))
			return fail(p, "expected a digit in the exponent, found %s",
				    describe(peek(p)));
		while (digit(peek(p)))
			advance(p);
	}
	v->type = JSON_NUMBER;
	v->text = strndup(p->text + start, p->pos - start);
	return v->text ? 0 : fail(p, "out of memory");
}

static int append(struct parser *p, struct json_value *v, struct json_value **item)
{
	struct json_value *items;

	/* grow by doubling: count is a power of two exactly when the array is full */
	if (v->count == 0 || (v->count & (v->count - 1)) == 0) {
		size_t cap = v->count ? v->count * 2 : 1;

		items = realloc(v->items, cap * sizeof(*items));
		if (!items)
			return fail(p, "out of memory");
		v->items = items;
	}
	*item = &v->items[v->count++];
	memset(*item, 0, sizeof(**item));
	return 0;
}

static int parse_array(struct parser *p, struct json_value *v, unsigned int depth)
{
	struct json_value *item;

	v->type = JSON_ARRAY;
	advance(p);
	skip_space(p);
	if (peek(p) == ']') {
		advance(p);
		return 0;
	}
	for (;;) {
		if (append(p, v, &item) || parse_value(p, item, depth + 1))
			return -EINVAL;
		skip_space(p);
		if (peek(p) == ']') {
			advance(p);
			return 0;
		}
		if (peek(p) != ',')
			return fail(p, "expected ',' or ']' in an array, found %s",
				    describe(peek(p)));
		advance(p);
		skip_space(p);
		if (peek(p) == ']')
			return fail(p, "trailing comma before ']'");
	}
}

static int parse_object(struct parser *p, struct json_value *v, unsigned int depth)
{
	struct json_value *item;

	v->type = JSON_OBJECT;
	advance(p);
	skip_space(p);
	if (peek(p) == '}') {
		advance(p);
		return 0;
	}
	for (;;) {
		unsigned int line = p->line, column = p->column;
		char *key;

		if (peek(p) != '"')
			return fail(p, "expected a key in double quotes, found %s",
				    describe(peek(p)));
		if (parse_string(p, &key))
			return -EINVAL;
		if (json_get(v, key)) {
			fail_at(p, line, column, "duplicate key \"%s\"", key);
			free(key);
			return -EINVAL;
		}
		if (append(p, v, &item)) {
			free(key);
			return -EINVAL;
		}
		item->key = key;
		skip_space(p);
		if (peek(p) != ':')
			return fail(p, "expected ':' after the key, found %s", describe(peek(p)));
		advance(p);
		if (parse_value(p, item, depth + 1))
			return -EINVAL;
		skip_space(p);
		if (peek(p) == '}') {
			advance(p);
			return 0;
		}
		if (peek(p) != ',')
			return fail(p, "expected ',' or '}' in an object, found %s",
				    describe(peek(p)));
		advance(p);
		skip_space(p);
		if (peek(p) == '}')
			return fail(p, "trailing comma before '}'");
	}
}

static int parse_value(struct parser *p, struct json_value *v, unsigned int depth)
{
	char *key = v->key;
	int c;

	if (depth > JSON_MAX_DEPTH)
		return fail(p, "nested deeper than %d levels", JSON_MAX_DEPTH);
	skip_space(p);
	memset(v, 0, sizeof(*v));
	v->key = key;
	v->line = p->line;
	v->column = p->column;
	c = peek(p);
	switch (c) {
	case '{':
		return parse_object(p, v, depth);
	case '[':
		return parse_array(p, v, depth);
	case '"':
		v->type = JSON_STRING;
		return parse_string(p, &v->text);
	case 't':
		v->type = JSON_BOOL;
		v->boolean = true;
		return expect_word(p, "true");
	case 'f':
		v->type = JSON_BOOL;
		return expect_word(p, "false");
	case 'n':
		v->type = JSON_NULL;
		return expect_word(p, "null");
	default:
		if (c == '-' || digit(c))
			return parse_json_number(p, v);
		return fail(p, "expected a value, found %s", describe(c));
	}
}

static void free_members(struct json_value *v)
{
	for (size_t i = 0; i < v->count; i++)
		free_members(&v->items[i]);
	free(v->items);
	free(v->text);
	free(v->key);
}

void json_free(struct json_value *value)
{
	if (!value)
		return;
	free_members(value);
	free(value);
}

int json_parse(const char *text, size_t len, struct json_value **out, char *err, size_t errlen)
{
	struct parser p = { text, len, 0, 1, 1, err, errlen, false };
	struct json_value *v = calloc(1, sizeof(*v));

	*out = NULL;
	if (!v)
		return fail(&p, "out of memory");
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		p.pos = 3; /* a byte-order mark is tolerated, as RFC 8259 allows parsers to */
	if (parse_value(&p, v, 0) == 0) {
		skip_space(&p);
		if (p.pos < len)
			fail(&p, "unexpected %s after the end of the document", describe(peek(&p)));
	}
	if (p.failed) {
		json_free(v);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

const struct json_value *json_get(const struct json_value *object, const char *key)
{
	if (!object || object->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < object->count; i++)
		if (object->items[i].key && !strcmp(object->items[i].key, key))
			return &object->items[i];
	return NULL;
}
