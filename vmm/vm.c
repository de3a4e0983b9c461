// SPDX-License-Identifier: MIT
/* The VM-wide stop request shared by every thread. */
#include "vmm/vm.h"

#include <stdint.h>
#include <unistd.h>

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
