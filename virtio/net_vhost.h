/* SPDX-License-Identifier: MIT */
/*
 * vhost-net, virtio-net's in-kernel data path: what virtio/net.c calls to hand a queue
 * pair's rings to /dev/vhost-net (net_vhost_attach(), in net.h, opens the way at set-up).
 * Each returns 0 or -errno. Called from the transport's start and reset (a vCPU thread,
 * under the device's rules in virtio/device.h); the vhost descriptors are the device's.
 */
#ifndef VIRTIO_NET_VHOST_H
#define VIRTIO_NET_VHOST_H

#include "virtio/net.h"

/* Give vhost the negotiated features and the guest's memory map for pair p. */
int net_vhost_setup_pair(struct net *n, struct net_pair *p);

/* Start direction dir (0 receive, 1 transmit) of pair p on the rings virtq_enable() checked. */
int net_vhost_start_queue(struct net *n, struct net_pair *p, unsigned int dir, int kick_fd);

/* Detach the back end and the eventfds: vhost touches no guest memory after this returns. */
void net_vhost_stop_pair(struct net *n, struct net_pair *p);

#endif
