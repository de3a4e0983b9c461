// SPDX-License-Identifier: MIT
/*
 * The seccomp allow-lists, one table per thread role plus the one every thread shares
 * (vmm/seccomp.c installs them; docs/security.md says why each call is there). One line
 * per call, restricted by descriptor class and arguments as tightly as the code allows.
 */
#include "vmm/seccomp_internal.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>

/*
 * Here these are system call names, but musl's headers (with _GNU_SOURCE) make them macros
 * for the names without the suffix: getdents is another, older system call, and pwrite
 * none that libseccomp knows.
 */
#undef getdents64
#undef pwrite64

/*
 * Every thread: what libc does behind any function (locks, allocation, thread exit), the
 * SIGSYS handler's own needs (write, rt_sigaction, tgkill, the terminal restored), and
 * writing log lines to stderr.
 */
static const struct rule common_rules[] = {
	/* log lines, and the SIGSYS handler's own */
	ALLOW_IF(write, ARG_EQ(0, STDERR_FILENO)),
#ifndef __GLIBC__
	ALLOW_IF(writev, ARG_EQ(0, STDERR_FILENO)), /* musl's stdio writes a line with it */
#endif
	/*
	 * Everything else a thread reads or writes with plain read/write is one of its own
	 * descriptors, as its installer names them: the eventfds it waits on or signals, and
	 * for the threads that do console I/O the terminal. Never a disk image or a TAP.
	 */
	ALLOW_ON(read, VMM_SECCOMP_FD_EVENT),
	ALLOW_ON(write, VMM_SECCOMP_FD_EVENT),
	ALLOW_ON(read, VMM_SECCOMP_FD_INPUT),
	ALLOW_ON(write, VMM_SECCOMP_FD_OUTPUT),
#ifndef __GLIBC__
	ALLOW_ON(writev, VMM_SECCOMP_FD_OUTPUT), /* musl's fprintf() to the status file */
#endif
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

/*
 * pthread_create, for a thread that starts device threads while it runs: threads only (no
 * fork), clone3 answered ENOSYS so libc uses clone; the new thread names itself and stacks
 * its own, narrower list.
 */
#define THREAD_SPAWN_RULES                                                                         \
	ALLOW_IF(clone, ARG_MASKED(0, CLONE_THREAD, CLONE_THREAD)),                                \
		{ .nr = SCMP_SYS(clone3), .fd_class = FD_ANY, .action = RULE_ENOSYS },             \
		ALLOW(set_robust_list), ALLOW(rseq), ALLOW_IF(prctl, ARG_EQ(0, PR_SET_NAME)),      \
		ALLOW_IF(seccomp, ARG_EQ(0, SECCOMP_SET_MODE_FILTER))

/*
 * A block I/O queue thread's own calls but fdatasync: requests on its disk descriptors,
 * waiting on its ring (io_uring) or with poll (thread engine), closing a ring that failed
 * (given up for the thread engine). Its creator's list must allow them too (filters stack).
 */
#define BLK_THREAD_RULES                                                                           \
	ALLOW_ON(preadv, VMM_SECCOMP_FD_DISK), ALLOW_ON(pwritev, VMM_SECCOMP_FD_DISK),             \
		ALLOW_ON(fallocate, VMM_SECCOMP_FD_DISK),                                          \
		ALLOW_ON(io_uring_enter, VMM_SECCOMP_FD_RING),                                     \
		ALLOW_ON(close, VMM_SECCOMP_FD_RING), ALLOW(poll), ALLOW(ppoll)

/* The main thread once the vCPUs run: the event loop, then the teardown. */
static const struct rule main_rules[] = {
	ALLOW(epoll_wait),
	ALLOW(epoll_pwait),
	ALLOW(epoll_ctl),
	ALLOW(close),
	/* disk images are unlocked at exit, before their rings are gone (virtio/blk/disk.c) */
	{ .nr = SCMP_SYS(fcntl),
	  .fd_class = VMM_SECCOMP_FD_DISK,
	  .test = { ARG_EQ(1, F_OFD_SETLK) } },
	/* typed input raises COM1's interrupt line */
	IOCTL(VMM_SECCOMP_FD_VM, KVM_IRQ_LINE),
	/* the statistics table (SIGUSR1, exit) asks whether stderr is a terminal */
	ALLOW_IF2(ioctl, ARG_EQ(0, STDERR_FILENO), ARG_EQ(1, TCGETS)),
#ifndef __GLIBC__
	ALLOW_IF2(ioctl, ARG_EQ(0, STDERR_FILENO), ARG_EQ(1, TIOCGWINSZ)), /* musl's isatty() */
#endif
	/*
	 * --api-socket (vmm/api.c): connections are accepted on its socket only; a
	 * connection's number is known only then, so receiving and sending are allowed by
	 * their flags, and fail on anything that is not a socket (the main thread's only
	 * other sockets are libslirp's, with --net user). vm.pause and vm.resume stop and
	 * restore the guest's clock; at exit the socket is removed through its directory.
	 */
	ALLOW_ON(accept4, VMM_SECCOMP_FD_API),
	ALLOW_IF(recvfrom, ARG_EQ(3, MSG_DONTWAIT)),
	ALLOW_IF(sendto, ARG_EQ(3, MSG_DONTWAIT | MSG_NOSIGNAL)),
	IOCTL(VMM_SECCOMP_FD_VM, KVM_GET_CLOCK),
	IOCTL(VMM_SECCOMP_FD_VM, KVM_SET_CLOCK),
	/*
	 * --gdb (vmm/gdb/stub.c) reads and steers the parked vCPUs from this thread; its
	 * listening socket is in the API class. Without --gdb the main thread has no vCPU
	 * descriptor, and these allow nothing.
	 */
	IOCTL(VMM_SECCOMP_FD_VCPU, KVM_GET_REGS),
	IOCTL(VMM_SECCOMP_FD_VCPU, KVM_SET_REGS),
	IOCTL(VMM_SECCOMP_FD_VCPU, KVM_GET_SREGS),
	IOCTL(VMM_SECCOMP_FD_VCPU, KVM_GET_FPU),
	IOCTL(VMM_SECCOMP_FD_VCPU, KVM_TRANSLATE),
	IOCTL(VMM_SECCOMP_FD_VCPU, KVM_SET_GUEST_DEBUG),
	IOCTL(VMM_SECCOMP_FD_VCPU, KVM_GET_MP_STATE),
	ALLOW_ON(unlinkat, VMM_SECCOMP_FD_API),
#ifdef __x86_64__ /* snapshots are x86-only so far */
	/*
	 * vm.snapshot (vmm/snapshot.c), with every vCPU parked: read their state and the
	 * in-kernel chipset's, make the disks durable, and write two new files in the
	 * directory the request names. The files' descriptors exist only then, so seccomp
	 * cannot name them: opening is limited to that directory (O_DIRECTORY, read-only) and
	 * to files created beneath a directory descriptor, never AT_FDCWD (a small number);
	 * writing, sizing and renaming are allowed by call.
	 */
	IOCTL(VMM_SECCOMP_FD_VCPU, KVM_GET_XSAVE),
	IOCTL(VMM_SECCOMP_FD_VCPU, KVM_GET_XSAVE2),
	IOCTL(VMM_SECCOMP_FD_VCPU, KVM_GET_XCRS),
	IOCTL(VMM_SECCOMP_FD_VCPU, KVM_GET_DEBUGREGS),
	IOCTL(VMM_SECCOMP_FD_VCPU, KVM_GET_LAPIC),
	IOCTL(VMM_SECCOMP_FD_VCPU, KVM_GET_MSRS),
	IOCTL(VMM_SECCOMP_FD_VCPU, KVM_GET_VCPU_EVENTS),
	IOCTL(VMM_SECCOMP_FD_VM, KVM_GET_IRQCHIP),
	IOCTL(VMM_SECCOMP_FD_VM, KVM_GET_PIT2),
#endif
	ALLOW_ON(fdatasync, VMM_SECCOMP_FD_DISK),
	ALLOW_IF(openat, ARG_MASKED(2, O_ACCMODE | O_CREAT | O_TRUNC | O_DIRECTORY,
				    O_RDONLY | O_DIRECTORY)),
	ALLOW_IF2(openat, ARG_LT(0, VMM_SECCOMP_MAX_FD),
		  ARG_MASKED(2, O_ACCMODE | O_CREAT | O_TRUNC | O_DIRECTORY,
			     O_WRONLY | O_CREAT | O_TRUNC)),
	ALLOW(pwrite64),
	ALLOW(ftruncate),
	ALLOW(fsync),
	ALLOW_IF2(renameat, ARG_LT(0, VMM_SECCOMP_MAX_FD), ARG_LT(2, VMM_SECCOMP_MAX_FD)),
	ALLOW_IF2(renameat2, ARG_LT(0, VMM_SECCOMP_MAX_FD), ARG_LT(2, VMM_SECCOMP_MAX_FD)),
	ALLOW_IF(unlinkat, ARG_LT(0, VMM_SECCOMP_MAX_FD)),
	/*
	 * `vmm run --boot-cache`: once a new entry is in place, the cache directory is tidied
	 * (vmm/run/boot_cache_tidy.c): its names read, each entry's files sized without
	 * following a link, and an entry locked before it is removed (never waiting for it).
	 */
	ALLOW_IF(getdents64, ARG_LT(0, VMM_SECCOMP_MAX_FD)),
	ALLOW_IF2(newfstatat, ARG_LT(0, VMM_SECCOMP_MAX_FD), ARG_EQ(3, AT_SYMLINK_NOFOLLOW)),
	ALLOW_IF2(flock, ARG_LT(0, VMM_SECCOMP_MAX_FD), ARG_EQ(1, LOCK_EX | LOCK_NB)),
	/*
	 * A live virtio-blk device is held still for the snapshot by stopping its queue
	 * threads and started again after it (virtio/pci_snapshot.c): threads only, as a vCPU
	 * makes them, and each new one names itself and stacks its own list.
	 */
	THREAD_SPAWN_RULES,
	/* and then runs under this list too (filters stack); fdatasync is above */
	BLK_THREAD_RULES,
	/*
	 * a live virtio-net device likewise: its first queue start tells the TAP the
	 * driver's offloads again, and its queue-pair threads move frames on the TAP
	 */
	IOCTL(VMM_SECCOMP_FD_TAP, TUNSETOFFLOAD),
	IOCTL(VMM_SECCOMP_FD_TAP, TUNSETQUEUE),
	ALLOW_ON(readv, VMM_SECCOMP_FD_TAP),
	ALLOW_ON(writev, VMM_SECCOMP_FD_TAP),
};

/*
 * Block I/O queue threads: requests on their own disk descriptors, waiting on their own
 * ring (io_uring engine) or with poll (thread engine), and INTx for guests without MSI-X.
 */
static const struct rule blk_rules[] = {
	BLK_THREAD_RULES,
	ALLOW_ON(fdatasync, VMM_SECCOMP_FD_DISK),
	IOCTL(VMM_SECCOMP_FD_VM, KVM_IRQ_LINE),
};

/*
 * vCPU threads: KVM_RUN on their own vCPU and the device models behind the exits. The
 * guest starts a virtio-blk queue by writing DRIVER_OK from a vCPU, and that thread then
 * creates the queue's thread, which starts under this list: so the second half is what a
 * queue thread needs before and after it adds its own. Rings and kick eventfds exist
 * from set-up on (virtio/blk/blk.c, virtio/pci.c): no thread creates one while the guest runs.
 */
static const struct rule vcpu_rules[] = {
	IOCTL(VMM_SECCOMP_FD_VCPU, KVM_RUN),
	IOCTL(VMM_SECCOMP_FD_VCPU, KVM_GET_REGS),      /* register dump on a fatal exit */
	IOCTL(VMM_SECCOMP_FD_VCPU, KVM_GET_SREGS),     /* the same */
	IOCTL(VMM_SECCOMP_FD_VM, KVM_IRQ_LINE),	       /* UART and PCI INTx lines */
	IOCTL(VMM_SECCOMP_FD_VM, KVM_SET_GSI_ROUTING), /* the guest programs an MSI-X vector */
	IOCTL(VMM_SECCOMP_FD_VM, KVM_IOEVENTFD),       /* queue notify addresses follow BAR moves */
	THREAD_SPAWN_RULES,
	/* and then runs under this list too */
	BLK_THREAD_RULES,
	ALLOW_ON(fdatasync, VMM_SECCOMP_FD_DISK),
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
 * the paths beneath the share is Landlock's work (virtio/fs/fs.c), and the server's own
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
#ifndef __GLIBC__
	/* musl's fcntl() follows F_DUPFD_CLOEXEC with F_SETFD, for kernels that ignore it */
	{ .nr = SCMP_SYS(fcntl),
	  .fd_class = FD_ANY,
	  .test = { ARG_EQ(1, F_SETFD), ARG_EQ(2, FD_CLOEXEC) },
	  .share_args = A0 },
#endif
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

/*
 * `vmm run`'s stdin reader (vmm/run/stdin.c): read on its one input descriptor and the
 * futex of the ring's lock are in the common list; its own is the SIGWINCH handler's
 * read of the terminal's size (the thread alone takes that signal).
 */
static const struct rule stdin_rules[] = {
	ALLOW_IF2(ioctl, ARG_EQ(0, STDIN_FILENO), ARG_EQ(1, TIOCGWINSZ)),
};

const struct role seccomp_common = { .name = "",
				     .rules = common_rules,
				     .nrules = ARRAY_SIZE(common_rules) };

const struct role seccomp_roles[VMM_SECCOMP_ROLES] = {
	[VMM_SECCOMP_MAIN] = { "main", main_rules, ARRAY_SIZE(main_rules) },
	/* KVM_RUN, once per exit of the guest: 49 filter instructions without the hint, 21 with */
	[VMM_SECCOMP_VCPU] = { "vCPU", vcpu_rules, ARRAY_SIZE(vcpu_rules),
			       .hot = { SCMP_SYS(ioctl) }, .nhot = 1 },
	[VMM_SECCOMP_BLK] = { "block I/O", blk_rules, ARRAY_SIZE(blk_rules) },
	[VMM_SECCOMP_NET] = { "network", net_rules, ARRAY_SIZE(net_rules) },
	[VMM_SECCOMP_FS] = { "file server", fs_rules, ARRAY_SIZE(fs_rules) },
	[VMM_SECCOMP_RNG] = { "entropy", rng_rules, ARRAY_SIZE(rng_rules) },
	[VMM_SECCOMP_STDIN] = { "stdin", stdin_rules, ARRAY_SIZE(stdin_rules) },
	[VMM_SECCOMP_MAIN_USER_NET] = { "main", main_rules, ARRAY_SIZE(main_rules), user_net_rules,
					ARRAY_SIZE(user_net_rules) },
};
