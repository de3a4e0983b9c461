/* SPDX-License-Identifier: MIT */
/*
 * The boot cache's directory kept bounded (docs/snapshot.md, "How big the cache grows").
 *
 * What in DIR is ours: a directory named KEY (64 lower-case hex digits), an entry, and a
 * directory named .tmp-<16 hex digits>-<digits>, an entry being written or removed. Only
 * those, only when they are real directories (never through a symbolic link) owned by the
 * given uid, and inside them only the snapshot's file names (state, memory, and their
 * .tmp forms): anything else in DIR, or in an entry, is the user's and stays.
 *
 * Locks (flock on the entry's directory): a run that writes an entry holds LOCK_EX on it
 * from its creation until the save is over; a run restoring an entry holds LOCK_SH on it.
 * Housekeeping only removes what it can lock LOCK_EX | LOCK_NB, so it never takes an
 * entry from a run that uses it.
 *
 * Works through descriptors only: it runs on the main thread under its seccomp list
 * (vmm/seccomp_rules.c), right after a save. Threads: whichever calls it.
 */
#ifndef VMM_RUN_BOOT_CACHE_TIDY_H
#define VMM_RUN_BOOT_CACHE_TIDY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Entries kept when --boot-cache sets no keep=N. */
#define BOOT_CACHE_DEFAULT_KEEP 8
/* A temporary entry nobody holds is a crashed run's once it is this old (10 minutes). */
#define BOOT_CACHE_STALE_NS (600LL * 1000000000)

struct boot_cache_limit {
	unsigned int keep;  /* entries at most, the one just saved included */
	uint64_t max_bytes; /* their disk space at most; 0: no bound but keep */
};

/* What boot_cache_tidy() did. */
struct boot_cache_tidy_result {
	unsigned int kept, evicted, swept; /* entries left, entries removed, temporaries removed */
	uint64_t kept_bytes;		   /* the disk space of the entries left */
};

/* Whether name is an entry's (KEY) or a temporary entry's. */
bool boot_cache_is_key(const char *name);
bool boot_cache_is_temp(const char *name);

/*
 * After an entry was saved as saved (a KEY in DIR, open as dir_fd): remove stale
 * temporary entries, then the least recently used entries (oldest modification time
 * first; a hit sets it to now) until at most lim->keep entries and lim->max_bytes bytes
 * are left. The entry just saved always stays; an entry in use is skipped. now_ns is
 * CLOCK_REALTIME. Returns 0, or -errno when DIR cannot be read (nothing is removed then).
 */
int boot_cache_tidy(int dir_fd, const char *saved, const struct boot_cache_limit *lim, uid_t uid,
		    int64_t now_ns, struct boot_cache_tidy_result *res);

#endif
