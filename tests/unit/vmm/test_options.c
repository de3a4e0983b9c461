/* SPDX-License-Identifier: MIT */
/* Command-line parsing: defaults, sizes, limits, conflicts and the wording of errors. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "check_main.h"
#include "vmm/options.h"

#define MAX_ARGS 16

static struct vmm_options opts;
static char err[256];
static char *argv_buf[MAX_ARGS + 1];

/* Parse "vmm" followed by the given arguments (NULL-terminated). */
static int parse(const char *first, ...)
{
	va_list ap;
	int argc = 0;

	argv_buf[argc++] = "vmm";
	va_start(ap, first);
	for (const char *a = first; a; a = va_arg(ap, const char *)) {
		ck_assert_int_lt(argc, MAX_ARGS);
		argv_buf[argc++] = (char *)a;
	}
	va_end(ap);
	argv_buf[argc] = NULL;
	memset(err, 0, sizeof(err));
	return options_parse(&opts, argc, argv_buf, err, sizeof(err));
}

#define ck_assert_err_has(text)                                                                    \
	ck_assert_msg(strstr(err, (text)) != NULL, "error \"%s\" does not mention \"%s\"", err,    \
		      (text))

START_TEST(test_defaults)
{
	ck_assert_int_eq(parse("--kernel", "bzImage", NULL), 0);
	ck_assert_str_eq(opts.kernel, "bzImage");
	ck_assert_ptr_null(opts.flat);
	ck_assert_ptr_null(opts.initrd);
	ck_assert_uint_eq(opts.cpus, 1);
	ck_assert_uint_eq(opts.memory, 512ull << 20);
	ck_assert_str_eq(opts.cmdline, VMM_DEFAULT_CMDLINE);
	ck_assert_str_eq(opts.cmdline, "console=ttyS0 reboot=k panic=-1");
	ck_assert_int_eq(opts.console, CONSOLE_SERIAL);
	ck_assert_str_eq(opts.kvm_path, "/dev/kvm");
	ck_assert(!opts.help);
	ck_assert(!opts.version);
}
END_TEST

/*
 * A second parse starts clean, yet leaves alone the path slots no option fills: their pages
 * are never touched, which keeps 64 KiB of the VMM's memory unused.
 */
START_TEST(test_unused_slots_untouched)
{
	static const unsigned char poison = 0x5a;
	const unsigned char *p;

	ck_assert_int_eq(parse("--kernel", "k", "--stats", "--disk", "path=a.img", "--share",
			       "/srv:data", NULL),
			 0);
	memset(&opts, poison, sizeof(opts));
	ck_assert_int_eq(parse("--kernel", "k", "--disk", "path=b.img", NULL), 0);
	ck_assert(!opts.stats);
	ck_assert_uint_eq(opts.ndisks, 1);
	ck_assert_uint_eq(opts.nshares, 0);
	ck_assert_str_eq(opts.disks[0].path, "b.img");
	ck_assert(!opts.disks[0].readonly);
	p = (const unsigned char *)&opts.disks[1];
	for (size_t i = 0; i < sizeof(opts.disks) - sizeof(opts.disks[0]); i++)
		ck_assert_uint_eq(p[i], poison);
	p = (const unsigned char *)opts.shares;
	for (size_t i = 0; i < sizeof(opts.shares); i++)
		ck_assert_uint_eq(p[i], poison);
}
END_TEST

START_TEST(test_every_option_taken)
{
	ck_assert_int_eq(parse("--kernel", "k", "--initrd", "i", "--cmdline", "quiet", "--cpus",
			       "4", "--memory", "1G", "--console", "none", "--kvm-device", "/dev/x",
			       NULL),
			 0);
	ck_assert_str_eq(opts.kernel, "k");
	ck_assert_str_eq(opts.initrd, "i");
	ck_assert_str_eq(opts.cmdline, "quiet");
	ck_assert_uint_eq(opts.cpus, 4);
	ck_assert_uint_eq(opts.memory, 1ull << 30);
	ck_assert_str_eq(opts.memory_text, "1G");
	ck_assert_int_eq(opts.console, CONSOLE_NONE);
	ck_assert_str_eq(opts.kvm_path, "/dev/x");

	/* "--opt=value" works as well as "--opt value" */
	ck_assert_int_eq(parse("--kernel=k2", "--memory=2G", "--console=serial", NULL), 0);
	ck_assert_str_eq(opts.kernel, "k2");
	ck_assert_uint_eq(opts.memory, 2ull << 30);
	ck_assert_int_eq(opts.console, CONSOLE_SERIAL);
}
END_TEST

START_TEST(test_size_accepted)
{
	static const struct {
		const char *text;
		uint64_t value;
	} cases[] = {
		{ "512M", 512ull << 20 },
		{ "2G", 2ull << 30 },
		{ "1024K", 1024ull << 10 },
		{ "4096", 4096 },
		{ "2GiB", 2ull << 30 },
		{ "2gib", 2ull << 30 },
		{ "3g", 3ull << 30 },
		{ "64MB", 64ull << 20 },
		{ "1T", 1ull << 40 },
		{ "0", 0 },
		{ "16777215T", 16777215ull << 40 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 0xdeadbeef;

		ck_assert_msg(options_parse_size(cases[i].text, &v) == 0, "\"%s\" refused",
			      cases[i].text);
		ck_assert_msg(v == cases[i].value, "\"%s\" gave %llu", cases[i].text,
			      (unsigned long long)v);
	}
}
END_TEST

START_TEST(test_size_rejected)
{
	static const char *const bad[] = {
		"",	 "abc",		 "-1",	      "+1",
		" 512M", "512 M",	 "12Q",	      "1.5G",
		"M",	 "512MiBx",	 "512Mi",     "2GiBB",
		"0x100", "99999999999T", "16777216T", "99999999999999999999999",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 0x1234;

		ck_assert_msg(options_parse_size(bad[i], &v) == -EINVAL, "\"%s\" accepted as %llu",
			      bad[i], (unsigned long long)v);
	}
	ck_assert_int_eq(options_parse_size(NULL, &(uint64_t){ 0 }), -EINVAL);
}
END_TEST

START_TEST(test_memory_limits)
{
	ck_assert_int_eq(parse("--kernel", "k", "--memory", "0", NULL), -EINVAL);
	ck_assert_err_has("--memory");
	ck_assert_err_has("0");
	ck_assert_err_has("at least");

	ck_assert_int_eq(parse("--kernel", "k", "--memory", "1M", NULL), -EINVAL);
	ck_assert_err_has("--memory 1M");

	/* 2 MiB + 1 byte: big enough, but not a whole number of pages */
	ck_assert_int_eq(parse("--kernel", "k", "--memory", "2097153", NULL), -EINVAL);
	ck_assert_err_has("--memory 2097153");
	ck_assert_err_has("4K");

	ck_assert_int_eq(parse("--kernel", "k", "--memory", "2100000K", NULL), 0);
	ck_assert_uint_eq(opts.memory, 2100000ull << 10);
	ck_assert_int_eq(parse("--kernel", "k", "--memory", "2M", NULL), 0);
	ck_assert_uint_eq(opts.memory, 2ull << 20);

	ck_assert_int_eq(parse("--kernel", "k", "--memory", "lots", NULL), -EINVAL);
	ck_assert_err_has("--memory lots");

	ck_assert_int_eq(parse("--kernel", "k", "--memory", "99999999999T", NULL), -EINVAL);
	ck_assert_err_has("99999999999T");
}
END_TEST

START_TEST(test_cpus_limits)
{
	static const char *const bad[] = {
		"0", "255", "abc", "-1", "", "4x", "99999999999999999999"
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(parse("--kernel", "k", "--cpus", bad[i], NULL) == -EINVAL,
			      "--cpus \"%s\" accepted", bad[i]);
		ck_assert_err_has("--cpus");
		ck_assert_err_has(bad[i]);
	}
	ck_assert_int_eq(parse("--kernel", "k", "--cpus", "254", NULL), 0);
	ck_assert_uint_eq(opts.cpus, 254);
	ck_assert_int_eq(parse("--kernel", "k", "--cpus", "1", NULL), 0);
	ck_assert_uint_eq(opts.cpus, 1);
}
END_TEST

START_TEST(test_unknown_option)
{
	ck_assert_int_eq(parse("--kernel", "k", "--bogus", NULL), -EINVAL);
	ck_assert_err_has("--bogus");
	ck_assert_int_eq(parse("--kernel", "k", "-z", NULL), -EINVAL);
	ck_assert_err_has("-z");
}
END_TEST

/* An unknown short option inside a group ("-zq") must still be the one named. */
START_TEST(test_unknown_short_option_in_group)
{
	ck_assert_int_eq(parse("-zq", "--kernel", "k", NULL), -EINVAL);
	ck_assert_err_has("-z");
	ck_assert_msg(strstr(err, "vmm") == NULL, "error names the program, not the option: %s",
		      err);
}
END_TEST

/* A value given to an option that takes none: the option is named, in readable text. */
START_TEST(test_value_for_flag_option)
{
	ck_assert_int_eq(parse("--kernel", "k", "--help=yes", NULL), -EINVAL);
	for (const char *c = err; *c; c++)
		ck_assert_msg((unsigned char)*c >= 0x20, "control byte 0x%02x in error \"%s\"", *c,
			      err);
	ck_assert_err_has("--help");

	ck_assert_int_eq(parse("--kernel", "k", "--version=2", NULL), -EINVAL);
	ck_assert_err_has("--version");
}
END_TEST

START_TEST(test_missing_value)
{
	ck_assert_int_eq(parse("--kernel", "k", "--memory", NULL), -EINVAL);
	ck_assert_err_has("--memory");
	ck_assert_int_eq(parse("--kernel", NULL), -EINVAL);
	ck_assert_err_has("--kernel");
	ck_assert_int_eq(parse("--kernel", "k", "--cpus", NULL), -EINVAL);
	ck_assert_err_has("--cpus");
}
END_TEST

START_TEST(test_kernel_required)
{
	ck_assert_int_eq(parse(NULL), -EINVAL);
	ck_assert_err_has("--kernel");
	ck_assert_int_eq(parse("--memory", "1G", NULL), -EINVAL);
	ck_assert_err_has("--kernel");
}
END_TEST

START_TEST(test_kernel_and_flat_conflict)
{
	ck_assert_int_eq(parse("--kernel", "k", "--flat", "f", NULL), -EINVAL);
	ck_assert_err_has("--kernel");
	ck_assert_err_has("--flat");

	ck_assert_int_eq(parse("--flat", "f", "--initrd", "i", NULL), -EINVAL);
	ck_assert_err_has("--initrd");

	ck_assert_int_eq(parse("--flat", "f", NULL), 0);
	ck_assert_str_eq(opts.flat, "f");
	ck_assert_ptr_null(opts.kernel);
}
END_TEST

START_TEST(test_help_and_version)
{
	ck_assert_int_eq(parse("--help", NULL), 0);
	ck_assert(opts.help);
	ck_assert_int_eq(parse("-h", NULL), 0);
	ck_assert(opts.help);
	ck_assert_int_eq(parse("--version", NULL), 0);
	ck_assert(opts.version);
	ck_assert(!opts.help);
	/* conflicts do not matter when only help is wanted */
	ck_assert_int_eq(parse("--kernel", "k", "--flat", "f", "--help", NULL), 0);
	ck_assert(opts.help);
}
END_TEST

START_TEST(test_console_and_stray_argument)
{
	ck_assert_int_eq(parse("--kernel", "k", "--console", "vga", NULL), -EINVAL);
	ck_assert_err_has("--console");
	ck_assert_err_has("vga");

	ck_assert_int_eq(parse("--kernel", "k", "stray", NULL), -EINVAL);
	ck_assert_err_has("stray");
}
END_TEST

START_TEST(test_seccomp_modes)
{
	ck_assert_int_eq(parse("--kernel", "k", NULL), 0);
	ck_assert_int_eq(opts.seccomp, VMM_SECCOMP_ON);
	ck_assert_int_eq(parse("--kernel", "k", "--seccomp", "log", NULL), 0);
	ck_assert_int_eq(opts.seccomp, VMM_SECCOMP_LOG);
	ck_assert_int_eq(parse("--kernel", "k", "--seccomp", "off", NULL), 0);
	ck_assert_int_eq(opts.seccomp, VMM_SECCOMP_OFF);
	ck_assert_int_eq(parse("--kernel", "k", "--seccomp", "on", NULL), 0);
	ck_assert_int_eq(opts.seccomp, VMM_SECCOMP_ON);
	ck_assert_int_eq(parse("--kernel", "k", "--seccomp", "trap", NULL), -EINVAL);
	ck_assert_err_has("--seccomp trap: must be on, log or off");
}
END_TEST

START_TEST(test_jail)
{
	ck_assert_int_eq(parse("--kernel", "k", NULL), 0);
	ck_assert_ptr_null(opts.jail);
	ck_assert_int_eq(parse("--kernel", "k", "--jail", "/srv/jail", "--user", "1000", NULL), 0);
	ck_assert_str_eq(opts.jail, "/srv/jail");
	ck_assert_int_eq(parse("--kernel", "k", "--jail=/j", NULL), 0);
	ck_assert_str_eq(opts.jail, "/j");
	ck_assert_int_eq(parse("--kernel", "k", "--jail", "", NULL), -EINVAL);
	ck_assert_str_eq(err, "--jail '': needs a directory");
	ck_assert_int_eq(parse("--kernel", "k", "--jail", NULL), -EINVAL);
	ck_assert_str_eq(err, "--jail needs a value");
	/* vmm run takes it too */
	ck_assert_int_eq(parse("run", "--kernel", "k", "--jail", "/j", "--", "true", NULL), 0);
	ck_assert_str_eq(opts.jail, "/j");
}
END_TEST

START_TEST(test_user)
{
	ck_assert_int_eq(parse("--kernel", "k", NULL), 0);
	ck_assert(!opts.has_user);
	ck_assert_int_eq(parse("--kernel", "k", "--user", "1000", NULL), 0);
	ck_assert(opts.has_user);
	ck_assert_uint_eq(opts.uid, 1000);
	ck_assert_uint_eq(opts.gid, 1000);
	ck_assert_int_eq(parse("--kernel", "k", "--user", "65534:100", NULL), 0);
	ck_assert_uint_eq(opts.uid, 65534);
	ck_assert_uint_eq(opts.gid, 100);
	ck_assert_int_eq(parse("--kernel", "k", "--user", "0", NULL), 0);
	ck_assert_uint_eq(opts.uid, 0);
	static const char *const bad_users[] = {
		"",   "nobody", "1000:",      ":1000",	      "1000:x",
		"-1", "1:2:3",	"4294967295", "1:4294967295", "99999999999999999999"
	};
	for (size_t i = 0; i < sizeof(bad_users) / sizeof(bad_users[0]); i++) {
		ck_assert_int_eq(parse("--kernel", "k", "--user", bad_users[i], NULL), -EINVAL);
		ck_assert_err_has("--user");
	}
}
END_TEST

/* Each call starts afresh, whatever an earlier (failed) call left behind. */
START_TEST(test_parse_twice_starts_fresh)
{
	ck_assert_int_eq(parse("--kernel", "k", "--cpus", "8", "--memory", "1G", NULL), 0);
	ck_assert_int_eq(parse("--kernel", "k2", NULL), 0);
	ck_assert_uint_eq(opts.cpus, 1);
	ck_assert_uint_eq(opts.memory, VMM_DEFAULT_MEMORY);

	/* the first call stops in the middle of the group "-zh" */
	ck_assert_int_eq(parse("-zh", NULL), -EINVAL);
	ck_assert_int_eq(parse("--kernel", "k3", NULL), 0);
	ck_assert_msg(!opts.help, "the 'h' left over from an earlier call was parsed again");
	ck_assert_str_eq(opts.kernel, "k3");
}
END_TEST

START_TEST(test_net_user)
{
	const struct net_user_options *u;

	ck_assert_int_eq(parse("--kernel", "k", "--net", "user", NULL), 0);
	ck_assert_uint_eq(opts.nnics, 1);
	ck_assert_int_eq(opts.nics[0].kind, NET_USER);
	ck_assert_uint_eq(opts.nics[0].user.nhostfwd, 0);
	ck_assert(!opts.nics[0].has_mac);

	ck_assert_int_eq(parse("--kernel", "k", "--net",
			       "user,hostfwd=tcp::2222-:22,mac=52:54:00:00:00:07,"
			       "hostfwd=tcp:0.0.0.0:8080-10.0.2.15:80",
			       NULL),
			 0);
	u = &opts.nics[0].user;
	ck_assert_uint_eq(u->nhostfwd, 2);
	/* no host address: only the loopback listens */
	ck_assert_uint_eq(u->hostfwd[0].host_addr.s_addr, htonl(INADDR_LOOPBACK));
	ck_assert_uint_eq(u->hostfwd[0].host_port, 2222);
	ck_assert_uint_eq(u->hostfwd[0].guest_port, 22);
	ck_assert_uint_eq(u->hostfwd[1].host_addr.s_addr, htonl(INADDR_ANY));
	ck_assert_uint_eq(u->hostfwd[1].host_port, 8080);
	ck_assert_uint_eq(u->hostfwd[1].guest_port, 80);
	ck_assert(opts.nics[0].has_mac);
	ck_assert_uint_eq(opts.nics[0].mac[5], 7);

	/* the same port on another address is another socket */
	ck_assert_int_eq(parse("--kernel", "k", "--net",
			       "user,hostfwd=tcp:127.0.0.1:1-:1,hostfwd=tcp:127.0.0.2:1-:2", NULL),
			 0);
	ck_assert_int_eq(
		parse("--kernel", "k", "--net", "user,hostfwd=tcp::1-:1,hostfwd=tcp::1-:2", NULL),
		-EINVAL);
	ck_assert_err_has("already forwarded");
	ck_assert_int_eq(parse("--kernel", "k", "--net", "user,hostfwd=tcp::1-:", NULL), -EINVAL);
	ck_assert_err_has("--net hostfwd=tcp::1-:: ports are 1 to 65535");
	ck_assert_int_eq(parse("--kernel", "k", "--net", "user,hostfwd=tcp::+1-:1", NULL), -EINVAL);
	ck_assert_int_eq(parse("--kernel", "k", "--net", "user,hostfwd=tcp::1-:1-:2", NULL),
			 -EINVAL);
	ck_assert_int_eq(parse("--kernel", "k", "--net", "userx", NULL), -EINVAL);
	ck_assert_int_eq(parse("--kernel", "k", "--net", "user,user=1", NULL), -EINVAL);
	ck_assert_int_eq(parse("--kernel", "k", "--net", "user,tap=x", NULL), -EINVAL);
}
END_TEST

START_TEST(test_net_user_hostfwd_limit)
{
	char text[1024] = "user";
	size_t len = strlen(text);

	for (unsigned int i = 0; i < NET_USER_MAX_HOSTFWD + 1; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, ",hostfwd=tcp::%u-:22",
					1000 + i);
	ck_assert_uint_lt(len, sizeof(text));
	ck_assert_int_eq(parse("--kernel", "k", "--net", text, NULL), -EINVAL);
	ck_assert_err_has("at most 16 forwarded ports");
}
END_TEST

START_TEST(test_net_accepted)
{
	ck_assert_int_eq(parse("--kernel", "k", "--net", "tap=tap0", "--net",
			       "tap=vm1,mac=52:54:00:Ab:cD:ef,queues=4,vhost=on", "--net",
			       "tap-fd=7,vhost=off", NULL),
			 0);
	ck_assert_uint_eq(opts.nnics, 3);
	ck_assert_int_eq(opts.nics[0].kind, NET_TAP);
	ck_assert_str_eq(opts.nics[0].ifname, "tap0");
	ck_assert(!opts.nics[0].has_mac);
	ck_assert_uint_eq(opts.nics[0].queues, 0);
	ck_assert(!opts.nics[0].vhost);
	ck_assert_str_eq(opts.nics[1].ifname, "vm1");
	ck_assert(opts.nics[1].has_mac);
	ck_assert_uint_eq(opts.nics[1].mac[0], 0x52);
	ck_assert_uint_eq(opts.nics[1].mac[3], 0xab);
	ck_assert_uint_eq(opts.nics[1].mac[5], 0xef);
	ck_assert_uint_eq(opts.nics[1].queues, 4);
	ck_assert(opts.nics[1].vhost);
	ck_assert_int_eq(opts.nics[2].kind, NET_TAP_FD);
	ck_assert_int_eq(opts.nics[2].tap_fd, 7);
	ck_assert(!opts.nics[2].vhost);
}
END_TEST

START_TEST(test_net_rejected)
{
	static const struct {
		const char *arg, *says;
	} cases[] = {
		{ "", "expected key=value" },
		{ "tap=", "expected key=value" },
		{ "mac=02:00:00:00:00:01", "must start with tap=IFNAME or tap-fd=N" },
		{ "tap=a,tap=b", "tap= or tap-fd= comes first, once" },
		{ "tap=a,mac=01:00:00:00:00:01", "mac=01:00:00:00:00:01: not a unicast MAC" },
		{ "tap=a,mac=00:00:00:00:00:00", "not a unicast MAC" },
		{ "tap=a,mac=02:00:00:00:00:0g", "not a unicast MAC" },
		{ "tap=a,mac=02:00:00:00:00:001", "not a unicast MAC" },
		{ "tap=a,mac=02-00-00-00-00-01", "not a unicast MAC" },
		{ "tap=a,queues=0", "queues=0: queue pairs must be 1 to 8" },
		{ "tap=a,queues=9", "queue pairs must be 1 to 8" },
		{ "tap=a,queues=-1", "queue pairs must be 1 to 8" },
		{ "tap=a,queues=99999999999", "queue pairs must be 1 to 8" },
		{ "tap=a,vhost=1", "vhost=1: must be on or off" },
		{ "tap=a,queues=2,queues=2", "queues=2: given twice" },
		{ "tap=a,speed=10", "speed=10: unknown key" },
		{ "tap=a,", "expected key=value" },
		{ "tap=0123456789abcdef", "at most 15 characters" },
		{ "tap=a/b", "not an interface name" },
		{ "tap-fd=x", "tap-fd=x: not a file descriptor number" },
		{ "tap-fd=3,queues=2", "queues= needs tap=IFNAME" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(parse("--kernel", "k", "--net", cases[i].arg, NULL) == -EINVAL, "%s",
			      cases[i].arg);
		ck_assert_err_has("--net ");
		ck_assert_err_has(cases[i].says);
		ck_assert_ptr_null(strchr(err, '\n'));
	}
	ck_assert_int_eq(parse("--kernel", "k", "--net", "tap=a", "--net", "tap=b", "--net",
			       "tap=c", "--net", "tap=d", "--net", "tap=e", NULL),
			 -EINVAL);
	ck_assert_err_has("at most 4 network devices");
}
END_TEST

START_TEST(test_run_command)
{
	ck_assert_int_eq(parse("run", "--kernel", "k", "--timeout", "30", "--env", "A_1=x=y",
			       "--cwd", "/tmp", "--", "sh", "-c", "exit 7", NULL),
			 0);
	ck_assert(opts.run);
	ck_assert_uint_eq(opts.ncommand, 3);
	ck_assert_str_eq(opts.command[0], "sh");
	ck_assert_str_eq(opts.command[1], "-c");
	ck_assert_ptr_null(opts.command[3]);
	ck_assert_uint_eq(opts.timeout, 30);
	ck_assert_uint_eq(opts.nenv, 1);
	ck_assert_str_eq(opts.env[0], "A_1=x=y");
	ck_assert_str_eq(opts.cwd, "/tmp");
	/* without "--" the command's own options stay its own */
	ck_assert_int_eq(parse("run", "--kernel", "k", "ls", "-l", "--help", NULL), 0);
	ck_assert_uint_eq(opts.ncommand, 3);
	ck_assert(!opts.help);
}
END_TEST

/* --rwdir: a read-write share of an existing directory, tags of its own; --overlay. */
START_TEST(test_run_rwdir_overlay)
{
	ck_assert_int_eq(
		parse("run", "--kernel", "k", "--rwdir", "/tmp", "--rwdir", "/", "--", "x", NULL),
		0);
	ck_assert_uint_eq(opts.nshares, 2);
	ck_assert_uint_eq(opts.nrwdirs, 2);
	ck_assert_str_eq(opts.shares[0].dir, "/tmp");
	ck_assert_str_eq(opts.shares[0].tag, "vmm-rwdir0");
	ck_assert(!opts.shares[0].readonly);
	ck_assert_str_eq(opts.shares[1].tag, "vmm-rwdir1");
	ck_assert(!opts.overlay_off);
	ck_assert_int_eq(
		parse("run", "--kernel", "k", "--rwdir", "/nonexistent-dir", "--", "x", NULL),
		-EINVAL);
	ck_assert_err_has("--rwdir /nonexistent-dir: No such file or directory");
	ck_assert_int_eq(parse("run", "--kernel", "k", "--rwdir", "/dev/null", "--", "x", NULL),
			 -EINVAL);
	ck_assert_err_has("not a directory");
	ck_assert_int_eq(parse("run", "--kernel", "k", "--rwdir", "/tmp", NULL), 0);
	ck_assert_int_eq(parse("--kernel", "k", "--rwdir", "/tmp", NULL), -EINVAL);
	ck_assert_err_has("only works with vmm run");
	/* a --share may not take a tag --rwdir uses */
	ck_assert_int_eq(parse("run", "--kernel", "k", "--rwdir", "/tmp", "--share", "/:vmm-rwdir0",
			       "--", "x", NULL),
			 -EINVAL);

	ck_assert_int_eq(parse("run", "--kernel", "k", "--overlay=off", "--", "x", NULL), 0);
	ck_assert(opts.overlay_off);
	ck_assert_int_eq(parse("run", "--kernel", "k", "--overlay", "off", "--", "x", NULL), 0);
	ck_assert(opts.overlay_off);
	ck_assert_int_eq(parse("run", "--kernel", "k", "--overlay", "--", "x", NULL), 0);
	ck_assert(!opts.overlay_off);
	ck_assert_int_eq(parse("run", "--kernel", "k", "--overlay=maybe", "--", "x", NULL),
			 -EINVAL);
	ck_assert_err_has("--overlay maybe: must be on or off");
}
END_TEST

START_TEST(test_run_rejections)
{
	/* no command parses: vmm run decides on a shell or an error (run_check_command) */
	ck_assert_int_eq(parse("run", "--kernel", "k", NULL), 0);
	ck_assert_uint_eq(opts.ncommand, 0);
	ck_assert_int_eq(parse("run", "--kernel", "k", "--initrd", "i", "--", "x", NULL), -EINVAL);
	ck_assert_err_has("--initrd");
	ck_assert_int_eq(parse("run", "--kernel", "k", "--env", "1A=b", "--", "x", NULL), -EINVAL);
	ck_assert_err_has("--env 1A=b");
	ck_assert_int_eq(parse("run", "--kernel", "k", "--env", "NOEQUALS", "--", "x", NULL),
			 -EINVAL);
	ck_assert_int_eq(parse("run", "--kernel", "k", "--cwd", "rel", "--", "x", NULL), -EINVAL);
	ck_assert_err_has("absolute");
	ck_assert_int_eq(parse("run", "--kernel", "k", "--timeout", "0", "--", "x", NULL), -EINVAL);
	ck_assert_int_eq(parse("run", "--kernel", "k", "--timeout", "5s", "--", "x", NULL),
			 -EINVAL);
	ck_assert_int_eq(parse("--kernel", "k", "--rootfs", "d", NULL), -EINVAL);
	ck_assert_err_has("only works with vmm run");
	ck_assert_int_eq(parse("--kernel", "k", "ls", NULL), -EINVAL);
	ck_assert_err_has("unexpected argument ls");
	ck_assert_int_eq(parse("run", "--help", NULL), 0);
	ck_assert(opts.help && opts.run);
}
END_TEST

START_TEST(test_share)
{
	ck_assert_int_eq(parse("--kernel", "k", "--share", "/srv/data/", "--share",
			       "/a:b/dir:tools,readonly=on", "--share", "/", "--share", "..", NULL),
			 0);
	ck_assert_uint_eq(opts.nshares, 4);
	ck_assert_str_eq(opts.shares[0].dir, "/srv/data/");
	ck_assert_str_eq(opts.shares[0].tag, "data"); /* the last component */
	ck_assert(!opts.shares[0].readonly);
	ck_assert_str_eq(opts.shares[1].dir, "/a:b/dir"); /* the last colon splits */
	ck_assert_str_eq(opts.shares[1].tag, "tools");
	ck_assert(opts.shares[1].readonly);
	ck_assert_str_eq(opts.shares[2].tag, "share2"); /* no usable component */
	ck_assert_str_eq(opts.shares[3].tag, "share3");
	ck_assert_int_eq(options_add_share(&opts, "/x:data", err, sizeof(err)), -EINVAL);
	ck_assert_err_has("tag 'data' is already used");
	ck_assert_int_eq(options_add_share(&opts, "/x:fresh,readonly=off", err, sizeof(err)), 0);
	ck_assert_uint_eq(opts.nshares, 5);
	ck_assert_int_eq(
		parse("--kernel", "k", "--share", "/d:0123456789012345678901234567890123456", NULL),
		-EINVAL);
	ck_assert_err_has("longer than 36");
	ck_assert_int_eq(
		parse("--kernel", "k", "--share", "/d:012345678901234567890123456789012345", NULL),
		0);
	ck_assert_int_eq(parse("--kernel", "k", "--share", "/d,ro", NULL), -EINVAL);
	ck_assert_err_has("unknown setting 'ro'");
}
END_TEST

/* cache= takes virtiofsd's three names; anything else names the choices. */
START_TEST(test_share_cache)
{
	ck_assert_int_eq(parse("--kernel", "k", "--share", "/a:a,cache=never", "--share",
			       "/b:b,readonly=on,cache=always", "--share", "/c:c,cache=auto",
			       "--share", "/d:d", NULL),
			 0);
	ck_assert_int_eq(opts.shares[0].cache, FS_CACHE_NEVER);
	ck_assert_int_eq(opts.shares[1].cache, FS_CACHE_ALWAYS);
	ck_assert(opts.shares[1].readonly);
	ck_assert_int_eq(opts.shares[2].cache, FS_CACHE_AUTO);
	ck_assert_int_eq(opts.shares[3].cache, FS_CACHE_AUTO);
	ck_assert_int_eq(parse("--kernel", "k", "--share", "/d,cache=sometimes", NULL), -EINVAL);
	ck_assert_err_has("unknown setting 'cache=sometimes' (readonly=on|off, "
			  "cache=never|auto|always)");
	ck_assert_int_eq(parse("--kernel", "k", "--share", "/d,cache", NULL), -EINVAL);
	ck_assert_int_eq(parse("--kernel", "k", "--share", "/d,cache=never,cache=auto", NULL),
			 -EINVAL);
	ck_assert_err_has("given twice");
}
END_TEST

/* --disk, --net and --share share one rule: ",," is a comma inside a value. */
START_TEST(test_escaped_commas)
{
	ck_assert_int_eq(parse("--kernel", "k", "--disk", "path=a,,b.img,readonly=on", "--share",
			       "/srv/a,,b:t,readonly=on", NULL),
			 0);
	ck_assert_str_eq(opts.disks[0].path, "a,b.img");
	ck_assert(opts.disks[0].readonly);
	ck_assert_str_eq(opts.shares[0].dir, "/srv/a,b");
	ck_assert_str_eq(opts.shares[0].tag, "t");
	ck_assert(opts.shares[0].readonly);
	/* an interface name has no comma */
	ck_assert_int_eq(parse("--kernel", "k", "--net", "tap=a,,b", NULL), -EINVAL);
	ck_assert_err_has("--net tap=a,,b: not an interface name");
	/* each key once, in every list */
	ck_assert_int_eq(parse("--kernel", "k", "--share", "/d,readonly=on,readonly=off", NULL),
			 -EINVAL);
	ck_assert_err_has("'readonly=off' given twice");
	ck_assert_int_eq(parse("--kernel", "k", "--share", "/d,readonly=on,", NULL), -EINVAL);
	ck_assert_err_has("unknown setting ''");
	ck_assert_int_eq(parse("--kernel", "k", "--net", "tap=a,vhost=on,vhost=on", NULL), -EINVAL);
	ck_assert_err_has("vhost=on: given twice");
}
END_TEST

/* --restore takes the place of --kernel; its URL is checked when the VMM opens it. */
START_TEST(test_restore)
{
	ck_assert_int_eq(parse("--restore", "source_url=file:///snap", "--memory", "16M", NULL), 0);
	ck_assert_str_eq(opts.restore, "file:///snap");
	ck_assert_ptr_null(opts.kernel);
	ck_assert_int_eq(parse("--restore", "file:///snap", NULL), -EINVAL);
	ck_assert_err_has("--restore file:///snap: expected source_url=file:///DIR");
	ck_assert_int_eq(parse("--restore", "source_url=", NULL), -EINVAL);
	ck_assert_int_eq(parse("--restore", "source_url=file:///s", "--flat", "x.bin", NULL),
			 -EINVAL);
	ck_assert_err_has("leave out --kernel, --flat and --initrd");
	ck_assert_int_eq(parse("run", "--restore", "source_url=file:///s", "--", "true", NULL),
			 -EINVAL);
	ck_assert_err_has("cannot be used with vmm run");
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("options");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_every_option_taken);
	tcase_add_test(tc, test_size_accepted);
	tcase_add_test(tc, test_size_rejected);
	tcase_add_test(tc, test_memory_limits);
	tcase_add_test(tc, test_cpus_limits);
	tcase_add_test(tc, test_unknown_option);
	tcase_add_test(tc, test_unknown_short_option_in_group);
	tcase_add_test(tc, test_value_for_flag_option);
	tcase_add_test(tc, test_missing_value);
	tcase_add_test(tc, test_kernel_required);
	tcase_add_test(tc, test_kernel_and_flat_conflict);
	tcase_add_test(tc, test_help_and_version);
	tcase_add_test(tc, test_console_and_stray_argument);
	tcase_add_test(tc, test_seccomp_modes);
	tcase_add_test(tc, test_user);
	tcase_add_test(tc, test_jail);
	tcase_add_test(tc, test_parse_twice_starts_fresh);
	tcase_add_test(tc, test_net_accepted);
	tcase_add_test(tc, test_net_rejected);
	tcase_add_test(tc, test_net_user);
	tcase_add_test(tc, test_net_user_hostfwd_limit);
	tcase_add_test(tc, test_run_command);
	tcase_add_test(tc, test_run_rwdir_overlay);
	tcase_add_test(tc, test_run_rejections);
	tcase_add_test(tc, test_share);
	tcase_add_test(tc, test_share_cache);
	tcase_add_test(tc, test_unused_slots_untouched);
	tcase_add_test(tc, test_escaped_commas);
	tcase_add_test(tc, test_restore);
	suite_add_tcase(s, tc);
	return s;
}
