/* SPDX-License-Identifier: MIT */
/*
 * The Ctrl-A escape filter between the user's keyboard and the guest's UART, and the tail
 * of guest output kept to explain a crash when the console was hidden (vmm run), and the
 * terminal given back as it was under every thread's seccomp filter.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "check_main.h"
#include "vmm/console.h"
#include "vmm/seccomp.h"

static struct console_escape esc;
static uint8_t out[64];
static bool quit;

static void setup(void)
{
	memset(&esc, 0, sizeof(esc));
	memset(out, 0xee, sizeof(out));
	quit = true; /* every call must report for itself */
}

static size_t filter(const char *in, size_t len)
{
	ck_assert_uint_le(2 * len, sizeof(out));
	return console_filter(&esc, (const uint8_t *)in, len, out, &quit);
}

START_TEST(test_plain_bytes_pass)
{
	static const char text[] = "ls -l\r\x1b[A\x7f\x02\x00z";
	size_t n = filter(text, sizeof(text) - 1);

	ck_assert_uint_eq(n, sizeof(text) - 1);
	ck_assert_mem_eq(out, text, sizeof(text) - 1);
	ck_assert(!quit);

	ck_assert_uint_eq(filter("", 0), 0);
	ck_assert(!quit);
}
END_TEST

START_TEST(test_quit_lower_and_upper)
{
	size_t n = filter("ab\x01xcd", 6);

	ck_assert(quit);
	ck_assert_uint_eq(n, 2); /* what came before is still delivered, what follows is not */
	ck_assert_mem_eq(out, "ab", 2);

	setup();
	n = filter("\x01X", 2);
	ck_assert(quit);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_double_escape_sends_one)
{
	size_t n = filter("a\x01\x01z", 4);

	ck_assert(!quit);
	ck_assert_uint_eq(n, 3);
	ck_assert_mem_eq(out, "a\x01z", 3);

	/* two escaped Ctrl-As in a row: two Ctrl-As, and the filter is not left pending */
	setup();
	n = filter("\x01\x01\x01\x01x", 5);
	ck_assert(!quit);
	ck_assert_uint_eq(n, 3);
	ck_assert_mem_eq(out, "\x01\x01x", 3);
}
END_TEST

START_TEST(test_other_pair_passes_whole)
{
	size_t n = filter("\001b", 2);

	ck_assert(!quit);
	ck_assert_uint_eq(n, 2);
	ck_assert_mem_eq(out, "\001b", 2);

	/* Ctrl-A then another control byte: both go through, nothing is swallowed */
	setup();
	n = filter("\x01\r!", 3);
	ck_assert_uint_eq(n, 3);
	ck_assert_mem_eq(out, "\x01\r!", 3);
}
END_TEST

START_TEST(test_escape_split_across_reads)
{
	size_t n = filter("hi\x01", 3);

	ck_assert(!quit);
	ck_assert_uint_eq(n, 2); /* the Ctrl-A is held back until the next byte says what it is */
	ck_assert_mem_eq(out, "hi", 2);
	ck_assert(esc.pending);

	n = filter("x!", 2);
	ck_assert(quit);
	ck_assert_uint_eq(n, 0);

	setup();
	ck_assert_uint_eq(filter("\x01", 1), 0);
	n = filter("b", 1); /* one byte in, two out */
	ck_assert(!quit);
	ck_assert_uint_eq(n, 2);
	ck_assert_mem_eq(out, "\001b", 2);

	setup();
	ck_assert_uint_eq(filter("\x01", 1), 0);
	n = filter("\x01", 1);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(out[0], 0x01);
	ck_assert(!esc.pending);
}
END_TEST

START_TEST(test_quit_flag_resets)
{
	filter("\x01x", 2);
	ck_assert(quit);
	ck_assert(!esc.pending);
	/* a later call (the user did not mean it, or main ignored it) starts clean */
	ck_assert_uint_eq(filter("ok", 2), 2);
	ck_assert(!quit);
	ck_assert_mem_eq(out, "ok", 2);
}
END_TEST

static struct console con;
static uint8_t tail[CONSOLE_TAIL_SIZE];

static void record(const char *text)
{
	console_tail_record(&con, (const uint8_t *)text, strlen(text));
}

static char *tail_string(void)
{
	size_t n = console_tail(&con, tail, sizeof(tail));
	char *s = malloc(n + 1);

	ck_assert_ptr_nonnull(s);
	memcpy(s, tail, n);
	s[n] = 0;
	return s;
}

/* The shape of a Linux panic: its headline, then a call trace and registers of ~3 KiB. */
START_TEST(test_tail_keeps_panic_headline)
{
	static const char last[] =
		"[    2.716772] Kernel Offset: 0x36600000 from 0xffffffff81000000\n";
	char line[128], *s;

	memset(&con, 0, sizeof(con));
	for (int i = 0; i < 400; i++) {
		snprintf(line, sizeof(line), "[    1.%06d] boot message number %d\n", i, i);
		record(line);
	}
	record("[    2.500000] Kernel panic - not syncing: sysrq triggered crash\n");
	for (int i = 0; i < 45; i++) {
		snprintf(line, sizeof(line),
			 "[    2.%06d]  ? some_kernel_function_name+0x%x/0x2f4\n", i, i);
		record(line);
	}
	record(last);
	s = tail_string();
	ck_assert_ptr_nonnull(strstr(s, "Kernel panic - not syncing: sysrq triggered crash"));
	ck_assert_msg(s[0] == '[', "the tail starts mid-line: '%.20s'", s);
	ck_assert_ptr_null(strstr(s, "number 0\n"));
	ck_assert_uint_ge(strlen(s), sizeof(last) - 1);
	ck_assert_str_eq(s + strlen(s) - (sizeof(last) - 1), last);
	free(s);
}
END_TEST

START_TEST(test_tail_short_output_whole)
{
	char *s;

	memset(&con, 0, sizeof(con));
	s = tail_string();
	ck_assert_str_eq(s, "");
	free(s);
	record("no newline yet");
	record(", still\nnext");
	s = tail_string();
	ck_assert_str_eq(s, "no newline yet, still\nnext");
	free(s);
}
END_TEST

/* One line longer than the tail has no start to find: its end is kept, not nothing. */
START_TEST(test_tail_one_long_line)
{
	char *s;

	memset(&con, 0, sizeof(con));
	for (int i = 0; i < CONSOLE_TAIL_SIZE + 100; i++)
		record(i < CONSOLE_TAIL_SIZE + 90 ? "x" : "y");
	s = tail_string();
	ck_assert_uint_eq(strlen(s), CONSOLE_TAIL_SIZE);
	ck_assert_str_eq(s + CONSOLE_TAIL_SIZE - 10, "yyyyyyyyyy");
	free(s);
}
END_TEST

/* A child on the pty's slave: raw mode, the role's filter, then the way out's restore. */
static int restore_under_filter(int slave, enum vmm_seccomp_role role)
{
	static struct vm vm;
	struct console con;
	struct termios t;
	char err[256];

	if (dup2(slave, STDIN_FILENO) < 0 || console_init(&con, &vm, CONSOLE_SERIAL))
		return 10;
	if (tcgetattr(STDIN_FILENO, &t) < 0 || (t.c_lflag & (ICANON | ECHO)))
		return 11; /* not raw: the test would prove nothing */
	/* as in main(): the SIGSYS handler restores the terminal too */
	if (vmm_seccomp_init(VMM_SECCOMP_ON, console_restore) ||
	    vmm_seccomp_install(role, NULL, err, sizeof(err)))
		return 12;
	console_restore();
	return 0;
}

/* Every thread may end the process; each list must let it give the terminal back. */
START_TEST(test_terminal_restored_under_every_filter)
{
	for (int role = 0; role < VMM_SECCOMP_ROLES; role++) {
		int master = posix_openpt(O_RDWR | O_NOCTTY), slave, status;
		struct termios before, after;
		pid_t pid;

		ck_assert_int_ge(master, 0);
		ck_assert_int_eq(grantpt(master), 0);
		ck_assert_int_eq(unlockpt(master), 0);
		slave = open(ptsname(master), O_RDWR | O_NOCTTY);
		ck_assert_int_ge(slave, 0);
		ck_assert_int_eq(tcgetattr(slave, &before), 0);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		/* straight to the kernel: a sanitizer's exit makes calls no list allows */
		if (pid == 0)
			syscall(SYS_exit_group, restore_under_filter(slave, role));
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "%s thread: status 0x%x, expected exit 0",
			      vmm_seccomp_role_name(role), status);
		ck_assert_int_eq(tcgetattr(slave, &after), 0);
		ck_assert_uint_eq(after.c_iflag, before.c_iflag);
		ck_assert_uint_eq(after.c_oflag, before.c_oflag);
		ck_assert_uint_eq(after.c_cflag, before.c_cflag);
		ck_assert_uint_eq(after.c_lflag, before.c_lflag);
		ck_assert_mem_eq(after.c_cc, before.c_cc, NCCS);
		close(slave);
		close(master);
	}
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("console");
	TCase *tc = tcase_create("filter");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_plain_bytes_pass);
	tcase_add_test(tc, test_quit_lower_and_upper);
	tcase_add_test(tc, test_double_escape_sends_one);
	tcase_add_test(tc, test_other_pair_passes_whole);
	tcase_add_test(tc, test_escape_split_across_reads);
	tcase_add_test(tc, test_quit_flag_resets);
	suite_add_tcase(s, tc);
	tc = tcase_create("tail");
	tcase_add_test(tc, test_tail_keeps_panic_headline);
	tcase_add_test(tc, test_tail_short_output_whole);
	tcase_add_test(tc, test_tail_one_long_line);
	suite_add_tcase(s, tc);
	tc = tcase_create("terminal");
	tcase_add_test(tc, test_terminal_restored_under_every_filter);
	suite_add_tcase(s, tc);
	return s;
}
