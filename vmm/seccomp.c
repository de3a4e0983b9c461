// SPDX-License-Identifier: MIT
/*
 * Per-thread seccomp allow-lists and dropping capabilities. The lists are tables, one per
 * role, plus one every thread shares; docs/security.md says why each call is there.
 *
 * Adding a role (a virtio-net TAP thread, a libslirp back end in the event loop, ...):
 *  1. add VMM_SECCOMP_<ROLE> to enum vmm_seccomp_role in seccomp.h (before _ROLES);
 *  2. write a <role>_rules[] table in vmm/seccomp_rules.c: one line per call, restricted by
 * descriptor class and arguments as tightly as the code allows; a descriptor class the role needs
 * that does not exist yet goes into enum vmm_seccomp_fd_class;
 *  3. add it to seccomp_roles[] there, with the name the SIGSYS message prints;
 *  4. call vmm_seccomp_install() first thing in the thread, with its descriptors. A
 *     thread inherits the list of the thread that created it and can only narrow it, so
 *     a parent's list must also allow everything its children do (see the vCPU table);
 *  5. extend tests/unit/vmm/test_seccomp.c (the role's calls work, one forbidden call
 *     kills) and the table in docs/security.md.
 */
#include "vmm/seccomp.h"
#include "vmm/seccomp_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
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

#define SYSCALL_NAMES 512 /* above every x86-64 system call number */

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
	return role < VMM_SECCOMP_ROLES ? seccomp_roles[role].name : "unknown";
}

unsigned int vmm_seccomp_role_syscalls(enum vmm_seccomp_role role)
{
	bool seen[SYSCALL_NAMES] = { false };
	unsigned int n = 0;
	if (role >= VMM_SECCOMP_ROLES)
		return 0;

	const struct role *lists[] = {
		&seccomp_common,
		&seccomp_roles[role],
		&(const struct role){ .name = "",
				      .rules = seccomp_roles[role].more,
				      .nrules = seccomp_roles[role].nmore },
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
	vmm_raise(sig);
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
#ifdef __GLIBC__
	/*
	 * vmm_seccomp_install() trims glibc's heap after each load. If glibc's allocator has
	 * not run yet (under a sanitizer, which brings its own), its first call seeds itself
	 * with getrandom(): let that happen here, before any list forbids it.
	 */
	malloc_trim(0);
#endif
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

void vmm_seccomp_gate_init(struct vmm_seccomp_gate *g)
{
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	g->state = 0;
}

void vmm_seccomp_gate_open(struct vmm_seccomp_gate *g, bool loaded)
{
	pthread_mutex_lock(&g->lock);
	g->state = loaded ? 1 : -1;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

bool vmm_seccomp_gate_wait(struct vmm_seccomp_gate *g)
{
	int state;

	pthread_mutex_lock(&g->lock);
	while (!g->state)
		pthread_cond_wait(&g->cond, &g->lock);
	state = g->state;
	pthread_mutex_unlock(&g->lock);
	return state > 0;
}

/* The role's filter, not loaded, into *out: 0, or a negative errno with a sentence in err. */
static int build_filter(enum vmm_seccomp_role role, const struct vmm_seccomp_fds *fds,
			uint32_t default_action, scmp_filter_ctx *out, char *err, size_t errlen)
{
	static const struct vmm_seccomp_fds none;
	scmp_filter_ctx ctx;
	int ret;

	if (role >= VMM_SECCOMP_ROLES) {
		snprintf(err, errlen, "seccomp: no role %d", (int)role);
		return -EINVAL;
	}
	if (!fds)
		fds = &none;
	if (fds->too_high) {
		snprintf(err, errlen,
			 "seccomp: descriptor %d is above the %d a %s list can name (ulimit -n)",
			 fds->too_high, VMM_SECCOMP_MAX_FD, seccomp_roles[role].name);
		return -EMFILE;
	}
	ctx = seccomp_init(default_action);
	if (!ctx) {
		snprintf(err, errlen, "seccomp: cannot create a filter");
		return -ENOMEM;
	}
	/* vmm_seccomp_init() set it for the whole process; libseccomp need not */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	for (unsigned int i = 0; i < seccomp_roles[role].nhot; i++)
		seccomp_syscall_priority(ctx, seccomp_roles[role].hot[i], (uint8_t)(255 - i));
	ret = add_rules(ctx, seccomp_common.rules, seccomp_common.nrules, fds, err, errlen);
	if (!ret)
		ret = add_rules(ctx, seccomp_roles[role].rules, seccomp_roles[role].nrules, fds,
				err, errlen);
	if (!ret)
		ret = add_rules(ctx, seccomp_roles[role].more, seccomp_roles[role].nmore, fds, err,
				errlen);
	if (ret) {
		seccomp_release(ctx);
		return ret;
	}
	*out = ctx;
	return 0;
}

int vmm_seccomp_install(enum vmm_seccomp_role role, const struct vmm_seccomp_fds *fds, char *err,
			size_t errlen)
{
	scmp_filter_ctx ctx;
	sigset_t sys;
	int ret;

	if (mode == VMM_SECCOMP_OFF)
		return 0;
	ret = build_filter(role, fds, mode == VMM_SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP, &ctx,
			   err, errlen);
	if (ret)
		return ret;
	/* named before loading: a trap from here on names the right role */
	thread_role = seccomp_roles[role].name;
	/*
	 * Device threads block every signal; a blocked SIGSYS from a trap would kill without
	 * the handler ever naming the call, so this thread takes it.
	 */
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	pthread_sigmask(SIG_UNBLOCK, &sys, NULL);
	ret = seccomp_load(ctx);
	if (ret)
		snprintf(err, errlen, "seccomp: cannot load the %s filter: %s",
			 seccomp_roles[role].name, strerror(-ret));
	seccomp_release(ctx);
	/*
	 * Building the filter touched heap pages that nothing uses again; give back those the
	 * allocator can, or they stay resident for the life of the VM. madvise and brk are on
	 * every list, so this works after the load too. glibc only: musl's allocator returns
	 * freed memory to the system by itself and has no such call.
	 */
#ifdef __GLIBC__
	malloc_trim(0);
#endif
	return ret;
}

int vmm_seccomp_export(enum vmm_seccomp_role role, const struct vmm_seccomp_fds *fds, int out_fd,
		       char *err, size_t errlen)
{
	scmp_filter_ctx ctx;
	int ret = build_filter(role, fds, SCMP_ACT_TRAP, &ctx, err, errlen);

	if (ret)
		return ret;
	ret = seccomp_export_bpf(ctx, out_fd);
	if (ret)
		snprintf(err, errlen, "seccomp: cannot export the %s filter: %s",
			 seccomp_roles[role].name, strerror(-ret));
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
	/* strtoul, not sscanf: sscanf alone brought 100 KiB of the C library into the binary */
	p = strstr(buf, "\nThreads:");
	if (p)
		n = (unsigned int)strtoul(p + strlen("\nThreads:"), NULL, 10);
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
