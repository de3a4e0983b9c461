/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the command line (vmm/options.c and its --net parser, with
 * virtio/blk/disk.c's --disk parser and firmware/smbios.c's --uuid/--name checks):
 * options_parse() must return 0 or -EINVAL, with a NUL-terminated message in err for
 * -EINVAL, and never crash.
 *
 * Input: byte 0 % 4 picks the size of err (256, 64, 8 or 1 bytes, each its own heap
 * block so ASan sees an overrun); the rest is split on NUL bytes into arguments after
 * argv[0] = "vmm", at most MAX_ARGS of them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/options.h"

#define MAX_ARGS 64

static void check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

static bool points_into(const char *p, const char *buf, size_t len)
{
	return p >= buf && p < buf + len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t errlens[] = { 256, 64, 8, 1 };
	static struct vmm_options opts;
	char *argv[MAX_ARGS + 2], *buf, *err;
	size_t errlen, len;
	int argc = 0, ret;

	if (size < 1)
		return 0;
	errlen = errlens[data[0] % 4];
	len = size - 1;
	buf = malloc(len + 1);
	err = malloc(errlen);
	check(buf && err);
	memcpy(buf, data + 1, len);
	buf[len] = 0;
	memset(err, 'X', errlen);

	argv[argc++] = "vmm";
	for (size_t pos = 0; pos < len && argc <= MAX_ARGS;) {
		argv[argc++] = buf + pos;
		pos += strlen(buf + pos) + 1;
	}
	argv[argc] = NULL;

	ret = options_parse(&opts, argc, argv, err, errlen);
	check(ret == 0 || ret == -EINVAL);
	if (ret) {
		check(memchr(err, 0, errlen) != NULL);
		check(errlen == 1 || err[0] != 0);
	} else {
		check(opts.cpus >= 1 && opts.cpus <= VMM_MAX_CPUS);
		check(opts.memory >= VMM_MIN_MEMORY && opts.memory % 4096 == 0);
		check(opts.ndisks <= VMM_MAX_DISKS);
		check(opts.console == CONSOLE_SERIAL || opts.console == CONSOLE_NONE);
		check(opts.name == NULL || smbios_name_valid(opts.name));
		check(opts.stats_json == NULL || *opts.stats_json);
		/* a restore takes its kernel from the snapshot; a boot needs exactly one */
		check(opts.help || opts.version ||
		      (opts.restore ? !opts.kernel && !opts.flat && !opts.initrd
				    : !opts.kernel != !opts.flat));
		check(opts.kernel == NULL || points_into(opts.kernel, buf, len + 1));
		check(opts.flat == NULL || points_into(opts.flat, buf, len + 1));
		check(opts.initrd == NULL || points_into(opts.initrd, buf, len + 1));
		check(opts.cmdline != NULL);
		for (unsigned int i = 0; i < opts.ndisks; i++) {
			const struct disk_options *d = &opts.disks[i];

			check(d->path[0] != 0 && memchr(d->path, 0, sizeof(d->path)) != NULL);
			check(memchr(d->serial, 0, sizeof(d->serial)) != NULL);
			check(d->cache == DISK_CACHE_WRITEBACK || d->cache == DISK_CACHE_NONE);
			check(d->queues <= DISK_MAX_QUEUES);
			check(d->queue_size <= DISK_MAX_QUEUE_SIZE &&
			      !(d->queue_size & (d->queue_size - 1)));
		}
		check(opts.nnics <= VMM_MAX_NICS);
		for (unsigned int i = 0; i < opts.nnics; i++) {
			const struct net_options *n = &opts.nics[i];

			check(n->kind == NET_TAP || n->kind == NET_TAP_FD || n->kind == NET_USER);
			check(n->kind != NET_USER || (n->queues <= 1 && !n->vhost &&
						      n->user.nhostfwd <= NET_USER_MAX_HOSTFWD));
			for (unsigned int j = 0; j < n->user.nhostfwd; j++)
				check(n->user.hostfwd[j].host_port &&
				      n->user.hostfwd[j].guest_port);
			check(n->kind != NET_TAP ||
			      (n->ifname[0] && memchr(n->ifname, 0, sizeof(n->ifname))));
			check(n->kind != NET_TAP_FD || (n->tap_fd >= 0 && n->queues <= 1));
			check(n->queues <= VMM_NET_MAX_QUEUES);
			check(!n->has_mac || !(n->mac[0] & 1));
		}
	}
	free(err);
	free(buf);
	return 0;
}
