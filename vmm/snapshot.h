/* SPDX-License-Identifier: MIT */
/*
 * Snapshot and restore of a whole VM (docs/snapshot.md). A snapshot is a directory with
 * two files:
 *   state   the checksummed state file (vmm/snapshot_format.h): vCPUs, the in-kernel
 *           chipset, kvmclock, the platform devices, the machine's shape
 *   memory  guest RAM, byte for byte, regions back to back (RAM below the PCI hole, then
 *           the part above 4 GiB); pages that are all zero are holes, never written
 * A restore maps memory MAP_PRIVATE: the guest's pages come in from the file as it touches
 * them and its writes stay in the VMM, so restoring costs the same for 64 MiB or 64 GiB,
 * and the snapshot can be restored again. The memory file must therefore not change while
 * a VM restored from it runs.
 *
 * Threads: the main thread. Saving runs from the API (vm.snapshot) with every vCPU
 * parked; restoring runs in start-up, before any vCPU thread exists.
 */
#ifndef VMM_SNAPSHOT_H
#define VMM_SNAPSHOT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/seccomp.h"
#include "vmm/snapshot_format.h"
#include "vmm/vm.h"

#define SNAPSHOT_STATE_FILE "state"
#define SNAPSHOT_MEMORY_FILE "memory"

/* Before the sandbox closes: what saving will need to know about KVM. Returns 0 or -errno. */
int snapshot_prepare(struct vm *vm);
/* The descriptors saving uses on the main thread: every vCPU's (its state is read there). */
void snapshot_seccomp_fds(struct vm *vm, struct vmm_seccomp_fds *fds);

/*
 * vm.snapshot: check url ("file:///DIR", DIR an existing writable directory), pause the VM
 * if it runs, flush what the devices hold, and write DIR/memory and DIR/state (each under
 * a temporary name, renamed into place once complete and synced). The VM stays paused on
 * success. Returns 0, or -errno with one line in err:
 *   -EINVAL, -ENOENT, -ENOTDIR, -EACCES, -EROFS, ...  url or the directory: the VM was not
 *                                                     touched
 *   -EBUSY      a device whose state cannot be saved yet is in use; the VM runs on
 *   -ECANCELED  the VM is stopping; -ETIMEDOUT a vCPU did not park (as vm_pause)
 *   other       writing failed; the VM runs on if it was running before
 */
int snapshot_save(struct vm *vm, const char *url, char *err, size_t errlen);

/* The same into the directory dir (left open), as `vmm run --boot-cache` saves its entry. */
int snapshot_save_dir(struct vm *vm, int dir, char *err, size_t errlen);

/* A snapshot being restored: its checked state file and its open memory file. */
struct snapshot_source {
	char dir[PATH_MAX];
	uint8_t *state;
	size_t state_len;
	struct snap_reader reader;
	struct snap_meta meta;
	int memory_fd;
};

/*
 * --restore source_url=URL, in start-up order. Each returns 0, or -errno with one line in
 * err that main() prints before it exits with status 2.
 *   open:    read DIR/state and check all of it (vmm/snapshot_format.h), open DIR/memory
 *   check:   the machine the command line describes (vm->devices planned, --memory,
 *            --cpus) is the one saved, and the memory file has the saved size
 *   map:     guest RAM from the memory file, MAP_PRIVATE (instead of guest_mem_alloc)
 *   devices: after the devices have started: the chipset and the platform devices
 *   vcpu:    each vCPU, created but not started
 *   clock:   kvmclock, last, just before the vCPUs run
 */
int snapshot_open(struct snapshot_source *src, const char *url, char *err, size_t errlen);
int snapshot_check(struct snapshot_source *src, struct vm *vm, uint64_t memory, unsigned int ncpus,
		   char *err, size_t errlen);
int snapshot_map_memory(struct snapshot_source *src, struct guest_mem *mem, char *err,
			size_t errlen);
int snapshot_restore_devices(struct snapshot_source *src, struct vm *vm, char *err, size_t errlen);
int snapshot_restore_vcpu(struct snapshot_source *src, struct vcpu *vcpu, char *err, size_t errlen);
int snapshot_restore_clock(struct snapshot_source *src, struct vm *vm, char *err, size_t errlen);
void snapshot_close(struct snapshot_source *src);

/*
 * Called once a restored VM is complete, before its vCPUs run: the machine is a copy, and
 * whatever must differ between copies changes here: a new ACPI VM generation ID, and the
 * GPE that tells the guest (unless --vmgenid off); and each device hears it was restored
 * (a NIC asks the guest to announce its addresses). Returns 0 or -errno with err set.
 */
int snapshot_identity_changed(struct vm *vm, char *err, size_t errlen);

#endif
