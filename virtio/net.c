// SPDX-License-Identifier: MIT
/*
 * virtio-net: move Ethernet frames between the guest's rings and a back end
 * (VIRTIO 1.2 section 5.1.6). Every frame on either ring starts with a 12-byte
 * struct virtio_net_hdr_v1; a back end with vnet_hdr_len 0 gets and gives bare frames,
 * and then no offload is offered, so the header the guest writes must be all plain.
 */
#include "virtio/net.h"
#include "virtio/net_vhost.h"
#include "virtio/iov.h"
#include "vmm/seccomp.h"

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <linux/virtio_ids.h>

#define NET_TX_BUDGET 256 /* chains per pass before the other queue gets a look-in */
#define NET_RX_BUDGET 64  /* frames per pass */

/* What the guest may accept for frames towards it; set_offloads() hears about these. */
#define NET_GUEST_OFFLOADS                                                                         \
	((1ull << VIRTIO_NET_F_GUEST_CSUM) | (1ull << VIRTIO_NET_F_GUEST_TSO4) |                   \
	 (1ull << VIRTIO_NET_F_GUEST_TSO6) | (1ull << VIRTIO_NET_F_GUEST_ECN) |                    \
	 (1ull << VIRTIO_NET_F_GUEST_UFO))
#define NET_GUEST_GSO (NET_GUEST_OFFLOADS & ~(1ull << VIRTIO_NET_F_GUEST_CSUM))
#define NET_OFFLOADS                                                                               \
	(NET_GUEST_OFFLOADS | (1ull << VIRTIO_NET_F_CSUM) | (1ull << VIRTIO_NET_F_HOST_TSO4) |     \
	 (1ull << VIRTIO_NET_F_HOST_TSO6) | (1ull << VIRTIO_NET_F_HOST_ECN) |                      \
	 (1ull << VIRTIO_NET_F_HOST_UFO))

static struct net *to_net(struct virtio_device *vdev)
{
	return vdev->priv;
}

static void count(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------------------------ */
/* Back end trouble */

static void pair_broken(struct net_pair *p, unsigned int q, int why)
{
	p->broken = true;
	virtio_queue_fault(&p->net->vdev, q, why);
}

/*
 * These say the back end itself is gone (a deleted TAP answers EBADFD). Anything else
 * may pass: a TAP whose link is down refuses frames with EIO until it is up again.
 */
static bool backend_fatal(ssize_t err)
{
	return err == -EBADFD || err == -ENODEV || err == -ENXIO || err == -EBADF ||
	       err == -ENOTCONN || err == -EPIPE || err == -ECONNRESET;
}

static void backend_gone(struct net_pair *p, ssize_t err)
{
	if (p->backend_gone)
		return;
	p->backend_gone = true;
	fprintf(stderr,
		"vmm: %s: %s went away (%s); this queue pair carries no more frames, the "
		"guest keeps running\n",
		p->net->vdev.name, p->be->name ? p->be->name : "back end", strerror((int)-err));
}

/* Whether the driver uses this pair (VQ_PAIRS_SET); a disabled one's back end is idle. */
static bool pair_active(const struct net_pair *p)
{
	return p->index < __atomic_load_n(&p->net->active_pairs, __ATOMIC_RELAXED);
}

static void backend_error(struct net_pair *p, const char *what, ssize_t err)
{
	/* a detached TAP queue answers EBADFD too; a driver sending there is only counted */
	if (!pair_active(p))
		return;
	if (backend_fatal(err)) {
		backend_gone(p, err);
		return;
	}
	if (p->error_logged)
		return;
	p->error_logged = true;
	fprintf(stderr, "vmm: %s: %s: %s failed: %s%s (further errors are only counted)\n",
		p->net->vdev.name, p->be->name ? p->be->name : "back end", what,
		strerror((int)-err), err == -EIO ? ", is the interface down?" : "");
}

/* ------------------------------------------------------------------------------------ */
/* Transmit */

/* The guest's header against what it negotiated and the frame it came with. */
static bool tx_header_ok(const struct virtio_device *vdev, const struct virtio_net_hdr_v1 *h,
			 uint32_t frame_len)
{
	uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	unsigned int need;

	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return false;
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		uint32_t start = le16toh(h->csum_start), off = le16toh(h->csum_offset);

		if (!virtio_has_feature(vdev, VIRTIO_NET_F_CSUM) || start + off + 2 > frame_len)
			return false;
	}
	if (le16toh(h->hdr_len) > frame_len)
		return false;
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return !(h->gso_type & VIRTIO_NET_HDR_GSO_ECN);
	case VIRTIO_NET_HDR_GSO_TCPV4:
		need = VIRTIO_NET_F_HOST_TSO4;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		need = VIRTIO_NET_F_HOST_TSO6;
		break;
	case VIRTIO_NET_HDR_GSO_UDP:
		need = VIRTIO_NET_F_HOST_UFO;
		break;
	default:
		return false;
	}
	if (!virtio_has_feature(vdev, need))
		return false;
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) &&
	    !virtio_has_feature(vdev, VIRTIO_NET_F_HOST_ECN))
		return false;
	/* 5.1.6.2.1: a GSO frame asks for checksum offload and says its segment size */
	return (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && le16toh(h->gso_size) != 0;
}

/* One chain in p->chain: 0 when it is done with (sent or dropped), -EAGAIN to retry. */
static int tx_one(struct net_pair *p)
{
	struct virtq_chain *c = &p->chain;
	struct net_backend *be = p->be;
	uint32_t frame_len;
	unsigned int n = 0;
	ssize_t r;
	int k;

	if (c->readable_bytes < NET_HDR_LEN) {
		count(&p->stats.tx_bad_header, 1);
		return 0;
	}
	frame_len = c->readable_bytes - NET_HDR_LEN;
	if (frame_len > NET_MAX_FRAME) {
		count(&p->stats.tx_oversized, 1);
		return 0;
	}
	/* checked once, in our copy: the guest may rewrite its own while we send */
	if (iov_to_buf(c->iov, c->nreadable, 0, &p->tx_hdr, NET_HDR_LEN) < 0 ||
	    frame_len < NET_MIN_FRAME || !tx_header_ok(&p->net->vdev, &p->tx_hdr, frame_len)) {
		count(&p->stats.tx_bad_header, 1);
		return 0;
	}
	if (p->backend_gone) {
		count(&p->stats.tx_errors, 1);
		return 0;
	}
	p->tx_hdr.num_buffers = 0;
	if (be->vnet_hdr_len) {
		p->io_iov[0].iov_base = &p->tx_hdr;
		p->io_iov[0].iov_len = NET_HDR_LEN;
		n = 1;
	}
	/* io_iov holds a whole chain and the header: this fails only if that changes */
	k = iov_slice(c->iov, c->nreadable, NET_HDR_LEN, frame_len, p->io_iov + n,
		      NET_RX_IOV + 1 - n);
	if (k < 0) {
		count(&p->stats.tx_errors, 1);
		return 0;
	}
	n += (unsigned int)k;
	r = be->ops->send(be, p->io_iov, (int)n);
	if (r == -EAGAIN && be->tx_fd >= 0)
		return -EAGAIN;
	if (r < 0) {
		backend_error(p, "send", r);
		count(&p->stats.tx_errors, 1);
		return 0;
	}
	count(&p->stats.tx_frames, 1);
	count(&p->stats.tx_bytes, frame_len);
	return 0;
}

/* Drain the transmit ring. Returns true when the budget ran out with work left. */
static bool tx_process(struct net_pair *p)
{
	struct virtio_device *vdev = &p->net->vdev;
	unsigned int q = 2 * p->index + 1;
	struct virtq *vq = &vdev->queues[q];
	unsigned int budget = NET_TX_BUDGET;
	bool pushed = false, more = false;
	int r = 0;

	virtq_set_notify(vq, false);
	while (budget && (r = virtq_pop_or_rearm(vq, &p->chain)) > 0) {
		if (tx_one(p) == -EAGAIN) {
			/* notifications stay off: tx_fd brings us back */
			virtq_unpop(vq, 1);
			p->tx_wait_backend = true;
			goto out;
		}
		virtq_push(vq, p->chain.head, 0);
		pushed = true;
		budget--;
	}
	if (!budget)
		more = true;
	else if (r < 0)
		pair_broken(p, q, r);
out:
	if (pushed && virtq_needs_interrupt(vq))
		virtio_notify_queue(vdev, q);
	return more;
}

/* ------------------------------------------------------------------------------------ */
/* Receive */

/* Room one frame may need: with guest GSO a 64 KiB frame, else a plain Ethernet one. */
static uint32_t rx_room_needed(const struct virtio_device *vdev)
{
	bool gso = vdev->driver_features & NET_GUEST_GSO;

	return NET_HDR_LEN + (gso ? NET_MAX_FRAME : NET_SMALL_FRAME);
}

/*
 * Hold enough posted buffers for the largest frame the guest may get (mergeable
 * buffers), or one chain. Returns 1 when ready, 0 when the ring ran dry (notifications
 * are on again: wait for a kick), or a negative errno when the ring is broken.
 */
static int rx_fill(struct net_pair *p, struct virtq *vq, bool mergeable, bool *pushed)
{
	uint32_t need = rx_room_needed(&p->net->vdev);

	while (mergeable ? p->rx_held_bytes < need : p->rx_nbufs == 0) {
		struct virtq_chain *c = &p->chain;
		struct net_rx_buf *b;
		int r;

		if (p->rx_nbufs == NET_RX_IOV)
			return 1;
		r = virtq_pop_or_rearm(vq, c);
		if (r <= 0)
			return r;
		/* 5.1.6.3.1: every buffer holds at least a header, and is device-writable */
		if (c->nreadable || c->writable_bytes < NET_HDR_LEN) {
			count(&p->stats.rx_bad_buffers, 1);
			virtq_push(vq, c->head, 0);
			*pushed = true;
			continue;
		}
		if (p->rx_iov_used + c->nwritable > NET_RX_IOV) {
			virtq_unpop(vq, 1); /* as many as we can hold: use them */
			return 1;
		}
		b = &p->rx_bufs[p->rx_nbufs++];
		b->head = c->head;
		b->iov_first = p->rx_iov_used;
		b->iovcnt = c->nwritable;
		b->bytes = c->writable_bytes;
		memcpy(&p->rx_iov[p->rx_iov_used], virtq_chain_writable(c),
		       sizeof(struct iovec) * c->nwritable);
		p->rx_iov_used += c->nwritable;
		p->rx_held_bytes += c->writable_bytes;
	}
	return 1;
}

/* Forget the first k held buffers (pushed), keeping the others in order. */
static void rx_drop_front(struct net_pair *p, unsigned int k)
{
	unsigned int iovs = 0;
	uint64_t bytes = 0;

	for (unsigned int i = 0; i < k; i++) {
		iovs += p->rx_bufs[i].iovcnt;
		bytes += p->rx_bufs[i].bytes;
	}
	memmove(p->rx_bufs, p->rx_bufs + k, sizeof(p->rx_bufs[0]) * (p->rx_nbufs - k));
	p->rx_nbufs -= k;
	for (unsigned int i = 0; i < p->rx_nbufs; i++)
		p->rx_bufs[i].iov_first -= iovs;
	memmove(p->rx_iov, p->rx_iov + iovs, sizeof(p->rx_iov[0]) * (p->rx_iov_used - iovs));
	p->rx_iov_used -= iovs;
	p->rx_held_bytes -= bytes;
}

/*
 * A frame of total bytes (header included) landed in the held buffers: hand them over.
 * -EMSGSIZE when the first buffer cannot hold the header (5.1.6.3.1 says it must).
 */
static int rx_deliver(struct net_pair *p, struct virtq *vq, uint32_t total)
{
	struct virtio_device *vdev = &p->net->vdev;
	struct virtio_net_hdr_v1 h;
	uint32_t left = total;
	unsigned int k = 0;

	while (left && k < p->rx_nbufs) {
		uint32_t n = p->rx_bufs[k].bytes < left ? p->rx_bufs[k].bytes : left;

		left -= n;
		k++;
	}
	if (p->be->vnet_hdr_len) {
		if (iov_to_buf(p->rx_iov, p->rx_bufs[0].iovcnt, 0, &h, sizeof(h)) < 0)
			return -EMSGSIZE;
		/* the guest gets only what it accepted: DATA_VALID means nothing without it */
		if (!virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_CSUM))
			h.flags = 0;
	} else {
		memset(&h, 0, sizeof(h));
	}
	h.num_buffers = htole16((uint16_t)k);
	if (iov_from_buf(p->rx_iov, p->rx_bufs[0].iovcnt, 0, &h, sizeof(h)) < 0)
		return -EMSGSIZE;

	left = total;
	for (unsigned int i = 0; i < k; i++) {
		uint32_t n = p->rx_bufs[i].bytes < left ? p->rx_bufs[i].bytes : left;

		virtq_push(vq, p->rx_bufs[i].head, n);
		left -= n;
	}
	rx_drop_front(p, k);
	count(&p->stats.rx_frames, 1);
	count(&p->stats.rx_bytes, total - NET_HDR_LEN);
	return 0;
}

/* Move frames from the back end into posted buffers. True when the budget ran out. */
static bool rx_process(struct net_pair *p)
{
	struct virtio_device *vdev = &p->net->vdev;
	unsigned int q = 2 * p->index;
	struct virtq *vq = &vdev->queues[q];
	bool mergeable = virtio_has_feature(vdev, VIRTIO_NET_F_MRG_RXBUF);
	struct net_backend *be = p->be;
	unsigned int budget = NET_RX_BUDGET;
	bool pushed = false, more = false;

	virtq_set_notify(vq, false);
	while (!p->backend_gone) {
		unsigned int bufs = mergeable ? p->rx_nbufs : 1, iovs;
		size_t skip = be->vnet_hdr_len ? 0 : NET_HDR_LEN;
		ssize_t got;
		int r;

		if (!budget) {
			more = true;
			break;
		}
		r = rx_fill(p, vq, mergeable, &pushed);
		if (r < 0) {
			pair_broken(p, q, r);
			break;
		}
		if (r == 0) {
			p->rx_wait_kick = true;
			break;
		}
		/*
		 * Room for a header but not for a frame (a small chain without MRG_RXBUF, or
		 * chains whose segments fill NET_RX_IOV): hand the first back empty, as a bad
		 * buffer. Held, it would swallow every frame as a runt, and a back end without
		 * vnet header would be asked to read into nothing, which a TAP answers with 0
		 * without taking the frame: the thread would spin until the guest reset.
		 */
		if ((mergeable ? p->rx_held_bytes : p->rx_bufs[0].bytes) <
		    NET_HDR_LEN + NET_MIN_FRAME) {
			count(&p->stats.rx_bad_buffers, 1);
			virtq_push(vq, p->rx_bufs[0].head, 0);
			rx_drop_front(p, 1);
			pushed = true;
			budget--;
			continue;
		}
		bufs = mergeable ? p->rx_nbufs : 1;
		iovs = p->rx_bufs[bufs - 1].iov_first + p->rx_bufs[bufs - 1].iovcnt;
		r = iov_slice(p->rx_iov, iovs, skip, iov_size(p->rx_iov, iovs) - skip, p->io_iov,
			      NET_RX_IOV);
		if (r < 0) {
			pair_broken(p, q, r);
			break;
		}
		got = be->ops->recv(be, p->io_iov, r);
		if (got == -EAGAIN) {
			p->rx_wait_backend = true;
			break;
		}
		if (got < 0) {
			count(&p->stats.rx_errors, 1);
			backend_error(p, "receive", got);
			break;
		}
		/* a runt or a header without a frame: the buffers stay ours for the next one */
		if ((size_t)got + skip < NET_HDR_LEN + NET_MIN_FRAME) {
			count(&p->stats.rx_errors, 1);
			budget--;
			continue;
		}
		r = rx_deliver(p, vq, (uint32_t)((size_t)got + skip));
		if (r < 0) {
			pair_broken(p, q, r);
			break;
		}
		pushed = true;
		budget--;
	}
	if (pushed && virtq_needs_interrupt(vq))
		virtio_notify_queue(vdev, q);
	return more;
}

/* ------------------------------------------------------------------------------------ */
/* Control queue (pair 0's thread) */

static void wake(struct net_pair *p)
{
	if (eventfd_write(p->wake_fd, 1) < 0) {
		/* cannot overflow from single increments */
	}
}

/* Every pair's thread looks again: which pairs are in use changed. */
static void wake_pairs(struct net *n)
{
	for (unsigned int i = 1; i < n->npairs; i++)
		if (n->pairs[i].running)
			wake(&n->pairs[i]);
}

/* Tell the back ends which pairs the driver uses: frames go to the first `pairs` only. */
static void set_pairs_enabled(struct net *n, unsigned int pairs)
{
	for (unsigned int i = 1; i < n->npairs; i++) {
		struct net_backend *be = n->pairs[i].be;
		int r;

		if (!be->ops->set_enabled)
			continue;
		r = be->ops->set_enabled(be, i < pairs);
		if (r)
			fprintf(stderr, "vmm: %s: %s: cannot %s queue pair %u: %s\n", n->vdev.name,
				be->name, i < pairs ? "enable" : "disable", i, strerror(-r));
	}
}

static void ctrl_process(struct net *n, struct net_pair *p0)
{
	struct virtio_device *vdev = &n->vdev;
	unsigned int q = 2 * n->npairs;
	struct virtq *vq = &vdev->queues[q];
	struct virtq_chain *c = &p0->chain;
	bool pushed = false;
	int r;

	virtq_set_notify(vq, false);
	while ((r = virtq_pop_or_rearm(vq, c)) > 0) {
		uint8_t cmd[4] = { 0 }, ack = VIRTIO_NET_ERR;
		struct iovec *w = virtq_chain_writable(c);

		if (c->writable_bytes == 0) {
			pair_broken(p0, q, -EINVAL); /* nowhere to put the answer */
			goto out;
		}
		count(&n->ctrl_commands, 1);
		if (iov_to_buf(c->iov, c->nreadable, 0, cmd, sizeof(cmd)) == 0 &&
		    cmd[0] == VIRTIO_NET_CTRL_MQ && cmd[1] == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET &&
		    virtio_has_feature(vdev, VIRTIO_NET_F_MQ)) {
			unsigned int pairs = cmd[2] | (unsigned int)cmd[3] << 8;

			if (pairs >= 1 && pairs <= n->npairs) {
				__atomic_store_n(&n->active_pairs, pairs, __ATOMIC_RELAXED);
				set_pairs_enabled(n, pairs);
				wake_pairs(n);
				ack = VIRTIO_NET_OK;
			}
		}
		/* cannot fail: writable_bytes > 0 was checked */
		iov_from_buf(w, c->nwritable, c->writable_bytes - 1, &ack, 1);
		virtq_push(vq, c->head, 1);
		pushed = true;
	}
	if (r < 0)
		pair_broken(p0, q, r);
out:
	if (pushed && virtq_needs_interrupt(vq))
		virtio_notify_queue(vdev, q);
}

/* ------------------------------------------------------------------------------------ */
/* The queue pair's thread */

static void drain(int fd)
{
	uint64_t v;

	while (read(fd, &v, sizeof(v)) > 0)
		;
}

static int load_fd(const int *fd)
{
	return __atomic_load_n(fd, __ATOMIC_ACQUIRE);
}

enum { W_WAKE, W_RX, W_TX, W_CTRL, W_BE_RX, W_BE_TX, W_NR };

/* Named and fenced in by the thread itself: naming another thread would open /proc. */
static void pair_thread_setup(struct net_pair *p)
{
	struct vmm_seccomp_fds fds = { 0 };
	char name[16];

	snprintf(name, sizeof(name), "net-q%u", p->index);
	pthread_setname_np(pthread_self(), name);
	net_seccomp_fds(p->net, &fds);
	/* no frames without the fence: the pair stays idle until the driver resets */
	if (virtio_thread_fence(&p->net->vdev, VMM_SECCOMP_NET, &fds, "queue pair", p->index))
		p->broken = true;
}

unsigned int net_pair_serve(struct net *n, unsigned int pair, unsigned int queues)
{
	struct net_pair *p = &n->pairs[pair];
	unsigned int more = 0;

	if (!p->broken && !p->in_kernel) {
		if ((queues & NET_SERVE_TX) && !p->tx_wait_backend && tx_process(p))
			more |= NET_SERVE_TX;
		/* frames for a pair the driver does not use wait until it does */
		if ((queues & NET_SERVE_RX) && !p->rx_wait_kick && !p->rx_wait_backend &&
		    !p->broken && pair_active(p) && rx_process(p))
			more |= NET_SERVE_RX;
		/*
		 * A send waiting for room waits for tx_fd, which a back end that went away (seen
		 * on receive) may never signal: drop what the guest queued instead, as any
		 * later send would be, so its transmit ring keeps moving.
		 */
		if (p->backend_gone && p->tx_wait_backend) {
			p->tx_wait_backend = false;
			more |= NET_SERVE_TX;
		}
	}
	if ((queues & NET_SERVE_CTRL) && pair == 0 && n->ctrl && !p->broken)
		ctrl_process(n, p);
	return more;
}

static void *pair_thread(void *arg)
{
	struct net_pair *p = arg;
	struct net *n = p->net;
	unsigned int run = NET_SERVE_RX | NET_SERVE_TX | NET_SERVE_CTRL;
	bool has_ctrl = p->index == 0 && n->ctrl;

	pair_thread_setup(p);
	for (;;) {
		struct pollfd fds[W_NR];
		int which[W_NR];
		unsigned int nfds = 0, want = run, more;
		int kick;

		if (__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE))
			break;
		/* only started queues; one that was looked at runs again if it has more */
		if (load_fd(&p->kick_fd[1]) < 0)
			want &= ~NET_SERVE_TX;
		if (load_fd(&p->kick_fd[0]) < 0)
			want &= ~NET_SERVE_RX;
		if (!has_ctrl || load_fd(&n->ctrl_kick_fd) < 0)
			want &= ~NET_SERVE_CTRL;
		more = net_pair_serve(n, p->index, want);
		run = (run & ~want) | more;

#define WATCH(id, fd_, ev)                                                                         \
	do {                                                                                       \
		fds[nfds] = (struct pollfd){ .fd = (fd_), .events = (ev) };                        \
		which[nfds++] = (id);                                                              \
	} while (0)
		WATCH(W_WAKE, p->wake_fd, POLLIN);
		if (!p->in_kernel && (kick = load_fd(&p->kick_fd[0])) >= 0)
			WATCH(W_RX, kick, POLLIN);
		if (!p->in_kernel && (kick = load_fd(&p->kick_fd[1])) >= 0)
			WATCH(W_TX, kick, POLLIN);
		if (has_ctrl && (kick = load_fd(&n->ctrl_kick_fd)) >= 0)
			WATCH(W_CTRL, kick, POLLIN);
		if (!p->in_kernel && p->rx_wait_backend && !p->backend_gone)
			WATCH(W_BE_RX, p->be->rx_fd, POLLIN);
		if (!p->in_kernel && p->tx_wait_backend && !p->backend_gone)
			WATCH(W_BE_TX, p->be->tx_fd, POLLOUT);
#undef WATCH
		if (poll(fds, nfds, more ? 0 : -1) < 0)
			continue; /* EINTR cannot happen (signals blocked); nothing else is ours */
		for (unsigned int i = 0; i < nfds; i++) {
			if (!fds[i].revents)
				continue;
			switch (which[i]) {
			case W_WAKE:
				drain(fds[i].fd);
				run = NET_SERVE_RX | NET_SERVE_TX | NET_SERVE_CTRL;
				break;
			case W_RX:
				drain(fds[i].fd);
				count(&p->stats.rx_kicks, 1);
				p->rx_wait_kick = false;
				run |= NET_SERVE_RX;
				break;
			case W_TX:
				drain(fds[i].fd);
				count(&p->stats.tx_kicks, 1);
				run |= NET_SERVE_TX;
				break;
			case W_CTRL:
				drain(fds[i].fd);
				run |= NET_SERVE_CTRL;
				break;
			case W_BE_RX:
				p->rx_wait_backend = false;
				run |= NET_SERVE_RX;
				break;
			case W_BE_TX:
				p->tx_wait_backend = false;
				run |= NET_SERVE_TX;
				break;
			}
		}
		/* a TAP that vanished polls as an error: recv reports it and we stop asking */
	}
	return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Start and reset */

static int start_thread(struct net_pair *p)
{
	sigset_t all, old;
	int r;

	drain(p->wake_fd);
	p->stop = false;
	p->rx_wait_kick = p->rx_wait_backend = p->tx_wait_backend = false;
	p->broken = false;
	p->rx_nbufs = 0;
	p->rx_held_bytes = 0;
	p->rx_iov_used = 0;
	/* the thread takes no signals: vCPU kicks and SIGINT/SIGTERM are for others */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&p->thread, NULL, pair_thread, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		return r;
	p->running = true;
	return 0;
}

static int net_queue_start(struct virtio_device *vdev, unsigned int q, int kick_fd)
{
	struct net *n = to_net(vdev);
	struct net_pair *p;
	unsigned int dir;
	bool first;
	int r = 0;

	if (q >= vdev->num_queues || !vdev->queues[q].enabled)
		return -EINVAL;
	pthread_mutex_lock(&n->lock);
	if (n->ctrl && q == 2 * n->npairs) {
		p = &n->pairs[0];
		__atomic_store_n(&n->ctrl_kick_fd, kick_fd, __ATOMIC_RELEASE);
		n->ctrl_started = true;
		if (p->running)
			wake(p);
		else
			r = start_thread(p);
		goto out;
	}
	p = &n->pairs[q / 2];
	dir = q % 2;
	if (p->started[dir]) {
		r = -EBUSY;
		goto out;
	}
	first = !p->started[0] && !p->started[1];
	if (first) {
		p->backend_gone = false;
		p->error_logged = false;
		if (p->be->ops->set_offloads) {
			r = p->be->ops->set_offloads(p->be,
						     vdev->driver_features & NET_GUEST_OFFLOADS);
			if (r)
				fprintf(stderr, "vmm: %s: %s: cannot set offloads: %s\n",
					vdev->name, p->be->name, strerror(-r));
			r = 0; /* frames still flow, with what the back end had */
		}
		/*
		 * vhost signals the guest through irqfds, which only MSI-X vectors have;
		 * without them (pci=nomsi, or no vector set) this pair runs in our thread
		 */
		p->in_kernel = p->vhost && virtio_queue_call_fd(vdev, 2 * p->index) >= 0 &&
			       virtio_queue_call_fd(vdev, 2 * p->index + 1) >= 0;
		if (p->vhost && !p->in_kernel)
			fprintf(stderr,
				"vmm: %s: queue pair %u: no MSI-X vectors for vhost-net; the VMM "
				"moves its frames\n",
				vdev->name, p->index);
		if (p->in_kernel)
			r = net_vhost_setup_pair(n, p);
		if (r)
			goto vhost_failed;
	}
	if (p->in_kernel) {
		r = net_vhost_start_queue(n, p, dir, kick_fd);
		if (r)
			goto vhost_failed;
	}
	p->started[dir] = true;
	__atomic_store_n(&p->kick_fd[dir], kick_fd, __ATOMIC_RELEASE);
	if (p->running)
		wake(p);
	else if (!p->in_kernel)
		r = start_thread(p);
out:
	pthread_mutex_unlock(&n->lock);
	return r;
vhost_failed:
	fprintf(stderr, "vmm: %s: vhost-net queue %u: %s\n", vdev->name, q, strerror(-r));
	goto out;
}

static void net_reset(struct virtio_device *vdev)
{
	struct net *n = to_net(vdev);

	pthread_mutex_lock(&n->lock);
	for (unsigned int i = 0; i < n->npairs; i++) {
		struct net_pair *p = &n->pairs[i];

		if (p->running) {
			__atomic_store_n(&p->stop, true, __ATOMIC_RELEASE);
			wake(p);
		}
	}
	for (unsigned int i = 0; i < n->npairs; i++) {
		struct net_pair *p = &n->pairs[i];

		if (p->running)
			pthread_join(p->thread, NULL);
		p->running = false;
		if (p->in_kernel)
			net_vhost_stop_pair(n, p);
		p->in_kernel = false;
		p->started[0] = p->started[1] = false;
		__atomic_store_n(&p->kick_fd[0], -1, __ATOMIC_RELEASE);
		__atomic_store_n(&p->kick_fd[1], -1, __ATOMIC_RELEASE);
	}
	n->ctrl_started = false;
	__atomic_store_n(&n->ctrl_kick_fd, -1, __ATOMIC_RELEASE);
	/* 5.1.6.5.5: after a reset only the first pair is in use until VQ_PAIRS_SET */
	n->active_pairs = 1;
	set_pairs_enabled(n, 1);
	pthread_mutex_unlock(&n->lock);
}

/* ------------------------------------------------------------------------------------ */
/* Set-up */

static const struct virtio_device_ops net_ops = {
	.queue_start = net_queue_start,
	.reset = net_reset,
};

int net_init(struct net *n, struct virtio_device **vdev_out, struct net_backend **backends,
	     unsigned int npairs, const uint8_t mac[6], const struct guest_mem *mem, char *err,
	     size_t errlen)
{
	struct virtio_device *vdev = &n->vdev;
	uint64_t offloads = NET_OFFLOADS;
	size_t bytes = sizeof(struct net_pair) * npairs;
	void *mapped;
	int r;

	if (npairs < 1 || npairs > NET_MAX_PAIRS) {
		snprintf(err, errlen, "%u queue pairs: must be 1 to %u", npairs, NET_MAX_PAIRS);
		return -EINVAL;
	}
	memset(n, 0, sizeof(*n));
	n->ctrl_kick_fd = -1;
	for (unsigned int i = 0; i < NET_MAX_PAIRS; i++)
		n->vhost_fd[i] = -1;
	/* lazily backed: the big receive arrays cost only the pages the thread touches */
	mapped = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mapped == MAP_FAILED) {
		r = -errno;
		snprintf(err, errlen, "queue pair state: %s", strerror(errno));
		return r;
	}
	n->pairs = mapped;
	n->npairs = npairs;
	pthread_mutex_init(&n->lock, NULL);
	for (unsigned int i = 0; i < npairs; i++) {
		struct net_pair *p = &n->pairs[i];

		p->net = n;
		p->index = i;
		p->be = backends[i];
		p->kick_fd[0] = p->kick_fd[1] = -1;
		p->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (p->wake_fd < 0) {
			r = -errno;
			snprintf(err, errlen, "eventfd: %s", strerror(errno));
			for (unsigned int j = 0; j < i; j++)
				close(n->pairs[j].wake_fd);
			munmap(n->pairs, bytes);
			n->pairs = NULL;
			return r;
		}
		/* one set of offloads for the device: what every back end can carry */
		offloads &= backends[i]->vnet_hdr_len ? backends[i]->offload_features : 0;
	}
	n->ctrl = npairs > 1;
	n->active_pairs = 1;
	set_pairs_enabled(n, 1);

	memcpy(n->config, mac, 6);
	n->config[6] = VIRTIO_NET_S_LINK_UP; /* status, little-endian */
	n->config[8] = (uint8_t)npairs;	     /* max_virtqueue_pairs */

	vdev->name = "virtio-net";
	vdev->device_id = VIRTIO_ID_NET;
	vdev->device_features = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS) |
				(1ull << VIRTIO_NET_F_MRG_RXBUF) | (offloads & NET_OFFLOADS);
	if (n->ctrl)
		vdev->device_features |= (1ull << VIRTIO_NET_F_CTRL_VQ) | (1ull << VIRTIO_NET_F_MQ);
	vdev->num_queues = 2 * npairs + (n->ctrl ? 1 : 0);
	vdev->queue_max_size = NET_QUEUE_SIZE;
	/* the MAC is read-only in VERSION_1 (the driver uses CTRL_MAC_ADDR, not offered) */
	vdev->config = n->config;
	vdev->config_size = NET_CONFIG_SIZE;
	vdev->mem = mem;
	vdev->ops = &net_ops;
	vdev->priv = n;
	*vdev_out = vdev;
	return 0;
}

void net_destroy(struct net *n)
{
	if (!n->pairs)
		return;
	net_reset(&n->vdev);
	for (unsigned int i = 0; i < n->npairs; i++) {
		struct net_pair *p = &n->pairs[i];

		close(p->wake_fd);
		if (n->vhost_fd[i] >= 0)
			close(n->vhost_fd[i]);
		n->vhost_fd[i] = -1;
		if (p->be)
			p->be->ops->close(p->be);
		p->be = NULL;
	}
	munmap(n->pairs, sizeof(struct net_pair) * n->npairs);
	n->pairs = NULL;
	pthread_mutex_destroy(&n->lock);
}

/* ------------------------------------------------------------------------------------ */
/* MAC addresses */

int net_random_mac(uint8_t mac[6])
{
	if (getrandom(mac, 6, 0) != 6)
		return -EIO;
	mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02); /* unicast, locally administered */
	return 0;
}

void net_format_mac(const uint8_t mac[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

void net_seccomp_fds(const struct net *n, struct vmm_seccomp_fds *fds)
{
	for (unsigned int i = 0; n->pairs && i < n->npairs; i++) {
		const struct net_backend *be = n->pairs[i].be;

		/* a TAP's queue is all three; a user-network back end names its eventfds */
		if (be && be->tap_fd >= 0) {
			vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_TAP, be->rx_fd);
			vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_TAP, be->tx_fd);
			vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_TAP, be->tap_fd);
		}
		if (be && be->ops->seccomp_fds)
			be->ops->seccomp_fds((struct net_backend *)be, fds);
		vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_VHOST, n->vhost_fd[i]);
		/* the control queue wakes the other pairs; a reset wakes them all */
		vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_EVENT, n->pairs[i].wake_fd);
	}
}
