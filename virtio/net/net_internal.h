/* SPDX-License-Identifier: MIT */
/*
 * What virtio-net's two halves share: the device (virtio/net/net.c: threads, start, reset,
 * set-up), its data path (virtio/net/net_queues.c: transmit, receive) and its control queue
 * (virtio/net/net_ctrl.c: multiqueue, announce).
 * Each data-path function runs on the queue pair's own thread (the control queue on pair
 * 0's), one at a time per pair, as virtio/net/net.h describes.
 */
#ifndef VIRTIO_NET_NET_INTERNAL_H
#define VIRTIO_NET_NET_INTERNAL_H

#include "virtio/net/net.h"

/* What the guest may accept for frames towards it; set_offloads() hears about these. */
#define NET_GUEST_OFFLOADS                                                                         \
	((1ull << VIRTIO_NET_F_GUEST_CSUM) | (1ull << VIRTIO_NET_F_GUEST_TSO4) |                   \
	 (1ull << VIRTIO_NET_F_GUEST_TSO6) | (1ull << VIRTIO_NET_F_GUEST_ECN) |                    \
	 (1ull << VIRTIO_NET_F_GUEST_UFO))
#define NET_GUEST_GSO (NET_GUEST_OFFLOADS & ~(1ull << VIRTIO_NET_F_GUEST_CSUM))
#define NET_OFFLOADS                                                                               \
	(NET_GUEST_OFFLOADS | (1ull << VIRTIO_NET_F_CSUM) | (1ull << VIRTIO_NET_F_HOST_TSO4) |     \
	 (1ull << VIRTIO_NET_F_HOST_TSO6) | (1ull << VIRTIO_NET_F_HOST_ECN) |                      \
	 (1ull << VIRTIO_NET_F_HOST_UFO))

/* Statistics are relaxed atomics: readers want a recent value, not a consistent set. */
static inline void count(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

/* The pair's back end is gone for good (err from a send or receive): stop using it. */
void net_backend_gone(struct net_pair *p, ssize_t err);
/* Whether the driver uses this pair (VQ_PAIRS_SET); a disabled one's back end is idle. */
bool net_pair_active(const struct net_pair *p);
/* Drain pair p's transmit ring; true when the budget ran out with work left. */
bool net_tx_process(struct net_pair *p);
/* Move frames from p's back end into posted buffers; true when the budget ran out. */
bool net_rx_process(struct net_pair *p);
/* Serve the control queue (pair 0's thread; virtio/net/net_ctrl.c). */
void net_ctrl_process(struct net *n, struct net_pair *p0);
/* Tell the back ends which pairs the driver uses: frames go to the first pairs only. */
void net_set_pairs_enabled(struct net *n, unsigned int pairs);
/* Make pair p's thread look again. */
void net_pair_wake(struct net_pair *p);
/* The status field's VIRTIO_NET_S_ANNOUNCE (virtio/net/net_ctrl.c): read, set or clear. */
bool net_announce_pending(const struct net *n);
void net_set_announce(struct net *n, bool on);

/*
 * vhost-net, the in-kernel data path (virtio/net/net_vhost.c): what net.c calls to hand a
 * queue pair's rings to /dev/vhost-net (net_vhost_attach(), in net.h, opens the way at
 * set-up). Each returns 0 or -errno. Called from the transport's start and reset (a vCPU
 * thread, under the device's rules in virtio/device.h); the vhost descriptors are the
 * device's.
 */
/* Give vhost the negotiated features and the guest's memory map for pair p. */
int net_vhost_setup_pair(struct net *n, struct net_pair *p);
/* Start direction dir (0 receive, 1 transmit) of pair p on the rings virtq_enable() checked. */
int net_vhost_start_queue(struct net *n, struct net_pair *p, unsigned int dir, int kick_fd);
/* Detach the back end and the eventfds: vhost touches no guest memory after this returns. */
void net_vhost_stop_pair(struct net *n, struct net_pair *p);

#endif
