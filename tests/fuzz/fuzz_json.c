/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the --config JSON parser (vmm/json.c) and its mapping to options
 * (vmm/run/config.c): json_parse() must return 0 with a tree or -EINVAL with a
 * NUL-terminated "LINE:COLUMN: ..." message, never crash or leak; an accepted document
 * then goes through config_parse() in run mode, which must also answer 0 or -EINVAL.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/run/config.h"
#include "vmm/json.h"

static void check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

static void walk(const struct json_value *v, unsigned int depth)
{
	check(depth <= JSON_MAX_DEPTH + 1);
	check(v->line >= 1 && v->column >= 1);
	if (v->type == JSON_STRING || v->type == JSON_NUMBER)
		check(v->text != NULL);
	for (size_t i = 0; i < v->count; i++) {
		if (v->type == JSON_OBJECT)
			check(v->items[i].key != NULL);
		walk(&v->items[i], depth + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *cli[] = { "vmm", "run", "--config", "f.json" };
	struct options_prescan pre;
	struct config_args cfg;
	struct json_value *root;
	char err[128];
	char *text = malloc(size ? size : 1);
	int ret;

	check(text != NULL);
	memcpy(text, data, size);
	memset(err, 'X', sizeof(err));
	ret = json_parse(text, size, &root, err, sizeof(err));
	check(ret == 0 || ret == -EINVAL);
	if (ret) {
		check(memchr(err, 0, sizeof(err)) != NULL);
		check(err[0] >= '1' && err[0] <= '9' && strchr(err, ':') != NULL);
		check(root == NULL);
	} else {
		walk(root, 0);
		json_free(root);
		options_prescan(4, cli, &pre);
		ret = config_parse(text, size, "f.json", &pre, &cfg, err, sizeof(err));
		check(ret == 0 || ret == -EINVAL);
		if (ret == 0)
			config_free(&cfg);
		else
			check(memchr(err, 0, sizeof(err)) != NULL);
	}
	free(text);
	return 0;
}
