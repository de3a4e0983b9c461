/* SPDX-License-Identifier: MIT */
/*
 * The per-thread seccomp lists, in forked children (a filter cannot be taken back): a
 * forbidden call kills the child with SIGSYS and one line naming it, the calls each role
 * needs still work (disk I/O on io_uring and on the thread engine, creating a queue
 * thread from a vCPU thread), log mode lets calls through, off installs nothing, and
 * capabilities go. Needs no /dev/kvm: ioctls are checked by descriptor and number only.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/kvm.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "check_main.h"
#include "virtio/blk/disk.h"
#include "vmm/run/boot_cache_tidy.h"
#include "vmm/seccomp.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

struct child {
	int status;
	char err[2048]; /* what it wrote on stderr */
};

/* Run fn(arg) in a child with stderr captured; its return value is the exit status. */
static void run_child(int (*fn)(void *), void *arg, struct child *c)
{
	int pipefd[2];
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe(pipefd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(pipefd[0]);
		dup2(pipefd[1], STDERR_FILENO);
		close(pipefd[1]);
		/* straight to the kernel: a sanitizer's _exit() makes calls no list allows */
		syscall(SYS_exit_group, fn(arg));
	}
	close(pipefd[1]);
	while (len + 1 < sizeof(c->err) &&
	       (n = read(pipefd[0], c->err + len, sizeof(c->err) - 1 - len)) > 0)
		len += (size_t)n;
	c->err[len] = '\0';
	close(pipefd[0]);
	ck_assert_int_eq(waitpid(pid, &c->status, 0), pid);
}

static void assert_killed(const struct child *c, const char *role, const char *call)
{
	char want[160];

	snprintf(want, sizeof(want), "vmm: seccomp: %s thread made forbidden system call %s (nr ",
		 role, call);
	ck_assert_msg(WIFSIGNALED(c->status) && WTERMSIG(c->status) == SIGSYS,
		      "%s/%s: child status 0x%x, expected death by SIGSYS; stderr: %s", role, call,
		      c->status, c->err);
	ck_assert_msg(strstr(c->err, want), "%s/%s: stderr lacks '%s': %s", role, call, want,
		      c->err);
	ck_assert_msg(strstr(c->err, "); stopping\n"), "no ending: %s", c->err);
}

static void assert_exited(const struct child *c, int code)
{
	ck_assert_msg(WIFEXITED(c->status) && WEXITSTATUS(c->status) == code,
		      "child status 0x%x, expected exit %d; stderr: %s", c->status, code, c->err);
}

/* Descriptors standing in for KVM's: the filter only compares numbers. */
static int fake_vm_fd, fake_vcpu_fd, stderr_fd = STDERR_FILENO;

static void fake_kvm_fds(void)
{
	fake_vm_fd = eventfd(0, EFD_CLOEXEC);
	fake_vcpu_fd = eventfd(0, EFD_CLOEXEC);
	ck_assert_int_ge(fake_vm_fd, 0);
	ck_assert_int_ge(fake_vcpu_fd, 0);
}

static int install(enum vmm_seccomp_mode mode, enum vmm_seccomp_role role,
		   const struct vmm_seccomp_fds *fds)
{
	char err[256];
	int ret = vmm_seccomp_init(mode, NULL);

	if (!ret)
		ret = vmm_seccomp_install(role, fds, err, sizeof(err));
	if (ret)
		fprintf(stderr, "install failed: %s (%d)\n", err, ret);
	return ret;
}

static void role_fds(enum vmm_seccomp_role role, struct vmm_seccomp_fds *fds)
{
	memset(fds, 0, sizeof(*fds));
	vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_VM, fake_vm_fd);
	if (role == VMM_SECCOMP_VCPU)
		vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_VCPU, fake_vcpu_fd);
}

/* ------------------------------------------------------------------------------------ */
/* Forbidden calls */

enum forbidden {
	F_SOCKET,
	F_EXECVE,
	F_PTRACE,
	F_OPENAT,
	F_FORK,
	F_EXEC_MMAP,
	F_URING_SETUP,
	F_COUNT
};
static const char *const forbidden_name[F_COUNT] = {
	[F_SOCKET] = "socket",
	[F_EXECVE] = "execve",
	[F_PTRACE] = "ptrace",
	[F_OPENAT] = "openat",
	[F_FORK] = "clone",
	[F_EXEC_MMAP] = "mmap",
	[F_URING_SETUP] = "io_uring_setup",
};

struct forbidden_case {
	enum vmm_seccomp_role role;
	enum forbidden call;
};

static int do_forbidden(void *arg)
{
	const struct forbidden_case *fc = arg;
	struct vmm_seccomp_fds fds;
	char *const argv[] = { "true", NULL };

	role_fds(fc->role, &fds);
	if (install(VMM_SECCOMP_ON, fc->role, &fds))
		return 90;
	switch (fc->call) {
	case F_SOCKET:
		socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		break;
	case F_EXECVE:
		execve("/bin/true", argv, argv);
		break;
	case F_PTRACE:
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		break;
	case F_OPENAT:
		/* not even read-only: every file the VMM uses is open before the filter */
		syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY | O_CLOEXEC);
		break;
	case F_FORK:
		/* a new process, not a thread: clone without CLONE_THREAD */
		syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
		break;
	case F_EXEC_MMAP:
		mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		break;
	case F_URING_SETUP: {
		/* a fresh ring would be unrestricted: a way around every list */
		struct io_uring ring;

		io_uring_queue_init(4, &ring, 0);
		break;
	}
	default:
		break;
	}
	return 0; /* survived: the test fails */
}

START_TEST(forbidden_calls_kill_every_role)
{
	fake_kvm_fds();
	for (int role = 0; role < VMM_SECCOMP_ROLES; role++) {
		for (int call = 0; call < F_COUNT; call++) {
			struct forbidden_case fc = { (enum vmm_seccomp_role)role,
						     (enum forbidden)call };
			struct child c;

			/* user networking's sockets and resolv.conf: user_net_main_role */
			if (role == VMM_SECCOMP_MAIN_USER_NET &&
			    (call == F_SOCKET || call == F_OPENAT))
				continue;
			/* the file server opens files only relative to its own descriptors:
			 * AT_FDCWD is refused (fs_role_only_its_window below) */
			/* the vCPU role may create threads; a fork is still refused */
			run_child(do_forbidden, &fc, &c);
			assert_killed(&c, vmm_seccomp_role_name(fc.role), forbidden_name[call]);
		}
	}
}
END_TEST

/* Device threads block every signal: the forbidden call must still be named. */
static int do_forbidden_all_blocked(void *arg)
{
	sigset_t all;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	return do_forbidden(arg);
}

START_TEST(forbidden_call_named_with_signals_blocked)
{
	struct forbidden_case fc = { VMM_SECCOMP_BLK, F_SOCKET };
	struct child c;

	fake_kvm_fds();
	run_child(do_forbidden_all_blocked, &fc, &c);
	assert_killed(&c, "block I/O", "socket");
}
END_TEST

struct ioctl_case {
	enum vmm_seccomp_role role;
	int *fd;
	unsigned long request;
	bool allowed;
};

static int do_ioctl(void *arg)
{
	const struct ioctl_case *ic = arg;
	struct vmm_seccomp_fds fds;

	role_fds(ic->role, &fds);
	if (install(VMM_SECCOMP_ON, ic->role, &fds))
		return 90;
	/* an eventfd refuses every KVM request (ENOTTY): reaching the kernel is the point */
	return ioctl(*ic->fd, ic->request, 0) < 0 && errno == ENOTTY ? 0 : 91;
}

START_TEST(ioctls_are_checked_per_descriptor)
{
	const struct ioctl_case cases[] = {
		{ VMM_SECCOMP_VCPU, &fake_vcpu_fd, KVM_RUN, true },
		{ VMM_SECCOMP_VCPU, &fake_vcpu_fd, KVM_GET_REGS, true },
		{ VMM_SECCOMP_VCPU, &fake_vm_fd, KVM_IRQ_LINE, true },
		{ VMM_SECCOMP_VCPU, &fake_vm_fd, KVM_IOEVENTFD, true },
		/* the right request on the wrong descriptor, and requests nobody makes */
		{ VMM_SECCOMP_VCPU, &fake_vm_fd, KVM_RUN, false },
		{ VMM_SECCOMP_VCPU, &fake_vcpu_fd, KVM_IRQ_LINE, false },
		{ VMM_SECCOMP_VCPU, &fake_vm_fd, KVM_CREATE_VM, false },
		{ VMM_SECCOMP_VCPU, &fake_vm_fd, KVM_CREATE_VCPU, false },
		{ VMM_SECCOMP_VCPU, &fake_vcpu_fd, KVM_SET_REGS, false },
		{ VMM_SECCOMP_VCPU, &fake_vm_fd, KVM_SET_USER_MEMORY_REGION, false },
		{ VMM_SECCOMP_VCPU, &fake_vm_fd, KVM_IRQFD,
		  false }, /* irqfds are wired at set-up */
		{ VMM_SECCOMP_MAIN, &fake_vm_fd, KVM_IRQ_LINE, true },
		{ VMM_SECCOMP_MAIN, &fake_vm_fd, KVM_SET_GSI_ROUTING, false },
		/* isatty(stderr) for the statistics table: a pipe here, so ENOTTY */
		{ VMM_SECCOMP_MAIN, &stderr_fd, TCGETS, true },
		{ VMM_SECCOMP_MAIN, &fake_vm_fd, TCGETS, false },
		{ VMM_SECCOMP_VCPU, &stderr_fd, TCGETS, false },
		{ VMM_SECCOMP_BLK, &fake_vm_fd, KVM_IRQ_LINE, true },
		{ VMM_SECCOMP_BLK, &fake_vm_fd, KVM_IRQFD, false },
	};

	fake_kvm_fds();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct child c;

		run_child(do_ioctl, (void *)&cases[i], &c);
		if (cases[i].allowed)
			assert_exited(&c, 0);
		else
			assert_killed(&c, vmm_seccomp_role_name(cases[i].role), "ioctl");
	}
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* What the roles need */

static char image[256];
static const char pattern[] = "seccomp test pattern, one sector of it is plenty";

static void make_image(void)
{
	const char *dir = getenv("TMPDIR");
	char buf[4096];
	int fd;

	snprintf(image, sizeof(image), "%s/vmm-seccomp-test-XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(image);
	ck_assert_int_ge(fd, 0);
	memset(buf, 0, sizeof(buf));
	memcpy(buf, pattern, sizeof(pattern));
	ck_assert_int_eq(pwrite(fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	close(fd);
}

static void count_done(struct disk_io *io, void *opaque)
{
	(void)io;
	++*(int *)opaque;
}

/* One read through the engine, then a write and a flush; 0 if all went right. */
static int engine_io(struct disk_engine *e)
{
	char buf[512] __attribute__((aligned(512)));
	struct iovec iov = { buf, sizeof(buf) };
	struct disk_io io = {
		.op = DISK_IO_READ, .offset = 0, .len = sizeof(buf), .iov = &iov, .iovcnt = 1
	};
	unsigned int events;
	int *done = e->opaque;

	for (int step = 0; step < 3; step++) {
		int before = *done;

		if (step == 1) {
			io = (struct disk_io){ .op = DISK_IO_WRITE,
					       .offset = 512,
					       .len = 512,
					       .iov = &iov,
					       .iovcnt = 1 };
			iov = (struct iovec){ buf, sizeof(buf) };
		} else if (step == 2) {
			io = (struct disk_io){ .op = DISK_IO_FLUSH };
		}
		disk_engine_submit(e, &io);
		for (int spins = 0; *done == before && spins < 1000; spins++)
			if (disk_engine_run(e, true, &events) < 0)
				return 10 + step;
		if (*done == before || io.result)
			return 20 + step;
		if (step == 0 && memcmp(buf, pattern, sizeof(pattern)))
			return 30;
	}
	return 0;
}

/*
 * What the VMM does: set up the engine before any list (as virtio-pci's prepare does),
 * load the vCPU list (a queue thread starts under it), add the block list on top and do
 * I/O; on io_uring, also give the ring up for the thread engine, which must still work.
 */
static int do_blk(void *arg)
{
	const char *engine = arg;
	struct disk_options o = { .cache = DISK_CACHE_WRITEBACK };
	struct vmm_seccomp_fds fds;
	struct disk_engine e;
	struct disk d;
	char err[256], sector[512];
	int done = 0, kick, stop, ret;

	strcpy(o.path, image);
	setenv("VMM_DISK_ENGINE", engine, 1);
	if (disk_open(&d, &o, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 80;
	}
	kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	stop = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (disk_engine_init(&e, &d, 8, kick, stop, count_done, &done, err, sizeof(err)))
		return 82;
	if (strcmp(disk_engine_name(&e), engine))
		return 83;
	role_fds(VMM_SECCOMP_VCPU, &fds);
	disk_engine_seccomp_fds(&e, &fds);
	if (install(VMM_SECCOMP_ON, VMM_SECCOMP_VCPU, &fds))
		return 81;
	memset(&fds, 0, sizeof(fds));
	disk_engine_seccomp_fds(&e, &fds);
	if (vmm_seccomp_install(VMM_SECCOMP_BLK, &fds, err, sizeof(err)))
		return 84;
	ret = engine_io(&e);
	if (ret)
		return ret;
	/* the synchronous calls both engines may fall back on */
	if (preadv(d.fd, &(struct iovec){ sector, sizeof(sector) }, 1, 0) !=
		    (ssize_t)sizeof(sector) ||
	    memcmp(sector, pattern, sizeof(pattern)))
		return 40;
	if (pwritev(d.fd, &(struct iovec){ sector, sizeof(sector) }, 1, 1024) !=
	    (ssize_t)sizeof(sector))
		return 41;
	if (fdatasync(d.fd) ||
	    fallocate(d.fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 2048, 512))
		return 42;
	if (!strcmp(engine, "io_uring")) {
		/* the ring takes no operation it was not restricted to, nor a plain fd */
		struct io_uring_sqe *sqe = io_uring_get_sqe(&e.ring);
		struct io_uring_cqe *cqe;

		io_uring_prep_openat(sqe, AT_FDCWD, "/etc/hostname", O_RDONLY, 0);
		io_uring_sqe_set_data(sqe, NULL);
		io_uring_submit(&e.ring);
		if (io_uring_wait_cqe(&e.ring, &cqe) || cqe->res != -EACCES)
			return 50;
		io_uring_cqe_seen(&e.ring, cqe);
		disk_engine_fall_back(&e);
		ret = engine_io(&e);
		if (ret)
			return 100 + ret;
	}
	/* and the filter still holds */
	socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return 0;
}

START_TEST(blk_role_io_uring_and_thread_engines)
{
	static const char *const engines[] = { "io_uring", "thread" };

	fake_kvm_fds();
	for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++) {
		struct child c;

		/* a fresh image each time: a killed child's ring lets go of the last late */
		make_image();
		run_child(do_blk, (void *)engines[i], &c);
		unlink(image);
		if (i == 0 && WIFEXITED(c.status) && WEXITSTATUS(c.status) == 82) {
			fprintf(stderr, "test_seccomp: io_uring unavailable here, skipped\n");
			continue;
		}
		assert_killed(&c, "block I/O", "socket");
	}
}
END_TEST

/*
 * A virtio-net pair thread starts under its vCPU's list and adds its own: frames move on
 * the TAP descriptor both ways (a socketpair stands in: the filter compares numbers), it
 * waits with poll, and the same calls on a descriptor that is not a TAP kill it.
 */
static int do_net(void *arg)
{
	struct vmm_seccomp_fds fds;
	char frame[64] = "frame", back[64];
	struct iovec iov = { frame, sizeof(frame) }, in = { back, sizeof(back) };
	int tap[2], other[2];
	struct pollfd pfd;
	char err[256];

	(void)arg;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, tap) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, other))
		return 80;
	/*
	 * The peer end plays the kernel's TAP side, with plain read and write: named as one
	 * of the thread's eventfds, since the filter only compares numbers.
	 */
	role_fds(VMM_SECCOMP_VCPU, &fds);
	vmm_seccomp_fds_add(&fds, VMM_SECCOMP_FD_TAP, tap[0]);
	vmm_seccomp_fds_add(&fds, VMM_SECCOMP_FD_EVENT, tap[1]);
	if (install(VMM_SECCOMP_ON, VMM_SECCOMP_VCPU, &fds))
		return 81;
	role_fds(VMM_SECCOMP_NET, &fds);
	vmm_seccomp_fds_add(&fds, VMM_SECCOMP_FD_TAP, tap[0]);
	vmm_seccomp_fds_add(&fds, VMM_SECCOMP_FD_EVENT, tap[1]);
	if (vmm_seccomp_install(VMM_SECCOMP_NET, &fds, err, sizeof(err)))
		return 82;
	if (writev(tap[0], &iov, 1) != (ssize_t)sizeof(frame))
		return 40;
	if (read(tap[1], back, sizeof(back)) != (ssize_t)sizeof(frame) ||
	    write(tap[1], frame, sizeof(frame)) != (ssize_t)sizeof(frame))
		return 41;
	pfd = (struct pollfd){ .fd = tap[0], .events = POLLIN };
	if (poll(&pfd, 1, 1000) != 1 || readv(tap[0], &in, 1) != (ssize_t)sizeof(frame))
		return 42;
	/* a descriptor the thread was not given */
	writev(other[0], &iov, 1);
	return 0;
}

START_TEST(net_role_moves_frames_on_its_tap_only)
{
	struct child c;

	fake_kvm_fds();
	run_child(do_net, NULL, &c);
	assert_killed(&c, "network", "writev");
}
END_TEST

/*
 * With --net user the main thread runs libslirp: IPv4 sockets and reading the resolver
 * configuration, and still no other socket family and no file opened for writing.
 */
static int do_user_net(void *arg)
{
	struct vmm_seccomp_fds fds;
	int which = *(const int *)arg, fd;

	role_fds(VMM_SECCOMP_MAIN_USER_NET, &fds);
	if (install(VMM_SECCOMP_ON, VMM_SECCOMP_MAIN_USER_NET, &fds))
		return 90;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&(struct sockaddr_in){ .sin_family = AF_INET },
			   sizeof(struct sockaddr_in)))
		return 40;
	fd = (int)syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT)
		return 41;
	if (which == 0)
		socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	else
		syscall(SYS_openat, AT_FDCWD, "/tmp/never-created", O_WRONLY | O_CREAT, 0600);
	return 0;
}

START_TEST(user_net_main_role)
{
	static const int which[] = { 0, 1 };
	static const char *const call[] = { "socket", "openat" };

	fake_kvm_fds();
	for (size_t i = 0; i < 2; i++) {
		struct child c;

		run_child(do_user_net, (void *)&which[i], &c);
		assert_killed(&c, "main", call[i]);
	}
	ck_assert_int_ne(access("/tmp/never-created", F_OK), 0);
}
END_TEST

/*
 * Plain read and write reach only the thread's own descriptors, in every role: its
 * eventfds both ways, its output, stderr for log lines; a disk image it was not given
 * for them (every thread may hold one open: descriptors are the process's) kills it.
 */
enum rw_call { RW_WRITE_DISK, RW_READ_DISK, RW_WRITE_STDOUT, RW_NONE };

struct rw_case {
	enum vmm_seccomp_role role;
	enum rw_call call;
};

static int do_own_descriptors(void *arg)
{
	const struct rw_case *rc = arg;
	struct vmm_seccomp_fds fds;
	uint64_t v = 1;
	int ev = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), out[2], disk;
	char c = 'x';

	disk = open(image, O_RDWR | O_CLOEXEC);
	if (ev < 0 || disk < 0 || pipe2(out, O_CLOEXEC))
		return 80;
	role_fds(rc->role, &fds);
	vmm_seccomp_fds_add(&fds, VMM_SECCOMP_FD_EVENT, ev);
	vmm_seccomp_fds_add(&fds, VMM_SECCOMP_FD_OUTPUT, out[1]); /* stands in for stdout */
	if (install(VMM_SECCOMP_ON, rc->role, &fds))
		return 81;
	if (write(ev, &v, sizeof(v)) != sizeof(v) || read(ev, &v, sizeof(v)) != sizeof(v))
		return 40;
	if (write(out[1], &c, 1) != 1 || write(STDERR_FILENO, "log line\n", 9) != 9)
		return 41;
	switch (rc->call) {
	case RW_WRITE_DISK:
		if (write(disk, &c, 1) == 1)
			return 50; /* reached the image */
		break;
	case RW_READ_DISK:
		if (read(disk, &c, 1) == 1)
			return 51;
		break;
	case RW_WRITE_STDOUT:
		if (write(STDOUT_FILENO, &c, 1) == 1)
			return 52;
		break;
	case RW_NONE:
		break;
	}
	return 0;
}

START_TEST(read_write_only_own_descriptors)
{
	fake_kvm_fds();
	make_image();
	for (int role = 0; role < VMM_SECCOMP_ROLES; role++) {
		for (int call = 0; call <= RW_NONE; call++) {
			struct rw_case rc = { (enum vmm_seccomp_role)role, (enum rw_call)call };
			struct child c;

			run_child(do_own_descriptors, &rc, &c);
			if (call == RW_NONE)
				assert_exited(&c, 0);
			/* libslirp reads resolv.conf on a descriptor known only then */
			else if (role == VMM_SECCOMP_MAIN_USER_NET && call == RW_READ_DISK)
				assert_exited(&c, 51);
			else
				assert_killed(&c, vmm_seccomp_role_name(rc.role),
					      call == RW_READ_DISK ? "read" : "write");
		}
	}
	unlink(image);
}
END_TEST

/*
 * A run of consecutive descriptors becomes aligned blocks: every number inside the run
 * passes, the neighbours on either side do not.
 */
static int do_run_of_fds(void *arg)
{
	int which = *(const int *)arg, ev[40];
	struct vmm_seccomp_fds fds;
	uint64_t v = 1;

	for (int i = 0; i < 40; i++)
		if ((ev[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
			return 80;
	role_fds(VMM_SECCOMP_BLK, &fds);
	for (int i = 1; i < 39; i++)
		vmm_seccomp_fds_add(&fds, VMM_SECCOMP_FD_EVENT, ev[i]);
	if (install(VMM_SECCOMP_ON, VMM_SECCOMP_BLK, &fds))
		return 81;
	for (int i = 1; i < 39; i++)
		if (write(ev[i], &v, sizeof(v)) != sizeof(v))
			return 40;
	if (which >= 0)
		write(ev[which], &v, sizeof(v));
	return 0;
}

START_TEST(descriptor_runs_cover_exactly_their_numbers)
{
	static const int which[] = { -1, 0, 39 };

	fake_kvm_fds();
	for (size_t i = 0; i < 3; i++) {
		struct child c;

		run_child(do_run_of_fds, (void *)&which[i], &c);
		if (which[i] < 0)
			assert_exited(&c, 0);
		else
			assert_killed(&c, "block I/O", "write");
	}
}
END_TEST

/* A descriptor a list cannot name is refused at install, not left out of the list. */
static int do_too_high(void *arg)
{
	struct vmm_seccomp_fds fds;

	(void)arg;
	role_fds(VMM_SECCOMP_BLK, &fds);
	vmm_seccomp_fds_add(&fds, VMM_SECCOMP_FD_EVENT, VMM_SECCOMP_MAX_FD + 3);
	return install(VMM_SECCOMP_ON, VMM_SECCOMP_BLK, &fds) == -EMFILE ? 0 : 1;
}

START_TEST(descriptor_above_the_limit_refused)
{
	struct child c;

	fake_kvm_fds();
	run_child(do_too_high, NULL, &c);
	assert_exited(&c, 0);
	ck_assert_msg(strstr(c.err, "descriptor 4099 is above"), "stderr: %s", c.err);
}
END_TEST

/* Without any filter: what the ring itself refuses. */
START_TEST(ring_is_restricted)
{
	struct disk_options o = { .cache = DISK_CACHE_WRITEBACK };
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct disk_engine e;
	struct disk d;
	struct iovec iov;
	char err[256], buf[512];
	int done = 0;

	make_image();
	strcpy(o.path, image);
	setenv("VMM_DISK_ENGINE", "io_uring", 1);
	ck_assert_int_eq(disk_open(&d, &o, err, sizeof(err)), 0);
	if (disk_engine_init(&e, &d, 4, -1, -1, count_done, &done, err, sizeof(err))) {
		fprintf(stderr, "test_seccomp: io_uring unavailable here, skipped: %s\n", err);
		goto out;
	}
	/* an allowed operation on a plain descriptor number: refused */
	iov = (struct iovec){ buf, sizeof(buf) };
	sqe = io_uring_get_sqe(&e.ring);
	io_uring_prep_readv(sqe, d.fd, &iov, 1, 0);
	io_uring_submit(&e.ring);
	ck_assert_int_eq(io_uring_wait_cqe(&e.ring, &cqe), 0);
	ck_assert_int_eq(cqe->res, -EACCES);
	io_uring_cqe_seen(&e.ring, cqe);
	/* and no register call at all: nothing new, nothing taken away */
	ck_assert_int_eq(io_uring_register_buffers(&e.ring, &iov, 1), -EACCES);
	ck_assert_int_eq(io_uring_unregister_files(&e.ring), -EACCES);
	io_uring_queue_exit(&e.ring);
out:
	unsetenv("VMM_DISK_ENGINE");
	disk_close(&d);
	unlink(image);
}
END_TEST

static int disk_fd_for_thread;

static void *nothing(void *arg)
{
	return arg;
}

static void *queue_thread(void *arg)
{
	struct vmm_seccomp_fds fds = { 0 };
	char err[256], buf[64];

	(void)arg;
	pthread_setname_np(pthread_self(), "blk-q0");
	vmm_seccomp_fds_add(&fds, VMM_SECCOMP_FD_DISK, disk_fd_for_thread);
	if (vmm_seccomp_install(VMM_SECCOMP_BLK, &fds, err, sizeof(err)))
		return (void *)1;
	if (preadv(disk_fd_for_thread, &(struct iovec){ buf, sizeof(buf) }, 1, 0) !=
	    (ssize_t)sizeof(buf))
		return (void *)2;
	return memcmp(buf, pattern, sizeof(pattern)) ? (void *)3 : NULL;
}

/* A vCPU thread creates a queue thread, which stacks its list and reads the disk. */
static int do_thread_from_vcpu(void *arg)
{
	struct vmm_seccomp_fds fds;
	pthread_t t;
	void *ret;

	(void)arg;
	/*
	 * libc sets up its own signal handlers at a process's first pthread_create; in the
	 * VMM that is the main thread starting the vCPUs, before any list is loaded.
	 */
	if (pthread_create(&t, NULL, nothing, NULL) || pthread_join(t, NULL))
		return 69;
	disk_fd_for_thread = open(image, O_RDONLY | O_CLOEXEC);
	if (disk_fd_for_thread < 0)
		return 70;
	role_fds(VMM_SECCOMP_VCPU, &fds);
	vmm_seccomp_fds_add(&fds, VMM_SECCOMP_FD_DISK, disk_fd_for_thread);
	if (install(VMM_SECCOMP_ON, VMM_SECCOMP_VCPU, &fds))
		return 71;
	if (pthread_create(&t, NULL, queue_thread, NULL))
		return 72;
	if (pthread_join(t, &ret))
		return 73;
	return ret ? 74 + (int)(intptr_t)ret : 0;
}

START_TEST(vcpu_thread_starts_a_queue_thread)
{
	struct child c;

#ifdef UNDER_ASAN
	/* ASan gives each new thread an alternate signal stack: calls no list allows */
	return;
#endif
	make_image();
	fake_kvm_fds();
	run_child(do_thread_from_vcpu, NULL, &c);
	unlink(image);
	assert_exited(&c, 0);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* Modes, sizes, capabilities */

static int seccomp_status(void)
{
	char line[128];
	int mode = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Seccomp: %d", &mode) == 1)
			break;
	fclose(f);
	return mode;
}

static int do_mode(void *arg)
{
	enum vmm_seccomp_mode mode = *(enum vmm_seccomp_mode *)arg;
	struct vmm_seccomp_fds fds;
	int s;

	role_fds(VMM_SECCOMP_MAIN, &fds);
	if (mode == VMM_SECCOMP_OFF &&
	    (install(mode, VMM_SECCOMP_MAIN, &fds) || seccomp_status() != 0))
		return 60;
	if (mode == VMM_SECCOMP_LOG && install(mode, VMM_SECCOMP_MAIN, &fds))
		return 61;
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return s >= 0 ? 0 : 62;
}

/*
 * The file server names only descriptors in its window: a path relative to one of them
 * works, AT_FDCWD and any other descriptor (a disk image, say) kill.
 */
enum fs_try { FS_IN_WINDOW, FS_AT_FDCWD, FS_OTHER_DIRFD, FS_WRITE_OTHER, FS_DUP_ELSEWHERE };

static int do_fs_window(void *arg)
{
	enum fs_try t = *(enum fs_try *)arg;
	struct vmm_seccomp_fds fds;
	struct iovec v = { "x", 1 };
	int dir = open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int other = open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int file = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int w, fd;

	role_fds(VMM_SECCOMP_FS, &fds);
	fds.share_base = 1024;
	fds.share_size = 1024;
	w = fcntl(dir, F_DUPFD_CLOEXEC, 1024);
	if (dir < 0 || other < 0 || file < 0 || w < 1024 || w >= 2048)
		return 91;
	if (install(VMM_SECCOMP_ON, VMM_SECCOMP_FS, &fds))
		return 90;
	switch (t) {
	case FS_IN_WINDOW:
		fd = (int)syscall(SYS_openat, w, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return 92;
		/* and into the window it goes */
		if (fcntl(fd, F_DUPFD_CLOEXEC, 1024) < 1024)
			return 93;
		return 0;
	case FS_AT_FDCWD:
		syscall(SYS_openat, AT_FDCWD, "/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		break;
	case FS_OTHER_DIRFD:
		syscall(SYS_mkdirat, other, "vmm-seccomp-test-never", 0700);
		break;
	case FS_WRITE_OTHER:
		syscall(SYS_pwritev, file, &v, 1, 0, 0);
		break;
	case FS_DUP_ELSEWHERE:
		fcntl(dir, F_DUPFD_CLOEXEC, 0);
		break;
	}
	return 0; /* survived: the test fails */
}

START_TEST(fs_role_only_its_window)
{
	static const struct {
		enum fs_try t;
		const char *call;
	} cases[] = {
		{ FS_AT_FDCWD, "openat" },
		{ FS_OTHER_DIRFD, "mkdirat" },
		{ FS_WRITE_OTHER, "pwritev" },
		{ FS_DUP_ELSEWHERE, "fcntl" },
	};
	enum fs_try ok = FS_IN_WINDOW;
	struct child c;

	fake_kvm_fds();
	run_child(do_fs_window, &ok, &c);
	assert_exited(&c, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum fs_try t = cases[i].t;

		run_child(do_fs_window, &t, &c);
		assert_killed(&c, "file server", cases[i].call);
	}
}
END_TEST

/* getrandom: the entropy worker's, without waiting for the pool; no other role's. */
static int do_getrandom(void *arg)
{
	const int *how = arg; /* { role, flags } */
	struct vmm_seccomp_fds fds;
	char buf[16];

	role_fds((enum vmm_seccomp_role)how[0], &fds);
	if (install(VMM_SECCOMP_ON, (enum vmm_seccomp_role)how[0], &fds))
		return 90;
	return syscall(SYS_getrandom, buf, sizeof(buf), how[1]) == sizeof(buf) ? 0 : 91;
}

START_TEST(rng_role_alone_gets_random_bytes)
{
	int ok[2] = { VMM_SECCOMP_RNG, GRND_NONBLOCK };
	int blocking[2] = { VMM_SECCOMP_RNG, 0 };
	int vcpu[2] = { VMM_SECCOMP_VCPU, GRND_NONBLOCK };
	struct child c;

	fake_kvm_fds();
	run_child(do_getrandom, ok, &c);
	assert_exited(&c, 0);
	run_child(do_getrandom, blocking, &c);
	assert_killed(&c, "entropy", "getrandom");
	run_child(do_getrandom, vcpu, &c);
	assert_killed(&c, "vCPU", "getrandom");
}
END_TEST

START_TEST(log_and_off_let_calls_through)
{
	enum vmm_seccomp_mode modes[] = { VMM_SECCOMP_LOG, VMM_SECCOMP_OFF };

	fake_kvm_fds();
	for (size_t i = 0; i < 2; i++) {
		struct child c;

		run_child(do_mode, &modes[i], &c);
		assert_exited(&c, 0);
	}
}
END_TEST

/*
 * `vmm run --boot-cache`: the main thread tidies the cache directory under its list, right
 * after a save. Three entries and a crashed run's temporary (an hour old) become one entry.
 */
static char tidy_dir[64];

static int make_fake_entry(const char *name, time_t mtime)
{
	char path[160];
	struct timespec t[2] = { { mtime, 0 }, { mtime, 0 } };
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tidy_dir, name);
	if (mkdir(path, 0700))
		return -1;
	snprintf(path, sizeof(path), "%s/%s/memory", tidy_dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, "x", 1) != 1)
		return -1;
	close(fd);
	snprintf(path, sizeof(path), "%s/%s", tidy_dir, name);
	return utimensat(AT_FDCWD, path, t, 0);
}

static int do_boot_cache_tidy(void *arg)
{
	static const char *const names[] = {
		"1111111111111111111111111111111111111111111111111111111111111111",
		"2222222222222222222222222222222222222222222222222222222222222222",
		"3333333333333333333333333333333333333333333333333333333333333333",
		".tmp-4444444444444444-99999",
	};
	struct boot_cache_limit lim = { .keep = 1 };
	struct boot_cache_tidy_result res;
	struct vmm_seccomp_fds fds;
	struct timespec now;
	uid_t uid = getuid(); /* not on the list */
	int dir_fd;

	(void)arg;
	clock_gettime(CLOCK_REALTIME, &now);
	for (int i = 0; i < 4; i++)
		if (make_fake_entry(names[i], now.tv_sec - 3600 + i))
			return 80;
	dir_fd = open(tidy_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	role_fds(VMM_SECCOMP_MAIN, &fds);
	if (dir_fd < 0 || install(VMM_SECCOMP_ON, VMM_SECCOMP_MAIN, &fds))
		return 81;
	if (boot_cache_tidy(dir_fd, names[2], &lim, uid,
			    (int64_t)now.tv_sec * 1000000000 + now.tv_nsec, &res))
		return 40;
	return res.evicted == 2 && res.swept == 1 && res.kept == 1 ? 0 : 41;
}

START_TEST(main_role_tidies_the_boot_cache)
{
	char cmd[96];
	struct child c;

	snprintf(tidy_dir, sizeof(tidy_dir), "/tmp/seccomp-tidy-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tidy_dir));
	fake_kvm_fds();
	run_child(do_boot_cache_tidy, NULL, &c);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tidy_dir);
	ck_assert_int_eq(system(cmd), 0);
	assert_exited(&c, 0);
}
END_TEST

START_TEST(role_sizes)
{
	unsigned int main_n = vmm_seccomp_role_syscalls(VMM_SECCOMP_MAIN);
	unsigned int vcpu_n = vmm_seccomp_role_syscalls(VMM_SECCOMP_VCPU);
	unsigned int blk_n = vmm_seccomp_role_syscalls(VMM_SECCOMP_BLK);

	fprintf(stderr, "test_seccomp: system calls allowed: main %u, vCPU %u, block I/O %u\n",
		main_n, vcpu_n, blk_n);
	/* a queue thread starts under its vCPU's list: it can only need less */
	ck_assert_uint_gt(vcpu_n, blk_n);
	ck_assert_uint_gt(main_n, 20);
	ck_assert_uint_lt(vcpu_n, 60);
	ck_assert_str_eq(vmm_seccomp_role_name(VMM_SECCOMP_VCPU), "vCPU");
}
END_TEST

static int do_drop(void *arg)
{
	char line[128];
	FILE *f;
	int bad = 0;

	(void)arg;
	if (vmm_drop_capabilities())
		return 1;
	f = fopen("/proc/self/status", "re");
	if (!f)
		return 2;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;
		char key[16];

		if (sscanf(line, "Cap%15[A-Za-z]: %llx", key, &v) == 2 && v)
			bad = 3; /* Eff, Prm, Inh, Bnd and Amb must all be empty */
	}
	fclose(f);
	return bad;
}

static int do_switch_user(void *arg)
{
	char line[128];
	FILE *f;
	int ret = vmm_drop_privileges(true, 65534, 65534);

	(void)arg;
	if (ret)
		return ret == -EPERM ? 10 : 11;
	if (getuid() != 65534 || geteuid() != 65534 || getgid() != 65534 || getegid() != 65534)
		return 12;
	f = fopen("/proc/self/status", "re");
	if (!f)
		return 13;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;
		char key[16];

		if (sscanf(line, "Cap%15[A-Za-z]: %llx", key, &v) == 2 && v)
			ret = 14;
	}
	fclose(f);
	return ret;
}

/* A value of /proc/thread-self/status, as a number (hexadecimal for the Cap lines). */
static long long thread_status(const char *key)
{
	char line[128];
	long long v = -1;
	size_t n = strlen(key);
	FILE *f = fopen("/proc/thread-self/status", "re");

	if (!f)
		return -2;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			v = strtoll(line + n + 1, NULL, strncmp(key, "Cap", 3) ? 10 : 16);
	fclose(f);
	return v;
}

static void *status_of_new_thread(void *arg)
{
	long long *out = arg;

	out[0] = thread_status("NoNewPrivs");
	out[1] = thread_status("CapEff");
	return NULL;
}

/* Dropped on the only thread, no-new-privs and no capability reach every later thread. */
static int do_drop_then_thread(void *arg)
{
	long long seen[2] = { -3, -3 };
	pthread_t t;

	(void)arg;
	if (vmm_drop_capabilities())
		return 1;
	if (thread_status("NoNewPrivs") != 1)
		return 2;
	if (pthread_create(&t, NULL, status_of_new_thread, seen) || pthread_join(t, NULL))
		return 3;
	if (seen[0] != 1)
		return 4;
	if (seen[1] != 0 && geteuid() == 0)
		return 5;
	return 0;
}

/*
 * The filter runs on every system call a thread makes, so a vCPU pays for it on every exit
 * (each is one KVM_RUN). Walk the exported program as the kernel would for the vCPU's own
 * KVM_RUN and count the instructions: a hot call placed at the end of a long chain of
 * comparisons would cost every exit of the guest.
 */
static unsigned int filter_steps(const struct sock_filter *prog, size_t n,
				 const struct seccomp_data *d, uint32_t *action)
{
	uint32_t a = 0, mem[BPF_MEMWORDS] = { 0 };
	unsigned int steps = 0;
	size_t pc = 0;

	*action = 0xdead;
	while (pc < n && steps < 100000) {
		const struct sock_filter *f = &prog[pc++];
		uint32_t k = f->k, src;

		steps++;
		switch (BPF_CLASS(f->code)) {
		case BPF_LD:
			if (BPF_MODE(f->code) == BPF_ABS) {
				ck_assert_uint_le(k + 4, sizeof(*d));
				memcpy(&a, (const uint8_t *)d + k, 4);
			} else if (BPF_MODE(f->code) == BPF_MEM) {
				a = mem[k % BPF_MEMWORDS];
			} else {
				a = k;
			}
			break;
		case BPF_ST:
			mem[k % BPF_MEMWORDS] = a;
			break;
		case BPF_ALU:
			ck_assert_uint_eq(BPF_OP(f->code), BPF_AND);
			a &= k;
			break;
		case BPF_JMP:
			src = k;
			if (BPF_OP(f->code) == BPF_JA) {
				pc += k;
				break;
			}
			if (BPF_OP(f->code) == BPF_JEQ)
				pc += a == src ? f->jt : f->jf;
			else if (BPF_OP(f->code) == BPF_JGT)
				pc += a > src ? f->jt : f->jf;
			else if (BPF_OP(f->code) == BPF_JGE)
				pc += a >= src ? f->jt : f->jf;
			else if (BPF_OP(f->code) == BPF_JSET)
				pc += (a & src) ? f->jt : f->jf;
			else
				ck_abort_msg("BPF jump op 0x%x", BPF_OP(f->code));
			break;
		case BPF_RET:
			*action = BPF_RVAL(f->code) == BPF_A ? a : k;
			return steps;
		default:
			ck_abort_msg("BPF instruction class 0x%x", BPF_CLASS(f->code));
		}
	}
	ck_abort_msg("the filter ran off its end");
	return steps;
}

START_TEST(kvm_run_is_cheap_in_the_vcpu_filter)
{
	struct vmm_seccomp_fds fds = { 0 };
	struct sock_filter prog[8192];
	struct seccomp_data d = { .nr = __NR_ioctl, .arch = AUDIT_ARCH_X86_64 };
	char err[256];
	uint32_t action;
	unsigned int steps;
	ssize_t len;
	int fd = memfd_create("bpf", MFD_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	/* a VM with the descriptors a 1 vCPU boot has */
	vmm_seccomp_fds_add(&fds, VMM_SECCOMP_FD_VM, 5);
	vmm_seccomp_fds_add(&fds, VMM_SECCOMP_FD_VCPU, 11);
	vmm_seccomp_fds_add(&fds, VMM_SECCOMP_FD_OUTPUT, 1);
	for (int e = 6; e <= 10; e++)
		vmm_seccomp_fds_add(&fds, VMM_SECCOMP_FD_EVENT, e);
	ck_assert_msg(vmm_seccomp_export(VMM_SECCOMP_VCPU, &fds, fd, err, sizeof(err)) == 0, "%s",
		      err);
	len = pread(fd, prog, sizeof(prog), 0);
	close(fd);
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(len % (ssize_t)sizeof(prog[0]), 0);

	d.args[0] = 11;
	d.args[1] = KVM_RUN;
	steps = filter_steps(prog, (size_t)len / sizeof(prog[0]), &d, &action);
	ck_assert_uint_eq(action, SECCOMP_RET_ALLOW);
	fprintf(stderr, "vCPU filter: %zd instructions, KVM_RUN passes after %u\n",
		len / (ssize_t)sizeof(prog[0]), steps);
	ck_assert_msg(steps <= 24, "KVM_RUN takes %u filter instructions on every exit", steps);
	/* the walk itself is right: another vCPU's descriptor is refused */
	d.args[0] = 12;
	filter_steps(prog, (size_t)len / sizeof(prog[0]), &d, &action);
	ck_assert_uint_ne(action, SECCOMP_RET_ALLOW);
}
END_TEST

START_TEST(no_new_privs_reaches_later_threads)
{
	struct child c;

	run_child(do_drop_then_thread, NULL, &c);
	assert_exited(&c, 0);
}
END_TEST

static void *wait_for_eof(void *arg)
{
	char b;

	while (read(*(int *)arg, &b, 1) > 0)
		;
	return NULL;
}

/* Too late once a thread runs: that thread would keep everything. */
static int do_drop_beside_thread(void *arg)
{
	int p[2], ret;
	pthread_t t;

	(void)arg;
	if (pipe(p) || pthread_create(&t, NULL, wait_for_eof, &p[0]))
		return 1;
	ret = vmm_drop_privileges(false, 0, 0);
	close(p[1]);
	pthread_join(t, NULL);
	if (ret != -EBUSY)
		return 2;
	return thread_status("NoNewPrivs") == 0 ? 0 : 3;
}

START_TEST(drop_refused_beside_a_thread)
{
	struct child c;

	run_child(do_drop_beside_thread, NULL, &c);
	assert_exited(&c, 0);
}
END_TEST

START_TEST(user_switched)
{
	struct child c;

	run_child(do_switch_user, NULL, &c);
	if (geteuid() != 0) {
		assert_exited(&c, 10); /* only root may switch */
		return;
	}
	assert_exited(&c, 0);
}
END_TEST

START_TEST(capabilities_dropped)
{
	struct child c;

	/* as root this drops everything; as anyone else there is nothing to drop */
	run_child(do_drop, NULL, &c);
	if (geteuid() != 0 && WIFEXITED(c.status) && WEXITSTATUS(c.status) == 3)
		return; /* an ordinary user keeps the full bounding set: not ours to clear */
	assert_exited(&c, 0);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("seccomp");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, forbidden_calls_kill_every_role);
	tcase_add_test(tc, forbidden_call_named_with_signals_blocked);
	tcase_add_test(tc, ioctls_are_checked_per_descriptor);
	tcase_add_test(tc, kvm_run_is_cheap_in_the_vcpu_filter);
	tcase_add_test(tc, blk_role_io_uring_and_thread_engines);
	tcase_add_test(tc, ring_is_restricted);
	tcase_add_test(tc, net_role_moves_frames_on_its_tap_only);
	tcase_add_test(tc, user_net_main_role);
	tcase_add_test(tc, read_write_only_own_descriptors);
	tcase_add_test(tc, descriptor_runs_cover_exactly_their_numbers);
	tcase_add_test(tc, descriptor_above_the_limit_refused);
	tcase_add_test(tc, vcpu_thread_starts_a_queue_thread);
	tcase_add_test(tc, fs_role_only_its_window);
	tcase_add_test(tc, rng_role_alone_gets_random_bytes);
	tcase_add_test(tc, log_and_off_let_calls_through);
	tcase_add_test(tc, main_role_tidies_the_boot_cache);
	tcase_add_test(tc, role_sizes);
	tcase_add_test(tc, capabilities_dropped);
	tcase_add_test(tc, user_switched);
	tcase_add_test(tc, no_new_privs_reaches_later_threads);
	tcase_add_test(tc, drop_refused_beside_a_thread);
	suite_add_tcase(s, tc);
	return s;
}
