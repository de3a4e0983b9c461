// SPDX-License-Identifier: MIT
/*
 * virtio-net's data path (virtio/net/net_internal.h): frames from the transmit ring to the
 * back end, and frames from the back end into posted receive buffers.
 */
#include "virtio/net/net_internal.h"
#include "virtio/iov.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NET_TX_BUDGET 256 /* chains per pass before the other queue gets a look-in */
#define NET_RX_BUDGET 64  /* frames per pass */

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

void net_backend_gone(struct net_pair *p, ssize_t err)
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
bool net_pair_active(const struct net_pair *p)
{
	return p->index < __atomic_load_n(&p->net->active_pairs, __ATOMIC_RELAXED);
}

static void backend_error(struct net_pair *p, const char *what, ssize_t err)
{
	/* a detached TAP queue answers EBADFD too; a driver sending there is only counted */
	if (!net_pair_active(p))
		return;
	if (backend_fatal(err)) {
		net_backend_gone(p, err);
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
bool net_tx_process(struct net_pair *p)
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
			if (p->rx_nbufs)
				p->rx_held_gap = true;
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
	if (!p->rx_nbufs)
		p->rx_held_gap = false;
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
bool net_rx_process(struct net_pair *p)
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
