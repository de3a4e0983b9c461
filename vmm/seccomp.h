/* SPDX-License-Identifier: MIT */
/*
 * Least privilege once set-up is over: every thread loads a seccomp allow-list made for
 * its job (its role), and the process gives up its capabilities before a guest
 * instruction runs. docs/security.md explains each list.
 *
 * Order of use: vmm_drop_privileges() while the main thread is still the only thread;
 * vmm_seccomp_init() once on the main thread, before any filter and before the threads
 * that will load one are created; then each thread calls vmm_seccomp_install() for
 * itself before it touches anything the guest controls.
 */
#ifndef VMM_SECCOMP_H
#define VMM_SECCOMP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * A signal to one of our own threads, as the filters allow it: tgkill names our process.
 * musl's raise() and pthread_kill() use tkill, which could name any thread on the host.
 */
static inline int vmm_tgkill(pid_t tid, int sig)
{
	return (int)syscall(SYS_tgkill, getpid(), tid, sig);
}
#ifdef __GLIBC__
#define vmm_raise raise
#else
#define vmm_raise(sig) vmm_tgkill(gettid(), (sig))
#endif

enum vmm_seccomp_mode {
	VMM_SECCOMP_ON,	 /* a call outside the list kills the process with SIGSYS */
	VMM_SECCOMP_LOG, /* it is allowed and logged by the kernel (audit / dmesg) */
	VMM_SECCOMP_OFF, /* no filter at all */
};

enum vmm_seccomp_role {
	VMM_SECCOMP_MAIN, /* the event loop: console, signals, stop, teardown */
	VMM_SECCOMP_VCPU, /* KVM_RUN and the device models it calls */
	VMM_SECCOMP_BLK,  /* a virtio-blk queue thread: disk I/O on its own descriptors */
	VMM_SECCOMP_NET,  /* a virtio-net queue-pair thread: frames to and from its back end */
	/* the event loop when it also runs libslirp (--net user): main plus its sockets */
	VMM_SECCOMP_MAIN_USER_NET,
	VMM_SECCOMP_FS,	   /* a virtio-fs worker: the file server for one shared directory */
	VMM_SECCOMP_RNG,   /* the virtio-rng worker: random bytes from getrandom() */
	VMM_SECCOMP_STDIN, /* `vmm run`'s stdin reader: read() on stdin, nothing more */
	VMM_SECCOMP_ROLES,
};

/*
 * Descriptor classes a rule can restrict its first argument to. The caller fills in the
 * numbers it knows; a class left empty allows nothing that names it.
 */
enum vmm_seccomp_fd_class {
	VMM_SECCOMP_FD_VM,   /* the KVM VM descriptor */
	VMM_SECCOMP_FD_VCPU, /* this thread's own vCPU */
	VMM_SECCOMP_FD_DISK, /* disk images (both the O_DIRECT and the buffered descriptor) */
	VMM_SECCOMP_FD_RING, /* this queue's io_uring */
	/* eventfds this thread reads or writes: kicks, stops, wake-ups, irqfds, stop request */
	VMM_SECCOMP_FD_EVENT,
	VMM_SECCOMP_FD_TAP,    /* TAP queue descriptors of virtio-net back ends */
	VMM_SECCOMP_FD_VHOST,  /* /dev/vhost-net descriptors, one per queue pair */
	VMM_SECCOMP_FD_INPUT,  /* read: the terminal the guest's console takes input from */
	VMM_SECCOMP_FD_OUTPUT, /* write: console and `vmm run` output, status and stats files */
	VMM_SECCOMP_FD_API,    /* --api-socket: its listening socket and its directory */
	VMM_SECCOMP_FD_CLASSES,
};

/* Descriptor numbers a list can name: 0 up to this, not included. */
#define VMM_SECCOMP_MAX_FD 4096

/*
 * One bit per descriptor number and class. Stderr (2) needs no bit: every thread may
 * write its log lines there.
 */
struct vmm_seccomp_fds {
	uint64_t bits[VMM_SECCOMP_FD_CLASSES][VMM_SECCOMP_MAX_FD / 64];
	int too_high; /* a descriptor above VMM_SECCOMP_MAX_FD was added (install refuses) */
	/*
	 * A file server's descriptors are too many and too changing to list: they all lie in
	 * [share_base, share_base + share_size), a power of two aligned to its size, which one
	 * masked comparison can test. share_size 0: the rules that need it allow nothing.
	 */
	unsigned int share_base, share_size;
};

/*
 * Process-wide preparation on the main thread: PR_SET_NO_NEW_PRIVS, the SIGSYS handler
 * and the table of system call names it prints. before_death, if not NULL, runs in the
 * handler before the process dies (it must be async-signal-safe: the console uses it to
 * leave raw mode). With VMM_SECCOMP_OFF it records the mode and does nothing else.
 */
int vmm_seccomp_init(enum vmm_seccomp_mode mode, void (*before_death)(void));
enum vmm_seccomp_mode vmm_seccomp_get_mode(void);

/*
 * Add fd to a class; duplicates and negative numbers are ignored. One at or above
 * VMM_SECCOMP_MAX_FD is remembered in too_high, and vmm_seccomp_install() then refuses
 * the list rather than leave out a descriptor the thread needs.
 */
void vmm_seccomp_fds_add(struct vmm_seccomp_fds *fds, enum vmm_seccomp_fd_class cls, int fd);

/*
 * Load role's allow-list on the calling thread (filters stack: a thread created later by
 * this one inherits it and may add its own). Returns 0, or a negative errno with a
 * sentence in err. Does nothing in VMM_SECCOMP_OFF.
 */
int vmm_seccomp_install(enum vmm_seccomp_role role, const struct vmm_seccomp_fds *fds, char *err,
			size_t errlen);

/*
 * Write role's filter as the kernel would run it (struct sock_filter instructions, the
 * default action a trap) to out_fd, without loading it: for tests and for counting what a
 * system call costs in the filter. Returns 0 or a negative errno with a sentence in err.
 */
int vmm_seccomp_export(enum vmm_seccomp_role role, const struct vmm_seccomp_fds *fds, int out_fd,
		       char *err, size_t errlen);

/*
 * A new thread's first step, seen from its creator. The thread opens the gate once its
 * list is loaded (or failed to load); its creator waits there before going on. So when the
 * main thread loads its own list, last of all, no thread of the VMM is without one, not
 * even for the moment between its creation and its first instruction.
 */
struct vmm_seccomp_gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int state; /* 0: not yet; 1: its list is loaded (or seccomp is off); -1: it failed */
};

void vmm_seccomp_gate_init(struct vmm_seccomp_gate *g);
/* By the new thread, once: loaded says whether vmm_seccomp_install() succeeded. */
void vmm_seccomp_gate_open(struct vmm_seccomp_gate *g, bool loaded);
/* By its creator: waits for the thread's vmm_seccomp_gate_open(); true if it loaded. */
bool vmm_seccomp_gate_wait(struct vmm_seccomp_gate *g);

/* The role's name, as the SIGSYS message prints it ("vCPU", "main", "block I/O"). */
const char *vmm_seccomp_role_name(enum vmm_seccomp_role role);

/* How many distinct system calls the role may make (its own list and the common one). */
unsigned int vmm_seccomp_role_syscalls(enum vmm_seccomp_role role);

/*
 * Started as root (or with any capability): clear the ambient and bounding sets and the
 * effective, permitted and inheritable sets, so nothing the guest reaches can use them;
 * then set PR_SET_NO_NEW_PRIVS. All of it is per thread and inherited by threads made
 * later, so it must run while the caller is the process's only thread. Returns 0 (also
 * when there was nothing to drop) or a negative errno (-EBUSY: other threads exist).
 */
int vmm_drop_capabilities(void);
/*
 * The same, and with change_user also become uid:gid (real, effective and saved; the
 * supplementary groups become just gid) once the bounding set is gone, which needs
 * root. Returns 0 or a negative errno (-EPERM: not allowed to switch; -EBUSY: other
 * threads exist).
 */
int vmm_drop_privileges(bool change_user, uid_t uid, gid_t gid);

#endif
