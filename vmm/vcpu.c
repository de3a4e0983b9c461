// SPDX-License-Identifier: MIT
/* vCPU creation, initial state, the KVM_RUN loop and exit dispatch. */
#include "vmm/vcpu.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "vmm/arch.h"
#include "vmm/test_hooks.h"
#include "vmm/exit_codes.h"
#include "vmm/devices.h"
#include "vmm/seccomp.h"

int vcpu_create(struct vm *vm, struct vcpu *vcpu, unsigned int index,
		const struct arch_vcpu_template *t)
{
	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->vm = vm;
	vcpu->index = index;
	vcpu->fd = ioctl(vm->kvm.vm_fd, KVM_CREATE_VCPU, index);
	if (vcpu->fd < 0)
		return -errno;
	vcpu->run = mmap(NULL, (size_t)vm->kvm.vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		vcpu->run = NULL;
		return -errno;
	}
	return arch_vcpu_init(vcpu, t);
}

static void handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;

	/* string instructions (rep outsb) hand over several items at once */
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
		if (run->io.direction == KVM_EXIT_IO_OUT)
			bus_write(&vcpu->vm->pio, run->io.port, data, run->io.size);
		else
			bus_read(&vcpu->vm->pio, run->io.port, data, run->io.size);
	}
}

static void handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	unsigned int len = run->mmio.len <= 8 ? run->mmio.len : 8;

	if (run->mmio.is_write)
		bus_write(&vcpu->vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
	else
		bus_read(&vcpu->vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
}

static void handle_system_event(struct vcpu *vcpu)
{
	switch (vcpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request_stop(vcpu->vm, VMM_EXIT_POWEROFF);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_request_stop(vcpu->vm, VMM_EXIT_REBOOT);
		break;
	default:
		fprintf(stderr, "vmm: vCPU %u: system event %u\n", vcpu->index,
			vcpu->run->system_event.type);
		vm_request_stop(vcpu->vm, VMM_EXIT_KVM_ERROR);
		break;
	}
}

static void fail(struct vcpu *vcpu, int code, const char *what)
{
	fprintf(stderr, "vmm: vCPU %u: %s\n", vcpu->index, what);
	arch_vcpu_dump(vcpu);
	vm_request_stop(vcpu->vm, code);
}

static void handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	char why[96];

	stats_count_exit(&vcpu->stats, stats_exit_kind(run->exit_reason));
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(vcpu);
		break;
	case KVM_EXIT_MMIO:
		handle_mmio(vcpu);
		break;
	case KVM_EXIT_INTR:
	case KVM_EXIT_HLT: /* only without an in-kernel APIC; the next run just resumes */
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		handle_system_event(vcpu);
		break;
	case KVM_EXIT_DEBUG:
		if (vcpu->vm->debug.exit)
			vcpu->vm->debug.exit(vcpu->vm->debug.ctx, vcpu);
		else
			fail(vcpu, VMM_EXIT_KVM_ERROR, "debug exit without --gdb");
		break;
	case KVM_EXIT_SHUTDOWN:
		fail(vcpu, VMM_EXIT_TRIPLE_FAULT, "triple fault (the guest's CPU reset itself)");
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(why, sizeof(why), "KVM internal error, suberror %u",
			 run->internal.suberror);
		fail(vcpu, VMM_EXIT_KVM_ERROR, why);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(why, sizeof(why), "VM entry failed, hardware reason 0x%llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		fail(vcpu, VMM_EXIT_KVM_ERROR, why);
		break;
	default:
		snprintf(why, sizeof(why), "unexpected exit reason %u", run->exit_reason);
		fail(vcpu, VMM_EXIT_KVM_ERROR, why);
		break;
	}
}

/*
 * Before the first KVM_RUN: from then on the guest steers this thread. The disks, their
 * rings and every device's eventfds are in its list because the queue threads it starts
 * inherit it (see vmm/seccomp.c); the devices behind its exits add the console's output.
 */
static int vcpu_seccomp(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct vmm_seccomp_fds fds = vm->vcpu_host_fds;
	char err[256];

	vmm_seccomp_fds_add(&fds, VMM_SECCOMP_FD_VCPU, vcpu->fd);
	vmm_seccomp_fds_add(&fds, VMM_SECCOMP_FD_VM, vm->kvm.vm_fd);
	devices_seccomp_fds(vm, &fds);
	if (vmm_seccomp_install(VMM_SECCOMP_VCPU, &fds, err, sizeof(err))) {
		fprintf(stderr, "vmm: vCPU %u: %s\n", vcpu->index, err);
		return -1;
	}
	return 0;
}

/*
 * KVM finishes a port or MMIO access that exited to us (an IN's value into the register,
 * RIP past the instruction) only on the next KVM_RUN, and keeps what is pending where no
 * KVM_GET_* ioctl sees it (the KVM API's KVM_RUN: complete it before saving a vCPU). So
 * before parking, one KVM_RUN with immediate_exit set (the pause's kick set it already):
 * it completes the access and returns EINTR before the guest runs another instruction.
 * A snapshot, a debugger or a resume then sees whole instructions only.
 */
static void complete_pending_access(struct vcpu *vcpu)
{
	for (unsigned int i = 0; i < 4; i++) {
		__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0)
			return;	   /* EINTR: nothing (more) was pending */
		handle_exit(vcpu); /* completing it made another exit: serve that one too */
	}
}

/*
 * Between two KVM_RUNs: while vm.pause is on (vmm/pause.c), park. Returns once the VM
 * resumes or stops; the caller checks for a stop itself.
 */
static void pause_point(struct vcpu *vcpu)
{
	struct vm_pause *p = &vcpu->vm->pause;

	if (!__atomic_load_n(&p->requested, __ATOMIC_SEQ_CST))
		return;
	complete_pending_access(vcpu);
	pthread_mutex_lock(&p->lock);
	p->parked++;
	pthread_cond_broadcast(&p->cond);
	while (__atomic_load_n(&p->requested, __ATOMIC_SEQ_CST) &&
	       !__atomic_load_n(&vcpu->debug_step, __ATOMIC_SEQ_CST) && !vm_is_stopping(vcpu->vm))
		pthread_cond_wait(&p->cond, &p->lock);
	p->parked--;
	pthread_mutex_unlock(&p->lock);
	/*
	 * The pause's kick left immediate_exit set. Clear it before the next KVM_RUN; a stop
	 * that kicked meanwhile is seen by the caller's vm_is_stopping(), which comes after.
	 */
	__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	char name[16];
	sigset_t kick;

	snprintf(name, sizeof(name), "vcpu%u", vcpu->index);
	pthread_setname_np(pthread_self(), name);
	__atomic_store_n(&vcpu->tid, gettid(), __ATOMIC_RELEASE);
	test_hooks_vcpu_late();
	if (vcpu_seccomp(vcpu)) {
		vm_request_stop(vcpu->vm, VMM_EXIT_ERROR);
		vmm_seccomp_gate_open(&vcpu->fence, false);
		return NULL;
	}
	vmm_seccomp_gate_open(&vcpu->fence, true);
	sigemptyset(&kick);
	sigaddset(&kick, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	if (vcpu->index == 0)
		vm_mark_phase(vcpu->vm, VM_PHASE_FIRST_RUN);
	while (!vm_is_stopping(vcpu->vm)) {
		pause_point(vcpu);
		if (vm_is_stopping(vcpu->vm))
			break;
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				stats_count_exit(&vcpu->stats, STATS_EXIT_INTERRUPTED);
				continue;
			}
			fprintf(stderr, "vmm: vCPU %u: KVM_RUN: %s\n", vcpu->index,
				strerror(errno));
			vm_request_stop(vcpu->vm, VMM_EXIT_ERROR);
			break;
		}
		handle_exit(vcpu);
	}
	return NULL;
}

static void kick_handler(int sig)
{
	(void)sig; /* its only job is to make KVM_RUN return EINTR */
}

int vcpu_start(struct vcpu *vcpu)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	int ret;

	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
	vmm_seccomp_gate_init(&vcpu->fence);
	ret = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);
	if (ret)
		return -ret;
	vcpu->started = true;
	return 0;
}

bool vcpu_wait_fenced(struct vcpu *vcpu)
{
	return vmm_seccomp_gate_wait(&vcpu->fence);
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (!vcpu->run)
		return;
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (!vcpu->started)
		return;
#ifdef __GLIBC__
	pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
#else
	/* no tid yet: the thread has not reached KVM_RUN, and immediate_exit stops that one */
	pid_t tid = __atomic_load_n(&vcpu->tid, __ATOMIC_ACQUIRE);

	if (tid)
		vmm_tgkill(tid, VCPU_KICK_SIGNAL);
#endif
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (vcpu->started)
		pthread_join(vcpu->thread, NULL);
	vcpu->started = false;
	vcpu->tid = 0; /* the kernel may give it to another thread now */
	if (vcpu->run)
		munmap(vcpu->run, (size_t)vcpu->vm->kvm.vcpu_mmap_size);
	if (vcpu->fd > 0)
		close(vcpu->fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
}

void vm_request_stop(struct vm *vm, int exit_code)
{
	int running = 0;
	uint64_t one = 1;

	if (!__atomic_compare_exchange_n(&vm->stop_code, &running, exit_code + 1, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return; /* someone else decided first */
	for (unsigned int i = 0; i < vm->ncpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	/* parked vCPUs (vm.pause) wake and see the stop too */
	pthread_mutex_lock(&vm->pause.lock);
	pthread_cond_broadcast(&vm->pause.cond);
	pthread_mutex_unlock(&vm->pause.lock);
	if (write(vm->stop_fd, &one, sizeof(one)) < 0) {
		/* the eventfd counter cannot overflow from one write */
	}
}
