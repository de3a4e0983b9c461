/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the 16550A model (devices/uart.c): the input is a sequence of
 * guest register accesses and host input, i.e. everything a guest driver and whatever
 * is typed on the console control. After every step we check what the model promises.
 *
 * Input: a sequence of 3-byte records (op, offset, value); a short tail is ignored.
 *   op % 3 == 0  uart_write(offset % 16, value)   (offsets 8-15 must be ignored)
 *   op % 3 == 1  uart_read(offset % 16)
 *   op % 3 == 2  uart_receive() of the next value % 32 input bytes (fewer at the end)
 *
 * Invariants checked:
 *   - uart_rx_room() is at most UART_FIFO_SIZE, and moves only as each step allows;
 *   - set_irq is only called for a change of level, and a raised line needs OUT2 without
 *     loopback;
 *   - transmit gets one byte per THR write (DLAB clear, no loopback) and nothing else;
 *   - rx_ready only follows a full FIFO that now has room, at most once per step;
 *   - LSR.DR says whether the FIFO holds data, IIR holds a defined cause.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/uart.h"

#define MAX_STEPS 4096

struct host_state {
	struct uart *u;
	uint64_t tx_bytes;
	uint64_t irq_edges;
	bool level;
	unsigned int rx_ready_calls;
};

static void check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

static void host_transmit(void *ctx, const uint8_t *buf, size_t len)
{
	struct host_state *h = ctx;

	check(buf != NULL && len == 1);
	h->tx_bytes += len;
}

static void host_set_irq(void *ctx, bool level)
{
	struct host_state *h = ctx;

	check(level != h->level);
	h->level = level;
	h->irq_edges++;
}

static void host_rx_ready(void *ctx)
{
	struct host_state *h = ctx;

	/* Called with the uart's lock held: look at the struct, do not call back in. */
	check(h->u->rx_count < UART_FIFO_SIZE);
	h->rx_ready_calls++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct uart u;
	struct host_state h = { .u = &u };
	struct uart_host host = {
		.transmit = host_transmit,
		.set_irq = host_set_irq,
		.rx_ready = host_rx_ready,
		.ctx = &h,
	};
	size_t pos = 0;
	unsigned int steps = 0;

	uart_init(&u, &host);
	check(uart_rx_room(&u) == UART_FIFO_SIZE);

	while (size - pos >= 3 && steps++ < MAX_STEPS) {
		uint8_t op = data[pos], offset = data[pos + 1] % 16, value = data[pos + 2];
		size_t room = uart_rx_room(&u), room_after;
		uint64_t tx = h.tx_bytes;
		bool dlab = u.lcr & UART_LCR_DLAB, loop = u.mcr & UART_MCR_LOOP;

		pos += 3;
		h.rx_ready_calls = 0;
		check(room <= UART_FIFO_SIZE);

		switch (op % 3) {
		case 0:
			uart_write(&u, offset, value);
			room_after = uart_rx_room(&u);
			if (offset == UART_THR && !dlab && !loop)
				check(h.tx_bytes == tx + 1);
			else
				check(h.tx_bytes == tx);
			if (offset == UART_THR && !dlab && loop)
				check(room_after == (room ? room - 1 : 0));
			else if (offset == UART_FCR)
				check(room_after == room || room_after == UART_FIFO_SIZE);
			else
				check(room_after == room);
			break;
		case 1: {
			uint8_t v = uart_read(&u, offset);

			room_after = uart_rx_room(&u);
			check(h.tx_bytes == tx);
			if (offset >= UART_NR_REGS)
				check(v == 0xff);
			if (offset == UART_RBR && !dlab)
				check(room_after == (room < UART_FIFO_SIZE ? room + 1 : room));
			else
				check(room_after == room);
			if (offset == UART_LSR) {
				check((v & (UART_LSR_THRE | UART_LSR_TEMT)) ==
				      (UART_LSR_THRE | UART_LSR_TEMT));
				check(!!(v & UART_LSR_DR) == (room < UART_FIFO_SIZE));
			}
			if (offset == UART_IIR) {
				uint8_t cause = v & 0x0f;

				check((v & 0x30) == 0);
				check(cause == UART_IIR_NO_INT || cause == UART_IIR_MSI ||
				      cause == UART_IIR_THRI || cause == UART_IIR_RDI ||
				      cause == UART_IIR_RLSI);
			}
			if (offset == UART_MCR)
				check((v & ~0x1f) == 0);
			break;
		}
		default: {
			size_t len = value % 32, n;

			if (len > size - pos)
				len = size - pos;
			n = uart_receive(&u, data + pos, len);
			pos += len;
			room_after = uart_rx_room(&u);
			check(n == (len < room ? len : room));
			check(room_after == room - n);
			check(h.tx_bytes == tx);
			break;
		}
		}

		check(room_after <= UART_FIFO_SIZE);
		check(h.rx_ready_calls <= 1);
		if (h.rx_ready_calls)
			check(room == 0 && room_after > 0);
		check(h.level == u.irq_level);
		if (h.level)
			check((u.mcr & UART_MCR_OUT2) && !(u.mcr & UART_MCR_LOOP));
	}
	pthread_mutex_destroy(&u.lock);
	return 0;
}
