/* SPDX-License-Identifier: MIT */
/*
 * User-mode networking: a net back end over libslirp, which plays a whole small
 * network for the guest (DHCP server, DNS forwarder, NAT gateway) with ordinary
 * sockets of this process, so it needs no privileges and no TAP device.
 *
 * The guest's network is 10.0.2.0/24: it is offered 10.0.2.15 by DHCP; 10.0.2.2 is
 * the gateway and stands for the host itself (its 127.0.0.1 included); 10.0.2.3
 * forwards DNS to the host's resolvers. IPv4 only.
 *
 * libslirp is not thread-safe, so it lives in the event loop's thread; the device's
 * thread reaches it only through two bounded frame queues, each with an eventfd.
 */
#ifndef VIRTIO_NET_NET_SLIRP_H
#define VIRTIO_NET_NET_SLIRP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "virtio/net/net_backend.h"

struct event_loop;

#define NET_USER_MAX_HOSTFWD 16
#define NET_USER_GUEST_ADDR "10.0.2.15"
#define NET_USER_GATEWAY_ADDR "10.0.2.2"
#define NET_USER_DNS_ADDR "10.0.2.3"
#define NET_SLIRP_QUEUE_LEN 256	 /* frames waiting in each direction */
#define NET_SLIRP_FRAME_MAX 1536 /* an Ethernet frame for a 1500-byte MTU, with room */

/* A host TCP port whose connections are forwarded to a port of the guest. */
struct net_hostfwd {
	struct in_addr host_addr; /* the address to listen on */
	uint16_t host_port;
	uint16_t guest_port;
};

struct net_user_options {
	struct net_hostfwd hostfwd[NET_USER_MAX_HOSTFWD];
	unsigned int nhostfwd;
};

struct net_slirp_stats {
	uint64_t rx_frames;	/* handed to the device by recv() */
	uint64_t rx_dropped;	/* from slirp while the receive queue was full */
	uint64_t rx_oversize;	/* from slirp, longer than NET_SLIRP_FRAME_MAX */
	uint64_t tx_frames;	/* handed to slirp */
	uint64_t tx_bad_length; /* from the guest: shorter than a header or too long */
	uint64_t guest_errors;	/* what slirp reported as guest misbehaviour */
};

/* False in a build without libslirp (the static binary). */
bool net_slirp_available(void);

/*
 * Start a slirp network in loop (the calling thread must be the loop's thread, or
 * the loop must not run yet) and listen on every hostfwd port. Returns 0 and the back
 * end in *out, or -errno with one line in err (a port already taken, no libslirp).
 */
int net_slirp_open(struct net_backend **out, const struct net_user_options *opts,
		   struct event_loop *loop, char *err, size_t errlen);
void net_slirp_get_stats(struct net_backend *be, struct net_slirp_stats *stats);

#endif
