// SPDX-License-Identifier: MIT
/* The VM-wide stop request shared by every thread. */
#include "vmm/vm.h"

#include <stdint.h>
#include <unistd.h>

#include "vmm/devices.h"
#include "vmm/vcpu.h"

void vm_request_stop(struct vm *vm, int exit_code)
{
	int running = 0;
	uint64_t one = 1;

	if (!__atomic_compare_exchange_n(&vm->stop_code, &running, exit_code + 1, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return; /* someone else decided first */
	for (unsigned int i = 0; i < vm->ncpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	if (write(vm->stop_fd, &one, sizeof(one)) < 0) {
		/* the eventfd counter cannot overflow from one write */
	}
}

void vm_seccomp_device_fds(struct vm *vm, struct vmm_seccomp_fds *fds)
{
	vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_EVENT, vm->stop_fd);
	devices_seccomp_fds(vm, fds);
}

bool vm_is_stopping(struct vm *vm)
{
	return __atomic_load_n(&vm->stop_code, __ATOMIC_SEQ_CST) != 0;
}

int vm_exit_code(struct vm *vm)
{
	return __atomic_load_n(&vm->stop_code, __ATOMIC_SEQ_CST) - 1;
}

double vm_elapsed_ms(const struct vm *vm)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - vm->start.tv_sec) * 1e3 +
	       (double)(now.tv_nsec - vm->start.tv_nsec) / 1e6;
}

void vm_mark_phase(struct vm *vm, enum vm_phase phase)
{
	double seen, now = vm_elapsed_ms(vm);

	/* one writer per phase; SIGUSR1's statistics may read it from another thread */
	__atomic_load(&vm->phase_ms[phase], &seen, __ATOMIC_RELAXED);
	if (seen == 0)
		__atomic_store(&vm->phase_ms[phase], &now, __ATOMIC_RELAXED);
}
