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
 *     same bytes (what the stub sends, a client reads as sent).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vmm/gdb/rsp.h"

static void check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

static struct gdb_rx rx, back;
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
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gdb_rx_init(&rx);
	for (size_t i = 0; i < size; i++)
		if (gdb_rx_byte(&rx, data[i]) == GDB_RX_PACKET)
			check_packet();
	return 0;
}
