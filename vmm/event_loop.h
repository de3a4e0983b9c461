/* SPDX-License-Identifier: MIT */
/*
 * The main thread's loop once the vCPUs run: it waits (epoll) on the console, on
 * termination signals and on the VM's stop request, and returns the exit status.
 */
#ifndef VMM_EVENT_LOOP_H
#define VMM_EVENT_LOOP_H

#include "vmm/console.h"
#include "vmm/vm.h"

/* Block the signals the loop takes through a signalfd; call before starting threads. */
int event_loop_block_signals(void);

struct event_loop {
	int sigfd; /* the termination signals and SIGUSR1 */
	int epfd;
};

/*
 * Create the loop's descriptors and watch the console, the signals and vm->stop_fd; apart
 * from the run below, so that they exist before the main thread's seccomp list is loaded.
 * Returns 0 or -errno (nothing left open).
 */
int event_loop_init(struct event_loop *el, struct vm *vm, struct console *con);
/* Run until the VM stops, close the descriptors and return the exit status. */
int event_loop_run(struct event_loop *el, struct vm *vm, struct console *con);
void event_loop_close(struct event_loop *el);

#endif
