// SPDX-License-Identifier: MIT
/*
 * virtio-net: move Ethernet frames between the guest's rings and a back end
 * (VIRTIO 1.2 section 5.1.6). Every frame on either ring starts with a 12-byte
 * struct virtio_net_hdr_v1; a back end with vnet_hdr_len 0 gets and gives bare frames,
 * and then no offload is offered, so the header the guest writes must be all plain.
 */
#include "virtio/net/net.h"
#include "virtio/net/net_internal.h"
#include "virtio/net/net_slirp.h"
#include "virtio/net/net_tap.h"
#include "virtio/registry.h"
#include "vmm/seccomp.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <linux/virtio_ids.h>

static struct net *to_net(struct virtio_device *vdev)
{
	return vdev->priv;
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
		if ((queues & NET_SERVE_TX) && !p->tx_wait_backend && net_tx_process(p))
			more |= NET_SERVE_TX;
		/* frames for a pair the driver does not use wait until it does */
		if ((queues & NET_SERVE_RX) && !p->rx_wait_kick && !p->rx_wait_backend &&
		    !p->broken && net_pair_active(p) && net_rx_process(p))
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
		net_ctrl_process(n, p);
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
			net_pair_wake(p);
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
		net_pair_wake(p);
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
			net_pair_wake(p);
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
	net_set_pairs_enabled(n, 1);
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
	net_set_pairs_enabled(n, 1);

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

/* ------------------------------------------------------------------------------------ */
/* The kind: --net, in the VMM's registry (virtio/registry.h) */

/*
 * A NIC and, with vhost=on, its /dev/vhost-net handles: opened with the NIC (the device
 * node is often root's) and handed to vhost-net once the privileges are gone and the VM
 * exists (connect): VHOST_SET_OWNER makes the kernel's worker, which on recent kernels is
 * a thread of this process with the caller's credentials.
 */
struct net_slot {
	struct net net;
	int vhost_fds[NET_MAX_PAIRS];
};

static void close_backends(struct net_backend **be, unsigned int n)
{
	for (unsigned int j = 0; j < n; j++)
		be[j]->ops->close(be[j]);
}

static int open_vhost(struct net_slot *ns, const struct net_options *o, unsigned int pairs,
		      char *err, size_t errlen)
{
	for (unsigned int j = 0; o->vhost && j < pairs; j++) {
		ns->vhost_fds[j] = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
		if (ns->vhost_fds[j] < 0) {
			int r = -errno;

			snprintf(err, errlen, "--net %s: vhost=on: /dev/vhost-net: %s%s", o->text,
				 strerror(errno),
				 errno == ENOENT ? " (is the vhost_net module loaded?)" : "");
			while (j-- > 0)
				close(ns->vhost_fds[j]);
			return r;
		}
	}
	return 0;
}

static int net_kind_open(struct virtio_slot *slot, const struct virtio_host *host, char *err,
			 size_t errlen)
{
	const struct net_options *o = slot->options;
	struct net_backend *be[NET_MAX_PAIRS];
	unsigned int pairs = o->queues ? o->queues : 1;
	struct net_slot *ns;
	uint8_t mac[6];
	char why[384];
	int r;

	if (o->kind == NET_TAP)
		r = net_tap_open(o->ifname, pairs, be, why, sizeof(why));
	else if (o->kind == NET_TAP_FD)
		r = net_tap_from_fd(o->tap_fd, be, why, sizeof(why));
	else
		r = net_slirp_open(&be[0], &o->user, host->loop, why, sizeof(why));
	if (r) {
		snprintf(err, errlen, "--net %s", why); /* why names the key and value */
		return r;
	}
	if (o->has_mac) {
		memcpy(mac, o->mac, 6);
	} else if (net_random_mac(mac)) {
		/* no randomness: still unique within this VM, still locally administered */
		memset(mac, 0, 6);
		mac[0] = 0x02;
		mac[5] = (uint8_t)(slot->index + 1);
	}
	if (o->vhost && !be[0]->vnet_hdr_len) {
		snprintf(err, errlen, "--net %s: vhost=on needs a TAP opened with IFF_VNET_HDR",
			 o->text);
		close_backends(be, pairs);
		return -EINVAL;
	}
	ns = calloc(1, sizeof(*ns));
	r = ns ? open_vhost(ns, o, pairs, err, errlen) : -ENOMEM;
	if (!ns)
		snprintf(err, errlen, "--net %s: %s", o->text, strerror(ENOMEM));
	if (!r &&
	    (r = net_init(&ns->net, &slot->vdev, be, pairs, mac, host->mem, why, sizeof(why)))) {
		snprintf(err, errlen, "--net %s: %s", o->text, why);
		for (unsigned int j = 0; o->vhost && j < pairs; j++)
			close(ns->vhost_fds[j]);
	}
	if (r) {
		close_backends(be, pairs);
		free(ns);
		return r;
	}
	slot->state = ns; /* from here net_destroy releases the back ends */
	return 0;
}

static void net_kind_log_opened(const struct virtio_slot *slot)
{
	const struct net_options *o = slot->options;
	const struct net *n = slot->state;
	char mac[18];

	net_format_mac(n->config, mac);
	fprintf(stderr, "vmm: %s: mac %s on %s, %u queue pair%s%s\n", n->vdev.name, mac,
		n->pairs[0].be->name, n->npairs, n->npairs == 1 ? "" : "s",
		o->vhost ? ", vhost-net" : "");
}

/* vhost=on: hand the data queues to vhost-net (see struct net_slot). */
static int net_kind_connect(struct virtio_slot *slot, char *err, size_t errlen)
{
	const struct net_options *o = slot->options;
	struct net_slot *ns = slot->state;
	char why[384];

	if (o->vhost && net_vhost_attach(&ns->net, ns->vhost_fds, why, sizeof(why))) {
		snprintf(err, errlen, "--net %s: vhost=on: %s", o->text, why);
		return -EINVAL;
	}
	return 0;
}

/* The queue-pair threads stop here; the counters stay until after the statistics. */
static void net_kind_stop(struct virtio_slot *slot)
{
	slot->vdev->ops->reset(slot->vdev);
}

static void net_kind_destroy(struct virtio_slot *slot)
{
	net_destroy(slot->state);
	free(slot->state);
	slot->state = NULL;
}

static void net_kind_seccomp_fds(const struct virtio_slot *slot, struct vmm_seccomp_fds *fds)
{
	net_seccomp_fds(slot->state, fds);
}

/* libslirp runs in the event loop: with --net user, the main thread needs its sockets. */
static bool net_kind_uses_main_loop(const struct virtio_slot *slot)
{
	return ((const struct net_options *)slot->options)->kind == NET_USER;
}

/* virtio-net: frames each way, and what was dropped and why, summed over queue pairs. */
static struct net_stats net_totals(const struct net *n)
{
	struct net_stats t;

	memset(&t, 0, sizeof(t));
	for (unsigned int q = 0; n->pairs && q < n->npairs; q++) {
		const struct net_stats *s = &n->pairs[q].stats;

		t.rx_frames += virtio_report_load(&s->rx_frames);
		t.rx_bytes += virtio_report_load(&s->rx_bytes);
		t.tx_frames += virtio_report_load(&s->tx_frames);
		t.tx_bytes += virtio_report_load(&s->tx_bytes);
		t.rx_kicks += virtio_report_load(&s->rx_kicks);
		t.tx_kicks += virtio_report_load(&s->tx_kicks);
		t.tx_bad_header += virtio_report_load(&s->tx_bad_header);
		t.tx_oversized += virtio_report_load(&s->tx_oversized);
		t.tx_errors += virtio_report_load(&s->tx_errors);
		t.rx_bad_buffers += virtio_report_load(&s->rx_bad_buffers);
		t.rx_errors += virtio_report_load(&s->rx_errors);
	}
	return t;
}

static void net_kind_report_heading(struct virtio_report *r)
{
	virtio_report_row(r, "virtio-net                      %10s %10s %10s %10s %8s %8s",
			  "rx frames", "rx bytes", "tx frames", "tx bytes", "MSI-X", "INTx");
}

static void net_kind_report_rows(struct virtio_report *r, const struct virtio_slot *slot)
{
	const struct virtio_pci *vp = &slot->pci;
	const struct net *n = slot->state;
	struct net_stats s = net_totals(n);
	char name[40];

	snprintf(name, sizeof(name), "%s (00:%02x.0)", n->vdev.name, vp->pci.slot);
	virtio_report_row(r,
			  "  %-29s %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64
			  " %8" PRIu64 " %8" PRIu64,
			  name, s.rx_frames, s.rx_bytes, s.tx_frames, s.tx_bytes,
			  virtio_report_load(&vp->msix_fired),
			  virtio_report_load(&vp->intx_raised));
	virtio_report_row(r,
			  "    kicks rx/tx %" PRIu64 "/%" PRIu64 "; dropped: tx bad header %" PRIu64
			  ", tx oversized %" PRIu64 ", tx back end errors %" PRIu64
			  ", rx bad buffers %" PRIu64 ", rx errors %" PRIu64,
			  s.rx_kicks, s.tx_kicks, s.tx_bad_header, s.tx_oversized, s.tx_errors,
			  s.rx_bad_buffers, s.rx_errors);
	for (unsigned int q = 0; n->npairs > 1 && q < n->npairs; q++) {
		const struct net_stats *ps = &n->pairs[q].stats;

		virtio_report_row(
			r,
			"    queue pair %-16u %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64,
			q, virtio_report_load(&ps->rx_frames), virtio_report_load(&ps->rx_bytes),
			virtio_report_load(&ps->tx_frames), virtio_report_load(&ps->tx_bytes));
	}
}

static void net_kind_report_json(FILE *out, const struct virtio_slot *slot)
{
	const struct net *n = slot->state;
	struct net_stats s = net_totals(n);

	fputs("{\n      \"name\": ", out);
	virtio_report_json_string(out, n->vdev.name);
	fprintf(out,
		",\n      \"pci\": \"00:%02x.0\",\n      \"queue_pairs\": %u"
		",\n      \"rx_frames\": %" PRIu64 ",\n      \"rx_bytes\": %" PRIu64
		",\n      \"tx_frames\": %" PRIu64 ",\n      \"tx_bytes\": %" PRIu64
		",\n      \"rx_kicks\": %" PRIu64 ",\n      \"tx_kicks\": %" PRIu64
		",\n      \"tx_bad_header\": %" PRIu64 ",\n      \"tx_oversized\": %" PRIu64
		",\n      \"tx_errors\": %" PRIu64 ",\n      \"rx_bad_buffers\": %" PRIu64
		",\n      \"rx_errors\": %" PRIu64 ",\n      \"msix_fired\": %" PRIu64
		",\n      \"intx_raised\": %" PRIu64 "\n    }",
		slot->pci.pci.slot, n->npairs, s.rx_frames, s.rx_bytes, s.tx_frames, s.tx_bytes,
		s.rx_kicks, s.tx_kicks, s.tx_bad_header, s.tx_oversized, s.tx_errors,
		s.rx_bad_buffers, s.rx_errors, virtio_report_load(&slot->pci.msix_fired),
		virtio_report_load(&slot->pci.intx_raised));
}

const struct virtio_kind virtio_net_kind = {
	.name = "virtio-net",
	.noun = "NIC",
	.stage = VIRTIO_OPEN_FIRST,
	.open = net_kind_open,
	.log_opened = net_kind_log_opened,
	.connect = net_kind_connect,
	.stop = net_kind_stop,
	.destroy = net_kind_destroy,
	.seccomp_fds = net_kind_seccomp_fds,
	.uses_main_loop = net_kind_uses_main_loop,
	.report_key = "net",
	.report_heading = net_kind_report_heading,
	.report_rows = net_kind_report_rows,
	.report_json = net_kind_report_json,
	.save = NULL, /* snapshots: filled by the snapshot work */
	.restore = NULL,
};
