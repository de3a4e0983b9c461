// SPDX-License-Identifier: MIT
/* Command-line parsing and validation of everything that needs no host resource. */
#include "vmm/options.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/exit_codes.h"

enum {
	OPT_KERNEL = 256,
	OPT_FLAT,
	OPT_INITRD,
	OPT_CMDLINE,
	OPT_CPUS,
	OPT_MEMORY,
	OPT_CONSOLE,
	OPT_KVM_DEVICE,
	OPT_DISK,
	OPT_NET,
	OPT_SHARE,
	OPT_UUID,
	OPT_NAME,
	OPT_STATS,
	OPT_STATS_JSON,
	OPT_SECCOMP,
	OPT_USER,
	OPT_HELP,
	OPT_VERSION,
	OPT_TIMEOUT,
	OPT_ROOTFS,
	OPT_MODULES,
	OPT_ENV,
	OPT_CWD,
	OPT_STATUS_FILE,
	OPT_VERBOSE,
	OPT_CONFIG,
	OPT_JAIL,
	OPT_RNG,
};

static const struct option long_options[] = {
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "flat", required_argument, NULL, OPT_FLAT },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "console", required_argument, NULL, OPT_CONSOLE },
	{ "kvm-device", required_argument, NULL, OPT_KVM_DEVICE },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "net", required_argument, NULL, OPT_NET },
	{ "share", required_argument, NULL, OPT_SHARE },
	{ "uuid", required_argument, NULL, OPT_UUID },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "stats-json", required_argument, NULL, OPT_STATS_JSON },
	{ "seccomp", required_argument, NULL, OPT_SECCOMP },
	{ "user", required_argument, NULL, OPT_USER },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "rootfs", required_argument, NULL, OPT_ROOTFS },
	{ "modules", required_argument, NULL, OPT_MODULES },
	{ "env", required_argument, NULL, OPT_ENV },
	{ "cwd", required_argument, NULL, OPT_CWD },
	{ "status-file", required_argument, NULL, OPT_STATUS_FILE },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "jail", required_argument, NULL, OPT_JAIL },
	{ "rng", optional_argument, NULL, OPT_RNG },
	{ NULL, 0, NULL, 0 },
};

int options_parse_size(const char *text, uint64_t *out)
{
	char *end;
	unsigned long long value;
	unsigned int shift = 0;

	if (!text || !isdigit((unsigned char)text[0]))
		return -EINVAL;
	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno)
		return -EINVAL;
	switch (toupper((unsigned char)*end)) {
	case '\0':
		break;
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	default:
		return -EINVAL;
	}
	if (*end && end[1] != '\0' && strcasecmp(end + 1, "iB") && strcasecmp(end + 1, "B"))
		return -EINVAL;
	if (shift && value > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)value << shift;
	return 0;
}

/* A decimal count from 1 to max: no sign, no suffix, nothing after it. */
static int parse_count(const char *text, long max, unsigned int *out)
{
	char *end;
	long value;

	if (!isdigit((unsigned char)text[0]))
		return -EINVAL;
	errno = 0;
	value = strtol(text, &end, 10);
	if (errno || *end || value < 1 || value > max)
		return -EINVAL;
	*out = (unsigned int)value;
	return 0;
}

/* NAME=VALUE with a shell-style name, so the guest's environment stays well-formed. */
static bool env_valid(const char *text)
{
	const char *eq = strchr(text, '=');

	if (!eq || eq == text || isdigit((unsigned char)text[0]))
		return false;
	for (const char *p = text; p < eq; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return false;
	return true;
}

static int parse_disk(struct vmm_options *opts, const char *text, char *err, size_t errlen)
{
	if (opts->ndisks == VMM_MAX_DISKS) {
		snprintf(err, errlen, "--disk %s: at most %d disks", text, VMM_MAX_DISKS);
		return -EINVAL;
	}
	/* its messages already name the option, the key and the value */
	if (disk_parse_option(text, &opts->disks[opts->ndisks], err, errlen))
		return -EINVAL;
	opts->ndisks++;
	return 0;
}

/* A numeric ID: 0 to 2^32 - 2 (-1 means "unchanged" to the set*id calls). */
static int parse_id(const char *text, const char **end, uint32_t *out)
{
	unsigned long long v = 0;
	const char *p = text;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (unsigned long long)(*p - '0');
		if (v >= UINT32_MAX)
			return -EINVAL;
	}
	*end = p;
	*out = (uint32_t)v;
	return 0;
}

static int parse_user(const char *text, uint32_t *uid, uint32_t *gid)
{
	const char *end;

	if (parse_id(text, &end, uid))
		return -EINVAL;
	if (*end == '\0') {
		*gid = *uid;
		return 0;
	}
	if (*end != ':' || parse_id(end + 1, &end, gid) || *end != '\0')
		return -EINVAL;
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "52:54:00:12:34:56"; a multicast or all-zero address is no NIC's. */
static int parse_mac(const char *text, uint8_t mac[6])
{
	uint8_t m[6];

	for (unsigned int i = 0; i < 6; i++) {
		const char *s = text + 3 * i;
		int hi = hex_digit(s[0]), lo = hi < 0 ? -1 : hex_digit(s[1]);

		if (hi < 0 || lo < 0 || s[2] != (i == 5 ? '\0' : ':'))
			return -EINVAL;
		m[i] = (uint8_t)(hi << 4 | lo);
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

/* A whole number in [min, max], decimal only, nothing after it. */
static bool parse_uint(const char *text, size_t len, unsigned long min, unsigned long max,
		       unsigned long *out)
{
	unsigned long v = 0;

	if (len == 0 || len > 9)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)text[i]))
			return false;
		v = v * 10 + (unsigned long)(text[i] - '0');
	}
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

/*
 * hostfwd=tcp:[HOSTADDR:]HOSTPORT-:GUESTPORT (the guest address may be written out, but
 * it is always the one DHCP gives). Without HOSTADDR only this host's loopback listens:
 * forwarding a guest port to every network this host is on must be asked for (0.0.0.0).
 * Returns NULL or why the value is wrong.
 */
static const char *parse_hostfwd(const char *v, size_t vlen, struct net_user_options *u)
{
	static const char form[] = "expected hostfwd=tcp:[HOSTADDR:]HOSTPORT-:GUESTPORT";
	struct net_hostfwd f = { .host_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char buf[64], *host, *port, *guest, *colon;
	unsigned long n;

	if (vlen >= sizeof(buf))
		return form;
	memcpy(buf, v, vlen);
	buf[vlen] = '\0';
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
	if (!parse_uint(colon + 1, strlen(colon + 1), 1, 65535, &n))
		return "ports are 1 to 65535";
	f.guest_port = (uint16_t)n;
	colon = strrchr(host, ':');
	port = host;
	if (colon) {
		*colon = '\0';
		port = colon + 1;
		if (*host && inet_pton(AF_INET, host, &f.host_addr) != 1)
			return "the host address must be IPv4, like 127.0.0.1";
	}
	if (!parse_uint(port, strlen(port), 1, 65535, &n))
		return "ports are 1 to 65535";
	f.host_port = (uint16_t)n;
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

/* tap=IFNAME|tap-fd=N first, then [,mac=MAC][,queues=N][,vhost=on|off], each key once. */
static int parse_net(struct vmm_options *opts, const char *text, char *err, size_t errlen)
{
	struct net_options *o = &opts->nics[opts->nnics];
	unsigned int seen = 0;
	const char *p = text;

	if (opts->nnics == VMM_MAX_NICS) {
		snprintf(err, errlen, "--net %s: at most %d network devices", text, VMM_MAX_NICS);
		return -EINVAL;
	}
	memset(o, 0, sizeof(*o));
	o->tap_fd = -1;
	o->text = text;
	/* user alone has no value; whether this build has it is main()'s to say */
	if (!strcmp(text, "user") || !strncmp(text, "user,", 5)) {
		o->kind = NET_USER;
		seen = 1;
		if (!text[4]) {
			opts->nnics++;
			return 0;
		}
		p = text + 5;
	}
	for (bool first = o->kind != NET_USER;; first = false) {
		size_t len = strcspn(p, ","), klen = strcspn(p, "=");
		const char *v = p + klen + 1;
		size_t vlen = len - klen - 1;
		unsigned long n;
		unsigned int bit;

		if (len == 0)
			return net_error(err, errlen, text, (int)strlen(text),
					 "expected key=value after each comma");
		if (klen >= len || vlen == 0)
			return net_error(err, errlen, p, (int)len, "expected key=value");
		if (!strncmp(p, "tap=", 4) || !strncmp(p, "tap-fd=", 7)) {
			if (!first)
				return net_error(err, errlen, p, (int)len,
						 "tap= or tap-fd= comes first, once");
			bit = 1;
			if (p[3] == '=') {
				o->kind = NET_TAP;
				if (vlen >= sizeof(o->ifname))
					return net_error(err, errlen, p, (int)len,
							 "an interface name is at most 15 "
							 "characters");
				memcpy(o->ifname, v, vlen);
				o->ifname[vlen] = '\0';
				if (strchr(o->ifname, '/') || strchr(o->ifname, ' '))
					return net_error(err, errlen, p, (int)len,
							 "not an interface name");
			} else {
				o->kind = NET_TAP_FD;
				if (!parse_uint(v, vlen, 0, INT32_MAX, &n))
					return net_error(err, errlen, p, (int)len,
							 "not a file descriptor number");
				o->tap_fd = (int)n;
			}
		} else if (first) {
			return net_error(err, errlen, p, (int)len,
					 "must start with tap=IFNAME or tap-fd=N (or user)");
		} else if (!strncmp(p, "mac=", 4)) {
			char mac[18];

			bit = 2;
			if (vlen >= sizeof(mac))
				return net_error(
					err, errlen, p, (int)len,
					"not a unicast MAC address (like 52:54:00:12:34:56)");
			memcpy(mac, v, vlen);
			mac[vlen] = '\0';
			if (parse_mac(mac, o->mac))
				return net_error(
					err, errlen, p, (int)len,
					"not a unicast MAC address (like 52:54:00:12:34:56)");
			o->has_mac = true;
		} else if (!strncmp(p, "queues=", 7)) {
			bit = 4;
			if (!parse_uint(v, vlen, 1, VMM_NET_MAX_QUEUES, &n))
				return net_error(err, errlen, p, (int)len,
						 "queue pairs must be 1 to 8");
			o->queues = (unsigned int)n;
		} else if (!strncmp(p, "hostfwd=", 8)) {
			const char *why = o->kind == NET_USER
						  ? parse_hostfwd(v, vlen, &o->user)
						  : "only user networking forwards ports";

			if (why)
				return net_error(err, errlen, p, (int)len, why);
			bit = 0; /* repeatable */
		} else if (!strncmp(p, "vhost=", 6)) {
			bit = 8;
			if (vlen == 2 && !strncmp(v, "on", 2))
				o->vhost = true;
			else if (vlen == 3 && !strncmp(v, "off", 3))
				o->vhost = false;
			else
				return net_error(err, errlen, p, (int)len, "must be on or off");
		} else {
			return net_error(
				err, errlen, p, (int)len,
				"unknown key (expected tap, tap-fd, user, mac, queues, vhost or "
				"hostfwd)");
		}
		if (seen & bit)
			return net_error(err, errlen, p, (int)len, "given twice");
		seen |= bit;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	if (o->kind == NET_USER && o->queues > 1)
		return net_error(err, errlen, text, (int)strlen(text),
				 "user networking has one queue pair");
	if (o->kind == NET_USER && o->vhost)
		return net_error(err, errlen, text, (int)strlen(text), "vhost=on needs a TAP");
	if (o->kind == NET_TAP_FD && o->queues > 1)
		return net_error(err, errlen, text, (int)strlen(text),
				 "tap-fd= carries one queue pair; queues= needs tap=IFNAME");
	opts->nnics++;
	return 0;
}

/* A tag the guest can type after mount -t virtiofs: printable, no blanks. */
static bool tag_ok(const char *tag, size_t len)
{
	if (len == 0 || len > FS_TAG_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (tag[i] <= ' ' || tag[i] > '~')
			return false;
	return true;
}

/* The directory's last component when it makes a tag, else "share<index>". */
static void default_tag(struct fs_share_options *s, unsigned int index)
{
	size_t end = strlen(s->dir), start;

	while (end > 1 && s->dir[end - 1] == '/')
		end--;
	start = end;
	while (start > 0 && s->dir[start - 1] != '/')
		start--;
	if (tag_ok(s->dir + start, end - start) && strncmp(s->dir + start, ".", end - start) &&
	    strncmp(s->dir + start, "..", end - start)) {
		memcpy(s->tag, s->dir + start, end - start);
		s->tag[end - start] = '\0';
	} else {
		snprintf(s->tag, sizeof(s->tag), "share%u", index);
	}
}

int options_add_share(struct vmm_options *opts, const char *text, char *err, size_t errlen)
{
	const char *comma = strchr(text, ','), *colon;
	size_t speclen = comma ? (size_t)(comma - text) : strlen(text), dirlen;
	struct fs_share_options *s;

	if (opts->nshares == VMM_MAX_SHARES) {
		snprintf(err, errlen, "--share %s: at most %d shares", text, VMM_MAX_SHARES);
		return -EINVAL;
	}
	s = &opts->shares[opts->nshares];
	memset(s, 0, sizeof(*s));
	/* the last colon: a directory name may have colons if a tag follows */
	colon = memrchr(text, ':', speclen);
	dirlen = colon ? (size_t)(colon - text) : speclen;
	if (dirlen == 0) {
		snprintf(err, errlen, "--share %s: needs a host directory (HOSTDIR[:TAG])", text);
		return -EINVAL;
	}
	if (dirlen >= sizeof(s->dir)) {
		snprintf(err, errlen, "--share: directory name longer than %d bytes",
			 FS_DIR_MAX - 1);
		return -EINVAL;
	}
	memcpy(s->dir, text, dirlen);
	if (colon) {
		const char *tag = colon + 1;
		size_t taglen = speclen - dirlen - 1;

		if (taglen == 0) {
			snprintf(err, errlen, "--share %s: empty tag after ':'", text);
			return -EINVAL;
		}
		if (taglen > FS_TAG_MAX) {
			snprintf(err, errlen, "--share %s: tag longer than %d bytes", text,
				 FS_TAG_MAX);
			return -EINVAL;
		}
		if (!tag_ok(tag, taglen)) {
			snprintf(err, errlen,
				 "--share %s: the tag must be printable ASCII without blanks",
				 text);
			return -EINVAL;
		}
		memcpy(s->tag, tag, taglen);
	} else {
		default_tag(s, opts->nshares);
	}
	while (comma) {
		const char *key = comma + 1;
		size_t keylen;

		comma = strchr(key, ',');
		keylen = comma ? (size_t)(comma - key) : strlen(key);
		if (keylen == 11 && !strncmp(key, "readonly=on", 11)) {
			s->readonly = true;
		} else if (keylen == 12 && !strncmp(key, "readonly=off", 12)) {
			s->readonly = false;
		} else {
			snprintf(err, errlen,
				 "--share %s: unknown setting '%.*s' (readonly=on|off)", text,
				 (int)keylen, key);
			return -EINVAL;
		}
	}
	for (unsigned int i = 0; i < opts->nshares; i++) {
		if (!strcmp(opts->shares[i].tag, s->tag)) {
			snprintf(err, errlen,
				 "--share %s: tag '%s' is already used by another --share "
				 "(name one with HOSTDIR:TAG)",
				 text, s->tag);
			return -EINVAL;
		}
	}
	opts->nshares++;
	return 0;
}

static int bad(char *err, size_t errlen, const char *opt, const char *value, const char *why)
{
	snprintf(err, errlen, "%s %s: %s", opt, value, why);
	return -EINVAL;
}

/* --rng [rate=BYTES_PER_SEC]: a later one replaces an earlier one (a config file's). */
static int options_set_rng(struct vmm_options *opts, const char *text, char *err, size_t errlen)
{
	struct rng_options *r = &opts->rngs[0];
	uint64_t rate = RNG_DEFAULT_RATE;

	if (text && strncmp(text, "rate=", 5)) {
		snprintf(err, errlen, "--rng %s: unknown setting (rate=BYTES_PER_SEC)", text);
		return -EINVAL;
	}
	if (text &&
	    (options_parse_size(text + 5, &rate) || rate < RNG_RATE_MIN || rate > RNG_RATE_MAX)) {
		snprintf(err, errlen, "--rng %s: must be %llu to %llu bytes per second (K, M, G)",
			 text, RNG_RATE_MIN, RNG_RATE_MAX);
		return -EINVAL;
	}
	r->rate = rate;
	opts->nrngs = 1;
	return 0;
}

static const char *const repeatable_names[] = VMM_OPTIONS_REPEATABLE_NAMES;

int options_lookup(const char *name, int *repeatable)
{
	*repeatable = -1;
	for (int i = 0; i < VMM_OPTIONS_REPEATABLE; i++)
		if (!strcmp(name, repeatable_names[i]))
			*repeatable = i;
	for (const struct option *o = long_options; o->name; o++)
		if (!strcmp(o->name, name))
			return o->has_arg == required_argument	 ? 1
			       : o->has_arg == optional_argument ? 2
								 : 0;
	return -1;
}

void options_prescan(int argc, char **argv, struct options_prescan *pre)
{
	const char *optstring = ":h";
	int c, index;

	memset(pre, 0, sizeof(*pre));
	pre->first = 1;
	pre->ends_with_dashes = argc > 1 && !strcmp(argv[argc - 1], "--");
	if (argc > 1 && !strcmp(argv[1], "run")) {
		pre->run = true;
		pre->first = 2;
		argc--;
		argv++;
		optstring = "+:h";
	}
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, optstring, long_options, &index)) != -1) {
		int rep;

		if (c == OPT_CONFIG)
			pre->config = optarg;
		if (c == OPT_RNG && !optarg && optind < argc && !strncmp(argv[optind], "rate=", 5))
			optind++; /* "--rng rate=N": its value, not the command */
		if (c >= OPT_KERNEL && options_lookup(long_options[index].name, &rep) >= 0 &&
		    rep >= 0)
			pre->given[rep] = true;
	}
	pre->has_command = pre->run && optind < argc;
}

/* Options that only mean something to one of the two modes. */
static int check_mode(struct vmm_options *opts, char *err, size_t errlen)
{
	const char *wrong = NULL;

	if (opts->run) {
		if (opts->flat)
			wrong = "--flat";
		else if (opts->initrd)
			wrong = "--initrd";
		if (wrong) {
			snprintf(err, errlen,
				 "%s cannot be used with vmm run (it builds its own initramfs)",
				 wrong);
			return -EINVAL;
		}
		if (opts->console != CONSOLE_SERIAL) {
			snprintf(err, errlen,
				 "--console cannot be used with vmm run (see --verbose)");
			return -EINVAL;
		}
		if (!opts->ncommand && !opts->help && !opts->version) {
			snprintf(err, errlen,
				 "a command is needed: vmm run [options] -- CMD "
				 "[ARGS...] (try --help)");
			return -EINVAL;
		}
		return 0;
	}
	if (opts->rootfs)
		wrong = "--rootfs";
	else if (opts->modules_dir)
		wrong = "--modules";
	else if (opts->nenv)
		wrong = "--env";
	else if (opts->cwd)
		wrong = "--cwd";
	else if (opts->status_file)
		wrong = "--status-file";
	else if (opts->verbose)
		wrong = "--verbose";
	if (wrong) {
		snprintf(err, errlen, "%s only works with vmm run (try vmm run --help)", wrong);
		return -EINVAL;
	}
	return 0;
}

static int options_check(struct vmm_options *opts, char *err, size_t errlen)
{
	if (check_mode(opts, err, errlen))
		return -EINVAL;
	if (opts->help || opts->version)
		return 0;
	if (!opts->kernel && !opts->flat) {
		snprintf(err, errlen, "--kernel is required (try --help)");
		return -EINVAL;
	}
	if (opts->kernel && opts->flat) {
		snprintf(err, errlen, "--kernel and --flat cannot be used together");
		return -EINVAL;
	}
	if (opts->flat && opts->initrd) {
		snprintf(err, errlen, "--initrd needs --kernel, not --flat");
		return -EINVAL;
	}
	return 0;
}

/* where member m of struct vmm_options ends */
#define OPTIONS_END(m) (offsetof(struct vmm_options, m) + sizeof(((struct vmm_options *)0)->m))

int options_parse(struct vmm_options *opts, int argc, char **argv, char *err, size_t errlen)
{
	const char *optstring = ":h";
	int c;

	/* the slots must be all that this memset leaves out: see struct vmm_options */
	_Static_assert(OPTIONS_END(disks) == offsetof(struct vmm_options, shares) &&
			       sizeof(struct vmm_options) - OPTIONS_END(shares) <
				       _Alignof(struct vmm_options),
		       "disks and shares are the tail of struct vmm_options");
	memset(opts, 0, offsetof(struct vmm_options, disks));
	opts->cpus = 1;
	opts->memory = VMM_DEFAULT_MEMORY;
	opts->memory_text = "512M";
	opts->cmdline = VMM_DEFAULT_CMDLINE;
	opts->console = CONSOLE_SERIAL;
	opts->kvm_path = "/dev/kvm";
	opts->seccomp = VMM_SECCOMP_ON;
	if (argc > 1 && !strcmp(argv[1], "run")) {
		opts->run = true;
		/* argv[1] plays argv[0]; "+": the command's own options are not ours */
		argc--;
		argv++;
		optstring = "+:h";
	}

	optind = 0; /* 0, not 1: glibc then forgets all state from an earlier parse */
	opterr = 0; /* we word the errors ourselves */
	while ((c = getopt_long(argc, argv, optstring, long_options, NULL)) != -1) {
		switch (c) {
		case OPT_KERNEL:
			opts->kernel = optarg;
			break;
		case OPT_FLAT:
			opts->flat = optarg;
			break;
		case OPT_INITRD:
			opts->initrd = optarg;
			break;
		case OPT_CMDLINE:
			opts->cmdline = optarg;
			break;
		case OPT_CPUS:
			if (parse_count(optarg, VMM_MAX_CPUS, &opts->cpus))
				return bad(err, errlen, "--cpus", optarg,
					   "must be a whole number from 1 to 254");
			break;
		case OPT_MEMORY:
			opts->memory_text = optarg;
			if (options_parse_size(optarg, &opts->memory))
				return bad(err, errlen, "--memory", optarg,
					   "not a size (examples: 512M, 2G)");
			if (opts->memory < VMM_MIN_MEMORY)
				return bad(err, errlen, "--memory", optarg, "must be at least 2M");
			if (opts->memory % 4096)
				return bad(err, errlen, "--memory", optarg,
					   "must be a multiple of 4K");
			break;
		case OPT_CONSOLE:
			if (!strcmp(optarg, "serial"))
				opts->console = CONSOLE_SERIAL;
			else if (!strcmp(optarg, "none"))
				opts->console = CONSOLE_NONE;
			else
				return bad(err, errlen, "--console", optarg,
					   "must be serial or none");
			break;
		case OPT_KVM_DEVICE:
			opts->kvm_path = optarg;
			break;
		case OPT_UUID:
			if (smbios_uuid_parse(optarg, opts->uuid))
				return bad(err, errlen, "--uuid", optarg,
					   "not a UUID (expected 8-4-4-4-12 hex digits)");
			opts->has_uuid = true;
			break;
		case OPT_NAME:
			if (!smbios_name_valid(optarg))
				return bad(err, errlen, "--name", optarg,
					   "must be printable ASCII, at most 64 characters");
			opts->name = optarg;
			break;
		case OPT_STATS:
			opts->stats = true;
			break;
		case OPT_STATS_JSON:
			if (!*optarg)
				return bad(err, errlen, "--stats-json", "''", "needs a file name");
			opts->stats_json = optarg;
			break;
		case OPT_SECCOMP:
			if (!strcmp(optarg, "on"))
				opts->seccomp = VMM_SECCOMP_ON;
			else if (!strcmp(optarg, "log"))
				opts->seccomp = VMM_SECCOMP_LOG;
			else if (!strcmp(optarg, "off"))
				opts->seccomp = VMM_SECCOMP_OFF;
			else
				return bad(err, errlen, "--seccomp", optarg,
					   "must be on, log or off");
			break;
		case OPT_USER:
			if (parse_user(optarg, &opts->uid, &opts->gid))
				return bad(err, errlen, "--user", optarg,
					   "expected UID or UID:GID, numbers");
			opts->has_user = true;
			break;
		case OPT_DISK:
			if (parse_disk(opts, optarg, err, errlen))
				return -EINVAL;
			break;
		case OPT_NET:
			if (parse_net(opts, optarg, err, errlen))
				return -EINVAL;
			break;
		case OPT_TIMEOUT:
			if (parse_count(optarg, VMM_MAX_TIMEOUT, &opts->timeout))
				return bad(err, errlen, "--timeout", optarg,
					   "must be a whole number of seconds from 1 to 604800");
			break;
		case OPT_ROOTFS:
			if (!*optarg)
				return bad(err, errlen, "--rootfs", "''", "needs a directory");
			opts->rootfs = optarg;
			break;
		case OPT_MODULES:
			if (!*optarg)
				return bad(err, errlen, "--modules", "''", "needs a directory");
			opts->modules_dir = optarg;
			break;
		case OPT_ENV:
			if (!env_valid(optarg))
				return bad(
					err, errlen, "--env", optarg,
					"must be NAME=VALUE, NAME made of letters, digits and _");
			if (opts->nenv == VMM_MAX_ENV)
				return bad(err, errlen, "--env", optarg, "at most 64 of them");
			opts->env[opts->nenv++] = optarg;
			break;
		case OPT_CWD:
			if (optarg[0] != '/')
				return bad(err, errlen, "--cwd", optarg,
					   "must be an absolute path in the guest");
			opts->cwd = optarg;
			break;
		case OPT_STATUS_FILE:
			if (!*optarg)
				return bad(err, errlen, "--status-file", "''", "needs a file name");
			opts->status_file = optarg;
			break;
		case OPT_VERBOSE:
			opts->verbose = true;
			break;
		case OPT_CONFIG:
			opts->config = optarg;
			break;
		case OPT_JAIL:
			if (!*optarg)
				return bad(err, errlen, "--jail", "''", "needs a directory");
			opts->jail = optarg;
			break;
		case OPT_SHARE:
			if (options_add_share(opts, optarg, err, errlen))
				return -EINVAL;
			break;
		case OPT_RNG:
			/* "--rng rate=N" as well as "--rng=rate=N" */
			if (!optarg && optind < argc && !strncmp(argv[optind], "rate=", 5))
				optarg = argv[optind++];
			if (options_set_rng(opts, optarg, err, errlen))
				return -EINVAL;
			break;
		case 'h':
		case OPT_HELP:
			opts->help = true;
			break;
		case OPT_VERSION:
			opts->version = true;
			break;
		case ':':
			snprintf(err, errlen, "%s needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			/*
			 * optopt is the character of a bad short option; for a long one (an
			 * unknown name, or a value given to a flag) only argv has the text.
			 */
			if (optopt > 0 && optopt < 128 && isgraph(optopt))
				snprintf(err, errlen, "unknown option -%c (try --help)", optopt);
			else if (optopt)
				snprintf(err, errlen, "%s: this option takes no value",
					 argv[optind - 1]);
			else
				snprintf(err, errlen, "unknown option %s (try --help)",
					 argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (opts->run && optind < argc) {
		opts->command = argv + optind;
		opts->ncommand = (unsigned int)(argc - optind);
	} else if (optind < argc) {
		snprintf(err, errlen, "unexpected argument %s (try --help)", argv[optind]);
		return -EINVAL;
	}
	return options_check(opts, err, errlen);
}

void options_usage(void *stream, const char *argv0)
{
	fprintf(stream,
		"Usage: %s --kernel KERNEL [options]\n"
		"Boot a Linux kernel in a KVM virtual machine.\n"
		"\n"
		"Options:\n"
		"  --kernel FILE     Linux kernel to boot: a bzImage (x86 boot protocol 2.06 or\n"
		"                    later) or an uncompressed x86-64 vmlinux (ELF)\n"
		"  --initrd FILE     initial ramdisk to hand the kernel (default: none)\n"
		"  --cmdline TEXT    kernel command line (default: \"%s\")\n"
		"  --cpus N          number of vCPUs, 1 to %d (default: 1)\n"
		"  --memory SIZE     guest RAM, with suffix K, M or G (default: 512M)\n"
		"  --console MODE    serial: guest ttyS0 on this terminal; none: discard it\n"
		"                    (default: serial)\n"
		"  --disk path=FILE[,readonly=on][,serial=S][,cache=none|writeback][,queues=N]\n"
		"         [,queue-size=N]\n"
		"                    a virtio-blk disk backed by a raw image or block device;\n"
		"                    repeatable (up to %d). readonly: writes fail with an I/O\n"
		"                    error; serial: up to 20 characters, the guest's\n"
		"                    /sys/block/vdX/serial; cache=none: O_DIRECT; queues: default\n"
		"                    one per vCPU; queue-size: entries per queue, a power of two\n"
		"                    up to 32768 (default 256). An image another VMM has open\n"
		"                    for writing is refused.\n"
		"  --net tap=IFNAME[,mac=MAC][,queues=N][,vhost=on]\n"
		"  --net tap-fd=N[,mac=MAC][,vhost=on]\n"
		"                    a virtio-net NIC on a TAP interface, opened by name\n"
		"                    (created if missing, which needs CAP_NET_ADMIN) or\n"
		"                    inherited as descriptor N; repeatable (up to %d). mac:\n"
		"                    default a random locally administered address, printed at\n"
		"                    start; queues: queue pairs, 1 to %d (a multi_queue TAP);\n"
		"                    vhost=on: the kernel's vhost-net moves the frames (needs\n"
		"                    /dev/vhost-net; a guest without MSI-X gets the VMM's path)\n"
		"  --net user[,hostfwd=tcp:[HOSTADDR:]HOSTPORT-:GUESTPORT]...[,mac=MAC]\n"
		"                    user-mode networking, no privileges needed: the guest\n"
		"                    gets %s by DHCP, %s is the host\n"
		"                    (NAT), %s its DNS. hostfwd: connections to\n"
		"                    HOSTADDR:HOSTPORT (default 127.0.0.1) reach GUESTPORT in\n"
		"                    the guest; repeatable (up to %d)\n"
		"  --share HOSTDIR[:TAG][,readonly=on]\n"
		"                    share a host directory with the guest (virtio-fs);\n"
		"                    repeatable (up to %d). The guest mounts it with\n"
		"                    mount -t virtiofs TAG /mnt. TAG: up to %d printable\n"
		"                    characters, default the directory's last component (or\n"
		"                    shareN when that is no usable tag). readonly: every\n"
		"                    change fails with EROFS. The guest cannot reach outside\n"
		"                    HOSTDIR, open device nodes or follow symlinks on the host.\n"
		"  --rng [rate=BYTES_PER_SEC]\n"
		"                    an entropy source for the guest (virtio-rng, /dev/hwrng)\n"
		"                    filled from the host's getrandom(); rate: at most this\n"
		"                    many bytes per second, with suffix K, M or G (default 1M)\n"
		"  --uuid UUID       the machine's UUID, as the guest reads it from SMBIOS\n"
		"                    (/sys/class/dmi/id/product_uuid); default: a new random\n"
		"                    UUID at every start, printed on stderr\n"
		"  --name NAME       the machine's product name in SMBIOS (default: minivmm)\n"
		"  --flat FILE       instead of a kernel, load a flat 64-bit binary at 1 MiB and\n"
		"                    start it in long mode (for tests and experiments)\n"
		"  --kvm-device PATH KVM device (default: /dev/kvm)\n"
		"  --stats           at exit, print to stderr how often the guest made the VMM\n"
		"                    work: exits by reason and vCPU, accesses by device and\n"
		"                    address range, virtio kicks and interrupts (SIGUSR1 prints\n"
		"                    them at any time, with or without this option)\n"
		"  --stats-json FILE at exit, write the same numbers as JSON to FILE (created\n"
		"                    at start-up, before the sandbox closes)\n"
		"  --seccomp MODE    on: each thread may make only the system calls its job\n"
		"                    needs, and any other one stops the VMM with SIGSYS;\n"
		"                    log: allow them but have the kernel log them; off: no\n"
		"                    filter (default: on). Started as root, the VMM also drops\n"
		"                    every capability before the guest runs.\n"
		"  --user UID[:GID]  started as root: once every file is open, become this user\n"
		"                    and group (numbers; GID defaults to UID) before the guest\n"
		"                    runs\n"
		"  --jail DIR        run in new user, mount, PID, IPC, UTS (and, without user\n"
		"                    networking, network) namespaces with a tmpfs on DIR as\n"
		"                    the root, holding only /dev/kvm, /proc and the shares;\n"
		"                    started as root it needs --user (docs/security.md)\n"
		"  --timeout SECONDS stop the guest after this long (exit status %d)\n"
		"  --config FILE     options from a JSON file whose keys are the long options\n"
		"                    (docs/scripting.md); the command line overrides it\n"
		"  --help            show this help\n"
		"  --version         show the version\n"
		"\n"
		"Run one command in a throw-away VM and exit with its status: %s run --help\n"
		"\n"
		"Console: the terminal is put in raw mode; type Ctrl-A then X to quit,\n"
		"Ctrl-A Ctrl-A to send a Ctrl-A to the guest.\n"
		"The guest may write a byte to I/O port 0x440 to log a boot milestone with the\n"
		"time since the VMM started.\n"
		"\n"
		"Exit status:\n"
		"  %d  the guest powered off (ACPI)\n"
		"  %d  host-side error (KVM refused an operation, out of memory, ...)\n"
		"  %d  bad command line or input file\n"
		"  %d  the guest asked for a reboot (ACPI reset, i8042 reset)\n"
		"  %d  triple fault: the guest crashed beyond recovery (registers on stderr)\n"
		"  %d  KVM could not run the guest (internal error or failed entry)\n"
		"  %d  quit from the console (Ctrl-A X)\n"
		"  %d  --timeout expired\n"
		"  128+N  stopped by signal N (SIGINT 130, SIGTERM 143); 159 (SIGSYS): a\n"
		"         thread made a system call outside its seccomp list (named on stderr)\n",
		argv0, VMM_DEFAULT_CMDLINE, VMM_MAX_CPUS, VMM_MAX_DISKS, VMM_MAX_NICS,
		VMM_NET_MAX_QUEUES, NET_USER_GUEST_ADDR, NET_USER_GATEWAY_ADDR, NET_USER_DNS_ADDR,
		NET_USER_MAX_HOSTFWD, VMM_MAX_SHARES, FS_TAG_MAX, VMM_EXIT_TIMEOUT, argv0,
		VMM_EXIT_POWEROFF, VMM_EXIT_ERROR, VMM_EXIT_USAGE, VMM_EXIT_REBOOT,
		VMM_EXIT_TRIPLE_FAULT, VMM_EXIT_KVM_ERROR, VMM_EXIT_QUIT, VMM_EXIT_TIMEOUT);
}

void options_usage_run(void *stream, const char *argv0)
{
	fprintf(stream,
		"Usage: %s run --kernel KERNEL [options] [--] CMD [ARGS...]\n"
		"Boot a throw-away VM, run CMD in it and exit with CMD's exit status. CMD's\n"
		"stdout and stderr arrive on ours, separately; its stdin is /dev/null. The\n"
		"guest kernel's messages are not shown (see --verbose). The guest's root is\n"
		"the host's / shared read-only (virtio-fs) with fresh /dev, /proc, /sys, /tmp\n"
		"and /run, so CMD can be any host program and cannot change host files outside\n"
		"a --share.\n"
		"\n"
		"Options:\n"
		"  --kernel FILE     Linux kernel to boot (bzImage or vmlinux)\n"
		"  --rootfs DIR      instead, the guest's root is a copy of DIR in RAM\n"
		"                    (writable, thrown away; for small trees)\n"
		"  --share HOSTDIR[:TAG][,readonly=on]\n"
		"                    also share HOSTDIR, mounted at its own path in the guest\n"
		"  --cpus N, --memory SIZE, --disk ..., --uuid UUID, --stats, --stats-json FILE,\n"
		"  --user UID[:GID], --jail DIR\n"
		"                    as for a plain boot (%s --help)\n"
		"  --name NAME       SMBIOS product name, also the guest's hostname\n"
		"                    (default vmm-run)\n"
		"  --cmdline TEXT    more kernel parameters, after the ones vmm run needs\n"
		"  --modules DIR     the kernel's modules (with modules.dep) for the devices\n"
		"                    in use; default /lib/modules/RELEASE, RELEASE read from\n"
		"                    the bzImage\n"
		"  --env NAME=VALUE  set a variable for CMD (repeatable); CMD also gets our\n"
		"                    PATH, HOME, USER, LOGNAME, TERM, TZ, LANG and LC_* when set\n"
		"  --cwd DIR         CMD's working directory in the guest (default: ours;\n"
		"                    / with --rootfs)\n"
		"  --timeout SECONDS stop the guest after this long (exit status 124)\n"
		"  --status-file FILE\n"
		"                    write how the run ended as one line: \"exit N\",\n"
		"                    \"signal N\", \"timeout S\", \"init-failed ERRNO\",\n"
		"                    \"no-status CODE\", \"vmm-signal N\" or \"vmm-error\"\n"
		"  --config FILE     options from a JSON file (keys: the long options;\n"
		"                    \"command\": CMD as an array); the command line wins\n"
		"  --verbose         show the guest kernel's console on stderr\n"
		"\n"
		"Exit status:\n"
		"  0-255   CMD's exit status\n"
		"  128+N   CMD was killed by signal N (as a shell reports it), or vmm was\n"
		"  %d     --timeout expired\n"
		"  %d     the guest stopped without reporting CMD's status (kernel panic,\n"
		"          crash, init failure); the console's last lines go to stderr\n"
		"  %d, %d    vmm's own host error or bad command line, before the guest started\n"
		"A CMD that exits with 1, 2, 124 or 125 itself cannot be told apart by the\n"
		"status alone: --status-file says which it was.\n"
		"\n"
		"CI example: run a test under each kernel, keep its status:\n"
		"  for k in kernels/*/bzImage; do\n"
		"      %s run --kernel \"$k\" --timeout 300 --status-file status.txt \\\n"
		"          -- ./tests/run.sh\n"
		"      echo \"$k: exit $? ($(cat status.txt))\"\n"
		"  done\n",
		argv0, argv0, VMM_EXIT_TIMEOUT, VMM_EXIT_NO_STATUS, VMM_EXIT_ERROR, VMM_EXIT_USAGE,
		argv0);
}
