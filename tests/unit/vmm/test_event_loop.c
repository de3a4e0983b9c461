/* SPDX-License-Identifier: MIT */
/* The event loop's registrations: fds with callbacks, timers and the hooks around a wait. */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "check_main.h"
#include "vmm/event_loop.h"

static struct event_loop *loop;
static int efd[2];
static int calls[2];
static uint32_t seen_events;

static void setup(void)
{
	loop = event_loop_new();
	ck_assert_ptr_nonnull(loop);
	for (int i = 0; i < 2; i++) {
		efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		ck_assert_int_ge(efd[i], 0);
		calls[i] = 0;
	}
	seen_events = 0;
}

static void teardown(void)
{
	event_loop_free(loop);
	close(efd[0]);
	close(efd[1]);
}

static void kick(int fd)
{
	uint64_t one = 1;

	ck_assert_int_eq(write(fd, &one, sizeof(one)), sizeof(one));
}

static void drain_cb(int fd, uint32_t events, void *opaque)
{
	uint64_t v;

	seen_events |= events;
	if (events & EPOLLIN)
		ck_assert_int_eq(read(fd, &v, sizeof(v)), sizeof(v));
	(*(int *)opaque)++;
}

START_TEST(test_fd_callback_runs_when_ready)
{
	ck_assert_int_eq(event_loop_add_fd(loop, efd[0], EPOLLIN, drain_cb, &calls[0]), 0);
	ck_assert_int_eq(event_loop_add_fd(loop, efd[0], EPOLLIN, drain_cb, &calls[0]), -EEXIST);
	ck_assert_int_eq(event_loop_dispatch(loop, 0), 0);
	ck_assert_int_eq(calls[0], 0);
	kick(efd[0]);
	ck_assert_int_eq(event_loop_dispatch(loop, 1000), 0);
	ck_assert_int_eq(calls[0], 1);
	ck_assert(seen_events & EPOLLIN);

	/* paused: a ready fd does not call back */
	ck_assert_int_eq(event_loop_mod_fd(loop, efd[0], 0), 0);
	kick(efd[0]);
	ck_assert_int_eq(event_loop_dispatch(loop, 0), 0);
	ck_assert_int_eq(calls[0], 1);
	ck_assert_int_eq(event_loop_mod_fd(loop, efd[0], EPOLLIN), 0);
	ck_assert_int_eq(event_loop_dispatch(loop, 0), 0);
	ck_assert_int_eq(calls[0], 2);

	event_loop_del_fd(loop, efd[0]);
	kick(efd[0]);
	ck_assert_int_eq(event_loop_dispatch(loop, 0), 0);
	ck_assert_int_eq(calls[0], 2);
	ck_assert_int_eq(event_loop_mod_fd(loop, efd[0], EPOLLIN), -ENOENT);
	/* and it can be added again */
	ck_assert_int_eq(event_loop_add_fd(loop, efd[0], EPOLLIN, drain_cb, &calls[0]), 0);
	ck_assert_int_eq(event_loop_dispatch(loop, 0), 0);
	ck_assert_int_eq(calls[0], 3);
}
END_TEST

/* Each callback removes the other fd: whichever runs first, the second must not run. */
static void remove_other_cb(int fd, uint32_t events, void *opaque)
{
	int i = fd == efd[0] ? 0 : 1;

	(void)events;
	(void)opaque;
	calls[i]++;
	event_loop_del_fd(loop, efd[1 - i]);
	event_loop_del_fd(loop, fd);
}

START_TEST(test_removal_inside_a_round)
{
	ck_assert_int_eq(event_loop_add_fd(loop, efd[0], EPOLLIN, remove_other_cb, NULL), 0);
	ck_assert_int_eq(event_loop_add_fd(loop, efd[1], EPOLLIN, remove_other_cb, NULL), 0);
	kick(efd[0]);
	kick(efd[1]);
	ck_assert_int_eq(event_loop_dispatch(loop, 1000), 0);
	ck_assert_int_eq(calls[0] + calls[1], 1);
	ck_assert_int_eq(event_loop_dispatch(loop, 0), 0);
	ck_assert_int_eq(calls[0] + calls[1], 1);
}
END_TEST

/* A descriptor closed without del and its number reused: mod re-attaches the new one. */
START_TEST(test_mod_after_close_and_reuse)
{
	int fd = efd[0];

	ck_assert_int_eq(event_loop_add_fd(loop, fd, EPOLLIN, drain_cb, &calls[0]), 0);
	close(fd);
	efd[0] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ck_assert_int_eq(efd[0], fd);
	ck_assert_int_eq(event_loop_mod_fd(loop, fd, EPOLLIN), 0);
	kick(fd);
	ck_assert_int_eq(event_loop_dispatch(loop, 1000), 0);
	ck_assert_int_eq(calls[0], 1);
}
END_TEST

static struct event_timer *timers[2];

static void timer_cb(void *opaque)
{
	int i = (int)(intptr_t)opaque;

	calls[i]++;
	/* timer 0 frees timer 1 before it can fire, and re-arms itself once */
	if (i == 0) {
		event_timer_free(timers[1]);
		timers[1] = NULL;
		if (calls[0] == 1)
			event_timer_arm(timers[0], event_loop_now_ms());
	}
}

START_TEST(test_timers)
{
	int64_t start = event_loop_now_ms();

	timers[0] = event_timer_new(loop, timer_cb, (void *)0);
	timers[1] = event_timer_new(loop, timer_cb, (void *)1);
	ck_assert_ptr_nonnull(timers[0]);
	ck_assert_ptr_nonnull(timers[1]);
	/* a disarmed timer never limits the wait nor fires */
	ck_assert_int_eq(event_loop_dispatch(loop, 0), 0);
	ck_assert_int_eq(calls[0] + calls[1], 0);

	event_timer_arm(timers[0], start + 30);
	event_timer_arm(timers[1], start + 60);
	/* -1 would wait forever with nothing else registered: the timer ends the wait */
	while (calls[0] == 0)
		ck_assert_int_eq(event_loop_dispatch(loop, -1), 0);
	ck_assert_int_ge(event_loop_now_ms() - start, 30);
	while (calls[0] == 1)
		ck_assert_int_eq(event_loop_dispatch(loop, -1), 0);
	ck_assert_int_eq(calls[0], 2);
	ck_assert_int_eq(calls[1], 0);
	/* nothing armed any more: a bounded wait returns without calls */
	ck_assert_int_eq(event_loop_dispatch(loop, 50), 0);
	ck_assert_int_eq(calls[1], 0);

	event_timer_arm(timers[0], start);
	event_timer_disarm(timers[0]);
	ck_assert_int_eq(event_loop_dispatch(loop, 0), 0);
	ck_assert_int_eq(calls[0], 2);
	event_timer_free(timers[0]);
}
END_TEST

static int prepares, checks;

static void prepare_cb(void *opaque, int *timeout_ms)
{
	(void)opaque;
	prepares++;
	if (*timeout_ms < 0 || *timeout_ms > 10)
		*timeout_ms = 10;
}

static void check_cb(void *opaque)
{
	(void)opaque;
	checks++;
	/* the check runs after the fd callbacks of the same round */
	ck_assert_int_eq(checks, prepares);
}

START_TEST(test_hooks)
{
	int64_t start = event_loop_now_ms();

	prepares = checks = 0;
	ck_assert_int_eq(event_loop_add_hook(loop, prepare_cb, check_cb, &prepares), 0);
	/* the hook shortens an endless wait */
	ck_assert_int_eq(event_loop_dispatch(loop, -1), 0);
	ck_assert_int_eq(prepares, 1);
	ck_assert_int_eq(checks, 1);
	ck_assert_int_lt(event_loop_now_ms() - start, 1000);
	event_loop_del_hook(loop, &prepares);
	ck_assert_int_eq(event_loop_dispatch(loop, 0), 0);
	ck_assert_int_eq(prepares, 1);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("event_loop");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fd_callback_runs_when_ready);
	tcase_add_test(tc, test_removal_inside_a_round);
	tcase_add_test(tc, test_mod_after_close_and_reuse);
	tcase_add_test(tc, test_timers);
	tcase_add_test(tc, test_hooks);
	suite_add_tcase(s, tc);
	return s;
}
