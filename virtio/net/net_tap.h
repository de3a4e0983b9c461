/* SPDX-License-Identifier: MIT */
/*
 * The TAP back end of virtio-net (virtio/net/net_backend.h): a Linux TAP interface opened
 * with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, its virtio-net header 12 bytes long
 * (TUNSETVNETHDRSZ) so frames pass between guest and kernel with their offload
 * metadata untouched, and the guest's GUEST_* offloads handed on with TUNSETOFFLOAD.
 * Every descriptor is O_CLOEXEC and O_NONBLOCK.
 */
#ifndef VIRTIO_NET_NET_TAP_H
#define VIRTIO_NET_NET_TAP_H

#include <stddef.h>

#include "virtio/net/net_backend.h"

/*
 * Attach to the TAP named ifname, creating it if it does not exist (that needs
 * CAP_NET_ADMIN), with queues descriptors (IFF_MULTI_QUEUE when more than one): out[i]
 * is the back end of queue pair i. Returns 0, or -errno with one sentence in err that
 * names the interface.
 */
int net_tap_open(const char *ifname, unsigned int queues, struct net_backend **out, char *err,
		 size_t errlen);
/*
 * Take over an open TAP descriptor (e.g. from a parent process): it must be a TAP
 * (TUNGETIFF), opened with IFF_NO_PI. Without IFF_VNET_HDR it still works, offloads off.
 * The descriptor is made O_CLOEXEC and O_NONBLOCK. Returns 0 or -errno with err.
 */
int net_tap_from_fd(int fd, struct net_backend **out, char *err, size_t errlen);

#endif
