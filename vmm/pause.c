// SPDX-License-Identifier: MIT
/* vm.pause and vm.resume: parking the vCPU threads and stopping the guest's clock. */
#include "vmm/pause.h"

#include <errno.h>
#include <time.h>
#include <sys/ioctl.h>

#include "vmm/devices.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#define PAUSE_TIMEOUT_S 5

void vm_pause_init(struct vm_pause *p)
{
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->requested = false;
	p->parked = 0;
	p->devices_paused = false;
	p->by_api = false;
}

bool vm_is_paused(struct vm *vm)
{
	return __atomic_load_n(&vm->pause.requested, __ATOMIC_SEQ_CST);
}

static unsigned int started_vcpus(struct vm *vm)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < vm->ncpus; i++)
		n += vm->vcpus[i].started;
	return n;
}

static void set_requested(struct vm *vm, bool on)
{
	pthread_mutex_lock(&vm->pause.lock);
	__atomic_store_n(&vm->pause.requested, on, __ATOMIC_SEQ_CST);
	pthread_cond_broadcast(&vm->pause.cond);
	pthread_mutex_unlock(&vm->pause.lock);
}

/*
 * Wait for every started vCPU to park. A vCPU may be inside a device model when kicked;
 * it parks once that exit is handled. The main thread waits here instead of serving its
 * loop (signals included), so not for ever: a vCPU stuck for PAUSE_TIMEOUT_S seconds
 * makes the pause fail and the others run on.
 */
static int wait_parked(struct vm *vm)
{
	struct vm_pause *p = &vm->pause;
	unsigned int want = started_vcpus(vm);
	struct timespec deadline;
	int ret = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += PAUSE_TIMEOUT_S;
	pthread_mutex_lock(&p->lock);
	while (p->parked < want && !ret) {
		if (vm_is_stopping(vm))
			ret = -ECANCELED;
		else if (pthread_cond_timedwait(&p->cond, &p->lock, &deadline) == ETIMEDOUT &&
			 p->parked < want)
			ret = -ETIMEDOUT;
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

void vm_pause_request(struct vm *vm)
{
	if (vm_is_paused(vm))
		return;
	set_requested(vm, true);
	for (unsigned int i = 0; i < vm->ncpus; i++)
		vcpu_kick(&vm->vcpus[i]);
}

int vm_pause_complete(struct vm *vm)
{
	int ret = wait_parked(vm);

	if (!ret && !vm->pause.clock_saved) {
		if (ioctl(vm->kvm.vm_fd, KVM_GET_CLOCK, &vm->pause.clock) < 0)
			ret = -errno;
		else
			vm->pause.clock_saved = true;
	}
	return ret;
}

int vm_pause(struct vm *vm)
{
	int ret;

	if (vm_is_stopping(vm))
		return -ECANCELED;
	if (vm_is_paused(vm))
		return -EALREADY;
	set_requested(vm, true);
	/* immediate_exit and a signal: the same way out of KVM_RUN a stop takes */
	for (unsigned int i = 0; i < vm->ncpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	ret = vm_pause_complete(vm);
	if (ret) {
		set_requested(vm, false);
		return ret;
	}
	vm_pause_devices(vm);
	return 0;
}

void vm_pause_devices(struct vm *vm)
{
	if (vm->pause.devices_paused)
		return;
	devices_pause(vm);
	vm->pause.devices_paused = true;
}

int vm_resume(struct vm *vm)
{
	struct kvm_clock_data clock = { .clock = vm->pause.clock.clock };

	if (!vm_is_paused(vm))
		return -EALREADY;
	/*
	 * Only the value, no KVM_CLOCK_REALTIME: the guest's clock goes on from where it
	 * stopped instead of jumping over the pause.
	 */
	if (vm->pause.clock_saved && ioctl(vm->kvm.vm_fd, KVM_SET_CLOCK, &clock) < 0)
		return -errno;
	vm->pause.clock_saved = false;
	if (vm->pause.devices_paused)
		devices_resume(vm);
	vm->pause.devices_paused = false;
	set_requested(vm, false);
	return 0;
}
