// SPDX-License-Identifier: MIT
/* Numbers and key=value lists for option values: see parse.h for the rules. */
#include "vmm/parse.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

int parse_digit(char c, unsigned int base)
{
	int v = -1;

	if (c >= '0' && c <= '9')
		v = c - '0';
	else if (c >= 'a' && c <= 'f')
		v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		v = c - 'A' + 10;
	return v >= 0 && (unsigned int)v < base ? v : -1;
}

int parse_number(const char *text, size_t len, unsigned int flags, uint64_t max, uint64_t *out,
		 const char **end)
{
	unsigned int base = flags & PARSE_HEX_BARE ? 16 : 10;
	uint64_t value = 0;
	size_t i = 0, first;

	if (!text)
		return -EINVAL;
	if ((flags & PARSE_HEX_0X) && len >= 2 && text[0] == '0' &&
	    (text[1] == 'x' || text[1] == 'X')) {
		base = 16;
		i = 2;
	} else if (!(flags & (PARSE_DEC | PARSE_HEX_BARE))) {
		return -EINVAL;
	}
	first = i;
	for (; i < len && text[i]; i++) {
		int d = parse_digit(text[i], base);

		if (d < 0)
			break;
		if ((uint64_t)d > max || value > (max - (uint64_t)d) / base)
			return -EINVAL; /* above max, overflow included */
		value = value * base + (uint64_t)d;
	}
	if (end)
		*end = text + i; /* also when there was no digit, for the caller's message */
	if (i == first || (!end && i < len && text[i]))
		return -EINVAL;
	*out = value;
	return 0;
}

int parse_decimal(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;

	if (parse_number(text, SIZE_MAX, PARSE_DEC, max, &v, NULL) || v < min)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_size(const char *text, uint64_t *out)
{
	static const char suffixes[] = "KMGT";
	const char *end, *unit;
	unsigned int shift = 0;
	uint64_t value;

	if (parse_number(text, SIZE_MAX, PARSE_DEC, UINT64_MAX, &value, &end))
		return -EINVAL;
	if (*end) {
		unit = strchr(suffixes, toupper((unsigned char)*end));
		if (!unit)
			return -EINVAL;
		shift = 10 * (unsigned int)(unit - suffixes + 1);
		if (end[1] && strcasecmp(end + 1, "iB") && strcasecmp(end + 1, "B"))
			return -EINVAL;
	}
	if (shift && value > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = value << shift;
	return 0;
}

int parse_on_off(const char *text, bool *out)
{
	if (!strcmp(text, "on"))
		*out = true;
	else if (!strcmp(text, "off"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

int kv_split(const char *text, unsigned int flags, struct kv_list *list)
{
	const char *p = text;
	size_t used = 0;

	list->count = 0;
	list->bad = 0;
	if (strlen(text) >= KV_TEXT_MAX)
		return -E2BIG;
	for (;;) {
		struct kv_item *item = &list->items[list->count];
		bool positional = (flags & KV_POSITIONAL) && list->count == 0;
		char *out = list->buf + used;

		if (list->count == KV_MAX_ITEMS)
			return -E2BIG;
		item->raw = p;
		item->key = positional ? NULL : out;
		item->value = positional ? out : NULL;
		/* the item runs to the next single comma; ",," stands for one comma */
		while (*p && !(*p == ',' && p[1] != ',')) {
			if (*p == ',')
				p++;
			if (*p == '=' && !item->value) {
				*out++ = '\0';
				item->value = out;
				p++;
				continue;
			}
			*out++ = *p++;
		}
		*out++ = '\0';
		item->rawlen = (int)(p - item->raw);
		used = (size_t)(out - list->buf);
		list->count++;
		if (item->rawlen == 0) {
			list->bad = list->count - 1;
			return -EINVAL;
		}
		if (!*p)
			return 0;
		p++; /* the separating comma */
	}
}

bool kv_repeats(const struct kv_list *list, unsigned int i)
{
	const char *key = list->items[i].key;

	for (unsigned int j = 0; key && j < i; j++)
		if (list->items[j].key && !strcmp(list->items[j].key, key))
			return true;
	return false;
}
