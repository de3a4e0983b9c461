/* SPDX-License-Identifier: MIT */
/* --gdb: the sockets, the vCPUs' debug exits and KVM's side of a gdb session (see stub.h). */
#include "vmm/gdb/stub.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmm/exit_codes.h"
#include "vmm/gdb/kvm.h"
#include "vmm/gdb/rsp.h"
#include "vmm/gdb/session.h"
#include "vmm/pause.h"
#include "vmm/vcpu.h"

#define BP_VECTOR 3
#define DB_VECTOR 1
#define DR6_BS (1u << 14) /* the debug exception came from a single step */

struct gdb_stub {
	int fd;	    /* listening */
	int dir_fd; /* unix: the socket's directory, to remove it at exit; else -1 */
	char name[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int conn;     /* the client, or -1 */
	int event_fd; /* a vCPU met a debug exit */
	struct event_loop *loop;
	struct vm *vm;
	struct gdb_rx rx;
	struct gdb_session session;
	bool attached;		   /* a session exists: the client is past its first pause */
	uint32_t guest_debug_caps; /* KVM_CAP_SET_GUEST_DEBUG2: the control bits KVM takes */
	/* the first debug exit since the last resume (under lock; vCPU threads write it) */
	pthread_mutex_t lock;
	bool hit;
	unsigned int hit_cpu;
	struct kvm_debug_exit_arch hit_arch;
	char reply[GDB_REPLY_MAX];
	uint8_t last[GDB_PACKET_MAX]; /* the packet before, within one read: see on_client */
	size_t last_len;
	char framed[2 * GDB_REPLY_MAX + 8];
};

/* ---- the target: KVM's side is vmm/gdb/kvm.c ------------------------------------ */

static struct vcpu *vcpu_of(struct gdb_stub *s, unsigned int cpu)
{
	return &s->vm->vcpus[cpu];
}

static int read_regs(void *target, unsigned int cpu, uint8_t *out, size_t cap)
{
	return gdb_kvm_read_regs(((struct gdb_stub *)target)->vm, cpu, out, cap);
}

static int write_regs(void *target, unsigned int cpu, const uint8_t *in, size_t len)
{
	return gdb_kvm_write_regs(((struct gdb_stub *)target)->vm, cpu, in, len);
}

static int read_mem(void *target, unsigned int cpu, uint64_t addr, void *buf, size_t len)
{
	return gdb_kvm_copy_mem(((struct gdb_stub *)target)->vm, cpu, addr, buf, len, false);
}

static int write_mem(void *target, unsigned int cpu, uint64_t addr, const void *buf, size_t len)
{
	return gdb_kvm_copy_mem(((struct gdb_stub *)target)->vm, cpu, addr, (void *)buf, len, true);
}

static int set_guest_debug(struct gdb_stub *s, unsigned int cpu, const struct gdb_debug_state *d,
			   bool step, bool inject_bp)
{
	return gdb_kvm_set_debug(s->vm, cpu, d, s->guest_debug_caps, step, inject_bp);
}

static void resume(void *target, const struct gdb_debug_state *d, int step_cpu)
{
	struct gdb_stub *s = target;
	struct vm *vm = s->vm;

	for (unsigned int i = 0; i < vm->ncpus; i++)
		if (set_guest_debug(s, i, d, (int)i == step_cpu, false))
			fprintf(stderr, "vmm: gdb: vCPU %u: KVM_SET_GUEST_DEBUG: %s\n", i,
				strerror(errno));
	pthread_mutex_lock(&s->lock);
	s->hit = false;
	pthread_mutex_unlock(&s->lock);
	if (step_cpu < 0) {
		vm_resume(vm);
		return;
	}
	/* the others stay parked; this one runs until its step's debug exit */
	pthread_mutex_lock(&vm->pause.lock);
	__atomic_store_n(&vcpu_of(s, (unsigned int)step_cpu)->debug_step, true, __ATOMIC_SEQ_CST);
	pthread_cond_broadcast(&vm->pause.cond);
	pthread_mutex_unlock(&vm->pause.lock);
}

/*
 * The guest goes on as before the client came: running, or, when the API had paused it,
 * paused as vm.pause leaves a VM (its devices' pause hooks included), without debugging.
 */
static void detach(void *target, const struct gdb_debug_state *d)
{
	struct gdb_stub *s = target;

	if (!s->vm->pause.by_api) {
		resume(s, d, -1);
		return;
	}
	for (unsigned int i = 0; i < s->vm->ncpus; i++)
		if (set_guest_debug(s, i, d, false, false))
			fprintf(stderr, "vmm: gdb: vCPU %u: KVM_SET_GUEST_DEBUG: %s\n", i,
				strerror(errno));
	vm_pause_devices(s->vm);
}

static void wake_main(struct gdb_stub *s)
{
	uint64_t one = 1;

	if (write(s->event_fd, &one, sizeof(one)) < 0) {
		/* a counter that one write per stop cannot overflow: nothing to do */
	}
}

/*
 * Ctrl-C: park every vCPU, a stepping one included (a step into HLT with interrupts
 * blocked would never end), and report from on_event.
 */
static void interrupt(void *target)
{
	struct gdb_stub *s = target;

	for (unsigned int i = 0; i < s->vm->ncpus; i++)
		__atomic_store_n(&vcpu_of(s, i)->debug_step, false, __ATOMIC_SEQ_CST);
	vm_pause_request(s->vm);
	for (unsigned int i = 0; i < s->vm->ncpus; i++)
		vcpu_kick(vcpu_of(s, i));
	wake_main(s);
}

/* k: the client ends the guest, as a power-off would (QEMU's gdbstub does the same). */
static void kill_guest(void *target)
{
	vm_request_stop(((struct gdb_stub *)target)->vm, VMM_EXIT_POWEROFF);
}

static const struct gdb_target_ops kvm_target = {
	.read_regs = read_regs,
	.write_regs = write_regs,
	.read_mem = read_mem,
	.write_mem = write_mem,
	.resume = resume,
	.detach = detach,
	.interrupt = interrupt,
	.kill = kill_guest,
};

/* ---- the vCPU side ------------------------------------------------------------------ */

/* On the vCPU thread: keep the first exit, park everyone, wake the main thread. */
static void on_debug_exit(void *ctx, struct vcpu *vcpu)
{
	struct gdb_stub *s = ctx;

	__atomic_store_n(&vcpu->debug_step, false, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&s->lock);
	if (!s->hit) {
		s->hit = true;
		s->hit_cpu = vcpu->index;
		s->hit_arch = vcpu->run->debug.arch;
	}
	pthread_mutex_unlock(&s->lock);
	vm_pause_request(vcpu->vm);
	wake_main(s);
}

/* ---- the client ----------------------------------------------------------------------- */

static void send_bytes(struct gdb_stub *s, const void *p, size_t n)
{
	const char *c = p;

	/*
	 * Replies are small and the client reads them before it sends again; a client that
	 * lets its socket buffer fill loses the rest of the reply, not the VM.
	 */
	while (n && s->conn >= 0) {
		ssize_t w = sendto(s->conn, c, n, MSG_DONTWAIT | MSG_NOSIGNAL, NULL, 0);

		if (w <= 0)
			return;
		c += w;
		n -= (size_t)w;
	}
}

static void send_packet(struct gdb_stub *s, const char *payload, size_t n)
{
	size_t framed = gdb_frame(payload, n, s->framed, sizeof(s->framed));

	send_bytes(s, s->framed, framed);
}

static void drop_client(struct gdb_stub *s)
{
	if (s->conn < 0)
		return;
	event_loop_del_fd(s->loop, s->conn);
	close(s->conn);
	s->conn = -1;
	if (!s->attached)
		return;
	s->attached = false;
	s->vm->debug.held = false;
	/*
	 * Every int3 out, no guest debugging, and the guest runs on. KVM changes a vCPU's
	 * debugging only between two KVM_RUNs, so a running guest is paused for it first.
	 */
	if (!vm_is_paused(s->vm) && vm_pause(s->vm))
		return; /* stopping, or a vCPU that would not park */
	vm_pause_complete(s->vm);
	gdb_session_end(&s->session);
	detach(s, &s->session.debug);
}

/* The VM is parked: tell the client why, unless it was a guest's own int3. */
static void report_stop(struct gdb_stub *s)
{
	struct kvm_debug_exit_arch a;
	enum gdb_stop_reason why = GDB_STOP_INTERRUPT;
	uint64_t watch = 0;
	unsigned int cpu;
	bool hit;
	int n;

	pthread_mutex_lock(&s->lock);
	hit = s->hit;
	cpu = s->hit_cpu;
	a = s->hit_arch;
	pthread_mutex_unlock(&s->lock);
	if (hit && a.exception == BP_VECTOR) {
		if (!gdb_session_owns_breakpoint(&s->session, a.pc) &&
		    gdb_session_owns_breakpoint(&s->session, a.pc - 1)) {
			/* a CPU that reports the int3 after it: point RIP back at the int3 */
			struct kvm_regs r;

			if (ioctl(vcpu_of(s, cpu)->fd, KVM_GET_REGS, &r) == 0) {
				r.rip--;
				(void)ioctl(vcpu_of(s, cpu)->fd, KVM_SET_REGS, &r);
			}
			a.pc--;
		}
		if (!gdb_session_owns_breakpoint(&s->session, a.pc)) {
			/* the guest's own int3 (kprobes, jump labels): give it to the guest */
			(void)set_guest_debug(s, cpu, &s->session.debug, false, true);
			pthread_mutex_lock(&s->lock);
			s->hit = false;
			pthread_mutex_unlock(&s->lock);
			vm_resume(s->vm);
			return;
		}
		why = GDB_STOP_BREAKPOINT;
	} else if (hit && a.exception == DB_VECTOR) {
		why = GDB_STOP_STEP;
		for (unsigned int i = 0; i < s->session.debug.nhw; i++) {
			if (!(a.dr6 & (1u << i)))
				continue;
			if (s->session.debug.hw[i].kind == GDB_HW_EXEC) {
				why = GDB_STOP_BREAKPOINT;
			} else {
				why = GDB_STOP_WATCH;
				watch = s->session.debug.hw[i].addr;
			}
			break;
		}
		if (why == GDB_STOP_STEP && !(a.dr6 & DR6_BS))
			why = GDB_STOP_BREAKPOINT;
	}
	n = gdb_session_stopped(&s->session, hit ? cpu : 0, why, watch, s->reply);
	send_packet(s, s->reply, (size_t)n);
}

static void on_event(int fd, uint32_t events, void *opaque)
{
	struct gdb_stub *s = opaque;
	uint64_t count;

	(void)events;
	if (read(fd, &count, sizeof(count)) < 0)
		return;
	if (!vm_is_paused(s->vm))
		return; /* already dealt with (a disconnect resumed the guest) */
	if (vm_pause_complete(s->vm))
		return;	    /* stopping, or a vCPU that would not park: the VM goes its own way */
	if (!s->attached) { /* nobody to tell: a stale exit after a disconnect */
		vm_resume(s->vm);
		return;
	}
	if (!s->session.running)
		return; /* a second wake-up for a stop already reported */
	report_stop(s);
}

static void on_packet(struct gdb_stub *s)
{
	int n = gdb_session_packet(&s->session, s->rx.buf, s->rx.len, s->reply);

	if (n >= 0)
		send_packet(s, s->reply, (size_t)n);
	/*
	 * After D the guest runs without us; the client closes the connection itself once
	 * it has our OK, and whatever it sends until then is dropped.
	 */
	if (s->rx.len && s->rx.buf[0] == 'D') {
		s->attached = false;
		s->vm->debug.held = false;
	}
}

static void on_client(int fd, uint32_t events, void *opaque)
{
	struct gdb_stub *s = opaque;
	uint8_t buf[1024];
	ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, NULL, 0);

	(void)events; /* a hang-up shows as a read of 0 or an error */
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			drop_client(s);
		return;
	}
	s->last_len = SIZE_MAX;
	for (ssize_t i = 0; i < n && s->conn >= 0 && s->attached; i++) {
		switch (gdb_rx_byte(&s->rx, buf[i])) {
		case GDB_RX_PACKET:
			send_bytes(s, "+", 1);
			/*
			 * A client waits for each answer, so the same packet twice in one read is
			 * a retransmission: gdb resends after 2 s without our '+', which a VMM
			 * still loading its guest can take. Answered twice, every later answer
			 * would be one behind.
			 */
			if (s->rx.len == s->last_len && !memcmp(s->rx.buf, s->last, s->rx.len))
				break;
			memcpy(s->last, s->rx.buf, s->rx.len);
			s->last_len = s->rx.len;
			on_packet(s);
			break;
		case GDB_RX_BAD:
			send_bytes(s, "-", 1);
			break;
		case GDB_RX_INTERRUPT:
			if (s->session.running)
				interrupt(s); /* the stop reply comes from on_event */
			break;
		case GDB_RX_NONE:
			break;
		}
	}
}

static void on_listen(int fd, uint32_t events, void *opaque)
{
	struct gdb_stub *s = opaque;
	int conn;

	(void)events;
	conn = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (conn < 0)
		return;
	if (s->conn >= 0) { /* one debugger at a time */
		close(conn);
		return;
	}
	if (event_loop_add_fd(s->loop, conn, EPOLLIN, on_client, s)) {
		close(conn);
		return;
	}
	/*
	 * The client finds the guest stopped (its first '?' says so): pause now, waiting
	 * for the vCPUs (a few milliseconds; vm_pause gives up after 5 s).
	 */
	pthread_mutex_lock(&s->lock);
	s->hit = false;
	pthread_mutex_unlock(&s->lock);
	vm_pause_request(s->vm);
	if (vm_pause_complete(s->vm)) {
		event_loop_del_fd(s->loop, conn);
		close(conn);
		return;
	}
	s->conn = conn;
	gdb_rx_init(&s->rx);
	gdb_session_init(&s->session, &kvm_target, s, s->vm->ncpus, 0);
	s->attached = true;
	s->vm->debug.held = true;
}

/* ---- set-up ---------------------------------------------------------------------------- */

static int listen_tcp(const char *spec, const char *hostport, char *err, size_t errlen)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	char host[64];
	const char *colon = strrchr(hostport, ':');
	char *end;
	unsigned long port;
	int fd, one = 1;

	if (!colon || (size_t)(colon - hostport) >= sizeof(host)) {
		snprintf(err, errlen, "--gdb %s: expected tcp:HOST:PORT", spec);
		return -EINVAL;
	}
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = 0;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port == 0 || port > 65535) {
		snprintf(err, errlen, "--gdb %s: the port must be 1 to 65535", spec);
		return -EINVAL;
	}
	if (inet_pton(AF_INET, host[0] ? host : "127.0.0.1", &a.sin_addr) != 1) {
		snprintf(err, errlen, "--gdb %s: '%s' is not an IPv4 address", spec, host);
		return -EINVAL;
	}
	a.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1) < 0)
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "--gdb %s: %s", spec, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -EINVAL;
}

static int listen_unix(struct gdb_stub *s, const char *spec, const char *path, char *err,
		       size_t errlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char dir[sizeof(a.sun_path)], base[sizeof(a.sun_path)];
	struct stat st;
	int fd;

	if (!*path || strlen(path) >= sizeof(a.sun_path)) {
		snprintf(err, errlen, "--gdb %s: the path must be 1 to %zu bytes", spec,
			 sizeof(a.sun_path) - 1);
		return -EINVAL;
	}
	if (lstat(path, &st) == 0) {
		snprintf(err, errlen, "--gdb %s: %s exists", spec, path);
		return -EEXIST;
	}
	strcpy(a.sun_path, path);
	strcpy(dir, path);
	strcpy(base, path);
	strcpy(s->name, basename(base));
	s->dir_fd = open(dirname(dir), O_PATH | O_DIRECTORY | O_CLOEXEC);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->dir_fd < 0 || fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    chmod(path, 0600) < 0 || listen(fd, 1) < 0) {
		snprintf(err, errlen, "--gdb %s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	return fd;
}

int gdb_stub_open(struct gdb_stub **out, const char *spec, char *err, size_t errlen)
{
	struct gdb_stub *s = calloc(1, sizeof(*s));
	int fd;

	if (!s) {
		snprintf(err, errlen, "--gdb: out of memory");
		return -ENOMEM;
	}
	s->fd = s->conn = s->event_fd = s->dir_fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	if (!strncmp(spec, "tcp:", 4))
		fd = listen_tcp(spec, spec + 4, err, errlen);
	else if (!strncmp(spec, "unix:", 5))
		fd = listen_unix(s, spec, spec + 5, err, errlen);
	else {
		snprintf(err, errlen, "--gdb %s: expected tcp:HOST:PORT or unix:PATH", spec);
		fd = -EINVAL;
	}
	if (fd < 0) {
		gdb_stub_close(s);
		return fd;
	}
	s->fd = fd;
	s->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->event_fd < 0) {
		snprintf(err, errlen, "--gdb: eventfd: %s", strerror(errno));
		gdb_stub_close(s);
		return -EINVAL;
	}
	*out = s;
	return 0;
}

int gdb_stub_watch(struct gdb_stub *s, struct event_loop *loop, struct vm *vm, bool wait)
{
	int caps;

	if (!s)
		return 0;
	s->loop = loop;
	s->vm = vm;
	caps = ioctl(vm->kvm.vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_GUEST_DEBUG2);
	s->guest_debug_caps = caps > 0 ? (uint32_t)caps : 0;
	vm->debug.exit = on_debug_exit;
	vm->debug.ctx = s;
	/* a vCPU that meets a debug exit wakes the main thread through it */
	vmm_seccomp_fds_add(&vm->vcpu_host_fds, VMM_SECCOMP_FD_EVENT, s->event_fd);
	if (wait)
		vm_pause_request(vm); /* the vCPUs park before their first instruction */
	return event_loop_add_fd(loop, s->fd, EPOLLIN, on_listen, s)
		       ?: event_loop_add_fd(loop, s->event_fd, EPOLLIN, on_event, s);
}

void gdb_stub_seccomp_fds(const struct gdb_stub *s, struct vmm_seccomp_fds *fds)
{
	if (!s)
		return;
	vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_API, s->fd);
	if (s->dir_fd >= 0)
		vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_API, s->dir_fd);
	vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_EVENT, s->event_fd);
	for (unsigned int i = 0; s->vm && i < s->vm->ncpus; i++)
		vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_VCPU, s->vm->vcpus[i].fd);
}

void gdb_stub_close(struct gdb_stub *s)
{
	if (!s)
		return;
	if (s->loop)
		drop_client(s);
	if (s->loop && s->fd >= 0)
		event_loop_del_fd(s->loop, s->fd);
	if (s->loop && s->event_fd >= 0)
		event_loop_del_fd(s->loop, s->event_fd);
	if (s->fd >= 0)
		close(s->fd);
	if (s->event_fd >= 0)
		close(s->event_fd);
	if (s->dir_fd >= 0) {
		if (s->fd >= 0)
			(void)unlinkat(s->dir_fd, s->name, 0);
		close(s->dir_fd);
	}
	pthread_mutex_destroy(&s->lock);
	free(s);
}
