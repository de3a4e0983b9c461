/* SPDX-License-Identifier: MIT */
/*
 * `vmm run --boot-cache DIR`: start a run from a snapshot of an earlier one, taken at the
 * boot point of the guest's init (before it loads a driver or mounts the root, so that no
 * virtio device is live yet). docs/snapshot.md, "Booting from a cache", has the design.
 *
 * An entry is DIR/KEY/, a snapshot directory (vmm/snapshot.h). KEY is the SHA-256 of what
 * must be the same for the snapshot to be this run's boot: the VMM binary, the kernel file,
 * the initramfs without the run's configuration (the init, the modules, a --rootfs tree),
 * --memory, --cpus, the kernel command line and the device set. What differs between runs
 * with one key (the command, its environment, the shares' paths, stdin, the time, fresh
 * random bytes) reaches the init through the command port after the boot point.
 *
 * A miss boots cold; at the boot point the vCPU asks the main thread (an eventfd) to pause
 * the VM, save it into a temporary directory under DIR and rename that to DIR/KEY, then
 * let the guest go on. A failure to write the cache is one warning, never a failed run.
 * Once the guest runs again, the directory is tidied (boot_cache_tidy.h): least recently
 * used entries beyond --boot-cache's keep= and max-size= go. A hit marks its entry used
 * (its modification time) and holds it (LOCK_SH) for the run, so no other run evicts it.
 *
 * Threads: the main thread, except boot_cache_boot_point(), which a vCPU calls.
 */
#ifndef VMM_RUN_BOOT_CACHE_H
#define VMM_RUN_BOOT_CACHE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/event_loop.h"
#include "vmm/options.h"
#include "vmm/run/boot_cache_tidy.h"
#include "vmm/run/run.h"
#include "vmm/seccomp.h"
#include "vmm/sha256.h"
#include "vmm/vm.h"

#define BOOT_CACHE_KEY_LEN (2 * SHA256_BYTES)

/* A file as the key sees it: which file, and whether it changed since. */
struct boot_cache_file_id {
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
};

/* Everything the key covers; boot_cache_key() turns it into KEY. */
struct boot_cache_inputs {
	struct boot_cache_file_id vmm;	  /* our own binary (/proc/self/exe) */
	struct boot_cache_file_id kernel; /* --kernel */
	uint8_t initramfs[SHA256_BYTES];  /* the initramfs, which holds no configuration */
	uint64_t memory;		  /* --memory, bytes */
	unsigned int ncpus;		  /* --cpus */
	const char *cmdline;		  /* the kernel's command line */
	const char *devices;		  /* the device set, one line per device */
};

struct boot_cache {
	char dir[PATH_MAX]; /* DIR, absolute; "" when --boot-cache is off */
	int dir_fd;
	bool verbose;
	struct boot_cache_limit limit;
	uid_t uid;    /* whose entries tidying may remove: the owner of the entry we made */
	bool as_user; /* --user: entries are made for that user, who saves and tidies them */
	uid_t user_uid;
	gid_t user_gid;
	int entry_fd; /* a hit: DIR/KEY, held with LOCK_SH; or -1 */
	struct boot_cache_file_id vmm;
	char key[BOOT_CACHE_KEY_LEN + 1];
	bool hit; /* DIR/KEY holds a snapshot: restore from url */
	char url[PATH_MAX + BOOT_CACHE_KEY_LEN + 16]; /* file://DIR/KEY */
	char tmp[96]; /* a miss: the entry being written, under DIR */
	int tmp_fd;   /* ... opened, or -1 */
	bool replace; /* DIR/KEY is there but unusable: replace it */
	int event_fd; /* a vCPU's boot point, to the main thread */
	struct event_loop *loop;
	struct vm *vm;
};

extern struct boot_cache run_boot_cache;

/* KEY (hexadecimal, NUL-terminated) for in. Pure. */
void boot_cache_key(const struct boot_cache_inputs *in, char key[BOOT_CACHE_KEY_LEN + 1]);
/* One line per device into buf: its kind and whatever a restore checks of it. */
void boot_cache_describe_devices(const struct vm *vm, char *buf, size_t cap);

/*
 * --boot-cache DIR given: check that DIR is a directory we can write, and open it. Returns
 * 0, or VMM_EXIT_USAGE with one line in err. Without the option: 0, and the cache is off.
 */
int boot_cache_open(struct boot_cache *c, const struct vmm_options *opts, char *err, size_t errlen);
bool boot_cache_enabled(const struct boot_cache *c);
/*
 * Once the devices are planned and the run's initramfs and command line are built: compute
 * the key and look DIR/KEY up: c->hit and c->url for a hit. On a miss, make the temporary
 * entry the snapshot will go to. Trouble turns the cache off with a warning.
 */
void boot_cache_lookup(struct boot_cache *c, struct vm *vm, const struct vmm_options *opts,
		       const struct run_image *img);
/* A hit that cannot be restored after all (why): warn, and go on as a miss. */
void boot_cache_unusable(struct boot_cache *c, const char *why);
/*
 * A miss: watch for the boot point on the main thread's loop. Before the sandbox; 0 or
 * -errno (the cache is then off, with a warning).
 */
int boot_cache_watch(struct boot_cache *c, struct event_loop *loop, struct vm *vm);
/* The command port's boot point (a vCPU): true to hold the guest while the cache is written. */
bool boot_cache_boot_point(void *ctx);
/* The descriptors each thread's list needs: the vCPUs signal, the main thread saves. */
void boot_cache_vcpu_fds(const struct boot_cache *c, struct vmm_seccomp_fds *fds);
void boot_cache_main_fds(const struct boot_cache *c, struct vmm_seccomp_fds *fds);
/* At exit: remove a temporary entry that was not filled (the run ended first). */
void boot_cache_close(struct boot_cache *c);

#endif
