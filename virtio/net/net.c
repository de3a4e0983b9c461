// SPDX-License-Identifier: MIT
/*
 * virtio-net: move Ethernet frames between the guest's rings and a back end
 * (VIRTIO 1.2 section 5.1.6). Every frame on either ring starts with a 12-byte
 * struct virtio_net_hdr_v1; a back end with vnet_hdr_len 0 gets and gives bare frames,
 * and then no offload is offered, so the header the guest writes must be all plain.
 */
#include "virtio/net/net.h"
#include "virtio/net/net_internal.h"
#include "vmm/seccomp.h"

#include <endian.h>
#include <errno.h>
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
	vmm_seccomp_gate_open(&p->fence, !p->broken);
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
	p->rx_held_gap = false;
	/* the thread takes no signals: vCPU kicks and SIGINT/SIGTERM are for others */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	vmm_seccomp_gate_init(&p->fence);
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
	struct net_pair *p, *started = NULL;
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
		else if (!(r = start_thread(p)))
			started = p;
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
	else if (!p->in_kernel && !(r = start_thread(p)))
		started = p;
out:
	pthread_mutex_unlock(&n->lock);
	/*
	 * A restore starts queues from the main thread before it has a list of its own: wait
	 * until the new thread has its list, so that no thread is unfenced once the guest
	 * runs. The thread takes no lock to get there.
	 */
	if (started)
		vmm_seccomp_gate_wait(&started->fence);
	return r;
vhost_failed:
	fprintf(stderr, "vmm: %s: vhost-net queue %u: %s\n", vdev->name, q, strerror(-r));
	goto out;
}

/* Stop and join every pair's thread (each stops between two service passes). */
static void stop_pairs(struct net *n)
{
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
}

static void net_reset(struct virtio_device *vdev)
{
	struct net *n = to_net(vdev);

	pthread_mutex_lock(&n->lock);
	stop_pairs(n);
	/* 5.1.6.5.5: after a reset only the first pair is in use until VQ_PAIRS_SET */
	n->active_pairs = 1;
	net_set_pairs_enabled(n, 1);
	/* an announce belongs to the driver that was told; a new one negotiates afresh */
	net_set_announce(n, false);
	pthread_mutex_unlock(&n->lock);
}

/*
 * The receive chains a stopped thread held, waiting for a frame big enough, go back to
 * the guest. They were the ring's last pops, in order, unless a bad chain was pushed
 * between them: then un-popping would hand that one out twice, so each is pushed as used
 * with nothing written, which a driver takes as a runt and posts again. That needs a
 * driver that posts bad chains among good ones; Linux's never does.
 */
static void give_back_rx(struct net *n, struct net_pair *p)
{
	unsigned int q = 2 * p->index;
	struct virtq *vq = &n->vdev.queues[q];

	if (!p->rx_nbufs)
		return;
	if (!p->rx_held_gap) {
		virtq_unpop(vq, (uint16_t)p->rx_nbufs);
	} else {
		for (unsigned int i = 0; i < p->rx_nbufs; i++)
			virtq_push(vq, p->rx_bufs[i].head, 0);
		if (virtq_needs_interrupt(vq))
			virtio_notify_queue(&n->vdev, q);
	}
	p->rx_nbufs = 0;
	p->rx_held_bytes = 0;
	p->rx_iov_used = 0;
	p->rx_held_gap = false;
}

static void net_quiesce(struct virtio_device *vdev)
{
	struct net *n = to_net(vdev);

	pthread_mutex_lock(&n->lock);
	stop_pairs(n);
	for (unsigned int i = 0; i < n->npairs; i++)
		if (!n->pairs[i].broken)
			give_back_rx(n, &n->pairs[i]);
	pthread_mutex_unlock(&n->lock);
}

void net_snapshot_save(const struct net *n, bool live, struct net_snapshot *st)
{
	memset(st, 0, sizeof(*st));
	st->version = NET_SNAPSHOT_VERSION;
	st->npairs = n->npairs;
	st->active_pairs = __atomic_load_n(&n->active_pairs, __ATOMIC_RELAXED);
	memcpy(st->mac, n->config, sizeof(st->mac));
	st->live = live;
	st->announce = net_announce_pending(n);
}

void net_snapshot_apply(struct net *n, const struct net_snapshot *st)
{
	memcpy(n->config, st->mac, sizeof(st->mac));
	n->active_pairs = st->active_pairs;
	net_set_pairs_enabled(n, st->active_pairs);
	net_set_announce(n, st->announce);
}

/* ------------------------------------------------------------------------------------ */
/* Set-up */

static const struct virtio_device_ops net_ops = {
	.queue_start = net_queue_start,
	.reset = net_reset,
	.quiesce = net_quiesce,
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
	/* every NIC: GUEST_ANNOUNCE's acknowledgement comes on it, even with one pair */
	n->ctrl = true;
	n->active_pairs = 1;
	net_set_pairs_enabled(n, 1);

	memcpy(n->config, mac, 6);
	n->config[6] = VIRTIO_NET_S_LINK_UP; /* status, little-endian */
	n->config[8] = (uint8_t)npairs;	     /* max_virtqueue_pairs */

	vdev->name = "virtio-net";
	vdev->device_id = VIRTIO_ID_NET;
	vdev->device_features = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS) |
				(1ull << VIRTIO_NET_F_MRG_RXBUF) | (offloads & NET_OFFLOADS) |
				(1ull << VIRTIO_NET_F_CTRL_VQ) |
				(1ull << VIRTIO_NET_F_GUEST_ANNOUNCE);
	if (npairs > 1)
		vdev->device_features |= 1ull << VIRTIO_NET_F_MQ;
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
