/* SPDX-License-Identifier: MIT */
/*
 * A 16550A UART: the serial port Linux uses as its console (ttyS0). Each guest access
 * to one of its eight registers is one vCPU exit, which is why it is slow and why
 * virtio exists. The model is pure: the host side (where bytes go, how the interrupt
 * line is driven) is a set of callbacks, so the unit tests can drive it directly.
 */
#ifndef DEVICES_UART_H
#define DEVICES_UART_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/bus.h"

#define UART_FIFO_SIZE 16

/* Register offsets from the base port (16550A datasheet register map). */
#define UART_RBR 0 /* read; DLL while LCR.DLAB */
#define UART_THR 0 /* write; DLL while LCR.DLAB */
#define UART_IER 1 /* DLM while LCR.DLAB */
#define UART_IIR 2 /* read */
#define UART_FCR 2 /* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5 /* read only */
#define UART_MSR 6 /* read only */
#define UART_SCR 7
#define UART_NR_REGS 8

#define UART_IER_ERBFI 0x01 /* received data available */
#define UART_IER_ETBEI 0x02 /* transmitter holding register empty */
#define UART_IER_ELSI 0x04  /* receiver line status */
#define UART_IER_EDSSI 0x08 /* modem status */

#define UART_IIR_NO_INT 0x01
#define UART_IIR_MSI 0x00
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI 0x04
#define UART_IIR_RLSI 0x06
#define UART_IIR_FIFO_ENABLED 0xc0

#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RCVR 0x02
#define UART_FCR_CLEAR_XMIT 0x04
#define UART_FCR_DMA 0x08
#define UART_FCR_TRIGGER 0xc0

#define UART_LCR_DLAB 0x80

#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08 /* gates the interrupt line on PC hardware */
#define UART_MCR_LOOP 0x10

#define UART_LSR_DR 0x01
#define UART_LSR_OE 0x02
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40

#define UART_MSR_DCTS 0x01
#define UART_MSR_DDSR 0x02
#define UART_MSR_TERI 0x04
#define UART_MSR_DDCD 0x08
#define UART_MSR_DELTAS 0x0f
#define UART_MSR_CTS 0x10
#define UART_MSR_DSR 0x20
#define UART_MSR_RI 0x40
#define UART_MSR_DCD 0x80

/*
 * Every callback is called with the uart's lock held, from whichever thread made the
 * call into the uart: it must not call back into the uart (that would deadlock).
 */
struct uart_host {
	/* bytes the guest transmitted */
	void (*transmit)(void *ctx, const uint8_t *buf, size_t len);
	/* the interrupt line changed level */
	void (*set_irq)(void *ctx, bool level);
	/* the receive FIFO has room again after being full (may be NULL) */
	void (*rx_ready)(void *ctx);
	void *ctx;
};

struct uart {
	pthread_mutex_t lock;
	struct uart_host host;
	uint8_t ier, lcr, mcr, scr, fcr;
	uint8_t dll, dlm;
	uint8_t msr;	    /* modem lines in bits 4-7, latched deltas in bits 0-3 */
	bool overrun;	    /* LSR.OE, latched until LSR is read */
	bool thr_interrupt; /* THRE interrupt pending until IIR read or THR written */
	bool irq_level;	    /* last level given to host.set_irq */
	uint8_t rx_fifo[UART_FIFO_SIZE];
	unsigned int rx_head, rx_count;
};

void uart_init(struct uart *u, const struct uart_host *host);
/* offset 0..7 from the base port */
uint8_t uart_read(struct uart *u, unsigned int offset);
void uart_write(struct uart *u, unsigned int offset, uint8_t value);
/*
 * Host input for the guest: returns how many bytes fit in the receive FIFO. Bytes that
 * do not fit are a receiver overrun (LSR.OE), as on a real line; to deliver without loss
 * send at most uart_rx_room() bytes and the rest after host.rx_ready.
 */
size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len);
/* Free room in the receive FIFO (0 while the guest has not drained it). */
size_t uart_rx_room(struct uart *u);
/*
 * Snapshots (docs/snapshot.md): the registers and the receive FIFO, as plain bytes. The
 * interrupt line is not state of its own: restore recomputes it from the registers.
 */
struct uart_state {
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm, msr;
	uint8_t overrun, thr_interrupt;
	uint8_t rx_head, rx_count;
	uint8_t rx_fifo[UART_FIFO_SIZE];
};

void uart_save(struct uart *u, struct uart_state *st);
/* Returns 0, or -EINVAL for a state no uart could be in (a FIFO index out of range). */
int uart_restore(struct uart *u, const struct uart_state *st);

/*
 * Claim the eight registers at base on bus (COM1: the port-I/O bus at PLATFORM_COM1_PORT).
 * An access wider than a byte reaches only the register at its address: a write sets it
 * from the first byte, a read returns it in the first byte and all-ones above.
 */
int uart_register(struct uart *u, struct bus *bus, uint64_t base, const char *name);

#endif
