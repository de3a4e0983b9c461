/* SPDX-License-Identifier: MIT */
/*
 * What the main thread watches while the guest runs, on the event loop (vmm/event_loop.h):
 * termination signals (through a signalfd; SIGUSR1 prints the statistics), the VM's stop
 * request, the console's input and the UART's "room again", and `vmm run --timeout`.
 * main_loop_run() then dispatches until the VM stops.
 *
 * Main thread only, like the loop itself.
 */
#ifndef VMM_MAIN_LOOP_H
#define VMM_MAIN_LOOP_H

#include "vmm/console.h"
#include "vmm/event_loop.h"
#include "vmm/vm.h"

struct main_loop {
	struct event_loop *loop;
	struct vm *vm;
	struct console *con;
	int sigfd;		   /* -1 until main_loop_watch() */
	struct event_timer *limit; /* --timeout, or NULL */
	unsigned int limit_s;
};

/* Block the signals the loop takes through a signalfd; call before starting threads. */
int main_loop_block_signals(void);
/*
 * Watch the console, the termination signals (a signalfd) and the VM's stop request, and
 * stop the VM with VMM_EXIT_TIMEOUT after timeout seconds (0: no limit). Call before the
 * main thread's seccomp list is loaded: it creates descriptors. Returns 0 or -errno.
 */
int main_loop_watch(struct main_loop *m, struct event_loop *loop, struct vm *vm,
		    struct console *con, unsigned int timeout);
/* The signalfd main_loop_watch() made (the main thread reads it), or -1. */
int main_loop_signal_fd(const struct main_loop *m);
/* Run until the VM stops, let go of what main_loop_watch() made, return the status. */
int main_loop_run(struct main_loop *m);

#endif
