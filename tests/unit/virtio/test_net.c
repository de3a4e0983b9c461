/* SPDX-License-Identifier: MIT */
/*
 * virtio-net against a fake transport and a socketpair back end (one frame per
 * SOCK_SEQPACKET message): the test plays both the guest driver, writing descriptor
 * chains into split rings in real guest memory and kicking, and the far end of the wire.
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "check_main.h"
#include "driver.h"
#include "virtio/net/net.h"

#define NQ 5 /* two pairs and the control queue at most */
_Static_assert(NQ <= DRV_QUEUES, "driver.h keeps rings for every queue");

/* ------------------------------------------------------------------------------------ */
/* The socketpair back end */

static struct net net;

struct sp {
	struct net_backend be;
	int fd;
	int enabled; /* -1: never told */
};

static ssize_t sp_send(struct net_backend *be, const struct iovec *iov, int iovcnt)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };
	ssize_t r = sendmsg(be->tx_fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);

	return r < 0 ? -errno : r;
}

static ssize_t sp_recv(struct net_backend *be, const struct iovec *iov, int iovcnt)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };
	ssize_t r = recvmsg(be->rx_fd, &m, MSG_DONTWAIT);

	return r < 0 ? -errno : r;
}

static int offloads_seen = -1;

static int sp_set_offloads(struct net_backend *be, uint64_t guest)
{
	(void)be;
	offloads_seen = (int)guest;
	return 0;
}

static int sp_set_enabled(struct net_backend *be, bool enabled)
{
	((struct sp *)be->priv)->enabled = enabled;
	return 0;
}

static int sp_enabled(unsigned int pair)
{
	return ((struct sp *)net.pairs[pair].be->priv)->enabled;
}

static void sp_close(struct net_backend *be)
{
	struct sp *s = be->priv;

	close(s->fd);
	free(s);
}

static const struct net_backend_ops sp_ops = {
	.send = sp_send,
	.recv = sp_recv,
	.set_offloads = sp_set_offloads,
	.set_enabled = sp_set_enabled,
	.close = sp_close,
};

/* Returns the back end; *peer is the wire's other end (blocking). */
static struct net_backend *sp_new(bool vnet_hdr, int *peer)
{
	struct sp *s = calloc(1, sizeof(*s));
	int fds[2];

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
	s->fd = fds[0];
	s->enabled = -1;
	*peer = fds[1];
	s->be.ops = &sp_ops;
	s->be.name = "socketpair";
	s->be.rx_fd = s->be.tx_fd = fds[0];
	s->be.tap_fd = -1;
	s->be.vnet_hdr_len = vnet_hdr ? NET_HDR_LEN : 0;
	s->be.offload_features =
		(1ull << VIRTIO_NET_F_CSUM) | (1ull << VIRTIO_NET_F_GUEST_CSUM) |
		(1ull << VIRTIO_NET_F_HOST_TSO4) | (1ull << VIRTIO_NET_F_HOST_TSO6) |
		(1ull << VIRTIO_NET_F_HOST_ECN) | (1ull << VIRTIO_NET_F_GUEST_TSO4) |
		(1ull << VIRTIO_NET_F_GUEST_TSO6) | (1ull << VIRTIO_NET_F_GUEST_ECN);
	s->be.priv = s;
	return &s->be;
}

/* ------------------------------------------------------------------------------------ */
/* The far end of the wire and the driver side (driver.h) */

static int peer[2] = { -1, -1 };
static char err[512];
static const uint8_t test_mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };

static uint64_t stat(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* Wait (up to 10 s) for a counter to reach n. */
static void wait_stat(const uint64_t *c, uint64_t n)
{
	for (int i = 0; i < 10000 && stat(c) < n; i++)
		sleep_ms(1);
	ck_assert_uint_eq(stat(c), n);
}

/* One message from the wire, or -1 if none arrives within ms. */
static ssize_t wire_recv(int fd, void *buf, size_t len, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, ms) != 1)
		return -1;
	return recv(fd, buf, len, MSG_DONTWAIT | MSG_TRUNC);
}

static void wire_send(int fd, const void *buf, size_t len)
{
	ck_assert_int_eq(send(fd, buf, len, 0), (ssize_t)len);
}

/* ------------------------------------------------------------------------------------ */
/* Set-up */

static const uint64_t base_features =
	(1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS);
#define F(x) (1ull << VIRTIO_NET_F_##x)

/* npairs back ends (vnet_hdr or not), driver features = base | extra, every queue enabled. */
static void init_dev(unsigned int npairs, bool vnet_hdr, uint64_t extra)
{
	struct net_backend *be[2];

	ck_assert_int_eq(guest_mem_alloc(&mem, 32 * MiB), 0);
	data_next = MiB;
	for (unsigned int i = 0; i < npairs; i++)
		be[i] = sp_new(vnet_hdr, &peer[i]);
	ck_assert_msg(net_init(&net, &vdev, be, npairs, test_mac, &mem, err, sizeof(err)) == 0,
		      "%s", err);
	vdev->transport = &transport;
	vdev->driver_features = base_features | extra;
	ck_assert_uint_eq(vdev->driver_features & ~(vdev->device_features | base_features |
						    (1ull << VIRTIO_RING_F_EVENT_IDX)),
			  0);
	memset(notifies, 0, sizeof(notifies));
	needs_reset = 0;
	config_notifies = 0;
	for (unsigned int q = 0; q < vdev->num_queues; q++) {
		kick_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ck_assert_int_ge(kick_fd[q], 0);
		ring_setup(q, virtio_has_feature(vdev, VIRTIO_RING_F_EVENT_IDX));
	}
}

/* The same with every queue started: the pair threads serve them. */
static void start_dev(unsigned int npairs, bool vnet_hdr, uint64_t extra)
{
	init_dev(npairs, vnet_hdr, extra);
	for (unsigned int q = 0; q < vdev->num_queues; q++)
		ck_assert_int_eq(vdev->ops->queue_start(vdev, q, kick_fd[q]), 0);
}

static void teardown(void)
{
	if (vdev) {
		net_destroy(&net);
		vdev = NULL;
	}
	for (unsigned int q = 0; q < NQ; q++) {
		if (kick_fd[q] >= 0)
			close(kick_fd[q]);
		kick_fd[q] = -1;
	}
	for (unsigned int i = 0; i < 2; i++) {
		if (peer[i] >= 0)
			close(peer[i]);
		peer[i] = -1;
	}
	guest_mem_free(&mem);
}

/* A frame with a recognisable pattern; returns its length. */
static size_t make_frame(uint8_t *buf, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 7 + i / 251);
	return len;
}

/* Post one receive buffer (a single writable descriptor). */
static uint64_t post_rx(unsigned int q, uint32_t len)
{
	uint64_t a = alloc_gpa(len);
	struct seg s = { a, len, true };

	memset(gpa(a, len), 0xee, len);
	add_chain(q, &s, 1);
	return a;
}

/* ------------------------------------------------------------------------------------ */
/* Tests */

START_TEST(test_config)
{
	uint8_t cfg[16];

	start_dev(1, true, 0);
	ck_assert_uint_eq(vdev->device_id, 1);
	ck_assert_uint_eq(vdev->num_queues, 3); /* a pair and the control queue */
	ck_assert_uint_eq(vdev->config_size, NET_CONFIG_SIZE);
	ck_assert(vdev->device_features & F(MAC));
	ck_assert(vdev->device_features & F(STATUS));
	ck_assert(vdev->device_features & F(MRG_RXBUF));
	ck_assert(vdev->device_features & F(CSUM));
	ck_assert(vdev->device_features & F(GUEST_TSO4));
	/* not carried by this back end, so not offered */
	ck_assert(!(vdev->device_features & F(HOST_UFO)));
	/* the control queue always, for GUEST_ANNOUNCE; MQ only with more than one pair */
	ck_assert(vdev->device_features & F(CTRL_VQ));
	ck_assert(vdev->device_features & F(GUEST_ANNOUNCE));
	ck_assert(!(vdev->device_features & F(MQ)));
	memset(cfg, 0xaa, sizeof(cfg));
	virtio_config_read(vdev, 0, cfg, NET_CONFIG_SIZE);
	ck_assert_mem_eq(cfg, test_mac, 6);
	ck_assert_uint_eq(cfg[6] | cfg[7] << 8, VIRTIO_NET_S_LINK_UP);
	ck_assert_uint_eq(cfg[8] | cfg[9] << 8, 1);
	memset(cfg, 0xaa, sizeof(cfg));
	virtio_config_read(vdev, 8, cfg, 2);
	ck_assert_uint_eq(cfg[0], 1);
	ck_assert_uint_eq(cfg[2], 0xaa);
	virtio_config_read(vdev, 8, cfg, 4); /* across the end: zeros */
	ck_assert_uint_eq(cfg[0] | cfg[1] | cfg[2] | cfg[3], 0);
	virtio_config_read(vdev, 4096, cfg, 4);
	ck_assert_uint_eq(cfg[0] | cfg[1] | cfg[2] | cfg[3], 0);
}
END_TEST

START_TEST(test_config_no_vnet_hdr)
{
	/* a back end without headers carries no offload: none is offered */
	start_dev(1, false, 0);
	ck_assert(!(vdev->device_features & (F(CSUM) | F(GUEST_CSUM) | F(HOST_TSO4))));
	ck_assert(vdev->device_features & F(MRG_RXBUF));
}
END_TEST

/* Frames land in posted buffers with a correct header and num_buffers. */
START_TEST(test_rx_basic)
{
	uint8_t frame[NET_HDR_LEN + 100];
	struct virtio_net_hdr_v1 h = { .flags = VIRTIO_NET_HDR_F_DATA_VALID };
	uint64_t buf[2];

	start_dev(1, true, F(MRG_RXBUF) | F(GUEST_CSUM));
	ck_assert_int_eq(offloads_seen, (int)F(GUEST_CSUM));
	buf[0] = post_rx(0, 2048);
	buf[1] = post_rx(0, 2048);
	kick(0);
	for (unsigned int i = 0; i < 2; i++) {
		struct vring_used_elem e;
		struct virtio_net_hdr_v1 got;

		memcpy(frame, &h, sizeof(h));
		make_frame(frame + NET_HDR_LEN, 100, (uint8_t)i);
		wire_send(peer[0], frame, sizeof(frame));
		wait_used(0, 1);
		e = take_used(0);
		ck_assert_uint_eq(e.len, sizeof(frame));
		memcpy(&got, gpa(buf[e.id], sizeof(got)), sizeof(got));
		ck_assert_uint_eq(got.flags, VIRTIO_NET_HDR_F_DATA_VALID);
		ck_assert_uint_eq(got.gso_type, VIRTIO_NET_HDR_GSO_NONE);
		ck_assert_uint_eq(le16toh(got.num_buffers), 1);
		ck_assert_mem_eq(gpa(buf[e.id] + NET_HDR_LEN, 100), frame + NET_HDR_LEN, 100);
	}
	wait_notify(0, 1);
	ck_assert_uint_eq(stat(&net.pairs[0].stats.rx_frames), 2);
	ck_assert_uint_eq(stat(&net.pairs[0].stats.rx_bytes), 200);
}
END_TEST

/* Without GUEST_CSUM the guest never sees checksum flags, whatever the back end says. */
START_TEST(test_rx_flags_masked)
{
	uint8_t frame[NET_HDR_LEN + 60];
	struct virtio_net_hdr_v1 h = { .flags = VIRTIO_NET_HDR_F_DATA_VALID };
	uint64_t b;

	start_dev(1, true, F(MRG_RXBUF));
	b = post_rx(0, 2048);
	kick(0);
	memcpy(frame, &h, sizeof(h));
	make_frame(frame + NET_HDR_LEN, 60, 9);
	wire_send(peer[0], frame, sizeof(frame));
	wait_used(0, 1);
	take_used(0);
	ck_assert_uint_eq(((struct virtio_net_hdr_v1 *)gpa(b, NET_HDR_LEN))->flags, 0);
}
END_TEST

/* A 64 KiB-capable guest: one frame spans several mergeable buffers. */
START_TEST(test_rx_mergeable_span)
{
	static uint8_t frame[NET_HDR_LEN + 5000], back[5000];
	struct virtio_net_hdr_v1 h = { 0 };
	uint64_t bufs[40];
	uint32_t lens[3];
	size_t off = 0;

	start_dev(1, true, F(MRG_RXBUF) | F(GUEST_CSUM) | F(GUEST_TSO4));
	for (unsigned int i = 0; i < 40; i++)
		bufs[i] = post_rx(0, 2048); /* 80 KiB: room for the largest frame */
	kick(0);
	memcpy(frame, &h, sizeof(h));
	make_frame(frame + NET_HDR_LEN, 5000, 3);
	wire_send(peer[0], frame, sizeof(frame));
	wait_used(0, 3);
	for (unsigned int i = 0; i < 3; i++) {
		struct vring_used_elem e = take_used(0);

		ck_assert_uint_eq(e.id, i);
		lens[i] = e.len;
	}
	ck_assert_uint_eq(lens[0], 2048);
	ck_assert_uint_eq(lens[1], 2048);
	ck_assert_uint_eq(lens[2], NET_HDR_LEN + 5000 - 4096);
	ck_assert_uint_eq(le16toh(((struct virtio_net_hdr_v1 *)gpa(bufs[0], 12))->num_buffers), 3);
	memcpy(back, gpa(bufs[0] + NET_HDR_LEN, 2048 - NET_HDR_LEN), 2048 - NET_HDR_LEN);
	off = 2048 - NET_HDR_LEN;
	memcpy(back + off, gpa(bufs[1], 2048), 2048);
	off += 2048;
	memcpy(back + off, gpa(bufs[2], 5000 - off), 5000 - off);
	ck_assert_mem_eq(back, frame + NET_HDR_LEN, 5000);

	/* the buffers held but not used serve the next frame, in ring order */
	make_frame(frame + NET_HDR_LEN, 100, 4);
	wire_send(peer[0], frame, NET_HDR_LEN + 100);
	wait_used(0, 1);
	ck_assert_uint_eq(take_used(0).id, 3);
	ck_assert_mem_eq(gpa(bufs[3] + NET_HDR_LEN, 100), frame + NET_HDR_LEN, 100);
}
END_TEST

/* A full receive ring: the frame waits in the back end, and arrives once buffers do. */
START_TEST(test_rx_waits_for_buffers)
{
	uint8_t frame[NET_HDR_LEN + 80];
	struct virtio_net_hdr_v1 h = { 0 };
	uint64_t b;

	start_dev(1, true, F(MRG_RXBUF));
	memcpy(frame, &h, sizeof(h));
	make_frame(frame + NET_HDR_LEN, 80, 5);
	wire_send(peer[0], frame, sizeof(frame));
	sleep_ms(100);
	ck_assert_uint_eq(used_idx(0), 0);
	ck_assert_uint_eq(stat(&net.pairs[0].stats.rx_frames), 0);
	ck_assert_uint_eq(stat(&net.pairs[0].stats.rx_errors), 0);
	b = post_rx(0, 2048);
	kick(0);
	wait_used(0, 1);
	ck_assert_uint_eq(take_used(0).len, sizeof(frame));
	ck_assert_mem_eq(gpa(b + NET_HDR_LEN, 80), frame + NET_HDR_LEN, 80);
	ck_assert_uint_eq(stat(&net.pairs[0].stats.rx_frames), 1);
}
END_TEST

/* Without MRG_RXBUF a frame takes one chain, header and data in separate descriptors. */
START_TEST(test_rx_single_chain)
{
	uint8_t frame[NET_HDR_LEN + 300];
	struct virtio_net_hdr_v1 h = { 0 };
	uint64_t hdr, data;
	struct seg s[2];

	start_dev(1, true, 0);
	hdr = alloc_gpa(NET_HDR_LEN);
	data = alloc_gpa(1518);
	s[0] = (struct seg){ hdr, NET_HDR_LEN, true };
	s[1] = (struct seg){ data, 1518, true };
	add_chain(0, s, 2);
	kick(0);
	memcpy(frame, &h, sizeof(h));
	make_frame(frame + NET_HDR_LEN, 300, 6);
	wire_send(peer[0], frame, sizeof(frame));
	wait_used(0, 1);
	ck_assert_uint_eq(take_used(0).len, sizeof(frame));
	ck_assert_uint_eq(le16toh(((struct virtio_net_hdr_v1 *)gpa(hdr, 12))->num_buffers), 1);
	ck_assert_mem_eq(gpa(data, 300), frame + NET_HDR_LEN, 300);
}
END_TEST

/* A back end without headers: the device writes a plain one itself. */
START_TEST(test_rx_no_vnet_hdr)
{
	uint8_t frame[64];
	uint64_t b;
	struct virtio_net_hdr_v1 *h;

	start_dev(1, false, F(MRG_RXBUF));
	b = post_rx(0, 2048);
	kick(0);
	make_frame(frame, sizeof(frame), 7);
	wire_send(peer[0], frame, sizeof(frame));
	wait_used(0, 1);
	ck_assert_uint_eq(take_used(0).len, NET_HDR_LEN + sizeof(frame));
	h = gpa(b, NET_HDR_LEN);
	ck_assert_uint_eq(h->flags | h->gso_type | h->hdr_len | h->gso_size, 0);
	ck_assert_uint_eq(le16toh(h->num_buffers), 1);
	ck_assert_mem_eq(gpa(b + NET_HDR_LEN, sizeof(frame)), frame, sizeof(frame));
}
END_TEST

/* Buffers too small for a header are handed back empty and counted; the next works. */
START_TEST(test_rx_bad_buffer)
{
	uint8_t frame[NET_HDR_LEN + 60] = { 0 };
	uint64_t b;

	start_dev(1, true, F(MRG_RXBUF));
	post_rx(0, 4);
	b = post_rx(0, 2048);
	kick(0);
	make_frame(frame + NET_HDR_LEN, 60, 8);
	wire_send(peer[0], frame, sizeof(frame));
	wait_used(0, 2);
	ck_assert_uint_eq(take_used(0).len, 0);
	ck_assert_uint_eq(take_used(0).len, sizeof(frame));
	ck_assert_mem_eq(gpa(b + NET_HDR_LEN, 60), frame + NET_HDR_LEN, 60);
	ck_assert_uint_eq(stat(&net.pairs[0].stats.rx_bad_buffers), 1);
}
END_TEST

/*
 * Without MRG_RXBUF, a buffer with room for the header but not for an Ethernet header
 * goes back empty as well, rather than being held while every frame read into it is
 * dropped as a runt. With a back end that has no vnet header the device used to ask it to
 * read into no buffer at all: a TAP answers 0 to that without taking the frame, so the
 * pair's thread spun at its budget for as long as the guest left the buffer there.
 */
static void rx_too_small_for_frame(bool vnet_hdr, uint32_t small)
{
	uint8_t frame[NET_HDR_LEN + 60] = { 0 };
	size_t off = vnet_hdr ? 0 : NET_HDR_LEN;
	uint64_t b;

	start_dev(1, vnet_hdr, 0);
	post_rx(0, small);
	b = post_rx(0, 2048);
	kick(0);
	make_frame(frame + NET_HDR_LEN, 60, 9);
	wire_send(peer[0], frame + off, sizeof(frame) - off);
	wait_used(0, 2);
	ck_assert_uint_eq(take_used(0).len, 0);
	ck_assert_uint_eq(take_used(0).len, sizeof(frame));
	ck_assert_mem_eq(gpa(b + NET_HDR_LEN, 60), frame + NET_HDR_LEN, 60);
	ck_assert_uint_eq(stat(&net.pairs[0].stats.rx_bad_buffers), 1);
	ck_assert_uint_eq(stat(&net.pairs[0].stats.rx_errors), 0);
}

START_TEST(test_rx_too_small_for_frame)
{
	rx_too_small_for_frame(true, NET_HDR_LEN + NET_MIN_FRAME - 1);
}
END_TEST

START_TEST(test_rx_header_only_no_vnet_hdr)
{
	rx_too_small_for_frame(false, NET_HDR_LEN);
}
END_TEST

/* Queue one transmit chain: header (split in two descriptors when split) then frame. */
static uint16_t queue_tx_on(unsigned int q, const struct virtio_net_hdr_v1 *h, size_t hdr_len,
			    const uint8_t *frame, size_t len, bool split)
{
	uint64_t a = alloc_gpa(hdr_len + len + 1);
	struct seg s[3];
	unsigned int n = 0;

	memcpy(gpa(a, hdr_len), h, hdr_len);
	if (len)
		memcpy(gpa(a + hdr_len, len), frame, len);
	if (split && hdr_len > 4) {
		s[n++] = (struct seg){ a, 4, false };
		s[n++] = (struct seg){ a + 4, (uint32_t)(hdr_len - 4), false };
	} else {
		s[n++] = (struct seg){ a, (uint32_t)hdr_len, false };
	}
	if (len)
		s[n++] = (struct seg){ a + hdr_len, (uint32_t)len, false };
	return add_chain(q, s, n);
}

#define queue_tx(...) queue_tx_on(1, __VA_ARGS__)

START_TEST(test_tx_basic)
{
	static uint8_t frame[1514], got[2048];
	struct virtio_net_hdr_v1 h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				       .csum_start = htole16(34),
				       .csum_offset = htole16(16) };

	start_dev(1, true, F(MRG_RXBUF) | F(CSUM));
	make_frame(frame, sizeof(frame), 1);
	queue_tx(&h, sizeof(h), frame, sizeof(frame), true);
	queue_tx(&h, sizeof(h), frame, 60, false);
	kick(1);
	ck_assert_int_eq(wire_recv(peer[0], got, sizeof(got), 5000), NET_HDR_LEN + sizeof(frame));
	ck_assert_mem_eq(got, &h, sizeof(h));
	ck_assert_mem_eq(got + NET_HDR_LEN, frame, sizeof(frame));
	ck_assert_int_eq(wire_recv(peer[0], got, sizeof(got), 5000), NET_HDR_LEN + 60);
	wait_used(1, 2);
	ck_assert_uint_eq(take_used(1).len, 0);
	wait_notify(1, 1);
	ck_assert_uint_eq(stat(&net.pairs[0].stats.tx_frames), 2);
	ck_assert_uint_eq(stat(&net.pairs[0].stats.tx_bytes), 1514 + 60);
}
END_TEST

/* Without vnet headers in the back end, the bare frame goes out. */
START_TEST(test_tx_no_vnet_hdr)
{
	uint8_t frame[60], got[128];
	struct virtio_net_hdr_v1 h = { 0 };

	start_dev(1, false, F(MRG_RXBUF));
	make_frame(frame, sizeof(frame), 2);
	queue_tx(&h, sizeof(h), frame, sizeof(frame), false);
	kick(1);
	ck_assert_int_eq(wire_recv(peer[0], got, sizeof(got), 5000), sizeof(frame));
	ck_assert_mem_eq(got, frame, sizeof(frame));
}
END_TEST

/* Malformed headers are dropped and counted; the good frame after them goes through. */
START_TEST(test_tx_malformed)
{
	uint8_t frame[200], got[512];
	struct virtio_net_hdr_v1 good = { 0 };
	struct virtio_net_hdr_v1 bad_gso = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
					     .gso_type = 5,
					     .gso_size = htole16(100),
					     .csum_start = htole16(34),
					     .csum_offset = htole16(16) };
	struct virtio_net_hdr_v1 far_hdr = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
					     .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
					     .hdr_len = htole16(5000),
					     .gso_size = htole16(100),
					     .csum_start = htole16(34),
					     .csum_offset = htole16(16) };
	struct virtio_net_hdr_v1 far_csum = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
					      .csum_start = htole16(190),
					      .csum_offset = htole16(16) };
	struct virtio_net_hdr_v1 bad_flags = { .flags = 0x80 };
	struct virtio_net_hdr_v1 gso_unnegotiated = far_hdr;

	gso_unnegotiated.hdr_len = htole16(54);
	gso_unnegotiated.gso_type = VIRTIO_NET_HDR_GSO_TCPV6; /* only TSO4 accepted */
	start_dev(1, true, F(MRG_RXBUF) | F(CSUM) | F(HOST_TSO4));
	make_frame(frame, sizeof(frame), 3);
	queue_tx(&bad_gso, sizeof(bad_gso), frame, sizeof(frame), false);
	queue_tx(&far_hdr, sizeof(far_hdr), frame, sizeof(frame), false);
	queue_tx(&far_csum, sizeof(far_csum), frame, sizeof(frame), false);
	queue_tx(&bad_flags, sizeof(bad_flags), frame, sizeof(frame), false);
	queue_tx(&gso_unnegotiated, sizeof(gso_unnegotiated), frame, sizeof(frame), false);
	queue_tx(&good, 8, NULL, 0, false);		 /* shorter than a header */
	queue_tx(&good, sizeof(good), frame, 10, false); /* no Ethernet header */
	queue_tx(&good, sizeof(good), frame, sizeof(frame), true);
	kick(1);
	ck_assert_int_eq(wire_recv(peer[0], got, sizeof(got), 5000), NET_HDR_LEN + sizeof(frame));
	ck_assert_mem_eq(got + NET_HDR_LEN, frame, sizeof(frame));
	ck_assert_int_eq(wire_recv(peer[0], got, sizeof(got), 100), -1);
	wait_used(1, 8);
	for (unsigned int i = 0; i < 8; i++)
		ck_assert_uint_eq(take_used(1).len, 0);
	ck_assert_uint_eq(stat(&net.pairs[0].stats.tx_bad_header), 7);
	ck_assert_uint_eq(stat(&net.pairs[0].stats.tx_frames), 1);
	ck_assert_int_eq(needs_reset, 0);
	/* and a valid TSO frame is taken */
	far_hdr.hdr_len = htole16(54);
	queue_tx(&far_hdr, sizeof(far_hdr), frame, sizeof(frame), false);
	kick(1);
	ck_assert_int_eq(wire_recv(peer[0], got, sizeof(got), 5000), NET_HDR_LEN + sizeof(frame));
	ck_assert_mem_eq(got, &far_hdr, sizeof(far_hdr));
}
END_TEST

START_TEST(test_tx_oversized)
{
	static uint8_t frame[NET_MAX_FRAME + 1], got[NET_MAX_FRAME + 64];
	struct virtio_net_hdr_v1 h = { 0 };

	start_dev(1, true, F(MRG_RXBUF));
	make_frame(frame, sizeof(frame), 4);
	queue_tx(&h, sizeof(h), frame, sizeof(frame), false);
	queue_tx(&h, sizeof(h), frame, NET_MAX_FRAME, false); /* the largest allowed */
	kick(1);
	ck_assert_int_eq(wire_recv(peer[0], got, sizeof(got), 5000), NET_HDR_LEN + NET_MAX_FRAME);
	wait_used(1, 2);
	ck_assert_uint_eq(stat(&net.pairs[0].stats.tx_oversized), 1);
	ck_assert_uint_eq(stat(&net.pairs[0].stats.tx_frames), 1);
}
END_TEST

/* Hostile descriptors: NEEDS_RESET, no crash, and a reset brings the device back. */
START_TEST(test_hostile_tx_ring)
{
	struct seg s = { 1ull << 40, 100, false }; /* far outside guest RAM */
	uint8_t frame[60], got[128];
	struct virtio_net_hdr_v1 h = { 0 };

	start_dev(1, true, F(MRG_RXBUF));
	add_chain(1, &s, 1);
	kick(1);
	for (int i = 0; i < 5000 && !__atomic_load_n(&needs_reset, __ATOMIC_SEQ_CST); i++)
		sleep_ms(1);
	ck_assert_int_eq(needs_reset, 1);
	ck_assert_uint_eq(used_idx(1), 0);

	vdev->ops->reset(vdev);
	needs_reset = 0;
	for (unsigned int q = 0; q < 2; q++) {
		ring_setup(q, virtio_has_feature(vdev, VIRTIO_RING_F_EVENT_IDX));
		ck_assert_int_eq(vdev->ops->queue_start(vdev, q, kick_fd[q]), 0);
	}
	make_frame(frame, sizeof(frame), 5);
	queue_tx(&h, sizeof(h), frame, sizeof(frame), false);
	kick(1);
	ck_assert_int_eq(wire_recv(peer[0], got, sizeof(got), 5000), NET_HDR_LEN + sizeof(frame));
	ck_assert_int_eq(needs_reset, 0);
}
END_TEST

START_TEST(test_hostile_rx_ring)
{
	struct vring_avail *avail;

	start_dev(1, true, F(MRG_RXBUF));
	avail = gpa(drv[0].avail, 6 + 2 * QSIZE);
	/* the driver claims more new entries than the ring holds */
	__atomic_store_n(&avail->idx, htole16(QSIZE + 5), __ATOMIC_RELEASE);
	kick(0);
	for (int i = 0; i < 5000 && !__atomic_load_n(&needs_reset, __ATOMIC_SEQ_CST); i++)
		sleep_ms(1);
	ck_assert_int_eq(needs_reset, 1);
}
END_TEST

/* Two pairs: each has its own back end; the control queue sets the pairs in use. */
START_TEST(test_multiqueue_ctrl)
{
	uint8_t frame[NET_HDR_LEN + 60] = { 0 }, got[128];
	struct virtio_net_hdr_v1 h = { 0 };
	uint64_t cmd, ack;
	struct seg s[2];
	uint8_t *c;

	start_dev(2, true, F(MRG_RXBUF) | F(CTRL_VQ) | F(MQ));
	/* only the first pair is in use until the driver says otherwise */
	ck_assert_int_eq(sp_enabled(1), 0);
	ck_assert_int_eq(sp_enabled(0), -1);
	cmd = alloc_gpa(4);
	ack = alloc_gpa(1);
	s[0] = (struct seg){ cmd, 4, false };
	s[1] = (struct seg){ ack, 1, true };
	ck_assert_uint_eq(vdev->num_queues, 5);
	ck_assert(vdev->device_features & F(MQ));
	/* a frame for pair 1 waits while the driver uses pair 0 only */
	post_rx(2, 2048);
	kick(2);
	make_frame(frame + NET_HDR_LEN, 60, 6);
	wire_send(peer[1], frame, sizeof(frame));
	sleep_ms(50);
	ck_assert_uint_eq(used_idx(2), 0);
	/* transmit on pair 1 reaches pair 1's back end only (sending is not policed) */
	queue_tx_on(3, &h, sizeof(h), frame + NET_HDR_LEN, 60, false);
	kick(3);
	ck_assert_int_eq(wire_recv(peer[1], got, sizeof(got), 5000), NET_HDR_LEN + 60);
	ck_assert_int_eq(wire_recv(peer[0], got, sizeof(got), 100), -1);
	/* control: pairs = 2 is fine, 3 is refused */
	c = gpa(cmd, 4);
	c[0] = VIRTIO_NET_CTRL_MQ;
	c[1] = VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET;
	c[2] = 2;
	c[3] = 0;
	*(uint8_t *)gpa(ack, 1) = 0xff;
	add_chain(4, s, 2);
	kick(4);
	wait_used(4, 1);
	ck_assert_uint_eq(take_used(4).len, 1);
	ck_assert_uint_eq(*(uint8_t *)gpa(ack, 1), VIRTIO_NET_OK);
	ck_assert_int_eq(sp_enabled(1), 1);
	/* and arrives once it uses both */
	wait_used(2, 1);
	ck_assert_uint_eq(take_used(2).len, sizeof(frame));
	c[2] = 3;
	add_chain(4, s, 2);
	kick(4);
	wait_used(4, 1);
	take_used(4);
	ck_assert_uint_eq(*(uint8_t *)gpa(ack, 1), VIRTIO_NET_ERR);
	ck_assert_uint_eq(net.active_pairs, 2);
	/* and pair 0's ring goes to pair 0's back end */
	queue_tx(&h, sizeof(h), frame + NET_HDR_LEN, 60, false);
	kick(1);
	ck_assert_int_eq(wire_recv(peer[0], got, sizeof(got), 5000), NET_HDR_LEN + 60);
	ck_assert_int_eq(wire_recv(peer[1], got, sizeof(got), 100), -1);
	vdev->ops->reset(vdev);
	ck_assert_int_eq(sp_enabled(1), 0);
	ck_assert_uint_eq(net.active_pairs, 1);
}
END_TEST

/* With event indices the device interrupts only when the driver's used_event is crossed. */
START_TEST(test_event_idx_tx)
{
	uint8_t frame[60], got[128];
	struct virtio_net_hdr_v1 h = { 0 };
	uint16_t *used_event;

	start_dev(1, true, F(MRG_RXBUF) | (1ull << VIRTIO_RING_F_EVENT_IDX));
	used_event = gpa(drv[1].avail + 4 + 2 * QSIZE, 2);
	*used_event = htole16(1); /* interrupt once the second chain is used */
	make_frame(frame, sizeof(frame), 7);
	queue_tx(&h, sizeof(h), frame, sizeof(frame), false);
	kick(1);
	ck_assert_int_eq(wire_recv(peer[0], got, sizeof(got), 5000), NET_HDR_LEN + 60);
	wait_used(1, 1);
	take_used(1);
	sleep_ms(50);
	ck_assert_int_eq(nnotify(1), 0);
	queue_tx(&h, sizeof(h), frame, sizeof(frame), false);
	kick(1);
	wait_used(1, 1);
	take_used(1);
	wait_notify(1, 1);
	/* and the device asks for kicks at its position (avail_event) */
	ck_assert_uint_eq(le16toh(*(uint16_t *)gpa(drv[1].used + 4 + 8 * QSIZE, 2)), 2);
}
END_TEST

/* A back end that goes away: reported, the guest's frames are dropped, nothing hangs. */
START_TEST(test_backend_gone)
{
	uint8_t frame[60];
	struct virtio_net_hdr_v1 h = { 0 };

	start_dev(1, true, F(MRG_RXBUF));
	close(peer[0]);
	peer[0] = -1;
	make_frame(frame, sizeof(frame), 8);
	queue_tx(&h, sizeof(h), frame, sizeof(frame), false);
	queue_tx(&h, sizeof(h), frame, sizeof(frame), false);
	kick(1);
	wait_used(1, 2);
	wait_stat(&net.pairs[0].stats.tx_errors, 2);
	ck_assert_int_eq(needs_reset, 0);
	ck_assert(net.pairs[0].backend_gone);
}
END_TEST

static ssize_t full_send(struct net_backend *be, const struct iovec *iov, int iovcnt)
{
	(void)be, (void)iov, (void)iovcnt;
	return -EAGAIN;
}

static ssize_t gone_recv(struct net_backend *be, const struct iovec *iov, int iovcnt)
{
	(void)be, (void)iov, (void)iovcnt;
	return -EBADFD;
}

/*
 * A send waits for room; then receive finds the back end gone. Its tx_fd may never become
 * writable again, so the waiting frame and those after it are dropped, not kept forever.
 */
START_TEST(test_backend_gone_while_send_waits)
{
	static const struct net_backend_ops stuck_ops = {
		.send = full_send,
		.recv = gone_recv,
		.set_offloads = sp_set_offloads,
		.set_enabled = sp_set_enabled,
		.close = sp_close,
	};
	uint8_t frame[60];
	struct virtio_net_hdr_v1 h = { 0 };

	init_dev(1, true, F(MRG_RXBUF)); /* no thread: each pass is ours */
	net.pairs[0].be->ops = &stuck_ops;
	make_frame(frame, sizeof(frame), 8);
	queue_tx(&h, sizeof(h), frame, sizeof(frame), false);
	ck_assert_uint_eq(net_pair_serve(&net, 0, NET_SERVE_TX), 0);
	ck_assert_uint_eq(used_idx(1), 0);
	ck_assert(net.pairs[0].tx_wait_backend);

	post_rx(0, 2048);
	ck_assert_uint_eq(net_pair_serve(&net, 0, NET_SERVE_RX), NET_SERVE_TX);
	ck_assert(net.pairs[0].backend_gone);
	queue_tx(&h, sizeof(h), frame, sizeof(frame), false);
	ck_assert_uint_eq(net_pair_serve(&net, 0, NET_SERVE_TX), 0);
	ck_assert_uint_eq(used_idx(1), 2);
	ck_assert_uint_eq(stat(&net.pairs[0].stats.tx_errors), 2);
	ck_assert_uint_eq(stat(&net.pairs[0].stats.tx_frames), 0);
	ck_assert_int_eq(needs_reset, 0);
}
END_TEST

/*
 * Rings full of random descriptors (addresses in and out of RAM, lengths, flags and
 * next indices of every kind), with frames arriving meanwhile: whatever the device makes
 * of them, it must not crash, overrun (ASan) or hang, and a reset always recovers.
 */
START_TEST(test_random_rings)
{
	static const uint64_t addrs[] = {
		0x100000, 0x1ff000, 32 * MiB - 8, 32 * MiB, 1ull << 40, 0
	};
	uint8_t frame[NET_HDR_LEN + 200] = { 0 };
	unsigned int seed = 12345;

	start_dev(1, true, F(MRG_RXBUF) | F(CSUM) | F(GUEST_CSUM) | F(HOST_TSO4) | F(GUEST_TSO4));
	for (unsigned int round = 0; round < 200; round++) {
		for (unsigned int q = 0; q < 2; q++) {
			struct vring_desc *table = gpa(drv[q].desc, 16 * QSIZE);
			struct vring_avail *avail = gpa(drv[q].avail, 6 + 2 * QSIZE);
			uint16_t n = (uint16_t)(rand_r(&seed) % (QSIZE + 2));

			for (unsigned int i = 0; i < QSIZE; i++) {
				unsigned int r = (unsigned int)rand_r(&seed);

				table[i].addr = htole64(addrs[r % 6] + (r >> 8) % 8192);
				table[i].len =
					htole32((r >> 4) % 4 ? (r >> 12) % 70000 : 0xffffffff);
				table[i].flags = htole16((uint16_t)(rand_r(&seed) % 8));
				table[i].next = htole16((uint16_t)(rand_r(&seed) % (QSIZE + 4)));
				avail->ring[i] = htole16((uint16_t)(rand_r(&seed) % (QSIZE + 4)));
			}
			/* random header bytes where the transmit buffers point */
			for (unsigned int i = 0; i < 64; i++)
				((uint8_t *)gpa(0x100000, 0x100000))[rand_r(&seed) % 0x100000] =
					(uint8_t)rand_r(&seed);
			__atomic_store_n(&avail->idx, htole16(n), __ATOMIC_RELEASE);
			kick(q);
		}
		make_frame(frame + NET_HDR_LEN, 200, (uint8_t)round);
		send(peer[0], frame, sizeof(frame), MSG_DONTWAIT);
		sleep_ms(2);
		vdev->ops->reset(vdev);
		needs_reset = 0;
		for (unsigned int q = 0; q < 2; q++) {
			ring_setup(q, virtio_has_feature(vdev, VIRTIO_RING_F_EVENT_IDX));
			ck_assert_int_eq(vdev->ops->queue_start(vdev, q, kick_fd[q]), 0);
		}
	}
	/* and then it still works */
	while (recv(peer[0], frame, sizeof(frame), MSG_DONTWAIT) > 0)
		;
	{
		struct virtio_net_hdr_v1 h = { 0 };
		uint8_t f[60], got[128];

		make_frame(f, sizeof(f), 1);
		queue_tx(&h, sizeof(h), f, sizeof(f), false);
		kick(1);
		ck_assert_int_eq(wire_recv(peer[0], got, sizeof(got), 5000), NET_HDR_LEN + 60);
		ck_assert_mem_eq(got + NET_HDR_LEN, f, sizeof(f));
	}
}
END_TEST

/* net_pair_serve() without a thread: one pass does just the queues it is asked for. */
START_TEST(test_pair_serve_without_thread)
{
	static uint8_t frame[NET_HDR_LEN + 100], got[256];
	struct virtio_net_hdr_v1 h = { 0 }, in;
	uint64_t buf;

	init_dev(1, true, F(MRG_RXBUF));
	ck_assert(!net.pairs[0].running);
	make_frame(frame, sizeof(frame), 3);
	queue_tx(&h, sizeof(h), frame, 60, false);
	buf = post_rx(0, 2048);
	memcpy(frame, &h, sizeof(h));
	wire_send(peer[0], frame, sizeof(frame));

	ck_assert_uint_eq(net_pair_serve(&net, 0, NET_SERVE_TX), 0);
	ck_assert_uint_eq(used_idx(1), 1);
	ck_assert_uint_eq(used_idx(0), 0);
	ck_assert_int_eq(wire_recv(peer[0], got, sizeof(got), 0), NET_HDR_LEN + 60);
	ck_assert_int_eq(nnotify(1), 1);

	ck_assert_uint_eq(net_pair_serve(&net, 0, NET_SERVE_RX | NET_SERVE_CTRL), 0);
	ck_assert_uint_eq(used_idx(0), 1);
	ck_assert_uint_eq(take_used(0).len, sizeof(frame));
	memcpy(&in, gpa(buf, sizeof(in)), sizeof(in));
	ck_assert_uint_eq(le16toh(in.num_buffers), 1);
	ck_assert_mem_eq(gpa(buf + NET_HDR_LEN, 100), frame + NET_HDR_LEN, 100);
	ck_assert_int_eq(nnotify(0), 1);
	ck_assert_int_eq(needs_reset, 0);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* Snapshots */

/* Wait until pair 0's thread has taken n receive chains off the ring. */
static void wait_held(unsigned int n)
{
	for (int i = 0; i < 5000 && __atomic_load_n(&net.pairs[0].rx_nbufs, __ATOMIC_ACQUIRE) < n;
	     i++)
		sleep_ms(1);
	ck_assert_uint_eq(__atomic_load_n(&net.pairs[0].rx_nbufs, __ATOMIC_ACQUIRE), n);
}

/* What virtio_pci_unquiesce does: every queue started again, and kicked. */
static void restart_all(void)
{
	for (unsigned int q = 0; q < vdev->num_queues; q++) {
		ck_assert_int_eq(vdev->ops->queue_start(vdev, q, kick_fd[q]), 0);
		kick(q);
	}
}

/*
 * A quiesce (vm.snapshot) stops the thread while it holds receive chains for a frame
 * that has not come: they go back to the ring unused, and after the restart the next
 * frame lands in them from the first, so a snapshot loses the guest no buffer.
 */
START_TEST(test_quiesce_gives_back_rx)
{
	uint8_t frame[NET_HDR_LEN + 1000] = { 0 };
	uint64_t b[4];
	struct vring_used_elem e;

	start_dev(1, true, F(MRG_RXBUF));
	for (unsigned int i = 0; i < 4; i++)
		b[i] = post_rx(0, 512); /* three hold a plain frame: 3 * 512 >= 12 + 1518 */
	kick(0);
	wait_held(3);
	vdev->ops->quiesce(vdev);
	ck_assert(!net.pairs[0].running);
	ck_assert_uint_eq(net.pairs[0].rx_nbufs, 0);
	ck_assert_uint_eq(vdev->queues[0].last_avail_idx, 0);
	ck_assert_uint_eq(used_idx(0), 0);

	restart_all();
	make_frame(frame + NET_HDR_LEN, 1000, 9);
	wire_send(peer[0], frame, sizeof(frame));
	wait_used(0, 2);
	e = take_used(0);
	ck_assert_uint_eq(e.id, 0);
	ck_assert_uint_eq(e.len, 512);
	e = take_used(0);
	ck_assert_uint_eq(e.id, 1);
	ck_assert_uint_eq(e.len, sizeof(frame) - 512);
	ck_assert_mem_eq(gpa(b[0] + NET_HDR_LEN, 500), frame + NET_HDR_LEN, 500);
	ck_assert_mem_eq(gpa(b[1], sizeof(frame) - 512), frame + 512, sizeof(frame) - 512);
	ck_assert_uint_eq(stat(&net.pairs[0].stats.rx_bad_buffers), 0);
}
END_TEST

/*
 * A bad chain pushed between held ones: un-popping would hand it out twice, so the held
 * chains are returned as used and empty instead (the driver posts them again).
 */
START_TEST(test_quiesce_held_around_bad_chain)
{
	start_dev(1, true, F(MRG_RXBUF));
	post_rx(0, 512);
	post_rx(0, 4); /* smaller than a header: pushed back at once */
	post_rx(0, 512);
	post_rx(0, 512);
	kick(0);
	wait_used(0, 1);
	wait_held(3);
	vdev->ops->quiesce(vdev);
	ck_assert_uint_eq(vdev->queues[0].last_avail_idx, 4);
	ck_assert_uint_eq(used_idx(0), 4);
	ck_assert_uint_eq(take_used(0).id, 1);
	for (unsigned int i = 0; i < 3; i++) {
		struct vring_used_elem e = take_used(0);

		ck_assert_uint_eq(e.id, i == 0 ? 0 : i + 1);
		ck_assert_uint_eq(e.len, 0);
	}
	ck_assert_uint_eq(net.pairs[0].rx_nbufs, 0);
}
END_TEST

/* Unlike a reset, a quiesce keeps the driver's multiqueue choice. */
START_TEST(test_quiesce_keeps_pairs)
{
	struct net_snapshot st;

	start_dev(2, true, F(MRG_RXBUF) | F(CTRL_VQ) | F(MQ));
	net_snapshot_save(&net, true, &st);
	ck_assert_uint_eq(st.active_pairs, 1);
	st.active_pairs = 2;
	net_snapshot_apply(&net, &st);
	ck_assert_int_eq(sp_enabled(1), 1);
	vdev->ops->quiesce(vdev);
	ck_assert_uint_eq(net.active_pairs, 2);
	ck_assert_int_eq(sp_enabled(1), 1);
	restart_all();
	ck_assert(net.pairs[0].running && net.pairs[1].running);
	vdev->ops->reset(vdev);
	ck_assert_uint_eq(net.active_pairs, 1);
	ck_assert_int_eq(sp_enabled(1), 0);
}
END_TEST

/* The section round trip, and a restore taking the saved MAC over the one it was given. */
START_TEST(test_snapshot_section)
{
	static const uint8_t other[6] = { 0x02, 0, 0, 0, 0, 9 };
	struct net_snapshot st, back;

	init_dev(2, true, 0);
	net_snapshot_save(&net, true, &st);
	ck_assert_uint_eq(st.version, NET_SNAPSHOT_VERSION);
	ck_assert_uint_eq(st.npairs, 2);
	ck_assert_uint_eq(st.live, 1);
	ck_assert_mem_eq(st.mac, test_mac, 6);
	ck_assert_int_eq(net_snapshot_parse(&st, sizeof(st), 2, &back, err, sizeof(err)), 0);
	ck_assert_mem_eq(&back, &st, sizeof(st));
	memcpy(back.mac, other, 6);
	net_snapshot_apply(&net, &back);
	ck_assert_mem_eq(net.config, other, 6);
}
END_TEST

/* Every way a section can be wrong is refused with a line that says which. */
START_TEST(test_snapshot_section_refused)
{
	struct net_snapshot good = { .version = NET_SNAPSHOT_VERSION,
				     .npairs = 2,
				     .active_pairs = 2,
				     .mac = { 0x02, 1, 2, 3, 4, 5 },
				     .live = 1 },
			    st, out;
	uint8_t big[sizeof(good) + 8] = { 0 };

	memcpy(big, &good, sizeof(good));
	ck_assert_int_eq(net_snapshot_parse(&good, sizeof(good) - 1, 2, &out, err, sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "23 bytes"));
	ck_assert_int_eq(net_snapshot_parse(big, sizeof(big), 2, &out, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(net_snapshot_parse(NULL, 0, 2, &out, err, sizeof(err)), -EINVAL);
	st = good;
	st.version = 1; /* before every NIC had a control queue */
	ck_assert_int_eq(net_snapshot_parse(&st, sizeof(st), 2, &out, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "NIC state version 1; this VMM reads version 2 only");
	ck_assert_int_eq(net_snapshot_parse(&good, sizeof(good), 1, &out, err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "2 queue pairs saved, the command line gives 1 (queues=)");
	st = good;
	st.active_pairs = 0;
	ck_assert_int_eq(net_snapshot_parse(&st, sizeof(st), 2, &out, err, sizeof(err)), -EINVAL);
	st.active_pairs = 3;
	ck_assert_int_eq(net_snapshot_parse(&st, sizeof(st), 2, &out, err, sizeof(err)), -EINVAL);
	st = good;
	st.live = 2;
	ck_assert_int_eq(net_snapshot_parse(&st, sizeof(st), 2, &out, err, sizeof(err)), -EINVAL);
	st = good;
	st.pad[3] = 1;
	ck_assert_int_eq(net_snapshot_parse(&st, sizeof(st), 2, &out, err, sizeof(err)), -EINVAL);
	st = good;
	st.announce = 2;
	ck_assert_int_eq(net_snapshot_parse(&st, sizeof(st), 2, &out, err, sizeof(err)), -EINVAL);
	st = good;
	st.mac[0] = 0x03;
	ck_assert_int_eq(net_snapshot_parse(&st, sizeof(st), 2, &out, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "its saved MAC address is a multicast one");
	ck_assert_int_eq(net_snapshot_parse(&good, sizeof(good), 2, &out, err, sizeof(err)), 0);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* Announce (GUEST_ANNOUNCE): the status bit, the config interrupt, the driver's ack */

#define CTRLQ 2 /* the control queue of a one-pair device */
#define ANNOUNCE_FEATURES (F(MRG_RXBUF) | F(CTRL_VQ) | F(GUEST_ANNOUNCE))

static uint16_t config_status(void)
{
	uint8_t st[2];

	virtio_config_read(vdev, 6, st, sizeof(st));
	return (uint16_t)(st[0] | st[1] << 8);
}

/*
 * One control command of len readable bytes (bytes[0..len), at most 8) with a one-byte
 * answer; returns the answer the device wrote.
 */
static uint8_t ctrl(const uint8_t *bytes, uint32_t len)
{
	uint64_t cmd = alloc_gpa(8), ack = alloc_gpa(1);
	struct seg s[2] = { { cmd, len, false }, { ack, 1, true } };

	memcpy(gpa(cmd, 8), bytes, len);
	*(uint8_t *)gpa(ack, 1) = 0xee;
	add_chain(CTRLQ, len ? s : s + 1, len ? 2 : 1);
	kick(CTRLQ);
	wait_used(CTRLQ, 1);
	ck_assert_uint_eq(take_used(CTRLQ).len, 1);
	return *(uint8_t *)gpa(ack, 1);
}

static const uint8_t announce_ack[2] = { VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK };

/* Offered only with the control queue, and asked only of a driver that took both. */
START_TEST(test_announce_negotiation)
{
	start_dev(1, true, F(MRG_RXBUF));
	ck_assert(vdev->device_features & F(CTRL_VQ));
	ck_assert(vdev->device_features & F(GUEST_ANNOUNCE));
	/* a driver that did not take GUEST_ANNOUNCE is not asked, nor interrupted */
	ck_assert(!net_announce(&net));
	ck_assert_uint_eq(config_status(), VIRTIO_NET_S_LINK_UP);
	ck_assert_int_eq(config_notifies, 0);
	/* nor one that took it without the queue its ack would come on */
	vdev->driver_features |= F(GUEST_ANNOUNCE);
	ck_assert(!net_announce(&net));
	ck_assert_uint_eq(config_status(), VIRTIO_NET_S_LINK_UP);
	ck_assert_int_eq(config_notifies, 0);
	ck_assert_uint_eq(stat(&net.announces), 0);
}
END_TEST

/* Announce: bit set and config interrupt; the driver's ack clears it and is counted. */
START_TEST(test_announce_ack)
{
	start_dev(1, true, ANNOUNCE_FEATURES);
	ck_assert(net_announce(&net));
	ck_assert_uint_eq(config_status(), VIRTIO_NET_S_LINK_UP | VIRTIO_NET_S_ANNOUNCE);
	ck_assert_int_eq(config_notifies, 1);
	ck_assert_uint_eq(stat(&net.announces), 1);
	ck_assert_uint_eq(ctrl(announce_ack, 2), VIRTIO_NET_OK);
	ck_assert_uint_eq(config_status(), VIRTIO_NET_S_LINK_UP);
	ck_assert_uint_eq(stat(&net.announce_acks), 1);
	/* a second ack has nothing to acknowledge */
	ck_assert_uint_eq(ctrl(announce_ack, 2), VIRTIO_NET_ERR);
	ck_assert_uint_eq(stat(&net.announce_acks), 1);
	/* the clearing raises no interrupt: the driver did it */
	ck_assert_int_eq(config_notifies, 1);
	ck_assert_int_eq(needs_reset, 0);
	/* a reset forgets a pending announce: the next driver was never asked */
	ck_assert(net_announce(&net));
	vdev->ops->reset(vdev);
	ck_assert_uint_eq(config_status(), VIRTIO_NET_S_LINK_UP);
}
END_TEST

/* Every malformed command is answered ERR and leaves the announce pending. */
START_TEST(test_announce_bad_commands)
{
	static const struct {
		uint8_t bytes[4];
		uint32_t len;
	} bad[] = {
		{ { 0 }, 0 },				       /* no command at all */
		{ { VIRTIO_NET_CTRL_ANNOUNCE }, 1 },	       /* no command byte */
		{ { VIRTIO_NET_CTRL_ANNOUNCE, 0, 0 }, 3 },     /* data after the ack */
		{ { VIRTIO_NET_CTRL_ANNOUNCE, 1 }, 2 },	       /* no such command */
		{ { 0x7f, VIRTIO_NET_CTRL_ANNOUNCE_ACK }, 2 }, /* no such class */
		{ { VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 1, 0 }, 4 }, /* no MQ */
	};

	start_dev(1, true, ANNOUNCE_FEATURES);
	ck_assert(net_announce(&net));
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(ctrl(bad[i].bytes, bad[i].len) == VIRTIO_NET_ERR, "command %u", i);
		ck_assert_uint_eq(config_status(), VIRTIO_NET_S_LINK_UP | VIRTIO_NET_S_ANNOUNCE);
	}
	ck_assert_uint_eq(stat(&net.ctrl_commands), sizeof(bad) / sizeof(bad[0]));
	ck_assert_uint_eq(stat(&net.announce_acks), 0);
	ck_assert_int_eq(needs_reset, 0);
	/* the good one still works after all that */
	ck_assert_uint_eq(ctrl(announce_ack, 2), VIRTIO_NET_OK);
	ck_assert_uint_eq(config_status(), VIRTIO_NET_S_LINK_UP);
}
END_TEST

/* A driver that did not negotiate GUEST_ANNOUNCE gets ERR for the class. */
START_TEST(test_announce_ack_not_negotiated)
{
	start_dev(1, true, F(MRG_RXBUF) | F(CTRL_VQ));
	ck_assert_uint_eq(ctrl(announce_ack, 2), VIRTIO_NET_ERR);
	ck_assert_uint_eq(stat(&net.announce_acks), 0);
}
END_TEST

/* A snapshot taken with the announce unacknowledged restores with it pending. */
START_TEST(test_announce_snapshot)
{
	struct net_snapshot st, back;

	start_dev(1, true, ANNOUNCE_FEATURES);
	net_snapshot_save(&net, true, &st);
	ck_assert_uint_eq(st.announce, 0);
	ck_assert(net_announce(&net));
	vdev->ops->quiesce(vdev);
	net_snapshot_save(&net, true, &st);
	ck_assert_uint_eq(st.announce, 1);
	ck_assert_int_eq(net_snapshot_parse(&st, sizeof(st), 1, &back, err, sizeof(err)), 0);
	/* the restoring device starts from its own set-up: nothing pending */
	net_destroy(&net);
	vdev = NULL;
	close(peer[0]);
	peer[0] = -1;
	for (unsigned int q = 0; q < NQ; q++) {
		if (kick_fd[q] >= 0)
			close(kick_fd[q]);
		kick_fd[q] = -1;
	}
	guest_mem_free(&mem);
	start_dev(1, true, ANNOUNCE_FEATURES);
	ck_assert_uint_eq(config_status(), VIRTIO_NET_S_LINK_UP);
	net_snapshot_apply(&net, &back);
	ck_assert_uint_eq(config_status(), VIRTIO_NET_S_LINK_UP | VIRTIO_NET_S_ANNOUNCE);
	/* the restore asks again (a new interrupt), and one ack answers both */
	ck_assert(net_announce(&net));
	ck_assert_int_eq(config_notifies, 1);
	ck_assert_uint_eq(ctrl(announce_ack, 2), VIRTIO_NET_OK);
	ck_assert_uint_eq(config_status(), VIRTIO_NET_S_LINK_UP);
	net_snapshot_save(&net, true, &st);
	ck_assert_uint_eq(st.announce, 0);
}
END_TEST

START_TEST(test_init_errors)
{
	struct net n2;
	struct virtio_device *v;
	uint8_t mac[6];
	char text[18];

	ck_assert_int_eq(net_init(&n2, &v, NULL, 0, test_mac, &mem, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(
		net_init(&n2, &v, NULL, NET_MAX_PAIRS + 1, test_mac, &mem, err, sizeof(err)),
		-EINVAL);
	ck_assert_int_eq(net_random_mac(mac), 0);
	ck_assert_uint_eq(mac[0] & 3, 2); /* unicast, locally administered */
	net_format_mac(test_mac, text);
	ck_assert_str_eq(text, "02:11:22:33:44:55");
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("net");
	TCase *tc = tcase_create("net");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_config);
	tcase_add_test(tc, test_config_no_vnet_hdr);
	tcase_add_test(tc, test_rx_basic);
	tcase_add_test(tc, test_rx_flags_masked);
	tcase_add_test(tc, test_rx_mergeable_span);
	tcase_add_test(tc, test_rx_waits_for_buffers);
	tcase_add_test(tc, test_rx_single_chain);
	tcase_add_test(tc, test_rx_no_vnet_hdr);
	tcase_add_test(tc, test_rx_bad_buffer);
	tcase_add_test(tc, test_rx_too_small_for_frame);
	tcase_add_test(tc, test_rx_header_only_no_vnet_hdr);
	tcase_add_test(tc, test_tx_basic);
	tcase_add_test(tc, test_tx_no_vnet_hdr);
	tcase_add_test(tc, test_tx_malformed);
	tcase_add_test(tc, test_tx_oversized);
	tcase_add_test(tc, test_hostile_tx_ring);
	tcase_add_test(tc, test_hostile_rx_ring);
	tcase_add_test(tc, test_multiqueue_ctrl);
	tcase_add_test(tc, test_event_idx_tx);
	tcase_add_test(tc, test_backend_gone);
	tcase_add_test(tc, test_backend_gone_while_send_waits);
	tcase_add_test(tc, test_random_rings);
	tcase_add_test(tc, test_pair_serve_without_thread);
	tcase_add_test(tc, test_quiesce_gives_back_rx);
	tcase_add_test(tc, test_quiesce_held_around_bad_chain);
	tcase_add_test(tc, test_quiesce_keeps_pairs);
	tcase_add_test(tc, test_snapshot_section);
	tcase_add_test(tc, test_snapshot_section_refused);
	tcase_add_test(tc, test_announce_negotiation);
	tcase_add_test(tc, test_announce_ack);
	tcase_add_test(tc, test_announce_bad_commands);
	tcase_add_test(tc, test_announce_ack_not_negotiated);
	tcase_add_test(tc, test_announce_snapshot);
	tcase_add_test(tc, test_init_errors);
	suite_add_tcase(s, tc);
	return s;
}
