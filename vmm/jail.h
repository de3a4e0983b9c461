/* SPDX-License-Identifier: MIT */
/*
 * --jail DIR: run the VMM in its own namespaces with DIR as its root, holding only what
 * the VM still has to open once the jail is entered.
 *
 * It takes two steps because of two kernel rules: the process that creates a PID
 * namespace is not in it (only its children are), so the VMM forks once; and a process
 * can only enter a new mount or user namespace while it has a single thread.
 *
 *   jail_begin()  right after the command line is checked, before any file is opened:
 *                 fork into a new PID namespace (for an ordinary user, inside a new user
 *                 namespace that maps only that user). The parent stays outside, waits,
 *                 forwards the signals sent to it, and exits as the child did.
 *   jail_enter()  in the child, once the TAPs, vhost-net, the kernel, the initrd and the
 *                 disk images are open, and before the first thread, the privilege drop
 *                 and the seccomp lists: new mount, IPC and UTS namespaces, and a network
 *                 namespace unless a NIC needs the host's; a tmpfs on DIR with /dev/kvm,
 *                 /proc and each share bound in; pivot_root into it, the host's tree
 *                 detached; started as root, a user namespace that maps only --user;
 *                 rlimits.
 *
 * Without --jail both return 0 at once. docs/security.md ("Jail") says why each step is
 * where it is.
 */
#ifndef VMM_JAIL_H
#define VMM_JAIL_H

#include <stdbool.h>
#include <stddef.h>

#include "vmm/options.h"

/* Where things are inside the jail; jail_enter() points opts at them. */
#define JAIL_KVM_PATH "/dev/kvm"
#define JAIL_SHARES_DIR "/shares" /* share i is /shares/i */

/*
 * Check the jail's options and fork. Returns 0 in the child (or without --jail);
 * VMM_EXIT_USAGE (a bad DIR, root without --user, an ordinary user with --user) or
 * VMM_EXIT_ERROR (no namespaces) with one line in err. In the parent it does not return.
 */
int jail_begin(const struct vmm_options *opts, char *err, size_t errlen);

/*
 * Enter the jail and rewrite opts->kvm_path and each share's dir to their paths in it.
 * Returns 0, or VMM_EXIT_ERROR with one line in err. Must run with a single thread.
 */
int jail_enter(struct vmm_options *opts, char *err, size_t errlen);

/*
 * After the switch to --user: the kernel clears the parent-death signal when the uid
 * changes, so arm it again (the jailed VMM dies with the process its user started, even
 * by SIGKILL). Exits at once if that process is already gone. Nothing without --jail.
 */
void jail_after_user_switch(void);

/* The hard limits the jail sets, from the options alone (0: left as it is). */
struct jail_limits {
	unsigned long long nproc;  /* threads the VMM can start, and then some */
	unsigned long long nofile; /* 0 with a share or user networking */
	unsigned long long fsize;  /* 0 with a writable share, a block device disk, or */
				   /* stdout or stderr a regular file */
};
/*
 * disk_size[i] is disk i's size in bytes, or -1 when it is not a regular file;
 * online_cpus bounds io_uring's workers per disk queue.
 */
void jail_limits(const struct vmm_options *opts, const long long *disk_size,
		 unsigned int online_cpus, bool output_to_file, struct jail_limits *out);

#endif
