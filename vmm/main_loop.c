// SPDX-License-Identifier: MIT
/* The running VM's own sources on the main thread's event loop. */
#include "vmm/main_loop.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

#include "vmm/exit_codes.h"
#include "vmm/stats.h"
#include "vmm/vcpu.h"

static void termination_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
	sigaddset(set, SIGUSR1); /* not a termination: it prints the exit statistics */
}

int main_loop_block_signals(void)
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
static void update_stdin_interest(struct main_loop *m)
{
	if (!m->con->in_pollable)
		return;
	event_loop_mod_fd(m->loop, m->con->in_fd, m->con->pending_len == 0 ? EPOLLIN : 0);
}

static void on_signal(int sigfd, uint32_t events, void *opaque)
{
	struct main_loop *m = opaque;
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
	struct main_loop *m = opaque;

	(void)events;
	if (!console_handle_input(m->con))
		vm_request_stop(m->vm, VMM_EXIT_QUIT);
	if (!m->con->in_pollable)
		event_loop_del_fd(m->loop, fd);
	update_stdin_interest(m);
}

static void on_rx_ready(int fd, uint32_t events, void *opaque)
{
	struct main_loop *m = opaque;

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
	struct main_loop *m = opaque;

	fprintf(stderr, "%svmm: timed out after %u s, stopping the guest%s\n",
		m->con->mode == CONSOLE_SERIAL ? "\r\n" : "", m->limit_s,
		m->con->mode == CONSOLE_SERIAL ? "\r" : "");
	vm_request_stop(m->vm, VMM_EXIT_TIMEOUT);
}

int main_loop_watch(struct main_loop *m, struct event_loop *loop, struct vm *vm,
		    struct console *con, unsigned int timeout)
{
	sigset_t set;
	int ret;

	*m = (struct main_loop){ .loop = loop, .vm = vm, .con = con, .sigfd = -1 };
	termination_signals(&set);
	m->sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (m->sigfd < 0)
		return -errno;
	ret = event_loop_add_fd(loop, m->sigfd, EPOLLIN, on_signal, m) ?:
	      event_loop_add_fd(loop, vm->stop_fd, EPOLLIN, on_stop, m) ?:
	      event_loop_add_fd(loop, con->rx_ready_fd, EPOLLIN, on_rx_ready, m);
	if (ret)
		return ret;
	/* a regular file or /dev/null cannot be polled: then the guest gets no input */
	con->in_pollable = con->mode == CONSOLE_SERIAL &&
			   event_loop_add_fd(loop, con->in_fd, EPOLLIN, on_stdin, m) == 0;
	if (timeout) {
		m->limit = event_timer_new(loop, on_time_limit, m);
		if (!m->limit)
			return -ENOMEM;
		m->limit_s = timeout;
		event_timer_arm(m->limit, event_loop_now_ms() + (int64_t)timeout * 1000);
	}
	return 0;
}

int main_loop_signal_fd(const struct main_loop *m)
{
	return m->sigfd;
}

int main_loop_run(struct main_loop *m)
{
	struct event_loop *loop = m->loop;
	struct vm *vm = m->vm;
	struct console *con = m->con;
	int ret;

	while (!vm_is_stopping(vm)) {
		ret = event_loop_dispatch(loop, -1);
		if (ret) {
			fprintf(stderr, "vmm: epoll_wait: %s\n", strerror(-ret));
			vm_request_stop(vm, VMM_EXIT_ERROR);
		}
	}
	/* removed now, freed by the loop at its next round or when it is freed */
	event_loop_del_fd(loop, m->sigfd);
	event_loop_del_fd(loop, vm->stop_fd);
	event_loop_del_fd(loop, con->rx_ready_fd);
	if (con->in_pollable)
		event_loop_del_fd(loop, con->in_fd);
	if (m->limit)
		event_timer_free(m->limit);
	m->limit = NULL;
	close(m->sigfd);
	m->sigfd = -1;
	return vm_exit_code(vm);
}
