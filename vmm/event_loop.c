// SPDX-License-Identifier: MIT
/*
 * epoll with a callback per file descriptor, a short list of timers and hooks around
 * each wait. Removal is always deferred to the end of a round, so a callback may
 * remove anything (itself included) while the events of the same wait are still
 * being handed out.
 */
#include "vmm/event_loop.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>

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
