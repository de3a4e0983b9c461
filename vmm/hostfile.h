/* SPDX-License-Identifier: MIT */
/*
 * Opening the host files a user names (kernel, initrd, config, vmm run's files, output
 * files) without ever blocking in open(): a FIFO with no writer, or for writing one with
 * no reader, would otherwise hang the VMM before it says anything. The file's type is
 * checked before anything is read from it.
 */
#ifndef VMM_HOSTFILE_H
#define VMM_HOSTFILE_H

#include <sys/stat.h>
#include <sys/types.h>

/* File types a caller accepts (a mask). */
enum hostfile_kind {
	HOSTFILE_REGULAR = 1 << 0,
	HOSTFILE_BLOCK = 1 << 1,
	HOSTFILE_CHAR = 1 << 2, /* /dev/null, a terminal: for output files */
	HOSTFILE_FIFO = 1 << 3, /* for writing only: one some process already reads */
	/* where a report may go: a file, /dev/null or a terminal, or a pipe that is read */
	HOSTFILE_OUTPUT = HOSTFILE_REGULAR | HOSTFILE_CHAR | HOSTFILE_FIFO,
};

/*
 * Open path with flags (O_CLOEXEC and O_NOCTTY are added; mode as for open()) and accept
 * it only if its type is in kinds. On success returns a descriptor in blocking mode and
 * fills *st when st is not NULL. On failure returns -errno and points *why at a short
 * phrase for the user ("not a regular file", "a FIFO that no process reads", or the
 * errno's text), to follow "OPTION PATH: ".
 */
int hostfile_open(const char *path, int flags, mode_t mode, unsigned int kinds, struct stat *st,
		  const char **why);

#endif
