// SPDX-License-Identifier: MIT
/*
 * The user-mode network back end's event loop side: libslirp's callbacks (frames it sends
 * to the guest, its timers, its clock), the sockets it asks the loop to watch each round,
 * and the frames the device queued for it. Only the event loop's thread runs this file,
 * and it alone calls into libslirp (which is not thread-safe); virtio/net/net_slirp.c has
 * the device's side and the two frame rings between them. Not in the build without
 * libslirp (VMM_NO_USER_NET).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>

#include "virtio/net/net_slirp_internal.h"
#include "vmm/event_loop.h"

#define GUEST_ERRORS_LOGGED 10 /* then only counted: the guest must not flood our stderr */

struct slirp_timer {
	struct net_slirp *ns;
	struct event_timer *timer;
	SlirpTimerCb cb; /* set by timer_new; else slirp_handle_timer with id */
	SlirpTimerId id;
	void *cb_opaque;
};

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
		slirp_lib.handle_timer(t->ns->slirp, t->id, t->cb_opaque);
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

const SlirpCb net_slirp_callbacks = {
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
void net_slirp_prepare(void *opaque, int *timeout_ms)
{
	struct net_slirp *ns = opaque;
	uint32_t timeout = UINT32_MAX;

	ns->round++;
	ns->npolls = 0;
	slirp_lib.pollfds_fill(ns->slirp, &timeout, on_add_poll, ns);
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
void net_slirp_check(void *opaque)
{
	struct net_slirp *ns = opaque;

	slirp_lib.pollfds_poll(ns->slirp, 0, on_get_revents, ns);
}

/* The device queued frames: hand them to slirp, which may answer at once (into rx). */
void net_slirp_on_tx_kick(int fd, uint32_t events, void *opaque)
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
		slirp_lib.input(ns->slirp, r->slot[head], r->len[head]);
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

void net_slirp_unwatch_all(struct net_slirp *ns)
{
	while (ns->nwatched)
		unwatch(ns, &ns->watched[0]);
}
