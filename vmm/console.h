/* SPDX-License-Identifier: MIT */
/*
 * The host side of the guest's serial console: the terminal in raw mode (restored on
 * every way out), guest output to stdout, keyboard input to the UART's receive FIFO at
 * the pace the guest drains it, and the Ctrl-A escape (Ctrl-A X quits).
 */
#ifndef VMM_CONSOLE_H
#define VMM_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/options.h"
#include "vmm/vm.h"

#define CONSOLE_ESCAPE 0x01 /* Ctrl-A */
/*
 * The guest's last console output kept for a run whose console is hidden: a Linux panic
 * with its call trace and registers is about 3 KiB, and its headline comes first.
 */
#define CONSOLE_TAIL_SIZE 8192

/* State of the escape-sequence filter; zero-initialise. */
struct console_escape {
	bool pending; /* the last byte seen was Ctrl-A */
};

/*
 * Copy in[0..len) to out (room for 2*len bytes), removing escape sequences. Sets *quit
 * when Ctrl-A X (or x) was typed; bytes after it are dropped. Returns bytes written.
 */
size_t console_filter(struct console_escape *esc, const uint8_t *in, size_t len, uint8_t *out,
		      bool *quit);

struct console {
	struct vm *vm;
	enum console_mode mode;
	int in_fd;
	int out_fd;
	int rx_ready_fd;  /* eventfd: the UART has room again */
	bool in_pollable; /* stdin can be watched with epoll */
	struct console_escape esc;
	uint8_t pending[512]; /* typed bytes the UART could not take yet */
	size_t pending_len;
	size_t pending_off;
	/* the guest's last output, for explaining a crash when the console was not shown */
	uint8_t tail[CONSOLE_TAIL_SIZE];
	size_t tail_pos;
	bool tail_wrapped;
};

/* Set up the terminal and connect the UART to it; returns 0 or -errno. */
int console_init(struct console *con, struct vm *vm, enum console_mode mode);
/* Read what the user typed and hand it on; false once the user asked to quit. */
bool console_handle_input(struct console *con);
/* Feed queued input into the UART after it signalled room. */
void console_handle_rx_ready(struct console *con);
/* Keep buf in the tail (the UART's output goes through here). */
void console_tail_record(struct console *con, const uint8_t *buf, size_t len);
/*
 * Copy the guest's last console output, oldest byte first, from the start of a line once
 * older output was dropped; returns its length.
 */
size_t console_tail(const struct console *con, uint8_t *out, size_t max);
/* Give the terminal back as it was. Safe to call more than once and from a signal handler. */
void console_restore(void);
/*
 * Put the terminal on stdin into raw mode (no echo, no line editing, keys such as Ctrl-C
 * as bytes), to be undone by console_restore(), which every way out calls; a crash signal
 * restores it too. Nothing happens when stdin is no terminal.
 */
void console_enter_raw(void);

#endif
