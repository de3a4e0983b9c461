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
#include "vmm/event_loop.h"

/* The libslirp functions we call, resolved once by slirp_lib_load(). */
static struct {
	Slirp *(*new_)(const SlirpConfig *cfg, const SlirpCb *callbacks, void *opaque);
	void (*cleanup)(Slirp *slirp);
	void (*input)(Slirp *slirp, const uint8_t *pkt, int pkt_len);
	void (*pollfds_fill)(Slirp *slirp, uint32_t *timeout, SlirpAddPollCb add_poll,
			     void *opaque);
	void (*pollfds_poll)(Slirp *slirp, int select_error, SlirpGetREventsCb get_revents,
			     void *opaque);
	void (*handle_timer)(Slirp *slirp, SlirpTimerId id, void *cb_opaque);
	int (*add_hostfwd)(Slirp *slirp, int is_udp, struct in_addr host_addr, int host_port,
			   struct in_addr guest_addr, int guest_port);
} lib;

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
		*(void **)&lib.field = dlsym(handle, name);                                        \
		if (!lib.field && !missing)                                                        \
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
#define GUEST_ERRORS_LOGGED 10 /* then only counted: the guest must not flood our stderr */
/* An eventfd at this count polls as not writable: how tx_fd says "the ring is full". */
#define EVENTFD_FULL 0xfffffffffffffffeull

struct frame_ring {
	pthread_mutex_t lock;
	unsigned int head, count;
	uint16_t len[NET_SLIRP_QUEUE_LEN];
	uint8_t (*slot)[NET_SLIRP_FRAME_MAX];
};

/* One descriptor slirp asked about in this round; index = what add_poll returned. */
struct poll_entry {
	int fd;
	int events;  /* SLIRP_POLL_* */
	int revents; /* SLIRP_POLL_*, filled by the fd callback */
};

/* A descriptor registered with the event loop on slirp's behalf. */
struct watched_fd {
	int fd;
	uint32_t events; /* EPOLL* */
	unsigned int round;
};

struct slirp_timer {
	struct net_slirp *ns;
	struct event_timer *timer;
	SlirpTimerCb cb; /* set by timer_new; else slirp_handle_timer with id */
	SlirpTimerId id;
	void *cb_opaque;
};

struct net_slirp {
	struct net_backend be;
	struct event_loop *loop;
	Slirp *slirp;
	int tx_kick_fd;	 /* device -> loop: frames in the tx ring */
	bool tx_blocked; /* tx_fd set to EVENTFD_FULL; under tx.lock */
	struct frame_ring rx, tx;

	struct poll_entry *polls;
	unsigned int npolls, polls_cap;
	struct watched_fd *watched;
	unsigned int nwatched, watched_cap;
	unsigned int round;

	pthread_mutex_t stats_lock;
	struct net_slirp_stats stats;
};

bool net_slirp_available(void)
{
	char err[256];

	return slirp_lib_load(err, sizeof(err)) == 0;
}

static struct net_slirp *to_ns(struct net_backend *be)
{
	return be->priv;
}

static void count(struct net_slirp *ns, uint64_t *counter)
{
	pthread_mutex_lock(&ns->stats_lock);
	(*counter)++;
	pthread_mutex_unlock(&ns->stats_lock);
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

static void eventfd_set(int fd, uint64_t value)
{
	/* fails only with EAGAIN when already at that count: nothing to do then */
	if (write(fd, &value, sizeof(value)) < 0)
		return;
}

static void eventfd_clear(int fd)
{
	uint64_t value;

	if (read(fd, &value, sizeof(value)) < 0)
		return; /* EAGAIN: it was clear */
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

/* ---- event loop thread: slirp's callbacks ---- */

static ssize_t on_send_packet(const void *buf, size_t len, void *opaque)
{
	struct net_slirp *ns = opaque;
	struct frame_ring *r = &ns->rx;
	bool was_empty;
	unsigned int tail;

	if (len > NET_SLIRP_FRAME_MAX) {
		count(ns, &ns->stats.rx_oversize);
		return (ssize_t)len;
	}
	pthread_mutex_lock(&r->lock);
	if (r->count == NET_SLIRP_QUEUE_LEN) {
		/* slirp's TCP retransmits; dropping here only slows a flow down */
		pthread_mutex_unlock(&r->lock);
		count(ns, &ns->stats.rx_dropped);
		return (ssize_t)len;
	}
	tail = (r->head + r->count) % NET_SLIRP_QUEUE_LEN;
	memcpy(r->slot[tail], buf, len);
	r->len[tail] = (uint16_t)len;
	was_empty = r->count++ == 0;
	if (was_empty)
		eventfd_set(ns->be.rx_fd, 1);
	pthread_mutex_unlock(&r->lock);
	return (ssize_t)len;
}

static void on_guest_error(const char *msg, void *opaque)
{
	struct net_slirp *ns = opaque;
	uint64_t n;

	pthread_mutex_lock(&ns->stats_lock);
	n = ++ns->stats.guest_errors;
	pthread_mutex_unlock(&ns->stats_lock);
	if (n <= GUEST_ERRORS_LOGGED)
		fprintf(stderr, "vmm: user network: guest error: %s%s\n", msg,
			n == GUEST_ERRORS_LOGGED ? " (no more of these are logged)" : "");
}

static int64_t on_clock_get_ns(void *opaque)
{
	struct timespec ts;

	(void)opaque;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void on_timer(void *opaque)
{
	struct slirp_timer *t = opaque;

	if (t->cb)
		t->cb(t->cb_opaque);
	else
		lib.handle_timer(t->ns->slirp, t->id, t->cb_opaque);
}

static struct slirp_timer *new_timer(struct net_slirp *ns, SlirpTimerCb cb, SlirpTimerId id,
				     void *cb_opaque)
{
	struct slirp_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	*t = (struct slirp_timer){ .ns = ns, .cb = cb, .id = id, .cb_opaque = cb_opaque };
	t->timer = event_timer_new(ns->loop, on_timer, t);
	if (!t->timer) {
		free(t);
		return NULL;
	}
	return t;
}

static void *on_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	return new_timer(opaque, cb, 0, cb_opaque);
}

static void *on_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	return new_timer(opaque, NULL, id, cb_opaque);
}

static void on_timer_free(void *timer, void *opaque)
{
	struct slirp_timer *t = timer;

	(void)opaque;
	if (!t)
		return;
	event_timer_free(t->timer);
	free(t);
}

/* expire_ms is on on_clock_get_ns()'s clock, which is the loop's, in milliseconds */
static void on_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct slirp_timer *t = timer;

	(void)opaque;
	if (t)
		event_timer_arm(t->timer, expire_ms);
}

static void on_register_poll_fd(int fd, void *opaque)
{
	/* nothing: add_poll tells us each round what to watch */
	(void)fd;
	(void)opaque;
}

static struct watched_fd *find_watched(struct net_slirp *ns, int fd)
{
	for (unsigned int i = 0; i < ns->nwatched; i++)
		if (ns->watched[i].fd == fd)
			return &ns->watched[i];
	return NULL;
}

static void unwatch(struct net_slirp *ns, struct watched_fd *w)
{
	event_loop_del_fd(ns->loop, w->fd);
	*w = ns->watched[--ns->nwatched];
}

/* slirp is about to close fd: forget it before its number can be handed out again */
static void on_unregister_poll_fd(int fd, void *opaque)
{
	struct net_slirp *ns = opaque;
	struct watched_fd *w = find_watched(ns, fd);

	if (w)
		unwatch(ns, w);
}

static void on_notify(void *opaque)
{
	/* only guestfwd sockets wait on this, and we create none */
	(void)opaque;
}

static const SlirpCb slirp_callbacks = {
	.send_packet = on_send_packet,
	.guest_error = on_guest_error,
	.clock_get_ns = on_clock_get_ns,
	.timer_new = on_timer_new,
	.timer_free = on_timer_free,
	.timer_mod = on_timer_mod,
	.register_poll_fd = on_register_poll_fd,
	.unregister_poll_fd = on_unregister_poll_fd,
	.notify = on_notify,
	.timer_new_opaque = on_timer_new_opaque,
};

/* ---- event loop thread: slirp's sockets ---- */

static void on_slirp_fd(int fd, uint32_t events, void *opaque)
{
	struct net_slirp *ns = opaque;
	int revents = 0;

	if (events & EPOLLIN)
		revents |= SLIRP_POLL_IN;
	if (events & EPOLLOUT)
		revents |= SLIRP_POLL_OUT;
	if (events & EPOLLPRI)
		revents |= SLIRP_POLL_PRI;
	if (events & EPOLLERR)
		revents |= SLIRP_POLL_ERR;
	if (events & EPOLLHUP)
		revents |= SLIRP_POLL_HUP;
	for (unsigned int i = 0; i < ns->npolls; i++)
		if (ns->polls[i].fd == fd)
			ns->polls[i].revents =
				revents & (ns->polls[i].events | SLIRP_POLL_ERR | SLIRP_POLL_HUP);
}

static int on_add_poll(int fd, int events, void *opaque)
{
	struct net_slirp *ns = opaque;
	struct watched_fd *w;
	uint32_t ep = 0;

	if (ns->npolls == ns->polls_cap) {
		unsigned int cap = ns->polls_cap ? 2 * ns->polls_cap : 16;
		struct poll_entry *grown = realloc(ns->polls, cap * sizeof(*grown));

		if (!grown)
			return -1; /* slirp then asks get_revents(-1): nothing happened */
		ns->polls = grown;
		ns->polls_cap = cap;
	}
	if (events & SLIRP_POLL_IN)
		ep |= EPOLLIN;
	if (events & SLIRP_POLL_OUT)
		ep |= EPOLLOUT;
	if (events & SLIRP_POLL_PRI)
		ep |= EPOLLPRI;

	w = find_watched(ns, fd);
	if (!w) {
		if (ns->nwatched == ns->watched_cap) {
			unsigned int cap = ns->watched_cap ? 2 * ns->watched_cap : 16;
			struct watched_fd *grown = realloc(ns->watched, cap * sizeof(*grown));

			if (!grown)
				return -1;
			ns->watched = grown;
			ns->watched_cap = cap;
		}
		if (event_loop_add_fd(ns->loop, fd, ep, on_slirp_fd, ns))
			return -1;
		w = &ns->watched[ns->nwatched++];
		*w = (struct watched_fd){ .fd = fd, .events = ep };
	} else if (w->events != ep) {
		if (event_loop_mod_fd(ns->loop, fd, ep)) {
			unwatch(ns, w);
			return -1;
		}
		w->events = ep;
	}
	w->round = ns->round;
	ns->polls[ns->npolls] = (struct poll_entry){ .fd = fd, .events = events };
	return (int)ns->npolls++;
}

static int on_get_revents(int idx, void *opaque)
{
	struct net_slirp *ns = opaque;

	if (idx < 0 || (unsigned int)idx >= ns->npolls)
		return 0;
	return ns->polls[idx].revents;
}

/*
 * slirp chooses afresh each round which sockets it waits on and for what (a socket
 * whose guest side is full is not read). Descriptors it left out are removed, not
 * paused: epoll reports errors and hang-ups even with no events asked for, and slirp
 * may not be ready to handle those yet, so a paused one could spin the loop.
 */
static void slirp_prepare(void *opaque, int *timeout_ms)
{
	struct net_slirp *ns = opaque;
	uint32_t timeout = UINT32_MAX;

	ns->round++;
	ns->npolls = 0;
	lib.pollfds_fill(ns->slirp, &timeout, on_add_poll, ns);
	for (unsigned int i = 0; i < ns->nwatched;) {
		if (ns->watched[i].round != ns->round)
			unwatch(ns, &ns->watched[i]);
		else
			i++;
	}
	if (timeout != UINT32_MAX && (*timeout_ms < 0 || timeout < (uint32_t)*timeout_ms))
		*timeout_ms = (int)(timeout > INT32_MAX ? INT32_MAX : timeout);
}

/* Also runs slirp's TCP timers, so it must come every round, with or without events. */
static void slirp_check(void *opaque)
{
	struct net_slirp *ns = opaque;

	lib.pollfds_poll(ns->slirp, 0, on_get_revents, ns);
}

/* The device queued frames: hand them to slirp, which may answer at once (into rx). */
static void on_tx_kick(int fd, uint32_t events, void *opaque)
{
	struct net_slirp *ns = opaque;
	struct frame_ring *r = &ns->tx;

	(void)events;
	eventfd_clear(fd);
	for (;;) {
		unsigned int head;

		pthread_mutex_lock(&r->lock);
		if (r->count == 0) {
			pthread_mutex_unlock(&r->lock);
			break;
		}
		head = r->head;
		pthread_mutex_unlock(&r->lock);
		/* the producer never writes the slot at head while count includes it */
		lib.input(ns->slirp, r->slot[head], r->len[head]);
		count(ns, &ns->stats.tx_frames);

		pthread_mutex_lock(&r->lock);
		r->head = (r->head + 1) % NET_SLIRP_QUEUE_LEN;
		r->count--;
		if (ns->tx_blocked) {
			ns->tx_blocked = false;
			eventfd_clear(ns->be.tx_fd);
		}
		pthread_mutex_unlock(&r->lock);
	}
}

static void slirp_be_close(struct net_backend *be)
{
	struct net_slirp *ns = to_ns(be);

	if (ns->slirp)
		lib.cleanup(ns->slirp); /* unregisters its sockets as it closes them */
	while (ns->nwatched)
		unwatch(ns, &ns->watched[0]);
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
		ret = event_loop_add_fd(loop, ns->tx_kick_fd, EPOLLIN, on_tx_kick, ns);
	if (!ret)
		ret = event_loop_add_hook(loop, slirp_prepare, slirp_check, ns);
	if (ret) {
		snprintf(err, errlen, "user: %s", strerror(-ret));
		goto fail;
	}
	ns->slirp = lib.new_(&cfg, &slirp_callbacks, ns);
	if (!ns->slirp) {
		ret = -ENOMEM;
		snprintf(err, errlen, "user: libslirp could not start");
		goto fail;
	}
	for (unsigned int i = 0; i < opts->nhostfwd; i++) {
		const struct net_hostfwd *f = &opts->hostfwd[i];
		char host[INET_ADDRSTRLEN];

		errno = 0;
		if (lib.add_hostfwd(ns->slirp, 0, f->host_addr, f->host_port,
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
