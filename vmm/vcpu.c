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

#include "devices/platform.h"
#include "vmm/x86/cpuid.h"
#include "vmm/exit_codes.h"
#include "vmm/devices.h"
#include "vmm/seccomp.h"

#define X86_CR0_PE 0x1ull
#define X86_CR0_ET 0x10ull
#define X86_CR0_PG 0x80000000ull
#define X86_CR4_PAE 0x20ull
#define EFER_LME 0x100ull
#define EFER_LMA 0x400ull
#define RFLAGS_RESERVED 0x2ull

#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MISC_ENABLE_FAST_STRING 0x1ull
#define MTRR_ENABLE_WRITEBACK ((1ull << 11) | 6) /* MTRRs on, default type write-back */

#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_MODE_NMI 0x400
#define APIC_MODE_EXTINT 0x700

static int set_msrs(struct vcpu *vcpu)
{
	static const struct {
		uint32_t index;
		uint64_t value;
	} initial[] = {
		{ MSR_IA32_SYSENTER_CS, 0 },
		{ MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 },
		{ MSR_STAR, 0 },
		{ MSR_LSTAR, 0 },
		{ MSR_CSTAR, 0 },
		{ MSR_SYSCALL_MASK, 0 },
		{ MSR_KERNEL_GS_BASE, 0 },
		{ MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING },
		{ MSR_MTRR_DEF_TYPE, MTRR_ENABLE_WRITEBACK },
	};
	const unsigned int n = sizeof(initial) / sizeof(initial[0]);
	struct {
		struct kvm_msrs header;
		struct kvm_msr_entry entries[sizeof(initial) / sizeof(initial[0])];
	} msrs = { .header.nmsrs = n };
	int ret;

	for (unsigned int i = 0; i < n; i++) {
		msrs.entries[i].index = initial[i].index;
		msrs.entries[i].data = initial[i].value;
	}
	ret = ioctl(vcpu->fd, KVM_SET_MSRS, &msrs);
	if (ret < 0)
		return -errno;
	/* KVM stops at the first MSR it refuses; all of these are architectural */
	return ret == (int)n ? 0 : -EINVAL;
}

/* Wire LINT0 to the legacy PIC (virtual-wire mode) and LINT1 to NMI, as firmware would. */
static int set_lapic_lint(struct vcpu *vcpu)
{
	struct kvm_lapic_state lapic;
	uint32_t lint0 = APIC_MODE_EXTINT, lint1 = APIC_MODE_NMI;

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic) < 0)
		return -errno;
	memcpy(&lapic.regs[APIC_LVT_LINT0], &lint0, sizeof(lint0));
	memcpy(&lapic.regs[APIC_LVT_LINT1], &lint1, sizeof(lint1));
	return ioctl(vcpu->fd, KVM_SET_LAPIC, &lapic) < 0 ? -errno : 0;
}

static int set_fpu(struct vcpu *vcpu)
{
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 }; /* the values after FNINIT */

	return ioctl(vcpu->fd, KVM_SET_FPU, &fpu) < 0 ? -errno : 0;
}

int vcpu_create(struct vm *vm, struct vcpu *vcpu, unsigned int index,
		const struct kvm_cpuid2 *supported)
{
	size_t cpuid_size = sizeof(*supported) + supported->nent * sizeof(supported->entries[0]);
	struct kvm_cpuid2 *cpuid;
	int ret;

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
	cpuid = malloc(cpuid_size);
	if (!cpuid)
		return -ENOMEM;
	memcpy(cpuid, supported, cpuid_size);
	cpuid_for_vcpu(cpuid, index, vm->ncpus);
	ret = ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid) < 0 ? -errno : 0;
	free(cpuid);
	if (ret)
		return ret;
	ret = set_msrs(vcpu);
	if (!ret)
		ret = set_fpu(vcpu);
	if (!ret)
		ret = set_lapic_lint(vcpu);
	return ret;
}

static void long_mode_segment(struct kvm_segment *s, uint16_t selector, uint8_t type, bool code)
{
	*s = (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = selector,
		.type = type,
		.present = 1,
		.s = 1,
		.l = code,
		.db = !code,
		.g = 1,
	};
}

int vcpu_setup_boot(struct vcpu *vcpu, const struct boot_entry *entry)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = {
		.rflags = RFLAGS_RESERVED,
		.rip = entry->rip,
		.rsi = entry->rsi,
		.rsp = entry->rsp,
	};

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	long_mode_segment(&sregs.cs, BOOT_GDT_CODE, 0xb, true);	 /* execute/read, accessed */
	long_mode_segment(&sregs.ds, BOOT_GDT_DATA, 0x3, false); /* read/write, accessed */
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.tr = (struct kvm_segment){
		.selector = BOOT_GDT_TSS, .limit = 0x67, .type = 0xb, .present = 1
	};
	sregs.gdt.base = PLATFORM_GDT_ADDR;
	sregs.gdt.limit = BOOT_GDT_ENTRIES * 8 - 1;
	sregs.cr3 = PLATFORM_PML4_ADDR;
	sregs.cr4 = X86_CR4_PAE;
	sregs.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_PG;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	return ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0 ? -errno : 0;
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
	vcpu_dump(vcpu);
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
 * Between two KVM_RUNs: while vm.pause is on (vmm/pause.c), park. Returns once the VM
 * resumes or stops; the caller checks for a stop itself.
 */
static void pause_point(struct vcpu *vcpu)
{
	struct vm_pause *p = &vcpu->vm->pause;

	if (!__atomic_load_n(&p->requested, __ATOMIC_SEQ_CST))
		return;
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
	sigset_t kick;

	if (vcpu_seccomp(vcpu)) {
		vm_request_stop(vcpu->vm, VMM_EXIT_ERROR);
		return NULL;
	}
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
	ret = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);
	if (ret)
		return -ret;
	vcpu->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (!vcpu->run)
		return;
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (vcpu->started)
		pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (vcpu->started)
		pthread_join(vcpu->thread, NULL);
	vcpu->started = false;
	if (vcpu->run)
		munmap(vcpu->run, (size_t)vcpu->vm->kvm.vcpu_mmap_size);
	if (vcpu->fd > 0)
		close(vcpu->fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
}

static void dump_segment(const char *name, const struct kvm_segment *s)
{
	fprintf(stderr, "  %-3s sel=%04x base=%016llx limit=%08x type=%x l=%u db=%u\n", name,
		s->selector, (unsigned long long)s->base, s->limit, s->type, s->l, s->db);
}

void vcpu_dump(struct vcpu *vcpu)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 || ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0) {
		fprintf(stderr, "vmm: vCPU %u: registers unavailable: %s\n", vcpu->index,
			strerror(errno));
		return;
	}
	fprintf(stderr,
		"vmm: vCPU %u registers:\n"
		"  rip=%016llx rsp=%016llx rflags=%016llx\n"
		"  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n"
		"  rsi=%016llx rdi=%016llx rbp=%016llx\n"
		"  r8 =%016llx r9 =%016llx r10=%016llx r11=%016llx\n"
		"  r12=%016llx r13=%016llx r14=%016llx r15=%016llx\n"
		"  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%016llx\n",
		vcpu->index, r.rip, r.rsp, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi,
		r.rbp, r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, s.cr0, s.cr2, s.cr3,
		s.cr4, s.efer);
	if (r.rip == 0xfff0 && s.cs.selector == 0xf000)
		fprintf(stderr, "  (the CPU is in its reset state: on AMD hosts KVM resets a vCPU "
				"when it reports a triple fault, so the faulting state is lost)\n");
	dump_segment("cs", &s.cs);
	dump_segment("ss", &s.ss);
	dump_segment("ds", &s.ds);
	dump_segment("tr", &s.tr);
	fprintf(stderr, "  gdt base=%016llx limit=%04x idt base=%016llx limit=%04x\n",
		(unsigned long long)s.gdt.base, s.gdt.limit, (unsigned long long)s.idt.base,
		s.idt.limit);
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
