// SPDX-License-Identifier: MIT
/*
 * virtio-net's control queue (VIRTIO 1.2 section 5.1.6.5), served by pair 0's thread, and
 * the announce it acknowledges (5.1.6.5.4). A command is the driver's bytes: a class and a
 * command, then the command's data, in the device-readable part of a chain; the one-byte
 * answer goes into the last byte of the device-writable part. Anything short, too long,
 * unknown or not negotiated is answered VIRTIO_NET_ERR and changes nothing.
 */
#include "virtio/net/net_internal.h"
#include "virtio/iov.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>

#define NET_CONFIG_STATUS 6 /* the status field's low byte in the config space */

void net_pair_wake(struct net_pair *p)
{
	if (eventfd_write(p->wake_fd, 1) < 0) {
		/* cannot overflow from single increments */
	}
}

/* Every pair's thread looks again: which pairs are in use changed. */
static void wake_pairs(struct net *n)
{
	for (unsigned int i = 1; i < n->npairs; i++)
		if (n->pairs[i].running)
			net_pair_wake(&n->pairs[i]);
}

/* Tell the back ends which pairs the driver uses: frames go to the first `pairs` only. */
void net_set_pairs_enabled(struct net *n, unsigned int pairs)
{
	for (unsigned int i = 1; i < n->npairs; i++) {
		struct net_backend *be = n->pairs[i].be;
		int r;

		if (!be->ops->set_enabled)
			continue;
		r = be->ops->set_enabled(be, i < pairs);
		if (r)
			fprintf(stderr, "vmm: %s: %s: cannot %s queue pair %u: %s\n", n->vdev.name,
				be->name, i < pairs ? "enable" : "disable", i, strerror(-r));
	}
}

/* ------------------------------------------------------------------------------------ */
/* Announce: the status bit the driver reads on a configuration interrupt */

/*
 * The status field changes under the driver's reads (a vCPU copies the config space while
 * pair 0's thread clears the bit): one atomic byte, never the whole field.
 */
bool net_announce_pending(const struct net *n)
{
	return __atomic_load_n(&n->config[NET_CONFIG_STATUS], __ATOMIC_ACQUIRE) &
	       VIRTIO_NET_S_ANNOUNCE;
}

void net_set_announce(struct net *n, bool on)
{
	if (on)
		__atomic_or_fetch(&n->config[NET_CONFIG_STATUS], VIRTIO_NET_S_ANNOUNCE,
				  __ATOMIC_ACQ_REL);
	else
		__atomic_and_fetch(&n->config[NET_CONFIG_STATUS], (uint8_t)~VIRTIO_NET_S_ANNOUNCE,
				   __ATOMIC_ACQ_REL);
}

/* Without the control queue the driver could never acknowledge: 5.1.3.1 needs both. */
static bool announce_negotiated(const struct net *n)
{
	return virtio_has_feature(&n->vdev, VIRTIO_NET_F_GUEST_ANNOUNCE) &&
	       virtio_has_feature(&n->vdev, VIRTIO_NET_F_CTRL_VQ);
}

bool net_announce(struct net *n)
{
	if (!announce_negotiated(n))
		return false;
	net_set_announce(n, true);
	count(&n->announces, 1);
	virtio_notify_config(&n->vdev);
	return true;
}

/* ------------------------------------------------------------------------------------ */
/* Commands */

/* VQ_PAIRS_SET: exactly a le16 count of pairs, 1..npairs. */
static uint8_t ctrl_mq(struct net *n, uint8_t cmd, const struct virtq_chain *c)
{
	uint8_t data[2];
	unsigned int pairs;

	if (cmd != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET || c->readable_bytes != 2 + sizeof(data) ||
	    !virtio_has_feature(&n->vdev, VIRTIO_NET_F_MQ) ||
	    iov_to_buf(c->iov, c->nreadable, 2, data, sizeof(data)) < 0)
		return VIRTIO_NET_ERR;
	pairs = data[0] | (unsigned int)data[1] << 8;
	if (pairs < 1 || pairs > n->npairs)
		return VIRTIO_NET_ERR;
	__atomic_store_n(&n->active_pairs, pairs, __ATOMIC_RELAXED);
	net_set_pairs_enabled(n, pairs);
	wake_pairs(n);
	return VIRTIO_NET_OK;
}

/* ANNOUNCE_ACK: no data, and only for an announce the device made (the bit is set). */
static uint8_t ctrl_announce(struct net *n, uint8_t cmd, const struct virtq_chain *c)
{
	uint8_t was;

	if (cmd != VIRTIO_NET_CTRL_ANNOUNCE_ACK || c->readable_bytes != 2 ||
	    !announce_negotiated(n))
		return VIRTIO_NET_ERR;
	was = __atomic_fetch_and(&n->config[NET_CONFIG_STATUS], (uint8_t)~VIRTIO_NET_S_ANNOUNCE,
				 __ATOMIC_ACQ_REL);
	if (!(was & VIRTIO_NET_S_ANNOUNCE))
		return VIRTIO_NET_ERR;
	count(&n->announce_acks, 1);
	return VIRTIO_NET_OK;
}

static uint8_t ctrl_command(struct net *n, const struct virtq_chain *c)
{
	uint8_t hdr[2];

	if (iov_to_buf(c->iov, c->nreadable, 0, hdr, sizeof(hdr)) < 0)
		return VIRTIO_NET_ERR; /* shorter than a class and a command */
	switch (hdr[0]) {
	case VIRTIO_NET_CTRL_MQ:
		return ctrl_mq(n, hdr[1], c);
	case VIRTIO_NET_CTRL_ANNOUNCE:
		return ctrl_announce(n, hdr[1], c);
	default:
		return VIRTIO_NET_ERR;
	}
}

void net_ctrl_process(struct net *n, struct net_pair *p0)
{
	struct virtio_device *vdev = &n->vdev;
	unsigned int q = 2 * n->npairs;
	struct virtq *vq = &vdev->queues[q];
	struct virtq_chain *c = &p0->chain;
	bool pushed = false;
	int r;

	virtq_set_notify(vq, false);
	while ((r = virtq_pop_or_rearm(vq, c)) > 0) {
		uint8_t ack;

		if (c->writable_bytes == 0) {
			/* nowhere to put the answer: the driver broke the queue's rules */
			p0->broken = true;
			virtio_queue_fault(vdev, q, -EINVAL);
			goto out;
		}
		count(&n->ctrl_commands, 1);
		ack = ctrl_command(n, c);
		/* cannot fail: writable_bytes > 0 was checked */
		iov_from_buf(virtq_chain_writable(c), c->nwritable, c->writable_bytes - 1, &ack, 1);
		virtq_push(vq, c->head, 1);
		pushed = true;
	}
	if (r < 0) {
		p0->broken = true;
		virtio_queue_fault(vdev, q, r);
	}
out:
	if (pushed && virtq_needs_interrupt(vq))
		virtio_notify_queue(vdev, q);
}
