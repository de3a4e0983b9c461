// SPDX-License-Identifier: MIT
/*
 * vmm/gdb/stub.h on arm64: the gdb stub is not ported yet (it needs gdb's aarch64 register
 * layout and KVM_SET_GUEST_DEBUG's arm64 breakpoints), so --gdb is refused at start-up
 * with a usage error and the rest of the contract has nothing to do.
 */
#include "vmm/gdb/stub.h"

#include <errno.h>
#include <stdio.h>

int gdb_stub_open(struct gdb_stub **out, const char *spec, char *err, size_t errlen)
{
	*out = NULL;
	snprintf(err, errlen, "--gdb %s: not available on arm64 yet", spec);
	return -EOPNOTSUPP;
}

int gdb_stub_watch(struct gdb_stub *s, struct event_loop *loop, struct vm *vm, bool wait)
{
	(void)s;
	(void)loop;
	(void)vm;
	(void)wait;
	return 0;
}

void gdb_stub_seccomp_fds(const struct gdb_stub *s, struct vmm_seccomp_fds *fds)
{
	(void)s;
	(void)fds;
}

void gdb_stub_close(struct gdb_stub *s)
{
	(void)s;
}
