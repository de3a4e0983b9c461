// SPDX-License-Identifier: MIT
/* epoll over the console, signals and the stop request. */
#include "vmm/event_loop.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

#include "vmm/exit_codes.h"
#include "vmm/stats.h"
#include "vmm/vcpu.h"

enum { SOURCE_SIGNAL, SOURCE_STOP, SOURCE_STDIN, SOURCE_RX_READY, SOURCE_TIMEOUT };

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

static int watch(int epfd, int fd, uint64_t source)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = source };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/*
 * Watch stdin only while the UART can take more: a full FIFO would otherwise make a
 * readable stdin wake us in a busy loop. The rest stays in the terminal's own buffer.
 */
static void update_stdin_interest(int epfd, struct console *con)
{
	struct epoll_event ev = { .events = 0, .data.u64 = SOURCE_STDIN };

	if (!con->in_pollable)
		return;
	if (con->pending_len == 0)
		ev.events = EPOLLIN;
	epoll_ctl(epfd, EPOLL_CTL_MOD, con->in_fd, &ev);
}

static void handle_signal(struct vm *vm, int sigfd)
{
	struct signalfd_siginfo info;

	if (read(sigfd, &info, sizeof(info)) != sizeof(info))
		return;
	if (info.ssi_signo == SIGUSR1) {
		stats_print(stderr, vm); /* "\r\n" line ends on a terminal in raw mode */
		return;
	}
	fprintf(stderr, "\r\nvmm: %s, stopping the guest\r\n", strsignal((int)info.ssi_signo));
	vm_request_stop(vm, VMM_EXIT_SIGNAL_BASE + (int)info.ssi_signo);
}

/* A timerfd that fires once, seconds from now; -1 for no limit. */
static int arm_timeout(unsigned int seconds)
{
	struct itimerspec when = { .it_value = { .tv_sec = seconds } };
	int fd;

	if (!seconds)
		return -1;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fd >= 0 && timerfd_settime(fd, 0, &when, NULL) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int event_loop_run(struct vm *vm, struct console *con, unsigned int timeout)
{
	struct epoll_event events[8];
	sigset_t set;
	int sigfd, epfd, timerfd = arm_timeout(timeout), ret = 0;

	termination_signals(&set);
	sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sigfd < 0 || epfd < 0 || (timeout && timerfd < 0)) {
		perror("vmm: event loop");
		vm_request_stop(vm, VMM_EXIT_ERROR);
		goto out;
	}
	ret = watch(epfd, sigfd, SOURCE_SIGNAL) ?: watch(epfd, vm->stop_fd, SOURCE_STOP) ?:
	      watch(epfd, con->rx_ready_fd, SOURCE_RX_READY) ?:
	      (timerfd >= 0 ? watch(epfd, timerfd, SOURCE_TIMEOUT) : 0);
	if (ret) {
		vm_request_stop(vm, VMM_EXIT_ERROR);
		goto out;
	}
	/* a regular file or /dev/null cannot be polled: then the guest gets no input */
	con->in_pollable =
		con->mode == CONSOLE_SERIAL && watch(epfd, con->in_fd, SOURCE_STDIN) == 0;

	while (!vm_is_stopping(vm)) {
		int n = epoll_wait(epfd, events, sizeof(events) / sizeof(events[0]), -1);

		if (n < 0 && errno != EINTR) {
			perror("vmm: epoll_wait");
			vm_request_stop(vm, VMM_EXIT_ERROR);
		}
		for (int i = 0; i < n; i++) {
			switch (events[i].data.u64) {
			case SOURCE_SIGNAL:
				handle_signal(vm, sigfd);
				break;
			case SOURCE_STDIN:
				if (!console_handle_input(con))
					vm_request_stop(vm, VMM_EXIT_QUIT);
				if (!con->in_pollable)
					epoll_ctl(epfd, EPOLL_CTL_DEL, con->in_fd, NULL);
				update_stdin_interest(epfd, con);
				break;
			case SOURCE_RX_READY:
				console_handle_rx_ready(con);
				update_stdin_interest(epfd, con);
				break;
			case SOURCE_TIMEOUT:
				fprintf(stderr,
					"%svmm: timed out after %u s, stopping the guest%s\n",
					con->mode == CONSOLE_SERIAL ? "\r\n" : "", timeout,
					con->mode == CONSOLE_SERIAL ? "\r" : "");
				vm_request_stop(vm, VMM_EXIT_TIMEOUT);
				break;
			case SOURCE_STOP:
				break;
			}
		}
	}
out:
	if (sigfd >= 0)
		close(sigfd);
	if (epfd >= 0)
		close(epfd);
	if (timerfd >= 0)
		close(timerfd);
	return vm_exit_code(vm);
}
