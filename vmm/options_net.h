/* SPDX-License-Identifier: MIT */
/*
 * --net: the parser of one virtio-net device's options (struct net_options, virtio/net/net.h).
 * Pure: opens nothing; whether the TAP exists, or this build has user networking, is
 * for the VMM to find out when it starts.
 */
#ifndef VMM_OPTIONS_NET_H
#define VMM_OPTIONS_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/net/net.h" /* struct net_options: the device's own options */

#define VMM_NET_MAX_QUEUES NET_MAX_PAIRS /* queue pairs per NIC */

/*
 * Parse the text of one --net option (vmm/parse.h's key=value rules):
 *   tap=IFNAME|tap-fd=N first, then [,mac=MAC][,queues=N][,vhost=on|off], each key once;
 *   or user[,hostfwd=tcp:[HOSTADDR:]HOSTPORT-:GUESTPORT]...[,mac=MAC].
 * text must outlive out (out->text points to it). Returns 0, or -EINVAL with one line in
 * err that names the item and why.
 */
int net_parse_option(const char *text, struct net_options *out, char *err, size_t errlen);

#endif
