// SPDX-License-Identifier: MIT
/*
 * Every command-line option, once: its names, its --help text, the commands and the
 * --config key that accept it, and its parser. The parsers of the options with a
 * struct of their own sit with that struct (--disk: virtio/blk/disk.c; --net:
 * vmm/options_net.c; --share: vmm/options_share.c); the small ones are here.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <ctype.h>
#include <sys/stat.h>

#include "vmm/options.h"
#include "vmm/parse.h"

/* The help texts spell these out; a change to one must reach its text. */
_Static_assert(VMM_MAX_CPUS == 254 && VMM_MAX_DISKS == 8 && VMM_MAX_NICS == 4 &&
		       VMM_NET_MAX_QUEUES == 8 && NET_USER_MAX_HOSTFWD == 16 &&
		       VMM_MAX_SHARES == 8 && FS_TAG_MAX == 36,
	       "update the help texts in options_table");

/* Where a member of struct vmm_options is, checked to be of type T. */
#define FIELD(m, T)                                                                                \
	(offsetof(struct vmm_options, m) +                                                         \
	 0 * sizeof(_Generic(((struct vmm_options *)0)->m, T : 1)))
#define TEXT_AT(m) .field = FIELD(m, const char *)
#define FLAG_AT(m) .field = FIELD(m, bool)

#define BOTH (OPTION_BOOT | OPTION_RUN)
#define AS_FOR_BOOT "as for a plain boot (vmm --help)"

/* A decimal count from 1 to max: no sign, no suffix, nothing after it. */
static int parse_count(const char *text, uint64_t max, unsigned int *out)
{
	uint64_t v;

	if (parse_decimal(text, 1, max, &v))
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

static int parse_cpus(struct vmm_options *opts, const char *arg, char *err, size_t errlen)
{
	if (parse_count(arg, VMM_MAX_CPUS, &opts->cpus))
		return options_bad(err, errlen, "--cpus", arg,
				   "must be a whole number from 1 to 254");
	return 0;
}

static int parse_memory(struct vmm_options *opts, const char *arg, char *err, size_t errlen)
{
	opts->memory_text = arg;
	if (parse_size(arg, &opts->memory))
		return options_bad(err, errlen, "--memory", arg, "not a size (examples: 512M, 2G)");
	if (opts->memory < VMM_MIN_MEMORY)
		return options_bad(err, errlen, "--memory", arg, "must be at least 2M");
	if (opts->memory % 4096)
		return options_bad(err, errlen, "--memory", arg, "must be a multiple of 4K");
	return 0;
}

static int parse_restore(struct vmm_options *opts, const char *arg, char *err, size_t errlen)
{
	static const char key[] = "source_url=";

	if (strncmp(arg, key, sizeof(key) - 1) || !arg[sizeof(key) - 1])
		return options_bad(err, errlen, "--restore", arg,
				   "expected source_url=file:///DIR");
	opts->restore = arg + sizeof(key) - 1;
	return 0;
}

static int parse_console(struct vmm_options *opts, const char *arg, char *err, size_t errlen)
{
	if (!strcmp(arg, "serial"))
		opts->console = CONSOLE_SERIAL;
	else if (!strcmp(arg, "none"))
		opts->console = CONSOLE_NONE;
	else
		return options_bad(err, errlen, "--console", arg, "must be serial or none");
	return 0;
}

static int parse_disk(struct vmm_options *opts, const char *arg, char *err, size_t errlen)
{
	if (opts->ndisks == VMM_MAX_DISKS) {
		snprintf(err, errlen, "--disk %s: at most %d disks", arg, VMM_MAX_DISKS);
		return -EINVAL;
	}
	/* its messages already name the option, the key and the value */
	if (disk_parse_option(arg, &opts->disks[opts->ndisks], err, errlen))
		return -EINVAL;
	opts->ndisks++;
	return 0;
}

static int parse_net(struct vmm_options *opts, const char *arg, char *err, size_t errlen)
{
	if (opts->nnics == VMM_MAX_NICS) {
		snprintf(err, errlen, "--net %s: at most %d network devices", arg, VMM_MAX_NICS);
		return -EINVAL;
	}
	if (net_parse_option(arg, &opts->nics[opts->nnics], err, errlen))
		return -EINVAL;
	opts->nnics++;
	return 0;
}

static int parse_share(struct vmm_options *opts, const char *arg, char *err, size_t errlen)
{
	return options_add_share(opts, arg, err, errlen);
}

static int parse_uuid(struct vmm_options *opts, const char *arg, char *err, size_t errlen)
{
	if (smbios_uuid_parse(arg, opts->uuid))
		return options_bad(err, errlen, "--uuid", arg,
				   "not a UUID (expected 8-4-4-4-12 hex digits)");
	opts->has_uuid = true;
	return 0;
}

static int parse_name(struct vmm_options *opts, const char *arg, char *err, size_t errlen)
{
	if (!smbios_name_valid(arg))
		return options_bad(err, errlen, "--name", arg,
				   "must be printable ASCII, at most 64 characters");
	opts->name = arg;
	return 0;
}

static int parse_seccomp(struct vmm_options *opts, const char *arg, char *err, size_t errlen)
{
	if (!strcmp(arg, "on"))
		opts->seccomp = VMM_SECCOMP_ON;
	else if (!strcmp(arg, "log"))
		opts->seccomp = VMM_SECCOMP_LOG;
	else if (!strcmp(arg, "off"))
		opts->seccomp = VMM_SECCOMP_OFF;
	else
		return options_bad(err, errlen, "--seccomp", arg, "must be on, log or off");
	return 0;
}

static int parse_vmgenid(struct vmm_options *opts, const char *arg, char *err, size_t errlen)
{
	bool on;

	if (parse_on_off(arg, &on))
		return options_bad(err, errlen, "--vmgenid", arg, "must be on or off");
	opts->vmgenid_off = !on;
	return 0;
}

/* --rng [rate=BYTES_PER_SEC]: a later one replaces an earlier one (a config file's). */
static int parse_rng(struct vmm_options *opts, const char *arg, char *err, size_t errlen)
{
	uint64_t rate = RNG_DEFAULT_RATE;

	if (arg && strncmp(arg, "rate=", 5)) {
		snprintf(err, errlen, "--rng %s: unknown setting (rate=BYTES_PER_SEC)", arg);
		return -EINVAL;
	}
	if (arg && (parse_size(arg + 5, &rate) || rate < RNG_RATE_MIN || rate > RNG_RATE_MAX)) {
		snprintf(err, errlen, "--rng %s: must be %llu to %llu bytes per second (K, M, G)",
			 arg, RNG_RATE_MIN, RNG_RATE_MAX);
		return -EINVAL;
	}
	opts->rngs[0].rate = rate;
	opts->nrngs = 1;
	return 0;
}

static int parse_kernel_unpack(struct vmm_options *opts, const char *arg, char *err, size_t errlen)
{
	if (!strcmp(arg, "host"))
		opts->kernel_unpack = KERNEL_UNPACK_HOST;
	else if (!strcmp(arg, "guest"))
		opts->kernel_unpack = KERNEL_UNPACK_GUEST;
	else
		return options_bad(err, errlen, "--kernel-unpack", arg, "must be host or guest");
	return 0;
}

/* UID or UID:GID, each 0 to 2^32 - 2 (-1 means "unchanged" to the set*id calls). */
static int parse_user(struct vmm_options *opts, const char *arg, char *err, size_t errlen)
{
	const char *end;
	uint64_t uid, gid;

	if (parse_number(arg, SIZE_MAX, PARSE_DEC, UINT32_MAX - 1, &uid, &end))
		goto bad;
	gid = uid;
	if (*end &&
	    (*end != ':' || parse_number(end + 1, SIZE_MAX, PARSE_DEC, UINT32_MAX - 1, &gid, NULL)))
		goto bad;
	opts->uid = (uint32_t)uid;
	opts->gid = (uint32_t)gid;
	opts->has_user = true;
	return 0;
bad:
	return options_bad(err, errlen, "--user", arg, "expected UID or UID:GID, numbers");
}

static int parse_timeout(struct vmm_options *opts, const char *arg, char *err, size_t errlen)
{
	if (parse_count(arg, VMM_MAX_TIMEOUT, &opts->timeout))
		return options_bad(err, errlen, "--timeout", arg,
				   "must be a whole number of seconds from 1 to 604800");
	return 0;
}

/*
 * DIR[,keep=N][,max-size=SIZE]. A bare DIR is kept as written; with settings or a ",,"
 * it is copied out of the split list, into boot_cache_dir.
 */
static char boot_cache_dir[PATH_MAX];

static int parse_boot_cache(struct vmm_options *opts, const char *arg, char *err, size_t errlen)
{
	struct kv_list list;
	int ret = kv_split(arg, KV_POSITIONAL, &list);

	if (ret == -E2BIG)
		return options_bad(err, errlen, "--boot-cache", arg, "too long");
	if (ret && list.bad == 0)
		return options_bad(err, errlen, "--boot-cache", *arg ? arg : "''",
				   "needs a directory");
	/* one --boot-cache per process: the copy lives as long as opts, and a later one
	 * (a command line after --config) replaces it, as it replaces the pointer */
	if (strcmp(arg, list.items[0].value)) {
		if (snprintf(boot_cache_dir, sizeof(boot_cache_dir), "%s", list.items[0].value) >=
		    (int)sizeof(boot_cache_dir))
			return options_bad(err, errlen, "--boot-cache", arg, "too long");
		opts->boot_cache = boot_cache_dir;
	} else {
		opts->boot_cache = arg;
	}
	for (unsigned int i = 1; i < list.count; i++) {
		const struct kv_item *it = &list.items[i];
		uint64_t v;
		bool ok = false;

		if (it->value && !strcmp(it->key, "keep")) {
			ok = !parse_count(it->value, VMM_BOOT_CACHE_MAX_KEEP,
					  &opts->boot_cache_keep);
			if (!ok)
				return options_bad(err, errlen, "--boot-cache", arg,
						   "keep= must be a whole number from 1 to 10000");
		} else if (it->value && !strcmp(it->key, "max-size")) {
			ok = !parse_size(it->value, &v) && v >= (1u << 20);
			if (!ok)
				return options_bad(err, errlen, "--boot-cache", arg,
						   "max-size= must be a size of at least 1M "
						   "(examples: 500M, 4G)");
			opts->boot_cache_max_bytes = v;
		}
		if (!ok) {
			snprintf(err, errlen,
				 "--boot-cache %s: unknown setting '%.*s' (keep=N, max-size=SIZE)",
				 arg, it->rawlen, it->raw);
			return -EINVAL;
		}
		if (kv_repeats(&list, i)) {
			snprintf(err, errlen, "--boot-cache %s: '%.*s' given twice", arg,
				 it->rawlen, it->raw);
			return -EINVAL;
		}
	}
	return 0; /* an empty setting (a trailing comma) was refused in the loop */
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

static int parse_env(struct vmm_options *opts, const char *arg, char *err, size_t errlen)
{
	if (!env_valid(arg))
		return options_bad(err, errlen, "--env", arg,
				   "must be NAME=VALUE, NAME made of letters, digits and _");
	if (opts->nenv == VMM_MAX_ENV)
		return options_bad(err, errlen, "--env", arg, "at most 64 of them");
	opts->env[opts->nenv++] = arg;
	return 0;
}

static int parse_cwd(struct vmm_options *opts, const char *arg, char *err, size_t errlen)
{
	if (arg[0] != '/')
		return options_bad(err, errlen, "--cwd", arg,
				   "must be an absolute path in the guest");
	opts->cwd = arg;
	return 0;
}

static int parse_overlay(struct vmm_options *opts, const char *arg, char *err, size_t errlen)
{
	bool on = true;

	if (arg && parse_on_off(arg, &on))
		return options_bad(err, errlen, "--overlay", arg, "must be on or off");
	opts->overlay_off = !on;
	return 0;
}

/*
 * --rwdir DIR: a read-write share mounted at DIR's own path in the guest. The share list
 * is --share's; only the tag is ours, so it cannot clash with one the user names.
 */
static int parse_rwdir(struct vmm_options *opts, const char *arg, char *err, size_t errlen)
{
	struct fs_share_options *s;
	struct stat st;

	if (!arg[0])
		return options_bad(err, errlen, "--rwdir", arg, "needs a directory");
	if (stat(arg, &st) < 0)
		return options_bad(err, errlen, "--rwdir", arg, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return options_bad(err, errlen, "--rwdir", arg, "not a directory");
	if (strlen(arg) >= FS_DIR_MAX)
		return options_bad(err, errlen, "--rwdir", arg, "path too long");
	if (opts->nshares == VMM_MAX_SHARES)
		return options_bad(err, errlen, "--rwdir", arg,
				   "at most 8 shares, --share and --rwdir together");
	s = &opts->shares[opts->nshares];
	memset(s, 0, sizeof(*s));
	memcpy(s->dir, arg, strlen(arg) + 1);
	snprintf(s->tag, sizeof(s->tag), "vmm-rwdir%u", opts->nrwdirs);
	for (unsigned int i = 0; i < opts->nshares; i++)
		if (!strcmp(opts->shares[i].tag, s->tag))
			return options_bad(err, errlen, "--rwdir", arg,
					   "its tag is already used by a --share");
	opts->nshares++;
	opts->nrwdirs++;
	return 0;
}

/* In --help's order; the mode checks also report a misplaced option in this order. */
const struct option_spec options_table[] = {
	{ .name = "kernel",
	  .metavar = "FILE",
	  .modes = BOTH,
	  .json_key = "kernel",
	  TEXT_AT(kernel),
	  .help = "Linux kernel to boot: a bzImage (x86 boot protocol 2.06 or later) or an "
		  "uncompressed x86-64 vmlinux (ELF)",
	  .run_help = "Linux kernel to boot (bzImage or vmlinux), or a kernel build tree: its "
		      "arch/x86/boot/bzImage, with the modules it built (docs/scripting.md)" },
	{ .name = "kernel-unpack",
	  .metavar = "host|guest",
	  .modes = BOTH,
	  .json_key = "kernel-unpack",
	  .parse = parse_kernel_unpack,
	  .help = "who unpacks a bzImage's compressed kernel: host (default), the VMM, once, "
		  "into a cache under ~/.cache/minivmm, then boots it as a vmlinux (the guest "
		  "loses the decompressor's KASLR); guest: the kernel's own decompressor" },
	{ .name = "flat",
	  .metavar = "FILE",
	  .modes = OPTION_BOOT,
	  .json_key = "flat",
	  TEXT_AT(flat),
	  .run_refusal = "(it builds its own initramfs)",
	  .help = "instead of a kernel, load a flat 64-bit binary at 1 MiB and start it in "
		  "long mode (for tests and experiments)" },
	{ .name = "initrd",
	  .metavar = "FILE",
	  .modes = OPTION_BOOT,
	  .json_key = "initrd",
	  TEXT_AT(initrd),
	  .run_refusal = "(it builds its own initramfs)",
	  .help = "initial ramdisk to hand the kernel (default: none)" },
	{ .name = "restore",
	  .metavar = "source_url=file:///DIR",
	  .modes = OPTION_BOOT,
	  .json_key = "restore",
	  .parse = parse_restore,
	  .run_refusal = "(it boots a kernel of its own)",
	  .help = "instead of booting, go on from a snapshot that vm.snapshot wrote to DIR "
		  "(docs/snapshot.md); --memory, --cpus and the devices must be given as when "
		  "it was taken (disks may have new paths), --kernel and --flat are not; the "
		  "guest runs at once" },
	{ .name = "rootfs",
	  .metavar = "DIR",
	  .modes = OPTION_RUN,
	  .json_key = "rootfs",
	  TEXT_AT(rootfs),
	  .empty_why = "needs a directory",
	  .help = "instead of the host's /, the guest's root is a copy of DIR in RAM "
		  "(writable, thrown away; for small trees)" },
	{ .name = "overlay",
	  .metavar = "[on|off]",
	  .modes = OPTION_RUN,
	  .json_key = "overlay",
	  .optional_prefix = "o", /* "on" and "off": a following word is taken only then */
	  .json_false = "off",	  /* on by default: false must say so */
	  .parse = parse_overlay,
	  .help = "the guest may change the host's / it runs on: the writes go to a tmpfs "
		  "layered over it (overlayfs) and vanish with the VM, the host's files stay "
		  "as they were (default: on; not with --rootfs, which is writable anyway)" },
	{ .name = "rwdir",
	  .metavar = "DIR",
	  .modes = OPTION_RUN,
	  .json_key = "rwdir",
	  .repeatable = true,
	  .parse = parse_rwdir,
	  .help = "share the host directory DIR read-write at the same path in the guest, so "
		  "what the command writes there stays (repeatable; with --share at most 8)" },
	{ .name = "cmdline",
	  .metavar = "TEXT",
	  .modes = BOTH,
	  .json_key = "cmdline",
	  TEXT_AT(cmdline),
	  .help = "kernel command line (default: \"console=ttyS0 reboot=k panic=-1\")",
	  .run_help = "more kernel parameters, after the ones vmm run needs" },
	{ .name = "cpus",
	  .metavar = "N",
	  .modes = BOTH,
	  .json_key = "cpus",
	  .parse = parse_cpus,
	  .help = "number of vCPUs, 1 to 254 (default: 1)" },
	{ .name = "memory",
	  .metavar = "SIZE",
	  .modes = BOTH,
	  .json_key = "memory",
	  .parse = parse_memory,
	  .help = "guest RAM, with suffix K, M or G (default: 512M)" },
	{ .name = "console",
	  .metavar = "MODE",
	  .modes = OPTION_BOOT,
	  .json_key = "console",
	  .parse = parse_console,
	  .run_refusal = "(see --verbose)",
	  .help = "serial: guest ttyS0 on this terminal; none: discard it (default: serial)" },
	{ .name = "disk",
	  .metavar = "path=FILE[,KEY=VALUE]...",
	  .modes = BOTH,
	  .json_key = "disk",
	  .repeatable = true,
	  .parse = parse_disk,
	  .usage = "--disk path=FILE[,readonly=on][,serial=S][,cache=none|writeback][,queues=N]\n"
		   "       [,queue-size=N]",
	  .help = "a virtio-blk disk backed by a raw image or block device; repeatable (up "
		  "to 8). readonly: writes fail with an I/O error; serial: up to 20 "
		  "characters, the guest's /sys/block/vdX/serial; cache=none: O_DIRECT; "
		  "queues: default one per vCPU; queue-size: entries per queue, a power of "
		  "two up to 32768 (default 256). An image another VMM has open for writing "
		  "is refused. A comma in FILE is written twice (,,).",
	  .run_help = AS_FOR_BOOT },
	{ .name = "net",
	  .metavar = "tap=IFNAME|tap-fd=N|user[,KEY=VALUE]...",
	  .modes = BOTH,
	  .json_key = "net",
	  .parse = parse_net,
	  .usage = "--net tap=IFNAME[,mac=MAC][,queues=N][,vhost=on]\n"
		   "--net tap-fd=N[,mac=MAC][,vhost=on]\n"
		   "--net user[,hostfwd=tcp:[HOSTADDR:]HOSTPORT-:GUESTPORT]...[,mac=MAC]",
	  .help = "a virtio-net NIC, repeatable (up to 4). tap: a TAP interface opened by "
		  "name (created if missing, which needs CAP_NET_ADMIN); tap-fd: one "
		  "inherited as descriptor N; mac: default a random locally administered "
		  "address, printed at start; queues: queue pairs, 1 to 8 (a multi_queue "
		  "TAP); vhost=on: the kernel's vhost-net moves the frames (needs "
		  "/dev/vhost-net; a guest without MSI-X gets the VMM's path). user: "
		  "user-mode networking, no privileges needed: the guest gets 10.0.2.15 by "
		  "DHCP, 10.0.2.2 is the host (NAT), 10.0.2.3 its DNS. hostfwd: connections "
		  "to HOSTADDR:HOSTPORT (default 127.0.0.1) reach GUESTPORT in the guest; "
		  "repeatable (up to 16)",
	  .run_help = AS_FOR_BOOT },
	{ .name = "share",
	  .metavar = "HOSTDIR[:TAG][,readonly=on][,cache=MODE]",
	  .modes = BOTH,
	  .json_key = "share",
	  .repeatable = true,
	  .parse = parse_share,
	  .help = "share a host directory with the guest (virtio-fs); repeatable (up to 8). "
		  "The guest mounts it with mount -t virtiofs TAG /mnt. TAG: up to 36 "
		  "printable characters, default the directory's last component (or shareN "
		  "when that is no usable tag). readonly: every change fails with EROFS. "
		  "cache: how long the guest trusts names, attributes and file data: auto "
		  "(default; 1 s, data until the file changes), never (no caching, direct "
		  "I/O: the host changes the directory too) or always (a day, data kept across "
		  "opens: only this guest changes it). "
		  "The guest cannot reach outside HOSTDIR, open device nodes or follow "
		  "symlinks on the host. A comma in HOSTDIR is written twice (,,).",
	  .run_help = "also share HOSTDIR, mounted at its own path in the guest" },
	{ .name = "rng",
	  .metavar = "rate=BYTES_PER_SEC",
	  .usage = "--rng [rate=BYTES_PER_SEC]",
	  .modes = BOTH,
	  .json_key = "rng",
	  .optional_prefix = "rate=",
	  .parse = parse_rng,
	  .help = "an entropy source for the guest (virtio-rng, /dev/hwrng) filled from the "
		  "host's getrandom(); rate: at most this many bytes per second, with suffix "
		  "K, M or G (default 1M)" },
	{ .name = "vmgenid",
	  .metavar = "on|off",
	  .modes = OPTION_BOOT,
	  .json_key = "vmgenid",
	  .run_refusal = "(it is never snapshotted)",
	  .parse = parse_vmgenid,
	  .help = "x86: the ACPI VM generation ID device (Linux: vmgenid), 16 random bytes the "
		  "VMM renews at every --restore and tells the guest of, so that copies of one "
		  "snapshot reseed their random numbers (default: on). At a boot, off leaves the "
		  "device out; at a restore, off leaves the snapshot's ID as it was" },
	{ .name = "uuid",
	  .metavar = "UUID",
	  .modes = BOTH,
	  .json_key = "uuid",
	  .parse = parse_uuid,
	  .help = "the machine's UUID, as the guest reads it from SMBIOS "
		  "(/sys/class/dmi/id/product_uuid); default: a new random UUID at every "
		  "start, printed on stderr" },
	{ .name = "name",
	  .metavar = "NAME",
	  .modes = BOTH,
	  .json_key = "name",
	  .parse = parse_name,
	  .help = "the machine's product name in SMBIOS (default: minivmm)",
	  .run_help = "SMBIOS product name, also the guest's hostname (default vmm-run)" },
	{ .name = "kvm-device",
	  .metavar = "PATH",
	  .modes = BOTH,
	  .json_key = "kvm-device",
	  TEXT_AT(kvm_path),
	  .help = "KVM device (default: /dev/kvm)" },
	{ .name = "stats",
	  .modes = BOTH,
	  .json_key = "stats",
	  FLAG_AT(stats),
	  .help = "at exit, print to stderr how often the guest made the VMM work: exits by "
		  "reason and vCPU, accesses by device and address range, virtio kicks and "
		  "interrupts (SIGUSR1 prints them at any time, with or without this "
		  "option)" },
	{ .name = "stats-json",
	  .metavar = "FILE",
	  .modes = BOTH,
	  .json_key = "stats-json",
	  TEXT_AT(stats_json),
	  .empty_why = "needs a file name",
	  .help = "at exit, write the same numbers as JSON to FILE (created at start-up, "
		  "before the sandbox closes)" },
	{ .name = "api-socket",
	  .metavar = "PATH",
	  .modes = BOTH,
	  .json_key = "api-socket",
	  TEXT_AT(api_socket),
	  .empty_why = "needs a socket path",
	  .help = "serve an HTTP/1.1 + JSON API on a unix socket at PATH (created mode 0600, "
		  "removed at exit): ping, info, pause, resume, snapshot, shutdown, reboot; `vmm "
		  "ctl "
		  "PATH COMMAND` is its client (docs/api.md)" },
	{ .name = "gdb",
	  .metavar = "tcp:HOST:PORT|unix:PATH",
	  .modes = BOTH,
	  .json_key = "gdb",
	  TEXT_AT(gdb),
	  .empty_why = "needs tcp:HOST:PORT or unix:PATH",
	  .help = "let gdb debug the guest (target remote HOST:PORT, or PATH): registers, "
		  "memory, breakpoints, watchpoints and single steps, each vCPU a thread; the "
		  "guest is paused while gdb looks at it (docs/tour.md)" },
	{ .name = "gdb-wait",
	  .modes = BOTH,
	  .json_key = "gdb-wait",
	  FLAG_AT(gdb_wait),
	  .help = "with --gdb: the guest runs no instruction before gdb connects and continues" },
	{ .name = "seccomp",
	  .metavar = "MODE",
	  .modes = BOTH,
	  .json_key = "seccomp",
	  .parse = parse_seccomp,
	  .help = "on: each thread may make only the system calls its job needs, and any "
		  "other one stops the VMM with SIGSYS; log: allow them but have the kernel "
		  "log them; off: no filter (default: on). Started as root, the VMM also "
		  "drops every capability before the guest runs." },
	{ .name = "user",
	  .metavar = "UID[:GID]",
	  .modes = BOTH,
	  .json_key = "user",
	  .parse = parse_user,
	  .help = "started as root: once every file is open, become this user and group "
		  "(numbers; GID defaults to UID) before the guest runs" },
	{ .name = "jail",
	  .metavar = "DIR",
	  .modes = BOTH,
	  .json_key = "jail",
	  TEXT_AT(jail),
	  .empty_why = "needs a directory",
	  .help = "run in new user, mount, PID, IPC, UTS (and, without user networking, "
		  "network) namespaces with a tmpfs on DIR as the root, holding only "
		  "/dev/kvm, /proc and the shares; started as root it needs --user "
		  "(docs/security.md)" },
	{ .name = "modules",
	  .metavar = "DIR",
	  .modes = OPTION_RUN,
	  .json_key = "modules",
	  TEXT_AT(modules_dir),
	  .empty_why = "needs a directory",
	  .help = "the kernel's modules (with modules.dep) for the devices in use; default "
		  "/lib/modules/RELEASE, RELEASE read from the bzImage" },
	{ .name = "env",
	  .metavar = "NAME=VALUE",
	  .modes = OPTION_RUN,
	  .json_key = "env",
	  .repeatable = true,
	  .parse = parse_env,
	  .help = "set a variable for CMD (repeatable); CMD also gets our PATH, HOME, USER, "
		  "LOGNAME, TERM, TZ, LANG and LC_* when set" },
	{ .name = "cwd",
	  .metavar = "DIR",
	  .modes = OPTION_RUN,
	  .json_key = "cwd",
	  .parse = parse_cwd,
	  .help = "CMD's working directory in the guest (default: ours; / with --rootfs)" },
	{ .name = "timeout",
	  .metavar = "SECONDS",
	  .modes = BOTH,
	  .json_key = "timeout",
	  .parse = parse_timeout,
	  .help = "stop the guest after this long (exit status 124)" },
	{ .name = "status-file",
	  .metavar = "FILE",
	  .modes = OPTION_RUN,
	  .json_key = "status-file",
	  TEXT_AT(status_file),
	  .empty_why = "needs a file name",
	  .help = "write how the run ended as one line: \"exit N\", \"signal N\", \"timeout "
		  "S\", \"init-failed ERRNO\", \"no-status CODE\", \"vmm-signal N\" or "
		  "\"vmm-error\"" },
	{ .name = "boot-cache",
	  .metavar = "DIR[,keep=N][,max-size=SIZE]",
	  .modes = OPTION_RUN,
	  .json_key = "boot-cache",
	  .parse = parse_boot_cache,
	  .help = "keep a snapshot of the guest's boot in DIR and start later runs with the "
		  "same kernel, --memory, --cpus and devices from it (off by default); after "
		  "saving one, the least recently used beyond keep=N entries (default 8) or "
		  "max-size=SIZE bytes in all (default: no bound) are removed" },
	{ .name = "verbose",
	  .modes = OPTION_RUN,
	  .json_key = "verbose",
	  FLAG_AT(verbose),
	  .help = "show the guest kernel's console on stderr" },
	{ .name = "config",
	  .metavar = "FILE",
	  .modes = BOTH,
	  TEXT_AT(config),
	  .help = "options from a JSON file whose keys are the long options "
		  "(docs/scripting.md); the command line overrides it",
	  .run_help = "options from a JSON file (keys: the long options; \"command\": CMD as an "
		      "array); the command line wins" },
	{ .name = "help",
	  .short_name = 'h',
	  .modes = BOTH,
	  FLAG_AT(help),
	  .help = "show this help" },
	{ .name = "version", .modes = BOTH, FLAG_AT(version), .help = "show the version" },
};

const unsigned int options_count = sizeof(options_table) / sizeof(options_table[0]);
_Static_assert(sizeof(options_table) / sizeof(options_table[0]) <= VMM_OPTIONS_MAX,
	       "raise VMM_OPTIONS_MAX");
