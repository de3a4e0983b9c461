/* SPDX-License-Identifier: MIT */
/*
 * The command port: how the init of a `vmm run` guest hands the command's output and exit
 * status back to the VMM, and gets our stdin and terminal size from it, through
 * PLATFORM_CMDPORT_LEN registers: on x86 the ports PLATFORM_CMDPORT_PORT.. (devices/platform.h),
 * on arm64, which has no port I/O, MMIO at ARM64_CMDPORT_ADDR (devices/arm64/platform.h).
 * Offsets, widths and values are the same on both.
 *
 *   +0  write: bytes of the command's stdout (outb, or rep outsb for a whole chunk)
 *   +1  write: bytes of its stderr
 *   +2  write CMDPORT_CONTROL_FLUSH: pass the buffered bytes on now; read: PLATFORM_CMDPORT_MAGIC
 *   +4  32-bit write: the final status, CMDPORT_STATUS_WORD(kind, value)
 *   +8, +12  32-bit writes: low and high half of a chunk's guest-physical address
 *   +16 32-bit write CMDPORT_CHUNK_WORD(stream, len): len bytes (1-4096) at that address
 *       belong to the stream; the VMM copies them out at once
 *  +20 32-bit read: stdin. The VMM copies up to a chunk of our stdin into the page at the
 *       chunk address and answers CMDPORT_STDIN_WORD: the byte count (0: nothing yet, ask
 *       again later), with CMDPORT_STDIN_EOF once our stdin has ended and all was taken,
 *       and CMDPORT_STDIN_WINSIZE when our terminal's size changed since the last answer
 *  +24 32-bit read: that size, rows << 16 | columns (0 when there is no terminal)
 *  +28 32-bit write CMDPORT_BOOT_POINT_MAGIC: the init reached its boot point (before it
 *       loads a driver or mounts anything, see docs/snapshot.md "Booting from a cache");
 *       the VMM may hold the guest there to snapshot it. 32-bit read: 1 once the guest may
 *       go on, 0 while the VMM holds it (the init asks again)
 *  +32 32-bit read: the run's configuration. The VMM copies the next up to a chunk of it
 *       into the page at the chunk address and answers the byte count, with
 *       CMDPORT_CONFIG_END on the last piece (a count of 0 with it: nothing more), or
 *       CMDPORT_CONFIG_FAILED when the page is not in RAM
 *
 * A string write (rep outsb) still exits once per byte, so the chunk registers are how
 * output should travel: one exit per chunk of up to a page. The byte ports remain for a
 * guest that cannot learn a physical address.
 *
 * Every value comes from the guest and is checked: a status word with an unknown kind,
 * a signal number out of range or stray high bits, a second status, or a write anywhere
 * else is ignored and counted, never fatal. Bytes are buffered per stream and handed to
 * the host's output callback in chunks, because a string write arrives one byte at a time.
 */
#ifndef DEVICES_CMDPORT_H
#define DEVICES_CMDPORT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/bus.h"

#define CMDPORT_REG_STDOUT 0
#define CMDPORT_REG_STDERR 1
#define CMDPORT_REG_CONTROL 2
#define CMDPORT_REG_STATUS 4
#define CMDPORT_REG_CHUNK_LO 8
#define CMDPORT_REG_CHUNK_HI 12
#define CMDPORT_REG_CHUNK 16
#define CMDPORT_REG_STDIN 20
#define CMDPORT_REG_WINSIZE 24
#define CMDPORT_REG_BOOT_POINT 28
#define CMDPORT_REG_CONFIG 32
#define CMDPORT_BOOT_POINT_MAGIC 0x544f4f42u /* "BOOT" */
#define CMDPORT_CONFIG_END (1u << 31)
#define CMDPORT_CONFIG_FAILED (1u << 30)
#define CMDPORT_CONFIG_LEN(word) ((word)&0xffffu)
#define CMDPORT_STDIN_EOF (1u << 31)
#define CMDPORT_STDIN_WINSIZE (1u << 30)
#define CMDPORT_STDIN_LEN(word) ((word)&0xffffu)
#define CMDPORT_CHUNK_MAX 4096
#define CMDPORT_CHUNK_WORD(stream, len) ((uint32_t)(stream) << 31 | (uint32_t)(len))
#define CMDPORT_CONTROL_FLUSH 1
#define CMDPORT_BUFFER_SIZE 4096
#define CMDPORT_MAX_SIGNAL 64 /* Linux signal numbers are 1..64 */

enum cmdport_status_kind {
	CMDPORT_STATUS_NONE = 0,
	CMDPORT_STATUS_EXITED = 1,	/* value: the exit code, 0-255 */
	CMDPORT_STATUS_SIGNALED = 2,	/* value: the signal number, 1-CMDPORT_MAX_SIGNAL */
	CMDPORT_STATUS_INIT_FAILED = 3, /* value: an errno from the init's set-up, 0-255 */
};

#define CMDPORT_STATUS_WORD(kind, value) ((uint32_t)(kind) << 8 | (uint32_t)(value))

enum cmdport_stream { CMDPORT_STDOUT = 0, CMDPORT_STDERR = 1 };

struct cmdport_host {
	/* called with the device lock held, so chunks of one stream stay in order */
	void (*output)(void *ctx, enum cmdport_stream stream, const uint8_t *buf, size_t len);
	/* a valid status arrived (called with the lock held; may be NULL) */
	void (*status)(void *ctx);
	/* the host address of guest-physical [gpa, gpa + len), or NULL unless all RAM */
	uint8_t *(*guest_bytes)(void *ctx, uint64_t gpa, size_t len);
	void *ctx;
	/*
	 * Up to max bytes of our stdin into dst without waiting: the count, 0 when none is
	 * there yet, -1 once it has ended. Called with the device lock held; NULL: stdin
	 * is always at its end.
	 */
	long (*input)(void *input_ctx, uint8_t *dst, size_t max);
	void *input_ctx;
	/* true, with rows << 16 | columns, when the terminal's size changed (may be NULL) */
	bool (*winsize)(void *input_ctx, uint32_t *size);
	/*
	 * The guest reached its boot point (once per run): true to hold it there until
	 * cmdport_boot_release(). Called with the device lock held; NULL: never hold.
	 */
	bool (*boot_point)(void *ctx);
	/*
	 * Up to max bytes of the run's configuration from offset on into dst: the count, and
	 * *end when nothing follows them. Called with the lock held; NULL: an empty one.
	 */
	size_t (*config)(void *ctx, uint64_t offset, uint8_t *dst, size_t max, bool *end);
};

struct cmdport {
	pthread_mutex_t lock;
	struct cmdport_host host;
	uint8_t buf[2][CMDPORT_BUFFER_SIZE];
	size_t len[2];
	enum cmdport_status_kind kind; /* CMDPORT_STATUS_NONE until the guest reports one */
	uint8_t value;
	uint64_t bytes[2];    /* bytes received per stream */
	uint64_t rejected;    /* writes ignored as invalid */
	bool rejected_logged; /* the first rejected write is logged, the rest counted */
	uint64_t chunk_gpa;   /* set by the guest through +8 and +12 */
	uint64_t chunks;      /* chunks received */
	uint64_t stdin_bytes; /* bytes of our stdin handed to the guest */
	uint32_t winsize;     /* the last size reported, for +24 */
	bool boot_point;      /* the guest reported its boot point */
	bool boot_held;	      /* ... and the host holds it there */
	uint64_t config_off;  /* how much of the configuration the guest has had */
	bool config_done;     /* ... all of it */
};

void cmdport_init(struct cmdport *run, const struct cmdport_host *host);
/* On bus (port I/O or MMIO, as the architecture has it) at base. */
int cmdport_register(struct cmdport *run, struct bus *bus, uint64_t base);
/* Hand on whatever is still buffered (at the end, in case the guest never flushed). */
void cmdport_flush(struct cmdport *run);
/* Let a guest held at its boot point go on (any thread). */
void cmdport_boot_release(struct cmdport *run);
/* The reported status; false while there is none. */
bool cmdport_status(struct cmdport *run, enum cmdport_status_kind *kind, uint8_t *value);
/* Check a status word as the device does: 0 and the parts, or -EINVAL. */
int cmdport_status_decode(uint32_t word, enum cmdport_status_kind *kind, uint8_t *value);

#endif
