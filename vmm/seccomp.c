// SPDX-License-Identifier: MIT
/*
 * Per-thread seccomp allow-lists and dropping capabilities. The lists are tables, one per
 * role, plus one every thread shares; docs/security.md says why each call is there.
 *
 * Adding a role (a virtio-net TAP thread, a libslirp back end in the event loop, ...):
 *  1. add VMM_SECCOMP_<ROLE> to enum vmm_seccomp_role in seccomp.h (before _ROLES);
 *  2. write a <role>_rules[] table below: one line per call, restricted by descriptor
 *     class and arguments as tightly as the code allows; a descriptor class the role
 *     needs that does not exist yet goes into enum vmm_seccomp_fd_class;
 *  3. add it to roles[] with the name the SIGSYS message prints;
 *  4. call vmm_seccomp_install() first thing in the thread, with its descriptors. A
 *     thread inherits the list of the thread that created it and can only narrow it, so
 *     a parent's list must also allow everything its children do (see the vCPU table);
 *  5. extend tests/unit/vmm/test_seccomp.c (the role's calls work, one forbidden call
 *     kills) and the table in docs/security.md.
 */
#include "vmm/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/kvm.h>
#include <linux/if_tun.h>
#include <linux/seccomp.h>
#include <linux/vhost.h>
#include <seccomp.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <grp.h>
#include <sys/syscall.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SYSCALL_NAMES 512 /* above every x86-64 system call number */

enum { FD_ANY = -1 };
enum rule_action { RULE_ALLOW, RULE_ENOSYS };

struct arg_test {
	unsigned int arg; /* 1-based argument index; 0: no test */
	enum scmp_compare op;
	uint64_t a, b;
};

struct rule {
	int nr;
	int fd_class; /* FD_ANY, or a vmm_seccomp_fd_class argument 0 must belong to */
	bool own_pid; /* argument 0 must be this process's PID (tgkill) */
	enum rule_action action;
	struct arg_test test[2];
	uint8_t share_args;	/* bit n: argument n is one of the file server's descriptors */
	uint8_t share_base_arg; /* 1-based; that argument must equal the window's base */
};

#define ALLOW(name)                                                                                \
	{                                                                                          \
		.nr = SCMP_SYS(name), .fd_class = FD_ANY                                           \
	}
#define ALLOW_ON(name, cls)                                                                        \
	{                                                                                          \
		.nr = SCMP_SYS(name), .fd_class = (cls)                                            \
	}
#define ARG_EQ(n, v)                                                                               \
	{                                                                                          \
		(n) + 1, SCMP_CMP_EQ, (uint64_t)(v), 0                                             \
	}
/* (argument & mask) == value */
#define ARG_MASKED(n, mask, v)                                                                     \
	{                                                                                          \
		(n) + 1, SCMP_CMP_MASKED_EQ, (uint64_t)(mask), (uint64_t)(v)                       \
	}
#define ALLOW_IF(name, t0)                                                                         \
	{                                                                                          \
		.nr = SCMP_SYS(name), .fd_class = FD_ANY, .test = { t0 }                           \
	}
#define ALLOW_IF2(name, t0, t1)                                                                    \
	{                                                                                          \
		.nr = SCMP_SYS(name), .fd_class = FD_ANY, .test = { t0, t1 }                       \
	}
/* on the file server's own descriptors: argument n for each bit n of args */
#define ON_SHARE(name, args)                                                                       \
	{                                                                                          \
		.nr = SCMP_SYS(name), .fd_class = FD_ANY, .share_args = (args)                     \
	}
#define ON_SHARE_IF(name, args, t0)                                                                \
	{                                                                                          \
		.nr = SCMP_SYS(name), .fd_class = FD_ANY, .share_args = (args), .test = { t0 }     \
	}
#define IOCTL(cls, request)                                                                        \
	{                                                                                          \
		.nr = SCMP_SYS(ioctl), .fd_class = (cls), .test = { ARG_EQ(1, request) }           \
	}

/*
 * Every thread: what libc does behind any function (locks, allocation, thread exit), the
 * SIGSYS handler's own needs (write, rt_sigaction, tgkill, the terminal restored), and
 * writing log lines to stderr.
 */
static const struct rule common_rules[] = {
	/* log lines, and the SIGSYS handler's own */
	ALLOW_IF(write, ARG_EQ(0, STDERR_FILENO)),
	/*
	 * Everything else a thread reads or writes with plain read/write is one of its own
	 * descriptors, as its installer names them: the eventfds it waits on or signals, and
	 * for the threads that do console I/O the terminal. Never a disk image or a TAP.
	 */
	ALLOW_ON(read, VMM_SECCOMP_FD_EVENT),
	ALLOW_ON(write, VMM_SECCOMP_FD_EVENT),
	ALLOW_ON(read, VMM_SECCOMP_FD_INPUT),
	ALLOW_ON(write, VMM_SECCOMP_FD_OUTPUT),
	ALLOW(futex),
	ALLOW(exit),
	ALLOW(exit_group),
	ALLOW(restart_syscall),
	ALLOW(rt_sigreturn),
	ALLOW(rt_sigprocmask),
	/* crash handlers put the default action back before they re-raise */
	ALLOW_IF(rt_sigaction, ARG_EQ(0, SIGSYS)),
	ALLOW_IF(rt_sigaction, ARG_EQ(0, SIGSEGV)),
	ALLOW_IF(rt_sigaction, ARG_EQ(0, SIGBUS)),
	ALLOW_IF(rt_sigaction, ARG_EQ(0, SIGILL)),
	ALLOW_IF(rt_sigaction, ARG_EQ(0, SIGFPE)),
	ALLOW_IF(rt_sigaction, ARG_EQ(0, SIGABRT)),
	/* signals to our own threads only: vCPU kicks, raise() */
	{ .nr = SCMP_SYS(tgkill), .fd_class = FD_ANY, .own_pid = true },
	ALLOW(getpid),
	ALLOW(gettid),
	/* memory for malloc and thread stacks; nothing may become executable */
	ALLOW_IF(mmap, ARG_MASKED(2, PROT_EXEC, 0)),
	ALLOW_IF(mprotect, ARG_MASKED(2, PROT_EXEC, 0)),
	ALLOW(munmap),
	ALLOW(madvise),
	ALLOW(brk),
	ALLOW(sched_yield),
	ALLOW(clock_gettime), /* normally the vDSO; the system call when it is absent */
	/* stdio sizes its buffer from the descriptor it writes to */
	ALLOW(fstat),
	ALLOW_IF(newfstatat, ARG_EQ(3, AT_EMPTY_PATH)),
	/*
	 * leaving raw mode on the way out: vmm/console.c issues exactly this ioctl itself,
	 * never libc's tcsetattr(), which may add TCGETS or use TCSETS2 (see console.c)
	 */
	ALLOW_IF2(ioctl, ARG_EQ(0, STDIN_FILENO), ARG_EQ(1, TCSETS)),
};

/* The main thread once the vCPUs run: the event loop, then the teardown. */
static const struct rule main_rules[] = {
	ALLOW(epoll_wait),
	ALLOW(epoll_pwait),
	ALLOW(epoll_ctl),
	ALLOW(close),
	/* disk images are unlocked at exit, before their rings are gone (virtio/disk.c) */
	{ .nr = SCMP_SYS(fcntl),
	  .fd_class = VMM_SECCOMP_FD_DISK,
	  .test = { ARG_EQ(1, F_OFD_SETLK) } },
	/* typed input raises COM1's interrupt line */
	IOCTL(VMM_SECCOMP_FD_VM, KVM_IRQ_LINE),
	/* the statistics table (SIGUSR1, exit) asks whether stderr is a terminal */
	ALLOW_IF2(ioctl, ARG_EQ(0, STDERR_FILENO), ARG_EQ(1, TCGETS)),
};

/*
 * Block I/O queue threads: requests on their own disk descriptors, waiting on their own
 * ring (io_uring engine) or with poll (thread engine), and INTx for guests without MSI-X.
 */
static const struct rule blk_rules[] = {
	ALLOW_ON(preadv, VMM_SECCOMP_FD_DISK),
	ALLOW_ON(pwritev, VMM_SECCOMP_FD_DISK),
	ALLOW_ON(fdatasync, VMM_SECCOMP_FD_DISK),
	ALLOW_ON(fallocate, VMM_SECCOMP_FD_DISK),
	ALLOW_ON(io_uring_enter, VMM_SECCOMP_FD_RING),
	ALLOW_ON(close, VMM_SECCOMP_FD_RING), /* a failed ring is given up for the thread engine */
	ALLOW(poll),
	ALLOW(ppoll),
	IOCTL(VMM_SECCOMP_FD_VM, KVM_IRQ_LINE),
};

/*
 * vCPU threads: KVM_RUN on their own vCPU and the device models behind the exits. The
 * guest starts a virtio-blk queue by writing DRIVER_OK from a vCPU, and that thread then
 * creates the queue's thread, which starts under this list: so the second half is what a
 * queue thread needs before and after it adds its own. Rings and kick eventfds exist
 * from set-up on (virtio/blk.c, virtio/pci.c): no thread creates one while the guest runs.
 */
static const struct rule vcpu_rules[] = {
	IOCTL(VMM_SECCOMP_FD_VCPU, KVM_RUN),
	IOCTL(VMM_SECCOMP_FD_VCPU, KVM_GET_REGS),      /* register dump on a fatal exit */
	IOCTL(VMM_SECCOMP_FD_VCPU, KVM_GET_SREGS),     /* the same */
	IOCTL(VMM_SECCOMP_FD_VM, KVM_IRQ_LINE),	       /* UART and PCI INTx lines */
	IOCTL(VMM_SECCOMP_FD_VM, KVM_SET_GSI_ROUTING), /* the guest programs an MSI-X vector */
	IOCTL(VMM_SECCOMP_FD_VM, KVM_IOEVENTFD),       /* queue notify addresses follow BAR moves */
	/* pthread_create: threads only (no fork); clone3 says ENOSYS so libc uses clone */
	ALLOW_IF(clone, ARG_MASKED(0, CLONE_THREAD, CLONE_THREAD)),
	{ .nr = SCMP_SYS(clone3), .fd_class = FD_ANY, .action = RULE_ENOSYS },
	ALLOW(set_robust_list),
	ALLOW(rseq),
	/* the new queue thread names itself and stacks its own, narrower list */
	ALLOW_IF(prctl, ARG_EQ(0, PR_SET_NAME)),
	ALLOW_IF(seccomp, ARG_EQ(0, SECCOMP_SET_MODE_FILTER)),
	/* and then runs under this list too */
	ALLOW_ON(preadv, VMM_SECCOMP_FD_DISK),
	ALLOW_ON(pwritev, VMM_SECCOMP_FD_DISK),
	ALLOW_ON(fdatasync, VMM_SECCOMP_FD_DISK),
	ALLOW_ON(fallocate, VMM_SECCOMP_FD_DISK),
	ALLOW_ON(io_uring_enter, VMM_SECCOMP_FD_RING),
	ALLOW_ON(close, VMM_SECCOMP_FD_RING),
	ALLOW(poll),
	ALLOW(ppoll),
	/*
	 * virtio-net: DRIVER_OK tells the TAP which offloads the driver accepted and hands
	 * the rings to vhost-net (a reset takes them back); the queue-pair threads this
	 * thread starts then move frames on the TAP and switch its queues.
	 */
	IOCTL(VMM_SECCOMP_FD_TAP, TUNSETOFFLOAD),
	IOCTL(VMM_SECCOMP_FD_TAP, TUNSETQUEUE),
	ALLOW_ON(readv, VMM_SECCOMP_FD_TAP),
	ALLOW_ON(writev, VMM_SECCOMP_FD_TAP),
	IOCTL(VMM_SECCOMP_FD_VHOST, VHOST_SET_FEATURES),
	IOCTL(VMM_SECCOMP_FD_VHOST, VHOST_SET_MEM_TABLE),
	IOCTL(VMM_SECCOMP_FD_VHOST, VHOST_SET_VRING_NUM),
	IOCTL(VMM_SECCOMP_FD_VHOST, VHOST_SET_VRING_BASE),
	IOCTL(VMM_SECCOMP_FD_VHOST, VHOST_GET_VRING_BASE),
	IOCTL(VMM_SECCOMP_FD_VHOST, VHOST_SET_VRING_ADDR),
	IOCTL(VMM_SECCOMP_FD_VHOST, VHOST_SET_VRING_KICK),
	IOCTL(VMM_SECCOMP_FD_VHOST, VHOST_SET_VRING_CALL),
	IOCTL(VMM_SECCOMP_FD_VHOST, VHOST_NET_SET_BACKEND),
};

/*
 * virtio-net queue-pair threads: whole frames to and from the TAP (readv/writev; a
 * user-network back end only touches eventfds, which read and write cover), waiting with
 * poll, INTx for guests without MSI-X, and the control queue's VQ_PAIRS_SET, which
 * attaches or detaches a TAP queue.
 */
static const struct rule net_rules[] = {
	ALLOW_ON(readv, VMM_SECCOMP_FD_TAP),
	ALLOW_ON(writev, VMM_SECCOMP_FD_TAP),
	ALLOW(poll),
	ALLOW(ppoll),
	IOCTL(VMM_SECCOMP_FD_VM, KVM_IRQ_LINE),
	IOCTL(VMM_SECCOMP_FD_TAP, TUNSETQUEUE),
};

/*
 * libslirp, in the event loop with --net user: the host side of every guest connection
 * is a real socket (IPv4 TCP and UDP, ICMP echo), and DNS forwarding reads the host's
 * resolver configuration. Only on the main thread, and only when user networking is on.
 */
static const struct rule user_net_rules[] = {
	/*
	 * libslirp reads /etc/resolv.conf with stdio (fopen, fgets) when the guest first asks
	 * its DNS forwarder, on a descriptor whose number is known only then. Reading cannot
	 * change a disk or a TAP; writing stays limited to this thread's own descriptors, and
	 * its sockets are served by send and recv calls, which fail on anything else.
	 */
	ALLOW(read),
	ALLOW_IF(socket, ARG_EQ(0, AF_INET)),
	ALLOW(connect),
	ALLOW(bind),
	ALLOW(listen),
	ALLOW(accept),
	ALLOW(accept4),
	ALLOW(sendto),
	ALLOW(recvfrom),
	ALLOW(sendmsg),
	ALLOW(recvmsg),
	ALLOW(setsockopt),
	ALLOW(getsockopt),
	ALLOW(getsockname),
	ALLOW(getpeername),
	ALLOW(shutdown),
	ALLOW_IF(fcntl, ARG_EQ(1, F_GETFL)),
	ALLOW_IF(fcntl, ARG_EQ(1, F_SETFL)),
	ALLOW_IF(ioctl, ARG_EQ(1, FIONREAD)),
	ALLOW(getrandom),
	/* /etc/resolv.conf, read only; never a file created or written */
	ALLOW_IF(openat, ARG_MASKED(2, O_ACCMODE | O_CREAT | O_TRUNC, O_RDONLY)),
	ALLOW(newfstatat),
	ALLOW(lseek),
};

/*
 * virtio-fs workers: the FUSE file server. Every descriptor it works on (the share's
 * root, one O_PATH descriptor per node the guest looked up, the open files and
 * directories, /proc/self/fd) lies in its window (vmm_seccomp_fds.share_base/size), and
 * every call that takes a descriptor or a directory descriptor must name one of them:
 * AT_FDCWD and the VMM's other descriptors (disk images, KVM, TAPs) are refused. seccomp
 * cannot read the path a call takes, so an absolute one would still pass here: keeping
 * the paths beneath the share is Landlock's work (virtio/fs.c), and the server's own
 * (one component per name, openat2 with RESOLVE_BENEATH). These threads are made at
 * set-up and load this list themselves; no other thread may open a file once the guest
 * runs.
 */
#define A0 1u /* argument 0 */
#define A1 2u
#define A2 4u
static const struct rule fs_rules[] = {
	/* LOOKUP, CREATE: one name below a node; reopening a node via /proc/self/fd */
	ON_SHARE(openat2, A0),
	ON_SHARE(openat, A0),
	/* each new descriptor moves into the window, and nowhere else */
	{ .nr = SCMP_SYS(fcntl),
	  .fd_class = FD_ANY,
	  .test = { ARG_EQ(1, F_DUPFD_CLOEXEC) },
	  .share_base_arg = 3 },
	ALLOW(close), /* the descriptor just moved, and what FORGET and RELEASE let go */
	ON_SHARE(newfstatat, A0),     /* LOOKUP, GETATTR (AT_EMPTY_PATH on a node) */
	ON_SHARE(fstatfs, A0),	      /* STATFS */
	ON_SHARE(fchmodat, A0),	      /* SETATTR mode, through /proc/self/fd: no O_PATH form */
	ON_SHARE(fchownat, A0),	      /* SETATTR owner, AT_EMPTY_PATH on the node */
	ON_SHARE(ftruncate, A0),      /* SETATTR size, on a handle or the node reopened */
	ON_SHARE(utimensat, A0),      /* SETATTR times */
	ON_SHARE(readlinkat, A0),     /* READLINK */
	ON_SHARE(mknodat, A0),	      /* MKNOD: regular files, FIFOs, sockets */
	ON_SHARE(mkdirat, A0),	      /* MKDIR */
	ON_SHARE(symlinkat, A1),      /* SYMLINK: argument 1 is the directory */
	ON_SHARE(unlinkat, A0),	      /* UNLINK, RMDIR */
	ON_SHARE(renameat2, A0 | A2), /* RENAME2 */
	ON_SHARE(renameat, A0 | A2),  /* RENAME: glibc's renameat2() with no flags */
	ON_SHARE(linkat, A0 | A2),    /* LINK */
	ON_SHARE(preadv, A0),	      /* READ */
	ON_SHARE(pwritev, A0),	      /* WRITE */
	ON_SHARE(fsync, A0),	      /* FSYNC, FSYNCDIR */
	ON_SHARE(fdatasync, A0),
	ON_SHARE(lseek, A0),	  /* LSEEK, and READDIR's offsets */
	ON_SHARE(getdents64, A0), /* READDIR, READDIRPLUS */
	ON_SHARE(fallocate, A0),  /* FALLOCATE */
	ALLOW(mremap),		  /* realloc() of the node and handle tables */
	ALLOW(poll),		  /* kick and stop eventfds */
	ALLOW(ppoll),
	IOCTL(VMM_SECCOMP_FD_VM, KVM_IRQ_LINE),
};

/*
 * The virtio-rng worker: random bytes into guest buffers (the only role that may call
 * getrandom, and only without waiting for the pool), waiting on its eventfds with a
 * timeout while the rate limit holds it back, and INTx for guests without MSI-X.
 */
static const struct rule rng_rules[] = {
	ALLOW_IF(getrandom, ARG_EQ(2, GRND_NONBLOCK)),
	ALLOW(poll),
	ALLOW(ppoll),
	IOCTL(VMM_SECCOMP_FD_VM, KVM_IRQ_LINE),
};

struct role {
	const char *name;
	const struct rule *rules;
	size_t nrules;
	const struct rule *more; /* a second table, for a role that extends another */
	size_t nmore;
};

static const struct role roles[VMM_SECCOMP_ROLES] = {
	[VMM_SECCOMP_MAIN] = { "main", main_rules, ARRAY_SIZE(main_rules) },
	[VMM_SECCOMP_VCPU] = { "vCPU", vcpu_rules, ARRAY_SIZE(vcpu_rules) },
	[VMM_SECCOMP_BLK] = { "block I/O", blk_rules, ARRAY_SIZE(blk_rules) },
	[VMM_SECCOMP_NET] = { "network", net_rules, ARRAY_SIZE(net_rules) },
	[VMM_SECCOMP_FS] = { "file server", fs_rules, ARRAY_SIZE(fs_rules) },
	[VMM_SECCOMP_RNG] = { "entropy", rng_rules, ARRAY_SIZE(rng_rules) },
	[VMM_SECCOMP_MAIN_USER_NET] = { "main", main_rules, ARRAY_SIZE(main_rules), user_net_rules,
					ARRAY_SIZE(user_net_rules) },
};

static enum vmm_seccomp_mode mode = VMM_SECCOMP_OFF;
static void (*death_hook)(void);
static char *syscall_names[SYSCALL_NAMES];
/* read by the SIGSYS handler: a plain thread-local pointer is async-signal-safe */
static __thread const char *thread_role;

enum vmm_seccomp_mode vmm_seccomp_get_mode(void)
{
	return mode;
}

const char *vmm_seccomp_role_name(enum vmm_seccomp_role role)
{
	return role < VMM_SECCOMP_ROLES ? roles[role].name : "unknown";
}

unsigned int vmm_seccomp_role_syscalls(enum vmm_seccomp_role role)
{
	bool seen[SYSCALL_NAMES] = { false };
	unsigned int n = 0;
	if (role >= VMM_SECCOMP_ROLES)
		return 0;

	const struct role *lists[] = {
		&(const struct role){ "", common_rules, ARRAY_SIZE(common_rules), NULL, 0 },
		&roles[role],
		&(const struct role){ "", roles[role].more, roles[role].nmore, NULL, 0 },
	};

	for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
		for (size_t i = 0; i < lists[l]->nrules; i++) {
			int nr = lists[l]->rules[i].nr;

			if (lists[l]->rules[i].action != RULE_ALLOW || nr < 0 ||
			    nr >= SYSCALL_NAMES || seen[nr])
				continue;
			seen[nr] = true;
			n++;
		}
	}
	return n;
}

void vmm_seccomp_fds_add(struct vmm_seccomp_fds *fds, enum vmm_seccomp_fd_class cls, int fd)
{
	if (fd < 0 || cls >= VMM_SECCOMP_FD_CLASSES)
		return;
	if (fd >= VMM_SECCOMP_MAX_FD) {
		fds->too_high = fd;
		return;
	}
	fds->bits[cls][fd / 64] |= 1ull << (fd % 64);
}

static bool fds_has(const struct vmm_seccomp_fds *fds, unsigned int cls, int fd)
{
	return fds->bits[cls][fd / 64] & (1ull << (fd % 64));
}

/* ---- the SIGSYS handler: only async-signal-safe calls from here on ---- */

static size_t put(char *buf, size_t len, size_t size, const char *s)
{
	while (*s && len + 1 < size)
		buf[len++] = *s++;
	return len;
}

static size_t put_num(char *buf, size_t len, size_t size, long v)
{
	char digits[24];
	size_t n = 0;
	unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;

	do {
		digits[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0 && len + 1 < size)
		buf[len++] = '-';
	while (n && len + 1 < size)
		buf[len++] = digits[--n];
	return len;
}

static void sigsys_handler(int sig, siginfo_t *info, void *ucontext)
{
	int nr = info->si_syscall;
	const char *name = nr >= 0 && nr < SYSCALL_NAMES ? syscall_names[nr] : NULL;
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t sys;
	char line[192];
	size_t n = 0;

	(void)ucontext;
	n = put(line, n, sizeof(line), "vmm: seccomp: ");
	n = put(line, n, sizeof(line), thread_role ? thread_role : "unfiltered");
	n = put(line, n, sizeof(line), " thread made forbidden system call ");
	n = put(line, n, sizeof(line), name ? name : "unknown");
	n = put(line, n, sizeof(line), " (nr ");
	n = put_num(line, n, sizeof(line), nr);
	n = put(line, n, sizeof(line), "); stopping\n");
	if (death_hook)
		death_hook();
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nowhere else to say it */
	}
	/*
	 * Die of the signal itself, so the exit status says why (128 + 31). Block queue
	 * threads block every signal: unblock SIGSYS here or the raised one would wait.
	 */
	sigaction(sig, &dfl, NULL);
	raise(sig);
	sigemptyset(&sys);
	sigaddset(&sys, sig);
	sigprocmask(SIG_UNBLOCK, &sys, NULL);
	_exit(128 + sig); /* not reached */
}

/* ---- set-up ---- */

int vmm_seccomp_init(enum vmm_seccomp_mode m, void (*before_death)(void))
{
	struct sigaction sa = { .sa_sigaction = sigsys_handler, .sa_flags = SA_SIGINFO };

	mode = m;
	death_hook = before_death;
	if (m == VMM_SECCOMP_OFF)
		return 0;
	/* the handler cannot call into libseccomp: every name is looked up now */
	for (int nr = 0; nr < SYSCALL_NAMES; nr++)
		if (!syscall_names[nr])
			syscall_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	/* libseccomp probes the kernel once and caches it, here rather than under a filter */
	if (seccomp_api_get() < 2)
		return -ENOSYS;
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return -errno;
	/* inherited by every thread created from now on; required to load a filter */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

/*
 * fd_size: 0, no descriptor test; else argument 0 lies in [fd, fd + fd_size), aligned.
 * fds: for the rules that name the file server's descriptor window.
 */
static int add_rule(scmp_filter_ctx ctx, const struct rule *r, int fd, unsigned int fd_size,
		    const struct vmm_seccomp_fds *fds, char *err, size_t errlen)
{
	struct scmp_arg_cmp cmp[6];
	unsigned int n = 0;
	uint32_t action = r->action == RULE_ENOSYS ? SCMP_ACT_ERRNO(ENOSYS) : SCMP_ACT_ALLOW;
	int ret;

	if (fd_size)
		cmp[n++] = (struct scmp_arg_cmp){ 0, SCMP_CMP_MASKED_EQ,
						  ~(scmp_datum_t)(fd_size - 1), (scmp_datum_t)fd };
	if (r->own_pid)
		cmp[n++] = (struct scmp_arg_cmp){ 0, SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0 };
	for (size_t i = 0; i < ARRAY_SIZE(r->test); i++)
		if (r->test[i].arg)
			cmp[n++] = (struct scmp_arg_cmp){ r->test[i].arg - 1, r->test[i].op,
							  r->test[i].a, r->test[i].b };
	for (unsigned int a = 0; a < 3; a++) {
		/* the low 32 bits only: the kernel reads a descriptor as an int */
		uint64_t mask = 0xffffffffu & ~(uint64_t)(fds->share_size - 1);

		if (r->share_args & (1u << a))
			cmp[n++] = (struct scmp_arg_cmp){ a, SCMP_CMP_MASKED_EQ, mask,
							  fds->share_base };
	}
	if (r->share_base_arg)
		cmp[n++] = (struct scmp_arg_cmp){ r->share_base_arg - 1u, SCMP_CMP_EQ,
						  fds->share_base, 0 };
	ret = seccomp_rule_add_array(ctx, action, r->nr, n, cmp);
	if (ret < 0) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, r->nr);

		snprintf(err, errlen, "seccomp: cannot add a rule for %s: %s", name ? name : "?",
			 strerror(-ret));
		free(name);
	}
	return ret;
}

/*
 * One rule per aligned block of consecutive descriptors (a device's eventfds are made one
 * after another, so a long run costs a few masked compares, not one per descriptor);
 * none at all when the class is empty.
 */
static int add_class_rules(scmp_filter_ctx ctx, const struct rule *r,
			   const struct vmm_seccomp_fds *fds, char *err, size_t errlen)
{
	int fd = 0;

	while (fd < VMM_SECCOMP_MAX_FD) {
		int end = fd;

		if (!fds_has(fds, (unsigned int)r->fd_class, fd)) {
			fd++;
			continue;
		}
		while (end < VMM_SECCOMP_MAX_FD && fds_has(fds, (unsigned int)r->fd_class, end))
			end++;
		while (fd < end) {
			unsigned int size = 1;
			int ret;

			while (!(fd & (int)size) && fd + (int)size * 2 <= end)
				size *= 2;
			ret = add_rule(ctx, r, fd, size, fds, err, errlen);
			if (ret)
				return ret;
			fd += (int)size;
		}
	}
	return 0;
}

static int add_rules(scmp_filter_ctx ctx, const struct rule *rules, size_t n,
		     const struct vmm_seccomp_fds *fds, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		const struct rule *r = &rules[i];
		int ret = 0;

		if ((r->share_args || r->share_base_arg) && !fds->share_size)
			ret = 0; /* no window: nothing of the file server's is allowed */
		else if (r->fd_class == FD_ANY)
			ret = add_rule(ctx, r, -1, 0, fds, err, errlen);
		else
			ret = add_class_rules(ctx, r, fds, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

int vmm_seccomp_install(enum vmm_seccomp_role role, const struct vmm_seccomp_fds *fds, char *err,
			size_t errlen)
{
	static const struct vmm_seccomp_fds none;
	scmp_filter_ctx ctx;
	int ret;

	if (mode == VMM_SECCOMP_OFF)
		return 0;
	if (role >= VMM_SECCOMP_ROLES) {
		snprintf(err, errlen, "seccomp: no role %d", (int)role);
		return -EINVAL;
	}
	if (!fds)
		fds = &none;
	if (fds->too_high) {
		snprintf(err, errlen,
			 "seccomp: descriptor %d is above the %d a %s list can name (ulimit -n)",
			 fds->too_high, VMM_SECCOMP_MAX_FD, roles[role].name);
		return -EMFILE;
	}
	ctx = seccomp_init(mode == VMM_SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP);
	if (!ctx) {
		snprintf(err, errlen, "seccomp: cannot create a filter");
		return -ENOMEM;
	}
	/* vmm_seccomp_init() set it for the whole process; libseccomp need not */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	ret = add_rules(ctx, common_rules, ARRAY_SIZE(common_rules), fds, err, errlen);
	if (!ret)
		ret = add_rules(ctx, roles[role].rules, roles[role].nrules, fds, err, errlen);
	if (!ret)
		ret = add_rules(ctx, roles[role].more, roles[role].nmore, fds, err, errlen);
	if (!ret) {
		sigset_t sys;

		/* named before loading: a trap from here on names the right role */
		thread_role = roles[role].name;
		/*
		 * Device threads block every signal; a blocked SIGSYS from a trap would kill
		 * without the handler ever naming the call, so this thread takes it.
		 */
		sigemptyset(&sys);
		sigaddset(&sys, SIGSYS);
		pthread_sigmask(SIG_UNBLOCK, &sys, NULL);
		ret = seccomp_load(ctx);
		if (ret)
			snprintf(err, errlen, "seccomp: cannot load the %s filter: %s",
				 roles[role].name, strerror(-ret));
	}
	seccomp_release(ctx);
	return ret;
}

/* ---- capabilities ---- */

static int switch_user(uid_t uid, gid_t gid)
{
	uid_t r, e, s;

	/* groups first: only root may change them, and root is what we are leaving */
	if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return -errno;
	if (getresuid(&r, &e, &s) < 0 || r != uid || e != uid || s != uid)
		return -EPERM;
	return 0;
}

/*
 * How many threads the process has, from /proc/self/status; 0 when it cannot tell (no
 * /proc). Read with plain system calls: stdio would be no harm, but this is one line.
 */
static unsigned int thread_count(void)
{
	char buf[2048];
	unsigned int n = 0;
	ssize_t len;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	const char *p;

	if (fd < 0)
		return 0;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return 0;
	buf[len] = '\0';
	p = strstr(buf, "\nThreads:");
	if (p && sscanf(p, "\nThreads: %u", &n) != 1)
		n = 0;
	return n;
}

static int drop_capabilities(bool change_user, uid_t uid, gid_t gid)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	bool any = false;
	int ret;

	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	for (unsigned int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		any |= data[i].effective || data[i].permitted || data[i].inheritable;
	if (!any)
		return change_user ? switch_user(uid, gid) : 0;
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	/* the bounding set first: dropping from it needs CAP_SETPCAP, which goes last */
	if (data[CAP_TO_INDEX(CAP_SETPCAP)].effective & CAP_TO_MASK(CAP_SETPCAP)) {
		for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
				return -errno;
	}
	if (change_user) {
		ret = switch_user(uid, gid);
		if (ret)
			return ret;
	}
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	return 0;
}

int vmm_drop_privileges(bool change_user, uid_t uid, gid_t gid)
{
	int ret;

	/*
	 * capset, the bounding set and no-new-privs act on the calling thread only (glibc
	 * carries setresuid to every thread, nothing else): a thread that already runs
	 * would keep root's powers and could never load a seccomp filter of its own.
	 */
	if (thread_count() > 1)
		return -EBUSY;
	ret = drop_capabilities(change_user, uid, gid);
	if (ret)
		return ret;
	/* inherited by every thread made from now on; a seccomp filter needs it */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

int vmm_drop_capabilities(void)
{
	return vmm_drop_privileges(false, 0, 0);
}
