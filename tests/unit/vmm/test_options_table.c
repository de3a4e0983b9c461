/* SPDX-License-Identifier: MIT */
/* The option table against itself, getopt, both --help texts and --config. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "vmm/run/config.h"
#include "vmm/options.h"

/* What options_usage() or options_usage_run() writes, as one string (free it). */
static char *help_text(bool run)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	if (run)
		options_usage_run(f, "vmm");
	else
		options_usage(f, "vmm");
	ck_assert_int_eq(fclose(f), 0);
	return text;
}

/* Whether help lists "--name" at the start of an option line. */
static bool lists(const char *help, const char *name)
{
	char want[64];

	snprintf(want, sizeof(want), "\n  --%s", name);
	for (const char *p = strstr(help, want); p; p = strstr(p + 1, want)) {
		char next = p[strlen(want)];

		if (next == ' ' || next == '\n' || next == ',')
			return true;
	}
	return false;
}

START_TEST(test_every_entry_complete)
{
	ck_assert_uint_gt(options_count, 0);
	ck_assert_uint_le(options_count, VMM_OPTIONS_MAX);
	for (unsigned int i = 0; i < options_count; i++) {
		const struct option_spec *o = &options_table[i];

		ck_assert_ptr_nonnull(o->name);
		ck_assert_msg(o->help && *o->help, "--%s has no help text", o->name);
		ck_assert_msg(o->modes & (OPTION_BOOT | OPTION_RUN), "--%s: no command takes it",
			      o->name);
		ck_assert_msg((o->modes & OPTION_RUN) || o->run_refusal,
			      "--%s: vmm run refuses it without saying why", o->name);
		ck_assert_msg(!o->empty_why || (!o->parse && o->metavar),
			      "--%s: empty_why is for a stored text", o->name);
		ck_assert_msg(!o->repeatable || o->metavar, "--%s: a repeatable flag", o->name);
		ck_assert_ptr_eq(options_find(o->name), o); /* names are unique */
		for (unsigned int j = 0; j < i; j++)
			ck_assert_msg(!o->short_name ||
					      o->short_name != options_table[j].short_name,
				      "-%c twice", o->short_name);
	}
}
END_TEST

START_TEST(test_json_keys_map_to_options)
{
	unsigned int index;

	for (unsigned int i = 0; i < options_count; i++) {
		const struct option_spec *o = &options_table[i];

		if (!o->json_key)
			continue;
		ck_assert_ptr_eq(options_find_json(o->json_key, &index), o);
		ck_assert_uint_eq(index, i);
		/* the file's keys are the long options (docs/scripting.md) */
		ck_assert_str_eq(o->json_key, o->name);
	}
	ck_assert_ptr_null(options_find_json("config", &index));
	ck_assert_ptr_null(options_find_json("help", &index));
	ck_assert_ptr_null(options_find_json("command", &index)); /* vmm run's, not an option */
}
END_TEST

/* Every key a config file may hold is taken by config_parse() as an option. */
START_TEST(test_config_takes_every_key)
{
	struct options_prescan pre = { .run = true };
	struct config_args args;
	char text[256], err[256];

	for (unsigned int i = 0; i < options_count; i++) {
		const struct option_spec *o = &options_table[i];
		int ret;

		snprintf(text, sizeof(text), "{\"%s\": %s}", o->name,
			 o->metavar ? "\"x\"" : "true");
		ret = config_parse(text, strlen(text), "t.json", &pre, &args, err, sizeof(err));
		if (!o->json_key) {
			ck_assert_int_eq(ret, -EINVAL);
			ck_assert_msg(strstr(err, "cannot be set in a config file"), "%s", err);
			continue;
		}
		/* "x" may be a bad value, but never an unknown key */
		ck_assert_msg(!strstr(err, "unknown key"), "%s: %s", o->name, err);
		if (!ret)
			config_free(&args);
		err[0] = '\0';
	}
}
END_TEST

START_TEST(test_help_lists_each_mode)
{
	char *boot = help_text(false), *run = help_text(true);

	for (unsigned int i = 0; i < options_count; i++) {
		const struct option_spec *o = &options_table[i];

		ck_assert_msg(lists(boot, o->name) == !!(o->modes & OPTION_BOOT),
			      "vmm --help and --%s disagree", o->name);
		ck_assert_msg(lists(run, o->name) == !!(o->modes & OPTION_RUN),
			      "vmm run --help and --%s disagree", o->name);
	}
	free(boot);
	free(run);
}
END_TEST

START_TEST(test_run_help_lists_late_options)
{
	static const char *const names[] = { "net", "seccomp", "user", "kvm-device" };
	char *run = help_text(true);

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ck_assert_msg(lists(run, names[i]), "vmm run --help lacks --%s", names[i]);
	free(run);
}
END_TEST

/* The texts spell out defaults the code keeps elsewhere; and no line runs over. */
START_TEST(test_help_text_matches_code)
{
	char *boot = help_text(false), *run = help_text(true);
	char *texts[] = { boot, run };

	const char *cmdline = options_find("cmdline")->help, *net = options_find("net")->help;

	ck_assert_ptr_nonnull(strstr(cmdline, "\"" VMM_DEFAULT_CMDLINE "\""));
	ck_assert_ptr_nonnull(strstr(net, NET_USER_GUEST_ADDR " by DHCP"));
	ck_assert_ptr_nonnull(strstr(net, NET_USER_GATEWAY_ADDR " is the host"));
	ck_assert_ptr_nonnull(strstr(net, NET_USER_DNS_ADDR " its DNS"));
	ck_assert_ptr_nonnull(strstr(boot, ",,"));
	for (size_t t = 0; t < 2; t++) {
		for (char *line = texts[t]; *line;) {
			size_t len = strcspn(line, "\n");

			if (strncmp(line, "Run one command", 15) && strncmp(line, "Usage:", 6))
				ck_assert_msg(len <= 79, "help line too long: %.*s", (int)len,
					      line);
			line += len + (line[len] != '\0');
		}
	}
	free(boot);
	free(run);
}
END_TEST

/*
 * getopt sees what the table says: a flag refuses a value, an option needs one (one whose
 * value may be left out is taken alone, and only the missing --kernel is refused).
 */
START_TEST(test_getopt_follows_table)
{
	struct vmm_options opts;
	char err[256], arg[64];

	for (unsigned int i = 0; i < options_count; i++) {
		const struct option_spec *o = &options_table[i];
		char *argv[] = { "vmm", arg, NULL };

		snprintf(arg, sizeof(arg), o->metavar ? "--%s" : "--%s=1", o->name);
		if (o->optional_prefix) {
			char *run_argv[] = { "vmm", "run", arg, "--", "true", NULL };
			bool run = !(o->modes & OPTION_BOOT);

			ck_assert_int_eq(options_parse(&opts, run ? 5 : 2, run ? run_argv : argv,
						       err, sizeof(err)),
					 -EINVAL);
			ck_assert_msg(strstr(err, "--kernel is required"), "--%s: %s", o->name,
				      err);
			continue;
		}
		ck_assert_int_eq(options_parse(&opts, 2, argv, err, sizeof(err)), -EINVAL);
		ck_assert_msg(strstr(err, o->metavar ? "needs a value" : "takes no value"),
			      "--%s: %s", o->name, err);
	}
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("options_table");
	TCase *tc = tcase_create("table");

	tcase_add_test(tc, test_every_entry_complete);
	tcase_add_test(tc, test_json_keys_map_to_options);
	tcase_add_test(tc, test_config_takes_every_key);
	tcase_add_test(tc, test_help_lists_each_mode);
	tcase_add_test(tc, test_run_help_lists_late_options);
	tcase_add_test(tc, test_help_text_matches_code);
	tcase_add_test(tc, test_getopt_follows_table);
	suite_add_tcase(s, tc);
	return s;
}
