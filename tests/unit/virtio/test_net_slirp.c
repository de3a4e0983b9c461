/* SPDX-License-Identifier: MIT */
/*
 * The user-mode network back end driven alone, as the device would on a guest's
 * behalf: frames built here go in through send(), slirp's answers come out of recv(),
 * and the event loop runs in between as the main thread would.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "check_main.h"
#include "virtio/net/net_slirp.h"
#include "vmm/event_loop.h"

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static struct event_loop *loop;
static struct net_backend *be;
static uint8_t frame[2048];

static uint32_t ip(const char *text)
{
	struct in_addr a;

	ck_assert_int_eq(inet_pton(AF_INET, text, &a), 1);
	return a.s_addr;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static size_t eth(uint8_t *f, const uint8_t *dst, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, guest_mac, 6);
	put16(f + 12, type);
	return 14;
}

/* An IPv4 header at p for payload_len bytes of protocol proto; returns its length. */
static size_t ipv4(uint8_t *p, uint32_t src, uint32_t dst, uint8_t proto, size_t payload_len)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	put16(p + 2, (uint16_t)(20 + payload_len));
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, &src, 4);
	memcpy(p + 16, &dst, 4);
	put16(p + 10, csum_fold(csum_add(0, p, 20)));
	return 20;
}

static void setup_with(const struct net_user_options *opts)
{
	char err[256] = "";

	loop = event_loop_new();
	ck_assert_ptr_nonnull(loop);
	ck_assert_msg(net_slirp_open(&be, opts, loop, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(be->vnet_hdr_len, 0);
	ck_assert_uint_eq(be->offload_features, 0);
	ck_assert_int_eq(be->tap_fd, -1);
	ck_assert_int_ge(be->rx_fd, 0);
}

static void setup(void)
{
	struct net_user_options none = { .nhostfwd = 0 };

	setup_with(&none);
}

static void teardown(void)
{
	if (be)
		be->ops->close(be);
	be = NULL;
	event_loop_free(loop);
}

static ssize_t send_frame(const uint8_t *f, size_t len)
{
	struct iovec iov[2] = { { (void *)f, 10 }, { (void *)(f + 10), len - 10 } };

	return be->ops->send(be, iov, 2); /* split: a guest's header and data may be apart */
}

static bool readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 1;
}

/* The next frame for the guest, running the loop until one comes; 0 after timeout_ms. */
static size_t recv_frame(int timeout_ms)
{
	int64_t end = event_loop_now_ms() + timeout_ms;

	for (;;) {
		struct iovec iov = { frame, sizeof(frame) };
		ssize_t n = be->ops->recv(be, &iov, 1);

		if (n >= 0)
			return (size_t)n;
		ck_assert_int_eq(n, -EAGAIN);
		/* the contract: rx_fd is not readable while nothing waits */
		ck_assert(!readable(be->rx_fd, 0));
		if (event_loop_now_ms() >= end)
			return 0;
		ck_assert_int_eq(event_loop_dispatch(loop, 20), 0);
	}
}

static size_t arp_request(uint8_t *f, uint32_t sender, uint32_t target)
{
	size_t off = eth(f, broadcast, 0x0806);
	uint8_t *a = f + off;

	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, 1);
	memcpy(a + 8, guest_mac, 6);
	memcpy(a + 14, &sender, 4);
	memset(a + 18, 0, 6);
	memcpy(a + 24, &target, 4);
	return off + 28;
}

/* Answer slirp's ARP questions about the guest, as a guest's kernel would. */
static bool answer_arp(const uint8_t *f, size_t len)
{
	uint8_t reply[64];
	uint32_t tip;

	if (len < 42 || get16(f + 12) != 0x0806 || get16(f + 20) != 1)
		return false;
	memcpy(&tip, f + 38, 4);
	if (tip != ip(NET_USER_GUEST_ADDR))
		return false;
	eth(reply, f + 6, 0x0806);
	memcpy(reply + 14, f + 14, 6);
	put16(reply + 20, 2);
	memcpy(reply + 22, guest_mac, 6);
	memcpy(reply + 28, &tip, 4);
	memcpy(reply + 32, f + 22, 10); /* the asker's MAC and address */
	ck_assert_int_eq(send_frame(reply, 42), 42);
	return true;
}

START_TEST(test_dhcp_offer)
{
	size_t len = eth(frame, broadcast, 0x0800);
	uint8_t *ipv4_hdr = frame + len, *udp, *bootp;
	const size_t bootp_len = 236 + 312; /* slirp wants the whole BOOTP vendor area */
	const uint8_t cookie[4] = { 99, 130, 83, 99 };
	uint32_t xid = htonl(0x1badcafe), yiaddr;
	size_t n;

	memset(frame, 0, sizeof(frame));
	len = eth(frame, broadcast, 0x0800);
	len += ipv4(ipv4_hdr, 0, 0xffffffff, 17, 8 + bootp_len);
	udp = frame + len;
	put16(udp, 68);
	put16(udp + 2, 67);
	put16(udp + 4, (uint16_t)(8 + bootp_len));
	put16(udp + 6, 0); /* no UDP checksum: allowed for IPv4 */
	bootp = udp + 8;
	bootp[0] = 1; /* BOOTREQUEST */
	bootp[1] = 1; /* Ethernet */
	bootp[2] = 6;
	memcpy(bootp + 4, &xid, 4);
	memcpy(bootp + 28, guest_mac, 6);
	memcpy(bootp + 236, cookie, 4);
	bootp[240] = 53; /* DHCP message type: DISCOVER */
	bootp[241] = 1;
	bootp[242] = 1;
	bootp[243] = 255;
	len += 8 + bootp_len;
	ck_assert_int_eq(send_frame(frame, len), (ssize_t)len);

	n = recv_frame(2000);
	ck_assert_uint_ge(n, 14 + 20 + 8 + 240 + 3);
	/* to us, or broadcast: a client without an address may not take unicast yet */
	ck_assert(!memcmp(frame, guest_mac, 6) || !memcmp(frame, broadcast, 6));
	ck_assert_uint_eq(get16(frame + 12), 0x0800);
	ck_assert_uint_eq(frame[14 + 9], 17);
	udp = frame + 14 + (frame[14] & 0xf) * 4;
	ck_assert_uint_eq(get16(udp), 67);
	ck_assert_uint_eq(get16(udp + 2), 68);
	bootp = udp + 8;
	ck_assert_uint_eq(bootp[0], 2); /* BOOTREPLY */
	ck_assert_mem_eq(bootp + 4, &xid, 4);
	memcpy(&yiaddr, bootp + 16, 4);
	ck_assert_uint_eq(yiaddr, ip(NET_USER_GUEST_ADDR));
	ck_assert_mem_eq(bootp + 236, cookie, 4);
	/* the first option slirp writes is the message type: OFFER */
	ck_assert_uint_eq(bootp[240], 53);
	ck_assert_uint_eq(bootp[242], 2);
}
END_TEST

START_TEST(test_arp_for_gateway)
{
	size_t len = arp_request(frame, ip(NET_USER_GUEST_ADDR), ip(NET_USER_GATEWAY_ADDR));
	uint32_t spa, tpa;
	size_t n;

	ck_assert_int_eq(send_frame(frame, len), (ssize_t)len);
	n = recv_frame(2000);
	ck_assert_uint_ge(n, 42);
	ck_assert_mem_eq(frame, guest_mac, 6);
	ck_assert_uint_eq(get16(frame + 12), 0x0806);
	ck_assert_uint_eq(get16(frame + 20), 2);    /* reply */
	ck_assert_mem_eq(frame + 22, frame + 6, 6); /* the gateway's MAC is the sender's */
	memcpy(&spa, frame + 28, 4);
	memcpy(&tpa, frame + 38, 4);
	ck_assert_uint_eq(spa, ip(NET_USER_GATEWAY_ADDR));
	ck_assert_mem_eq(frame + 32, guest_mac, 6);
	ck_assert_uint_eq(tpa, ip(NET_USER_GUEST_ADDR));
	ck_assert_uint_eq(recv_frame(50), 0);
}
END_TEST

START_TEST(test_bad_lengths_refused)
{
	struct net_slirp_stats st;
	static uint8_t big[NET_SLIRP_FRAME_MAX + 1];
	struct iovec iov = { big, 13 };

	ck_assert_int_eq(be->ops->send(be, &iov, 1), -EMSGSIZE);
	iov.iov_len = sizeof(big);
	ck_assert_int_eq(be->ops->send(be, &iov, 1), -EMSGSIZE);
	/* a runt that is long enough for a header: slirp itself must shrug it off */
	memset(big, 0xa5, 64);
	iov.iov_len = 14;
	ck_assert_int_eq(be->ops->send(be, &iov, 1), 14);
	ck_assert_int_eq(event_loop_dispatch(loop, 0), 0);
	net_slirp_get_stats(be, &st);
	ck_assert_uint_eq(st.tx_bad_length, 2);
	ck_assert_uint_eq(st.tx_frames, 1);
}
END_TEST

static bool writable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLOUT);
}

START_TEST(test_queues_are_bounded)
{
	const unsigned int extra = 44, total = NET_SLIRP_QUEUE_LEN + extra;
	size_t len = arp_request(frame, ip(NET_USER_GUEST_ADDR), ip(NET_USER_GATEWAY_ADDR));
	struct net_slirp_stats st;
	unsigned int sent = 0, got = 0;

	/* transmit: the ring takes QUEUE_LEN, then says "later" and tx_fd stops being writable */
	ck_assert(writable(be->tx_fd));
	for (unsigned int i = 0; i < NET_SLIRP_QUEUE_LEN; i++, sent++)
		ck_assert_int_eq(send_frame(frame, len), (ssize_t)len);
	ck_assert_int_eq(send_frame(frame, len), -EAGAIN);
	ck_assert(!writable(be->tx_fd));
	ck_assert_int_eq(event_loop_dispatch(loop, 1000), 0);
	ck_assert(writable(be->tx_fd));

	/* receive: nobody calls recv(), so the answers beyond the bound are dropped */
	while (sent < total) {
		ck_assert_int_eq(send_frame(frame, len), (ssize_t)len);
		sent++;
	}
	ck_assert_int_eq(event_loop_dispatch(loop, 1000), 0);
	net_slirp_get_stats(be, &st);
	ck_assert_uint_eq(st.tx_frames, total);
	ck_assert_uint_eq(st.rx_dropped, extra);
	ck_assert(readable(be->rx_fd, 0));
	while (recv_frame(0))
		got++;
	ck_assert_uint_eq(got, NET_SLIRP_QUEUE_LEN);
	net_slirp_get_stats(be, &st);
	ck_assert_uint_eq(st.rx_frames, NET_SLIRP_QUEUE_LEN);

	/* and it works on as before (recv_frame overwrote the request) */
	len = arp_request(frame, ip(NET_USER_GUEST_ADDR), ip(NET_USER_GATEWAY_ADDR));
	ck_assert_int_eq(send_frame(frame, len), (ssize_t)len);
	ck_assert_uint_ge(recv_frame(2000), 42);
}
END_TEST

/* An IPv4 TCP segment in frame; returns the pointer to its TCP header or NULL. */
static const uint8_t *tcp_of(const uint8_t *f, size_t len)
{
	size_t ihl;

	if (len < 14 + 20 || get16(f + 12) != 0x0800 || f[14 + 9] != 6)
		return NULL;
	ihl = (f[14] & 0xf) * 4u;
	return len >= 14 + ihl + 20 ? f + 14 + ihl : NULL;
}

static uint16_t free_tcp_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &alen), 0);
	close(s);
	return ntohs(a.sin_port);
}

START_TEST(test_hostfwd_syn_reaches_guest)
{
	struct net_user_options opts = { .nhostfwd = 1 };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	uint16_t port = free_tcp_port();
	int64_t end;
	int s;
	bool syn = false;

	opts.hostfwd[0] = (struct net_hostfwd){ .host_addr.s_addr = htonl(INADDR_LOOPBACK),
						.host_port = port,
						.guest_port = 2222 };
	setup_with(&opts);

	a.sin_port = htons(port);
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(s, 0);
	ck_assert(connect(s, (struct sockaddr *)&a, sizeof(a)) == 0 || errno == EINPROGRESS);

	end = event_loop_now_ms() + 3000;
	while (!syn && event_loop_now_ms() < end) {
		size_t n = recv_frame(100);
		const uint8_t *tcp = tcp_of(frame, n);
		uint32_t dst;

		if (n && answer_arp(frame, n))
			continue;
		if (!tcp)
			continue;
		memcpy(&dst, frame + 14 + 16, 4);
		ck_assert_uint_eq(dst, ip(NET_USER_GUEST_ADDR));
		ck_assert_uint_eq(get16(tcp + 2), 2222);
		ck_assert_uint_eq(tcp[13] & 0x12, 0x02); /* SYN, no ACK */
		syn = true;
	}
	ck_assert_msg(syn, "no SYN for the guest after connecting to 127.0.0.1:%u", port);
	close(s);
}
END_TEST

START_TEST(test_hostfwd_port_taken)
{
	struct net_user_options opts = { .nhostfwd = 1 };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct net_backend *other;
	char err[256] = "";
	int s = socket(AF_INET, SOCK_STREAM, 0);
	socklen_t alen = sizeof(a);

	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(s, 1), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &alen), 0);
	opts.hostfwd[0] = (struct net_hostfwd){ .host_addr = a.sin_addr,
						.host_port = ntohs(a.sin_port),
						.guest_port = 22 };
	ck_assert_int_lt(net_slirp_open(&other, &opts, loop, err, sizeof(err)), 0);
	ck_assert_ptr_null(other);
	ck_assert_msg(strstr(err, "cannot listen there") != NULL, "%s", err);
	ck_assert(strchr(err, '\n') == NULL);
	close(s);
}
END_TEST

/* The guest opens a TCP connection to the gateway: slirp connects to the host's loopback. */
START_TEST(test_nat_to_host)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int lis = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), conn = -1;
	uint32_t src = ip(NET_USER_GUEST_ADDR), dst = ip(NET_USER_GATEWAY_ADDR), sum;
	uint8_t pseudo[12], *tcp;
	size_t len;
	int64_t end;
	bool synack = false;

	ck_assert_int_ge(lis, 0);
	ck_assert_int_eq(bind(lis, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(lis, 1), 0);
	ck_assert_int_eq(getsockname(lis, (struct sockaddr *)&a, &alen), 0);

	/* the gateway's MAC first, as a guest would learn it */
	len = arp_request(frame, src, dst);
	ck_assert_int_eq(send_frame(frame, len), (ssize_t)len);
	ck_assert_uint_ge(recv_frame(2000), 42);
	{
		uint8_t gw_mac[6];

		memcpy(gw_mac, frame + 6, 6);
		memset(frame, 0, sizeof(frame));
		len = eth(frame, gw_mac, 0x0800);
	}
	len += ipv4(frame + len, src, dst, 6, 20);
	tcp = frame + len;
	put16(tcp, 40000);
	put16(tcp + 2, ntohs(a.sin_port));
	put16(tcp + 4, 0x1234);
	put16(tcp + 6, 0x5678);
	tcp[12] = 5 << 4;
	tcp[13] = 0x02; /* SYN */
	put16(tcp + 14, 65535);
	memcpy(pseudo, &src, 4);
	memcpy(pseudo + 4, &dst, 4);
	pseudo[8] = 0;
	pseudo[9] = 6;
	put16(pseudo + 10, 20);
	sum = csum_add(csum_add(0, pseudo, 12), tcp, 20);
	put16(tcp + 16, csum_fold(sum));
	len += 20;
	ck_assert_int_eq(send_frame(frame, len), (ssize_t)len);

	end = event_loop_now_ms() + 3000;
	while ((conn < 0 || !synack) && event_loop_now_ms() < end) {
		size_t n = recv_frame(50);
		const uint8_t *t = tcp_of(frame, n);

		if (conn < 0)
			conn = accept(lis, NULL, NULL);
		if (t && get16(t) == ntohs(a.sin_port) && get16(t + 2) == 40000) {
			ck_assert_uint_eq(t[13] & 0x12, 0x12); /* SYN+ACK */
			synack = true;
		}
	}
	ck_assert_msg(conn >= 0, "slirp never connected to the host's listener");
	ck_assert(synack);
	close(conn);
	close(lis);
}
END_TEST

/* A UDP datagram from the guest to the gateway arrives at the host's loopback, and back. */
START_TEST(test_udp_nat_round_trip)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in from;
	socklen_t alen = sizeof(a), flen = sizeof(from);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	uint32_t src = ip(NET_USER_GUEST_ADDR), dst = ip(NET_USER_GATEWAY_ADDR);
	uint8_t gw_mac[6], *udp, got[64];
	static const char payload[] = "hello from the guest";
	ssize_t n = -1;
	size_t len;
	int64_t end;
	bool answered = false;

	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &alen), 0);

	len = arp_request(frame, src, dst);
	ck_assert_int_eq(send_frame(frame, len), (ssize_t)len);
	ck_assert_uint_ge(recv_frame(2000), 42);
	memcpy(gw_mac, frame + 6, 6);

	memset(frame, 0, sizeof(frame));
	len = eth(frame, gw_mac, 0x0800);
	len += ipv4(frame + len, src, dst, 17, 8 + sizeof(payload));
	udp = frame + len;
	put16(udp, 40001);
	put16(udp + 2, ntohs(a.sin_port));
	put16(udp + 4, (uint16_t)(8 + sizeof(payload)));
	memcpy(udp + 8, payload, sizeof(payload));
	len += 8 + sizeof(payload);
	ck_assert_int_eq(send_frame(frame, len), (ssize_t)len);

	end = event_loop_now_ms() + 3000;
	while (n < 0 && event_loop_now_ms() < end) {
		ck_assert_int_eq(event_loop_dispatch(loop, 20), 0);
		n = recvfrom(s, got, sizeof(got), 0, (struct sockaddr *)&from, &flen);
	}
	ck_assert_int_eq(n, sizeof(payload));
	ck_assert_mem_eq(got, payload, sizeof(payload));

	/* the answer goes back through the same NAT entry, as a frame for the guest */
	ck_assert_int_eq(sendto(s, "pong", 4, 0, (struct sockaddr *)&from, flen), 4);
	end = event_loop_now_ms() + 3000;
	while (!answered && event_loop_now_ms() < end) {
		size_t m = recv_frame(50);
		const uint8_t *u;

		if (m < 14 + 20 + 8 + 4 || get16(frame + 12) != 0x0800 || frame[14 + 9] != 17)
			continue;
		u = frame + 14 + (frame[14] & 0xf) * 4;
		if (get16(u + 2) != 40001)
			continue;
		ck_assert_uint_eq(get16(u), ntohs(a.sin_port));
		ck_assert_mem_eq(u + 8, "pong", 4);
		answered = true;
	}
	ck_assert(answered);
	close(s);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("net_slirp");
	TCase *tc = tcase_create("core");
	TCase *fwd = tcase_create("hostfwd");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_dhcp_offer);
	tcase_add_test(tc, test_arp_for_gateway);
	tcase_add_test(tc, test_bad_lengths_refused);
	tcase_add_test(tc, test_queues_are_bounded);
	tcase_add_test(tc, test_hostfwd_port_taken);
	tcase_add_test(tc, test_nat_to_host);
	tcase_add_test(tc, test_udp_nat_round_trip);
	suite_add_tcase(s, tc);
	/* opens its own back end, with a forwarded port */
	tcase_add_checked_fixture(fwd, NULL, teardown);
	tcase_add_test(fwd, test_hostfwd_syn_reaches_guest);
	suite_add_tcase(s, fwd);
	return s;
}
