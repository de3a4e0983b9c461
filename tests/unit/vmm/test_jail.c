/* SPDX-License-Identifier: MIT */
/*
 * --jail: the refusals that come before any namespace (one line, exit status 2), and the
 * limits the jail sets from the options. Entering the jail needs a fork and mounts: the
 * harness scenario "jail" does that.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "vmm/exit_codes.h"
#include "vmm/jail.h"
#include "vmm/options.h"

#define MAX_ARGS 24

static struct vmm_options opts;
static char err[256];

static void parse(const char *first, ...)
{
	char *argv[MAX_ARGS + 1];
	va_list ap;
	int argc = 0;

	argv[argc++] = "vmm";
	va_start(ap, first);
	for (const char *a = first; a; a = va_arg(ap, const char *)) {
		ck_assert_int_lt(argc, MAX_ARGS);
		argv[argc++] = (char *)a;
	}
	va_end(ap);
	argv[argc] = NULL;
	ck_assert_int_eq(options_parse(&opts, argc, argv, err, sizeof(err)), 0);
}

START_TEST(test_no_jail_does_nothing)
{
	parse("--kernel", "k", NULL);
	ck_assert_int_eq(jail_begin(&opts, err, sizeof(err)), 0);
	ck_assert_int_eq(jail_enter(&opts, err, sizeof(err)), 0);
	ck_assert_str_eq(opts.kvm_path, "/dev/kvm");
}
END_TEST

START_TEST(test_dir_must_be_a_directory)
{
	char file[] = "/tmp/vmm-jail-test-XXXXXX";
	int fd = mkstemp(file);

	ck_assert_int_ge(fd, 0);
	close(fd);
	parse("--kernel", "k", "--jail", "/nonexistent/jail", "--user", "1000", NULL);
	ck_assert_int_eq(jail_begin(&opts, err, sizeof(err)), VMM_EXIT_USAGE);
	ck_assert_str_eq(err, "--jail /nonexistent/jail: No such file or directory");
	parse("--kernel", "k", "--jail", file, "--user", "1000", NULL);
	ck_assert_int_eq(jail_begin(&opts, err, sizeof(err)), VMM_EXIT_USAGE);
	ck_assert_ptr_nonnull(strstr(err, ": not a directory"));
	ck_assert_ptr_null(strchr(err, '\n'));
	unlink(file);
}
END_TEST

/* Root must say whom to run as; anyone else can only be themselves. */
START_TEST(test_user_rules)
{
	if (geteuid() == 0) {
		parse("--kernel", "k", "--jail", "/tmp", NULL);
		ck_assert_int_eq(jail_begin(&opts, err, sizeof(err)), VMM_EXIT_USAGE);
		ck_assert_str_eq(
			err, "--jail: started as root, it needs --user UID[:GID] to run the VM as");
	} else {
		parse("--kernel", "k", "--jail", "/tmp", "--user", "1000", NULL);
		ck_assert_int_eq(jail_begin(&opts, err, sizeof(err)), VMM_EXIT_USAGE);
		ck_assert_str_eq(err,
				 "--jail with --user: only root can run the VM as another user");
	}
}
END_TEST

static struct jail_limits limits(const long long *sizes, unsigned int online, bool to_file)
{
	struct jail_limits lim;

	memset(&lim, 0xa5, sizeof(lim));
	jail_limits(&opts, sizes, online, to_file, &lim);
	return lim;
}

START_TEST(test_nproc_counts_every_thread)
{
	static const long long sizes[VMM_MAX_DISKS] = { 1 << 20, 1 << 20 };
	struct jail_limits lim;

	/* main, 4 vCPUs, 16 spare */
	parse("--kernel", "k", "--cpus", "4", NULL);
	ck_assert_uint_eq(limits(sizes, 8, false).nproc, 1 + 4 + 16);
	/* a disk queue: its thread and up to 4 io_uring workers per online CPU */
	parse("--kernel", "k", "--cpus", "4", "--disk", "path=a,queues=2", NULL);
	ck_assert_uint_eq(limits(sizes, 8, false).nproc, 21 + 2 * (1 + 4 * 8));
	/* default queues: one per vCPU */
	parse("--kernel", "k", "--cpus", "2", "--disk", "path=a", NULL);
	ck_assert_uint_eq(limits(sizes, 1, false).nproc, 19 + 2 * 5);
	/* a NIC's pair: its thread and vhost's worker; a share: hiprio's worker and 4 more */
	parse("--kernel", "k", "--net", "tap=tap0,queues=2", "--share", "/tmp:t", NULL);
	lim = limits(sizes, 1, false);
	ck_assert_uint_eq(lim.nproc, 1 + 1 + 16 + 2 * 2 + 5);
}
END_TEST

START_TEST(test_nofile_left_to_shares_and_user_net)
{
	static const long long sizes[VMM_MAX_DISKS] = { 0 };

	parse("--kernel", "k", NULL);
	ck_assert_uint_gt(limits(sizes, 1, false).nofile, 256);
	parse("--kernel", "k", "--share", "/tmp:t", NULL);
	ck_assert_uint_eq(limits(sizes, 1, false).nofile, 0);
	parse("--kernel", "k", "--net", "user", NULL);
	ck_assert_uint_eq(limits(sizes, 1, false).nofile, 0);
	/* 254 vCPUs and 8 disks of 63 queues still fit */
	parse("--kernel", "k", "--cpus", "254", "--disk", "path=a,queues=63", "--disk",
	      "path=b,queues=63", NULL);
	ck_assert_uint_gt(limits(sizes, 1, false).nofile, 254 * 2 + 2 * 63 * 6);
}
END_TEST

START_TEST(test_fsize)
{
	long long sizes[VMM_MAX_DISKS] = { 3ll << 30, 5ll << 30 };

	/* no disk: only --stats-json and --status-file are written */
	parse("--kernel", "k", NULL);
	ck_assert_uint_eq(limits(sizes, 1, false).fsize, 1 << 20);
	/* the biggest writable disk; a read-only one is never written */
	parse("--kernel", "k", "--disk", "path=a", "--disk", "path=b,readonly=on", NULL);
	ck_assert_uint_eq(limits(sizes, 1, false).fsize, 3ull << 30);
	parse("--kernel", "k", "--disk", "path=a", "--disk", "path=b", NULL);
	ck_assert_uint_eq(limits(sizes, 1, false).fsize, 5ull << 30);
	/* a block device's size is not a file size: leave it */
	sizes[1] = -1;
	ck_assert_uint_eq(limits(sizes, 1, false).fsize, 0);
	/* a writable share may hold files of any size; a read-only one cannot grow */
	parse("--kernel", "k", "--share", "/tmp:t", NULL);
	ck_assert_uint_eq(limits(sizes, 1, false).fsize, 0);
	parse("--kernel", "k", "--share", "/tmp:t,readonly=on", NULL);
	ck_assert_uint_eq(limits(sizes, 1, false).fsize, 1 << 20);
	/* a console written to a file has no bound */
	ck_assert_uint_eq(limits(sizes, 1, true).fsize, 0);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("jail");
	TCase *tc = tcase_create("jail");

	tcase_add_test(tc, test_no_jail_does_nothing);
	tcase_add_test(tc, test_dir_must_be_a_directory);
	tcase_add_test(tc, test_user_rules);
	tcase_add_test(tc, test_nproc_counts_every_thread);
	tcase_add_test(tc, test_nofile_left_to_shares_and_user_net);
	tcase_add_test(tc, test_fsize);
	suite_add_tcase(s, tc);
	return s;
}
