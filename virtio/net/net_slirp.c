// SPDX-License-Identifier: MIT
/*
 * The user-mode network back end. Two threads meet here: the device's, which calls
 * send() and recv(), and the event loop's, which alone calls into libslirp. Between
 * them are two rings of preallocated frame slots under one mutex each:
 *
 *   device send() -> tx ring -> tx_kick eventfd -> loop: slirp_input()
 *   slirp send_packet callback (loop) -> rx ring -> rx_fd eventfd -> device recv()
 *
 * Compiled twice: with libslirp for the dynamic build, and with VMM_NO_USER_NET for
 * the static one, which Debian cannot link against libslirp (it ships no libslirp.a
 * and no static GLib); that build only says so.
 *
 * The dynamic build loads libslirp with dlopen() when a --net user NIC is opened, not
 * at exec: libslirp brings GLib and its dependencies, and mapping and relocating them
 * cost every VMM about 2 MiB of memory and a few milliseconds of start-up, used or not.
 */
#include "virtio/net/net_slirp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#ifdef VMM_NO_USER_NET

bool net_slirp_available(void)
{
	return false;
}

int net_slirp_open(struct net_backend **out, const struct net_user_options *opts,
		   struct event_loop *loop, char *err, size_t errlen)
{
	(void)opts;
	(void)loop;
	*out = NULL;
	snprintf(err, errlen, "user: this VMM was built without user networking");
	return -ENOTSUP;
}

void net_slirp_get_stats(struct net_backend *be, struct net_slirp_stats *stats)
{
	(void)be;
	memset(stats, 0, sizeof(*stats));
}

#else

#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <dlfcn.h>
#include <slirp/libslirp.h>

#include "virtio/iov.h"
#include "virtio/net/net_slirp_internal.h"
#include "vmm/event_loop.h"

/* The libslirp functions we call, resolved once by slirp_lib_load(). */
struct net_slirp_lib slirp_lib;

#define SLIRP_SONAME "libslirp.so.0"

/* Returns 0, or -ENOTSUP with the loader's reason in err. Not thread-safe: set-up only. */
static int slirp_lib_load(char *err, size_t errlen)
{
	static void *handle;
	const char *missing = NULL;

	if (handle)
		return 0;
	handle = dlopen(SLIRP_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		snprintf(err, errlen, "user: cannot load %s (install libslirp0): %s", SLIRP_SONAME,
			 dlerror());
		return -ENOTSUP;
	}
#define RESOLVE(field, name)                                                                       \
	do {                                                                                       \
		*(void **)&slirp_lib.field = dlsym(handle, name);                                  \
		if (!slirp_lib.field && !missing)                                                  \
			missing = name;                                                            \
	} while (0)
	RESOLVE(new_, "slirp_new");
	RESOLVE(cleanup, "slirp_cleanup");
	RESOLVE(input, "slirp_input");
	RESOLVE(pollfds_fill, "slirp_pollfds_fill");
	RESOLVE(pollfds_poll, "slirp_pollfds_poll");
	RESOLVE(handle_timer, "slirp_handle_timer");
	RESOLVE(add_hostfwd, "slirp_add_hostfwd");
#undef RESOLVE
	if (missing) {
		snprintf(err, errlen, "user: %s has no %s", SLIRP_SONAME, missing);
		dlclose(handle);
		handle = NULL;
		return -ENOTSUP;
	}
	return 0;
}

#define ETH_HEADER_LEN 14

bool net_slirp_available(void)
{
	char err[256];

	return slirp_lib_load(err, sizeof(err)) == 0;
}

void net_slirp_get_stats(struct net_backend *be, struct net_slirp_stats *stats)
{
	struct net_slirp *ns = to_ns(be);

	pthread_mutex_lock(&ns->stats_lock);
	*stats = ns->stats;
	pthread_mutex_unlock(&ns->stats_lock);
}

static int ring_init(struct frame_ring *r)
{
	r->slot = calloc(NET_SLIRP_QUEUE_LEN, sizeof(*r->slot));
	if (!r->slot)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	return 0;
}

static void ring_destroy(struct frame_ring *r)
{
	if (!r->slot)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r->slot);
	r->slot = NULL;
}

/* ---- device thread ---- */

static ssize_t slirp_be_send(struct net_backend *be, const struct iovec *iov, int iovcnt)
{
	struct net_slirp *ns = to_ns(be);
	struct frame_ring *r = &ns->tx;
	size_t len = iov_size(iov, (unsigned int)iovcnt);
	unsigned int tail;
	bool was_empty;

	if (len < ETH_HEADER_LEN || len > NET_SLIRP_FRAME_MAX) {
		count(ns, &ns->stats.tx_bad_length);
		return -EMSGSIZE;
	}
	pthread_mutex_lock(&r->lock);
	if (r->count == NET_SLIRP_QUEUE_LEN) {
		if (!ns->tx_blocked) {
			ns->tx_blocked = true;
			eventfd_set(be->tx_fd, EVENTFD_FULL);
		}
		pthread_mutex_unlock(&r->lock);
		return -EAGAIN;
	}
	tail = (r->head + r->count) % NET_SLIRP_QUEUE_LEN;
	iov_to_buf(iov, (unsigned int)iovcnt, 0, r->slot[tail], len); /* len is their size */
	r->len[tail] = (uint16_t)len;
	was_empty = r->count++ == 0;
	pthread_mutex_unlock(&r->lock);
	if (was_empty)
		eventfd_set(ns->tx_kick_fd, 1);
	return (ssize_t)len;
}

static ssize_t slirp_be_recv(struct net_backend *be, const struct iovec *iov, int iovcnt)
{
	struct net_slirp *ns = to_ns(be);
	struct frame_ring *r = &ns->rx;
	size_t len, room;

	pthread_mutex_lock(&r->lock);
	if (r->count == 0) {
		/*
		 * Cleared under the lock: a frame queued after this point writes rx_fd
		 * again, so the device's wait on it cannot miss that frame.
		 */
		eventfd_clear(be->rx_fd);
		pthread_mutex_unlock(&r->lock);
		return -EAGAIN;
	}
	/* a frame larger than the buffers is cut short, as a TAP's read does */
	len = r->len[r->head];
	room = iov_size(iov, (unsigned int)iovcnt);
	if (len > room)
		len = room;
	iov_from_buf(iov, (unsigned int)iovcnt, 0, r->slot[r->head], len);
	r->head = (r->head + 1) % NET_SLIRP_QUEUE_LEN;
	r->count--;
	pthread_mutex_unlock(&r->lock);
	count(ns, &ns->stats.rx_frames);
	return (ssize_t)len;
}

static void slirp_be_close(struct net_backend *be)
{
	struct net_slirp *ns = to_ns(be);

	if (ns->slirp)
		slirp_lib.cleanup(ns->slirp); /* unregisters its sockets as it closes them */
	net_slirp_unwatch_all(ns);
	event_loop_del_hook(ns->loop, ns);
	if (ns->tx_kick_fd >= 0) {
		event_loop_del_fd(ns->loop, ns->tx_kick_fd);
		close(ns->tx_kick_fd);
	}
	if (be->rx_fd >= 0)
		close(be->rx_fd);
	if (be->tx_fd >= 0)
		close(be->tx_fd);
	ring_destroy(&ns->rx);
	ring_destroy(&ns->tx);
	pthread_mutex_destroy(&ns->stats_lock);
	free(ns->polls);
	free(ns->watched);
	free(ns);
}

/* rx_fd and tx_fd are eventfds here, not a TAP's: the device reads and writes them */
static void slirp_be_seccomp_fds(struct net_backend *be, struct vmm_seccomp_fds *fds)
{
	vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_EVENT, be->rx_fd);
	vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_EVENT, be->tx_fd);
	vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_EVENT, to_ns(be)->tx_kick_fd);
}

static const struct net_backend_ops slirp_ops = {
	.send = slirp_be_send,
	.recv = slirp_be_recv,
	.set_offloads = NULL, /* slirp takes and gives only complete, checksummed frames */
	.seccomp_fds = slirp_be_seccomp_fds,
	.close = slirp_be_close,
};

static struct in_addr addr(const char *text)
{
	struct in_addr a;

	inet_pton(AF_INET, text, &a);
	return a;
}

int net_slirp_open(struct net_backend **out, const struct net_user_options *opts,
		   struct event_loop *loop, char *err, size_t errlen)
{
	SlirpConfig cfg = {
		.version = 4,
		.restricted = 0,
		.in_enabled = true,
		.vnetwork = addr("10.0.2.0"),
		.vnetmask = addr("255.255.255.0"),
		.vhost = addr(NET_USER_GATEWAY_ADDR),
		.in6_enabled = false,
		.vdhcp_start = addr(NET_USER_GUEST_ADDR),
		.vnameserver = addr(NET_USER_DNS_ADDR),
		.if_mtu = 1500,
		.if_mru = 1500,
		.disable_host_loopback = false, /* 10.0.2.2 reaches the host's 127.0.0.1 */
		.enable_emu = false,
	};
	struct net_slirp *ns;
	int ret;

	*out = NULL;
	ret = slirp_lib_load(err, errlen);
	if (ret)
		return ret;
	ns = calloc(1, sizeof(*ns));
	if (!ns) {
		snprintf(err, errlen, "user: out of memory");
		return -ENOMEM;
	}
	ns->loop = loop;
	ns->be = (struct net_backend){
		.ops = &slirp_ops,
		.name = "user",
		.rx_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK),
		.tx_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK),
		.tap_fd = -1,
		.vnet_hdr_len = 0,
		.offload_features = 0,
		.priv = ns,
	};
	ns->tx_kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&ns->stats_lock, NULL);
	if (ns->be.rx_fd < 0 || ns->be.tx_fd < 0 || ns->tx_kick_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "user: eventfd: %s", strerror(errno));
		goto fail;
	}
	ret = ring_init(&ns->rx) ?: ring_init(&ns->tx);
	if (!ret)
		ret = event_loop_add_fd(loop, ns->tx_kick_fd, EPOLLIN, net_slirp_on_tx_kick, ns);
	if (!ret)
		ret = event_loop_add_hook(loop, net_slirp_prepare, net_slirp_check, ns);
	if (ret) {
		snprintf(err, errlen, "user: %s", strerror(-ret));
		goto fail;
	}
	ns->slirp = slirp_lib.new_(&cfg, &net_slirp_callbacks, ns);
	if (!ns->slirp) {
		ret = -ENOMEM;
		snprintf(err, errlen, "user: libslirp could not start");
		goto fail;
	}
	for (unsigned int i = 0; i < opts->nhostfwd; i++) {
		const struct net_hostfwd *f = &opts->hostfwd[i];
		char host[INET_ADDRSTRLEN];

		errno = 0;
		if (slirp_lib.add_hostfwd(ns->slirp, 0, f->host_addr, f->host_port,
					  addr(NET_USER_GUEST_ADDR), f->guest_port) < 0) {
			ret = errno ? -errno : -EADDRINUSE;
			inet_ntop(AF_INET, &f->host_addr, host, sizeof(host));
			snprintf(err, errlen, "hostfwd=tcp:%s:%u-:%u: cannot listen there: %s",
				 host, f->host_port, f->guest_port, strerror(-ret));
			goto fail;
		}
	}
	*out = &ns->be;
	return 0;
fail:
	slirp_be_close(&ns->be);
	return ret;
}

#endif
