// SPDX-License-Identifier: MIT
/* Opening user-named host files without blocking, and only of the types a caller accepts. */
#include "vmm/hostfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

static const char *kind_phrase(unsigned int kinds)
{
	if (kinds & HOSTFILE_BLOCK)
		return "not a regular file or block device";
	if (kinds & (HOSTFILE_CHAR | HOSTFILE_FIFO))
		return "not a regular file, a device or a FIFO";
	return "not a regular file";
}

static bool accepted(mode_t mode, unsigned int kinds)
{
	return (S_ISREG(mode) && (kinds & HOSTFILE_REGULAR)) ||
	       (S_ISBLK(mode) && (kinds & HOSTFILE_BLOCK)) ||
	       (S_ISCHR(mode) && (kinds & HOSTFILE_CHAR)) ||
	       (S_ISFIFO(mode) && (kinds & HOSTFILE_FIFO));
}

int hostfile_open(const char *path, int flags, mode_t mode, unsigned int kinds, struct stat *st,
		  const char **why)
{
	struct stat own;
	int fd, fl, e;

	if (!st)
		st = &own;
	/*
	 * O_NONBLOCK makes open() of a FIFO return at once: for reading it succeeds (and is
	 * refused below), for writing with no reader it fails with ENXIO.
	 */
	fd = open(path, flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, mode);
	if (fd < 0) {
		e = errno;
		*why = e == ENXIO ? "a FIFO that no process reads" : strerror(e);
		return -e;
	}
	if (fstat(fd, st) < 0) {
		e = errno;
		close(fd);
		*why = strerror(e);
		return -e;
	}
	if (!accepted(st->st_mode, kinds)) {
		close(fd);
		*why = kind_phrase(kinds);
		return -EINVAL;
	}
	/* reads and writes wait as usual from here on */
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		e = errno;
		close(fd);
		*why = strerror(e);
		return -e;
	}
	return fd;
}
