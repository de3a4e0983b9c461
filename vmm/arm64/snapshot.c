// SPDX-License-Identifier: MIT
/*
 * vmm/snapshot.h on arm64: snapshots are not ported yet (the vCPU state is KVM_GET_ONE_REG
 * per register there, and the GIC's and ITS's state need their own sections), so
 * vm.snapshot answers 501 and --restore is refused at start-up with a usage error.
 */
#include "vmm/snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define NOT_YET "snapshots are not available on arm64 yet"

int snapshot_prepare(struct vm *vm)
{
	(void)vm;
	return 0;
}

void snapshot_seccomp_fds(struct vm *vm, struct vmm_seccomp_fds *fds)
{
	(void)vm;
	(void)fds;
}

int snapshot_save(struct vm *vm, const char *url, char *err, size_t errlen)
{
	(void)vm;
	(void)url;
	snprintf(err, errlen, NOT_YET);
	return -EOPNOTSUPP;
}

int snapshot_save_dir(struct vm *vm, int dir, char *err, size_t errlen)
{
	(void)vm;
	(void)dir;
	snprintf(err, errlen, NOT_YET);
	return -EOPNOTSUPP;
}

int snapshot_open(struct snapshot_source *src, const char *url, char *err, size_t errlen)
{
	(void)src;
	snprintf(err, errlen, "--restore %s: " NOT_YET, url);
	return -EOPNOTSUPP;
}

static int not_yet(char *err, size_t errlen)
{
	snprintf(err, errlen, "--restore: " NOT_YET);
	return -EOPNOTSUPP;
}

int snapshot_check(struct snapshot_source *src, struct vm *vm, uint64_t memory, unsigned int ncpus,
		   char *err, size_t errlen)
{
	(void)src, (void)vm, (void)memory, (void)ncpus;
	return not_yet(err, errlen);
}

int snapshot_map_memory(struct snapshot_source *src, struct guest_mem *mem, char *err,
			size_t errlen)
{
	(void)src, (void)mem;
	return not_yet(err, errlen);
}

int snapshot_restore_devices(struct snapshot_source *src, struct vm *vm, char *err, size_t errlen)
{
	(void)src, (void)vm;
	return not_yet(err, errlen);
}

int snapshot_restore_vcpu(struct snapshot_source *src, struct vcpu *vcpu, char *err, size_t errlen)
{
	(void)src, (void)vcpu;
	return not_yet(err, errlen);
}

int snapshot_restore_clock(struct snapshot_source *src, struct vm *vm, char *err, size_t errlen)
{
	(void)src, (void)vm;
	return not_yet(err, errlen);
}

void snapshot_close(struct snapshot_source *src)
{
	(void)src;
}

int snapshot_identity_changed(struct vm *vm, char *err, size_t errlen)
{
	(void)vm, (void)err, (void)errlen;
	return 0;
}
