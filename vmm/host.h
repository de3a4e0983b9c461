/* SPDX-License-Identifier: MIT */
/*
 * What kind of host this is, for the user's sake. A /dev/kvm on a CPU without VT-x or
 * AMD-V (vmx/svm missing from /proc/cpuinfo: a PVM host, or KVM under an emulator) runs
 * a guest in KVM's instruction emulator, where an unmodified Linux kernel is too slow and
 * may stop on an instruction the emulator lacks. The guest still runs (small guests work
 * there); the VMM only says so, once at start-up and once more when the guest then stays
 * silent.
 */
#ifndef VMM_HOST_H
#define VMM_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/event_loop.h"
#include "vmm/vm.h"

/* Seconds without guest output before the hint is repeated. */
#define HOST_SILENCE_S 10

enum host_virt {
	HOST_VIRT_UNKNOWN, /* no readable cpuinfo, or no flags line in it */
	HOST_VIRT_NONE,	   /* flags listed, neither vmx nor svm among them */
	HOST_VIRT_HW,	   /* VT-x (vmx) or AMD-V (svm) */
};

/* Read a /proc/cpuinfo-format file: the first "flags" line decides. */
enum host_virt host_virt_from_cpuinfo(const char *path);

/* Tracks guest output to notice HOST_SILENCE_S seconds without any; zero-initialise. */
struct host_silence {
	uint64_t output;      /* the output count seen last */
	int64_t changed_ms;   /* when it last changed (or when watching began) */
	bool started, warned; /* warned: the repeat was given; it is given once */
};

/*
 * Feed the guest's output count (any counter that grows with output) at now_ms; true
 * exactly once: on the first call HOST_SILENCE_S s or more after the count last moved.
 */
bool host_silence_due(struct host_silence *s, uint64_t output, int64_t now_ms);

/*
 * At start-up, before the seccomp lists load (it reads /proc/cpuinfo): on a host without
 * VT-x/AMD-V print the hint on stderr and watch the guest's output from the loop, to
 * repeat it after HOST_SILENCE_S s of silence. raw_terminal: the console has the
 * terminal in raw mode, so a line needs "\r\n". Returns 0 or -ENOMEM.
 */
int host_check(struct event_loop *loop, struct vm *vm, bool raw_terminal);

#endif
