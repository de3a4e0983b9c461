/* SPDX-License-Identifier: MIT */
/*
 * `vmm run`'s stdin: one thread reads our stdin into a ring, and the command port
 * (devices/cmdport.h, register +20) hands the guest's init a chunk of it whenever it asks.
 *
 * Why a thread: stdin may be a pipe, a FIFO, a terminal, /dev/null or a regular file.
 * epoll refuses regular files, and O_NONBLOCK would change the file description we share
 * with our parent shell, so a plain blocking read() on a thread of its own is the one way
 * that works for all of them. The vCPU that serves the guest's request only takes what is
 * already in the ring: it never waits for our stdin and never reads it.
 *
 * Threading: run_stdin_take() runs on a vCPU thread (under the command port's lock), the
 * reader on its own thread (seccomp role VMM_SECCOMP_STDIN: read on the one descriptor,
 * futex). The ring's lock orders them. The reader is never joined: at exit it may still
 * sit in read(), and the process ends around it.
 */
#ifndef VMM_RUN_STDIN_H
#define VMM_RUN_STDIN_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/seccomp.h"

#define RUN_STDIN_RING (64 * 1024)

struct run_stdin {
	pthread_mutex_t lock;
	pthread_cond_t room; /* the reader waits here while the ring is over half full */
	int fd;		     /* what the reader reads; -1: at its end from the start */
	uint8_t ring[RUN_STDIN_RING];
	size_t head, len; /* the oldest byte not yet taken, and how many there are */
	bool eof;	  /* the reader saw the end (or an error): what is left is all */
	bool started;
	struct vmm_seccomp_gate fence; /* the reader opens it once its list is loaded */
};

/* The VMM's one: vmm/main.c starts it, the command port (vmm/startup.c) takes from it. */
extern struct run_stdin run_stdin_main;

/*
 * Whether our descriptor 0 was open when we started. Call it before anything opens a
 * file: a closed stdin would otherwise be the next file we open, and we would forward it.
 * It also blocks SIGWINCH, which the reader thread alone takes: call it before any thread
 * is made.
 */
void run_stdin_probe(void);
/* Prepare in to read fd (STDIN_FILENO, unless the probe found it closed). */
void run_stdin_init(struct run_stdin *in, int fd);
/* Start the reader thread; 0 or a negative errno. */
int run_stdin_start(struct run_stdin *in);
/*
 * The command port's input callback: up to max bytes from the ring into dst. Returns the
 * count, 0 when the ring is empty for now, -1 when it is empty for good.
 */
long run_stdin_take(void *ctx, uint8_t *dst, size_t max);
/* STDIN_FILENO, or -1 when the probe found it closed. */
int run_stdin_fd(void);
/*
 * For an interactive run: our terminal into raw mode (so Ctrl-C and Ctrl-Z are bytes for
 * the guest's terminal; console_restore() undoes it) and its window size watched: the
 * size now, and again at every SIGWINCH, for run_stdin_winsize().
 */
void run_stdin_terminal(void);
/*
 * The command port's window-size callback: true, with rows << 16 | columns in *size,
 * when the size changed since the last call (the first call reports it).
 */
bool run_stdin_winsize(void *ctx, uint32_t *size);

#endif
