/* SPDX-License-Identifier: MIT */
/*
 * The command line: parsed into a struct, checked for everything that can be checked
 * without touching the host, and never printed from here; main() prints the error and
 * chooses the exit status. Every option is one entry of options_table; parsing uses
 * getopt's global state, so it is for the main thread before any other starts.
 */
#ifndef VMM_OPTIONS_H
#define VMM_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/smbios.h"
#include "virtio/blk/disk.h"
#include "vmm/x86/kernel_unpack.h"
#include "vmm/seccomp.h"
#include "virtio/fs/fs.h"
#include "virtio/rng/rng.h"
#include "vmm/options_net.h"

#define VMM_DEFAULT_MEMORY (512ull << 20)
#define VMM_MIN_MEMORY (2ull << 20)
#define VMM_MAX_CPUS 254 /* xAPIC IDs are 8 bits and 0xff is the broadcast ID */
#define VMM_MAX_DISKS 8
#define VMM_MAX_NICS 4
#define VMM_MAX_SHARES 8
#define VMM_MAX_RNGS 1 /* --rng: a second one replaces the first */
#define VMM_DEFAULT_CMDLINE "console=ttyS0 reboot=k panic=-1"
#define VMM_MAX_ENV 64
#define VMM_MAX_TIMEOUT 604800 /* a week, in seconds */
#define VMM_OPTIONS_MAX 48     /* entries in options_table, with room to grow */

/* --boot-cache DIR,keep=N: the most entries one may ask to keep */
#define VMM_BOOT_CACHE_MAX_KEEP 10000

/* CONSOLE_LOG (guest output to stderr, no input) is what `vmm run --verbose` uses. */
enum console_mode { CONSOLE_SERIAL, CONSOLE_NONE, CONSOLE_LOG };

struct vmm_options {
	const char *kernel; /* bzImage */
	const char *flat;   /* flat 64-bit test binary loaded at 1 MiB instead of a kernel */
	const char *initrd;
	const char *cmdline; /* defaults to VMM_DEFAULT_CMDLINE */
	unsigned int cpus;
	uint64_t memory;
	const char *memory_text; /* as the user wrote it, for messages */
	enum console_mode console;
	const char *kvm_path;
	uint8_t uuid[SMBIOS_UUID_LEN];
	bool has_uuid;	  /* --uuid given; otherwise a fresh random one per start */
	const char *name; /* --name: SMBIOS product name, NULL for the default */
	unsigned int ndisks;
	bool stats;		       /* --stats: print the exit statistics to stderr at exit */
	const char *stats_json;	       /* --stats-json FILE: write them as JSON to FILE at exit */
	const char *api_socket;	       /* --api-socket PATH: serve the API there (vmm/api.h) */
	const char *restore;	       /* --restore source_url=URL: the URL (vmm/snapshot.h) */
	bool vmgenid_off;	       /* --vmgenid off: no VM generation ID (vmm/x86/vmgenid.h) */
	const char *gdb;	       /* --gdb tcp:HOST:PORT|unix:PATH (vmm/gdb/stub.h) */
	bool gdb_wait;		       /* --gdb-wait: no guest instruction before gdb continues */
	enum vmm_seccomp_mode seccomp; /* --seccomp on|log|off, default on */
	bool has_user;		       /* --user UID[:GID]: run as that user after set-up */
	uint32_t uid, gid;
	struct net_options nics[VMM_MAX_NICS];
	unsigned int nnics;
	unsigned int nshares;
	struct rng_options rngs[VMM_MAX_RNGS]; /* --rng: a virtio-rng device */
	unsigned int nrngs;
	bool help;
	bool version;
	unsigned int timeout; /* --timeout SECONDS, 0 for none */

	/* `vmm run`: boot, run a command in the guest, exit with its status (vmm/run/run.h) */
	bool run;
	char **command; /* argv of the command, NULL-terminated; set in run mode */
	unsigned int ncommand;
	const char *rootfs;	 /* --rootfs DIR: the guest's root is a copy of DIR in RAM */
	const char *modules_dir; /* --modules DIR: default /lib/modules/<kernel release> */
	const char *kernel_tree; /* vmm run --kernel DIR: the build tree (vmm/run/kernel_tree.h) */
	const char *env[VMM_MAX_ENV]; /* --env NAME=VALUE, in order */
	unsigned int nenv;
	const char *cwd;	 /* --cwd DIR in the guest */
	const char *status_file; /* --status-file FILE: how the run ended, one line */
	const char *boot_cache;	 /* --boot-cache DIR: start from a saved boot (boot_cache.h) */
	bool verbose;		 /* --verbose: the guest's console on stderr */
	const char *config;	 /* --config FILE, already merged in by main() */
	const char *jail;	 /* --jail DIR: the VMM's root once set up (vmm/jail.h) */
	bool run_tty;		 /* no command, on a terminal: an interactive shell */
	bool overlay_off;	 /* --overlay=off: the host's / stays read-only in the guest */
	unsigned int nrwdirs;	 /* --rwdir: shares (among shares[]) tagged vmm-rwdirN */

	/* --boot-cache DIR,keep=N,max-size=SIZE: its bounds; 0 for the default, no bound */
	unsigned int boot_cache_keep;
	uint64_t boot_cache_max_bytes;

	enum kernel_unpack_mode kernel_unpack; /* --kernel-unpack host|guest, default host */

	/*
	 * Last, and zeroed one slot at a time as options fill them: each holds a 4 KiB path,
	 * and the pages of slots no option uses are never touched (64 KiB of the VMM's
	 * resident memory otherwise). Slots from ndisks and nshares on are undefined.
	 */
	struct disk_options disks[VMM_MAX_DISKS];
	struct fs_share_options shares[VMM_MAX_SHARES]; /* --share: virtio-fs devices */
};

enum option_mode {
	OPTION_BOOT = 1, /* `vmm [options]` */
	OPTION_RUN = 2,	 /* `vmm run [options] -- CMD` */
};

/*
 * One command-line option: everything the parser, --help and --config know about it.
 * Adding an option is adding one entry to options_table (vmm/options_table.c).
 */
struct option_spec {
	const char *name;	 /* the long option, without "--" */
	char short_name;	 /* its one-letter form, or 0 */
	const char *metavar;	 /* what its value is called in --help ("FILE"); NULL: a flag */
	const char *usage;	 /* --help's left column when "--name METAVAR" is not enough */
	const char *help;	 /* --help's text, one paragraph, wrapped when printed */
	const char *run_help;	 /* `vmm run --help`'s text; NULL: the same as help */
	unsigned int modes;	 /* enum option_mode bits: the commands that accept it */
	const char *run_refusal; /* not OPTION_RUN: why, after "cannot be used with vmm run" */
	const char *json_key;	 /* its --config key, or NULL when a file may not set it */
	bool repeatable;	 /* --config may give a JSON array, which the command line's own
				    occurrences replace (--net may repeat, but not as an array) */
	/*
	 * Either a parser (arg is NULL for a flag) that fills opts or says, in one line in
	 * err, why not; or NULL, and the value is stored at field: the text for an option
	 * with a value (refused when empty if empty_why is set), true for a flag.
	 */
	int (*parse)(struct vmm_options *opts, const char *arg, char *err, size_t errlen);
	size_t field;
	const char *empty_why;
	/*
	 * Non-NULL: the value may be left out (a parser then gets NULL), and the next word is
	 * the value when it starts with this, as in "--rng rate=N"; --config takes true.
	 */
	const char *optional_prefix;
	/* --config's false for such an option: this value ("off"), or NULL: leave it out */
	const char *json_false;
};

extern const struct option_spec options_table[];
extern const unsigned int options_count;

/* What a first look at the command line finds, before a --config file is read. */
struct options_prescan {
	bool run;		     /* `vmm run` */
	int first;		     /* index of the first option in argv (after "run") */
	const char *config;	     /* --config FILE, or NULL */
	bool has_command;	     /* run mode: a command follows the options */
	bool ends_with_dashes;	     /* the last argument is a bare "--" */
	bool given[VMM_OPTIONS_MAX]; /* options_table[i] occurs on the command line */
};

/* Look argv over without judging it; never fails. */
void options_prescan(int argc, char **argv, struct options_prescan *pre);
/* The option whose --config key is key, or NULL; *index is its place in options_table. */
const struct option_spec *options_find_json(const char *key, unsigned int *index);
/* The option with this long name, or NULL. */
const struct option_spec *options_find(const char *name);

/*
 * Parse argv: `vmm [options]` or `vmm run [options] [--] CMD [ARGS...]`. Returns 0, or -EINVAL with
 * a one-line message (naming the option and the bad value) in err.
 */
int options_parse(struct vmm_options *opts, int argc, char **argv, char *err, size_t errlen);
/*
 * Add one share as --share TEXT would: "HOSTDIR[:TAG][,readonly=on|off]" (a mode that
 * builds its own command line may call this after options_parse). Checks the syntax, the
 * tag and that it is not taken; the directory itself is checked when the VMM starts.
 * Returns 0, or -EINVAL with a one-line message in err.
 */
int options_add_share(struct vmm_options *opts, const char *text, char *err, size_t errlen);
/* Parse "512M", "2G", "65536"; K/M/G/T suffixes are powers of 1024. -EINVAL on junk. */
int options_parse_size(const char *text, uint64_t *out);
/* One line "OPT VALUE: why" in err; returns -EINVAL. For the parsers in the table. */
int options_bad(char *err, size_t errlen, const char *opt, const char *value, const char *why);
/* Write --help to stream (a FILE *, kept void here so the header stays stdio-free). */
void options_usage(void *stream, const char *argv0);
/* Write `vmm run --help` to stream. */
void options_usage_run(void *stream, const char *argv0);

#endif
