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
/* Run until the VM stops, or timeout seconds (0: no limit) have passed; returns its exit status. */
int event_loop_run(struct vm *vm, struct console *con, unsigned int timeout);

#endif
