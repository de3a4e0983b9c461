// SPDX-License-Identifier: MIT
/*
 * The command line: options_table (vmm/options_table.c) turned into getopt's long
 * options, each value handed to its entry's parser, then the checks that need the whole
 * line (the mode each option belongs to, --kernel or --flat).
 */
#include "vmm/options.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "vmm/parse.h"

/* getopt's value for options_table[i]; above every short option's character */
#define OPTION_VALUE(i) (256 + (int)(i))

/* The table as getopt_long wants it, and the short options after the mode's prefix. */
struct getopt_table {
	struct option longs[VMM_OPTIONS_MAX + 1];
	char shorts[2 * VMM_OPTIONS_MAX + 3];
};

static void build_getopt(struct getopt_table *t, bool run)
{
	/* ":": we word the errors; "+" in run mode: the command's own options are not ours */
	size_t n = (size_t)snprintf(t->shorts, sizeof(t->shorts), "%s", run ? "+:" : ":");

	for (unsigned int i = 0; i < options_count; i++) {
		const struct option_spec *o = &options_table[i];

		int has_arg = o->optional_prefix ? optional_argument
			      : o->metavar	 ? required_argument
						 : no_argument;

		t->longs[i] = (struct option){ o->name, has_arg, NULL, OPTION_VALUE(i) };
		if (o->short_name) {
			t->shorts[n++] = o->short_name;
			if (o->metavar)
				t->shorts[n++] = ':';
		}
	}
	t->longs[options_count] = (struct option){ 0 };
	t->shorts[n] = '\0';
}

/*
 * An option whose value may be left out takes the next word as its value when that starts
 * with its prefix ("--rng rate=N" as well as "--rng=rate=N"); anything else is the next
 * option or the command.
 */
static const char *optional_value(const struct option_spec *o, int argc, char **argv)
{
	if (!o->optional_prefix || optarg || optind >= argc ||
	    strncmp(argv[optind], o->optional_prefix, strlen(o->optional_prefix)))
		return optarg;
	return argv[optind++];
}

/* The table index getopt's return value c stands for, or -1. */
static int option_index(int c)
{
	if (c >= OPTION_VALUE(0) && c < OPTION_VALUE(options_count))
		return c - OPTION_VALUE(0);
	for (unsigned int i = 0; i < options_count && c > 0 && c < 128; i++)
		if (options_table[i].short_name == c)
			return (int)i;
	return -1;
}

int options_parse_size(const char *text, uint64_t *out)
{
	return parse_size(text, out);
}

int options_bad(char *err, size_t errlen, const char *opt, const char *value, const char *why)
{
	snprintf(err, errlen, "%s %s: %s", opt, value, why);
	return -EINVAL;
}

const struct option_spec *options_find(const char *name)
{
	for (unsigned int i = 0; i < options_count; i++)
		if (!strcmp(options_table[i].name, name))
			return &options_table[i];
	return NULL;
}

const struct option_spec *options_find_json(const char *key, unsigned int *index)
{
	for (unsigned int i = 0; i < options_count; i++) {
		if (options_table[i].json_key && !strcmp(options_table[i].json_key, key)) {
			*index = i;
			return &options_table[i];
		}
	}
	return NULL;
}

/* argv[1] == "run": argv[1] plays argv[0] from then on. */
static bool strip_run(int *argc, char ***argv)
{
	if (*argc < 2 || strcmp((*argv)[1], "run"))
		return false;
	(*argc)--;
	(*argv)++;
	return true;
}

void options_prescan(int argc, char **argv, struct options_prescan *pre)
{
	struct getopt_table t;
	int c;

	memset(pre, 0, sizeof(*pre));
	pre->first = 1;
	pre->ends_with_dashes = argc > 1 && !strcmp(argv[argc - 1], "--");
	pre->run = strip_run(&argc, &argv);
	if (pre->run)
		pre->first = 2;
	build_getopt(&t, pre->run);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, t.shorts, t.longs, NULL)) != -1) {
		int i = option_index(c);

		if (i < 0)
			continue;
		optional_value(&options_table[i], argc, argv);
		pre->given[i] = true;
		if (!strcmp(options_table[i].name, "config"))
			pre->config = optarg;
	}
	pre->has_command = pre->run && optind < argc;
}

/* Hand one occurrence to its parser, or store it where the entry says. */
static int apply(struct vmm_options *opts, const struct option_spec *o, const char *arg, char *err,
		 size_t errlen)
{
	char *slot = (char *)opts + o->field;

	if (o->parse)
		return o->parse(opts, arg, err, errlen);
	if (!o->metavar) {
		*(bool *)slot = true;
		return 0;
	}
	if (o->empty_why && !*arg) {
		snprintf(err, errlen, "--%s '': %s", o->name, o->empty_why);
		return -EINVAL;
	}
	*(const char **)slot = arg;
	return 0;
}

/* Options that only mean something to one of the two modes, in the table's order. */
static int check_mode(const struct vmm_options *opts, const bool *given, char *err, size_t errlen)
{
	unsigned int mode = opts->run ? OPTION_RUN : OPTION_BOOT;

	for (unsigned int i = 0; i < options_count; i++) {
		const struct option_spec *o = &options_table[i];

		if (!given[i] || (o->modes & mode))
			continue;
		/* vmm run's console is the serial one: saying so is no mistake */
		if (opts->run && !strcmp(o->name, "console") && opts->console == CONSOLE_SERIAL)
			continue;
		if (opts->run)
			snprintf(err, errlen, "--%s cannot be used with vmm run %s", o->name,
				 o->run_refusal);
		else
			snprintf(err, errlen, "--%s only works with vmm run (try vmm run --help)",
				 o->name);
		return -EINVAL;
	}
	/* no command: a shell on a terminal, else an error (run_check_command) */
	return 0;
}

/*
 * What only a boot writes into the guest (its command line, the firmware tables' UUID, how
 * the kernel is loaded): a restored guest has them in its memory already, so giving one to
 * --restore would change nothing, silently.
 */
static int check_boot_only(const bool *given, char *err, size_t errlen)
{
	static const char *const boot_only[] = { "cmdline", "uuid", "kernel-unpack" };

	for (unsigned int i = 0; i < options_count; i++) {
		for (size_t j = 0; j < sizeof(boot_only) / sizeof(boot_only[0]); j++) {
			if (!given[i] || strcmp(options_table[i].name, boot_only[j]))
				continue;
			snprintf(err, errlen,
				 "--%s: a restored guest keeps what its boot set (it is in the "
				 "snapshot); leave it out of --restore",
				 boot_only[j]);
			return -EINVAL;
		}
	}
	return 0;
}

static int options_check(struct vmm_options *opts, const bool *given, char *err, size_t errlen)
{
	if (check_mode(opts, given, err, errlen))
		return -EINVAL;
	if (opts->help || opts->version)
		return 0;
	if (opts->restore && (opts->kernel || opts->flat || opts->initrd)) {
		snprintf(err, errlen,
			 "--restore: the guest's kernel is in the snapshot; leave out "
			 "--kernel, --flat and --initrd");
		return -EINVAL;
	}
	if (opts->restore && check_boot_only(given, err, errlen))
		return -EINVAL;
	if (!opts->kernel && !opts->flat && !opts->restore) {
		snprintf(err, errlen, "--kernel is required (try --help)");
		return -EINVAL;
	}
	if (opts->kernel && opts->flat) {
		snprintf(err, errlen, "--kernel and --flat cannot be used together");
		return -EINVAL;
	}
	if (opts->flat && opts->initrd) {
		snprintf(err, errlen, "--initrd needs --kernel, not --flat");
		return -EINVAL;
	}
	if (opts->gdb_wait && !opts->gdb) {
		snprintf(err, errlen, "--gdb-wait needs --gdb");
		return -EINVAL;
	}
	return 0;
}

/* getopt's complaint, in our words: a missing value, an unknown option, a stray value. */
static int getopt_error(int c, char **argv, char *err, size_t errlen)
{
	if (c == ':')
		snprintf(err, errlen, "%s needs a value", argv[optind - 1]);
	/* optopt is a bad short option's character; for a long one only argv has the text */
	else if (optopt > 0 && optopt < 128 && isgraph(optopt))
		snprintf(err, errlen, "unknown option -%c (try --help)", optopt);
	else if (optopt)
		snprintf(err, errlen, "%s: this option takes no value", argv[optind - 1]);
	else
		snprintf(err, errlen, "unknown option %s (try --help)", argv[optind - 1]);
	return -EINVAL;
}

/* where member m of struct vmm_options ends */
#define OPTIONS_END(m) (offsetof(struct vmm_options, m) + sizeof(((struct vmm_options *)0)->m))

static void set_defaults(struct vmm_options *opts)
{
	/* the slots must be all that this memset leaves out: see struct vmm_options */
	_Static_assert(OPTIONS_END(disks) == offsetof(struct vmm_options, shares) &&
			       sizeof(struct vmm_options) - OPTIONS_END(shares) <
				       _Alignof(struct vmm_options),
		       "disks and shares are the tail of struct vmm_options");
	memset(opts, 0, offsetof(struct vmm_options, disks));
	opts->cpus = 1;
	opts->memory = VMM_DEFAULT_MEMORY;
	opts->memory_text = "512M";
	opts->cmdline = VMM_DEFAULT_CMDLINE;
	opts->console = CONSOLE_SERIAL;
	opts->kvm_path = "/dev/kvm";
	opts->seccomp = VMM_SECCOMP_ON;
}

int options_parse(struct vmm_options *opts, int argc, char **argv, char *err, size_t errlen)
{
	bool given[VMM_OPTIONS_MAX] = { false };
	struct getopt_table t;
	int c;

	set_defaults(opts);
	opts->run = strip_run(&argc, &argv);
	build_getopt(&t, opts->run);
	optind = 0; /* 0, not 1: glibc then forgets all state from an earlier parse */
	opterr = 0;
	while ((c = getopt_long(argc, argv, t.shorts, t.longs, NULL)) != -1) {
		int i = option_index(c);

		if (i < 0)
			return getopt_error(c, argv, err, errlen);
		if (apply(opts, &options_table[i], optional_value(&options_table[i], argc, argv),
			  err, errlen))
			return -EINVAL;
		given[i] = true;
	}
	if (opts->run && optind < argc) {
		opts->command = argv + optind;
		opts->ncommand = (unsigned int)(argc - optind);
	} else if (optind < argc) {
		snprintf(err, errlen, "unexpected argument %s (try --help)", argv[optind]);
		return -EINVAL;
	}
	return options_check(opts, given, err, errlen);
}
