// SPDX-License-Identifier: MIT
/*
 * virtio-net's snapshot section (virtio/net/net_snapshot.h): the one place its bytes are
 * checked before a restore acts on them.
 */
#include "virtio/net/net_snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int net_snapshot_parse(const void *data, size_t len, unsigned int npairs, struct net_snapshot *out,
		       char *err, size_t errlen)
{
	struct net_snapshot st;
	static const uint8_t zero[sizeof(st.pad)];

	if (len != sizeof(st)) {
		snprintf(err, errlen, "its saved state is %zu bytes, a NIC's is %zu", len,
			 sizeof(st));
		return -EINVAL;
	}
	memcpy(&st, data, sizeof(st));
	if (st.version != NET_SNAPSHOT_VERSION) {
		snprintf(err, errlen, "NIC state version %u; this VMM reads version %u only",
			 st.version, NET_SNAPSHOT_VERSION);
		return -EINVAL;
	}
	if (st.npairs != npairs) {
		snprintf(err, errlen, "%u queue pair%s saved, the command line gives %u (queues=)",
			 st.npairs, st.npairs == 1 ? "" : "s", npairs);
		return -EINVAL;
	}
	if (st.active_pairs < 1 || st.active_pairs > st.npairs || st.live > 1 || st.announce > 1 ||
	    memcmp(st.pad, zero, sizeof(zero))) {
		snprintf(err, errlen,
			 "its saved state is not a NIC's (%u of %u queue pairs in use)",
			 st.active_pairs, st.npairs);
		return -EINVAL;
	}
	if (st.mac[0] & 1) {
		snprintf(err, errlen, "its saved MAC address is a multicast one");
		return -EINVAL;
	}
	*out = st;
	return 0;
}
