/* SPDX-License-Identifier: MIT */
/*
 * A strict JSON (RFC 8259) parser for --config files: the whole text must be one value,
 * with no comments, trailing commas, duplicate keys, leading zeros, control characters
 * in strings or invalid UTF-8. Strings are NUL-terminated and may not contain U+0000,
 * since they end up as C strings. Every value remembers its line and column, so a
 * caller's own complaints can point at it too.
 */
#ifndef VMM_JSON_H
#define VMM_JSON_H

#include <stdbool.h>
#include <stddef.h>

#define JSON_MAX_DEPTH 64

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json_value {
	enum json_type type;
	unsigned int line, column; /* where the value starts, both from 1 */
	bool boolean;
	char *text;		  /* JSON_STRING: the decoded string; JSON_NUMBER: the literal */
	char *key;		  /* for a member of an object: its name */
	struct json_value *items; /* JSON_ARRAY elements or JSON_OBJECT members */
	size_t count;
};

/*
 * Parse text[0..len). Returns 0 with *out set (free it with json_free), or -EINVAL with
 * "LINE:COLUMN: what is wrong" in err.
 */
int json_parse(const char *text, size_t len, struct json_value **out, char *err, size_t errlen);
void json_free(struct json_value *value);
/* The member of an object called key, or NULL. */
const struct json_value *json_get(const struct json_value *object, const char *key);

#endif
