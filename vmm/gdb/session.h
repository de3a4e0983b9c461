/* SPDX-License-Identifier: MIT */
/*
 * One gdb client's session with the guest, in GDB's all-stop mode: every vCPU runs, or
 * every vCPU is stopped. While stopped, the client reads and writes registers and guest
 * memory, sets breakpoints and watchpoints, and resumes the guest by continuing or by
 * stepping one vCPU (the others stay stopped). Each vCPU is a gdb thread, vCPU i being
 * thread i + 1.
 *
 * The session decides what a command means and answers it; the target (vmm/gdb/stub.c)
 * does what only it can: KVM's registers, guest memory through the vCPU's page tables,
 * KVM_SET_GUEST_DEBUG, stopping and resuming the vCPUs. Software breakpoints are the
 * session's own: it saves the byte under each and writes int3 there.
 *
 * Threading: one thread drives a session (the stub's); the target's callbacks run on it.
 * Every value in a packet is untrusted: a vCPU that does not exist, memory that is not
 * mapped, a full breakpoint table all get an error reply, never an action.
 */
#ifndef VMM_GDB_SESSION_H
#define VMM_GDB_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GDB_SW_BREAKPOINTS 64
#define GDB_HW_BREAKPOINTS 4 /* x86's debug registers DR0-DR3 */
#define GDB_REGS_MAX 1024    /* bytes of the largest register set a target sends */
#define GDB_REPLY_MAX 4096   /* a reply payload, unframed (fits the client's PacketSize) */

enum gdb_hw_kind {
	GDB_HW_EXEC,
	GDB_HW_WRITE,
	GDB_HW_ACCESS,
};

/* What the target applies to every vCPU before it resumes them. */
struct gdb_debug_state {
	bool sw_breakpoints; /* int3 exits to us (KVM_GUESTDBG_USE_SW_BP) */
	unsigned int nhw;
	struct {
		uint64_t addr;
		unsigned int len; /* 1, 2, 4 or 8; 1 for EXEC */
		enum gdb_hw_kind kind;
	} hw[GDB_HW_BREAKPOINTS];
};

struct gdb_target_ops {
	/* The register set in the client's 'g' layout; returns its length or -errno. */
	int (*read_regs)(void *target, unsigned int cpu, uint8_t *out, size_t cap);
	int (*write_regs)(void *target, unsigned int cpu, const uint8_t *in, size_t len);
	/* Guest-virtual memory as cpu sees it: 0, or -EFAULT where nothing is mapped. */
	int (*read_mem)(void *target, unsigned int cpu, uint64_t addr, void *buf, size_t len);
	int (*write_mem)(void *target, unsigned int cpu, uint64_t addr, const void *buf,
			 size_t len);
	/* Resume: step_cpu < 0 runs every vCPU, else only that one runs, for one instruction. */
	void (*resume)(void *target, const struct gdb_debug_state *debug, int step_cpu);
	/*
	 * The client detached (after gdb_session_end): no debugging any more, and the guest
	 * goes on as it would have without the client: running, or paused where something
	 * else paused it.
	 */
	void (*detach)(void *target, const struct gdb_debug_state *debug);
	/* Stop every vCPU (Ctrl-C); the stub calls gdb_session_stopped once they are. */
	void (*interrupt)(void *target);
	/* The client asked to kill the guest. */
	void (*kill)(void *target);
};

enum gdb_stop_reason {
	GDB_STOP_INTERRUPT, /* Ctrl-C, or the client attaching */
	GDB_STOP_BREAKPOINT,
	GDB_STOP_STEP,
	GDB_STOP_WATCH, /* watch_addr says which */
};

struct gdb_session {
	const struct gdb_target_ops *ops;
	void *target;
	unsigned int ncpus;
	bool running;
	unsigned int g_cpu; /* Hg: whose registers and memory */
	unsigned int stop_cpu;
	enum gdb_stop_reason stop_reason;
	uint64_t watch_addr;
	bool listed; /* qfThreadInfo answered, qsThreadInfo ends the list */
	struct {
		uint64_t addr;
		uint8_t saved;
		bool used;
	} sw[GDB_SW_BREAKPOINTS];
	struct gdb_debug_state debug;
};

/* A session with the guest stopped (the stub stopped it when the client connected). */
void gdb_session_init(struct gdb_session *s, const struct gdb_target_ops *ops, void *target,
		      unsigned int ncpus, unsigned int stop_cpu);
/*
 * Answer one packet. Returns the reply's length in out (0 is the empty reply, which
 * means "not supported"), or -1 when there is no reply now: the guest was resumed, and
 * the reply is the stop reply that gdb_session_stopped gives later.
 */
int gdb_session_packet(struct gdb_session *s, const uint8_t *pkt, size_t len, char *out);
/* The guest stopped: the stop reply for the client (out holds GDB_REPLY_MAX). */
int gdb_session_stopped(struct gdb_session *s, unsigned int cpu, enum gdb_stop_reason why,
			uint64_t watch_addr, char *out);
/* Is addr one of ours (an int3 the guest hit because we put it there)? */
bool gdb_session_owns_breakpoint(const struct gdb_session *s, uint64_t addr);
/*
 * The client is gone (detach, kill or disconnect): put back every byte under our
 * breakpoints and clear the debug state. The caller then resumes the guest.
 */
void gdb_session_end(struct gdb_session *s);

#endif
