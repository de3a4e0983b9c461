/* SPDX-License-Identifier: MIT */
/*
 * --config FILE: a JSON object whose keys are the long options without their dashes,
 * for a test suite that keeps its VM definitions in files. The file becomes arguments
 * placed before the command line's own, so the command line overrides it:
 *
 *   { "kernel": "bzImage", "cpus": 2, "memory": "1G", "stats": true,
 *     "disk": [ "path=a.img", { "path": "b.img", "readonly": true, "serial": "data" } ],
 *     "env": [ "LANG=C" ], "timeout": 60, "command": [ "make", "check" ] }
 *
 * A value is a string or an integer; a flag is true or false; a repeatable option
 * (disk, env) takes an array, and its command-line occurrences replace the file's. An
 * object stands for "key=value,..." with true/false as on/off. "command" is vmm run's
 * CMD, used when the command line gives none. Errors are "FILE:LINE:COLUMN: why".
 */
#ifndef VMM_RUN_CONFIG_H
#define VMM_RUN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "vmm/options.h"

struct config_args {
	char **args; /* "--key=value" and "--flag" strings, in file order */
	int nargs;
	char **command; /* "command", or NULL */
	int ncommand;
};

/*
 * Turn JSON text into arguments. name is used in messages; pre says what the command
 * line already holds (mode, repeatable options given). Returns 0, or -EINVAL with one line
 * in err.
 */
int config_parse(const char *text, size_t len, const char *name, const struct options_prescan *pre,
		 struct config_args *out, char *err, size_t errlen);
/* Read and parse the file pre->config. */
int config_load(const struct options_prescan *pre, struct config_args *out, char *err,
		size_t errlen);
/*
 * The argument vector options_parse() should see: argv[0], "run" for run mode, the file's
 * arguments, the command line's, then the file's command if the command line has none.
 * Returns a malloc'ed NULL-terminated vector (free it, not its strings), or NULL.
 */
char **config_merge(int argc, char **argv, const struct options_prescan *pre,
		    const struct config_args *cfg, int *merged_argc);
void config_free(struct config_args *cfg);

#endif
