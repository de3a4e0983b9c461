/* SPDX-License-Identifier: MIT */
/* The device-thread half of virtio/device.h: what every device's worker does first. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "virtio/device.h"

void virtio_config_read(const struct virtio_device *vdev, uint64_t offset, void *data,
			unsigned int len)
{
	memset(data, 0, len);
	if (offset < vdev->config_size && len <= vdev->config_size - offset)
		memcpy(data, (const uint8_t *)vdev->config + offset, len);
}

/* One bit per kind of fault virtq_pop() reports; anything else shares the last. */
static uint32_t fault_bit(int why)
{
	static const int kinds[] = {
		-EPROTO, -ERANGE, -ELOOP, -EFAULT, -E2BIG, -EOVERFLOW, -EINVAL
	};

	for (unsigned int i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (why == kinds[i])
			return 1u << i;
	return 1u << 31;
}

void virtio_queue_fault(struct virtio_device *vdev, unsigned int q, int why)
{
	uint32_t bit = fault_bit(why);

	if (!(__atomic_fetch_or(&vdev->faults_logged, bit, __ATOMIC_RELAXED) & bit))
		fprintf(stderr,
			"vmm: %s: queue %u: driver error (%s); device needs reset "
			"(this kind is not logged again)\n",
			vdev->name, q, strerror(-why));
	virtio_needs_reset(vdev);
}

int virtio_thread_fence(struct virtio_device *vdev, enum vmm_seccomp_role role,
			struct vmm_seccomp_fds *fds, const char *what, unsigned int index)
{
	char err[256];

	vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_VM, vdev->transport_irq_fd);
	virtio_transport_seccomp_fds(vdev, fds);
	if (!vmm_seccomp_install(role, fds, err, sizeof(err)))
		return 0;
	fprintf(stderr, "vmm: %s: %s %u: %s\n", vdev->name, what, index, err);
	virtio_needs_reset(vdev);
	return -1;
}
