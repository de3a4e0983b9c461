/* SPDX-License-Identifier: MIT */
/*
 * The two pieces every option value is made of: whole numbers (decimal, "0x" hex, sizes
 * with a K/M/G/T suffix) and "key=value,key=value" lists. One rule each, so that every
 * option spells them the same way. Pure functions: no allocation, no I/O, no state.
 *
 * Lists: items are separated by a comma; a comma inside a key or value is written
 * twice (",,"), as in QEMU, so "path=a,,b.img" is the one item path=a,b.img. An empty
 * item (a leading or trailing comma) is an error; whether a key may repeat is the
 * caller's to say (kv_repeats()).
 */
#ifndef VMM_PARSE_H
#define VMM_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum parse_number_flags {
	PARSE_DEC = 1,	   /* decimal digits */
	PARSE_HEX_0X = 2,  /* "0x" or "0X" then hex digits */
	PARSE_HEX_BARE = 4 /* hex digits without a prefix (a MAC address byte) */
};

/*
 * A whole number from the first len bytes of text (or up to its NUL): no sign, no blank,
 * at least one digit, at most max. With end NULL every byte must be a digit; otherwise
 * parsing stops at the first byte that is not one and *end points there (set too when
 * no digit was found).
 * Returns 0, or -EINVAL (empty, junk, above max, overflow).
 */
int parse_number(const char *text, size_t len, unsigned int flags, uint64_t max, uint64_t *out,
		 const char **end);
/* The same for a NUL-terminated decimal number from min to max. */
int parse_decimal(const char *text, uint64_t min, uint64_t max, uint64_t *out);
/* "512M", "2G", "65536", "1GiB", "4kb": K/M/G/T are powers of 1024. -EINVAL on junk. */
int parse_size(const char *text, uint64_t *out);

#define KV_MAX_ITEMS 32
#define KV_TEXT_MAX 8192

struct kv_item {
	const char *key;   /* unescaped; NULL for a positional first item (KV_POSITIONAL) */
	const char *value; /* unescaped; NULL when the item has no '=' */
	const char *raw;   /* the item as written, for messages (not NUL-terminated) */
	int rawlen;
};

struct kv_list {
	struct kv_item items[KV_MAX_ITEMS];
	unsigned int count;
	unsigned int bad; /* after -EINVAL: the index of the empty item */
	char buf[KV_TEXT_MAX];
};

/* The first item is a plain value (a directory, say) and is never split at '='. */
#define KV_POSITIONAL 1u

/*
 * Split text into items. Returns 0; -EINVAL for an empty item (list->bad says which;
 * text "" is one empty item); -E2BIG for more than KV_MAX_ITEMS items or a text of
 * KV_TEXT_MAX bytes or more.
 */
int kv_split(const char *text, unsigned int flags, struct kv_list *list);
/* Whether item i's key is also the key of an earlier item. */
bool kv_repeats(const struct kv_list *list, unsigned int i);
/* "on" or "off" to a bool; -EINVAL otherwise. */
int parse_on_off(const char *text, bool *out);

/* The value of one digit in base (up to 16, either case), or -1 when it is none. */
int parse_digit(char c, unsigned int base);

#endif
