/* SPDX-License-Identifier: MIT */
/*
 * 16550A UART model, following the 16550A datasheet register map:
 *
 *   offset  read               write              with LCR.DLAB set
 *   0       RBR (rx buffer)    THR (tx holding)   DLL (divisor low)
 *   1       IER (int enable)   IER                DLM (divisor high)
 *   2       IIR (int ident)    FCR (FIFO control)
 *   3       LCR (line control)
 *   4       MCR (modem control)
 *   5       LSR (line status)  ignored
 *   6       MSR (modem status) ignored
 *   7       SCR (scratch)
 *
 * Transmission is instant: a byte written to THR goes straight to the host, so THR and
 * the transmitter always read as empty. Received bytes wait in a 16-byte FIFO, which is
 * kept at 16 bytes even while the guest runs the chip in 16450 (non-FIFO) mode.
 * Interrupt priority, highest first: line status, received data, THR empty, modem status.
 */
#include <errno.h>
#include <string.h>

#include "devices/uart.h"

static uint8_t uart_modem_lines(const struct uart *u)
{
	uint8_t mcr = u->mcr;

	/* Outside loopback the line looks like a connected, ready peer. */
	if (!(mcr & UART_MCR_LOOP))
		return UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
	return (mcr & UART_MCR_RTS ? UART_MSR_CTS : 0) | (mcr & UART_MCR_DTR ? UART_MSR_DSR : 0) |
	       (mcr & UART_MCR_OUT1 ? UART_MSR_RI : 0) | (mcr & UART_MCR_OUT2 ? UART_MSR_DCD : 0);
}

static void uart_update_msr(struct uart *u)
{
	uint8_t old = u->msr & ~UART_MSR_DELTAS;
	uint8_t now = uart_modem_lines(u);
	uint8_t changed = old ^ now;
	uint8_t deltas = u->msr & UART_MSR_DELTAS;

	if (changed & UART_MSR_CTS)
		deltas |= UART_MSR_DCTS;
	if (changed & UART_MSR_DSR)
		deltas |= UART_MSR_DDSR;
	if (changed & UART_MSR_DCD)
		deltas |= UART_MSR_DDCD;
	/* RI reports only its trailing edge. */
	if ((old & UART_MSR_RI) && !(now & UART_MSR_RI))
		deltas |= UART_MSR_TERI;
	u->msr = now | deltas;
}

static uint8_t uart_pending_cause(const struct uart *u)
{
	if ((u->ier & UART_IER_ELSI) && u->overrun)
		return UART_IIR_RLSI;
	if ((u->ier & UART_IER_ERBFI) && u->rx_count)
		return UART_IIR_RDI;
	if ((u->ier & UART_IER_ETBEI) && u->thr_interrupt)
		return UART_IIR_THRI;
	if ((u->ier & UART_IER_EDSSI) && (u->msr & UART_MSR_DELTAS))
		return UART_IIR_MSI;
	return UART_IIR_NO_INT;
}

static void uart_update_irq(struct uart *u)
{
	/*
	 * On a PC the chip's interrupt pin reaches the PIC only through a buffer enabled by
	 * OUT2; loopback forces the OUT pins inactive, so no interrupt leaves the chip then.
	 */
	bool gate = (u->mcr & UART_MCR_OUT2) && !(u->mcr & UART_MCR_LOOP);
	bool level = gate && uart_pending_cause(u) != UART_IIR_NO_INT;

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	if (u->host.set_irq)
		u->host.set_irq(u->host.ctx, level);
}

static bool uart_rx_push(struct uart *u, uint8_t byte)
{
	if (u->rx_count == UART_FIFO_SIZE)
		return false;
	u->rx_fifo[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = byte;
	u->rx_count++;
	return true;
}

static void uart_rx_made_room(struct uart *u, bool was_full)
{
	if (was_full && u->rx_count < UART_FIFO_SIZE && u->host.rx_ready)
		u->host.rx_ready(u->host.ctx);
}

static uint8_t uart_rx_pop(struct uart *u)
{
	bool was_full = u->rx_count == UART_FIFO_SIZE;
	uint8_t byte;

	if (!u->rx_count)
		return 0;
	byte = u->rx_fifo[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
	u->rx_count--;
	uart_rx_made_room(u, was_full);
	return byte;
}

static void uart_rx_clear(struct uart *u)
{
	bool was_full = u->rx_count == UART_FIFO_SIZE;

	u->rx_head = 0;
	u->rx_count = 0;
	uart_rx_made_room(u, was_full);
}

static void uart_transmit(struct uart *u, uint8_t byte)
{
	if (u->mcr & UART_MCR_LOOP) {
		if (!uart_rx_push(u, byte))
			u->overrun = true;
	} else if (u->host.transmit) {
		u->host.transmit(u->host.ctx, &byte, 1);
	}
	/* The byte left at once, so THR is empty again: that re-arms the THRE interrupt. */
	u->thr_interrupt = true;
}

static void uart_write_ier(struct uart *u, uint8_t value)
{
	uint8_t old = u->ier;

	u->ier = value & 0x0f;
	/* Enabling ETBEI while THR is empty (always, here) raises THRE, as the 16550 does. */
	if (!(old & UART_IER_ETBEI) && (u->ier & UART_IER_ETBEI))
		u->thr_interrupt = true;
}

static void uart_write_fcr(struct uart *u, uint8_t value)
{
	bool was_enabled = u->fcr & UART_FCR_ENABLE;

	/* Switching between FIFO and 16450 mode empties the FIFOs; other bits need FCR0 set. */
	if (!(value & UART_FCR_ENABLE)) {
		if (was_enabled)
			uart_rx_clear(u);
		u->fcr = 0;
		return;
	}
	if (!was_enabled || (value & UART_FCR_CLEAR_RCVR))
		uart_rx_clear(u);
	u->fcr = value & (UART_FCR_ENABLE | UART_FCR_DMA | UART_FCR_TRIGGER);
}

static uint8_t uart_read_iir(struct uart *u)
{
	uint8_t cause = uart_pending_cause(u);

	if (cause == UART_IIR_THRI)
		u->thr_interrupt = false;
	return cause | (u->fcr & UART_FCR_ENABLE ? UART_IIR_FIFO_ENABLED : 0);
}

static uint8_t uart_read_lsr(struct uart *u)
{
	uint8_t lsr = UART_LSR_THRE | UART_LSR_TEMT;

	if (u->rx_count)
		lsr |= UART_LSR_DR;
	if (u->overrun)
		lsr |= UART_LSR_OE;
	u->overrun = false;
	return lsr;
}

static uint8_t uart_read_msr(struct uart *u)
{
	uint8_t msr = u->msr;

	u->msr &= ~UART_MSR_DELTAS;
	return msr;
}

static uint8_t uart_read_reg(struct uart *u, unsigned int offset)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (offset) {
	case UART_RBR:
		return dlab ? u->dll : uart_rx_pop(u);
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR:
		return uart_read_iir(u);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return uart_read_lsr(u);
	case UART_MSR:
		return uart_read_msr(u);
	case UART_SCR:
		return u->scr;
	default:
		return 0xff;
	}
}

static void uart_write_reg(struct uart *u, unsigned int offset, uint8_t value)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (offset) {
	case UART_THR:
		if (dlab)
			u->dll = value;
		else
			uart_transmit(u, value);
		break;
	case UART_IER:
		if (dlab)
			u->dlm = value;
		else
			uart_write_ier(u, value);
		break;
	case UART_FCR:
		uart_write_fcr(u, value);
		break;
	case UART_LCR:
		u->lcr = value;
		break;
	case UART_MCR:
		u->mcr = value & 0x1f;
		uart_update_msr(u);
		break;
	case UART_SCR:
		u->scr = value;
		break;
	default:
		break;
	}
}

void uart_init(struct uart *u, const struct uart_host *host)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
	if (host)
		u->host = *host;
	u->dll = 1;
	u->msr = uart_modem_lines(u);
}

uint8_t uart_read(struct uart *u, unsigned int offset)
{
	uint8_t value;

	pthread_mutex_lock(&u->lock);
	value = uart_read_reg(u, offset);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return value;
}

void uart_write(struct uart *u, unsigned int offset, uint8_t value)
{
	pthread_mutex_lock(&u->lock);
	uart_write_reg(u, offset, value);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&u->lock);
	while (n < len && uart_rx_push(u, buf[n]))
		n++;
	if (n < len)
		u->overrun = true;
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

size_t uart_rx_room(struct uart *u)
{
	size_t room;

	pthread_mutex_lock(&u->lock);
	room = UART_FIFO_SIZE - u->rx_count;
	pthread_mutex_unlock(&u->lock);
	return room;
}

void uart_save(struct uart *u, struct uart_state *st)
{
	pthread_mutex_lock(&u->lock);
	*st = (struct uart_state){
		.ier = u->ier,
		.lcr = u->lcr,
		.mcr = u->mcr,
		.scr = u->scr,
		.fcr = u->fcr,
		.dll = u->dll,
		.dlm = u->dlm,
		.msr = u->msr,
		.overrun = u->overrun,
		.thr_interrupt = u->thr_interrupt,
		.rx_head = (uint8_t)u->rx_head,
		.rx_count = (uint8_t)u->rx_count,
	};
	memcpy(st->rx_fifo, u->rx_fifo, sizeof(st->rx_fifo));
	pthread_mutex_unlock(&u->lock);
}

int uart_restore(struct uart *u, const struct uart_state *st)
{
	if (st->rx_head >= UART_FIFO_SIZE || st->rx_count > UART_FIFO_SIZE)
		return -EINVAL;
	pthread_mutex_lock(&u->lock);
	u->ier = st->ier & 0x0f; /* the bits a guest write could set */
	u->lcr = st->lcr;
	u->mcr = st->mcr & 0x1f;
	u->scr = st->scr;
	u->fcr = st->fcr;
	u->dll = st->dll;
	u->dlm = st->dlm;
	u->msr = st->msr;
	u->overrun = st->overrun;
	u->thr_interrupt = st->thr_interrupt;
	u->rx_head = st->rx_head;
	u->rx_count = st->rx_count;
	memcpy(u->rx_fifo, st->rx_fifo, sizeof(u->rx_fifo));
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return 0;
}

static void uart_bus_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	memset(data, 0xff, len);
	*(uint8_t *)data = uart_read(opaque, (unsigned int)offset);
}

static void uart_bus_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	(void)len; /* byte registers: a wider write only sets the first */
	uart_write(opaque, (unsigned int)offset, *(const uint8_t *)data);
}

static const struct bus_device_ops uart_bus_ops = { uart_bus_read, uart_bus_write };

int uart_register(struct uart *u, struct bus *bus, uint64_t base, const char *name)
{
	return bus_register(bus, base, UART_NR_REGS, &uart_bus_ops, u, name);
}
