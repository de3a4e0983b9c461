// SPDX-License-Identifier: MIT
/*
 * Test builds only (make static-test): a guest write to this port makes the vCPU thread
 * do what a compromised device model might, so the harness can watch the sandbox stop
 * it. The byte written picks what: 1, a system call no list allows (socket); 2, a plain
 * write into the first disk's image, a descriptor the process holds but this thread's
 * list does not name for write.
 */
#include "vmm/test_hooks.h"

#ifdef VMM_TEST_HOOKS
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "devices/platform.h"
#include "vmm/seccomp.h"
#include "vmm/vm.h"

/* The first device's disk image: its highest VMM_SECCOMP_FD_DISK descriptor (the buffered one). */
static int test_hook_disk_fd(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->ndevices; i++) {
		static struct vmm_seccomp_fds fds;
		const struct virtio_slot *s = &vm->devices[i];

		if (!s->opened || !s->kind->seccomp_fds)
			continue;
		memset(&fds, 0, sizeof(fds));
		s->kind->seccomp_fds(s, &fds);
		for (int fd = VMM_SECCOMP_MAX_FD - 1; fd >= 0; fd--)
			if (fds.bits[VMM_SECCOMP_FD_DISK][fd / 64] & (1ull << (fd % 64)))
				return fd;
	}
	return -1;
}

static void test_hook_write_disk(struct vm *vm)
{
	static const char junk[] = "a vCPU thread wrote this";
	int fd = test_hook_disk_fd(vm);
	ssize_t n;

	if (fd < 0) {
		fprintf(stderr, "vmm: test hook: no disk to write to\n");
		return;
	}
	fprintf(stderr, "vmm: test hook: calling write() on the disk image from a vCPU thread\n");
	n = write(fd, junk, sizeof(junk));
	fprintf(stderr, "vmm: test hook: write() returned %zd; still running\n", n);
}

static void test_hook_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	(void)opaque;
	(void)offset;
	memset(data, 0xff, len);
}

/*
 * With VMM_TEST_OPEN=PATH set, any byte makes the hook open PATH instead, as a
 * compromised device model might try to: under --seccomp off only --jail stands in its way.
 */
static void test_hook_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	fprintf(stderr, "vmm: test hook: open(%s): %s\n", path,
		fd >= 0 ? "opened" : strerror(errno));
	if (fd >= 0)
		close(fd);
}

static void test_hook_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	const char *path = getenv("VMM_TEST_OPEN");
	int fd;

	(void)offset;
	(void)len;
	if (path) {
		test_hook_open(path);
		return;
	}
	if (*(const uint8_t *)data == 2) {
		test_hook_write_disk(opaque);
		return;
	}
	fprintf(stderr, "vmm: test hook: calling socket() on a vCPU thread\n");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	fprintf(stderr, "vmm: test hook: socket() returned %d; still running\n", fd);
	if (fd >= 0)
		close(fd);
}

static const struct bus_device_ops test_hook_ops = { test_hook_read, test_hook_write };

int test_hooks_register(struct vm *vm)
{
	return bus_register(&vm->pio, PLATFORM_TEST_HOOK_PORT, 1, &test_hook_ops, vm, "test-hook");
}

void test_hooks_vcpu_late(void)
{
	if (getenv("VMM_TEST_VCPU_LATE"))
		sleep(1);
}
#else
int test_hooks_register(struct vm *vm)
{
	(void)vm;
	return 0;
}

void test_hooks_vcpu_late(void)
{
}
#endif
