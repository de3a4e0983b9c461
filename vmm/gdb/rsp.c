/* SPDX-License-Identifier: MIT */
/*
 * GDB remote serial protocol: framing and command parsing (see rsp.h).
 */
#include "vmm/gdb/rsp.h"

#include "vmm/parse.h"

#include <string.h>

void gdb_rx_init(struct gdb_rx *rx)
{
	rx->state = GDB_RX_IDLE;
	rx->len = 0;
	rx->sum = 0;
	rx->overflow = false;
}

static int hex_digit(uint8_t c)
{
	return parse_digit((char)c, 16);
}

static void rx_put(struct gdb_rx *rx, uint8_t c)
{
	if (rx->len < GDB_PACKET_MAX)
		rx->buf[rx->len++] = c;
	else
		rx->overflow = true;
}

enum gdb_rx_event gdb_rx_byte(struct gdb_rx *rx, uint8_t c)
{
	int d;

	switch (rx->state) {
	case GDB_RX_IDLE:
		if (c == 0x03)
			return GDB_RX_INTERRUPT;
		if (c == '$') { /* anything else between packets (acks, noise) is dropped */
			gdb_rx_init(rx);
			rx->state = GDB_RX_DATA;
		}
		return GDB_RX_NONE;
	case GDB_RX_DATA:
		if (c == '#') {
			rx->state = GDB_RX_SUM1;
			return GDB_RX_NONE;
		}
		if (c == '$') { /* a new packet before this one ended: start over */
			gdb_rx_init(rx);
			rx->state = GDB_RX_DATA;
			return GDB_RX_NONE;
		}
		rx->sum += c;
		if (c == '}')
			rx->state = GDB_RX_ESCAPE;
		else
			rx_put(rx, c);
		return GDB_RX_NONE;
	case GDB_RX_ESCAPE:
		rx->sum += c;
		rx_put(rx, c ^ 0x20);
		rx->state = GDB_RX_DATA;
		return GDB_RX_NONE;
	case GDB_RX_SUM1:
		d = hex_digit(c);
		rx->want = (uint8_t)((d < 0 ? 0 : d) << 4);
		rx->overflow |= d < 0;
		rx->state = GDB_RX_SUM2;
		return GDB_RX_NONE;
	case GDB_RX_SUM2:
		d = hex_digit(c);
		rx->want |= (uint8_t)(d < 0 ? 0 : d);
		rx->state = GDB_RX_IDLE;
		if (d < 0 || rx->overflow || rx->want != rx->sum)
			return GDB_RX_BAD;
		rx->buf[rx->len] = 0;
		return GDB_RX_PACKET;
	}
	rx->state = GDB_RX_IDLE;
	return GDB_RX_NONE;
}

size_t gdb_frame(const void *payload, size_t len, char *out, size_t cap)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *p = payload;
	uint8_t sum = 0;
	size_t n = 0;

	if (cap < 4)
		return 0;
	out[n++] = '$';
	for (size_t i = 0; i < len; i++) {
		uint8_t c = p[i];
		bool esc = c == '$' || c == '#' || c == '}' || c == '*';

		if (n + (esc ? 2 : 1) + 3 > cap)
			return 0;
		if (esc) {
			out[n++] = '}';
			sum += '}';
			c ^= 0x20;
		}
		out[n++] = (char)c;
		sum += c;
	}
	out[n++] = '#';
	out[n++] = digits[sum >> 4];
	out[n++] = digits[sum & 15];
	return n;
}

void gdb_hex_encode(const void *bytes, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *b = bytes;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
}

int gdb_hex_decode(const char *hex, size_t n, void *bytes)
{
	uint8_t *b = bytes;

	for (size_t i = 0; i < n; i++) {
		int hi = hex_digit((uint8_t)hex[2 * i]), lo = hex_digit((uint8_t)hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* A cursor over one packet. Every reader fails once the packet is used up. */
struct cursor {
	const uint8_t *p, *end;
	bool bad;
};

static bool more(const struct cursor *c)
{
	return c->p < c->end;
}

static bool take(struct cursor *c, uint8_t want)
{
	if (c->p < c->end && *c->p == want) {
		c->p++;
		return true;
	}
	return false;
}

static void expect(struct cursor *c, uint8_t want)
{
	if (!take(c, want))
		c->bad = true;
}

/* 1 to 16 hex digits. */
static uint64_t hex_number(struct cursor *c)
{
	uint64_t v = 0;
	int n = 0, d;

	while (c->p < c->end && (d = hex_digit(*c->p)) >= 0) {
		if (++n > 16) {
			c->bad = true;
			return 0;
		}
		v = v << 4 | (uint64_t)d;
		c->p++;
	}
	if (n == 0)
		c->bad = true;
	return v;
}

/* A thread id: "-1" (all), "0" (any) or a positive hex number that fits an int. */
static int thread_id(struct cursor *c)
{
	uint64_t v;

	if (take(c, '-')) {
		expect(c, '1');
		return GDB_THREAD_ALL;
	}
	v = hex_number(c);
	if (v > 0x7fffffff)
		c->bad = true;
	return (int)v;
}

/* gdb numbers registers from 0; no target has more than a few hundred. */
static unsigned int register_number(struct cursor *c)
{
	uint64_t v = hex_number(c);

	if (v > 0xffff)
		c->bad = true;
	return (unsigned int)v;
}

static bool is(const uint8_t *pkt, size_t len, const char *word)
{
	size_t n = strlen(word);

	return len >= n && !memcmp(pkt, word, n);
}

/* vCont;action[:thread][;action[:thread]]...: a step wins over a continue. */
static void parse_vcont(struct cursor *c, struct gdb_cmd *cmd)
{
	bool any = false;

	cmd->kind = GDB_CMD_CONTINUE;
	cmd->thread = GDB_THREAD_ALL;
	while (take(c, ';')) {
		uint8_t a = more(c) ? *c->p++ : 0;
		int thread = GDB_THREAD_ALL;

		if (a == 'C' || a == 'S')
			(void)hex_number(c); /* a signal to deliver: a VM has none, ignored */
		else if (a != 'c' && a != 's')
			c->bad = true;
		if (take(c, ':'))
			thread = thread_id(c);
		if (c->bad)
			return;
		any = true;
		if ((a == 's' || a == 'S') && cmd->kind != GDB_CMD_STEP) {
			cmd->kind = GDB_CMD_STEP;
			cmd->thread = thread;
		}
	}
	if (!any || more(c))
		c->bad = true;
}

static void parse_resume(struct cursor *c, struct gdb_cmd *cmd, enum gdb_cmd_kind kind)
{
	cmd->kind = kind;
	cmd->thread = GDB_THREAD_ANY;
	if (more(c)) {
		cmd->addr = hex_number(c);
		cmd->has_addr = true;
	}
}

static void parse_memory(struct cursor *c, struct gdb_cmd *cmd, uint8_t letter)
{
	cmd->addr = hex_number(c);
	expect(c, ',');
	cmd->len = hex_number(c);
	if (cmd->len > GDB_MEM_MAX)
		c->bad = true;
	if (letter == 'm') {
		cmd->kind = GDB_CMD_READ_MEM;
		return;
	}
	cmd->kind = GDB_CMD_WRITE_MEM;
	cmd->hex = letter == 'M';
	expect(c, ':');
	cmd->data = c->p;
	cmd->datalen = (size_t)(c->end - c->p);
	c->p = c->end;
	if (cmd->datalen != (cmd->hex ? 2 * cmd->len : cmd->len))
		c->bad = true;
}

static void parse_breakpoint(struct cursor *c, struct gdb_cmd *cmd, uint8_t letter)
{
	cmd->kind = letter == 'Z' ? GDB_CMD_INSERT_BP : GDB_CMD_REMOVE_BP;
	cmd->bp_type = (int)hex_number(c);
	expect(c, ',');
	cmd->addr = hex_number(c);
	expect(c, ',');
	cmd->len = hex_number(c);
	if (cmd->bp_type > GDB_WATCH_ACCESS)
		cmd->kind = GDB_CMD_UNSUPPORTED;
	else if (more(c)) /* conditions and commands (";X...") are not offered */
		c->bad = true;
}

static void parse_query(const uint8_t *pkt, size_t len, struct gdb_cmd *cmd)
{
	if (is(pkt, len, "qfThreadInfo"))
		cmd->kind = GDB_CMD_THREADS_FIRST;
	else if (is(pkt, len, "qsThreadInfo"))
		cmd->kind = GDB_CMD_THREADS_NEXT;
	else if (len == 2 && pkt[1] == 'C')
		cmd->kind = GDB_CMD_CURRENT_THREAD;
	else if (is(pkt, len, "qSupported"))
		cmd->kind = GDB_CMD_SUPPORTED;
	else if (is(pkt, len, "qAttached"))
		cmd->kind = GDB_CMD_ATTACHED;
}

void gdb_parse(const uint8_t *pkt, size_t len, struct gdb_cmd *cmd)
{
	struct cursor c = { .p = pkt + 1, .end = pkt + len };

	memset(cmd, 0, sizeof(*cmd));
	cmd->kind = GDB_CMD_UNSUPPORTED;
	if (len == 0)
		return;
	switch (pkt[0]) {
	case '?':
		cmd->kind = GDB_CMD_STOP_REASON;
		break;
	case 'g':
		cmd->kind = GDB_CMD_READ_REGS;
		break;
	case 'G':
		cmd->kind = GDB_CMD_WRITE_REGS;
		cmd->data = c.p;
		cmd->datalen = len - 1;
		c.p = c.end;
		break;
	case 'p':
		cmd->kind = GDB_CMD_READ_REG;
		cmd->reg = register_number(&c);
		break;
	case 'P':
		cmd->kind = GDB_CMD_WRITE_REG;
		cmd->reg = register_number(&c);
		expect(&c, '=');
		cmd->data = c.p;
		cmd->datalen = (size_t)(c.end - c.p);
		c.p = c.end;
		break;
	case 'm':
	case 'M':
	case 'X':
		parse_memory(&c, cmd, pkt[0]);
		break;
	case 'c':
		parse_resume(&c, cmd, GDB_CMD_CONTINUE);
		break;
	case 's':
		parse_resume(&c, cmd, GDB_CMD_STEP);
		break;
	case 'Z':
	case 'z':
		parse_breakpoint(&c, cmd, pkt[0]);
		break;
	case 'H':
		cmd->kind = GDB_CMD_SET_THREAD;
		cmd->op = more(&c) ? (char)*c.p++ : 0;
		if (cmd->op != 'g' && cmd->op != 'c')
			c.bad = true;
		cmd->thread = thread_id(&c);
		break;
	case 'T':
		cmd->kind = GDB_CMD_THREAD_ALIVE;
		cmd->thread = thread_id(&c);
		break;
	case 'q':
		parse_query(pkt, len, cmd);
		return;
	case 'D':
		cmd->kind = GDB_CMD_DETACH;
		return; /* "D;pid" from a multiprocess client: one process here anyway */
	case 'k':
		cmd->kind = GDB_CMD_KILL;
		return;
	case 'v':
		if (len == 6 && is(pkt, len, "vCont?")) {
			cmd->kind = GDB_CMD_VCONT_QUERY;
			return;
		}
		if (is(pkt, len, "vKill")) {
			cmd->kind = GDB_CMD_KILL;
			return;
		}
		if (is(pkt, len, "vCont;")) {
			c.p = pkt + 5;
			parse_vcont(&c, cmd);
			break;
		}
		return; /* vMustReplyEmpty and the rest: empty answer */
	default:
		return;
	}
	if (c.bad || more(&c))
		cmd->kind = GDB_CMD_MALFORMED;
}
