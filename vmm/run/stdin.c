// SPDX-License-Identifier: MIT
/* `vmm run`'s stdin: a reader thread fills a ring that the command port empties. */
#include "vmm/run/stdin.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "vmm/console.h"
#include "vmm/seccomp.h"

struct run_stdin run_stdin_main;
static bool stdin_closed;
/* the terminal's size and a count of changes; the signal handler writes both */
static _Atomic uint32_t winsize;
static _Atomic unsigned int winsize_changes, winsize_seen;

/* On the reader thread (the only one that takes SIGWINCH): read the size, count a change. */
static void on_winch(int sig)
{
	struct winsize ws;
	int saved = errno;

	(void)sig;
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
		atomic_store(&winsize, (uint32_t)ws.ws_row << 16 | ws.ws_col);
		atomic_fetch_add(&winsize_changes, 1);
	}
	errno = saved;
}

void run_stdin_terminal(void)
{
	struct sigaction sa = { .sa_handler = on_winch, .sa_flags = SA_RESTART };

	console_enter_raw();
	sigemptyset(&sa.sa_mask);
	sigaction(SIGWINCH, &sa, NULL);
	on_winch(SIGWINCH);
}

bool run_stdin_winsize(void *ctx, uint32_t *size)
{
	unsigned int changes = atomic_load(&winsize_changes);

	(void)ctx;
	if (changes == atomic_load(&winsize_seen))
		return false;
	atomic_store(&winsize_seen, changes);
	*size = atomic_load(&winsize);
	return true;
}

void run_stdin_probe(void)
{
	sigset_t winch;

	stdin_closed = fcntl(STDIN_FILENO, F_GETFD) < 0;
	/*
	 * SIGWINCH is for the reader alone: blocked here, before any thread exists, so every
	 * thread inherits the block and only the reader, which unblocks it, is interrupted.
	 */
	sigemptyset(&winch);
	sigaddset(&winch, SIGWINCH);
	pthread_sigmask(SIG_BLOCK, &winch, NULL);
}

int run_stdin_fd(void)
{
	return stdin_closed ? -1 : STDIN_FILENO;
}

void run_stdin_init(struct run_stdin *in, int fd)
{
	/*
	 * Field by field: a memset would make the 64 KiB ring resident in every VM, not only
	 * in the `vmm run`s that forward their stdin. The fence is made by run_stdin_start().
	 */
	in->head = 0;
	in->len = 0;
	in->started = false;
	pthread_mutex_init(&in->lock, NULL);
	pthread_cond_init(&in->room, NULL);
	in->fd = fd;
	in->eof = fd < 0;
}

static void *reader(void *arg)
{
	struct run_stdin *in = arg;
	struct vmm_seccomp_fds fds = { 0 };
	sigset_t winch;
	char err[256];

	pthread_setname_np(pthread_self(), "run-stdin");
	vmm_seccomp_fds_add(&fds, VMM_SECCOMP_FD_INPUT, in->fd);
	if (vmm_seccomp_install(VMM_SECCOMP_STDIN, &fds, err, sizeof(err))) {
		fprintf(stderr, "vmm: run: stdin is not forwarded: %s\n", err);
		pthread_mutex_lock(&in->lock);
		in->eof = true;
		pthread_mutex_unlock(&in->lock);
		vmm_seccomp_gate_open(&in->fence, false);
		return NULL;
	}
	vmm_seccomp_gate_open(&in->fence, true);
	sigemptyset(&winch);
	sigaddset(&winch, SIGWINCH);
	pthread_sigmask(SIG_UNBLOCK, &winch, NULL);
	for (;;) {
		size_t tail, space;
		ssize_t n;

		pthread_mutex_lock(&in->lock);
		/* refill when half is free: one wake-up per 32 KiB, not per chunk taken */
		while (in->len > RUN_STDIN_RING / 2)
			pthread_cond_wait(&in->room, &in->lock);
		if (in->len == 0)
			in->head = 0; /* empty: one read may fill it all */
		/* the free part up to the ring's end: the taker never touches it */
		tail = (in->head + in->len) % RUN_STDIN_RING;
		space = tail >= in->head ? RUN_STDIN_RING - tail : in->head - tail;
		pthread_mutex_unlock(&in->lock);

		n = read(in->fd, in->ring + tail, space);
		if (n < 0 && errno == EINTR)
			continue;
		pthread_mutex_lock(&in->lock);
		if (n > 0)
			in->len += (size_t)n;
		else
			in->eof = true; /* the end, or an error that ends it the same way */
		pthread_mutex_unlock(&in->lock);
		if (n <= 0)
			return NULL;
	}
}

int run_stdin_start(struct run_stdin *in)
{
	pthread_t thread;
	int ret;

	if (in->eof)
		return 0;
	vmm_seccomp_gate_init(&in->fence);
	ret = pthread_create(&thread, NULL, reader, in);
	if (ret) {
		in->eof = true; /* the guest must not wait for input that cannot come */
		return -ret;
	}
	pthread_detach(thread);
	in->started = true;
	/* not a failure to the caller: a reader without its list has ended the input */
	vmm_seccomp_gate_wait(&in->fence);
	return 0;
}

long run_stdin_take(void *ctx, uint8_t *dst, size_t max)
{
	struct run_stdin *in = ctx;
	size_t n = 0;

	pthread_mutex_lock(&in->lock);
	while (n < max && in->len) {
		size_t run = RUN_STDIN_RING - in->head;

		if (run > in->len)
			run = in->len;
		if (run > max - n)
			run = max - n;
		memcpy(dst + n, in->ring + in->head, run);
		n += run;
		in->head = (in->head + run) % RUN_STDIN_RING;
		in->len -= run;
	}
	if (n && in->len <= RUN_STDIN_RING / 2)
		pthread_cond_signal(&in->room);
	else if (in->eof)
		n = (size_t)-1;
	pthread_mutex_unlock(&in->lock);
	return n == (size_t)-1 ? -1 : (long)n;
}
