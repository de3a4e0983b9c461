/* SPDX-License-Identifier: MIT */
/*
 * virtio-net (VIRTIO 1.2 section 5.1) over one back end per queue pair
 * (virtio/net/net_backend.h): a TAP device, user-mode networking, or a test socketpair.
 *
 * Queues: receiveq0, transmitq0, receiveq1, ... and a control queue last (CTRL_VQ, which
 * GUEST_ANNOUNCE and, with more than one pair, MQ need). Offered: MAC, STATUS (link always
 * up), MRG_RXBUF, CTRL_VQ, GUEST_ANNOUNCE, and the checksum and segmentation offloads
 * every back end can carry (CSUM, GUEST_CSUM, HOST_/GUEST_TSO4, TSO6, ECN, UFO); the
 * transport adds VERSION_1, EVENT_IDX and INDIRECT_DESC. The guest's GUEST_* choice goes
 * to each back end's set_offloads().
 *
 * Announce (5.1.6.5.4): after a restore the guest's MAC is behind another port (a new TAP,
 * another host, a clone), and the switches and peers on the way still know the old one.
 * net_announce() sets VIRTIO_NET_S_ANNOUNCE in the status field and raises the config
 * interrupt; the driver sends gratuitous ARPs and unsolicited neighbour advertisements and
 * acknowledges on the control queue (VIRTIO_NET_CTRL_ANNOUNCE_ACK), which clears the bit.
 *
 * Threads: one per queue pair, started when the first queue of the pair starts. It alone
 * pops, pushes and interrupts for its two queues (and for the control queue, pair 0),
 * sleeping in poll(2) on the queues' kick eventfds, a wake eventfd, and the back end's
 * rx_fd (only while frames are wanted and none is waiting) and tx_fd (only while a send
 * was refused). reset() stops and joins the threads; afterwards nothing touches guest
 * memory. quiesce() (a snapshot) does the same between two service passes, so no frame
 * is half moved, gives the receive chains a thread held back to the ring, and keeps the
 * multiqueue setting; queue_start() goes on from the rings' indices. With vhost-net
 * (net_vhost_attach()) the kernel moves the frames instead and the pair's thread is not started,
 * except pair 0's for the control queue; without MSI-X vectors (vhost needs their irqfds) a start
 * falls back to the thread.
 *
 * Multi-queue: after a reset only pair 0 is in use; VQ_PAIRS_SET on the control queue
 * changes that. Back ends of unused pairs hear set_enabled(false) and are not read.
 *
 * Receive: frames are read only into buffers the guest posted; while its ring is empty
 * the frame stays in the back end. Nothing is allocated per frame.
 * Transmit: the ring is drained, then one interrupt decision for the batch.
 * Headers the guest writes are copied out of guest memory, checked (flags, gso_type
 * against the negotiated HOST_* features, hdr_len and csum_start against the frame),
 * and only the checked copy is sent. Bad frames are dropped and counted; a broken ring
 * (virtq_pop error) sets NEEDS_RESET.
 */
#ifndef VIRTIO_NET_NET_H
#define VIRTIO_NET_NET_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <linux/virtio_net.h>

#include "virtio/device.h"
#include "virtio/net/net_backend.h"
#include "virtio/net/net_slirp.h"
#include "virtio/net/net_snapshot.h"
#include "vmm/seccomp.h"

#define NET_MAX_PAIRS 8		      /* queue pairs per device */
#define NET_QUEUE_SIZE 256	      /* queue_max_size offered */
#define NET_HDR_LEN 12		      /* struct virtio_net_hdr_v1 (VERSION_1: always) */
#define NET_MAX_FRAME 65550	      /* Ethernet + VLAN tag + 64 KiB of IP: a GSO frame */
#define NET_MIN_FRAME 14	      /* an Ethernet header */
#define NET_SMALL_FRAME 1518	      /* without guest GSO: Ethernet + VLAN + 1500 */
#define NET_RX_IOV VIRTQ_MAX_SEGMENTS /* receive segments gathered for one frame: IOV_MAX */
#define NET_CONFIG_SIZE 10	      /* mac, status, max_virtqueue_pairs */

_Static_assert(NET_HDR_LEN == sizeof(struct virtio_net_hdr_v1), "virtio_net_hdr_v1");

enum net_backend_kind {
	NET_TAP,    /* tap=IFNAME: open or create the named TAP */
	NET_TAP_FD, /* tap-fd=N: an open TAP descriptor we inherited */
	NET_USER,   /* user[,hostfwd=...]: user-mode networking (libslirp) */
};

/* --net: one virtio-net device and its back end */
struct net_options {
	enum net_backend_kind kind;
	char ifname[16]; /* NET_TAP; IFNAMSIZ */
	int tap_fd;	 /* NET_TAP_FD */
	bool has_mac;
	uint8_t mac[6];		      /* has_mac; else a random locally administered one */
	unsigned int queues;	      /* queue pairs, 1..VMM_NET_MAX_QUEUES; 0 (default): 1 */
	bool vhost;		      /* vhost=on: the kernel's vhost-net moves the frames */
	struct net_user_options user; /* NET_USER: forwarded host ports */
	const char *text;	      /* the option as given, for messages */
};

struct net;

/* Per queue pair; counters are relaxed atomics, kept across device resets. */
struct net_stats {
	uint64_t rx_frames, rx_bytes; /* delivered to the guest */
	uint64_t tx_frames, tx_bytes; /* taken by the back end */
	uint64_t rx_kicks, tx_kicks;  /* notifications the thread consumed */
	uint64_t tx_bad_header;	      /* header short, unknown flags/gso, hdr_len or csum beyond */
	uint64_t tx_oversized;	      /* frame longer than NET_MAX_FRAME */
	uint64_t tx_errors;	      /* the back end refused the frame (dropped) */
	uint64_t rx_bad_buffers;      /* receive chains too small or device-readable */
	uint64_t rx_errors;	      /* empty or failed reads from the back end */
};

/* A receive chain taken from the ring and held until a frame fills it. */
struct net_rx_buf {
	uint16_t head;
	unsigned int iov_first; /* into net_pair.rx_iov */
	unsigned int iovcnt;
	uint32_t bytes;
};

struct net_pair {
	struct net *net;
	unsigned int index;
	struct net_backend *be;
	bool running;
	pthread_t thread;
	struct vmm_seccomp_gate fence; /* the thread opens it once its list is loaded */
	int wake_fd;		       /* eventfd: a new queue started, or stop */
	int kick_fd[2];		       /* rx, tx: the transport's; -1 until queue_start */
	bool started[2];
	bool stop;	/* set under net.lock, read by the thread after a wake */
	bool vhost;	/* vhost=on: vhost-net serves the data queues... */
	bool in_kernel; /* ...and does since this start (it needs MSI-X) */
	/* owned by the thread while it runs */
	bool rx_wait_kick;    /* out of receive buffers: wait for the guest */
	bool rx_wait_backend; /* back end empty: wait for rx_fd */
	bool tx_wait_backend; /* a send said -EAGAIN: wait for tx_fd */
	bool backend_gone;    /* EBADFD and the like: no more traffic, logged once */
	bool error_logged;    /* another back end error was logged (EIO: link down) */
	bool broken;	      /* NEEDS_RESET asked: take nothing more */
	struct net_rx_buf rx_bufs[NET_RX_IOV];
	unsigned int rx_nbufs;
	/*
	 * A chain popped after the first held one was pushed back as bad: the held chains
	 * are then not the ring's last pops, and a quiesce cannot simply un-pop them
	 */
	bool rx_held_gap;
	uint64_t rx_held_bytes; /* a hostile guest may post chains of gigabytes */
	unsigned int rx_iov_used;
	struct iovec rx_iov[NET_RX_IOV];
	struct iovec io_iov[NET_RX_IOV + 1]; /* what goes to the back end */
	struct virtio_net_hdr_v1 tx_hdr;     /* the checked copy that is sent */
	struct virtq_chain chain;	     /* scratch for virtq_pop */
	struct net_stats stats;
};

struct net {
	struct virtio_device vdev;
	uint8_t config[NET_CONFIG_SIZE]; /* little-endian, as the driver reads it */
	unsigned int npairs;
	bool ctrl;		   /* a control queue (index 2 * npairs): always */
	unsigned int active_pairs; /* VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET */
	pthread_mutex_t lock;	   /* queue_start() against reset() */
	int ctrl_kick_fd;
	bool ctrl_started;
	uint64_t ctrl_commands; /* control queue commands answered (relaxed atomics, as stats) */
	uint64_t announces;	/* VIRTIO_NET_S_ANNOUNCE set by net_announce() */
	uint64_t announce_acks; /* ...and acknowledged by the driver */
	struct net_pair *pairs; /* npairs, mmap'ed (large) */
	int vhost_fd[NET_MAX_PAIRS]; /* /dev/vhost-net per pair, -1 without vhost */
	uint64_t vhost_features;
};

/*
 * Set up the device over npairs back ends (1..NET_MAX_PAIRS), backends[i] for pair i;
 * on success the device owns them and net_destroy() closes them, on failure they are
 * still the caller's. All of them need vnet_hdr_len for any offload to be offered.
 * mac: 6 bytes. Returns 0 with *vdev_out, or -errno with one sentence in err. The
 * caller sets transport and may rename vdev->name.
 */
int net_init(struct net *n, struct virtio_device **vdev_out, struct net_backend **backends,
	     unsigned int npairs, const uint8_t mac[6], const struct guest_mem *mem, char *err,
	     size_t errlen);
/*
 * Hand the data queues of every pair to vhost-net: vhost_fds[i] is an open
 * /dev/vhost-net for pair i (the device takes them). Call after net_init, before the
 * guest runs. Returns 0 or -errno with err.
 */
int net_vhost_attach(struct net *n, const int *vhost_fds, char *err, size_t errlen);
/* What net_pair_serve() looks at, and what it says still has work. */
#define NET_SERVE_RX 0x1u
#define NET_SERVE_TX 0x2u
#define NET_SERVE_CTRL 0x4u /* pair 0 of a device with a control queue */

/*
 * One service pass over queue pair `pair`, on the calling thread: what the pair's thread
 * does after each wake-up, and also the entry point for tests/fuzz, which want the same
 * code without a thread. For the queues in `queues` (NET_SERVE_*): drain the transmit
 * ring, fill the guest's posted receive buffers from the back end (only while the pair
 * is in use), answer the control queue. A queue waiting on the back end or the guest, or
 * a pair whose driver broke the rules (NEEDS_RESET), is skipped. Returns the NET_SERVE_*
 * bits of the queues that stopped at their budget with work left. Only the pair's thread
 * may call it, or, when that thread is not running, a caller that enabled the queues
 * (virtq_enable) without starting them.
 */
unsigned int net_pair_serve(struct net *n, unsigned int pair, unsigned int queues);
/*
 * Ask the guest's driver to announce its addresses (a restore moved it): set
 * VIRTIO_NET_S_ANNOUNCE and raise the configuration interrupt. Only if the driver
 * negotiated GUEST_ANNOUNCE (returns false otherwise, and changes nothing). The main
 * thread, with the device's queues started as saved and the vCPUs not yet running.
 */
bool net_announce(struct net *n);
/* Reset (stopping the threads), then close the back ends and free everything. */
void net_destroy(struct net *n);
/*
 * Add the TAP queue and vhost-net descriptors, the pairs' wake-up eventfds and a user
 * network back end's eventfds to a seccomp descriptor set (the transport's kicks and
 * irqfds come from virtio_transport_seccomp_fds()).
 */
void net_seccomp_fds(const struct net *n, struct vmm_seccomp_fds *fds);
/* A random locally administered unicast MAC address. Returns 0 or -errno. */
int net_random_mac(uint8_t mac[6]);
/* "52:54:00:12:34:56": 18 bytes with the NUL. */
void net_format_mac(const uint8_t mac[6], char out[18]);

/*
 * Snapshots (virtio/net/net_snapshot.h): the device's own state, and that state put back
 * on a device set up from the restore's command line, before its queues start. The MAC
 * the guest's driver knows wins over the one --net gave or chose at random; an announce
 * the driver had not acknowledged yet is pending again.
 */
void net_snapshot_save(const struct net *n, bool live, struct net_snapshot *st);
void net_snapshot_apply(struct net *n, const struct net_snapshot *st);

/* --net in the VMM's device registry (virtio/registry.h) */
struct virtio_kind;
extern const struct virtio_kind virtio_net_kind;

#endif
