// SPDX-License-Identifier: MIT
/* The TAP back end: readv/writev of whole frames, header first, on a non-blocking fd. */
#include "virtio/net/net_tap.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#define TAP_VNET_HDR_LEN 12 /* struct virtio_net_hdr_v1 */

struct tap {
	struct net_backend be;
	char ifname[IFNAMSIZ];
	unsigned int tun_offloads; /* TUN_F_* the kernel accepted when we probed */
	bool multi_queue;
	bool detached;
};

static ssize_t tap_send(struct net_backend *be, const struct iovec *iov, int iovcnt)
{
	ssize_t r = writev(be->tx_fd, iov, iovcnt);

	return r < 0 ? -errno : r;
}

static ssize_t tap_recv(struct net_backend *be, const struct iovec *iov, int iovcnt)
{
	ssize_t r = readv(be->rx_fd, iov, iovcnt);

	return r < 0 ? -errno : r;
}

static int tap_set_offloads(struct net_backend *be, uint64_t guest)
{
	struct tap *t = be->priv;
	unsigned int f = 0;

	if (!be->vnet_hdr_len)
		return 0;
	if (guest & (1ull << VIRTIO_NET_F_GUEST_CSUM)) {
		f |= TUN_F_CSUM;
		/* segmentation offloads build on checksum offload, in the kernel as in virtio */
		if (guest & (1ull << VIRTIO_NET_F_GUEST_TSO4))
			f |= TUN_F_TSO4;
		if (guest & (1ull << VIRTIO_NET_F_GUEST_TSO6))
			f |= TUN_F_TSO6;
		if ((guest & (1ull << VIRTIO_NET_F_GUEST_ECN)) && (f & (TUN_F_TSO4 | TUN_F_TSO6)))
			f |= TUN_F_TSO_ECN;
		if (guest & (1ull << VIRTIO_NET_F_GUEST_UFO))
			f |= TUN_F_UFO;
	}
	f &= t->tun_offloads;
	return ioctl(be->rx_fd, TUNSETOFFLOAD, f) < 0 ? -errno : 0;
}

/* A multi-queue TAP spreads flows over its attached queues only. */
static int tap_set_enabled(struct net_backend *be, bool enabled)
{
	struct tap *t = be->priv;
	struct ifreq ifr;

	if (!t->multi_queue || t->detached == !enabled)
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = enabled ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
	if (ioctl(be->rx_fd, TUNSETQUEUE, &ifr) < 0)
		return -errno;
	t->detached = !enabled;
	return 0;
}

static void tap_close(struct net_backend *be)
{
	close(be->rx_fd);
	free(be->priv);
}

static const struct net_backend_ops tap_ops = {
	.send = tap_send,
	.recv = tap_recv,
	.set_offloads = tap_set_offloads,
	.set_enabled = tap_set_enabled,
	.close = tap_close,
};

/* Which offloads this kernel's TAP takes; leaves them all off again. */
static void probe_offloads(struct tap *t, int fd)
{
	unsigned int all = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
	uint64_t v = 0;

	if (ioctl(fd, TUNSETOFFLOAD, all | TUN_F_UFO) == 0)
		t->tun_offloads = all | TUN_F_UFO;
	else if (ioctl(fd, TUNSETOFFLOAD, all) == 0)
		t->tun_offloads = all;
	else if (ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM) == 0)
		t->tun_offloads = TUN_F_CSUM;
	ioctl(fd, TUNSETOFFLOAD, 0);

	if (t->tun_offloads & TUN_F_CSUM)
		v |= (1ull << VIRTIO_NET_F_CSUM) | (1ull << VIRTIO_NET_F_GUEST_CSUM);
	if (t->tun_offloads & TUN_F_TSO4)
		v |= (1ull << VIRTIO_NET_F_HOST_TSO4) | (1ull << VIRTIO_NET_F_GUEST_TSO4);
	if (t->tun_offloads & TUN_F_TSO6)
		v |= (1ull << VIRTIO_NET_F_HOST_TSO6) | (1ull << VIRTIO_NET_F_GUEST_TSO6);
	if (t->tun_offloads & TUN_F_TSO_ECN)
		v |= (1ull << VIRTIO_NET_F_HOST_ECN) | (1ull << VIRTIO_NET_F_GUEST_ECN);
	/* a kernel that takes UFO towards us also takes it from us (virtio_net_hdr_to_skb) */
	if (t->tun_offloads & TUN_F_UFO)
		v |= (1ull << VIRTIO_NET_F_HOST_UFO) | (1ull << VIRTIO_NET_F_GUEST_UFO);
	t->be.offload_features = v;
}

static struct tap *tap_wrap(int fd, const char *ifname, bool vnet_hdr)
{
	struct tap *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	snprintf(t->ifname, sizeof(t->ifname), "%s", ifname);
	t->be.ops = &tap_ops;
	t->be.name = t->ifname;
	t->be.rx_fd = t->be.tx_fd = t->be.tap_fd = fd;
	t->be.vnet_hdr_len = vnet_hdr ? TAP_VNET_HDR_LEN : 0;
	t->be.priv = t;
	if (vnet_hdr)
		probe_offloads(t, fd);
	return t;
}

static int set_vnet_hdr_len(int fd)
{
	int len = TAP_VNET_HDR_LEN;

	return ioctl(fd, TUNSETVNETHDRSZ, &len) < 0 ? -errno : 0;
}

static const char *open_hint(int err, unsigned int queues)
{
	switch (err) {
	case EPERM:
	case EACCES:
		return queues > 1 ? " (creating a TAP needs CAP_NET_ADMIN; or create it first "
				    "with ip tuntap add NAME mode tap multi_queue user USER)"
				  : " (creating a TAP needs CAP_NET_ADMIN; or create it first "
				    "with ip tuntap add NAME mode tap user USER)";
	case EINVAL:
		return queues > 1 ? " (is it a TUN, or a TAP made without multi_queue?)"
				  : " (is it a TUN, or a multi_queue TAP? try queues=N)";
	case EBUSY:
		return " (another process has it open)";
	default:
		return "";
	}
}

int net_tap_open(const char *ifname, unsigned int queues, struct net_backend **out, char *err,
		 size_t errlen)
{
	unsigned int i;
	int r;

	if (!*ifname || strlen(ifname) >= IFNAMSIZ) {
		snprintf(err, errlen, "tap=%s: an interface name is 1 to %d characters", ifname,
			 IFNAMSIZ - 1);
		return -EINVAL;
	}
	for (i = 0; i < queues; i++) {
		struct ifreq ifr;
		struct tap *t;
		int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);

		if (fd < 0) {
			r = -errno;
			snprintf(err, errlen, "tap=%s: /dev/net/tun: %s%s", ifname, strerror(errno),
				 errno == ENOENT ? " (is the tun module loaded?)" : "");
			goto fail;
		}
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
		if (queues > 1)
			ifr.ifr_flags |= IFF_MULTI_QUEUE;
		if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
			r = -errno;
			snprintf(err, errlen, "tap=%s: cannot create or attach: %s%s", ifname,
				 strerror(errno), open_hint(errno, queues));
			close(fd);
			goto fail;
		}
		r = set_vnet_hdr_len(fd);
		t = r ? NULL : tap_wrap(fd, ifr.ifr_name, true);
		if (!t) {
			snprintf(err, errlen, "tap=%s: %s", ifname,
				 r ? strerror(-r) : "out of memory");
			r = r ? r : -ENOMEM;
			close(fd);
			goto fail;
		}
		t->multi_queue = queues > 1;
		out[i] = &t->be;
	}
	return 0;
fail:
	while (i-- > 0)
		out[i]->ops->close(out[i]);
	return r;
}

/*
 * The TAP's flags as it was made. TUNGETIFF cannot tell IFF_NO_PI: it reports the same
 * bit (IFF_NOFILTER) for every queue without a socket filter. sysfs can; where it is
 * not mounted, assume IFF_NO_PI rather than refuse.
 */
static unsigned int sysfs_tun_flags(const char *ifname)
{
	char path[64], text[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/class/net/%s/tun_flags", ifname);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return IFF_NO_PI;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return IFF_NO_PI;
	text[n] = '\0';
	return (unsigned int)strtoul(text, NULL, 16);
}

int net_tap_from_fd(int fd, struct net_backend **out, char *err, size_t errlen)
{
	struct ifreq ifr;
	struct tap *t;
	int fl;

	if (fcntl(fd, F_GETFD) < 0) {
		snprintf(err, errlen, "tap-fd=%d: %s", fd, strerror(errno));
		return -EBADF;
	}
	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr) < 0) {
		snprintf(err, errlen, "tap-fd=%d: not a TAP device (%s)", fd, strerror(errno));
		return -EINVAL;
	}
	if ((ifr.ifr_flags & (IFF_TUN | IFF_TAP)) != IFF_TAP) {
		snprintf(err, errlen, "tap-fd=%d: %s is a TUN (layer 3), not a TAP", fd,
			 ifr.ifr_name);
		return -EINVAL;
	}
	if (!(sysfs_tun_flags(ifr.ifr_name) & IFF_NO_PI)) {
		snprintf(err, errlen, "tap-fd=%d: %s was opened without IFF_NO_PI", fd,
			 ifr.ifr_name);
		return -EINVAL;
	}
	if ((ifr.ifr_flags & IFF_VNET_HDR) && set_vnet_hdr_len(fd)) {
		snprintf(err, errlen, "tap-fd=%d: TUNSETVNETHDRSZ: %s", fd, strerror(errno));
		return -EINVAL;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		snprintf(err, errlen, "tap-fd=%d: fcntl: %s", fd, strerror(errno));
		return -EINVAL;
	}
	t = tap_wrap(fd, ifr.ifr_name, ifr.ifr_flags & IFF_VNET_HDR);
	if (!t) {
		snprintf(err, errlen, "tap-fd=%d: out of memory", fd);
		return -ENOMEM;
	}
	*out = &t->be;
	return 0;
}
