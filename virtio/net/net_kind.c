// SPDX-License-Identifier: MIT
/*
 * virtio-net as the VMM's registry (virtio/registry.h) sees it, for --net: open each NIC's
 * back ends (TAP, user networking or vhost-net) from its options, connect vhost-net once
 * the VM exists, stop and destroy, the descriptors its threads use, and its counters for
 * --stats. The device itself is virtio/net/net.c.
 */
#include "virtio/net/net.h"
#include "virtio/net/net_slirp.h"
#include "virtio/net/net_tap.h"
#include "virtio/registry.h"
#include "vmm/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	virtio_report_row(r,
			  "    control commands %" PRIu64 "; announces asked %" PRIu64
			  ", acknowledged %" PRIu64,
			  virtio_report_load(&n->ctrl_commands), virtio_report_load(&n->announces),
			  virtio_report_load(&n->announce_acks));
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
		",\n      \"rx_errors\": %" PRIu64 ",\n      \"ctrl_commands\": %" PRIu64
		",\n      \"announces\": %" PRIu64 ",\n      \"announce_acks\": %" PRIu64
		",\n      \"msix_fired\": %" PRIu64 ",\n      \"intx_raised\": %" PRIu64 "\n    }",
		slot->pci.pci.slot, n->npairs, s.rx_frames, s.rx_bytes, s.tx_frames, s.tx_bytes,
		s.rx_kicks, s.tx_kicks, s.tx_bad_header, s.tx_oversized, s.tx_errors,
		s.rx_bad_buffers, s.rx_errors, virtio_report_load(&n->ctrl_commands),
		virtio_report_load(&n->announces), virtio_report_load(&n->announce_acks),
		virtio_report_load(&slot->pci.msix_fired),
		virtio_report_load(&slot->pci.intx_raised));
}

/*
 * Snapshots: the queue-pair threads stop between two frames and give back the receive
 * chains they held (net_quiesce); the transport saves features and queues, this section
 * the MAC and the multiqueue setting. A restore opens the back end again from its own
 * --net: a TAP by name, or a new user network whose connections start from nothing.
 */
static const char *net_kind_snapshot_refusal(const struct virtio_slot *slot)
{
	const struct net_options *o = slot->options;

	/* the kernel's ring positions would have to be read back and handed over */
	return o->vhost ? "its queues are served by vhost-net (vhost=on); use vhost=off" : NULL;
}

static int net_kind_save(struct virtio_slot *slot, struct snap_writer *w, uint32_t instance)
{
	struct net_snapshot st;

	net_snapshot_save(slot->state, virtio_pci_live(&slot->pci), &st);
	return snap_section(w, SNAP_DEVICE, instance, &st, sizeof(st));
}

static int net_kind_restore(struct virtio_slot *slot, const void *data, size_t len, char *err,
			    size_t errlen)
{
	const struct net_options *o = slot->options;
	struct net *n = slot->state;
	struct net_snapshot st;
	char why[160], mac[18], saved[18];

	if (net_snapshot_parse(data, len, n->npairs, &st, why, sizeof(why))) {
		snprintf(err, errlen, "--net %s: %s", o->text, why);
		return -EINVAL;
	}
	net_format_mac(st.mac, saved);
	if (o->has_mac && memcmp(o->mac, st.mac, sizeof(st.mac))) {
		net_format_mac(o->mac, mac);
		snprintf(err, errlen, "--net %s: mac %s, the snapshot's NIC has %s", o->text, mac,
			 saved);
		return -EINVAL;
	}
	if (st.live && o->vhost) {
		snprintf(err, errlen,
			 "--net %s: vhost=on cannot take over queues the guest's driver runs; "
			 "restore with vhost=off",
			 o->text);
		return -EINVAL;
	}
	/* a MAC --net chose at random gives way: the guest's driver knows the saved one */
	if (memcmp(n->config, st.mac, sizeof(st.mac)))
		fprintf(stderr, "vmm: %s: mac %s, as saved\n", slot->name, saved);
	net_snapshot_apply(n, &st);
	return 0;
}

/*
 * Whatever brought the guest here (a restore on another host, a clone beside the original,
 * a new TAP), the network still sends its frames to where its MAC was: ask the guest's
 * driver to announce itself. A driver that did not negotiate GUEST_ANNOUNCE is not asked.
 */
static void net_kind_restored(struct virtio_slot *slot)
{
	if (virtio_pci_live(&slot->pci))
		net_announce(slot->state);
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
	.save = net_kind_save,
	.snapshot_live = true,
	.snapshot_refusal = net_kind_snapshot_refusal,
	.restore = net_kind_restore,
	.restored = net_kind_restored,
};
