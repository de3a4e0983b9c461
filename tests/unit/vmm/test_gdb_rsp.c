/* SPDX-License-Identifier: MIT */
/* GDB remote protocol framing and parsing: what gdb sends, and what a hostile client sends. */
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "vmm/gdb/rsp.h"

static struct gdb_rx rx;

/* Feed a whole string; return the last event that was not NONE. */
static enum gdb_rx_event feed(const char *s, size_t n)
{
	enum gdb_rx_event last = GDB_RX_NONE, e;

	for (size_t i = 0; i < n; i++)
		if ((e = gdb_rx_byte(&rx, (uint8_t)s[i])) != GDB_RX_NONE)
			last = e;
	return last;
}

#define FEED(s) feed(s, sizeof(s) - 1)

static struct gdb_cmd parse(const char *s)
{
	struct gdb_cmd cmd;

	gdb_parse((const uint8_t *)s, strlen(s), &cmd);
	return cmd;
}

START_TEST(test_rx_packets)
{
	gdb_rx_init(&rx);
	/* "g" sums to 0x67 */
	ck_assert_int_eq(FEED("+$g#67"), GDB_RX_PACKET);
	ck_assert_uint_eq(rx.len, 1);
	ck_assert_str_eq((char *)rx.buf, "g");
	ck_assert_int_eq(FEED("$g#68"), GDB_RX_BAD);
	ck_assert_int_eq(FEED("$g#6G"), GDB_RX_BAD);
	ck_assert_int_eq(FEED("\x03"), GDB_RX_INTERRUPT);
	/* Ctrl-C inside a packet is data, not an interrupt */
	ck_assert_int_eq(FEED("$\x03#03"), GDB_RX_PACKET);
	ck_assert_uint_eq(rx.buf[0], 3);
	/* "}]" is an escaped '}' (0x7d); the checksum covers the bytes as sent */
	ck_assert_int_eq(FEED("$X0,1:}]#f9"), GDB_RX_PACKET);
	ck_assert_uint_eq(rx.len, 6);
	ck_assert_uint_eq(rx.buf[5], '}');
	/* a '$' in the middle starts over: the client gave up on the first packet */
	ck_assert_int_eq(FEED("$garbage$?#3f"), GDB_RX_PACKET);
	ck_assert_str_eq((char *)rx.buf, "?");
}
END_TEST

START_TEST(test_rx_overflow_is_refused)
{
	static char big[GDB_PACKET_MAX + 64];
	uint8_t sum = 0;
	char tail[4];

	gdb_rx_init(&rx);
	big[0] = '$';
	for (size_t i = 1; i < sizeof(big); i++) {
		big[i] = 'a';
		sum += 'a';
	}
	ck_assert_int_eq(feed(big, sizeof(big)), GDB_RX_NONE);
	snprintf(tail, sizeof(tail), "#%02x", sum);
	ck_assert_int_eq(feed(tail, 3), GDB_RX_BAD);
	ck_assert_uint_le(rx.len, GDB_PACKET_MAX);
	/* and the next packet is read normally */
	ck_assert_int_eq(FEED("$g#67"), GDB_RX_PACKET);
}
END_TEST

START_TEST(test_frame_escapes)
{
	char out[64];
	size_t n = gdb_frame("a$#}*b", 6, out, sizeof(out));
	struct gdb_rx back;
	enum gdb_rx_event e = GDB_RX_NONE;

	ck_assert_uint_eq(n, 1 + 10 + 3);
	ck_assert(!memcmp(out,
			  "$a}\x04}\x03}]}\x0a"
			  "b#",
			  12));
	/* what we frame, we read back */
	gdb_rx_init(&back);
	for (size_t i = 0; i < n; i++)
		e = gdb_rx_byte(&back, (uint8_t)out[i]);
	ck_assert_int_eq(e, GDB_RX_PACKET);
	ck_assert_uint_eq(back.len, 6);
	ck_assert(!memcmp(back.buf, "a$#}*b", 6));
	ck_assert_uint_eq(gdb_frame("abc", 3, out, 6), 0); /* "$abc#xx" needs 7 */
	ck_assert_uint_eq(gdb_frame("abc", 3, out, 7), 7);
	ck_assert_uint_eq(gdb_frame("", 0, out, 4), 4);
	ck_assert(!memcmp(out, "$#00", 4));
}
END_TEST

START_TEST(test_hex)
{
	uint8_t b[4];
	char h[8];

	gdb_hex_encode("\x01\xab\xff\x00", 4, h);
	ck_assert(!memcmp(h, "01abff00", 8));
	ck_assert_int_eq(gdb_hex_decode("01ABff00", 4, b), 0);
	ck_assert(!memcmp(b, "\x01\xab\xff\x00", 4));
	ck_assert_int_eq(gdb_hex_decode("0g", 1, b), -1);
}
END_TEST

START_TEST(test_parse_commands)
{
	struct gdb_cmd c;

	ck_assert_int_eq(parse("?").kind, GDB_CMD_STOP_REASON);
	ck_assert_int_eq(parse("g").kind, GDB_CMD_READ_REGS);
	c = parse("m ffffffff81000000,40");
	ck_assert_int_eq(c.kind, GDB_CMD_MALFORMED); /* no blank allowed */
	c = parse("mffffffff81000000,40");
	ck_assert_int_eq(c.kind, GDB_CMD_READ_MEM);
	ck_assert_uint_eq(c.addr, 0xffffffff81000000ull);
	ck_assert_uint_eq(c.len, 0x40);
	c = parse("M1000,2:abcd");
	ck_assert_int_eq(c.kind, GDB_CMD_WRITE_MEM);
	ck_assert(c.hex);
	ck_assert_uint_eq(c.datalen, 4);
	c = parse("X1000,3:abc");
	ck_assert_int_eq(c.kind, GDB_CMD_WRITE_MEM);
	ck_assert(!c.hex);
	ck_assert_uint_eq(c.datalen, 3);
	c = parse("Z0,ffffffff81234560,1");
	ck_assert_int_eq(c.kind, GDB_CMD_INSERT_BP);
	ck_assert_int_eq(c.bp_type, GDB_BP_SOFTWARE);
	ck_assert_uint_eq(c.addr, 0xffffffff81234560ull);
	c = parse("z2,1000,8");
	ck_assert_int_eq(c.kind, GDB_CMD_REMOVE_BP);
	ck_assert_int_eq(c.bp_type, GDB_WATCH_WRITE);
	ck_assert_uint_eq(c.len, 8);
	c = parse("Hg2");
	ck_assert_int_eq(c.kind, GDB_CMD_SET_THREAD);
	ck_assert_int_eq(c.op, 'g');
	ck_assert_int_eq(c.thread, 2);
	c = parse("Hc-1");
	ck_assert_int_eq(c.thread, GDB_THREAD_ALL);
	ck_assert_int_eq(parse("Hc0").thread, GDB_THREAD_ANY);
	c = parse("c");
	ck_assert_int_eq(c.kind, GDB_CMD_CONTINUE);
	ck_assert(!c.has_addr);
	c = parse("s1000");
	ck_assert_int_eq(c.kind, GDB_CMD_STEP);
	ck_assert(c.has_addr);
	ck_assert_uint_eq(c.addr, 0x1000);
	c = parse("p10");
	ck_assert_int_eq(c.kind, GDB_CMD_READ_REG);
	ck_assert_uint_eq(c.reg, 16);
	c = parse("P10=0011223344556677");
	ck_assert_int_eq(c.kind, GDB_CMD_WRITE_REG);
	ck_assert_uint_eq(c.datalen, 16);
	ck_assert_int_eq(parse("qSupported:multiprocess+;swbreak+").kind, GDB_CMD_SUPPORTED);
	ck_assert_int_eq(parse("qfThreadInfo").kind, GDB_CMD_THREADS_FIRST);
	ck_assert_int_eq(parse("qsThreadInfo").kind, GDB_CMD_THREADS_NEXT);
	ck_assert_int_eq(parse("qC").kind, GDB_CMD_CURRENT_THREAD);
	ck_assert_int_eq(parse("qAttached:1").kind, GDB_CMD_ATTACHED);
	ck_assert_int_eq(parse("qTStatus").kind, GDB_CMD_UNSUPPORTED);
	ck_assert_int_eq(parse("vMustReplyEmpty").kind, GDB_CMD_UNSUPPORTED);
	ck_assert_int_eq(parse("vCont?").kind, GDB_CMD_VCONT_QUERY);
	ck_assert_int_eq(parse("T3").kind, GDB_CMD_THREAD_ALIVE);
	ck_assert_int_eq(parse("D").kind, GDB_CMD_DETACH);
	ck_assert_int_eq(parse("k").kind, GDB_CMD_KILL);
}
END_TEST

START_TEST(test_parse_vcont)
{
	struct gdb_cmd c;

	c = parse("vCont;c");
	ck_assert_int_eq(c.kind, GDB_CMD_CONTINUE);
	c = parse("vCont;s:2;c");
	ck_assert_int_eq(c.kind, GDB_CMD_STEP);
	ck_assert_int_eq(c.thread, 2);
	c = parse("vCont;c:1;S05:3");
	ck_assert_int_eq(c.kind, GDB_CMD_STEP);
	ck_assert_int_eq(c.thread, 3);
	ck_assert_int_eq(parse("vCont;").kind, GDB_CMD_MALFORMED);
	ck_assert_int_eq(parse("vCont;x").kind, GDB_CMD_MALFORMED);
	ck_assert_int_eq(parse("vCont;c:").kind, GDB_CMD_MALFORMED);
	ck_assert_int_eq(parse("vCont;c;").kind, GDB_CMD_MALFORMED);
}
END_TEST

/* Lengths and numbers beyond what fits are refused, never wrapped. */
START_TEST(test_parse_limits)
{
	ck_assert_int_eq(parse("m0,801").kind, GDB_CMD_MALFORMED); /* GDB_MEM_MAX + 1 */
	ck_assert_int_eq(parse("m0,800").kind, GDB_CMD_READ_MEM);
	ck_assert_int_eq(parse("m10000000000000000,1").kind, GDB_CMD_MALFORMED);
	ck_assert_int_eq(parse("mffffffffffffffff,1").kind, GDB_CMD_READ_MEM);
	ck_assert_int_eq(parse("m1000").kind, GDB_CMD_MALFORMED);
	ck_assert_int_eq(parse("m,4").kind, GDB_CMD_MALFORMED);
	ck_assert_int_eq(parse("M1000,2:abc").kind, GDB_CMD_MALFORMED); /* 3 digits for 2 bytes */
	ck_assert_int_eq(parse("M1000,2:abcdef").kind, GDB_CMD_MALFORMED);
	ck_assert_int_eq(parse("X1000,4:abc").kind, GDB_CMD_MALFORMED);
	ck_assert_int_eq(parse("M1000,2").kind, GDB_CMD_MALFORMED);
	ck_assert_int_eq(parse("p10000").kind, GDB_CMD_MALFORMED);
	ck_assert_int_eq(parse("Hx1").kind, GDB_CMD_MALFORMED);
	ck_assert_int_eq(parse("Hg80000000").kind, GDB_CMD_MALFORMED);
	ck_assert_int_eq(parse("Hg-2").kind, GDB_CMD_MALFORMED);
	ck_assert_int_eq(parse("Z9,1000,1").kind, GDB_CMD_UNSUPPORTED);
	ck_assert_int_eq(parse("Z0,1000,1;X1,0").kind, GDB_CMD_MALFORMED);
	ck_assert_int_eq(parse("Z0,1000").kind, GDB_CMD_MALFORMED);
	ck_assert_int_eq(parse("gx").kind, GDB_CMD_MALFORMED);
	ck_assert_int_eq(parse("").kind, GDB_CMD_UNSUPPORTED);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("gdb remote protocol");
	TCase *tc = tcase_create("rsp");

	tcase_add_test(tc, test_rx_packets);
	tcase_add_test(tc, test_rx_overflow_is_refused);
	tcase_add_test(tc, test_frame_escapes);
	tcase_add_test(tc, test_hex);
	tcase_add_test(tc, test_parse_commands);
	tcase_add_test(tc, test_parse_vcont);
	tcase_add_test(tc, test_parse_limits);
	suite_add_tcase(s, tc);
	return s;
}
