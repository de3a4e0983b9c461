/* SPDX-License-Identifier: MIT */
/* 16550A model: what a guest driver (Linux's 8250) and the host side can observe. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "check_main.h"
#include "devices/uart.h"

struct host_log {
	uint8_t tx[8192];
	size_t tx_len;
	bool irq;
	unsigned int irq_edges;
	unsigned int irq_repeats; /* set_irq calls that did not change the level */
	unsigned int rx_ready_calls;
};

static struct host_log hl;
static struct uart uart;

static void log_transmit(void *ctx, const uint8_t *buf, size_t len)
{
	struct host_log *l = ctx;

	for (size_t i = 0; i < len; i++)
		l->tx[l->tx_len++ % sizeof(l->tx)] = buf[i];
}

static void log_set_irq(void *ctx, bool level)
{
	struct host_log *l = ctx;

	if (level == l->irq)
		l->irq_repeats++;
	l->irq = level;
	l->irq_edges++;
}

static void log_rx_ready(void *ctx)
{
	struct host_log *l = ctx;

	l->rx_ready_calls++;
}

static void setup(void)
{
	const struct uart_host host = {
		.transmit = log_transmit,
		.set_irq = log_set_irq,
		.rx_ready = log_rx_ready,
		.ctx = &hl,
	};

	memset(&hl, 0, sizeof(hl));
	uart_init(&uart, &host);
}

static void teardown(void)
{
	ck_assert_uint_eq(hl.irq_repeats, 0);
	pthread_mutex_destroy(&uart.lock);
}

static void put_string(const char *s)
{
	while (*s)
		uart_write(&uart, UART_THR, (uint8_t)*s++);
}

static size_t receive_string(const char *s)
{
	return uart_receive(&uart, (const uint8_t *)s, strlen(s));
}

START_TEST(test_transmit_in_order)
{
	put_string("hello, world\n");
	ck_assert_uint_eq(hl.tx_len, 13);
	ck_assert_mem_eq(hl.tx, "hello, world\n", 13);
	ck_assert_uint_eq(hl.irq_edges, 0);
}
END_TEST

START_TEST(test_divisor_latch)
{
	uart_write(&uart, UART_LCR, UART_LCR_DLAB | 0x03);
	uart_write(&uart, 0, 0x0c);
	uart_write(&uart, 1, 0x02);
	ck_assert_uint_eq(hl.tx_len, 0);
	ck_assert_uint_eq(uart_read(&uart, 0), 0x0c);
	ck_assert_uint_eq(uart_read(&uart, 1), 0x02);
	ck_assert_uint_eq(uart_read(&uart, UART_LCR), UART_LCR_DLAB | 0x03);

	uart_write(&uart, UART_LCR, 0x03);
	ck_assert_uint_eq(uart_read(&uart, UART_IER), 0);
	uart_write(&uart, UART_THR, 'x');
	ck_assert_uint_eq(hl.tx_len, 1);
	ck_assert_uint_eq(hl.tx[0], 'x');

	/* The latch kept its value while DLAB was clear. */
	uart_write(&uart, UART_LCR, UART_LCR_DLAB);
	ck_assert_uint_eq(uart_read(&uart, 0), 0x0c);
	ck_assert_uint_eq(uart_read(&uart, 1), 0x02);
}
END_TEST

START_TEST(test_thre_interrupt_fifo)
{
	uart_write(&uart, UART_FCR, UART_FCR_ENABLE);
	uart_write(&uart, UART_MCR, UART_MCR_OUT2 | UART_MCR_RTS | UART_MCR_DTR);
	ck_assert(!hl.irq);
	ck_assert_uint_eq(uart_read(&uart, UART_IIR), 0xc1);

	uart_write(&uart, UART_IER, UART_IER_ETBEI);
	ck_assert(hl.irq);
	ck_assert_uint_eq(uart_read(&uart, UART_IIR), 0xc2);
	ck_assert(!hl.irq);
	ck_assert_uint_eq(uart_read(&uart, UART_IIR), 0xc1);

	/* Each transmitted byte leaves at once and THR empties again. */
	for (int i = 0; i < 3; i++) {
		uart_write(&uart, UART_THR, (uint8_t)('a' + i));
		ck_assert(hl.irq);
		ck_assert_uint_eq(uart_read(&uart, UART_IIR), 0xc2);
		ck_assert(!hl.irq);
	}
	ck_assert_uint_eq(hl.tx_len, 3);
	ck_assert_mem_eq(hl.tx, "abc", 3);
}
END_TEST

START_TEST(test_thre_interrupt_no_fifo)
{
	uart_write(&uart, UART_MCR, UART_MCR_OUT2);
	uart_write(&uart, UART_IER, UART_IER_ETBEI);
	ck_assert(hl.irq);
	ck_assert_uint_eq(uart_read(&uart, UART_IIR), 0x02);
	ck_assert(!hl.irq);
	ck_assert_uint_eq(uart_read(&uart, UART_IIR), 0x01);
	uart_write(&uart, UART_THR, 'z');
	ck_assert(hl.irq);
}
END_TEST

/* The sequence serial8250_do_startup() uses to decide whether THRE is re-asserted. */
START_TEST(test_thre_reasserted_when_reenabled)
{
	uart_write(&uart, UART_MCR, UART_MCR_OUT2);
	uart_write(&uart, UART_IER, UART_IER_ETBEI);
	ck_assert_uint_eq(uart_read(&uart, UART_IIR) & 0x0f, UART_IIR_THRI);
	uart_write(&uart, UART_IER, 0);
	uart_write(&uart, UART_IER, UART_IER_ETBEI);
	ck_assert(hl.irq);
	ck_assert_uint_eq(uart_read(&uart, UART_IIR) & 0x0f, UART_IIR_THRI);
	uart_write(&uart, UART_IER, 0);
	ck_assert(!hl.irq);
}
END_TEST

/* The 8250 TXEN probe reads LSR before IIR: that must not consume the THRE interrupt. */
START_TEST(test_lsr_read_keeps_thre_interrupt)
{
	uart_write(&uart, UART_IER, UART_IER_ETBEI);
	ck_assert_uint_eq(uart_read(&uart, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	ck_assert_uint_eq(uart_read(&uart, UART_IIR), UART_IIR_THRI);
}
END_TEST

START_TEST(test_irq_gated_by_out2)
{
	uart_write(&uart, UART_IER, UART_IER_ETBEI);
	ck_assert_uint_eq(hl.irq_edges, 0);

	uart_write(&uart, UART_MCR, UART_MCR_OUT2);
	ck_assert(hl.irq);
	uart_write(&uart, UART_MCR, 0);
	ck_assert(!hl.irq);
	/* Still pending inside the chip: IIR reports it with the line gated off. */
	ck_assert_uint_eq(uart_read(&uart, UART_IIR), UART_IIR_THRI);
	ck_assert_uint_eq(hl.irq_edges, 2);
}
END_TEST

START_TEST(test_rx_data_available)
{
	uart_write(&uart, UART_FCR, UART_FCR_ENABLE);
	uart_write(&uart, UART_MCR, UART_MCR_OUT2);
	uart_write(&uart, UART_IER, UART_IER_ERBFI);
	ck_assert(!hl.irq);
	ck_assert_uint_eq(uart_read(&uart, UART_LSR) & UART_LSR_DR, 0);

	ck_assert_uint_eq(receive_string("ab"), 2);
	ck_assert(hl.irq);
	ck_assert_uint_eq(uart_read(&uart, UART_IIR), 0xc4);
	ck_assert(hl.irq); /* reading IIR does not clear data available */
	ck_assert_uint_eq(uart_read(&uart, UART_LSR) & UART_LSR_DR, UART_LSR_DR);
	ck_assert_uint_eq(uart_read(&uart, UART_RBR), 'a');
	ck_assert(hl.irq);
	ck_assert_uint_eq(uart_read(&uart, UART_RBR), 'b');
	ck_assert(!hl.irq);
	ck_assert_uint_eq(uart_read(&uart, UART_LSR) & UART_LSR_DR, 0);
	ck_assert_uint_eq(uart_read(&uart, UART_IIR), 0xc1);
}
END_TEST

START_TEST(test_interrupt_priority)
{
	uart_write(&uart, UART_MCR, UART_MCR_OUT2);
	uart_write(&uart, UART_IER, UART_IER_ERBFI | UART_IER_ETBEI | UART_IER_ELSI);
	ck_assert_uint_eq(uart_receive(&uart, (const uint8_t *)"0123456789abcdefXY", 18), 16);

	ck_assert_uint_eq(uart_read(&uart, UART_IIR), UART_IIR_RLSI);
	ck_assert_uint_eq(uart_read(&uart, UART_IIR), UART_IIR_RLSI);
	ck_assert_uint_eq(uart_read(&uart, UART_LSR) & UART_LSR_OE, UART_LSR_OE);
	ck_assert_uint_eq(uart_read(&uart, UART_IIR), UART_IIR_RDI);
	for (int i = 0; i < 16; i++)
		ck_assert(hl.irq && uart_read(&uart, UART_RBR) == "0123456789abcdef"[i]);
	/* THRE was pending underneath all along. */
	ck_assert(hl.irq);
	ck_assert_uint_eq(uart_read(&uart, UART_IIR), UART_IIR_THRI);
	ck_assert(!hl.irq);
}
END_TEST

START_TEST(test_rx_overflow_sets_oe)
{
	const uint8_t buf[20] = "0123456789abcdefghij";

	ck_assert_uint_eq(uart_rx_room(&uart), UART_FIFO_SIZE);
	ck_assert_uint_eq(uart_receive(&uart, buf, 10), 10);
	ck_assert_uint_eq(uart_rx_room(&uart), 6);
	ck_assert_uint_eq(uart_read(&uart, UART_LSR) & UART_LSR_OE, 0);
	ck_assert_uint_eq(uart_receive(&uart, buf + 10, 10), 6);
	ck_assert_uint_eq(uart_rx_room(&uart), 0);
	ck_assert_uint_eq(uart_receive(&uart, buf, 1), 0);

	ck_assert_uint_eq(uart_read(&uart, UART_LSR),
			  UART_LSR_THRE | UART_LSR_TEMT | UART_LSR_OE | UART_LSR_DR);
	ck_assert_uint_eq(uart_read(&uart, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT | UART_LSR_DR);
	/* The bytes that fit are intact and in order. */
	for (int i = 0; i < 16; i++)
		ck_assert_uint_eq(uart_read(&uart, UART_RBR), buf[i]);
	ck_assert_uint_eq(uart_rx_room(&uart), UART_FIFO_SIZE);
	ck_assert_uint_eq(uart_receive(&uart, buf, 0), 0);
	ck_assert_uint_eq(uart_read(&uart, UART_LSR) & UART_LSR_OE, 0);
}
END_TEST

START_TEST(test_rx_ready_after_full)
{
	uint8_t buf[UART_FIFO_SIZE];

	memset(buf, 'q', sizeof(buf));
	ck_assert_uint_eq(uart_receive(&uart, buf, 8), 8);
	uart_read(&uart, UART_RBR);
	ck_assert_uint_eq(hl.rx_ready_calls, 0); /* never full: nothing to announce */

	ck_assert_uint_eq(uart_receive(&uart, buf, sizeof(buf)), 9);
	ck_assert_uint_eq(uart_rx_room(&uart), 0);
	uart_read(&uart, UART_RBR);
	ck_assert_uint_eq(hl.rx_ready_calls, 1);
	ck_assert_uint_eq(uart_rx_room(&uart), 1);
	uart_read(&uart, UART_RBR);
	ck_assert_uint_eq(hl.rx_ready_calls, 1);

	/* Emptying a full FIFO with an FCR reset counts as making room too. */
	ck_assert_uint_eq(uart_receive(&uart, buf, 2), 2);
	uart_write(&uart, UART_FCR, UART_FCR_ENABLE);
	ck_assert_uint_eq(uart_rx_room(&uart), UART_FIFO_SIZE);
	ck_assert_uint_eq(hl.rx_ready_calls, 2);
}
END_TEST

START_TEST(test_rx_ready_may_be_null)
{
	const struct uart_host host = { .transmit = log_transmit, .ctx = &hl };
	uint8_t buf[UART_FIFO_SIZE] = { 0 };

	uart_init(&uart, &host);
	ck_assert_uint_eq(uart_receive(&uart, buf, sizeof(buf)), UART_FIFO_SIZE);
	uart_write(&uart, UART_MCR, UART_MCR_OUT2);
	uart_write(&uart, UART_IER, 0x0f);
	uart_read(&uart, UART_RBR);
	put_string("ok");
	ck_assert_mem_eq(hl.tx, "ok", 2);
}
END_TEST

START_TEST(test_fcr)
{
	ck_assert_uint_eq(uart_read(&uart, UART_IIR) & 0xc0, 0);
	uart_write(&uart, UART_FCR, UART_FCR_ENABLE | UART_FCR_TRIGGER);
	ck_assert_uint_eq(uart_read(&uart, UART_IIR) & 0xc0, 0xc0);
	ck_assert_uint_eq(uart.fcr & UART_FCR_TRIGGER, UART_FCR_TRIGGER);

	receive_string("abc");
	uart_write(&uart, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_XMIT);
	ck_assert_uint_eq(uart_rx_room(&uart), UART_FIFO_SIZE - 3);
	uart_write(&uart, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RCVR);
	ck_assert_uint_eq(uart_rx_room(&uart), UART_FIFO_SIZE);
	ck_assert_uint_eq(uart_read(&uart, UART_LSR) & UART_LSR_DR, 0);

	receive_string("abc");
	uart_write(&uart, UART_FCR, 0);
	ck_assert_uint_eq(uart_rx_room(&uart), UART_FIFO_SIZE);
	ck_assert_uint_eq(uart_read(&uart, UART_IIR), UART_IIR_NO_INT);
}
END_TEST

START_TEST(test_loopback)
{
	uart_write(&uart, UART_MCR, UART_MCR_LOOP);
	put_string("echo");
	ck_assert_uint_eq(hl.tx_len, 0);
	ck_assert_uint_eq(uart_read(&uart, UART_LSR) & UART_LSR_DR, UART_LSR_DR);
	for (int i = 0; i < 4; i++)
		ck_assert_uint_eq(uart_read(&uart, UART_RBR), "echo"[i]);
	ck_assert_uint_eq(uart_read(&uart, UART_LSR) & UART_LSR_DR, 0);

	uart_write(&uart, UART_MCR, 0);
	put_string("out");
	ck_assert_uint_eq(hl.tx_len, 3);
	ck_assert_uint_eq(uart_rx_room(&uart), UART_FIFO_SIZE);
}
END_TEST

/* The check 8250 autoconfig makes: MCR = LOOP | OUT2 | RTS must read back as DCD | CTS. */
START_TEST(test_loopback_modem_lines)
{
	ck_assert_uint_eq(uart_read(&uart, UART_MSR) & 0xf0, 0xb0);
	uart_write(&uart, UART_MCR, UART_MCR_LOOP | 0x0a);
	ck_assert_uint_eq(uart_read(&uart, UART_MSR) & 0xf0, 0x90);
	uart_write(&uart, UART_MCR, UART_MCR_LOOP | UART_MCR_DTR | UART_MCR_OUT1);
	ck_assert_uint_eq(uart_read(&uart, UART_MSR) & 0xf0, UART_MSR_DSR | UART_MSR_RI);
	uart_write(&uart, UART_MCR, 0);
	ck_assert_uint_eq(uart_read(&uart, UART_MSR) & 0xf0, 0xb0);
}
END_TEST

START_TEST(test_modem_status_deltas)
{
	uart_write(&uart, UART_IER, UART_IER_EDSSI);
	ck_assert_uint_eq(uart_read(&uart, UART_IIR), UART_IIR_NO_INT);
	uart_write(&uart, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1);
	ck_assert_uint_eq(uart_read(&uart, UART_IIR), UART_IIR_MSI);
	ck_assert_uint_eq(uart_read(&uart, UART_MSR),
			  UART_MSR_RI | UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_DDCD);
	ck_assert_uint_eq(uart_read(&uart, UART_MSR), UART_MSR_RI);
	ck_assert_uint_eq(uart_read(&uart, UART_IIR), UART_IIR_NO_INT);

	/* RI reports its trailing edge only. */
	uart_write(&uart, UART_MCR, UART_MCR_LOOP);
	ck_assert_uint_eq(uart_read(&uart, UART_MSR), UART_MSR_TERI);
	uart_write(&uart, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1);
	ck_assert_uint_eq(uart_read(&uart, UART_MSR), UART_MSR_RI);
	/* Loopback keeps the interrupt inside the chip. */
	ck_assert_uint_eq(hl.irq_edges, 0);
}
END_TEST

START_TEST(test_scratch_register)
{
	for (unsigned int v = 0; v < 256; v++) {
		uart_write(&uart, UART_SCR, (uint8_t)v);
		ck_assert_uint_eq(uart_read(&uart, UART_SCR), v);
	}
	ck_assert_uint_eq(hl.tx_len, 0);
}
END_TEST

START_TEST(test_register_readback)
{
	uart_write(&uart, UART_IER, 0xff);
	ck_assert_uint_eq(uart_read(&uart, UART_IER), 0x0f);
	uart_write(&uart, UART_MCR, 0xff);
	ck_assert_uint_eq(uart_read(&uart, UART_MCR), 0x1f);
	uart_write(&uart, UART_LCR, 0x5b);
	ck_assert_uint_eq(uart_read(&uart, UART_LCR), 0x5b);

	uart_write(&uart, UART_LSR, 0x00);
	uart_write(&uart, UART_MSR, 0xff);
	ck_assert_uint_eq(uart_read(&uart, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	ck_assert_uint_eq(uart_read(&uart, 8), 0xff);
	ck_assert_uint_eq(uart_read(&uart, 0xffffffffu), 0xff);
	uart_write(&uart, 8, 'x');
	ck_assert_uint_eq(hl.tx_len, 0);
}
END_TEST

START_TEST(test_garbage_then_transmit)
{
	for (unsigned int off = 0; off < 10; off++) {
		for (unsigned int v = 0; v < 256; v++) {
			uart_write(&uart, off, (uint8_t)v);
			uart_read(&uart, (off * 7 + v) % 10);
			if (v % 5 == 0)
				receive_string("garbage in");
		}
	}
	uart_write(&uart, UART_LCR, 0x03);
	uart_write(&uart, UART_MCR, UART_MCR_OUT2);
	uart_write(&uart, UART_IER, 0);
	hl.tx_len = 0;
	put_string("still alive");
	ck_assert_uint_eq(hl.tx_len, 11);
	ck_assert_mem_eq(hl.tx, "still alive", 11);
	ck_assert(!hl.irq);
}
END_TEST

struct rx_thread_arg {
	unsigned int total;
};

static void *rx_producer(void *p)
{
	struct rx_thread_arg *arg = p;
	unsigned int sent = 0;

	while (sent < arg->total) {
		uint8_t byte = (uint8_t)sent;

		if (uart_rx_room(&uart) && uart_receive(&uart, &byte, 1) == 1)
			sent++;
		else
			sched_yield();
	}
	return NULL;
}

/* uart_receive from a host thread while the "vCPU" drains RBR: no byte lost or reordered. */
START_TEST(test_concurrent_receive)
{
	struct rx_thread_arg arg = { .total = 20000 };
	unsigned int got = 0;
	pthread_t thread;

	uart_write(&uart, UART_MCR, UART_MCR_OUT2);
	uart_write(&uart, UART_IER, UART_IER_ERBFI);
	ck_assert_int_eq(pthread_create(&thread, NULL, rx_producer, &arg), 0);
	while (got < arg.total) {
		if (uart_read(&uart, UART_LSR) & UART_LSR_DR)
			ck_assert_uint_eq(uart_read(&uart, UART_RBR), (uint8_t)got++);
		else
			sched_yield();
	}
	pthread_join(thread, NULL);
	ck_assert_uint_eq(uart_read(&uart, UART_LSR) & (UART_LSR_OE | UART_LSR_DR), 0);
	ck_assert(!hl.irq);
}
END_TEST

START_TEST(test_bus_registration)
{
	struct bus bus;
	uint8_t wide[4];
	uint8_t byte = 'x';

	bus_init(&bus, "test");
	ck_assert_int_eq(uart_register(&uart, &bus, 0x3f8, "com1"), 0);
	bus_seal(&bus);
	ck_assert(bus_write(&bus, 0x3f8 + UART_THR, &byte, 1));
	ck_assert_uint_eq(hl.tx_len, 1);
	ck_assert_uint_eq(hl.tx[0], 'x');
	/* a wide read gets the register in its first byte and all-ones above */
	uart_write(&uart, UART_SCR, 0x5a);
	ck_assert(bus_read(&bus, 0x3f8 + UART_SCR, wide, 1));
	ck_assert_uint_eq(wide[0], 0x5a);
	uart_write(&uart, UART_LCR, 0x03);
	ck_assert(bus_read(&bus, 0x3f8 + UART_LCR, wide, sizeof(wide)));
	ck_assert_uint_eq(wide[0], 0x03);
	ck_assert_uint_eq(wide[1] & wide[2] & wide[3], 0xff);
	/* eight registers, no more */
	ck_assert(!bus_read(&bus, 0x3f8 + UART_NR_REGS, wide, 1));
}
END_TEST

/*
 * Snapshots: a second uart restored from the first's state reads back the same registers
 * and FIFO, and drives its interrupt line as the first did.
 */
START_TEST(test_save_restore)
{
	struct host_log hl2 = { 0 };
	const struct uart_host host2 = { .transmit = log_transmit,
					 .set_irq = log_set_irq,
					 .ctx = &hl2 };
	struct uart copy;
	struct uart_state st;

	uart_write(&uart, UART_LCR, UART_LCR_DLAB);
	uart_write(&uart, UART_RBR, 0x0c);
	uart_write(&uart, UART_LCR, 0x03);
	uart_write(&uart, UART_SCR, 0x5a);
	uart_write(&uart, UART_MCR, UART_MCR_OUT2 | UART_MCR_DTR);
	uart_write(&uart, UART_IER, UART_IER_ERBFI);
	ck_assert_uint_eq(receive_string("xyz"), 3);
	ck_assert(hl.irq);
	ck_assert_uint_eq(uart_read(&uart, UART_RBR), 'x'); /* the FIFO's head moves on */
	uart_save(&uart, &st);

	uart_init(&copy, &host2);
	ck_assert_int_eq(uart_restore(&copy, &st), 0);
	ck_assert(hl2.irq); /* received data pending: the line is up at once */
	ck_assert_uint_eq(uart_read(&copy, UART_SCR), 0x5a);
	ck_assert_uint_eq(uart_read(&copy, UART_LCR), 0x03);
	ck_assert_uint_eq(uart_read(&copy, UART_RBR), 'y');
	ck_assert_uint_eq(uart_read(&copy, UART_RBR), 'z');
	ck_assert(!(uart_read(&copy, UART_LSR) & UART_LSR_DR));
	ck_assert(!hl2.irq);
	pthread_mutex_destroy(&copy.lock);

	/* a state no uart can be in is refused and changes nothing */
	st.rx_count = UART_FIFO_SIZE + 1;
	ck_assert_int_eq(uart_restore(&uart, &st), -EINVAL);
	st.rx_count = 1;
	st.rx_head = UART_FIFO_SIZE;
	ck_assert_int_eq(uart_restore(&uart, &st), -EINVAL);
	ck_assert_uint_eq(uart_read(&uart, UART_RBR), 'y');
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("uart");
	TCase *tc = tcase_create("16550a");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_transmit_in_order);
	tcase_add_test(tc, test_divisor_latch);
	tcase_add_test(tc, test_thre_interrupt_fifo);
	tcase_add_test(tc, test_thre_interrupt_no_fifo);
	tcase_add_test(tc, test_thre_reasserted_when_reenabled);
	tcase_add_test(tc, test_lsr_read_keeps_thre_interrupt);
	tcase_add_test(tc, test_irq_gated_by_out2);
	tcase_add_test(tc, test_rx_data_available);
	tcase_add_test(tc, test_interrupt_priority);
	tcase_add_test(tc, test_rx_overflow_sets_oe);
	tcase_add_test(tc, test_rx_ready_after_full);
	tcase_add_test(tc, test_rx_ready_may_be_null);
	tcase_add_test(tc, test_fcr);
	tcase_add_test(tc, test_loopback);
	tcase_add_test(tc, test_loopback_modem_lines);
	tcase_add_test(tc, test_save_restore);
	tcase_add_test(tc, test_modem_status_deltas);
	tcase_add_test(tc, test_scratch_register);
	tcase_add_test(tc, test_register_readback);
	tcase_add_test(tc, test_garbage_then_transmit);
	tcase_add_test(tc, test_concurrent_receive);
	tcase_add_test(tc, test_bus_registration);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}
