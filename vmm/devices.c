// SPDX-License-Identifier: MIT
/* The registry of device kinds and the walk over the VM's slots (vmm/devices.h). */
#include "vmm/devices.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "virtio/blk/blk.h"
#include "virtio/fs/fs.h"
#include "virtio/net/net.h"
#include "virtio/rng/rng.h"
#include "vmm/options.h"
#include "vmm/vm.h"

/* Where a kind's options are in struct vmm_options: an array and its count. */
struct registration {
	const struct virtio_kind *kind;
	size_t array, count, stride, max;
};

#define REGISTER(kind, array, count)                                                               \
	{                                                                                          \
		&(kind), offsetof(struct vmm_options, array), offsetof(struct vmm_options, count), \
			sizeof(((struct vmm_options *)0)->array[0]),                               \
			sizeof(((struct vmm_options *)0)->array) /                                 \
				sizeof(((struct vmm_options *)0)->array[0])                        \
	}

/* Every device kind, one line each. The order is the PCI functions' order. */
static const struct registration registry[] = {
	REGISTER(virtio_blk_kind, disks, ndisks),
	REGISTER(virtio_net_kind, nics, nnics),
	REGISTER(virtio_fs_kind, shares, nshares),
	REGISTER(virtio_rng_kind, rngs, nrngs),
};

#define NKINDS (sizeof(registry) / sizeof(registry[0]))

_Static_assert(VMM_MAX_DISKS + VMM_MAX_NICS + VMM_MAX_SHARES + VMM_MAX_RNGS <= VM_MAX_DEVICES,
	       "every device the options allow has a slot");

const struct virtio_kind *devices_kind(unsigned int k)
{
	return k < NKINDS ? registry[k].kind : NULL;
}

int devices_plan(struct vm *vm, const struct vmm_options *opts)
{
	const char *base = (const char *)opts;

	vm->ndevices = 0;
	for (size_t k = 0; k < NKINDS; k++) {
		const struct registration *r = &registry[k];
		unsigned int n = *(const unsigned int *)(base + r->count);

		for (unsigned int i = 0; i < n && i < r->max; i++) {
			struct virtio_slot *s;

			if (vm->ndevices == VM_MAX_DEVICES)
				return -E2BIG;
			s = &vm->devices[vm->ndevices++];
			memset(s, 0, sizeof(*s));
			s->kind = r->kind;
			s->index = i;
			s->options = base + r->array + i * r->stride;
			snprintf(s->name, sizeof(s->name), "%s%u", r->kind->name, i);
		}
	}
	return 0;
}

int devices_open(struct vm *vm, enum virtio_open_stage stage, const struct virtio_host *host,
		 char *err, size_t errlen)
{
	for (unsigned int i = 0; i < vm->ndevices; i++) {
		struct virtio_slot *s = &vm->devices[i];
		int r;

		if (s->kind->stage != stage || s->opened)
			continue;
		r = s->kind->open(s, host, err, errlen);
		if (r)
			return r;
		s->vdev->name = s->name;
		s->opened = true;
	}
	return 0;
}

void devices_log_opened(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->ndevices; i++)
		if (vm->devices[i].opened && vm->devices[i].kind->log_opened)
			vm->devices[i].kind->log_opened(&vm->devices[i]);
}

int devices_connect(struct vm *vm, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < vm->ndevices; i++) {
		struct virtio_slot *s = &vm->devices[i];
		int r = s->kind->connect ? s->kind->connect(s, err, errlen) : 0;

		if (r)
			return r;
	}
	return 0;
}

int devices_attach_pci(struct vm *vm, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < vm->ndevices; i++) {
		struct virtio_slot *s = &vm->devices[i];
		int r = virtio_pci_init(&s->pci, s->vdev, &vm->pci, &vm->irq, vm->kvm.vm_fd);

		if (r) {
			snprintf(err, errlen, "cannot put %s %u on the PCI bus: %s", s->kind->noun,
				 s->index, strerror(-r));
			return r;
		}
	}
	return 0;
}

int devices_start(struct vm *vm, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < vm->ndevices; i++) {
		struct virtio_slot *s = &vm->devices[i];
		int r = s->kind->start ? s->kind->start(s, err, errlen) : 0;

		if (r)
			return r;
	}
	return 0;
}

void devices_stop(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->ndevices; i++)
		if (vm->devices[i].opened && vm->devices[i].kind->stop)
			vm->devices[i].kind->stop(&vm->devices[i]);
}

void devices_destroy(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->ndevices; i++) {
		struct virtio_slot *s = &vm->devices[i];

		if (s->opened && s->kind->destroy)
			s->kind->destroy(s);
		s->opened = false;
	}
}

void devices_seccomp_fds(struct vm *vm, struct vmm_seccomp_fds *fds)
{
	vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_EVENT, vm->stop_fd);
	for (unsigned int i = 0; i < vm->ndevices; i++) {
		struct virtio_slot *s = &vm->devices[i];

		if (!s->opened)
			continue;
		if (s->kind->seccomp_fds)
			s->kind->seccomp_fds(s, fds);
		virtio_transport_seccomp_fds(s->vdev, fds);
	}
}

bool devices_use_main_loop(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->ndevices; i++) {
		struct virtio_slot *s = &vm->devices[i];

		if (s->opened && s->kind->uses_main_loop && s->kind->uses_main_loop(s))
			return true;
	}
	return false;
}
