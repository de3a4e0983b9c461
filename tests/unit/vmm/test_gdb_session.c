/* SPDX-License-Identifier: MIT */
/*
 * A gdb session against a fake target: what each command does to registers, memory,
 * breakpoints and the run state, and that bad commands change nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "vmm/gdb/session.h"

#define MEM_BASE 0x1000
#define MEM_SIZE 0x1000
#define NCPUS 2

static struct {
	uint8_t mem[MEM_SIZE];
	uint8_t regs[NCPUS][16];
	unsigned int resumes, detaches, interrupts, kills;
	int step_cpu;
	struct gdb_debug_state debug;
} t;

static struct gdb_session s;
static char out[GDB_REPLY_MAX + 1];

static int fake_read_regs(void *target, unsigned int cpu, uint8_t *o, size_t cap)
{
	(void)target;
	ck_assert_uint_lt(cpu, NCPUS);
	ck_assert_uint_ge(cap, 16);
	memcpy(o, t.regs[cpu], 16);
	return 16;
}

static int fake_write_regs(void *target, unsigned int cpu, const uint8_t *in, size_t len)
{
	(void)target;
	if (len != 16)
		return -EINVAL;
	memcpy(t.regs[cpu], in, 16);
	return 0;
}

static int fake_read_mem(void *target, unsigned int cpu, uint64_t addr, void *buf, size_t len)
{
	(void)target;
	(void)cpu;
	if (addr < MEM_BASE || addr - MEM_BASE > MEM_SIZE || len > MEM_SIZE - (addr - MEM_BASE))
		return -EFAULT;
	memcpy(buf, t.mem + (addr - MEM_BASE), len);
	return 0;
}

static int fake_write_mem(void *target, unsigned int cpu, uint64_t addr, const void *buf,
			  size_t len)
{
	(void)target;
	(void)cpu;
	if (addr < MEM_BASE || addr - MEM_BASE > MEM_SIZE || len > MEM_SIZE - (addr - MEM_BASE))
		return -EFAULT;
	memcpy(t.mem + (addr - MEM_BASE), buf, len);
	return 0;
}

static void fake_resume(void *target, const struct gdb_debug_state *d, int step_cpu)
{
	(void)target;
	t.resumes++;
	t.step_cpu = step_cpu;
	t.debug = *d;
}

static void fake_detach(void *target, const struct gdb_debug_state *d)
{
	(void)target;
	t.detaches++;
	t.debug = *d;
}

static void fake_interrupt(void *target)
{
	(void)target;
	t.interrupts++;
}

static void fake_kill(void *target)
{
	(void)target;
	t.kills++;
}

static const struct gdb_target_ops fake_ops = {
	.read_regs = fake_read_regs,
	.write_regs = fake_write_regs,
	.read_mem = fake_read_mem,
	.write_mem = fake_write_mem,
	.resume = fake_resume,
	.detach = fake_detach,
	.interrupt = fake_interrupt,
	.kill = fake_kill,
};

/* Send one packet; the reply as a string, or NULL for "no reply now". */
static const char *send(const char *pkt)
{
	int n = gdb_session_packet(&s, (const uint8_t *)pkt, strlen(pkt), out);

	if (n < 0)
		return NULL;
	ck_assert_int_le(n, GDB_REPLY_MAX);
	out[n] = 0;
	return out;
}

static void setup(void)
{
	memset(&t, 0, sizeof(t));
	for (unsigned int i = 0; i < MEM_SIZE; i++)
		t.mem[i] = (uint8_t)i;
	for (unsigned int c = 0; c < NCPUS; c++)
		memset(t.regs[c], 0x10 + c, 16);
	gdb_session_init(&s, &fake_ops, NULL, NCPUS, 1);
}

START_TEST(test_handshake_and_threads)
{
	ck_assert_str_eq(send("qSupported:multiprocess+;swbreak+"), "PacketSize=1000");
	ck_assert_str_eq(send("?"), "T02thread:2;"); /* stopped for the client: SIGINT */
	ck_assert_str_eq(send("qC"), "QC2");
	ck_assert_str_eq(send("qfThreadInfo"), "m1,2");
	ck_assert_str_eq(send("qsThreadInfo"), "l");
	ck_assert_str_eq(send("qAttached"), "1");
	ck_assert_str_eq(send("vMustReplyEmpty"), "");
	ck_assert_str_eq(send("T2"), "OK");
	ck_assert_str_eq(send("T3"), "E03");
	ck_assert_str_eq(send("T0"), "E03");
	ck_assert_str_eq(send("vCont?"), "vCont;c;C;s;S");
}
END_TEST

START_TEST(test_registers)
{
	ck_assert_str_eq(send("g"), "11111111111111111111111111111111");
	ck_assert_str_eq(send("Hg1"), "OK");
	ck_assert_str_eq(send("g"), "10101010101010101010101010101010");
	ck_assert_str_eq(send("G000102030405060708090a0b0c0d0e0f"), "OK");
	ck_assert_uint_eq(t.regs[0][15], 0x0f);
	ck_assert_uint_eq(t.regs[1][0], 0x11);	     /* the other vCPU untouched */
	ck_assert_str_eq(send("G0001"), "E16");	     /* the target refuses a short set */
	ck_assert_str_eq(send("G000"), "E16");	     /* odd digits */
	ck_assert_str_eq(send("G0x"), "E16");	     /* not hex */
	ck_assert_str_eq(send("Hg3"), "E16");	     /* no such vCPU */
	ck_assert_str_eq(send("Hg80000000"), "E16"); /* malformed */
	ck_assert_uint_eq(t.regs[0][15], 0x0f);
	ck_assert_str_eq(send("p0"), ""); /* gdb falls back to 'g' */
}
END_TEST

START_TEST(test_memory)
{
	ck_assert_str_eq(send("m1010,4"), "10111213");
	ck_assert_str_eq(send("M1010,2:abcd"), "OK");
	ck_assert_uint_eq(t.mem[0x10], 0xab);
	ck_assert_str_eq(send("X1012,2:}]}\x03"), "E16"); /* escapes are the receiver's job */
	ck_assert_str_eq(send("X1012,2:\x7d\x23"), "OK");
	ck_assert_uint_eq(t.mem[0x12], 0x7d);
	ck_assert_str_eq(send("m0,4"), "E0e");	  /* not mapped: EFAULT */
	ck_assert_str_eq(send("m1ffe,4"), "E0e"); /* runs off the end */
	ck_assert_str_eq(send("M1010,2:zz00"), "E16");
	ck_assert_uint_eq(t.mem[0x10], 0xab);
	ck_assert_str_eq(send("m1000,801"), "E16"); /* larger than one reply */
}
END_TEST

START_TEST(test_software_breakpoints)
{
	ck_assert_str_eq(send("Z0,1020,1"), "OK");
	ck_assert_uint_eq(t.mem[0x20], 0xcc);
	ck_assert(gdb_session_owns_breakpoint(&s, 0x1020));
	ck_assert(!gdb_session_owns_breakpoint(&s, 0x1021));
	ck_assert_str_eq(send("Z0,1020,1"), "OK");   /* twice: still one, same saved byte */
	ck_assert_str_eq(send("m101f,3"), "1f2021"); /* reads show the guest's byte */
	ck_assert_str_eq(send("M1020,1:55"), "OK");  /* a write under it keeps the int3 */
	ck_assert_uint_eq(t.mem[0x20], 0xcc);
	ck_assert_ptr_null(send("c"));
	ck_assert(t.debug.sw_breakpoints);
	ck_assert_int_eq(t.step_cpu, -1);
	ck_assert_str_eq(send("g"), "E10"); /* running: EBUSY */
	gdb_session_stopped(&s, 0, GDB_STOP_BREAKPOINT, 0, out);
	ck_assert_str_eq(out, "T05thread:1;");
	ck_assert_str_eq(send("z0,1020,1"), "OK");
	ck_assert_uint_eq(t.mem[0x20], 0x55);	  /* the byte written while it was in */
	ck_assert_str_eq(send("Z0,10,1"), "E0e"); /* unmapped */
	ck_assert_ptr_null(send("c"));
	ck_assert(!t.debug.sw_breakpoints);
}
END_TEST

START_TEST(test_breakpoint_table_is_bounded)
{
	char pkt[32];

	for (unsigned int i = 0; i < GDB_SW_BREAKPOINTS; i++) {
		snprintf(pkt, sizeof(pkt), "Z0,%x,1", 0x1100 + i);
		ck_assert_str_eq(send(pkt), "OK");
	}
	ck_assert_str_eq(send("Z0,1800,1"), "E1c"); /* ENOSPC */
	ck_assert_uint_eq(t.mem[0x800], 0x00);
	for (unsigned int i = 0; i < GDB_HW_BREAKPOINTS; i++) {
		snprintf(pkt, sizeof(pkt), "Z2,%x,8", 0x2000 + 8 * i);
		ck_assert_str_eq(send(pkt), "OK");
	}
	ck_assert_str_eq(send("Z1,3000,1"), "E1c");
	/* the end of the session puts every byte back */
	gdb_session_end(&s);
	for (unsigned int i = 0; i < GDB_SW_BREAKPOINTS; i++)
		ck_assert_uint_eq(t.mem[0x100 + i], (uint8_t)(0x100 + i));
	ck_assert(!s.debug.sw_breakpoints);
	ck_assert_uint_eq(s.debug.nhw, 0);
}
END_TEST

START_TEST(test_watchpoints_and_step)
{
	ck_assert_str_eq(send("Z2,2008,4"), "OK");
	ck_assert_str_eq(send("Z4,2010,8"), "OK");
	ck_assert_str_eq(send("Z3,2020,4"), "");    /* read-only: x86 has none */
	ck_assert_str_eq(send("Z2,2009,4"), "E16"); /* unaligned */
	ck_assert_str_eq(send("Z2,2010,3"), "E16"); /* no such length */
	ck_assert_str_eq(send("Z1,ffffffff81000000,1"), "OK");
	ck_assert_ptr_null(send("vCont;s:1;c"));
	ck_assert_int_eq(t.step_cpu, 0);
	ck_assert_uint_eq(t.debug.nhw, 3);
	ck_assert_int_eq(t.debug.hw[0].kind, GDB_HW_WRITE);
	ck_assert_uint_eq(t.debug.hw[2].addr, 0xffffffff81000000ull);
	gdb_session_stopped(&s, 1, GDB_STOP_WATCH, 0x2008, out);
	ck_assert_str_eq(out, "T05watch:2008;thread:2;");
	gdb_session_stopped(&s, 0, GDB_STOP_WATCH, 0x2010, out);
	ck_assert_str_eq(out, "T05awatch:2010;thread:1;");
	ck_assert_str_eq(send("z2,2008,4"), "OK");
	ck_assert_ptr_null(send("s"));
	ck_assert_int_eq(t.step_cpu, 0); /* Hg's vCPU: the one that stopped */
	gdb_session_stopped(&s, 0, GDB_STOP_STEP, 0, out);
	ck_assert_str_eq(send("vCont;s:5"), "E16");
	ck_assert_str_eq(send("c1000"), "E16"); /* continue-at is not offered */
	ck_assert_uint_eq(t.resumes, 2);
}
END_TEST

START_TEST(test_detach_and_kill)
{
	ck_assert_str_eq(send("Z0,1020,1"), "OK");
	ck_assert_str_eq(send("D"), "OK");
	ck_assert_uint_eq(t.mem[0x20], 0x20);
	ck_assert_uint_eq(t.detaches, 1);
	ck_assert_uint_eq(t.resumes, 0);
	ck_assert(!t.debug.sw_breakpoints);
	setup();
	ck_assert_str_eq(send("Z0,1030,1"), "OK");
	ck_assert_ptr_null(send("k"));
	ck_assert_uint_eq(t.kills, 1);
	ck_assert_uint_eq(t.mem[0x30], 0x30);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("gdb session");
	TCase *tc = tcase_create("session");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_handshake_and_threads);
	tcase_add_test(tc, test_registers);
	tcase_add_test(tc, test_memory);
	tcase_add_test(tc, test_software_breakpoints);
	tcase_add_test(tc, test_breakpoint_table_is_bounded);
	tcase_add_test(tc, test_watchpoints_and_step);
	tcase_add_test(tc, test_detach_and_kill);
	suite_add_tcase(s, tc);
	return s;
}
