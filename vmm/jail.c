// SPDX-License-Identifier: MIT
/* --jail DIR: namespaces, a root of our own, and limits (the contract is in vmm/jail.h). */
#include "vmm/jail.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "vmm/exit_codes.h"
#include "vmm/seccomp.h"

#ifdef __GLIBC__
#define jail_mount_setattr mount_setattr
#else
/* musl has no wrapper for it */
static int jail_mount_setattr(int dfd, const char *path, unsigned int flags,
			      struct mount_attr *attr, size_t size)
{
	return syscall(SYS_mount_setattr, dfd, path, flags, attr, size);
}
#endif

#define JAIL_MAP_REQUEST 'M'

/* The parent's view: whom to forward signals to. */
static volatile pid_t jail_child;
/* The child's end of the line to the parent, until jail_enter() is done with it. */
static int jail_sock = -1;

/* The signals the event loop turns into a stop (or, SIGUSR1, into statistics). */
static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 };

static bool started_as_root(void)
{
	return geteuid() == 0;
}

/*
 * A signal a process sent to the parent goes on to the child. One the terminal sent to
 * the foreground process group (si_code SI_KERNEL) has reached the child already.
 */
static void forward_signal(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;

	(void)uc;
	if (si->si_code <= 0 && jail_child > 0)
		kill(jail_child, sig);
	errno = saved;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	n = n == (ssize_t)strlen(text) ? 0 : n < 0 ? -errno : -EIO;
	close(fd);
	return (int)n;
}

/*
 * Map exactly one user and one group into the user namespace of pid: outside id =
 * inside id, so files keep their owners. An ordinary user may only map itself, and
 * only after giving up setgroups(); root maps --user and keeps setgroups() for the
 * switch to it.
 */
static int write_maps(pid_t pid, uid_t uid, gid_t gid, bool deny_setgroups)
{
	char path[64], line[64];
	int r = 0;

	if (deny_setgroups) {
		snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
		r = write_file(path, "deny");
	}
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	snprintf(line, sizeof(line), "%u %u 1\n", (unsigned int)uid, (unsigned int)uid);
	if (!r)
		r = write_file(path, line);
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	snprintf(line, sizeof(line), "%u %u 1\n", (unsigned int)gid, (unsigned int)gid);
	if (!r)
		r = write_file(path, line);
	return r;
}

/*
 * The parent, for the rest of its life: write the child's maps when it asks, then wait
 * for it and leave as it did. It keeps no descriptor but the standard three and the line
 * to the child, and drops its capabilities once the maps are written.
 */
static _Noreturn void parent_wait(int sock, pid_t child, const struct vmm_options *opts)
{
	struct sigaction sa = { .sa_sigaction = forward_signal, .sa_flags = SA_SIGINFO };
	sigset_t set;
	int status;
	char req;
	ssize_t n;

	jail_child = child;
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaction(forwarded[i], &sa, NULL);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	while ((n = read(sock, &req, 1)) != 0) {
		int r;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || req != JAIL_MAP_REQUEST)
			break;
		r = write_maps(child, opts->uid, opts->gid, false);
		if (write(sock, &r, sizeof(r)) != sizeof(r))
			break;
	}
	close(sock);
	/* as the owner of the child's user namespace it can still signal it without any */
	vmm_drop_capabilities();
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	while (waitpid(child, &status, 0) < 0) {
		if (errno != EINTR)
			_exit(VMM_EXIT_ERROR);
	}
	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		struct rlimit no_core = { 0, 0 };

		/* die of the same signal, so our caller sees what an unjailed VMM gives */
		signal(sig, SIG_DFL);
		setrlimit(RLIMIT_CORE, &no_core); /* the child dumped core already, if any */
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		raise(sig);
		_exit(VMM_EXIT_SIGNAL_BASE + sig);
	}
	_exit(VMM_EXIT_ERROR);
}

/* After PR_SET_PDEATHSIG: whether the parent died before it, when it could not yet work. */
static bool parent_gone(void)
{
	struct pollfd pfd = { .fd = jail_sock, .events = POLLIN };

	return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLIN));
}

int jail_begin(const struct vmm_options *opts, char *err, size_t errlen)
{
	bool root = started_as_root();
	uid_t uid = geteuid(); /* once in a new user namespace, unmapped ids read as 65534 */
	gid_t gid = getegid();
	struct stat st;
	sigset_t set, old;
	int sv[2];
	pid_t pid;

	if (!opts->jail)
		return 0;
	if (stat(opts->jail, &st) < 0) {
		snprintf(err, errlen, "--jail %s: %s", opts->jail, strerror(errno));
		return VMM_EXIT_USAGE;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "--jail %s: not a directory", opts->jail);
		return VMM_EXIT_USAGE;
	}
	if (root && !opts->has_user) {
		snprintf(err, errlen,
			 "--jail: started as root, it needs --user UID[:GID] to run the VM as");
		return VMM_EXIT_USAGE;
	}
	if (!root && opts->has_user) {
		snprintf(err, errlen,
			 "--jail with --user: only root can run the VM as another user");
		return VMM_EXIT_USAGE;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "--jail: %s", strerror(errno));
		return VMM_EXIT_ERROR;
	}
	/*
	 * Root keeps the host's user namespace until jail_enter(): the TAPs it opens first
	 * need its CAP_NET_ADMIN there. An ordinary user has nothing there to lose, and may
	 * only make a PID namespace inside a user namespace of its own.
	 */
	if (unshare(CLONE_NEWPID | (root ? 0 : CLONE_NEWUSER)) < 0) {
		snprintf(err, errlen, "--jail: cannot create a %s namespace: %s%s",
			 root ? "PID" : "user and PID", strerror(errno),
			 root ? "" : " (are unprivileged user namespaces enabled?)");
		close(sv[0]);
		close(sv[1]);
		return VMM_EXIT_ERROR;
	}
	if (!root) {
		int r = write_maps(getpid(), uid, gid, true);

		if (r) {
			snprintf(err, errlen, "--jail: cannot map uid %u in its namespace: %s",
				 (unsigned int)uid, strerror(-r));
			return VMM_EXIT_ERROR;
		}
	}
	/*
	 * The child is its PID namespace's init, which ignores a signal it has no handler
	 * for. Blocked, a termination signal waits instead for the event loop's signalfd.
	 */
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&set, forwarded[i]);
	sigprocmask(SIG_BLOCK, &set, &old);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "--jail: cannot fork: %s", strerror(errno));
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(sv[0]);
		close(sv[1]);
		return VMM_EXIT_ERROR;
	}
	if (pid > 0) {
		close(sv[1]);
		parent_wait(sv[0], pid, opts);
	}
	close(sv[0]);
	jail_sock = sv[1];
	/* the VM goes when the process its user started goes, even by SIGKILL */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (parent_gone())
		_exit(VMM_EXIT_ERROR);
	return 0;
}

void jail_after_user_switch(void)
{
	if (jail_sock < 0)
		return;
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (parent_gone())
		_exit(VMM_EXIT_ERROR);
	close(jail_sock);
	jail_sock = -1;
}

static int jail_error(char *err, size_t errlen, const char *what, const char *path, int e)
{
	snprintf(err, errlen, "--jail: %s%s%s: %s", what, path ? " " : "", path ? path : "",
		 strerror(e));
	return VMM_EXIT_ERROR;
}

/* An empty file or directory in the jail's tmpfs to mount something on. */
static int mount_point(const char *path, bool dir)
{
	int fd;

	if (dir)
		return mkdir(path, 0755) < 0 && errno != EEXIST ? -errno : 0;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/*
 * Bind what fd (opened before the tmpfs hid anything) names onto target, and add
 * attr to every mount of the copy. Binding through /proc/self/fd pins the very object
 * that was checked, whatever a path may point at by now.
 */
static int bind_fd(int fd, const char *target, bool recursive, unsigned int attr)
{
	char src[64];
	struct mount_attr ma = { .attr_set = attr };

	snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
	if (mount(src, target, NULL, MS_BIND | (recursive ? MS_REC : 0), NULL) < 0)
		return -errno;
	if (!attr)
		return 0;
	if (jail_mount_setattr(AT_FDCWD, target, recursive ? AT_RECURSIVE : 0, &ma, sizeof(ma)) ==
	    0)
		return 0;
	if (errno != ENOSYS)
		return -errno;
	/* before Linux 5.12: the top mount only */
	unsigned long flags = MS_REMOUNT | MS_BIND;

	flags |= attr & MOUNT_ATTR_RDONLY ? MS_RDONLY : 0;
	flags |= attr & MOUNT_ATTR_NOSUID ? MS_NOSUID : 0;
	flags |= attr & MOUNT_ATTR_NODEV ? MS_NODEV : 0;
	flags |= attr & MOUNT_ATTR_NOEXEC ? MS_NOEXEC : 0;
	return mount(NULL, target, NULL, flags, NULL) < 0 ? -errno : 0;
}

/*
 * Make root the process's root. pivot_root() moves the host's tree aside and we detach
 * it. On an initramfs root (rootfs cannot be moved, so pivot_root() says EINVAL) bind
 * root over / and chroot into it: the host's mounts stay underneath, reached by no path.
 */
static int enter_root(const char *root)
{
	if (chdir(root) < 0)
		return -errno;
	if (syscall(SYS_pivot_root, ".", ".") == 0) {
		if (umount2(".", MNT_DETACH) < 0)
			return -errno;
		return chdir("/") < 0 ? -errno : 0;
	}
	if (errno != EINVAL)
		return -errno;
	if (chdir("/") < 0 || mount(root, "/", NULL, MS_BIND | MS_REC, NULL) < 0)
		return -errno;
	/* ".." from / steps onto what is now mounted there */
	if (chdir("..") < 0 || chroot(".") < 0 || chdir("/") < 0)
		return -errno;
	return 0;
}

/* Started as root: the user namespace comes last, its maps written by the parent. */
static int enter_user_namespace(void)
{
	char req = JAIL_MAP_REQUEST;
	int r;

	if (unshare(CLONE_NEWUSER) < 0)
		return -errno;
	/* MSG_NOSIGNAL: a parent that died is an error here, not a SIGPIPE */
	if (send(jail_sock, &req, 1, MSG_NOSIGNAL) != 1 ||
	    read(jail_sock, &r, sizeof(r)) != sizeof(r))
		return -EPIPE;
	return r;
}

void jail_limits(const struct vmm_options *opts, const long long *disk_size,
		 unsigned int online_cpus, bool output_to_file, struct jail_limits *out)
{
	unsigned long long threads = 1 + opts->cpus, fds = 64 + 2ull * opts->cpus;
	unsigned long long biggest = 1ull << 20; /* --stats-json and --status-file */
	bool user_net = false, writable_share = false, odd_disk = false;

	for (unsigned int i = 0; i < opts->ndisks; i++) {
		unsigned int q = opts->disks[i].queues ? opts->disks[i].queues : opts->cpus;

		if (q > DISK_MAX_QUEUES)
			q = DISK_MAX_QUEUES;
		/* a queue thread and the io_uring workers it may wake (4 per CPU at most) */
		threads += q * (1ull + 4ull * online_cpus);
		fds += 4 + 6ull * q;
		if (opts->disks[i].readonly)
			continue;
		if (disk_size[i] < 0)
			odd_disk = true;
		else if ((unsigned long long)disk_size[i] > biggest)
			biggest = (unsigned long long)disk_size[i];
	}
	for (unsigned int i = 0; i < opts->nnics; i++) {
		unsigned int pairs = opts->nics[i].queues ? opts->nics[i].queues : 1;

		user_net |= opts->nics[i].kind == NET_USER;
		/* a pair's thread, and vhost-net's worker where the kernel makes it ours */
		threads += 2ull * pairs;
		fds += 8ull * pairs;
	}
	for (unsigned int i = 0; i < opts->nshares; i++)
		writable_share |= !opts->shares[i].readonly;
	threads += opts->nshares * (unsigned long long)FS_WORKERS;
	/* --rng: its worker, its stop and kick eventfds and irqfds */
	threads += opts->nrngs;
	fds += 4ull * opts->nrngs;
	out->nproc = threads + 16;
	/* a guest makes a share hold one descriptor per node, user networking one per flow */
	out->nofile = opts->nshares || user_net ? 0 : fds + 256;
	/*
	 * A guest writes past no disk's end, but it may grow files in a writable share, and
	 * the console or the command's output grows a file that stdout or stderr is.
	 */
	out->fsize = writable_share || odd_disk || output_to_file ? 0 : biggest;
}

static void lower_limit(int resource, unsigned long long want)
{
	struct rlimit rl;

	if (!want || getrlimit(resource, &rl) < 0)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max <= want)
		return;
	rl.rlim_max = want;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > want)
		rl.rlim_cur = want;
	setrlimit(resource, &rl);
}

static void set_limits(const struct vmm_options *opts, const long long *disk_size)
{
	struct jail_limits lim;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	bool to_file = false;
	struct stat st;

	for (int fd = 1; fd <= 2; fd++)
		to_file |= fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	jail_limits(opts, disk_size, cpus > 0 ? (unsigned int)cpus : 1, to_file, &lim);
	lower_limit(RLIMIT_NPROC, lim.nproc);
	lower_limit(RLIMIT_NOFILE, lim.nofile);
	lower_limit(RLIMIT_FSIZE, lim.fsize);
}

/* Each disk's size, measured while its path still means what the user meant. */
static void disk_sizes(const struct vmm_options *opts, long long *size)
{
	for (unsigned int i = 0; i < opts->ndisks; i++) {
		struct stat st;

		size[i] = -1;
		if (stat(opts->disks[i].path, &st) == 0 && S_ISREG(st.st_mode))
			size[i] = st.st_size;
	}
}

int jail_enter(struct vmm_options *opts, char *err, size_t errlen)
{
	const unsigned int fs_attr = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	bool root = started_as_root(), host_net = false;
	long long disk_size[VMM_MAX_DISKS];
	int share_fd[VMM_MAX_SHARES], kvm_fd = -1;
	char dir[4096], path[4200];
	int ret = 0, r;

	if (!opts->jail)
		return 0;
	if (!realpath(opts->jail, dir))
		return jail_error(err, errlen, "", opts->jail, errno);
	for (unsigned int i = 0; i < opts->nnics; i++)
		host_net |= opts->nics[i].kind == NET_USER; /* libslirp's sockets are the host's */
	disk_sizes(opts, disk_size);
	for (unsigned int i = 0; i < opts->nshares; i++)
		share_fd[i] = -1;

	if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | (host_net ? 0 : CLONE_NEWNET)) <
	    0) {
		ret = jail_error(err, errlen, "cannot create its namespaces", NULL, errno);
		if (errno == EINVAL)
			snprintf(err, errlen,
				 "--jail: cannot create its namespaces: the VMM already has a "
				 "thread (vhost-net's worker, on this kernel: try vhost=off)");
		goto out;
	}
	/* nothing we mount reaches the host, nothing the host mounts later reaches us */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		ret = jail_error(err, errlen, "cannot make its mounts private", NULL, errno);
		goto out;
	}
	/*
	 * What goes in, opened before the tmpfs can hide any of it, and after the unshare:
	 * only a mount of our own namespace can be bound.
	 */
	kvm_fd = open(opts->kvm_path, O_PATH | O_CLOEXEC);
	if (kvm_fd < 0) {
		ret = jail_error(err, errlen, "cannot reach", opts->kvm_path, errno);
		goto out;
	}
	for (unsigned int i = 0; i < opts->nshares; i++) {
		share_fd[i] = open(opts->shares[i].dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (share_fd[i] < 0) {
			ret = jail_error(err, errlen, "cannot reach --share", opts->shares[i].dir,
					 errno);
			goto out;
		}
	}
	if (mount("vmm-jail", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0755,size=16k,nr_inodes=64") < 0) {
		ret = jail_error(err, errlen, "cannot mount a tmpfs on", dir, errno);
		goto out;
	}

	snprintf(path, sizeof(path), "%s/dev", dir);
	r = mount_point(path, true);
	snprintf(path, sizeof(path), "%s%s", dir, JAIL_KVM_PATH);
	if (!r)
		r = mount_point(path, false);
	/* /dev/kvm must stay a device: no MOUNT_ATTR_NODEV here */
	if (!r)
		r = bind_fd(kvm_fd, path, false, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
	if (r) {
		ret = jail_error(err, errlen, "cannot bind", opts->kvm_path, -r);
		goto out;
	}
	snprintf(path, sizeof(path), "%s%s", dir, JAIL_SHARES_DIR);
	if (opts->nshares && (r = mount_point(path, true))) {
		ret = jail_error(err, errlen, "cannot create", path, -r);
		goto out;
	}
	for (unsigned int i = 0; i < opts->nshares; i++) {
		snprintf(path, sizeof(path), "%s%s/%u", dir, JAIL_SHARES_DIR, i);
		/* recursive: a share shows what is mounted below it, as without the jail */
		r = mount_point(path, true);
		if (!r)
			r = bind_fd(share_fd[i], path, true,
				    fs_attr | (opts->shares[i].readonly ? MOUNT_ATTR_RDONLY : 0));
		if (r) {
			ret = jail_error(err, errlen, "cannot bind --share", opts->shares[i].dir,
					 -r);
			goto out;
		}
	}
	/* the virtio-fs server reopens its nodes through /proc/self/fd */
	snprintf(path, sizeof(path), "%s/proc", dir);
	r = mount_point(path, true);
	if (!r && mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "subset=pid") < 0 &&
	    mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		r = -errno;
	if (r) {
		ret = jail_error(err, errlen, "cannot mount /proc in", dir, -r);
		goto out;
	}
	if (mount(NULL, dir, NULL,
		  MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		ret = jail_error(err, errlen, "cannot make read-only", dir, errno);
		goto out;
	}
	r = enter_root(dir);
	if (r) {
		ret = jail_error(err, errlen, "cannot make its root", dir, -r);
		goto out;
	}
	if (root && (r = enter_user_namespace())) {
		ret = jail_error(err, errlen, "cannot enter a user namespace", NULL, -r);
		goto out;
	}
	set_limits(opts, disk_size);

	opts->kvm_path = JAIL_KVM_PATH;
	for (unsigned int i = 0; i < opts->nshares; i++)
		snprintf(opts->shares[i].dir, sizeof(opts->shares[i].dir), "%s/%u", JAIL_SHARES_DIR,
			 i);
	/* a new user namespace may have cleared it: our credentials changed */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (parent_gone())
		_exit(VMM_EXIT_ERROR);
out:
	if (kvm_fd >= 0)
		close(kvm_fd);
	for (unsigned int i = 0; i < opts->nshares; i++)
		if (share_fd[i] >= 0)
			close(share_fd[i]);
	/* with --user, jail_after_user_switch() still needs it to see the parent go */
	if (ret || !opts->has_user) {
		close(jail_sock);
		jail_sock = -1;
	}
	return ret;
}
