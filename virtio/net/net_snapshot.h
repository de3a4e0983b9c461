/* SPDX-License-Identifier: MIT */
/*
 * virtio-net's own section of a snapshot (SNAP_DEVICE, docs/snapshot.md): what the
 * transport's section does not hold and a restore cannot learn from its command line.
 * The negotiated features, the queues and their indices are the transport's
 * (virtio/pci_snapshot.c); the back end (a TAP, user networking) is opened again from
 * the restore's --net. Pure code: no device, no files, so unit tests and the snapshot
 * fuzzer read it directly.
 */
#ifndef VIRTIO_NET_NET_SNAPSHOT_H
#define VIRTIO_NET_NET_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bump on any change an older reader would misread; a reader takes its own version only. */
#define NET_SNAPSHOT_VERSION 2 /* 2: announce; every NIC has a control queue */

struct net_snapshot {
	uint32_t version;      /* NET_SNAPSHOT_VERSION */
	uint32_t npairs;       /* queue pairs the device has (--net ...,queues=) */
	uint32_t active_pairs; /* how many the driver uses (VQ_PAIRS_SET), 1..npairs */
	uint8_t mac[6];	       /* the config space's MAC, as the guest's driver read it */
	uint8_t live;	       /* 1: the driver had started the device (DRIVER_OK) */
	uint8_t announce;      /* 1: VIRTIO_NET_S_ANNOUNCE was set, the driver's ack pending */
	uint8_t pad[4];	       /* zero */
};

_Static_assert(sizeof(struct net_snapshot) == 24, "the NIC's section is 24 bytes");

/*
 * Check a saved section of len bytes against a device with npairs queue pairs, and copy
 * it to *out. Returns 0, or -EINVAL with one line in err (the wrong size, another version,
 * another number of queue pairs, an impossible active count or announce flag, a multicast MAC).
 * Nothing in data is trusted: it is read once, into *out.
 */
int net_snapshot_parse(const void *data, size_t len, unsigned int npairs, struct net_snapshot *out,
		       char *err, size_t errlen);

#endif
