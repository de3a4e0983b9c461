/* SPDX-License-Identifier: MIT */
/* A gdb client's all-stop session: commands to target calls and replies (see session.h). */
#include "vmm/gdb/session.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/gdb/rsp.h"

#define INT3 0xcc

void gdb_session_init(struct gdb_session *s, const struct gdb_target_ops *ops, void *target,
		      unsigned int ncpus, unsigned int stop_cpu)
{
	memset(s, 0, sizeof(*s));
	s->ops = ops;
	s->target = target;
	s->ncpus = ncpus;
	s->stop_cpu = stop_cpu < ncpus ? stop_cpu : 0;
	s->g_cpu = s->stop_cpu;
	s->stop_reason = GDB_STOP_INTERRUPT;
}

static int text(char *out, const char *t)
{
	size_t n = strlen(t);

	memcpy(out, t, n);
	return (int)n;
}

static int error_reply(char *out, int err)
{
	return snprintf(out, GDB_REPLY_MAX, "E%02x", err & 0xff);
}

/* A thread id from the client as a vCPU index, or -1 for one that does not exist. */
static int cpu_of(const struct gdb_session *s, int thread)
{
	if (thread == GDB_THREAD_ALL || thread == GDB_THREAD_ANY)
		return (int)s->stop_cpu;
	if (thread < 1 || (unsigned int)thread > s->ncpus)
		return -1;
	return thread - 1;
}

static int stop_reply(const struct gdb_session *s, char *out)
{
	const char *key = NULL;

	if (s->stop_reason == GDB_STOP_WATCH) {
		key = "awatch";
		for (unsigned int i = 0; i < s->debug.nhw; i++)
			if (s->debug.hw[i].addr == s->watch_addr &&
			    s->debug.hw[i].kind == GDB_HW_WRITE)
				key = "watch";
	}
	if (key)
		return snprintf(out, GDB_REPLY_MAX, "T05%s:%llx;thread:%x;", key,
				(unsigned long long)s->watch_addr, s->stop_cpu + 1);
	/* SIGINT for a stop the client asked for, SIGTRAP for one the guest ran into */
	return snprintf(out, GDB_REPLY_MAX, "T%02xthread:%x;",
			s->stop_reason == GDB_STOP_INTERRUPT ? 2 : 5, s->stop_cpu + 1);
}

/* Show the guest's own bytes where our int3s sit, as if they were not there. */
static void hide_breakpoints(const struct gdb_session *s, uint64_t addr, uint8_t *buf, size_t len)
{
	for (unsigned int i = 0; i < GDB_SW_BREAKPOINTS; i++)
		if (s->sw[i].used && s->sw[i].addr - addr < len)
			buf[s->sw[i].addr - addr] = s->sw[i].saved;
}

static int read_memory(struct gdb_session *s, const struct gdb_cmd *c, char *out)
{
	uint8_t buf[GDB_MEM_MAX];
	int ret = s->ops->read_mem(s->target, s->g_cpu, c->addr, buf, c->len);

	if (ret)
		return error_reply(out, -ret);
	hide_breakpoints(s, c->addr, buf, c->len);
	gdb_hex_encode(buf, c->len, out);
	return (int)(2 * c->len);
}

/*
 * A write over one of our int3s: the guest's byte there becomes what the client wrote,
 * and the int3 stays.
 */
static int write_memory(struct gdb_session *s, const struct gdb_cmd *c, char *out)
{
	uint8_t buf[GDB_MEM_MAX];
	int ret;

	if (c->hex) {
		if (gdb_hex_decode((const char *)c->data, c->len, buf))
			return error_reply(out, EINVAL);
	} else {
		memcpy(buf, c->data, c->len);
	}
	for (unsigned int i = 0; i < GDB_SW_BREAKPOINTS; i++) {
		if (s->sw[i].used && s->sw[i].addr - c->addr < c->len) {
			s->sw[i].saved = buf[s->sw[i].addr - c->addr];
			buf[s->sw[i].addr - c->addr] = INT3;
		}
	}
	ret = s->ops->write_mem(s->target, s->g_cpu, c->addr, buf, c->len);
	return ret ? error_reply(out, -ret) : text(out, "OK");
}

static int read_registers(struct gdb_session *s, char *out)
{
	uint8_t regs[GDB_REGS_MAX];
	int n = s->ops->read_regs(s->target, s->g_cpu, regs, sizeof(regs));

	if (n < 0)
		return error_reply(out, -n);
	gdb_hex_encode(regs, (size_t)n, out);
	return 2 * n;
}

static int write_registers(struct gdb_session *s, const struct gdb_cmd *c, char *out)
{
	uint8_t regs[GDB_REGS_MAX];
	size_t n = c->datalen / 2;
	int ret;

	if (c->datalen % 2 || n > sizeof(regs) || gdb_hex_decode((const char *)c->data, n, regs))
		return error_reply(out, EINVAL);
	ret = s->ops->write_regs(s->target, s->g_cpu, regs, n);
	return ret ? error_reply(out, -ret) : text(out, "OK");
}

static int sw_insert(struct gdb_session *s, uint64_t addr, char *out)
{
	static const uint8_t int3 = INT3;
	int free_slot = -1, ret;
	uint8_t saved;

	for (unsigned int i = 0; i < GDB_SW_BREAKPOINTS; i++) {
		if (s->sw[i].used && s->sw[i].addr == addr)
			return text(out, "OK"); /* gdb may insert one twice */
		if (!s->sw[i].used && free_slot < 0)
			free_slot = (int)i;
	}
	if (free_slot < 0)
		return error_reply(out, ENOSPC);
	ret = s->ops->read_mem(s->target, s->g_cpu, addr, &saved, 1);
	if (!ret)
		ret = s->ops->write_mem(s->target, s->g_cpu, addr, &int3, 1);
	if (ret)
		return error_reply(out, -ret);
	s->sw[free_slot].addr = addr;
	s->sw[free_slot].saved = saved;
	s->sw[free_slot].used = true;
	s->debug.sw_breakpoints = true;
	return text(out, "OK");
}

static int sw_remove(struct gdb_session *s, uint64_t addr, char *out)
{
	bool any = false;
	int ret = 0;

	for (unsigned int i = 0; i < GDB_SW_BREAKPOINTS; i++) {
		if (s->sw[i].used && s->sw[i].addr == addr) {
			ret = s->ops->write_mem(s->target, s->g_cpu, addr, &s->sw[i].saved, 1);
			s->sw[i].used = false;
		}
		any |= s->sw[i].used;
	}
	s->debug.sw_breakpoints = any;
	return ret ? error_reply(out, -ret) : text(out, "OK");
}

/* Debug registers watch 1, 2, 4 or 8 aligned bytes and break on execution at one. */
static int hw_insert(struct gdb_session *s, enum gdb_hw_kind kind, uint64_t addr, uint64_t len,
		     char *out)
{
	struct gdb_debug_state *d = &s->debug;

	if (kind == GDB_HW_EXEC)
		len = 1;
	if ((len != 1 && len != 2 && len != 4 && len != 8) || addr % len)
		return error_reply(out, EINVAL);
	for (unsigned int i = 0; i < d->nhw; i++)
		if (d->hw[i].addr == addr && d->hw[i].len == len && d->hw[i].kind == kind)
			return text(out, "OK");
	if (d->nhw == GDB_HW_BREAKPOINTS)
		return error_reply(out, ENOSPC);
	d->hw[d->nhw].addr = addr;
	d->hw[d->nhw].len = (unsigned int)len;
	d->hw[d->nhw].kind = kind;
	d->nhw++;
	return text(out, "OK");
}

static int hw_remove(struct gdb_session *s, enum gdb_hw_kind kind, uint64_t addr, char *out)
{
	struct gdb_debug_state *d = &s->debug;

	for (unsigned int i = 0; i < d->nhw; i++) {
		if (d->hw[i].addr == addr && d->hw[i].kind == kind) {
			d->hw[i] = d->hw[--d->nhw];
			break;
		}
	}
	return text(out, "OK");
}

static int breakpoint(struct gdb_session *s, const struct gdb_cmd *c, char *out)
{
	bool insert = c->kind == GDB_CMD_INSERT_BP;
	enum gdb_hw_kind kind;

	switch (c->bp_type) {
	case GDB_BP_SOFTWARE:
		return insert ? sw_insert(s, c->addr, out) : sw_remove(s, c->addr, out);
	case GDB_BP_HARDWARE:
		kind = GDB_HW_EXEC;
		break;
	case GDB_WATCH_WRITE:
		kind = GDB_HW_WRITE;
		break;
	case GDB_WATCH_ACCESS:
		kind = GDB_HW_ACCESS;
		break;
	default:
		return 0; /* read-only watchpoints: x86 has none, gdb then uses access ones */
	}
	return insert ? hw_insert(s, kind, c->addr, c->len, out) : hw_remove(s, kind, c->addr, out);
}

static int resume(struct gdb_session *s, const struct gdb_cmd *c, char *out)
{
	int step = -1;

	if (c->has_addr) /* "continue at": gdb sets the PC with a register write instead */
		return error_reply(out, EINVAL);
	if (c->kind == GDB_CMD_STEP) {
		step = c->thread == GDB_THREAD_ANY ? (int)s->g_cpu : cpu_of(s, c->thread);
		if (step < 0)
			return error_reply(out, EINVAL);
	}
	s->running = true;
	s->ops->resume(s->target, &s->debug, step);
	return -1;
}

static int threads_first(struct gdb_session *s, char *out)
{
	int n = text(out, "m");

	for (unsigned int i = 0; i < s->ncpus && n < GDB_REPLY_MAX - 16; i++)
		n += snprintf(out + n, GDB_REPLY_MAX - (size_t)n, i ? ",%x" : "%x", i + 1);
	s->listed = true;
	return n;
}

static int set_thread(struct gdb_session *s, const struct gdb_cmd *c, char *out)
{
	int cpu = cpu_of(s, c->thread);

	if (cpu < 0)
		return error_reply(out, EINVAL);
	if (c->op == 'g')
		s->g_cpu = (unsigned int)cpu;
	return text(out, "OK"); /* Hc: the step names its thread in vCont, or is Hg's */
}

int gdb_session_packet(struct gdb_session *s, const uint8_t *pkt, size_t len, char *out)
{
	struct gdb_cmd c;

	gdb_parse(pkt, len, &c);
	if (s->running && c.kind != GDB_CMD_KILL)
		return error_reply(out, EBUSY); /* all-stop: the client waits for the stop */
	switch (c.kind) {
	case GDB_CMD_STOP_REASON:
		return stop_reply(s, out);
	case GDB_CMD_READ_REGS:
		return read_registers(s, out);
	case GDB_CMD_WRITE_REGS:
		return write_registers(s, &c, out);
	case GDB_CMD_READ_MEM:
		return read_memory(s, &c, out);
	case GDB_CMD_WRITE_MEM:
		return write_memory(s, &c, out);
	case GDB_CMD_CONTINUE:
	case GDB_CMD_STEP:
		return resume(s, &c, out);
	case GDB_CMD_INSERT_BP:
	case GDB_CMD_REMOVE_BP:
		return breakpoint(s, &c, out);
	case GDB_CMD_SET_THREAD:
		return set_thread(s, &c, out);
	case GDB_CMD_THREAD_ALIVE:
		return cpu_of(s, c.thread) < 0 || c.thread <= 0 ? error_reply(out, ESRCH)
								: text(out, "OK");
	case GDB_CMD_THREADS_FIRST:
		return threads_first(s, out);
	case GDB_CMD_THREADS_NEXT:
		return text(out, "l");
	case GDB_CMD_CURRENT_THREAD:
		return snprintf(out, GDB_REPLY_MAX, "QC%x", s->stop_cpu + 1);
	case GDB_CMD_SUPPORTED:
		return snprintf(out, GDB_REPLY_MAX, "PacketSize=%x", GDB_PACKET_MAX);
	case GDB_CMD_ATTACHED:
		return text(out, "1"); /* the guest ran before the client came: detach on quit */
	case GDB_CMD_VCONT_QUERY:
		return text(out, "vCont;c;C;s;S");
	case GDB_CMD_DETACH: /* the guest goes on without us */
		gdb_session_end(s);
		s->ops->detach(s->target, &s->debug);
		return text(out, "OK");
	case GDB_CMD_KILL:
		gdb_session_end(s);
		s->ops->kill(s->target);
		return -1;
	case GDB_CMD_MALFORMED:
		return error_reply(out, EINVAL);
	case GDB_CMD_READ_REG: /* gdb reads the whole set with 'g' when 'p' is not offered */
	case GDB_CMD_WRITE_REG:
	case GDB_CMD_UNSUPPORTED:
		break;
	}
	return 0;
}

int gdb_session_stopped(struct gdb_session *s, unsigned int cpu, enum gdb_stop_reason why,
			uint64_t watch_addr, char *out)
{
	s->running = false;
	s->stop_cpu = cpu < s->ncpus ? cpu : 0;
	s->g_cpu = s->stop_cpu;
	s->stop_reason = why;
	s->watch_addr = watch_addr;
	return stop_reply(s, out);
}

bool gdb_session_owns_breakpoint(const struct gdb_session *s, uint64_t addr)
{
	for (unsigned int i = 0; i < GDB_SW_BREAKPOINTS; i++)
		if (s->sw[i].used && s->sw[i].addr == addr)
			return true;
	return false;
}

void gdb_session_end(struct gdb_session *s)
{
	for (unsigned int i = 0; i < GDB_SW_BREAKPOINTS; i++) {
		if (s->sw[i].used)
			(void)s->ops->write_mem(s->target, s->g_cpu, s->sw[i].addr, &s->sw[i].saved,
						1);
		s->sw[i].used = false;
	}
	memset(&s->debug, 0, sizeof(s->debug));
}
