/* SPDX-License-Identifier: MIT */
/*
 * What the user-mode network back end's two halves share: virtio/net/net_slirp.c (the
 * device thread's send and recv, open and close) and virtio/net/net_slirp_loop.c (the
 * event loop thread, which alone calls into libslirp). Private to those two files, and
 * only in the build with libslirp (not under VMM_NO_USER_NET).
 */
#ifndef VIRTIO_NET_NET_SLIRP_INTERNAL_H
#define VIRTIO_NET_NET_SLIRP_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include <slirp/libslirp.h>

#include "virtio/net/net_slirp.h"

/* The libslirp functions we call, resolved once by slirp_lib_load(). */
struct net_slirp_lib {
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
};
extern struct net_slirp_lib slirp_lib;

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

static inline struct net_slirp *to_ns(struct net_backend *be)
{
	return be->priv;
}

static inline void count(struct net_slirp *ns, uint64_t *counter)
{
	pthread_mutex_lock(&ns->stats_lock);
	(*counter)++;
	pthread_mutex_unlock(&ns->stats_lock);
}

static inline void eventfd_set(int fd, uint64_t value)
{
	/* fails only with EAGAIN when already at that count: nothing to do then */
	if (write(fd, &value, sizeof(value)) < 0)
		return;
}

static inline void eventfd_clear(int fd)
{
	uint64_t value;

	if (read(fd, &value, sizeof(value)) < 0)
		return; /* EAGAIN: it was clear */
}

/* The event loop's side (net_slirp_loop.c). */
extern const SlirpCb net_slirp_callbacks;
/* The loop's hooks: before each wait, which sockets slirp waits on; after it, slirp's poll. */
void net_slirp_prepare(void *opaque, int *timeout_ms);
void net_slirp_check(void *opaque);
/* tx_kick_fd's handler: hands the frames the device queued to slirp. */
void net_slirp_on_tx_kick(int fd, uint32_t events, void *opaque);
/* Removes every socket slirp had the loop watch. */
void net_slirp_unwatch_all(struct net_slirp *ns);

#endif
