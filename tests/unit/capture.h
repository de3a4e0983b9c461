/* SPDX-License-Identifier: MIT */
/* Counting the VMM's log lines: stderr goes to a temporary file while a test runs. */
#ifndef TESTS_UNIT_CAPTURE_H
#define TESTS_UNIT_CAPTURE_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"

/* Send stderr to a new temporary file *f; returns the saved descriptor. */
static inline int capture_stderr(FILE **f)
{
	int saved;

	fflush(stderr);
	*f = tmpfile();
	ck_assert_ptr_nonnull(*f);
	saved = dup(STDERR_FILENO);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_ge(dup2(fileno(*f), STDERR_FILENO), 0);
	return saved;
}

/* Restore stderr; returns how many captured lines contain what. */
static inline int captured_lines(FILE *f, int saved, const char *what)
{
	char line[512];
	int n = 0;

	fflush(stderr);
	ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
	close(saved);
	rewind(f);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, what) != NULL;
	fclose(f);
	return n;
}

#endif
