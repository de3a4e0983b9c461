/* SPDX-License-Identifier: MIT */
/*
 * Opening user-named host files: a FIFO never blocks open(), the caller's file types are
 * enforced with a phrase for the user, and what is returned waits as usual.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "check_main.h"
#include "vmm/hostfile.h"

static char dir[] = "/tmp/hostfile-test.XXXXXX";
static char fifo[64], file[64];

static void setup(void)
{
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(file, sizeof(file), "%s/file", dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	fd = open(file, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "abc", 3), 3);
	close(fd);
}

static void teardown(void)
{
	unlink(fifo);
	unlink(file);
	rmdir(dir);
	strcpy(dir, "/tmp/hostfile-test.XXXXXX");
}

static void assert_blocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	ck_assert_int_ge(fl, 0);
	ck_assert_int_eq(fl & O_NONBLOCK, 0);
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
}

/* with no writer, a plain open() of the FIFO would wait here for ever */
START_TEST(test_fifo_for_reading_refused)
{
	const char *why = NULL;

	ck_assert_int_eq(hostfile_open(fifo, O_RDONLY, 0, HOSTFILE_REGULAR, NULL, &why), -EINVAL);
	ck_assert_str_eq(why, "not a regular file");
	ck_assert_int_eq(
		hostfile_open(fifo, O_RDONLY, 0, HOSTFILE_REGULAR | HOSTFILE_BLOCK, NULL, &why),
		-EINVAL);
	ck_assert_str_eq(why, "not a regular file or block device");
}
END_TEST

START_TEST(test_fifo_for_writing_needs_a_reader)
{
	const char *why = NULL;
	int reader, fd;

	ck_assert_int_eq(hostfile_open(fifo, O_WRONLY | O_CREAT | O_TRUNC, 0600, HOSTFILE_OUTPUT,
				       NULL, &why),
			 -ENXIO);
	ck_assert_str_eq(why, "a FIFO that no process reads");
	/* a pipe that is read is a fine place for a report */
	reader = open(fifo, O_RDONLY | O_NONBLOCK);
	ck_assert_int_ge(reader, 0);
	fd = hostfile_open(fifo, O_WRONLY | O_CREAT | O_TRUNC, 0600, HOSTFILE_OUTPUT, NULL, &why);
	ck_assert_int_ge(fd, 0);
	assert_blocking(fd);
	close(fd);
	close(reader);
	/* but never one where an input file is expected */
	ck_assert_int_eq(hostfile_open(fifo, O_WRONLY, 0, HOSTFILE_REGULAR, NULL, &why), -ENXIO);
}
END_TEST

START_TEST(test_regular_file_opened_blocking)
{
	const char *why = NULL;
	struct stat st;
	char buf[4];
	int fd = hostfile_open(file, O_RDONLY, 0, HOSTFILE_REGULAR, &st, &why);

	ck_assert_int_ge(fd, 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_size, 3);
	assert_blocking(fd);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 3);
	close(fd);
}
END_TEST

START_TEST(test_other_types_refused)
{
	const char *why = NULL;
	int fd;

	ck_assert_int_eq(hostfile_open(dir, O_RDONLY, 0, HOSTFILE_REGULAR, NULL, &why), -EINVAL);
	ck_assert_str_eq(why, "not a regular file");
	ck_assert_int_eq(hostfile_open("/dev/null", O_RDONLY, 0, HOSTFILE_REGULAR, NULL, &why),
			 -EINVAL);
	/* a device is accepted where a report may go */
	fd = hostfile_open("/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600, HOSTFILE_OUTPUT, NULL,
			   &why);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(hostfile_open("/nonexistent/x", O_RDONLY, 0, HOSTFILE_REGULAR, NULL, &why),
			 -ENOENT);
	ck_assert_str_eq(why, strerror(ENOENT));
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("hostfile");
	TCase *tc = tcase_create("open");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fifo_for_reading_refused);
	tcase_add_test(tc, test_fifo_for_writing_needs_a_reader);
	tcase_add_test(tc, test_regular_file_opened_blocking);
	tcase_add_test(tc, test_other_types_refused);
	suite_add_tcase(s, tc);
	return s;
}
