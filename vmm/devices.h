/* SPDX-License-Identifier: MIT */
/*
 * The VM's virtio devices: one slot per --disk, --net, --share, ... in struct vm, each
 * driven through its kind's table (virtio/registry.h). The kinds are listed once, in
 * vmm/devices.c; that list's order is the order of the slots, of the PCI functions and of
 * every step below. All of it runs on the main thread, at the point main() says.
 */
#ifndef VMM_DEVICES_H
#define VMM_DEVICES_H

#include <stdbool.h>
#include <stddef.h>

#include "virtio/registry.h"
#include "vmm/seccomp.h"

struct vm;
struct vmm_options;

/* The k-th kind in the registry's order, NULL past the last (for --stats). */
const struct virtio_kind *devices_kind(unsigned int k);

/* One slot per device the options ask for, named, not opened yet. Returns 0 or -E2BIG. */
int devices_plan(struct vm *vm, const struct vmm_options *opts);
/* Open the devices of the kinds that open at stage. Returns 0 or -errno with err. */
int devices_open(struct vm *vm, enum virtio_open_stage stage, const struct virtio_host *host,
		 char *err, size_t errlen);
/* Each open device's line on stderr, where its kind has one. */
void devices_log_opened(struct vm *vm);
/* The KVM VM exists. Returns 0 or -errno with err. */
int devices_connect(struct vm *vm, char *err, size_t errlen);
/* A virtio-pci function for each device, on vm->pci. Returns 0 or -errno with err. */
int devices_attach_pci(struct vm *vm, char *err, size_t errlen);
/* The devices' own threads: 0, -errno (the options' fault) or > 0 (the host's), with err. */
int devices_start(struct vm *vm, char *err, size_t errlen);
/* After the vCPUs: every device thread stops touching guest memory; counters stay. */
void devices_stop(struct vm *vm);
/* vm.pause and vm.resume: each device's pause or resume op (virtio/registry.h), in order. */
void devices_pause(struct vm *vm);
void devices_resume(struct vm *vm);
/* After the statistics: release everything. */
void devices_destroy(struct vm *vm);
/*
 * Every device's descriptors (its own and its transport's) and the VM's stop eventfd, for
 * a seccomp list: what a thread that runs, starts or resets devices may use.
 */
void devices_seccomp_fds(struct vm *vm, struct vmm_seccomp_fds *fds);
/* Whether a device's back end needs sockets in the main thread's event loop. */
bool devices_use_main_loop(struct vm *vm);

#endif
