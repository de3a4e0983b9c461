// SPDX-License-Identifier: MIT
/* modules.dep lookup and dependency ordering for the `vmm run` initramfs. */
#include "vmm/run/modules.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MODULES_MAX_DEPTH 32

void modules_name(const char *path, char *name, size_t len)
{
	const char *base = strrchr(path, '/');
	size_t n = 0;

	base = base ? base + 1 : path;
	for (; *base && n + 1 < len; base++) {
		if (!strncmp(base, ".ko", 3) && (base[3] == 0 || base[3] == '.'))
			break;
		name[n++] = *base == '-' ? '_' : *base;
	}
	if (len)
		name[n] = 0;
}

/* The line of modules.dep for module name, or NULL; *end is where that line ends. */
static const char *find_line(const char *text, const char *name, const char **end)
{
	char got[256];

	for (const char *line = text; *line;) {
		const char *eol = strchr(line, '\n'), *colon;
		size_t plen;
		char path[512];

		if (!eol)
			eol = line + strlen(line);
		colon = memchr(line, ':', (size_t)(eol - line));
		if (colon && (plen = (size_t)(colon - line)) < sizeof(path)) {
			memcpy(path, line, plen);
			path[plen] = 0;
			modules_name(path, got, sizeof(got));
			if (!strcmp(got, name)) {
				*end = eol;
				return line;
			}
		}
		line = *eol ? eol + 1 : eol;
	}
	return NULL;
}

static bool listed(const struct module_list *list, const char *path)
{
	for (unsigned int i = 0; i < list->count; i++)
		if (!strcmp(list->paths[i], path))
			return true;
	return false;
}

static int add(const char *text, const char *name, struct module_list *list, unsigned int depth)
{
	const char *line, *eol, *colon, *p;
	char path[512], dep[512], depname[256];
	size_t plen;
	int ret;

	if (depth > MODULES_MAX_DEPTH)
		return -ELOOP;
	line = find_line(text, name, &eol);
	if (!line)
		return 0; /* built in, or not in this kernel: the guest will say which */
	colon = memchr(line, ':', (size_t)(eol - line));
	plen = (size_t)(colon - line);
	memcpy(path, line, plen);
	path[plen] = 0;
	if (listed(list, path))
		return 0;
	for (p = colon + 1; p < eol;) {
		size_t dlen;

		while (p < eol && (*p == ' ' || *p == '\t'))
			p++;
		dlen = 0;
		while (p + dlen < eol && p[dlen] != ' ' && p[dlen] != '\t')
			dlen++;
		if (dlen && dlen < sizeof(dep)) {
			memcpy(dep, p, dlen);
			dep[dlen] = 0;
			modules_name(dep, depname, sizeof(depname));
			ret = add(text, depname, list, depth + 1);
			if (ret)
				return ret;
		}
		p += dlen;
	}
	if (listed(list, path))
		return 0;
	if (list->count == MODULES_MAX)
		return -E2BIG;
	list->paths[list->count] = strdup(path);
	if (!list->paths[list->count])
		return -ENOMEM;
	list->count++;
	return 0;
}

int modules_resolve(const char *dep_text, const char *const *wanted, unsigned int n,
		    struct module_list *list)
{
	for (unsigned int i = 0; i < n; i++) {
		char name[256];
		int ret;

		modules_name(wanted[i], name, sizeof(name));
		ret = add(dep_text, name, list, 0);
		if (ret)
			return ret;
	}
	return 0;
}

void modules_free(struct module_list *list)
{
	for (unsigned int i = 0; i < list->count; i++)
		free(list->paths[i]);
	list->count = 0;
}
