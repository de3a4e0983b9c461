/* SPDX-License-Identifier: MIT */
/*
 * The main thread's loop once the vCPUs run. It waits (epoll) on whatever was
 * registered with it: the VM's own sources (vmm/main_loop.h: the console, termination
 * signals and the stop request) and any back end that must live in one thread
 * (libslirp): file descriptors with a callback each, timers on the monotonic clock, and
 * hooks that run around every wait for a library that chooses afresh, each round, what
 * it wants to wait for. It knows nothing of the VM, so a back end may use it.
 *
 * Everything here belongs to the thread that runs the loop: register, change and
 * remove only from that thread (or before it starts), never from a device thread.
 */
#ifndef VMM_EVENT_LOOP_H
#define VMM_EVENT_LOOP_H

#include <stdint.h>

struct event_loop;
struct event_timer;

/* events: the EPOLL* bits that were reported (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP...) */
typedef void (*event_fd_cb)(int fd, uint32_t events, void *opaque);
typedef void (*event_timer_cb)(void *opaque);
/* Before each wait: may lower *timeout_ms (-1: no limit yet); may add or change fds. */
typedef void (*event_prepare_cb)(void *opaque, int *timeout_ms);
/* After each wait, once every fd callback and due timer has run. */
typedef void (*event_check_cb)(void *opaque);

struct event_loop *event_loop_new(void);
/* Frees the loop and whatever is still registered (fds are not closed). */
void event_loop_free(struct event_loop *loop);

/*
 * Watch fd for events (EPOLLIN, EPOLLOUT, ...; level-triggered) and call cb on the
 * loop's thread when any of them holds. One registration per fd. Returns 0 or -errno.
 */
int event_loop_add_fd(struct event_loop *loop, int fd, uint32_t events, event_fd_cb cb,
		      void *opaque);
/* Change what fd is watched for; 0 pauses it. Returns 0 or -errno (-ENOENT: not added). */
int event_loop_mod_fd(struct event_loop *loop, int fd, uint32_t events);
/* Stop watching fd (before closing it). Safe from inside any callback, even fd's own. */
void event_loop_del_fd(struct event_loop *loop, int fd);

/* A disarmed timer; NULL when out of memory. */
struct event_timer *event_timer_new(struct event_loop *loop, event_timer_cb cb, void *opaque);
/* Fire once, at event_loop_now_ms() >= deadline_ms; re-arming moves the deadline. */
void event_timer_arm(struct event_timer *timer, int64_t deadline_ms);
void event_timer_disarm(struct event_timer *timer);
/* Safe from inside any callback, the timer's own included. */
void event_timer_free(struct event_timer *timer);
/* The loop's clock: CLOCK_MONOTONIC in milliseconds. */
int64_t event_loop_now_ms(void);

/* Run prepare before and check after every wait. Returns 0 or -ENOMEM. */
int event_loop_add_hook(struct event_loop *loop, event_prepare_cb prepare, event_check_cb check,
			void *opaque);
void event_loop_del_hook(struct event_loop *loop, void *opaque);

/*
 * One round: the prepare hooks, one wait of at most timeout_ms (-1: until something
 * happens), the fd callbacks, the due timers, the check hooks. Returns 0 or -errno
 * (-EINTR counts as 0).
 */
int event_loop_dispatch(struct event_loop *loop, int timeout_ms);

#endif
