// SPDX-License-Identifier: MIT
/* The command port: a `vmm run` guest's output and exit status, on port I/O or MMIO. */
#include "devices/cmdport.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "devices/platform.h"

int cmdport_status_decode(uint32_t word, enum cmdport_status_kind *kind, uint8_t *value)
{
	uint32_t k = word >> 8, v = word & 0xff;

	switch (k) {
	case CMDPORT_STATUS_EXITED:
	case CMDPORT_STATUS_INIT_FAILED:
		break;
	case CMDPORT_STATUS_SIGNALED:
		if (v < 1 || v > CMDPORT_MAX_SIGNAL)
			return -EINVAL;
		break;
	default: /* CMDPORT_STATUS_NONE included: "no status" cannot be reported */
		return -EINVAL;
	}
	*kind = (enum cmdport_status_kind)k;
	*value = (uint8_t)v;
	return 0;
}

static void flush_stream(struct cmdport *run, enum cmdport_stream s)
{
	if (run->len[s] && run->host.output)
		run->host.output(run->host.ctx, s, run->buf[s], run->len[s]);
	run->len[s] = 0;
}

static void reject(struct cmdport *run, const char *what, uint64_t offset, uint64_t value)
{
	run->rejected++;
	if (run->rejected_logged)
		return;
	run->rejected_logged = true;
	fprintf(stderr,
		"vmm: command port: ignored %s (offset %llu, value 0x%llx); further ones are "
		"counted only\n",
		what, (unsigned long long)offset, (unsigned long long)value);
}

/* One chunk from guest memory; the address and length are the guest's, so both are checked. */
static void chunk(struct cmdport *run, uint32_t word)
{
	enum cmdport_stream s = (enum cmdport_stream)(word >> 31);
	size_t len = word & 0x7fffffff;
	const uint8_t *src = NULL;

	if (len >= 1 && len <= CMDPORT_CHUNK_MAX && run->host.guest_bytes)
		src = run->host.guest_bytes(run->host.ctx, run->chunk_gpa, len);
	if (!src) {
		reject(run, "chunk", CMDPORT_REG_CHUNK, word);
		return;
	}
	flush_stream(run, s); /* bytes sent before through the byte port come first */
	if (run->host.output)
		run->host.output(run->host.ctx, s, src, len);
	run->bytes[s] += len;
	run->chunks++;
}

/*
 * The guest's page for a chunk the VMM writes (stdin, the configuration): a whole
 * CMDPORT_CHUNK_MAX at the address the guest gave, or NULL (rejected, as what) when that is
 * not all guest RAM.
 */
static uint8_t *guest_page(struct cmdport *run, const char *what, uint64_t reg)
{
	uint8_t *dst = run->host.guest_bytes ? run->host.guest_bytes(run->host.ctx, run->chunk_gpa,
								     CMDPORT_CHUNK_MAX)
					     : NULL;

	if (!dst)
		reject(run, what, reg, run->chunk_gpa);
	return dst;
}

/* One chunk of our stdin into the guest's page; the answer word says how much. */
static uint32_t stdin_chunk(struct cmdport *run)
{
	uint8_t *dst;
	long n;

	if (!run->host.input)
		return CMDPORT_STDIN_EOF;
	dst = guest_page(run, "stdin read to a page outside RAM", CMDPORT_REG_STDIN);
	if (!dst)
		return 0;
	n = run->host.input(run->host.input_ctx, dst, CMDPORT_CHUNK_MAX);
	if (n < 0)
		return CMDPORT_STDIN_EOF;
	run->stdin_bytes += (uint64_t)n;
	if (run->host.winsize && run->host.winsize(run->host.input_ctx, &run->winsize))
		return (uint32_t)n | CMDPORT_STDIN_WINSIZE;
	return (uint32_t)n;
}

/* The next piece of the configuration into the guest's page; the answer word says how much. */
static uint32_t config_chunk(struct cmdport *run)
{
	uint8_t *dst;
	bool end = true;
	size_t n = 0;

	if (run->config_done)
		return CMDPORT_CONFIG_END;
	dst = guest_page(run, "config read to a page outside RAM", CMDPORT_REG_CONFIG);
	if (!dst)
		return CMDPORT_CONFIG_FAILED;
	if (run->host.config)
		n = run->host.config(run->host.ctx, run->config_off, dst, CMDPORT_CHUNK_MAX, &end);
	if (n > CMDPORT_CHUNK_MAX)
		n = CMDPORT_CHUNK_MAX;
	run->config_off += n;
	run->config_done = end;
	return (uint32_t)n | (end ? CMDPORT_CONFIG_END : 0);
}

/* The guest's "boot point" write: once, and only the magic word. */
static void boot_point(struct cmdport *run, uint32_t word, unsigned int len)
{
	if (len != 4 || word != CMDPORT_BOOT_POINT_MAGIC) {
		reject(run, "malformed boot point", CMDPORT_REG_BOOT_POINT, word);
		return;
	}
	if (run->boot_point) {
		reject(run, "second boot point", CMDPORT_REG_BOOT_POINT, word);
		return;
	}
	run->boot_point = true;
	run->boot_held = run->host.boot_point && run->host.boot_point(run->host.ctx);
}

static void run_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct cmdport *run = opaque;

	memset(data, 0, len);
	if (offset == CMDPORT_REG_CONTROL) {
		*(uint8_t *)data = PLATFORM_CMDPORT_MAGIC;
	} else if (offset == CMDPORT_REG_STDIN && len == 4) {
		uint32_t word;

		pthread_mutex_lock(&run->lock);
		word = stdin_chunk(run);
		pthread_mutex_unlock(&run->lock);
		memcpy(data, &word, 4);
	} else if (offset == CMDPORT_REG_WINSIZE && len == 4) {
		pthread_mutex_lock(&run->lock);
		memcpy(data, &run->winsize, 4);
		pthread_mutex_unlock(&run->lock);
	} else if ((offset == CMDPORT_REG_BOOT_POINT || offset == CMDPORT_REG_CONFIG) && len == 4) {
		uint32_t word;

		pthread_mutex_lock(&run->lock);
		if (offset == CMDPORT_REG_CONFIG)
			word = config_chunk(run);
		else
			word = !run->boot_held;
		pthread_mutex_unlock(&run->lock);
		memcpy(data, &word, 4);
	}
}

static void run_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct cmdport *run = opaque;
	const uint8_t *bytes = data;
	uint32_t word = 0;

	pthread_mutex_lock(&run->lock);
	switch (offset) {
	case CMDPORT_REG_STDOUT:
	case CMDPORT_REG_STDERR:
		for (unsigned int i = 0; i < len; i++) {
			enum cmdport_stream s = (enum cmdport_stream)offset;

			if (run->len[s] == CMDPORT_BUFFER_SIZE)
				flush_stream(run, s);
			run->buf[s][run->len[s]++] = bytes[i];
			run->bytes[s]++;
		}
		break;
	case CMDPORT_REG_CONTROL:
		if (len == 1 && bytes[0] == CMDPORT_CONTROL_FLUSH) {
			flush_stream(run, CMDPORT_STDOUT);
			flush_stream(run, CMDPORT_STDERR);
		} else {
			reject(run, "control write", offset, bytes[0]);
		}
		break;
	case CMDPORT_REG_STATUS: {
		enum cmdport_status_kind kind;
		uint8_t value;

		if (len == 4)
			memcpy(&word, data, 4);
		if (len != 4 || cmdport_status_decode(word, &kind, &value)) {
			reject(run, "malformed status", offset, word);
		} else if (run->kind != CMDPORT_STATUS_NONE) {
			reject(run, "second status", offset, word);
		} else {
			flush_stream(run, CMDPORT_STDOUT);
			flush_stream(run, CMDPORT_STDERR);
			run->kind = kind;
			run->value = value;
			if (run->host.status)
				run->host.status(run->host.ctx);
		}
		break;
	}
	case CMDPORT_REG_CHUNK_LO:
	case CMDPORT_REG_CHUNK_HI:
		if (len != 4) {
			reject(run, "short chunk address write", offset, bytes[0]);
			break;
		}
		memcpy(&word, data, 4);
		if (offset == CMDPORT_REG_CHUNK_LO)
			run->chunk_gpa = (run->chunk_gpa & ~0xffffffffull) | word;
		else
			run->chunk_gpa = (run->chunk_gpa & 0xffffffffull) | (uint64_t)word << 32;
		break;
	case CMDPORT_REG_CHUNK:
		if (len == 4)
			memcpy(&word, data, 4);
		chunk(run, len == 4 ? word : 0);
		break;
	case CMDPORT_REG_BOOT_POINT:
		if (len == 4)
			memcpy(&word, data, 4);
		boot_point(run, word, len);
		break;
	default:
		reject(run, "write", offset, bytes[0]);
		break;
	}
	pthread_mutex_unlock(&run->lock);
}

static const struct bus_device_ops run_ops = { run_read, run_write };

void cmdport_init(struct cmdport *run, const struct cmdport_host *host)
{
	memset(run, 0, sizeof(*run));
	pthread_mutex_init(&run->lock, NULL);
	run->host = *host;
}

int cmdport_register(struct cmdport *run, struct bus *bus, uint64_t base)
{
	return bus_register(bus, base, PLATFORM_CMDPORT_LEN, &run_ops, run, "run");
}

void cmdport_flush(struct cmdport *run)
{
	pthread_mutex_lock(&run->lock);
	flush_stream(run, CMDPORT_STDOUT);
	flush_stream(run, CMDPORT_STDERR);
	pthread_mutex_unlock(&run->lock);
}

void cmdport_boot_release(struct cmdport *run)
{
	pthread_mutex_lock(&run->lock);
	run->boot_held = false;
	pthread_mutex_unlock(&run->lock);
}

bool cmdport_status(struct cmdport *run, enum cmdport_status_kind *kind, uint8_t *value)
{
	bool have;

	pthread_mutex_lock(&run->lock);
	have = run->kind != CMDPORT_STATUS_NONE;
	*kind = run->kind;
	*value = run->value;
	pthread_mutex_unlock(&run->lock);
	return have;
}
