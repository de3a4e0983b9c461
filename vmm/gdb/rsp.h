/* SPDX-License-Identifier: MIT */
/*
 * GDB's remote serial protocol, the part that is only bytes: framing packets in and out,
 * and reading a packet into one command. No sockets, no KVM, no threads: the stub
 * (vmm/gdb/stub.c) feeds it what the client sent and acts on the commands.
 *
 * A packet on the wire is "$payload#cc", cc the payload's byte sum mod 256 in two hex
 * digits. In a payload, '}' escapes the next byte (sent XOR 0x20). A lone 0x03 outside a
 * packet is the client's Ctrl-C. '+' and '-' acknowledge. GDB's manual, "Remote Protocol".
 *
 * Everything here comes from the client and is untrusted: a packet longer than
 * GDB_PACKET_MAX is dropped whole (and NAKed), a number longer than 16 hex digits or a
 * length beyond GDB_MEM_MAX is a malformed command, never a wrapped value.
 */
#ifndef VMM_GDB_RSP_H
#define VMM_GDB_RSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GDB_PACKET_MAX 4096 /* payload bytes we accept, unescaped; told to gdb as PacketSize */
#define GDB_MEM_MAX 2048    /* bytes one m/M/X may move: twice that in hex fits a packet */

/* The receiving half of one connection. */
struct gdb_rx {
	enum { GDB_RX_IDLE, GDB_RX_DATA, GDB_RX_ESCAPE, GDB_RX_SUM1, GDB_RX_SUM2 } state;
	uint8_t sum;   /* of the bytes as sent, escapes included */
	uint8_t want;  /* the checksum the client sent */
	bool overflow; /* this packet outgrew buf: it will be NAKed */
	size_t len;
	uint8_t buf[GDB_PACKET_MAX + 1]; /* the payload, unescaped, NUL-terminated */
};

enum gdb_rx_event {
	GDB_RX_NONE,	  /* nothing complete yet */
	GDB_RX_PACKET,	  /* buf[0..len) holds a packet whose checksum matched: send '+' */
	GDB_RX_BAD,	  /* a packet with a wrong checksum or too long: send '-' */
	GDB_RX_INTERRUPT, /* Ctrl-C: stop the guest */
};

void gdb_rx_init(struct gdb_rx *rx);
/* Take one byte from the client. '+' and '-' are consumed silently. */
enum gdb_rx_event gdb_rx_byte(struct gdb_rx *rx, uint8_t c);

/*
 * Frame payload as "$...#cc" into out, escaping '$', '#', '}' and '*'. Returns the framed
 * length, or 0 when it does not fit in cap (the caller's buffer is then unchanged).
 */
size_t gdb_frame(const void *payload, size_t len, char *out, size_t cap);

/* Hex helpers: n bytes to 2n lowercase digits (no NUL); 2n digits to n bytes (-1: bad). */
void gdb_hex_encode(const void *bytes, size_t n, char *out);
int gdb_hex_decode(const char *hex, size_t n, void *bytes);

enum gdb_cmd_kind {
	GDB_CMD_UNSUPPORTED,	/* answer with an empty packet */
	GDB_CMD_MALFORMED,	/* answer "E01" */
	GDB_CMD_STOP_REASON,	/* ? */
	GDB_CMD_READ_REGS,	/* g */
	GDB_CMD_WRITE_REGS,	/* G data (hex in data, datalen digits) */
	GDB_CMD_READ_REG,	/* p reg */
	GDB_CMD_WRITE_REG,	/* P reg=data */
	GDB_CMD_READ_MEM,	/* m addr,len */
	GDB_CMD_WRITE_MEM,	/* M addr,len:hex (hex true) or X addr,len:binary */
	GDB_CMD_CONTINUE,	/* c [addr], or vCont with only c actions */
	GDB_CMD_STEP,		/* s [addr], or vCont with an s action: thread steps, others stay */
	GDB_CMD_INSERT_BP,	/* Z type,addr,kind */
	GDB_CMD_REMOVE_BP,	/* z type,addr,kind */
	GDB_CMD_SET_THREAD,	/* H op thread */
	GDB_CMD_THREAD_ALIVE,	/* T thread */
	GDB_CMD_THREADS_FIRST,	/* qfThreadInfo */
	GDB_CMD_THREADS_NEXT,	/* qsThreadInfo */
	GDB_CMD_CURRENT_THREAD, /* qC */
	GDB_CMD_SUPPORTED,	/* qSupported[:features] */
	GDB_CMD_ATTACHED,	/* qAttached */
	GDB_CMD_VCONT_QUERY,	/* vCont? */
	GDB_CMD_DETACH,		/* D */
	GDB_CMD_KILL,		/* k, vKill */
};

/* Breakpoint types of Z/z, as gdb numbers them. */
enum gdb_bp_type {
	GDB_BP_SOFTWARE = 0,
	GDB_BP_HARDWARE = 1,
	GDB_WATCH_WRITE = 2,
	GDB_WATCH_READ = 3,
	GDB_WATCH_ACCESS = 4,
};

#define GDB_THREAD_ALL (-1) /* "-1": every thread */
#define GDB_THREAD_ANY 0    /* "0": any thread */

/* One command, read from a packet; pointers point into the packet. */
struct gdb_cmd {
	enum gdb_cmd_kind kind;
	uint64_t addr;	     /* m M X Z z, and c/s with has_addr */
	uint64_t len;	     /* m M X: bytes; Z z: gdb's "kind" (breakpoint or watch length) */
	bool has_addr;	     /* c s: resume at addr */
	bool hex;	     /* WRITE_MEM: data is hex (M) rather than binary (X) */
	unsigned int reg;    /* p P */
	int bp_type;	     /* Z z: enum gdb_bp_type */
	int thread;	     /* H T, vCont's s action: a thread id, or GDB_THREAD_ALL/ANY */
	char op;	     /* H: 'g' (registers and memory) or 'c' (resume) */
	const uint8_t *data; /* G P M X: what follows the header */
	size_t datalen;
};

/* Read one packet's payload (as gdb_rx delivered it) into *cmd. */
void gdb_parse(const uint8_t *pkt, size_t len, struct gdb_cmd *cmd);

#endif
