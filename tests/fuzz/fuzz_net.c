/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for virtio-net header and ring handling (virtio/net/net.c over
 * virtio/virtqueue.c): the input is a driver's view of the device (negotiated features,
 * queue size, one or two queue pairs) plus an image of guest RAM holding the receive,
 * transmit and control rings and whatever they point at, and a list of frames the back
 * end has for the guest. Each input runs net_pair_serve() on the calling thread for pair
 * 0 (transmit, receive, control queue) and then pair 1: the code the pair threads run,
 * without a thread, so it is deterministic. Every input gets a fresh device (net_init,
 * net_destroy); its log lines go to /dev/null unless NET_FUZZ_VERBOSE is set. After the
 * passes, a snapshot's quiesce must leave no receive chain taken and unanswered.
 *
 * The back end is in-process. send() checks what the device hands it: the checked copy
 * of the header (never guest memory) that is valid for the negotiated features (flags,
 * gso_type against HOST_*, csum_start/csum_offset and hdr_len inside the frame, a GSO
 * frame with NEEDS_CSUM and a segment size, num_buffers 0), a frame of NET_MIN_FRAME to
 * NET_MAX_FRAME bytes, every other segment inside guest RAM. recv() checks that it is
 * given exactly the held receive buffers, inside guest RAM, with room for at least a
 * header and the smallest frame, and copies in the next frame of the input (truncated to
 * the room, as a TAP does). Guest RAM is one heap block of exactly RAM_SIZE bytes, so
 * ASan reports any access outside it.
 *
 * Input layout (little-endian):
 *   0  u8   features: bit 0 MRG_RXBUF, 1 CSUM, 2 HOST_TSO4, 3 HOST_TSO6, 4 HOST_ECN,
 *           5 HOST_UFO, 6 GUEST_CSUM, 7 GUEST_TSO4
 *   1  u8   bit 0 GUEST_TSO6, 1 GUEST_ECN, 2 GUEST_UFO, 3 EVENT_IDX, 4 INDIRECT_DESC,
 *           5 two queue pairs (and the control queue, CTRL_VQ negotiated), 6 back ends
 *           without a vnet header (then no offload is offered), 7 MQ
 *   2  u8   log2 of the queue size: bits 0-3 modulo 9 (1 to 256, the device's maximum)
 *   3  u8   back end: bits 0-1 what send() answers (0 takes the frame, 1 -EAGAIN once
 *           bits 4-7 frames were taken, 2 -EIO, 3 -EBADFD); bits 2-3 what recv() answers
 *           once the frames are used up (0 -EAGAIN, 1 -EIO, 2 -EBADFD, 3 -ENOBUFS)
 *   4  u8   number of receive frames the back end has, shared by both pairs in order;
 *           frame i is described by entry i % NFRAMES below
 *   5  u8[3] reserved
 *   8  NFRAMES * { u16 len, u16 from }: the frame is len bytes (vnet header included when
 *           the back end has one) taken from the RAM image at gpa from, wrapping at
 *           RAM_SIZE, as the input gave it (before the pass changes RAM)
 *  40  ...  guest RAM from gpa 0, zero-filled up to RAM_SIZE. The rings are packed at
 *           the bottom for the chosen queue size (ring_gpa() below): queue q (receiveq0,
 *           transmitq0, receiveq1, transmitq1, controlq) has its descriptor table at
 *           q * ring_block(size), then its available ring, then its used ring; the rest
 *           is the driver's to use.
 *
 * Checked after each input: NEEDS_RESET was asked for exactly when a pair is broken, and
 * every queue that saw a ring error belongs to a broken pair; every transmit chain taken
 * was answered in the used ring and counted once (sent, bad header, oversized or back-end
 * error), as many frames sent as the back end took; every receive chain taken was
 * answered or is still held for the next frame; each frame the back end gave was
 * delivered in as many used entries as it needed (one without MRG_RXBUF); the control
 * queue answered every command but, on a driver error, the one without room for the
 * answer; the pairs in use are 1 to npairs and the back ends heard which ones.
 *
 * Built with -DNET_FUZZ_MAKE_SEEDS (and without -fsanitize=fuzzer) this file is instead a
 * program that writes the seed corpus into the directory named on its command line.
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#define RAM_SIZE 0x10000u
#define HEADER_SIZE 40u
#define NFRAMES 8u
#define NQUEUES 5u

/* byte 0 */
#define F_MRG_RXBUF 0x01
#define F_CSUM 0x02
#define F_HOST_TSO4 0x04
#define F_HOST_TSO6 0x08
#define F_HOST_ECN 0x10
#define F_HOST_UFO 0x20
#define F_GUEST_CSUM 0x40
#define F_GUEST_TSO4 0x80
/* byte 1 */
#define F_GUEST_TSO6 0x01
#define F_GUEST_ECN 0x02
#define F_GUEST_UFO 0x04
#define F_EVENT_IDX 0x08
#define F_INDIRECT 0x10
#define F_TWO_PAIRS 0x20
#define F_NO_VNET_HDR 0x40
#define F_MQ 0x80
/* byte 3 */
#define SEND_TAKE 0
#define SEND_EAGAIN 1
#define SEND_EIO 2
#define SEND_EBADFD 3
#define RECV_EAGAIN 0
#define RECV_EIO 1
#define RECV_EBADFD 2
#define RECV_ENOBUFS 3

enum ring_part { DESC, AVAIL, USED };

/* Bytes each queue's rings take for a queue size: table, avail ring, used ring. */
static uint32_t ring_block(unsigned int size)
{
	return (16 * size + ((6 + 2 * size + 3) & ~3u) + 6 + 8 * size + 15) & ~15u;
}

static uint32_t ring_gpa(unsigned int q, unsigned int size, enum ring_part part)
{
	uint32_t desc = q * ring_block(size);

	if (part == DESC)
		return desc;
	if (part == AVAIL)
		return desc + 16 * size;
	return desc + 16 * size + ((6 + 2 * size + 3) & ~3u);
}

#ifndef NET_FUZZ_MAKE_SEEDS

#include <sys/eventfd.h>
#include <unistd.h>

#include "virtio/net/net.h"

#include "device.h"

static uint8_t *ram;
static uint8_t *pool; /* the RAM image as the input gave it: where frames come from */
static struct guest_mem mem;
static struct net net;
static FILE *quiet, *loud;
static int ready_fd;

/* This input's setup */
static uint64_t features;
static uint8_t be_mode;
static unsigned int nframes, next_frame;
static uint16_t frame_len[NFRAMES], frame_from[NFRAMES];

/* What the back ends saw during the pass, per pair */
struct fake_be {
	struct net_backend be;
	unsigned int pair;
	int enabled; /* -1: never told */
	uint64_t sent;
	uint64_t delivered;  /* frames the device must have handed to the guest */
	uint64_t rx_entries; /* used entries those frames need */
};
static struct fake_be fakes[2];

static bool in_ram(const void *base, size_t len)
{
	uintptr_t b = (uintptr_t)base, r = (uintptr_t)ram;

	return b >= r && len <= RAM_SIZE && b - r <= RAM_SIZE - len;
}

static bool has(unsigned int bit)
{
	return features & (1ull << bit);
}

static void check_tx_header(const struct virtio_net_hdr_v1 *h, size_t frame)
{
	uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	bool csum = h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;

	check((h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM) == 0);
	check(!csum || has(VIRTIO_NET_F_CSUM));
	check(!csum || (size_t)le16toh(h->csum_start) + le16toh(h->csum_offset) + 2 <= frame);
	check(le16toh(h->hdr_len) <= frame);
	check(h->num_buffers == 0);
	if (h->gso_type & VIRTIO_NET_HDR_GSO_ECN)
		check(gso != VIRTIO_NET_HDR_GSO_NONE && has(VIRTIO_NET_F_HOST_ECN));
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		check(has(VIRTIO_NET_F_HOST_TSO4));
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		check(has(VIRTIO_NET_F_HOST_TSO6));
		break;
	case VIRTIO_NET_HDR_GSO_UDP:
		check(has(VIRTIO_NET_F_HOST_UFO));
		break;
	default:
		check(false);
	}
	check(csum && le16toh(h->gso_size) != 0);
}

static ssize_t f_send(struct net_backend *be, const struct iovec *iov, int iovcnt)
{
	struct fake_be *f = be->priv;
	struct net_pair *p = &net.pairs[f->pair];
	unsigned int mode = be_mode & 3;
	size_t total = 0;
	int first = 0;

	check(iovcnt >= 1 && (unsigned int)iovcnt <= NET_RX_IOV + 1);
	if (be->vnet_hdr_len) {
		/* the checked copy goes out, not the guest's header that may change meanwhile */
		check(iov[0].iov_base == (void *)&p->tx_hdr && iov[0].iov_len == NET_HDR_LEN);
		first = 1;
	}
	for (int i = first; i < iovcnt; i++) {
		check(iov[i].iov_len > 0 && in_ram(iov[i].iov_base, iov[i].iov_len));
		total += iov[i].iov_len;
	}
	check(total >= NET_MIN_FRAME && total <= NET_MAX_FRAME);
	if (be->vnet_hdr_len)
		check_tx_header(iov[0].iov_base, total);
	/* reading every byte: ASan checks the segments once more */
	for (int i = first; i < iovcnt; i++) {
		volatile const uint8_t *b = iov[i].iov_base;

		(void)b[0];
		(void)b[iov[i].iov_len - 1];
	}
	if (mode == SEND_EAGAIN && f->sent >= (unsigned int)(be_mode >> 4))
		return -EAGAIN;
	if (mode == SEND_EIO)
		return -EIO;
	if (mode == SEND_EBADFD)
		return -EBADFD;
	f->sent++;
	return (ssize_t)(total + (be->vnet_hdr_len ? NET_HDR_LEN : 0));
}

static ssize_t f_recv(struct net_backend *be, const struct iovec *iov, int iovcnt)
{
	static const int end[4] = { -EAGAIN, -EIO, -EBADFD, -ENOBUFS };
	struct fake_be *f = be->priv;
	struct net_pair *p = &net.pairs[f->pair];
	bool mergeable = has(VIRTIO_NET_F_MRG_RXBUF);
	size_t skip = be->vnet_hdr_len ? 0 : NET_HDR_LEN, room = 0, want = 0, got, total;
	unsigned int bufs = mergeable ? p->rx_nbufs : 1, k;

	/* exactly the held buffers (the first one without MRG_RXBUF), header skipped if bare */
	check(p->rx_nbufs >= 1 && iovcnt >= 1 && (unsigned int)iovcnt <= NET_RX_IOV);
	for (unsigned int i = 0; i < bufs; i++)
		want += p->rx_bufs[i].bytes;
	for (int i = 0; i < iovcnt; i++) {
		check(in_ram(iov[i].iov_base, iov[i].iov_len));
		room += iov[i].iov_len;
	}
	/* and never less than a header and the smallest frame: that buffer goes back empty */
	check(want >= NET_HDR_LEN + NET_MIN_FRAME && room == want - skip);
	if (next_frame == nframes)
		return end[(be_mode >> 2) & 3];

	got = frame_len[next_frame % NFRAMES] < room ? frame_len[next_frame % NFRAMES] : room;
	for (size_t done = 0, i = 0; done < got; i++) {
		size_t n = iov[i].iov_len < got - done ? iov[i].iov_len : got - done;

		for (size_t j = 0; j < n; j++)
			((uint8_t *)iov[i].iov_base)[j] =
				pool[(frame_from[next_frame % NFRAMES] + done + j) % RAM_SIZE];
		done += n;
	}
	next_frame++;
	total = got + skip;
	if (total >= NET_HDR_LEN + NET_MIN_FRAME) {
		/* as many held buffers as the frame fills, in order */
		size_t left = total;

		for (k = 0; left && k < bufs; k++)
			left -= p->rx_bufs[k].bytes < left ? p->rx_bufs[k].bytes : left;
		check(left == 0 && k >= 1);
		f->delivered++;
		f->rx_entries += k;
	}
	return (ssize_t)got;
}

static int f_set_enabled(struct net_backend *be, bool enabled)
{
	((struct fake_be *)be->priv)->enabled = enabled;
	return 0;
}

static void f_close(struct net_backend *be)
{
	(void)be; /* static */
}

static const struct net_backend_ops fake_ops = {
	.send = f_send,
	.recv = f_recv,
	.set_enabled = f_set_enabled,
	.close = f_close,
};

static void setup(void)
{
	ram = fuzz_guest_ram(&mem, RAM_SIZE);
	pool = malloc(RAM_SIZE);
	check(pool != NULL);
	/* a descriptor to stand for the back end's rx_fd and tx_fd; nothing polls it */
	ready_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	check(ready_fd >= 0);
	/* the device's log lines are not what is tested: NET_FUZZ_VERBOSE=1 shows them */
	loud = stderr;
	quiet = getenv("NET_FUZZ_VERBOSE") ? stderr : fopen("/dev/null", "w");
	check(quiet != NULL);
}

static void setup_queue(struct virtio_device *vdev, unsigned int q, unsigned int size)
{
	struct virtq *vq = &vdev->queues[q];

	virtq_reset(vq);
	vq->size = size;
	vq->desc_gpa = ring_gpa(q, size, DESC);
	vq->avail_gpa = ring_gpa(q, size, AVAIL);
	vq->used_gpa = ring_gpa(q, size, USED);
	vq->event_idx = has(VIRTIO_RING_F_EVENT_IDX);
	vq->indirect_desc = has(VIRTIO_RING_F_INDIRECT_DESC);
	check(virtq_enable(vq, &mem) == 0);
}

static uint64_t want_features(const uint8_t *d)
{
	static const struct {
		unsigned int byte;
		uint8_t mask;
		unsigned int bit;
	} map[] = {
		{ 0, F_MRG_RXBUF, VIRTIO_NET_F_MRG_RXBUF },
		{ 0, F_CSUM, VIRTIO_NET_F_CSUM },
		{ 0, F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO4 },
		{ 0, F_HOST_TSO6, VIRTIO_NET_F_HOST_TSO6 },
		{ 0, F_HOST_ECN, VIRTIO_NET_F_HOST_ECN },
		{ 0, F_HOST_UFO, VIRTIO_NET_F_HOST_UFO },
		{ 0, F_GUEST_CSUM, VIRTIO_NET_F_GUEST_CSUM },
		{ 0, F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO4 },
		{ 1, F_GUEST_TSO6, VIRTIO_NET_F_GUEST_TSO6 },
		{ 1, F_GUEST_ECN, VIRTIO_NET_F_GUEST_ECN },
		{ 1, F_GUEST_UFO, VIRTIO_NET_F_GUEST_UFO },
		{ 1, F_EVENT_IDX, VIRTIO_RING_F_EVENT_IDX },
		{ 1, F_INDIRECT, VIRTIO_RING_F_INDIRECT_DESC },
		{ 1, F_TWO_PAIRS, VIRTIO_NET_F_CTRL_VQ },
		{ 1, F_MQ, VIRTIO_NET_F_MQ },
	};
	uint64_t f = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MAC) |
		     (1ull << VIRTIO_NET_F_STATUS);

	for (unsigned int i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (d[map[i].byte] & map[i].mask)
			f |= 1ull << map[i].bit;
	return f;
}

/* The invariants after the pass; see the top of the file. */
static void check_after(struct virtio_device *vdev, unsigned int npairs)
{
	bool any_broken = false;

	for (unsigned int i = 0; i < npairs; i++) {
		struct net_pair *p = &net.pairs[i];
		struct virtq *rx = &vdev->queues[2 * i], *tx = &vdev->queues[2 * i + 1];
		const struct net_stats *s = &p->stats;
		uint64_t held = 0;
		unsigned int iovs = 0;

		any_broken |= p->broken;
		check(!rx->error || p->broken);
		check(!tx->error || p->broken);

		check(tx->last_avail_idx == tx->used_idx);
		check(tx->used_idx ==
		      s->tx_frames + s->tx_bad_header + s->tx_oversized + s->tx_errors);
		check(s->tx_frames == fakes[i].sent);

		check((uint16_t)(rx->last_avail_idx - rx->used_idx) == p->rx_nbufs);
		check(rx->used_idx == s->rx_bad_buffers + fakes[i].rx_entries);
		check(s->rx_frames == fakes[i].delivered);
		for (unsigned int b = 0; b < p->rx_nbufs; b++) {
			check(p->rx_bufs[b].iov_first == iovs &&
			      p->rx_bufs[b].bytes >= NET_HDR_LEN);
			held += p->rx_bufs[b].bytes;
			iovs += p->rx_bufs[b].iovcnt;
		}
		check(held == p->rx_held_bytes && iovs == p->rx_iov_used);
		check(p->rx_nbufs <= 1 || has(VIRTIO_NET_F_MRG_RXBUF));
		if (i > 0)
			check(fakes[i].enabled == (i < net.active_pairs));
	}
	if (net.ctrl) {
		struct virtq *cq = &vdev->queues[2 * npairs];
		uint16_t open = (uint16_t)(cq->last_avail_idx - cq->used_idx);

		check(!cq->error || net.pairs[0].broken);
		check(open == 0 || (open == 1 && net.pairs[0].broken));
		check(cq->used_idx == net.ctrl_commands);
		check(net.active_pairs == 1 || has(VIRTIO_NET_F_MQ));
	}
	check(net.active_pairs >= 1 && net.active_pairs <= npairs);
	check(any_broken == (needs_reset > 0));
}

/*
 * A snapshot's quiesce after the pass: every receive chain a pair held goes back, so on
 * a pair the driver did not break every chain taken off a ring is answered (or was never
 * taken), and the driver's multiqueue choice stays.
 */
static void check_quiesce(struct virtio_device *vdev, unsigned int npairs)
{
	unsigned int active = net.active_pairs;

	stderr = quiet;
	vdev->ops->quiesce(vdev);
	stderr = loud;
	for (unsigned int i = 0; i < npairs; i++) {
		const struct net_pair *p = &net.pairs[i];
		const struct virtq *rx = &vdev->queues[2 * i];

		if (p->broken)
			continue;
		check(p->rx_nbufs == 0 && p->rx_held_bytes == 0 && p->rx_iov_used == 0);
		check(rx->last_avail_idx == rx->used_idx);
	}
	check(net.active_pairs == active);
}

/* NET_FUZZ_VERBOSE: what the pass did, for replaying one input by hand. */
static void report(unsigned int npairs)
{
	for (unsigned int i = 0; i < npairs; i++) {
		const struct net_stats *s = &net.pairs[i].stats;

		fprintf(stderr,
			"fuzz_net: pair %u: tx %llu sent, %llu bad header, %llu oversized, %llu "
			"errors; rx %llu frames, %llu bad buffers, %llu errors, %u held%s\n",
			i, (unsigned long long)s->tx_frames, (unsigned long long)s->tx_bad_header,
			(unsigned long long)s->tx_oversized, (unsigned long long)s->tx_errors,
			(unsigned long long)s->rx_frames, (unsigned long long)s->rx_bad_buffers,
			(unsigned long long)s->rx_errors, net.pairs[i].rx_nbufs,
			net.pairs[i].broken ? ", broken" : "");
	}
	if (net.ctrl)
		fprintf(stderr, "fuzz_net: %llu control commands, %u pairs in use\n",
			(unsigned long long)net.ctrl_commands, net.active_pairs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 1 };
	struct net_backend *bes[2] = { &fakes[0].be, &fakes[1].be };
	struct virtio_device *vdev;
	unsigned int npairs, qsize;
	char err[256];

	if (size < HEADER_SIZE)
		return 0;
	if (!ram)
		setup();
	memset(ram, 0, RAM_SIZE);
	memcpy(ram, data + HEADER_SIZE,
	       size - HEADER_SIZE < RAM_SIZE ? size - HEADER_SIZE : RAM_SIZE);
	memcpy(pool, ram, RAM_SIZE);

	npairs = data[1] & F_TWO_PAIRS ? 2 : 1;
	for (unsigned int i = 0; i < 2; i++) {
		fakes[i] = (struct fake_be){
			.be = { .ops = &fake_ops,
				.name = "fake",
				.rx_fd = ready_fd,
				.tx_fd = ready_fd,
				.tap_fd = -1,
				.vnet_hdr_len = data[1] & F_NO_VNET_HDR ? 0 : NET_HDR_LEN,
				.offload_features = ~0ull },
			.pair = i,
			.enabled = -1,
		};
		fakes[i].be.priv = &fakes[i];
	}
	be_mode = data[3];
	nframes = data[4];
	next_frame = 0;
	for (unsigned int i = 0; i < NFRAMES; i++) {
		frame_len[i] = (uint16_t)(data[8 + 4 * i] | data[9 + 4 * i] << 8);
		frame_from[i] = (uint16_t)(data[10 + 4 * i] | data[11 + 4 * i] << 8);
	}

	stderr = quiet;
	check(net_init(&net, &vdev, bes, npairs, mac, &mem, err, sizeof(err)) == 0);
	vdev->transport = &fuzz_transport;
	/* what the driver accepted: only offered bits, as the transport would allow */
	features = want_features(data) &
		   (vdev->device_features | (1ull << VIRTIO_F_VERSION_1) |
		    (1ull << VIRTIO_RING_F_INDIRECT_DESC) | (1ull << VIRTIO_RING_F_EVENT_IDX));
	vdev->driver_features = features;
	qsize = 1u << ((data[2] & 15) % 9);
	for (unsigned int q = 0; q < vdev->num_queues; q++)
		setup_queue(vdev, q, qsize);

	needs_reset = 0;
	net_pair_serve(&net, 0, NET_SERVE_RX | NET_SERVE_TX | NET_SERVE_CTRL);
	if (npairs > 1)
		net_pair_serve(&net, 1, NET_SERVE_RX | NET_SERVE_TX);
	stderr = loud;

	if (quiet == loud)
		report(npairs);
	check_after(vdev, npairs);
	check_quiesce(vdev, npairs);
	stderr = quiet;
	net_destroy(&net);
	stderr = loud;
	return 0;
}

#else /* NET_FUZZ_MAKE_SEEDS: write the seed corpus */

#define HDR_LEN 12u
#define DATA 0x2000u	     /* where the seeds put buffers and frames (queues up to 32) */
#define POOL (DATA + 0x1000) /* where receive frames come from */

/* A seed being built: header plus as much of guest RAM as it uses. */
struct seed {
	uint8_t buf[HEADER_SIZE + RAM_SIZE];
	size_t len;
	unsigned int qsize;
	uint16_t avail_idx[NQUEUES], next_desc[NQUEUES];
};

static void put(struct seed *s, uint32_t gpa, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		s->buf[HEADER_SIZE + gpa + i] = (uint8_t)(v >> 8 * i);
	if (HEADER_SIZE + gpa + n > s->len)
		s->len = HEADER_SIZE + gpa + n;
}

static void seed_init(struct seed *s, uint8_t f0, uint8_t f1, unsigned int log2size,
		      uint8_t be_mode)
{
	memset(s, 0, sizeof(*s));
	s->buf[0] = f0;
	s->buf[1] = f1;
	s->buf[2] = (uint8_t)log2size;
	s->buf[3] = be_mode;
	s->qsize = 1u << log2size;
	s->len = HEADER_SIZE;
}

/* The back end's next receive frame: len bytes from gpa. */
static void frame(struct seed *s, uint16_t len, uint16_t from)
{
	unsigned int i = s->buf[4]++;

	s->buf[8 + 4 * i] = (uint8_t)len;
	s->buf[9 + 4 * i] = (uint8_t)(len >> 8);
	s->buf[10 + 4 * i] = (uint8_t)from;
	s->buf[11 + 4 * i] = (uint8_t)(from >> 8);
}

static void desc_at(struct seed *s, uint32_t table, unsigned int i, uint32_t addr, uint32_t len,
		    uint16_t flags, uint16_t next)
{
	uint32_t d = table + 16 * i;

	put(s, d, addr, 8);
	put(s, d + 8, len, 4);
	put(s, d + 12, flags, 2);
	put(s, d + 14, next, 2);
}

struct seg {
	uint32_t addr, len;
	bool write;
};

/* Put a chain of n segments in queue q's descriptor table and make it available. */
static void chain(struct seed *s, unsigned int q, const struct seg *g, unsigned int n)
{
	uint16_t head = s->next_desc[q];

	for (unsigned int i = 0; i < n; i++) {
		uint16_t at = (uint16_t)((head + i) % s->qsize);
		uint16_t f =
			(g[i].write ? VRING_DESC_F_WRITE : 0) | (i + 1 < n ? VRING_DESC_F_NEXT : 0);

		desc_at(s, ring_gpa(q, s->qsize, DESC), at, g[i].addr, g[i].len, f,
			(uint16_t)((at + 1) % s->qsize));
	}
	s->next_desc[q] = (uint16_t)((head + n) % s->qsize);
	put(s, ring_gpa(q, s->qsize, AVAIL) + 4 + 2 * (s->avail_idx[q] % s->qsize), head, 2);
	s->avail_idx[q]++;
	put(s, ring_gpa(q, s->qsize, AVAIL) + 2, s->avail_idx[q], 2);
}

/* A virtio_net_hdr_v1 at gpa. */
static void net_hdr(struct seed *s, uint32_t gpa, uint8_t flags, uint8_t gso, uint16_t hdr_len,
		    uint16_t gso_size, uint16_t csum_start, uint16_t csum_offset)
{
	put(s, gpa, flags, 1);
	put(s, gpa + 1, gso, 1);
	put(s, gpa + 2, hdr_len, 2);
	put(s, gpa + 4, gso_size, 2);
	put(s, gpa + 6, csum_start, 2);
	put(s, gpa + 8, csum_offset, 2);
	put(s, gpa + 10, 0, 2);
}

/* An Ethernet + IPv4 + TCP start of a frame at gpa (the device does not parse it). */
static void eth(struct seed *s, uint32_t gpa, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		put(s, gpa + i, (uint8_t)(i * 13 + 1), 1);
	put(s, gpa + 12, 0x0008, 2); /* ethertype IPv4, big-endian */
	put(s, gpa + 14, 0x45, 1);
}

/* A transmit frame of len bytes after a header at at: header and frame in one segment. */
static void tx(struct seed *s, unsigned int q, uint32_t at, uint32_t len)
{
	eth(s, at + HDR_LEN, len);
	chain(s, q, (struct seg[]){ { at, HDR_LEN + len, false } }, 1);
}

/* Make an indirect table of n entries at table available on queue q. */
static void indirect(struct seed *s, unsigned int q, uint32_t table, unsigned int n)
{
	uint16_t head = s->next_desc[q];

	desc_at(s, ring_gpa(q, s->qsize, DESC), head, table, 16 * n, VRING_DESC_F_INDIRECT, 0);
	s->next_desc[q] = (uint16_t)((head + 1) % s->qsize);
	put(s, ring_gpa(q, s->qsize, AVAIL) + 4 + 2 * (s->avail_idx[q] % s->qsize), head, 2);
	s->avail_idx[q]++;
	put(s, ring_gpa(q, s->qsize, AVAIL) + 2, s->avail_idx[q], 2);
}

#include "seed.h"

static int save(const struct seed *s, const char *dir, const char *name)
{
	return seed_save(s->buf, s->len, dir, name);
}

int main(int argc, char **argv)
{
	static struct seed s;
	int err = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}

	/* plain frames: no offload, checksum offload, a header split over two segments */
	seed_init(&s, F_CSUM, 0, 5, SEND_TAKE);
	net_hdr(&s, DATA, 0, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 0, 0);
	tx(&s, 1, DATA, 60);
	net_hdr(&s, DATA + 0x100, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 34,
		16);
	tx(&s, 1, DATA + 0x100, 1514);
	net_hdr(&s, DATA + 0x800, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 34,
		6);
	eth(&s, DATA + 0x900, 100);
	chain(&s, 1,
	      (struct seg[]){ { DATA + 0x800, 5, false },
			      { DATA + 0x805, 7, false },
			      { DATA + 0x900, 100, false } },
	      3);
	err |= save(&s, argv[1], "tx-plain");

	/* segmentation offload: TCPv4, TCPv6 with ECN, UDP, and headers that must be dropped */
	seed_init(&s, F_CSUM | F_HOST_TSO4 | F_HOST_TSO6 | F_HOST_ECN | F_HOST_UFO, 0, 4,
		  SEND_TAKE);
	net_hdr(&s, DATA, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448, 34, 16);
	tx(&s, 1, DATA, 9000);
	net_hdr(&s, DATA + 0x2400, VIRTIO_NET_HDR_F_NEEDS_CSUM,
		VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN, 74, 1428, 54, 16);
	tx(&s, 1, DATA + 0x2400, 5000);
	net_hdr(&s, DATA + 0x3800, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_UDP, 42, 1472,
		34, 6);
	tx(&s, 1, DATA + 0x3800, 3000);
	/* GSO without NEEDS_CSUM, a zero segment size, hdr_len past the end, unknown flags */
	net_hdr(&s, DATA + 0x4400, 0, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448, 0, 0);
	tx(&s, 1, DATA + 0x4400, 200);
	net_hdr(&s, DATA + 0x4600, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 54, 0, 34,
		16);
	tx(&s, 1, DATA + 0x4600, 200);
	net_hdr(&s, DATA + 0x4800, 0, VIRTIO_NET_HDR_GSO_NONE, 300, 0, 0, 0);
	tx(&s, 1, DATA + 0x4800, 200);
	net_hdr(&s, DATA + 0x4a00, 0x80, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 0, 0);
	tx(&s, 1, DATA + 0x4a00, 200);
	err |= save(&s, argv[1], "tx-gso");

	/* offloads the driver did not negotiate, a checksum past the end, a runt, 68000 bytes */
	seed_init(&s, 0, F_INDIRECT, 4, SEND_TAKE);
	net_hdr(&s, DATA, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448, 34, 16);
	tx(&s, 1, DATA, 1000);
	net_hdr(&s, DATA + 0x400, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 34,
		16);
	tx(&s, 1, DATA + 0x400, 1000);
	net_hdr(&s, DATA + 0x800, 0, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 0, 0);
	tx(&s, 1, DATA + 0x800, 10);
	chain(&s, 1,
	      (struct seg[]){ { DATA + 0x1000, 17000, false },
			      { DATA + 0x1000, 17000, false },
			      { DATA + 0x1000, 17000, false },
			      { DATA + 0x1000, 17000, false } },
	      4);
	/* and one good frame in an indirect table */
	net_hdr(&s, DATA + 0xc00, 0, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 0, 0);
	eth(&s, DATA + 0xd00, 64);
	desc_at(&s, DATA + 0xe00, 0, DATA + 0xc00, HDR_LEN, VRING_DESC_F_NEXT, 1);
	desc_at(&s, DATA + 0xe00, 1, DATA + 0xd00, 64, 0, 0);
	indirect(&s, 1, DATA + 0xe00, 2);
	err |= save(&s, argv[1], "tx-bad-headers");

	/* mergeable receive buffers for a 9000-byte GSO frame, a small frame and a runt */
	seed_init(&s, F_MRG_RXBUF | F_GUEST_CSUM | F_GUEST_TSO4, F_EVENT_IDX, 5, SEND_TAKE);
	for (unsigned int i = 0; i < 30; i++)
		chain(&s, 0, (struct seg[]){ { DATA + 0x1000 * (i % 8), 4096, true } }, 1);
	net_hdr(&s, POOL, VIRTIO_NET_HDR_F_DATA_VALID, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448, 0, 0);
	eth(&s, POOL + HDR_LEN, 0x3000);
	frame(&s, HDR_LEN + 9000, POOL);
	frame(&s, HDR_LEN + 60, POOL);
	frame(&s, 20, POOL);
	frame(&s, HDR_LEN + 1514, POOL);
	err |= save(&s, argv[1], "rx-mergeable");

	/* a read-only buffer first, then one chain per frame with the header on its own */
	seed_init(&s, F_GUEST_CSUM, 0, 3, SEND_TAKE);
	chain(&s, 0, (struct seg[]){ { DATA + 0x2000, 1530, false } }, 1);
	for (unsigned int i = 0; i < 3; i++)
		chain(&s, 0,
		      (struct seg[]){ { DATA + 0x800 * i, HDR_LEN, true },
				      { DATA + 0x800 * i + 0x10, 1518, true } },
		      2);
	net_hdr(&s, POOL, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 34, 16);
	eth(&s, POOL + HDR_LEN, 1600);
	frame(&s, HDR_LEN + 1514, POOL);
	frame(&s, HDR_LEN + 1600, POOL);
	err |= save(&s, argv[1], "rx-single");

	/* a back end without a vnet header: bare frames both ways */
	seed_init(&s, 0, F_NO_VNET_HDR, 2, SEND_TAKE);
	net_hdr(&s, DATA, 0, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 0, 0);
	tx(&s, 1, DATA, 60);
	chain(&s, 0, (struct seg[]){ { DATA + 0x1000, 1530, true } }, 1);
	eth(&s, POOL, 100);
	frame(&s, 100, POOL);
	err |= save(&s, argv[1], "no-vnet-hdr");

	/* two pairs: VQ_PAIRS_SET 2, then a bad count; pair 1 then moves frames both ways */
	seed_init(&s, F_MRG_RXBUF, F_TWO_PAIRS | F_MQ, 3, SEND_TAKE);
	put(&s, DATA, VIRTIO_NET_CTRL_MQ, 1);
	put(&s, DATA + 1, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 1);
	put(&s, DATA + 2, 2, 2);
	chain(&s, 4,
	      (struct seg[]){
		      { DATA, 2, false }, { DATA + 2, 2, false }, { DATA + 0x10, 1, true } },
	      3);
	put(&s, DATA + 0x20, VIRTIO_NET_CTRL_MQ, 1);
	put(&s, DATA + 0x21, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 1);
	put(&s, DATA + 0x22, 9, 2);
	chain(&s, 4, (struct seg[]){ { DATA + 0x20, 4, false }, { DATA + 0x30, 1, true } }, 2);
	net_hdr(&s, DATA + 0x100, 0, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 0, 0);
	tx(&s, 3, DATA + 0x100, 60);
	chain(&s, 2, (struct seg[]){ { DATA + 0x1000, 2048, true } }, 1);
	eth(&s, POOL + HDR_LEN, 100);
	frame(&s, HDR_LEN + 100, POOL);
	err |= save(&s, argv[1], "ctrl-mq");

	/* a control command with nowhere to put the answer: a driver error */
	seed_init(&s, 0, F_TWO_PAIRS | F_MQ, 2, SEND_TAKE);
	put(&s, DATA, VIRTIO_NET_CTRL_MQ, 1);
	put(&s, DATA + 1, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 1);
	put(&s, DATA + 2, 2, 2);
	chain(&s, 4, (struct seg[]){ { DATA, 4, false } }, 1);
	err |= save(&s, argv[1], "ctrl-no-ack");

	/* broken rings: a transmit chain that loops, receive index too far ahead */
	seed_init(&s, 0, 0, 2, SEND_TAKE);
	desc_at(&s, ring_gpa(1, s.qsize, DESC), 0, DATA, 100, VRING_DESC_F_NEXT, 1);
	desc_at(&s, ring_gpa(1, s.qsize, DESC), 1, DATA, 100, VRING_DESC_F_NEXT, 0);
	put(&s, ring_gpa(1, s.qsize, AVAIL) + 2, 1, 2);
	put(&s, ring_gpa(0, s.qsize, AVAIL) + 2, 9, 2);
	err |= save(&s, argv[1], "broken-ring");

	/* the back end refuses after one frame (-EAGAIN), then goes away on receive */
	seed_init(&s, F_CSUM, 0, 3, SEND_EAGAIN | RECV_EBADFD << 2 | 1 << 4);
	for (unsigned int i = 0; i < 3; i++) {
		net_hdr(&s, DATA + 0x200 * i, 0, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 0, 0);
		tx(&s, 1, DATA + 0x200 * i, 100);
	}
	chain(&s, 0, (struct seg[]){ { DATA + 0x1000, 1530, true } }, 1);
	chain(&s, 0, (struct seg[]){ { DATA + 0x2000, 1530, true } }, 1);
	eth(&s, POOL + HDR_LEN, 100);
	frame(&s, HDR_LEN + 100, POOL);
	err |= save(&s, argv[1], "backend-refuses");

	/* the back end fails sends (link down) and receives */
	seed_init(&s, 0, 0, 1, SEND_EIO | RECV_EIO << 2);
	net_hdr(&s, DATA, 0, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 0, 0);
	tx(&s, 1, DATA, 100);
	chain(&s, 0, (struct seg[]){ { DATA + 0x1000, 1530, true } }, 1);
	err |= save(&s, argv[1], "backend-errors");

	/* ECN on a TCPv4 frame without HOST_ECN */
	seed_init(&s, F_CSUM | F_HOST_TSO4, 0, 1, SEND_TAKE);
	net_hdr(&s, DATA, VIRTIO_NET_HDR_F_NEEDS_CSUM,
		VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 54, 1448, 34, 16);
	tx(&s, 1, DATA, 3000);
	err |= save(&s, argv[1], "tx-ecn-not-negotiated");

	/* a full ring of 256 frames, all in one buffer: the pass stops at its budget */
	seed_init(&s, 0, 0, 8, SEND_TAKE);
	net_hdr(&s, 0x4000, 0, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 0, 0);
	eth(&s, 0x4000 + HDR_LEN, 60);
	for (unsigned int i = 0; i < 256; i++)
		chain(&s, 1, (struct seg[]){ { 0x4000, HDR_LEN + 60, false } }, 1);
	err |= save(&s, argv[1], "tx-full-ring");

	/* 100 runts from the back end into one posted buffer: the pass stops at its budget */
	seed_init(&s, 0, 0, 2, SEND_TAKE);
	chain(&s, 0, (struct seg[]){ { DATA, 1530, true } }, 1);
	frame(&s, 20, POOL);
	s.buf[4] = 100;
	err |= save(&s, argv[1], "rx-runts");

	/* mergeable buffers of 600 two-byte segments each: the second does not fit in NET_RX_IOV */
	seed_init(&s, F_MRG_RXBUF, F_INDIRECT, 2, SEND_TAKE);
	for (unsigned int t = 0; t < 2; t++) {
		uint32_t table = DATA + 0x1000 + 0x3000 * t;

		for (unsigned int j = 0; j < 600; j++)
			desc_at(&s, table, j, DATA + 2 * j, 2,
				VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, (uint16_t)(j + 1));
		desc_at(&s, table, 599, DATA + 2 * 599, 2, VRING_DESC_F_WRITE, 0);
		indirect(&s, 0, table, 600);
	}
	eth(&s, 0x9000 + HDR_LEN, 1000);
	frame(&s, HDR_LEN + 1000, 0x9000);
	err |= save(&s, argv[1], "rx-many-segments");
	return err;
}

#endif
