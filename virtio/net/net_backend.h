/* SPDX-License-Identifier: MIT */
/*
 * What the virtio-net device asks of whatever carries its frames to the world: a TAP
 * device, user-mode NAT (libslirp), or a socketpair in the unit tests. One back end
 * serves one receive/transmit queue pair; a multi-queue TAP gives one per pair.
 *
 * The device pulls: it calls recv() only when the guest has posted receive buffers,
 * and waits on rx_fd (readable) when recv() says -EAGAIN, so a frame never has to be
 * dropped because the guest's ring was full; the back end keeps it until then.
 */
#ifndef VIRTIO_NET_NET_BACKEND_H
#define VIRTIO_NET_NET_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "vmm/seccomp.h"

struct net_backend;

struct net_backend_ops {
	/*
	 * Send one frame. iov starts with a struct virtio_net_hdr_v1 when vnet_hdr_len is
	 * non-zero, else it is the bare Ethernet frame. Returns the bytes taken, -EAGAIN
	 * when the back end cannot take it now (wait for tx_fd writable and retry), or
	 * another -errno (the frame is dropped and counted by the device).
	 */
	ssize_t (*send)(struct net_backend *be, const struct iovec *iov, int iovcnt);
	/*
	 * Receive one frame into iov (header first when vnet_hdr_len is non-zero).
	 * Returns its length, -EAGAIN when none is waiting (wait for rx_fd readable), or
	 * another -errno. A frame longer than iov is truncated; the device posts at
	 * least 65550 bytes plus the header so that does not happen to a valid frame.
	 */
	ssize_t (*recv)(struct net_backend *be, const struct iovec *iov, int iovcnt);
	/*
	 * The driver accepted these VIRTIO_NET_F_* guest offload bits (GUEST_CSUM,
	 * GUEST_TSO4, ...): tell the back end which ones it may hand us. May be NULL.
	 */
	int (*set_offloads)(struct net_backend *be, uint64_t guest_features);
	/*
	 * Queue pairs beyond the ones the driver uses (multi-queue: VQ_PAIRS_SET, and only
	 * pair 0 after a reset) are disabled: a back end that spreads incoming frames over
	 * its queues (a multi-queue TAP) must stop sending any to this one, since nobody
	 * posts buffers there. Added after the first version; may be NULL.
	 */
	int (*set_enabled)(struct net_backend *be, bool enabled);
	/*
	 * Add the descriptors, beyond rx_fd and tx_fd, that send() and recv() read or write
	 * (eventfds to another thread) to fds, for the device thread's seccomp list. May be
	 * NULL: none.
	 */
	void (*seccomp_fds)(struct net_backend *be, struct vmm_seccomp_fds *fds);
	/* Release everything; be itself belongs to the back end and is freed too. */
	void (*close)(struct net_backend *be);
};

struct net_backend {
	const struct net_backend_ops *ops;
	const char *name;	   /* for log lines: "tap0", "user", "socketpair" */
	int rx_fd;		   /* readable when recv() may have a frame */
	int tx_fd;		   /* writable when send() may take one again; -1: never blocks */
	int tap_fd;		   /* the TAP queue descriptor for vhost-net, else -1 */
	unsigned int vnet_hdr_len; /* 0, or sizeof(struct virtio_net_hdr_v1) */
	uint64_t offload_features; /* VIRTIO_NET_F_* offloads this back end can carry */
	void *priv;
};

#endif
