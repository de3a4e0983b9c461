// SPDX-License-Identifier: MIT
/* Terminal handling and the UART's connection to stdin/stdout. */
#include "vmm/console.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <asm/termbits.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include "vmm/arch.h"
#include "vmm/seccomp.h"

/*
 * The kernel's own termios layout, saved and put back with plain TCGETS / TCSETS ioctls
 * rather than tcgetattr() / tcsetattr(): the restore runs under every thread's seccomp
 * filter (the exit path, the SIGSYS and crash handlers), which allows exactly one call for
 * it, ioctl(stdin, TCSETS). What tcsetattr() issues depends on the libc: Debian 12's glibc
 * reads the settings with TCGETS first (which the filter refused, so every exit from a
 * terminal died of SIGSYS in raw mode), other versions use the termios2 ioctls.
 */
static struct termios saved_termios;
static volatile sig_atomic_t termios_saved;

size_t console_filter(struct console_escape *esc, const uint8_t *in, size_t len, uint8_t *out,
		      bool *quit)
{
	size_t n = 0;

	*quit = false;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = in[i];

		if (!esc->pending) {
			if (c == CONSOLE_ESCAPE)
				esc->pending = true;
			else
				out[n++] = c;
			continue;
		}
		esc->pending = false;
		if (c == 'x' || c == 'X') {
			*quit = true;
			return n;
		}
		/* Ctrl-A Ctrl-A sends one Ctrl-A; any other pair is passed through whole */
		if (c != CONSOLE_ESCAPE)
			out[n++] = CONSOLE_ESCAPE;
		out[n++] = c;
	}
	return n;
}

size_t console_tail(const struct console *con, uint8_t *out, size_t max)
{
	size_t size = sizeof(con->tail);
	size_t start = con->tail_wrapped ? con->tail_pos : 0;
	size_t len = con->tail_wrapped ? size : con->tail_pos;
	size_t n = 0, skip = 0;

	/* the oldest line lost its start when older output was dropped: begin at the next */
	if (con->tail_wrapped) {
		while (skip < len && con->tail[(start + skip) % size] != '\n')
			skip++;
		skip = skip < len ? skip + 1 : 0; /* one line longer than the tail: keep it all */
	}
	for (size_t i = skip; i < len && n < max; i++)
		out[n++] = con->tail[(start + i) % size];
	return n;
}

void console_tail_record(struct console *con, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		con->tail[con->tail_pos++] = buf[i];
		if (con->tail_pos == sizeof(con->tail)) {
			con->tail_pos = 0;
			con->tail_wrapped = true;
		}
	}
}

void console_restore(void)
{
	if (termios_saved) {
		ioctl(STDIN_FILENO, TCSETS, &saved_termios);
		termios_saved = 0;
	}
}

/* A crash must not leave the user's terminal in raw mode. */
static void fatal_signal(int sig)
{
	console_restore();
	signal(sig, SIG_DFL);
	vmm_raise(sig);
}

void console_enter_raw(void)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
	struct termios raw;

	/* fails with ENOTTY when stdin is not a terminal: nothing to change or restore */
	if (ioctl(STDIN_FILENO, TCGETS, &saved_termios) < 0)
		return;
	termios_saved = 1;
	/* raw: bytes as typed, no echo, no signals from keys (Ctrl-C goes to the guest) */
	raw = saved_termios;
	raw.c_iflag &=
		~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	raw.c_oflag &= ~(tcflag_t)OPOST;
	raw.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	raw.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
	raw.c_cflag |= CS8;
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	ioctl(STDIN_FILENO, TCSETS, &raw);
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], fatal_signal);
}

static void console_uart_output(void *ctx, const uint8_t *buf, size_t len)
{
	struct console *con = ctx;

	console_tail_record(con, buf, len);
	if (con->mode == CONSOLE_NONE)
		return;
	while (len) {
		ssize_t n = write(con->out_fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* a closed stdout loses output, not the guest */
		buf += n;
		len -= (size_t)n;
	}
}

static void uart_set_irq(void *ctx, bool level)
{
	struct console *con = ctx;

	kvm_irq_line(&con->vm->kvm, ARCH_SERIAL_IRQ, level);
}

static void uart_rx_ready(void *ctx)
{
	struct console *con = ctx;
	uint64_t one = 1;

	if (write(con->rx_ready_fd, &one, sizeof(one)) < 0) {
		/* the counter cannot overflow in practice; nothing to do */
	}
}

int console_init(struct console *con, struct vm *vm, enum console_mode mode)
{
	struct uart_host host = {
		.transmit = console_uart_output,
		.set_irq = uart_set_irq,
		.rx_ready = uart_rx_ready,
		.ctx = con,
	};

	memset(con, 0, sizeof(*con));
	con->vm = vm;
	con->mode = mode;
	con->in_fd = STDIN_FILENO;
	con->out_fd = mode == CONSOLE_LOG ? STDERR_FILENO : STDOUT_FILENO;
	con->rx_ready_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (con->rx_ready_fd < 0)
		return -errno;
	uart_init(&vm->com1, &host);
	if (mode == CONSOLE_SERIAL)
		console_enter_raw();
	return 0;
}

static void feed_pending(struct console *con)
{
	while (con->pending_off < con->pending_len) {
		/* offer no more than fits: an overflowing FIFO would report an overrun */
		size_t n = uart_rx_room(&con->vm->com1);

		if (n > con->pending_len - con->pending_off)
			n = con->pending_len - con->pending_off;
		if (n == 0)
			return; /* FIFO full: the UART calls rx_ready when the guest drains it */
		con->pending_off +=
			uart_receive(&con->vm->com1, con->pending + con->pending_off, n);
	}
	con->pending_off = con->pending_len = 0;
}

bool console_handle_input(struct console *con)
{
	uint8_t raw[sizeof(con->pending) / 2];
	ssize_t n;
	bool quit;

	n = read(con->in_fd, raw, sizeof(raw));
	if (n <= 0) {
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return true;
		con->in_pollable = false; /* end of input: the guest simply gets no more */
		return true;
	}
	con->pending_len = console_filter(&con->esc, raw, (size_t)n, con->pending, &quit);
	con->pending_off = 0;
	feed_pending(con);
	return !quit;
}

void console_handle_rx_ready(struct console *con)
{
	uint64_t count;

	if (read(con->rx_ready_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return;
	feed_pending(con);
}
