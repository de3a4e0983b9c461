// SPDX-License-Identifier: MIT
/* --net: one NIC's back end, MAC address, queue pairs and forwarded ports. */
#include "vmm/options_net.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "vmm/parse.h"

/* "52:54:00:12:34:56"; a multicast or all-zero address is no NIC's. */
static int parse_mac(const char *text, uint8_t mac[6])
{
	uint8_t m[6];

	for (unsigned int i = 0; i < 6; i++) {
		const char *s = text + 3 * i, *end;
		uint64_t byte;

		if (parse_number(s, 2, PARSE_HEX_BARE, 0xff, &byte, &end) || end != s + 2 ||
		    *end != (i == 5 ? '\0' : ':'))
			return -EINVAL;
		m[i] = (uint8_t)byte;
	}
	if ((m[0] & 1) || !(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]))
		return -EINVAL;
	memcpy(mac, m, 6);
	return 0;
}

static int net_error(char *err, size_t errlen, const char *item, int len, const char *why)
{
	snprintf(err, errlen, "--net %.*s: %s", len, item, why);
	return -EINVAL;
}

static bool parse_port(const char *text, uint16_t *port)
{
	uint64_t n;

	if (parse_decimal(text, 1, 65535, &n))
		return false;
	*port = (uint16_t)n;
	return true;
}

/*
 * hostfwd=tcp:[HOSTADDR:]HOSTPORT-:GUESTPORT (the guest address may be written out, but
 * it is always the one DHCP gives). Without HOSTADDR only this host's loopback listens:
 * forwarding a guest port to every network this host is on must be asked for (0.0.0.0).
 * Returns NULL or why the value is wrong.
 */
static const char *parse_hostfwd(const char *v, struct net_user_options *u)
{
	static const char form[] = "expected hostfwd=tcp:[HOSTADDR:]HOSTPORT-:GUESTPORT";
	struct net_hostfwd f = { .host_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char buf[64], *host, *port, *guest, *colon;

	if (strlen(v) >= sizeof(buf))
		return form;
	strcpy(buf, v);
	if (strncmp(buf, "tcp:", 4))
		return strncmp(buf, "udp:", 4) ? form : "only tcp ports can be forwarded";
	host = buf + 4;
	guest = strchr(host, '-');
	if (!guest)
		return form;
	*guest++ = '\0';
	colon = strchr(guest, ':');
	if (!colon)
		return form;
	*colon = '\0';
	if (*guest && strcmp(guest, NET_USER_GUEST_ADDR))
		return "the guest address is always " NET_USER_GUEST_ADDR " (write -:GUESTPORT)";
	if (!parse_port(colon + 1, &f.guest_port))
		return "ports are 1 to 65535";
	colon = strrchr(host, ':');
	port = host;
	if (colon) {
		*colon = '\0';
		port = colon + 1;
		if (*host && inet_pton(AF_INET, host, &f.host_addr) != 1)
			return "the host address must be IPv4, like 127.0.0.1";
	}
	if (!parse_port(port, &f.host_port))
		return "ports are 1 to 65535";
	for (unsigned int i = 0; i < u->nhostfwd; i++) {
		if (u->hostfwd[i].host_port == f.host_port &&
		    (u->hostfwd[i].host_addr.s_addr == f.host_addr.s_addr ||
		     !u->hostfwd[i].host_addr.s_addr || !f.host_addr.s_addr))
			return "that host port is already forwarded";
	}
	if (u->nhostfwd == NET_USER_MAX_HOSTFWD)
		return "at most 16 forwarded ports";
	u->hostfwd[u->nhostfwd++] = f;
	return NULL;
}

/* tap=IFNAME or tap-fd=N; NULL or why not. */
static const char *parse_tap(const char *key, const char *v, struct net_options *o)
{
	uint64_t n;

	if (!strcmp(key, "tap-fd")) {
		o->kind = NET_TAP_FD;
		if (parse_decimal(v, 0, INT32_MAX, &n))
			return "not a file descriptor number";
		o->tap_fd = (int)n;
		return NULL;
	}
	o->kind = NET_TAP;
	if (strlen(v) >= sizeof(o->ifname))
		return "an interface name is at most 15 characters";
	if (strpbrk(v, "/ ,"))
		return "not an interface name";
	strcpy(o->ifname, v);
	return NULL;
}

/* One key=value after the first item; NULL or why not. */
static const char *parse_item(const char *key, const char *v, struct net_options *o)
{
	uint64_t n;

	if (!strcmp(key, "mac")) {
		if (parse_mac(v, o->mac))
			return "not a unicast MAC address (like 52:54:00:12:34:56)";
		o->has_mac = true;
	} else if (!strcmp(key, "queues")) {
		if (parse_decimal(v, 1, VMM_NET_MAX_QUEUES, &n))
			return "queue pairs must be 1 to 8";
		o->queues = (unsigned int)n;
	} else if (!strcmp(key, "hostfwd")) {
		return o->kind == NET_USER ? parse_hostfwd(v, &o->user)
					   : "only user networking forwards ports";
	} else if (!strcmp(key, "vhost")) {
		if (parse_on_off(v, &o->vhost))
			return "must be on or off";
	} else {
		return "unknown key (expected tap, tap-fd, user, mac, queues, vhost or hostfwd)";
	}
	return NULL;
}

/* Combinations that no single item shows to be wrong. */
static const char *check_net(const struct net_options *o)
{
	if (o->kind == NET_USER && o->queues > 1)
		return "user networking has one queue pair";
	if (o->kind == NET_USER && o->vhost)
		return "vhost=on needs a TAP";
	if (o->kind == NET_TAP_FD && o->queues > 1)
		return "tap-fd= carries one queue pair; queues= needs tap=IFNAME";
	return NULL;
}

int net_parse_option(const char *text, struct net_options *o, char *err, size_t errlen)
{
	struct kv_list list;
	unsigned int i = 0;
	const char *why;
	int ret = kv_split(text, 0, &list);

	memset(o, 0, sizeof(*o));
	o->tap_fd = -1;
	o->text = text;
	if (ret == -EINVAL)
		return net_error(err, errlen, text, (int)strlen(text),
				 "expected key=value after each comma");
	if (ret)
		return net_error(err, errlen, text, (int)strlen(text), "too long");
	/* user alone has no value; whether this build has it is main()'s to say */
	if (!strcmp(list.items[0].key, "user") && !list.items[0].value) {
		o->kind = NET_USER;
		i = 1;
	}
	for (; i < list.count; i++) {
		const struct kv_item *it = &list.items[i];
		bool tap = !strcmp(it->key, "tap") || !strcmp(it->key, "tap-fd");

		if (!it->value || !*it->value)
			return net_error(err, errlen, it->raw, it->rawlen, "expected key=value");
		if (tap && i > 0)
			return net_error(err, errlen, it->raw, it->rawlen,
					 "tap= or tap-fd= comes first, once");
		if (!tap && i == 0)
			return net_error(err, errlen, it->raw, it->rawlen,
					 "must start with tap=IFNAME or tap-fd=N (or user)");
		why = tap ? parse_tap(it->key, it->value, o) : parse_item(it->key, it->value, o);
		if (why)
			return net_error(err, errlen, it->raw, it->rawlen, why);
		if (strcmp(it->key, "hostfwd") && kv_repeats(&list, i))
			return net_error(err, errlen, it->raw, it->rawlen, "given twice");
	}
	why = check_net(o);
	if (why)
		return net_error(err, errlen, text, (int)strlen(text), why);
	return 0;
}
