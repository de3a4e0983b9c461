/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the gdb stub's protocol layer (vmm/gdb/rsp.c): the input is the
 * byte stream a client sends, noise, broken checksums and escapes included.
 *
 * Invariants checked for every packet the receiver accepts:
 *   - it is at most GDB_PACKET_MAX bytes and NUL-terminated;
 *   - the parsed command's data lies inside the packet, a memory access is at most
 *     GDB_MEM_MAX bytes and its data length matches it (hex: twice);
 *   - framed again with gdb_frame and received by a fresh receiver, it comes back as the
 *     same bytes (what the stub sends, a client reads as sent);
 *   - a session (vmm/gdb/session.c) answers it against a fake target of 4 KiB of memory
 *     and two vCPUs: a reply never outgrows GDB_REPLY_MAX, the target is only asked for
 *     vCPUs that exist, and ASan sees every access to the fake memory's bounds.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/gdb/rsp.h"
#include "vmm/gdb/session.h"

#define MEM_BASE 0x1000u
#define MEM_SIZE 4096u
#define NCPUS 2u

static void check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

static struct gdb_rx rx, back;
static uint8_t *mem; /* a heap block of exactly MEM_SIZE, for ASan */
static struct gdb_session session;
static char reply[GDB_REPLY_MAX];

static int fake_read_regs(void *target, unsigned int cpu, uint8_t *out, size_t cap)
{
	(void)target;
	check(cpu < NCPUS && cap >= 32);
	memset(out, (int)cpu, 32);
	return 32;
}

static int fake_write_regs(void *target, unsigned int cpu, const uint8_t *in, size_t len)
{
	(void)target;
	(void)in;
	check(cpu < NCPUS && len <= GDB_REGS_MAX);
	return len == 32 ? 0 : -22;
}

static bool mapped(uint64_t addr, size_t len)
{
	return addr >= MEM_BASE && addr - MEM_BASE <= MEM_SIZE &&
	       len <= MEM_SIZE - (addr - MEM_BASE);
}

static int fake_read_mem(void *target, unsigned int cpu, uint64_t addr, void *buf, size_t len)
{
	(void)target;
	check(cpu < NCPUS && len <= GDB_MEM_MAX);
	if (!mapped(addr, len))
		return -14;
	memcpy(buf, mem + (addr - MEM_BASE), len);
	return 0;
}

static int fake_write_mem(void *target, unsigned int cpu, uint64_t addr, const void *buf,
			  size_t len)
{
	(void)target;
	check(cpu < NCPUS && len <= GDB_MEM_MAX);
	if (!mapped(addr, len))
		return -14;
	memcpy(mem + (addr - MEM_BASE), buf, len);
	return 0;
}

static void fake_resume(void *target, const struct gdb_debug_state *d, int step_cpu)
{
	(void)target;
	check(step_cpu < (int)NCPUS && d->nhw <= GDB_HW_BREAKPOINTS);
}

static void fake_detach(void *target, const struct gdb_debug_state *d)
{
	(void)target;
	check(d->nhw == 0 && !d->sw_breakpoints);
}

static void fake_interrupt(void *target)
{
	(void)target;
}

static void fake_kill(void *target)
{
	(void)target;
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
static char framed[2 * GDB_PACKET_MAX + 8];

static void check_packet(void)
{
	struct gdb_cmd cmd;
	enum gdb_rx_event e = GDB_RX_NONE;
	size_t n;

	check(rx.len <= GDB_PACKET_MAX && rx.buf[rx.len] == 0);
	gdb_parse(rx.buf, rx.len, &cmd);
	if (cmd.data)
		check(cmd.data >= rx.buf && cmd.data + cmd.datalen <= rx.buf + rx.len);
	if (cmd.kind == GDB_CMD_READ_MEM || cmd.kind == GDB_CMD_WRITE_MEM)
		check(cmd.len <= GDB_MEM_MAX);
	if (cmd.kind == GDB_CMD_WRITE_MEM)
		check(cmd.datalen == (cmd.hex ? 2 * cmd.len : cmd.len));
	n = gdb_frame(rx.buf, rx.len, framed, sizeof(framed));
	check(n > 0);
	gdb_rx_init(&back);
	for (size_t i = 0; i < n; i++)
		e = gdb_rx_byte(&back, (uint8_t)framed[i]);
	check(e == GDB_RX_PACKET && back.len == rx.len && !memcmp(back.buf, rx.buf, rx.len));

	n = (size_t)gdb_session_packet(&session, rx.buf, rx.len, reply);
	if ((int)n < 0)
		n = (size_t)gdb_session_stopped(&session, rx.len % 3, GDB_STOP_BREAKPOINT, 0,
						reply);
	check(n <= GDB_REPLY_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!mem)
		mem = malloc(MEM_SIZE);
	memset(mem, 0x90, MEM_SIZE);
	gdb_session_init(&session, &fake_ops, NULL, NCPUS, 0);
	gdb_rx_init(&rx);
	for (size_t i = 0; i < size; i++)
		if (gdb_rx_byte(&rx, data[i]) == GDB_RX_PACKET)
			check_packet();
	return 0;
}
