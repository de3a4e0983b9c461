// SPDX-License-Identifier: MIT
/* The VM generation ID's 16 bytes in guest memory (vmm/x86/vmgenid.h). */
#include "vmm/x86/vmgenid.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include "devices/platform.h"
#include "vmm/memory.h"

int vmgenid_write(struct guest_mem *mem)
{
	uint8_t id[PLATFORM_VMGENID_LEN];
	uint8_t *at = guest_mem_ptr(mem, PLATFORM_VMGENID_ADDR, sizeof(id));

	if (!at)
		return -EFAULT;
	/* 16 bytes never block once the host's pool is up, nor return short */
	if (getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id))
		return errno ? -errno : -EIO;
	/*
	 * One copy, not a byte loop: no vCPU runs while this is called (boot, or a restore
	 * before the vCPUs start), so the guest never sees half an ID.
	 */
	memcpy(at, id, sizeof(id));
	return 0;
}
