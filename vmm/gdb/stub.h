/* SPDX-License-Identifier: MIT */
/*
 * --gdb tcp:HOST:PORT | unix:PATH: a GDB remote stub for the guest. One client at a time
 * (another is turned away), served by the main thread's event loop. When a client
 * connects, the VM pauses (vmm/pause.h) and stays paused while the client looks at it;
 * it runs while the client continues or steps, and a breakpoint, a watchpoint or a step
 * pauses it again. With --gdb-wait the guest does not run its first instruction until a
 * client has connected and continued.
 *
 * The vCPU threads tell the stub about KVM_EXIT_DEBUG through vm->debug (vmm/vm.h): the
 * vCPU asks every vCPU to park and wakes the main thread, which then talks to the client.
 * Registers and memory are read on the main thread from the parked vCPUs' descriptors.
 *
 * A client that sends garbage or goes away never stops the VM: on a disconnect every
 * breakpoint is taken out and the guest runs on.
 */
#ifndef VMM_GDB_STUB_H
#define VMM_GDB_STUB_H

#include <stdbool.h>
#include <stddef.h>

#include "vmm/event_loop.h"
#include "vmm/seccomp.h"
#include "vmm/vm.h"

struct gdb_stub;

/*
 * Check spec and listen. Returns 0 with *out set, or -errno with one line naming --gdb
 * in err (a user error: exit 2).
 */
int gdb_stub_open(struct gdb_stub **out, const char *spec, char *err, size_t errlen);
/*
 * Serve clients on loop, and hook the vCPUs' debug exits. With wait, the vCPUs park
 * before their first KVM_RUN (call this before they start).
 */
int gdb_stub_watch(struct gdb_stub *s, struct event_loop *loop, struct vm *vm, bool wait);
/* The main thread's seccomp list: the listening socket and the vCPUs it steers. */
void gdb_stub_seccomp_fds(const struct gdb_stub *s, struct vmm_seccomp_fds *fds);
/* Put the guest's bytes back, close the sockets. NULL: no-op. */
void gdb_stub_close(struct gdb_stub *s);

#endif
