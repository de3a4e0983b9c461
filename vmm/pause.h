/* SPDX-License-Identifier: MIT */
/*
 * Pausing a running VM (the API's vm.pause and vm.resume): every vCPU thread leaves
 * KVM_RUN through the same kick a stop uses and parks on a condition variable until the
 * VM resumes or stops; the guest's clock (kvmclock) is read when the last vCPU has
 * parked and put back before the first one runs again, so the guest does not see the
 * time it spent paused.
 *
 * Threads: the main thread only (vm_pause() waits for the vCPUs). The vCPU side, parking
 * between two KVM_RUNs and waking on a stop, is in vmm/vcpu.c.
 * The state lives in struct vm (vmm/vm.h: struct vm_pause), so that vm.h stays below this.
 */
#ifndef VMM_PAUSE_H
#define VMM_PAUSE_H

#include <stdbool.h>

#include "vmm/vm.h"

void vm_pause_init(struct vm_pause *p);

/*
 * Park every vCPU and stop the guest's clock. Returns 0; -EALREADY when already paused;
 * -ECANCELED when the VM is stopping; -ETIMEDOUT when a vCPU did not park within 5 s, or
 * another -errno when the clock cannot be read (the vCPUs run again then).
 */
int vm_pause(struct vm *vm);
/* Restore the clock and let the vCPUs run. Returns 0, -EALREADY when not paused, -errno. */
int vm_resume(struct vm *vm);
bool vm_is_paused(struct vm *vm);

/*
 * The same pause in two halves, for a vCPU that meets a breakpoint (vmm/gdb/stub.c):
 * from any thread, ask every vCPU to park without waiting (nothing when already asked);
 * then, on the main thread, wait for them, and stop the clock if this pause has not.
 * Returns as vm_pause, without -EALREADY.
 */
void vm_pause_request(struct vm *vm);
int vm_pause_complete(struct vm *vm);
/*
 * A VM parked by those halves becomes paused as vm_pause() leaves it: the device kinds'
 * pause hooks run too, once (main thread).
 */
void vm_pause_devices(struct vm *vm);

#endif
