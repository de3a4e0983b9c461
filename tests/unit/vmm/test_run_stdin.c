/* SPDX-License-Identifier: MIT */
/* `vmm run`'s stdin ring: what the reader thread reads comes out in order, then the end. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "check_main.h"
#include "vmm/run/stdin.h"
#include "vmm/seccomp.h"

static struct run_stdin in;

/* Take until the end, waiting politely for the reader; returns the byte count. */
static size_t drain(uint8_t *out, size_t cap)
{
	size_t got = 0;

	for (;;) {
		uint8_t chunk[4096];
		long n = run_stdin_take(&in, chunk, sizeof(chunk));

		if (n < 0)
			return got;
		if (n == 0) {
			usleep(1000);
			continue;
		}
		ck_assert_uint_le(got + (size_t)n, cap);
		memcpy(out + got, chunk, (size_t)n);
		got += (size_t)n;
	}
}

/* More than the ring holds, so the reader waits for room and wraps around. */
START_TEST(test_order_and_end)
{
	static uint8_t data[3 * RUN_STDIN_RING + 123], got[sizeof(data)];
	int p[2];
	pid_t pid;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 31 + (i >> 8));
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		size_t off = 0;

		close(p[0]);
		while (off < sizeof(data)) { /* odd sizes, so chunks straddle the ring's end */
			size_t n = sizeof(data) - off < 1000 ? sizeof(data) - off : 1000;
			ssize_t w = write(p[1], data + off, n);

			if (w <= 0)
				_exit(1);
			off += (size_t)w;
		}
		_exit(0);
	}
	close(p[1]);
	run_stdin_init(&in, p[0]);
	ck_assert_int_eq(run_stdin_start(&in), 0);
	ck_assert_uint_eq(drain(got, sizeof(got)), sizeof(data));
	ck_assert(!memcmp(got, data, sizeof(data)));
	ck_assert_int_eq(run_stdin_take(&in, got, 1), -1); /* the end stays the end */
	waitpid(pid, NULL, 0);
	close(p[0]);
}
END_TEST

/* A closed stdin is at its end from the start: no thread, no wait. */
START_TEST(test_closed)
{
	uint8_t b;

	run_stdin_init(&in, -1);
	ck_assert_int_eq(run_stdin_start(&in), 0);
	ck_assert(!in.started);
	ck_assert_int_eq(run_stdin_take(&in, &b, 1), -1);
}
END_TEST

/* The reader's seccomp role is enough for it: a filtered reader still sees the bytes. */
START_TEST(test_under_seccomp)
{
	uint8_t got[16];
	int p[2];
	pid_t pid;
	int status;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[1]);
		if (vmm_seccomp_init(VMM_SECCOMP_ON, NULL))
			_exit(3);
		run_stdin_init(&in, p[0]);
		if (run_stdin_start(&in))
			_exit(4);
		/*
		 * The pipe stays open, so the reader never ends (a sanitizer's thread exit
		 * makes calls no list allows); the exit goes straight to the kernel too.
		 */
		size_t got_len = 0;
		while (got_len < 5) {
			long n = run_stdin_take(&in, got + got_len, sizeof(got) - got_len);

			if (n < 0)
				syscall(SYS_exit_group, 5);
			got_len += (size_t)n;
			if (!n)
				usleep(1000);
		}
		syscall(SYS_exit_group, memcmp(got, "hello", 5) ? 6 : 0);
	}
	close(p[0]);
	ck_assert_int_eq(write(p[1], "hello", 5), 5);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	close(p[1]);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status 0x%x", status);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("run stdin");
	TCase *tc = tcase_create("ring");

	tcase_add_test(tc, test_order_and_end);
	tcase_add_test(tc, test_closed);
	tcase_add_test(tc, test_under_seccomp);
	suite_add_tcase(s, tc);
	return s;
}
