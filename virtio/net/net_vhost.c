// SPDX-License-Identifier: MIT
/*
 * vhost-net for virtio-net (declared in virtio/net/net_internal.h): the kernel moves the frames
 * between the rings and the TAP device; we give it the memory map, the rings and the eventfds.
 */
#include "virtio/net/net_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/vhost.h>

static int vhost_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

int net_vhost_setup_pair(struct net *n, struct net_pair *p)
{
	int fd = n->vhost_fd[p->index];
	uint64_t features = n->vdev.driver_features & n->vhost_features;
	/* a union, not a struct around the header: C allows a flexible array member last only */
	union {
		struct vhost_memory hdr;
		uint8_t room[sizeof(struct vhost_memory) +
			     GUEST_MEM_MAX_REGIONS * sizeof(struct vhost_memory_region)];
	} table;
	int r;

	memset(&table, 0, sizeof(table));
	table.hdr.nregions = n->vdev.mem->count;
	for (unsigned int i = 0; i < n->vdev.mem->count; i++) {
		table.hdr.regions[i].guest_phys_addr = n->vdev.mem->regions[i].gpa;
		table.hdr.regions[i].memory_size = n->vdev.mem->regions[i].size;
		table.hdr.regions[i].userspace_addr = (uintptr_t)n->vdev.mem->regions[i].host;
	}
	r = vhost_ioctl(fd, VHOST_SET_FEATURES, &features);
	if (!r)
		r = vhost_ioctl(fd, VHOST_SET_MEM_TABLE, &table);
	return r;
}

int net_vhost_start_queue(struct net *n, struct net_pair *p, unsigned int dir, int kick_fd)
{
	unsigned int q = 2 * p->index + dir;
	struct virtq *vq = &n->vdev.queues[q];
	int fd = n->vhost_fd[p->index];
	struct vhost_vring_state num = { .index = dir, .num = vq->num };
	struct vhost_vring_state base = { .index = dir, .num = 0 };
	struct vhost_vring_addr addr = {
		.index = dir,
		.desc_user_addr = (uintptr_t)vq->desc,
		.avail_user_addr = (uintptr_t)vq->avail,
		.used_user_addr = (uintptr_t)vq->used,
	};
	struct vhost_vring_file kick = { .index = dir, .fd = kick_fd };
	struct vhost_vring_file call = { .index = dir, .fd = virtio_queue_call_fd(&n->vdev, q) };
	struct vhost_vring_file backend = { .index = dir, .fd = p->be->tap_fd };
	int r;

	r = vhost_ioctl(fd, VHOST_SET_VRING_NUM, &num);
	if (!r)
		r = vhost_ioctl(fd, VHOST_SET_VRING_BASE, &base);
	if (!r)
		r = vhost_ioctl(fd, VHOST_SET_VRING_ADDR, &addr);
	if (!r)
		r = vhost_ioctl(fd, VHOST_SET_VRING_KICK, &kick);
	if (!r)
		r = vhost_ioctl(fd, VHOST_SET_VRING_CALL, &call);
	if (!r)
		r = vhost_ioctl(fd, VHOST_NET_SET_BACKEND, &backend);
	return r;
}

void net_vhost_stop_pair(struct net *n, struct net_pair *p)
{
	int fd = n->vhost_fd[p->index];

	for (unsigned int dir = 0; dir < 2; dir++) {
		struct vhost_vring_file off = { .index = dir, .fd = -1 };
		struct vhost_vring_state base = { .index = dir };

		/* detaching the back end flushes the worker: no more guest memory access */
		vhost_ioctl(fd, VHOST_NET_SET_BACKEND, &off);
		vhost_ioctl(fd, VHOST_GET_VRING_BASE, &base);
		vhost_ioctl(fd, VHOST_SET_VRING_KICK, &off);
		vhost_ioctl(fd, VHOST_SET_VRING_CALL, &off);
	}
}

int net_vhost_attach(struct net *n, const int *vhost_fds, char *err, size_t errlen)
{
	uint64_t features = 0;

	for (unsigned int i = 0; i < n->npairs; i++) {
		int r;

		if (n->pairs[i].be->tap_fd < 0) {
			snprintf(err, errlen, "vhost=on needs a TAP back end");
			return -EINVAL;
		}
		n->vhost_fd[i] = vhost_fds[i];
		r = vhost_ioctl(vhost_fds[i], VHOST_SET_OWNER, NULL);
		if (!r)
			r = vhost_ioctl(vhost_fds[i], VHOST_GET_FEATURES, &features);
		if (r) {
			snprintf(err, errlen, "/dev/vhost-net: %s", strerror(-r));
			return r;
		}
		n->vhost_features = features;
		n->pairs[i].vhost = true;
	}
	/* vhost moves whole chains: it needs neither more nor less than these ring features */
	if (!(features & (1ull << VIRTIO_NET_F_MRG_RXBUF)))
		n->vdev.device_features &= ~(1ull << VIRTIO_NET_F_MRG_RXBUF);
	return 0;
}
