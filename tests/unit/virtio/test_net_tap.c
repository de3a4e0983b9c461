/* SPDX-License-Identifier: MIT */
/*
 * The TAP back end against the real kernel. Creating a TAP needs CAP_NET_ADMIN and
 * /dev/net/tun: without them each test says so and passes without checking anything.
 * The interfaces are not persistent: they vanish when the test closes them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "check_main.h"
#include "virtio/net/net_tap.h"

static char err[256];

/* A TAP name unique to this process, so parallel runs do not meet. */
static const char *tap_name(char *buf, size_t len, int n)
{
	snprintf(buf, len, "vmmt%d.%d", (int)(getpid() % 100000), n);
	return buf;
}

static bool tap_usable(void)
{
	struct net_backend *be;
	char name[IFNAMSIZ];

	if (net_tap_open(tap_name(name, sizeof(name), 9), 1, &be, err, sizeof(err))) {
		fprintf(stderr, "test_net_tap: no TAP here (%s); skipped\n", err);
		return false;
	}
	be->ops->close(be);
	return true;
}

static int run(const char *fmt, const char *arg)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), fmt, arg);
	return system(cmd);
}

START_TEST(test_open_and_offloads)
{
	struct net_backend *be;
	char name[IFNAMSIZ];
	int fl;

	if (!tap_usable())
		return;
	ck_assert_int_eq(net_tap_open(tap_name(name, sizeof(name), 1), 1, &be, err, sizeof(err)),
			 0);
	ck_assert_str_eq(be->name, name);
	ck_assert_int_ge(be->rx_fd, 0);
	ck_assert_int_eq(be->tx_fd, be->rx_fd);
	ck_assert_int_eq(be->tap_fd, be->rx_fd);
	ck_assert_uint_eq(be->vnet_hdr_len, sizeof(struct virtio_net_hdr_v1));
	ck_assert(be->offload_features & (1ull << VIRTIO_NET_F_CSUM));
	ck_assert(be->offload_features & (1ull << VIRTIO_NET_F_GUEST_TSO4));
	fl = fcntl(be->rx_fd, F_GETFD);
	ck_assert(fl & FD_CLOEXEC);
	ck_assert(fcntl(be->rx_fd, F_GETFL) & O_NONBLOCK);
	ck_assert_int_eq(be->ops->set_offloads(be, (1ull << VIRTIO_NET_F_GUEST_CSUM) |
							   (1ull << VIRTIO_NET_F_GUEST_TSO4)),
			 0);
	ck_assert_int_eq(be->ops->set_offloads(be, 0), 0);
	ck_assert_int_eq(be->ops->set_enabled(be, false), 0); /* single queue: nothing to do */
	be->ops->close(be);
}
END_TEST

START_TEST(test_frames_and_link_states)
{
	struct net_backend *be;
	char name[IFNAMSIZ], frame[12 + 60], buf[2048];
	struct iovec v = { frame, sizeof(frame) }, r = { buf, sizeof(buf) };

	if (!tap_usable())
		return;
	ck_assert_int_eq(net_tap_open(tap_name(name, sizeof(name), 2), 1, &be, err, sizeof(err)),
			 0);
	memset(frame, 0, sizeof(frame));
	memset(frame + 12, 0xff, 6); /* broadcast */
	frame[12 + 6] = 0x02;
	/* nothing waiting: the descriptor never blocks */
	ck_assert_int_eq(be->ops->recv(be, &r, 1), -EAGAIN);
	/* a TAP whose link is down refuses frames (EIO), and takes them once it is up */
	ck_assert_int_eq(be->ops->send(be, &v, 1), -EIO);
	ck_assert_int_eq(run("ip link set %s up", name), 0);
	ck_assert_int_eq(be->ops->send(be, &v, 1), (ssize_t)sizeof(frame));
	/* a deleted TAP says EBADFD both ways */
	ck_assert_int_eq(run("ip link del %s", name), 0);
	ck_assert_int_eq(be->ops->send(be, &v, 1), -EBADFD);
	ck_assert_int_eq(be->ops->recv(be, &r, 1), -EBADFD);
	be->ops->close(be);
}
END_TEST

START_TEST(test_multi_queue)
{
	struct net_backend *be[3];
	char name[IFNAMSIZ];

	if (!tap_usable())
		return;
	ck_assert_int_eq(net_tap_open(tap_name(name, sizeof(name), 3), 3, be, err, sizeof(err)), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_str_eq(be[i]->name, name);
	ck_assert(be[0]->rx_fd != be[1]->rx_fd);
	/* detach and attach again, twice each way: repeated calls are harmless */
	ck_assert_int_eq(be[2]->ops->set_enabled(be[2], false), 0);
	ck_assert_int_eq(be[2]->ops->set_enabled(be[2], false), 0);
	ck_assert_int_eq(be[2]->ops->set_enabled(be[2], true), 0);
	ck_assert_int_eq(be[2]->ops->set_enabled(be[2], true), 0);
	/* a single-queue open of a multi-queue TAP is refused with a hint */
	{
		struct net_backend *one;

		ck_assert_int_eq(net_tap_open(name, 1, &one, err, sizeof(err)), -EINVAL);
		ck_assert_msg(strstr(err, name) && strstr(err, "queues="), "%s", err);
	}
	for (int i = 0; i < 3; i++)
		be[i]->ops->close(be[i]);
}
END_TEST

START_TEST(test_from_fd)
{
	struct net_backend *be;
	struct ifreq ifr;
	char name[IFNAMSIZ];
	int fd;

	ck_assert_int_eq(net_tap_from_fd(0x7ffffff, &be, err, sizeof(err)), -EBADF);
	ck_assert_msg(strstr(err, "tap-fd=134217727"), "%s", err);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	ck_assert_int_eq(net_tap_from_fd(fd, &be, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "not a TAP device"), "%s", err);
	close(fd);
	if (!tap_usable())
		return;
	/* a TUN is refused, and so is a TAP with packet information */
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", tap_name(name, sizeof(name), 4));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	ck_assert_int_eq(ioctl(fd, TUNSETIFF, &ifr), 0);
	ck_assert_int_eq(net_tap_from_fd(fd, &be, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "is a TUN"), "%s", err);
	close(fd);
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	ifr.ifr_flags = IFF_TAP;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", tap_name(name, sizeof(name), 5));
	ck_assert_int_eq(ioctl(fd, TUNSETIFF, &ifr), 0);
	ck_assert_int_eq(net_tap_from_fd(fd, &be, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "IFF_NO_PI"), "%s", err);
	close(fd);
	/* without IFF_VNET_HDR: accepted, bare frames, no offloads */
	fd = open("/dev/net/tun", O_RDWR); /* no O_CLOEXEC: the back end sets it */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", tap_name(name, sizeof(name), 6));
	ck_assert_int_eq(ioctl(fd, TUNSETIFF, &ifr), 0);
	ck_assert_int_eq(net_tap_from_fd(fd, &be, err, sizeof(err)), 0);
	ck_assert_uint_eq(be->vnet_hdr_len, 0);
	ck_assert_uint_eq(be->offload_features, 0);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	ck_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
	ck_assert_str_eq(be->name, name);
	be->ops->close(be);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("net_tap");
	TCase *tc = tcase_create("net_tap");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_open_and_offloads);
	tcase_add_test(tc, test_frames_and_link_states);
	tcase_add_test(tc, test_multi_queue);
	tcase_add_test(tc, test_from_fd);
	suite_add_tcase(s, tc);
	return s;
}
