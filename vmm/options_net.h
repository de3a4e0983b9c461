/* SPDX-License-Identifier: MIT */
/*
 * --net: the options of one virtio-net device and its back end, and their parser.
 * Pure: opens nothing; whether the TAP exists, or this build has user networking, is
 * for the VMM to find out when it starts.
 */
#ifndef VMM_OPTIONS_NET_H
#define VMM_OPTIONS_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/net_slirp.h"

#define VMM_NET_MAX_QUEUES 8 /* queue pairs per NIC: NET_MAX_PAIRS */

enum net_backend_kind {
	NET_TAP,    /* tap=IFNAME: open or create the named TAP */
	NET_TAP_FD, /* tap-fd=N: an open TAP descriptor we inherited */
	NET_USER,   /* user[,hostfwd=...]: user-mode networking (libslirp) */
};

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

/*
 * Parse the text of one --net option (vmm/parse.h's key=value rules):
 *   tap=IFNAME|tap-fd=N first, then [,mac=MAC][,queues=N][,vhost=on|off], each key once;
 *   or user[,hostfwd=tcp:[HOSTADDR:]HOSTPORT-:GUESTPORT]...[,mac=MAC].
 * text must outlive out (out->text points to it). Returns 0, or -EINVAL with one line in
 * err that names the item and why.
 */
int net_parse_option(const char *text, struct net_options *out, char *err, size_t errlen);

#endif
