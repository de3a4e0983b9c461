/* SPDX-License-Identifier: MIT */
/* --config: JSON keys to arguments, command-line precedence, and positioned errors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "vmm/run/config.h"

static struct config_args cfg;
static struct options_prescan pre;
static char err[256];

static int load(const char *text, char **cli, int clic)
{
	config_free(&cfg);
	memset(err, 0, sizeof(err));
	options_prescan(clic, cli, &pre);
	return config_parse(text, strlen(text), "t.json", &pre, &cfg, err, sizeof(err));
}

static void teardown(void)
{
	config_free(&cfg);
}

START_TEST(test_mapping)
{
	char *cli[] = { "vmm", "run", "--config", "t.json" };

	ck_assert_int_eq(
		load("{\"kernel\": \"bz\", \"cpus\": 2, \"stats\": true, \"verbose\": false,"
		     " \"disk\": [\"path=a\", {\"path\": \"b\", \"readonly\": true,"
		     " \"queues\": 2}], \"command\": [\"sh\", \"-c\", \"exit 7\"]}",
		     cli, 4),
		0);
	ck_assert_int_eq(cfg.nargs, 5);
	ck_assert_str_eq(cfg.args[0], "--kernel=bz");
	ck_assert_str_eq(cfg.args[1], "--cpus=2");
	ck_assert_str_eq(cfg.args[2], "--stats");
	ck_assert_str_eq(cfg.args[3], "--disk=path=a");
	ck_assert_str_eq(cfg.args[4], "--disk=path=b,readonly=on,queues=2");
	ck_assert_int_eq(cfg.ncommand, 3);
	ck_assert_str_eq(cfg.command[2], "exit 7");
}
END_TEST

/* "jail" is a key like any long option, checked as --jail would be */
START_TEST(test_jail_key)
{
	char *boot[] = { "vmm", "--config", "t.json" };

	ck_assert_int_eq(
		load("{\"kernel\": \"bz\", \"jail\": \"/srv/jail\", \"user\": 1000}", boot, 3), 0);
	ck_assert_int_eq(cfg.nargs, 3);
	ck_assert_str_eq(cfg.args[1], "--jail=/srv/jail");
	ck_assert_int_eq(load("{\"jail\": \"\"}", boot, 3), -EINVAL);
	ck_assert_str_eq(err, "t.json:1:10: --jail '': needs a directory");
}
END_TEST

/* an option that is on by default says off for false; one that is off leaves it out */
START_TEST(test_false_turns_off)
{
	char *cli[] = { "vmm", "run", "--config", "t.json" };
	struct vmm_options opts;
	char **merged;
	int argc;

	ck_assert_int_eq(load("{\"kernel\": \"bz\", \"overlay\": false, \"rng\": false}", cli, 4),
			 0);
	ck_assert_int_eq(cfg.nargs, 2);
	ck_assert_str_eq(cfg.args[1], "--overlay=off");
	merged = config_merge(4, cli, &pre, &cfg, &argc);
	ck_assert_ptr_nonnull(merged);
	ck_assert_int_eq(options_parse(&opts, argc, merged, err, sizeof(err)), 0);
	ck_assert(opts.overlay_off);
	free(merged);
	ck_assert_int_eq(load("{\"kernel\": \"bz\", \"overlay\": true}", cli, 4), 0);
	ck_assert_str_eq(cfg.args[1], "--overlay");
}
END_TEST

START_TEST(test_command_line_wins)
{
	char *cli[] = { "vmm", "run",	"--config", "t.json", "--cpus",
			"4",   "--env", "B=2",	    "--",     "ls" };
	struct vmm_options opts;
	char **merged;
	int argc;

	ck_assert_int_eq(load("{\"kernel\": \"bz\", \"cpus\": 2, \"env\": [\"A=1\"],"
			      " \"command\": [\"true\"]}",
			      cli, 10),
			 0);
	merged = config_merge(10, cli, &pre, &cfg, &argc);
	ck_assert_ptr_nonnull(merged);
	ck_assert_int_eq(options_parse(&opts, argc, merged, err, sizeof(err)), 0);
	ck_assert_uint_eq(opts.cpus, 4);
	ck_assert_str_eq(opts.kernel, "bz");
	ck_assert_uint_eq(opts.nenv, 1); /* the command line's list replaced the file's */
	ck_assert_str_eq(opts.env[0], "B=2");
	ck_assert_uint_eq(opts.ncommand, 1);
	ck_assert_str_eq(opts.command[0], "ls");
	free(merged);
}
END_TEST

START_TEST(test_file_command_used)
{
	char *cli[] = { "vmm", "run", "--config", "t.json" };
	struct vmm_options opts;
	char **merged;
	int argc;

	ck_assert_int_eq(load("{\"kernel\": \"bz\", \"command\": [\"echo\", \"--help\"]}", cli, 4),
			 0);
	merged = config_merge(4, cli, &pre, &cfg, &argc);
	ck_assert_int_eq(options_parse(&opts, argc, merged, err, sizeof(err)), 0);
	ck_assert(!opts.help);
	ck_assert_uint_eq(opts.ncommand, 2);
	ck_assert_str_eq(opts.command[1], "--help");
	free(merged);
}
END_TEST

START_TEST(test_errors)
{
	char *run[] = { "vmm", "run", "--config", "t.json" };
	char *boot[] = { "vmm", "--config", "t.json" };

	ck_assert_int_eq(load("{\"cpus\": 0}", run, 4), -EINVAL);
	ck_assert_str_eq(err, "t.json:1:10: --cpus 0: must be a whole number from 1 to 254");
	ck_assert_int_eq(load("{\"nope\": 1}", run, 4), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "t.json:1:10: unknown key \"nope\""));
	ck_assert_int_eq(load("{\"stats\": 1}", run, 4), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "expected true or false"));
	ck_assert_int_eq(load("{\"cpus\": 1.5}", run, 4), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "string or an integer"));
	ck_assert_int_eq(load("{\"disk\": {\"path\": \"a,b\"}}", run, 4), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "no ','"));
	ck_assert_int_eq(load("{\"command\": []}", run, 4), -EINVAL);
	ck_assert_int_eq(load("{\"command\": [\"x\"]}", boot, 3), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "only for vmm run"));
	ck_assert_int_eq(load("{\"config\": \"x\"}", run, 4), -EINVAL);
	ck_assert_int_eq(load("[1]", run, 4), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "expected an object"));
	ck_assert_int_eq(load("{\n\"cpus\": 2,\n}", run, 4), -EINVAL);
	ck_assert_str_eq(err, "t.json:3:1: trailing comma before '}'");
	ck_assert_int_eq(load("{\"rootfs\": \"d\"}", boot, 3), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "only works with vmm run"));
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("json to options");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_mapping);
	tcase_add_test(tc, test_jail_key);
	tcase_add_test(tc, test_false_turns_off);
	tcase_add_test(tc, test_command_line_wins);
	tcase_add_test(tc, test_file_command_used);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	return s;
}
