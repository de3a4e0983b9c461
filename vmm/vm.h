/* SPDX-License-Identifier: MIT */
/*
 * One virtual machine: KVM handles, guest memory, buses, devices and vCPUs, plus the
 * one decision every thread may make: that the VM must stop, and with which exit status.
 */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>
#include <linux/kvm.h>

#include "devices/bus.h"
#include "devices/pci.h"
#include "devices/x86/power.h"
#include "devices/cmdport.h"
#include "devices/uart.h"
#include "virtio/registry.h"
#include "vmm/irq.h"
#include "vmm/kvm.h"
#include "vmm/memory.h"
#include "vmm/options.h"
#include "vmm/exit_stats.h"
#include "vmm/seccomp.h"

struct vm;

/* Every --disk, --net, --share and --rng together. */
#define VM_MAX_DEVICES 32

/*
 * Milestones of start-up, for --stats: where the time before the guest's first instruction
 * goes. Each is written once, before the guest runs (the last by vCPU 0's thread).
 */
enum vm_phase {
	VM_PHASE_GUEST_LOADED, /* guest RAM mapped, firmware tables and kernel in it */
	VM_PHASE_DISKS_OPENED,
	VM_PHASE_VM_CREATED, /* /dev/kvm opened, VM created, RAM registered */
	VM_PHASE_DEVICES,    /* platform and PCI devices on their buses */
	VM_PHASE_VCPUS,	     /* vCPUs created and their registers set; threads start next */
	VM_PHASE_FIRST_RUN,  /* vCPU 0 enters KVM_RUN for the first time */
	VM_PHASE_NR
};

struct vcpu {
	struct vm *vm;
	unsigned int index; /* also its APIC ID */
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	pid_t tid; /* for kicks where pthread_kill() is tkill (musl), which no filter allows */
	bool started;
	struct vmm_seccomp_gate fence; /* opened by the thread once its list is loaded */
	/* --gdb: run one instruction although the VM is paused (atomic; vmm/gdb/stub.c) */
	bool debug_step;
	struct vcpu_exit_stats stats; /* written only by this vCPU's thread */
};

/*
 * --gdb (vmm/gdb/stub.c): where a vCPU thread reports KVM_EXIT_DEBUG (run->debug). Set
 * before the vCPUs start; exit is NULL without --gdb, and such an exit is then an error.
 */
struct vm_debug {
	void (*exit)(void *ctx, struct vcpu *vcpu);
	void *ctx;
	bool held; /* a client is attached: vm.pause and vm.resume are its (main thread) */
};

/* vm.pause and vm.resume (vmm/pause.h): each vCPU parks while requested is set. */
struct vm_pause {
	pthread_mutex_t lock;
	pthread_cond_t cond;	     /* parked vCPUs wait here for a resume; main for them */
	bool requested;		     /* atomic */
	unsigned int parked;	     /* under lock */
	struct kvm_clock_data clock; /* the guest's clock when it paused */
	bool clock_saved;	     /* clock holds this pause's value (main thread) */
	bool devices_paused;	     /* the kinds' pause hooks ran, resume owed (main thread) */
	/* paused by the API's vm.pause: a debugger that detaches leaves it so (main thread) */
	bool by_api;
};

struct vm {
	struct kvm kvm;
	struct guest_mem mem;
	struct bus pio;
	struct bus mmio;
	struct uart com1;
	struct power_devices power;
	struct cmdport cmdport; /* vmm run only */
	struct irq_router irq;
	struct pci_bus pci;
	/* the virtio devices, in the registry's order (vmm/devices.h) */
	struct virtio_slot devices[VM_MAX_DEVICES];
	unsigned int ndevices;
	struct vcpu *vcpus;
	unsigned int ncpus;
	struct timespec start;
	bool vmgenid; /* x86: the VM generation ID device (vmm/x86/vmgenid.h) is there */
	double phase_ms[VM_PHASE_NR]; /* ms after start; 0 until reached */

	int stop_fd; /* eventfd: the main thread wakes when a stop is requested */
	/*
	 * Host descriptors the devices behind vCPU exits write, set before the vCPUs start:
	 * console and `vmm run` output (VMM_SECCOMP_FD_OUTPUT), the console's eventfd.
	 */
	struct vmm_seccomp_fds vcpu_host_fds;
	int stop_code;	       /* atomic: 0 while running, then the exit status + 1 */
	struct vm_pause pause; /* vm.pause and vm.resume (vmm/pause.h) */
	struct vm_debug debug; /* --gdb */
};

bool vm_is_stopping(struct vm *vm);
/* The exit status chosen by the first stop request (valid once vm_is_stopping()). */
int vm_exit_code(struct vm *vm);
/* Milliseconds since the VMM started, for log lines. */
double vm_elapsed_ms(const struct vm *vm);
/* Record that start-up reached a milestone (the first call per phase counts). */
void vm_mark_phase(struct vm *vm, enum vm_phase phase);

#endif
