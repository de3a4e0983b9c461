// SPDX-License-Identifier: MIT
/* --config FILE: JSON to command-line arguments, checked one value at a time. */
#include "vmm/run/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "vmm/hostfile.h"
#include "vmm/json.h"

#define CONFIG_MAX_SIZE (1 << 20)

struct mapper {
	const char *name;
	const struct options_prescan *pre;
	struct config_args *out;
	char *err;
	size_t errlen;
};

static int complain(struct mapper *m, const struct json_value *v, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(m->err, m->errlen, "%s:%u:%u: ", m->name, v->line, v->column);

	if (n >= 0 && (size_t)n < m->errlen) {
		va_start(ap, fmt);
		vsnprintf(m->err + n, m->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool integer_literal(const char *text)
{
	return !strpbrk(text, ".eE");
}

/*
 * Check one argument as the command line would, so a bad value is reported at its place
 * in the file: parse it alone, with just enough around it to be a complete command line.
 */
static int check_arg(struct mapper *m, const struct json_value *v, const char *key, char *arg)
{
	bool needs_kernel = strcmp(key, "kernel") && strcmp(key, "flat");
	char *argv[8];
	int argc = 0;
	struct vmm_options scratch;
	char why[256];

	argv[argc++] = "vmm";
	if (m->pre->run)
		argv[argc++] = "run";
	argv[argc++] = arg;
	if (needs_kernel)
		argv[argc++] = "--kernel=-";
	if (m->pre->run) {
		argv[argc++] = "--";
		argv[argc++] = "true";
	}
	argv[argc] = NULL;
	if (options_parse(&scratch, argc, argv, why, sizeof(why)))
		return complain(m, v, "%s", why);
	return 0;
}

static int push(struct mapper *m, const struct json_value *v, const char *key, char *arg)
{
	char **args;

	if (!arg)
		return complain(m, v, "out of memory");
	if (check_arg(m, v, key, arg)) {
		free(arg);
		return -EINVAL;
	}
	args = realloc(m->out->args, (size_t)(m->out->nargs + 1) * sizeof(*args));
	if (!args) {
		free(arg);
		return complain(m, v, "out of memory");
	}
	m->out->args = args;
	args[m->out->nargs++] = arg;
	return 0;
}

static char *option_value(const char *key, const char *value)
{
	char *arg;

	return asprintf(&arg, "--%s=%s", key, value) < 0 ? NULL : arg;
}

static char *flag_arg(const char *key)
{
	char *arg;

	return asprintf(&arg, "--%s", key) < 0 ? NULL : arg;
}

/* {"path": "a.img", "readonly": true} -> "path=a.img,readonly=on" */
static int object_value(struct mapper *m, const struct json_value *v, const char *key)
{
	size_t len = 0;
	char *text = NULL, *arg;

	for (size_t i = 0; i < v->count; i++) {
		const struct json_value *f = &v->items[i];
		const char *value = NULL;
		char *more;

		if (f->type == JSON_STRING || (f->type == JSON_NUMBER && integer_literal(f->text)))
			value = f->text;
		else if (f->type == JSON_BOOL)
			value = f->boolean ? "on" : "off";
		if (!value) {
			free(text);
			return complain(
				m, f,
				"\"%s\" in \"%s\": expected a string, an integer, true or false",
				f->key, key);
		}
		if (strchr(f->key, ',') || strchr(f->key, '=') || strchr(value, ',')) {
			free(text);
			return complain(m, f, "\"%s\" in \"%s\": no ',' (or '=' in a key) allowed",
					f->key, key);
		}
		if (asprintf(&more, "%s%s%s=%s", text ? text : "", text ? "," : "", f->key, value) <
		    0) {
			free(text);
			return complain(m, f, "out of memory");
		}
		free(text);
		text = more;
		len++;
	}
	if (!len)
		return complain(m, v, "\"%s\": an empty object says nothing", key);
	arg = option_value(key, text);
	free(text);
	return push(m, v, key, arg);
}

static int scalar_value(struct mapper *m, const struct json_value *v, const char *key)
{
	if (v->type == JSON_STRING)
		return push(m, v, key, option_value(key, v->text));
	if (v->type == JSON_NUMBER && integer_literal(v->text))
		return push(m, v, key, option_value(key, v->text));
	return complain(m, v, "\"%s\": expected a string or an integer", key);
}

static int command_value(struct mapper *m, const struct json_value *v)
{
	if (!m->pre->run)
		return complain(m, v, "\"command\" is only for vmm run");
	if (v->type != JSON_ARRAY || v->count == 0)
		return complain(m, v, "\"command\": expected a non-empty array of strings");
	m->out->command = calloc(v->count + 1, sizeof(char *));
	if (!m->out->command)
		return complain(m, v, "out of memory");
	for (size_t i = 0; i < v->count; i++) {
		if (v->items[i].type != JSON_STRING)
			return complain(m, &v->items[i], "\"command\": expected a string");
		m->out->command[i] = strdup(v->items[i].text);
		if (!m->out->command[i])
			return complain(m, v, "out of memory");
		m->out->ncommand++;
	}
	return 0;
}

static int member(struct mapper *m, const struct json_value *v)
{
	const char *key = v->key;
	const struct option_spec *o;
	unsigned int index;

	if (!strcmp(key, "command"))
		return command_value(m, v);
	o = options_find_json(key, &index);
	if (!o && options_find(key))
		return complain(m, v, "\"%s\" cannot be set in a config file", key);
	if (!o)
		return complain(m, v, "unknown key \"%s\" (keys are the long options)", key);
	if (!o->metavar || (o->optional_prefix && v->type == JSON_BOOL)) {
		if (v->type != JSON_BOOL)
			return complain(m, v, "\"%s\": expected true or false", key);
		if (v->boolean)
			return push(m, v, key, flag_arg(o->name));
		return o->json_false ? push(m, v, key, option_value(o->name, o->json_false)) : 0;
	}
	if (o->repeatable && m->pre->given[index])
		return 0; /* the command line's own list replaces the file's */
	if (o->repeatable && v->type == JSON_ARRAY) {
		for (size_t i = 0; i < v->count; i++) {
			const struct json_value *item = &v->items[i];
			int ret = item->type == JSON_OBJECT ? object_value(m, item, o->name)
							    : scalar_value(m, item, o->name);
			if (ret)
				return ret;
		}
		return 0;
	}
	if (v->type == JSON_OBJECT)
		return object_value(m, v, o->name);
	return scalar_value(m, v, o->name);
}

int config_parse(const char *text, size_t len, const char *name, const struct options_prescan *pre,
		 struct config_args *out, char *err, size_t errlen)
{
	struct mapper m = { name, pre, out, err, errlen };
	struct json_value *root;
	char why[256];
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (json_parse(text, len, &root, why, sizeof(why))) {
		snprintf(err, errlen, "%s:%s", name, why);
		return -EINVAL;
	}
	if (root->type != JSON_OBJECT)
		ret = complain(&m, root, "expected an object of options");
	for (size_t i = 0; !ret && i < root->count; i++)
		ret = member(&m, &root->items[i]);
	json_free(root);
	if (ret)
		config_free(out);
	return ret;
}

int config_load(const struct options_prescan *pre, struct config_args *out, char *err,
		size_t errlen)
{
	struct stat st;
	const char *why;
	int fd = hostfile_open(pre->config, O_RDONLY, 0, HOSTFILE_REGULAR, &st, &why);
	char *text;
	size_t done = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	if (fd < 0) {
		snprintf(err, errlen, "--config %s: %s", pre->config, why);
		return -EINVAL;
	}
	if (st.st_size > CONFIG_MAX_SIZE) {
		snprintf(err, errlen, "--config %s: not a regular file of at most 1 MiB",
			 pre->config);
		close(fd);
		return -EINVAL;
	}
	text = malloc((size_t)st.st_size + 1);
	while (text && done < (size_t)st.st_size) {
		ssize_t n = read(fd, text + done, (size_t)st.st_size - done);

		if (n <= 0)
			break;
		done += (size_t)n;
	}
	close(fd);
	if (!text || done != (size_t)st.st_size) {
		snprintf(err, errlen, "--config %s: cannot read it", pre->config);
		free(text);
		return -EINVAL;
	}
	ret = config_parse(text, done, pre->config, pre, out, err, errlen);
	free(text);
	return ret;
}

char **config_merge(int argc, char **argv, const struct options_prescan *pre,
		    const struct config_args *cfg, int *merged_argc)
{
	size_t max = (size_t)argc + (size_t)cfg->nargs + (size_t)cfg->ncommand + 3;
	char **merged = calloc(max, sizeof(char *));
	int n = 0;

	if (!merged)
		return NULL;
	merged[n++] = argv[0];
	if (pre->run)
		merged[n++] = "run";
	for (int i = 0; i < cfg->nargs; i++)
		merged[n++] = cfg->args[i];
	for (int i = pre->first; i < argc; i++)
		merged[n++] = argv[i];
	if (pre->run && !pre->has_command && cfg->ncommand) {
		if (!pre->ends_with_dashes)
			merged[n++] = "--";
		for (int i = 0; i < cfg->ncommand; i++)
			merged[n++] = cfg->command[i];
	}
	merged[n] = NULL;
	*merged_argc = n;
	return merged;
}

void config_free(struct config_args *cfg)
{
	for (int i = 0; i < cfg->nargs; i++)
		free(cfg->args[i]);
	free(cfg->args);
	for (int i = 0; i < cfg->ncommand; i++)
		free(cfg->command[i]);
	free(cfg->command);
	memset(cfg, 0, sizeof(*cfg));
}
