// SPDX-License-Identifier: MIT
/*
 * epoll with a callback per file descriptor, a short list of timers and hooks around
 * each wait. Removal is always deferred to the end of a round, so a callback may
 * remove anything (itself included) while the events of the same wait are still
 * being handed out.
 */
#include "vmm/event_loop.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

#include "vmm/exit_codes.h"
#include "vmm/stats.h"
#include "vmm/vcpu.h"

struct fd_source {
	int fd;
	uint32_t events;
	event_fd_cb cb;
	void *opaque;
	bool dead;
	struct fd_source *next_dead;
};

struct event_timer {
	struct event_loop *loop;
	event_timer_cb cb;
	void *opaque;
	int64_t deadline_ms;
	bool armed;
	bool dead;
	struct event_timer *next;
};

struct hook {
	event_prepare_cb prepare;
	event_check_cb check;
	void *opaque;
	bool dead;
};

struct main_sources {
	struct event_loop *loop;
	struct vm *vm;
	struct console *con;
};

struct event_loop {
	int epfd;
	struct fd_source **by_fd; /* indexed by fd: descriptors are small and dense */
	int by_fd_len;
	struct fd_source *dead_sources;
	struct event_timer *timers;
	bool dead_timers;
	struct hook *hooks;
	unsigned int nhooks, hooks_cap;
	bool dead_hooks;
	/* the VM's own sources (signals, stop, console, time limit), from event_loop_watch_vm() */
	struct main_sources main;
	int sigfd;
	struct event_timer *limit;
	unsigned int limit_s;
};

int64_t event_loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct event_loop *event_loop_new(void)
{
	struct event_loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return NULL;
	loop->sigfd = -1;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		free(loop);
		return NULL;
	}
	return loop;
}

static void reap(struct event_loop *loop)
{
	while (loop->dead_sources) {
		struct fd_source *src = loop->dead_sources;

		loop->dead_sources = src->next_dead;
		free(src);
	}
	if (loop->dead_timers) {
		for (struct event_timer **p = &loop->timers; *p;) {
			struct event_timer *t = *p;

			if (t->dead) {
				*p = t->next;
				free(t);
			} else {
				p = &t->next;
			}
		}
		loop->dead_timers = false;
	}
	if (loop->dead_hooks) {
		unsigned int n = 0;

		for (unsigned int i = 0; i < loop->nhooks; i++)
			if (!loop->hooks[i].dead)
				loop->hooks[n++] = loop->hooks[i];
		loop->nhooks = n;
		loop->dead_hooks = false;
	}
}

void event_loop_free(struct event_loop *loop)
{
	if (!loop)
		return;
	for (int fd = 0; fd < loop->by_fd_len; fd++)
		free(loop->by_fd[fd]);
	free(loop->by_fd);
	for (struct event_timer *t = loop->timers; t; t = loop->timers) {
		loop->timers = t->next;
		free(t);
	}
	reap(loop);
	free(loop->hooks);
	close(loop->epfd);
	free(loop);
}

int event_loop_add_fd(struct event_loop *loop, int fd, uint32_t events, event_fd_cb cb,
		      void *opaque)
{
	struct epoll_event ev = { .events = events };
	struct fd_source *src;

	if (fd < 0)
		return -EBADF;
	if (fd >= loop->by_fd_len) {
		int len = fd < 64 ? 64 : 2 * fd;
		struct fd_source **grown = realloc(loop->by_fd, len * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		memset(grown + loop->by_fd_len, 0, (len - loop->by_fd_len) * sizeof(*grown));
		loop->by_fd = grown;
		loop->by_fd_len = len;
	}
	if (loop->by_fd[fd])
		return -EEXIST;
	src = calloc(1, sizeof(*src));
	if (!src)
		return -ENOMEM;
	*src = (struct fd_source){ .fd = fd, .events = events, .cb = cb, .opaque = opaque };
	ev.data.ptr = src;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = -errno;

		free(src);
		return err;
	}
	loop->by_fd[fd] = src;
	return 0;
}

static struct fd_source *find_fd(struct event_loop *loop, int fd)
{
	return fd >= 0 && fd < loop->by_fd_len ? loop->by_fd[fd] : NULL;
}

int event_loop_mod_fd(struct event_loop *loop, int fd, uint32_t events)
{
	struct fd_source *src = find_fd(loop, fd);
	struct epoll_event ev = { .events = events };

	if (!src)
		return -ENOENT;
	ev.data.ptr = src;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0) {
		/*
		 * Closing a descriptor drops it from epoll behind our back; if its number
		 * was handed out again, this registration now means the new one.
		 */
		if (errno != ENOENT || epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -errno;
	}
	src->events = events;
	return 0;
}

void event_loop_del_fd(struct event_loop *loop, int fd)
{
	struct fd_source *src = find_fd(loop, fd);

	if (!src)
		return;
	/* ENOENT or EBADF: already closed, epoll forgot it by itself */
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	loop->by_fd[fd] = NULL;
	src->dead = true;
	src->next_dead = loop->dead_sources;
	loop->dead_sources = src;
}

struct event_timer *event_timer_new(struct event_loop *loop, event_timer_cb cb, void *opaque)
{
	struct event_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	*t = (struct event_timer){ .loop = loop, .cb = cb, .opaque = opaque, .next = loop->timers };
	loop->timers = t;
	return t;
}

void event_timer_arm(struct event_timer *timer, int64_t deadline_ms)
{
	timer->deadline_ms = deadline_ms;
	timer->armed = true;
}

void event_timer_disarm(struct event_timer *timer)
{
	timer->armed = false;
}

void event_timer_free(struct event_timer *timer)
{
	if (!timer)
		return;
	timer->armed = false;
	timer->dead = true;
	timer->loop->dead_timers = true;
}

int event_loop_add_hook(struct event_loop *loop, event_prepare_cb prepare, event_check_cb check,
			void *opaque)
{
	if (loop->nhooks == loop->hooks_cap) {
		unsigned int cap = loop->hooks_cap ? 2 * loop->hooks_cap : 4;
		struct hook *grown = realloc(loop->hooks, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		loop->hooks = grown;
		loop->hooks_cap = cap;
	}
	loop->hooks[loop->nhooks++] =
		(struct hook){ .prepare = prepare, .check = check, .opaque = opaque };
	return 0;
}

void event_loop_del_hook(struct event_loop *loop, void *opaque)
{
	for (unsigned int i = 0; i < loop->nhooks; i++) {
		if (loop->hooks[i].opaque == opaque) {
			loop->hooks[i].dead = true;
			loop->dead_hooks = true;
		}
	}
}

/* The wait may not outlast the nearest armed timer. */
static int timer_timeout(struct event_loop *loop, int timeout_ms)
{
	int64_t now = event_loop_now_ms();

	for (struct event_timer *t = loop->timers; t; t = t->next) {
		int64_t left;

		if (!t->armed)
			continue;
		left = t->deadline_ms > now ? t->deadline_ms - now : 0;
		if (timeout_ms < 0 || left < timeout_ms)
			timeout_ms = (int)left;
	}
	return timeout_ms;
}

static void run_timers(struct event_loop *loop)
{
	int64_t now = event_loop_now_ms();

	/* a callback may arm, add or free timers: freed ones stay linked until reap() */
	for (struct event_timer *t = loop->timers; t; t = t->next) {
		if (t->armed && t->deadline_ms <= now) {
			t->armed = false;
			t->cb(t->opaque);
		}
	}
}

int event_loop_dispatch(struct event_loop *loop, int timeout_ms)
{
	struct epoll_event events[32];
	int n, ret = 0;

	/* by index: a hook may add another, which may move the array */
	for (unsigned int i = 0; i < loop->nhooks; i++) {
		if (!loop->hooks[i].dead && loop->hooks[i].prepare)
			loop->hooks[i].prepare(loop->hooks[i].opaque, &timeout_ms);
	}
	timeout_ms = timer_timeout(loop, timeout_ms);
	n = epoll_wait(loop->epfd, events, sizeof(events) / sizeof(events[0]), timeout_ms);
	if (n < 0) {
		ret = errno == EINTR ? 0 : -errno;
		n = 0;
	}
	for (int i = 0; i < n; i++) {
		struct fd_source *src = events[i].data.ptr;

		if (!src->dead)
			src->cb(src->fd, events[i].events, src->opaque);
	}
	run_timers(loop);
	for (unsigned int i = 0; i < loop->nhooks; i++) {
		if (!loop->hooks[i].dead && loop->hooks[i].check)
			loop->hooks[i].check(loop->hooks[i].opaque);
	}
	reap(loop);
	return ret;
}

static void termination_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
	sigaddset(set, SIGUSR1); /* not a termination: it prints the exit statistics */
}

int event_loop_block_signals(void)
{
	sigset_t set;

	termination_signals(&set);
	/* vCPU threads unblock the kick signal for themselves; everyone else ignores it */
	sigaddset(&set, VCPU_KICK_SIGNAL);
	signal(SIGPIPE, SIG_IGN);
	return -pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/*
 * Watch stdin only while the UART can take more: a full FIFO would otherwise make a
 * readable stdin wake us in a busy loop. The rest stays in the terminal's own buffer.
 */
static void update_stdin_interest(struct main_sources *m)
{
	if (!m->con->in_pollable)
		return;
	event_loop_mod_fd(m->loop, m->con->in_fd, m->con->pending_len == 0 ? EPOLLIN : 0);
}

static void on_signal(int sigfd, uint32_t events, void *opaque)
{
	struct main_sources *m = opaque;
	struct signalfd_siginfo info;

	(void)events;
	if (read(sigfd, &info, sizeof(info)) != sizeof(info))
		return;
	if (info.ssi_signo == SIGUSR1) {
		stats_print(stderr, m->vm); /* "\r\n" line ends on a terminal in raw mode */
		return;
	}
	fprintf(stderr, "\r\nvmm: %s, stopping the guest\r\n", strsignal((int)info.ssi_signo));
	vm_request_stop(m->vm, VMM_EXIT_SIGNAL_BASE + (int)info.ssi_signo);
}

static void on_stdin(int fd, uint32_t events, void *opaque)
{
	struct main_sources *m = opaque;

	(void)events;
	if (!console_handle_input(m->con))
		vm_request_stop(m->vm, VMM_EXIT_QUIT);
	if (!m->con->in_pollable)
		event_loop_del_fd(m->loop, fd);
	update_stdin_interest(m);
}

static void on_rx_ready(int fd, uint32_t events, void *opaque)
{
	struct main_sources *m = opaque;

	(void)fd;
	(void)events;
	console_handle_rx_ready(m->con);
	update_stdin_interest(m);
}

/* The stop eventfd only has to end the wait; vm_is_stopping() says the rest. */
static void on_stop(int fd, uint32_t events, void *opaque)
{
	(void)fd;
	(void)events;
	(void)opaque;
}

/* vmm run --timeout: the guest took too long (hung, or its command did). */
static void on_time_limit(void *opaque)
{
	struct main_sources *m = opaque;

	fprintf(stderr, "%svmm: timed out after %u s, stopping the guest%s\n",
		m->con->mode == CONSOLE_SERIAL ? "\r\n" : "", m->loop->limit_s,
		m->con->mode == CONSOLE_SERIAL ? "\r" : "");
	vm_request_stop(m->vm, VMM_EXIT_TIMEOUT);
}

int event_loop_watch_vm(struct event_loop *loop, struct vm *vm, struct console *con,
			unsigned int timeout)
{
	struct main_sources *m = &loop->main;
	sigset_t set;
	int ret;

	*m = (struct main_sources){ loop, vm, con };
	termination_signals(&set);
	loop->sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (loop->sigfd < 0)
		return -errno;
	ret = event_loop_add_fd(loop, loop->sigfd, EPOLLIN, on_signal, m) ?:
	      event_loop_add_fd(loop, vm->stop_fd, EPOLLIN, on_stop, m) ?:
	      event_loop_add_fd(loop, con->rx_ready_fd, EPOLLIN, on_rx_ready, m);
	if (ret)
		return ret;
	/* a regular file or /dev/null cannot be polled: then the guest gets no input */
	con->in_pollable = con->mode == CONSOLE_SERIAL &&
			   event_loop_add_fd(loop, con->in_fd, EPOLLIN, on_stdin, m) == 0;
	if (timeout) {
		loop->limit = event_timer_new(loop, on_time_limit, m);
		if (!loop->limit)
			return -ENOMEM;
		loop->limit_s = timeout;
		event_timer_arm(loop->limit, event_loop_now_ms() + (int64_t)timeout * 1000);
	}
	return 0;
}

int event_loop_signal_fd(const struct event_loop *loop)
{
	return loop->sigfd;
}

int event_loop_run(struct event_loop *loop)
{
	struct vm *vm = loop->main.vm;
	struct console *con = loop->main.con;
	int ret;

	while (!vm_is_stopping(vm)) {
		ret = event_loop_dispatch(loop, -1);
		if (ret) {
			fprintf(stderr, "vmm: epoll_wait: %s\n", strerror(-ret));
			vm_request_stop(vm, VMM_EXIT_ERROR);
		}
	}
	event_loop_del_fd(loop, loop->sigfd);
	event_loop_del_fd(loop, vm->stop_fd);
	event_loop_del_fd(loop, con->rx_ready_fd);
	if (con->in_pollable)
		event_loop_del_fd(loop, con->in_fd);
	if (loop->limit)
		event_timer_free(loop->limit);
	loop->limit = NULL;
	reap(loop);
	close(loop->sigfd);
	loop->sigfd = -1;
	return vm_exit_code(vm);
}
