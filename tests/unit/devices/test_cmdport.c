/* SPDX-License-Identifier: MIT */
/* The command port through the port bus: buffering, flushing, status checks, bad writes. */
#include <stdint.h>
#include <string.h>

#include "check_main.h"
#include "devices/bus.h"
#include "devices/platform.h"
#include "devices/cmdport.h"

static struct bus pio;
static struct cmdport run;
static uint8_t got[2][3 * CMDPORT_BUFFER_SIZE];
static size_t got_len[2];
static unsigned int outputs, statuses;

static void on_output(void *ctx, enum cmdport_stream s, const uint8_t *buf, size_t len)
{
	(void)ctx;
	ck_assert_uint_le(got_len[s] + len, sizeof(got[s]));
	memcpy(got[s] + got_len[s], buf, len);
	got_len[s] += len;
	outputs++;
}

static void on_status(void *ctx)
{
	(void)ctx;
	statuses++;
}

/* A pretend guest RAM of two pages at guest-physical 0x10000. */
static uint8_t ram[2 * CMDPORT_CHUNK_MAX];
#define RAM_GPA 0x10000ull

static uint8_t *guest_bytes(void *ctx, uint64_t gpa, size_t len)
{
	(void)ctx;
	if (gpa < RAM_GPA || gpa - RAM_GPA > sizeof(ram) || len > sizeof(ram) - (gpa - RAM_GPA))
		return NULL;
	return ram + (gpa - RAM_GPA);
}

/* Our pretend stdin: in_data from in_off on, then its end when in_eof. */
static const uint8_t *in_data;
static size_t in_len, in_off;
static bool in_eof;

static long on_input(void *ctx, uint8_t *dst, size_t max)
{
	size_t n = in_len - in_off < max ? in_len - in_off : max;

	(void)ctx;
	if (!n)
		return in_eof ? -1 : 0;
	memcpy(dst, in_data + in_off, n);
	in_off += n;
	return (long)n;
}

static uint32_t ws_new; /* a size to report once, or 0 */

static bool on_winsize(void *ctx, uint32_t *size)
{
	(void)ctx;
	if (!ws_new)
		return false;
	*size = ws_new;
	ws_new = 0;
	return true;
}

/* The host side of the boot point and of the configuration. */
static unsigned int boot_points;
static bool hold;
static char config_text[2 * CMDPORT_CHUNK_MAX + 10];

static bool on_boot_point(void *ctx)
{
	(void)ctx;
	boot_points++;
	return hold;
}

static size_t on_config(void *ctx, uint64_t offset, uint8_t *dst, size_t max, bool *end)
{
	size_t left = sizeof(config_text) - offset, n = left < max ? left : max;

	(void)ctx;
	memcpy(dst, config_text + offset, n);
	*end = n == left;
	return n;
}

static void setup(void)
{
	struct cmdport_host host = { on_output, on_status,  guest_bytes,   NULL,     on_input,
				     NULL,	on_winsize, on_boot_point, on_config };

	memset(got_len, 0, sizeof(got_len));
	outputs = statuses = 0;
	in_data = NULL;
	in_len = in_off = 0;
	in_eof = false;
	ws_new = 0;
	boot_points = 0;
	hold = false;
	for (size_t i = 0; i < sizeof(config_text); i++)
		config_text[i] = (char)('a' + i % 26);
	bus_init(&pio, "pio");
	cmdport_init(&run, &host);
	ck_assert_int_eq(cmdport_register(&run, &pio, PLATFORM_CMDPORT_PORT), 0);
}

static void out8(unsigned int reg, uint8_t v)
{
	ck_assert(bus_write(&pio, PLATFORM_CMDPORT_PORT + reg, &v, 1));
}

static void out32(unsigned int reg, uint32_t v)
{
	ck_assert(bus_write(&pio, PLATFORM_CMDPORT_PORT + reg, &v, 4));
}

static void put(unsigned int reg, const char *s)
{
	while (*s)
		out8(reg, (uint8_t)*s++);
}

START_TEST(test_magic)
{
	uint8_t v = 0;

	ck_assert(bus_read(&pio, PLATFORM_CMDPORT_PORT + CMDPORT_REG_CONTROL, &v, 1));
	ck_assert_uint_eq(v, PLATFORM_CMDPORT_MAGIC);
}
END_TEST

START_TEST(test_streams_buffered_until_flush)
{
	put(CMDPORT_REG_STDOUT, "hello ");
	put(CMDPORT_REG_STDERR, "oops");
	put(CMDPORT_REG_STDOUT, "world");
	ck_assert_uint_eq(outputs, 0);
	out8(CMDPORT_REG_CONTROL, CMDPORT_CONTROL_FLUSH);
	ck_assert_uint_eq(outputs, 2);
	ck_assert_uint_eq(got_len[CMDPORT_STDOUT], 11);
	ck_assert(!memcmp(got[CMDPORT_STDOUT], "hello world", 11));
	ck_assert_uint_eq(got_len[CMDPORT_STDERR], 4);
	ck_assert(!memcmp(got[CMDPORT_STDERR], "oops", 4));
	/* a flush with nothing buffered hands nothing on */
	out8(CMDPORT_REG_CONTROL, CMDPORT_CONTROL_FLUSH);
	ck_assert_uint_eq(outputs, 2);
}
END_TEST

START_TEST(test_full_buffer_passes_on)
{
	for (unsigned int i = 0; i < CMDPORT_BUFFER_SIZE + 10; i++)
		out8(CMDPORT_REG_STDOUT, (uint8_t)i);
	ck_assert_uint_eq(got_len[CMDPORT_STDOUT], CMDPORT_BUFFER_SIZE);
	cmdport_flush(&run);
	ck_assert_uint_eq(got_len[CMDPORT_STDOUT], CMDPORT_BUFFER_SIZE + 10);
	for (unsigned int i = 0; i < CMDPORT_BUFFER_SIZE + 10; i++)
		ck_assert_uint_eq(got[CMDPORT_STDOUT][i], (uint8_t)i);
	ck_assert_uint_eq(run.bytes[CMDPORT_STDOUT], CMDPORT_BUFFER_SIZE + 10);
}
END_TEST

START_TEST(test_status_exit_flushes)
{
	enum cmdport_status_kind kind;
	uint8_t value;

	ck_assert(!cmdport_status(&run, &kind, &value));
	put(CMDPORT_REG_STDOUT, "last");
	out32(CMDPORT_REG_STATUS, CMDPORT_STATUS_WORD(CMDPORT_STATUS_EXITED, 7));
	ck_assert_uint_eq(got_len[CMDPORT_STDOUT], 4);
	ck_assert(cmdport_status(&run, &kind, &value));
	ck_assert_int_eq(kind, CMDPORT_STATUS_EXITED);
	ck_assert_uint_eq(value, 7);
	ck_assert_uint_eq(statuses, 1);
	/* the first status stands */
	out32(CMDPORT_REG_STATUS, CMDPORT_STATUS_WORD(CMDPORT_STATUS_EXITED, 0));
	ck_assert(cmdport_status(&run, &kind, &value));
	ck_assert_uint_eq(value, 7);
	ck_assert_uint_eq(statuses, 1);
	ck_assert_uint_eq(run.rejected, 1);
}
END_TEST

START_TEST(test_status_signal)
{
	enum cmdport_status_kind kind;
	uint8_t value;

	out32(CMDPORT_REG_STATUS, CMDPORT_STATUS_WORD(CMDPORT_STATUS_SIGNALED, 9));
	ck_assert(cmdport_status(&run, &kind, &value));
	ck_assert_int_eq(kind, CMDPORT_STATUS_SIGNALED);
	ck_assert_uint_eq(value, 9);
}
END_TEST

START_TEST(test_bad_status_ignored)
{
	static const uint32_t bad[] = {
		CMDPORT_STATUS_WORD(CMDPORT_STATUS_NONE, 0),
		CMDPORT_STATUS_WORD(CMDPORT_STATUS_SIGNALED, 0),
		CMDPORT_STATUS_WORD(CMDPORT_STATUS_SIGNALED, CMDPORT_MAX_SIGNAL + 1),
		CMDPORT_STATUS_WORD(4, 1),
		0x10000u | CMDPORT_STATUS_WORD(CMDPORT_STATUS_EXITED, 1),
		0xffffffffu,
	};
	enum cmdport_status_kind kind;
	uint8_t value, byte = 1;
	uint16_t half = CMDPORT_STATUS_WORD(CMDPORT_STATUS_EXITED, 1);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		out32(CMDPORT_REG_STATUS, bad[i]);
	/* only a 32-bit write at offset 4 is a status */
	ck_assert(bus_write(&pio, PLATFORM_CMDPORT_PORT + CMDPORT_REG_STATUS, &half, 2));
	ck_assert(bus_write(&pio, PLATFORM_CMDPORT_PORT + CMDPORT_REG_STATUS, &byte, 1));
	out8(CMDPORT_REG_CONTROL, 7);
	out8(3, 1);
	ck_assert(!cmdport_status(&run, &kind, &value));
	ck_assert_uint_eq(statuses, 0);
	ck_assert_uint_eq(run.rejected, sizeof(bad) / sizeof(bad[0]) + 4);
}
END_TEST

START_TEST(test_chunk)
{
	memcpy(ram + 100, "from memory", 11);
	out32(CMDPORT_REG_CHUNK_LO, (uint32_t)(RAM_GPA + 100));
	out32(CMDPORT_REG_CHUNK_HI, 0);
	put(CMDPORT_REG_STDERR, "first ");
	out32(CMDPORT_REG_CHUNK, CMDPORT_CHUNK_WORD(CMDPORT_STDERR, 11));
	ck_assert_uint_eq(got_len[CMDPORT_STDERR], 17);
	ck_assert(!memcmp(got[CMDPORT_STDERR], "first from memory", 17));
	ck_assert_uint_eq(run.chunks, 1);
	/* a whole page at the end of RAM is fine */
	out32(CMDPORT_REG_CHUNK_LO, (uint32_t)(RAM_GPA + CMDPORT_CHUNK_MAX));
	out32(CMDPORT_REG_CHUNK, CMDPORT_CHUNK_WORD(CMDPORT_STDOUT, CMDPORT_CHUNK_MAX));
	ck_assert_uint_eq(got_len[CMDPORT_STDOUT], CMDPORT_CHUNK_MAX);
}
END_TEST

START_TEST(test_bad_chunks)
{
	uint8_t byte = 1;

	out32(CMDPORT_REG_CHUNK_LO, (uint32_t)RAM_GPA);
	out32(CMDPORT_REG_CHUNK, CMDPORT_CHUNK_WORD(CMDPORT_STDOUT, 0)); /* empty */
	out32(CMDPORT_REG_CHUNK,
	      CMDPORT_CHUNK_WORD(CMDPORT_STDOUT, CMDPORT_CHUNK_MAX + 1)); /* too long */
	out32(CMDPORT_REG_CHUNK, 0x7fffffffu);
	out32(CMDPORT_REG_CHUNK_LO,
	      (uint32_t)(RAM_GPA + CMDPORT_CHUNK_MAX + 1)); /* runs past RAM */
	out32(CMDPORT_REG_CHUNK, CMDPORT_CHUNK_WORD(CMDPORT_STDOUT, CMDPORT_CHUNK_MAX));
	out32(CMDPORT_REG_CHUNK_HI, 1); /* above 4 GiB: no RAM there */
	out32(CMDPORT_REG_CHUNK, CMDPORT_CHUNK_WORD(CMDPORT_STDOUT, 1));
	ck_assert(bus_write(&pio, PLATFORM_CMDPORT_PORT + CMDPORT_REG_CHUNK, &byte, 1));
	ck_assert(bus_write(&pio, PLATFORM_CMDPORT_PORT + CMDPORT_REG_CHUNK_LO, &byte, 1));
	ck_assert_uint_eq(got_len[CMDPORT_STDOUT] + got_len[CMDPORT_STDERR], 0);
	ck_assert_uint_eq(run.chunks, 0);
	ck_assert_uint_eq(run.rejected, 7);
}
END_TEST

START_TEST(test_decode)
{
	enum cmdport_status_kind kind;
	uint8_t value;

	ck_assert_int_eq(cmdport_status_decode(CMDPORT_STATUS_WORD(CMDPORT_STATUS_EXITED, 255),
					       &kind, &value),
			 0);
	ck_assert_uint_eq(value, 255);
	ck_assert_int_eq(cmdport_status_decode(CMDPORT_STATUS_WORD(CMDPORT_STATUS_INIT_FAILED, 2),
					       &kind, &value),
			 0);
	ck_assert_int_eq(kind, CMDPORT_STATUS_INIT_FAILED);
	ck_assert_int_ne(cmdport_status_decode(CMDPORT_STATUS_WORD(9, 0), &kind, &value), 0);
}
END_TEST

static uint32_t in32(unsigned int reg)
{
	uint32_t v = 0xdeadbeef;

	ck_assert(bus_read(&pio, PLATFORM_CMDPORT_PORT + reg, &v, 4));
	return v;
}

/* stdin arrives in the page at the chunk address, a chunk at most per read, then EOF. */
START_TEST(test_stdin_chunks)
{
	static uint8_t data[CMDPORT_CHUNK_MAX + 100];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	out32(CMDPORT_REG_CHUNK_LO, (uint32_t)RAM_GPA + CMDPORT_CHUNK_MAX);
	out32(CMDPORT_REG_CHUNK_HI, 0);
	ck_assert_uint_eq(in32(CMDPORT_REG_STDIN), 0); /* nothing yet: ask again later */
	in_data = data;
	in_len = sizeof(data);
	ck_assert_uint_eq(in32(CMDPORT_REG_STDIN), CMDPORT_CHUNK_MAX);
	ck_assert(!memcmp(ram + CMDPORT_CHUNK_MAX, data, CMDPORT_CHUNK_MAX));
	ck_assert_uint_eq(in32(CMDPORT_REG_STDIN), 100);
	ck_assert(!memcmp(ram + CMDPORT_CHUNK_MAX, data + CMDPORT_CHUNK_MAX, 100));
	ck_assert_uint_eq(in32(CMDPORT_REG_STDIN), 0);
	in_eof = true;
	ck_assert_uint_eq(in32(CMDPORT_REG_STDIN), CMDPORT_STDIN_EOF);
	ck_assert_uint_eq(run.stdin_bytes, sizeof(data));
}
END_TEST

/* A page that is not all RAM gets nothing written and nothing taken from stdin. */
START_TEST(test_stdin_bad_page)
{
	static const uint8_t data[] = "abc";

	in_data = data;
	in_len = 3;
	out32(CMDPORT_REG_CHUNK_LO, (uint32_t)RAM_GPA + CMDPORT_CHUNK_MAX + 1);
	out32(CMDPORT_REG_CHUNK_HI, 0);
	ck_assert_uint_eq(in32(CMDPORT_REG_STDIN), 0);
	ck_assert_uint_eq(in_off, 0);
	ck_assert_uint_eq(run.rejected, 1);
	/* a byte read of the register is not a request */
	uint8_t b = 0xff;
	out32(CMDPORT_REG_CHUNK_LO, (uint32_t)RAM_GPA);
	ck_assert(bus_read(&pio, PLATFORM_CMDPORT_PORT + CMDPORT_REG_STDIN, &b, 1));
	ck_assert_uint_eq(b, 0);
	ck_assert_uint_eq(in_off, 0);
}
END_TEST

/* A new terminal size rides on the next stdin answer; +24 then says what it is. */
START_TEST(test_stdin_winsize)
{
	out32(CMDPORT_REG_CHUNK_LO, (uint32_t)RAM_GPA);
	out32(CMDPORT_REG_CHUNK_HI, 0);
	ck_assert_uint_eq(in32(CMDPORT_REG_WINSIZE), 0);
	ws_new = 24u << 16 | 80;
	ck_assert_uint_eq(in32(CMDPORT_REG_STDIN), CMDPORT_STDIN_WINSIZE);
	ck_assert_uint_eq(in32(CMDPORT_REG_WINSIZE), 24u << 16 | 80);
	ck_assert_uint_eq(in32(CMDPORT_REG_STDIN), 0); /* said once */
	in_eof = true;
	ws_new = 50u << 16 | 132;
	ck_assert_uint_eq(in32(CMDPORT_REG_STDIN), CMDPORT_STDIN_EOF);
}
END_TEST

/* The boot point: only the magic word, only once; the guest waits while the host holds it. */
START_TEST(test_boot_point)
{
	ck_assert_uint_eq(in32(CMDPORT_REG_BOOT_POINT), 1); /* nothing held: go on */
	out32(CMDPORT_REG_BOOT_POINT, 0x1234);
	ck_assert_uint_eq(boot_points, 0);
	ck_assert_uint_eq(run.rejected, 1);
	hold = true;
	out32(CMDPORT_REG_BOOT_POINT, CMDPORT_BOOT_POINT_MAGIC);
	ck_assert_uint_eq(boot_points, 1);
	ck_assert_uint_eq(in32(CMDPORT_REG_BOOT_POINT), 0);
	out32(CMDPORT_REG_BOOT_POINT, CMDPORT_BOOT_POINT_MAGIC); /* a second one: ignored */
	ck_assert_uint_eq(boot_points, 1);
	ck_assert_uint_eq(run.rejected, 2);
	cmdport_boot_release(&run);
	ck_assert_uint_eq(in32(CMDPORT_REG_BOOT_POINT), 1);
	out8(CMDPORT_REG_BOOT_POINT, 1); /* a byte write is not a boot point */
	ck_assert_uint_eq(run.rejected, 3);
}
END_TEST

START_TEST(test_boot_point_not_held)
{
	out32(CMDPORT_REG_BOOT_POINT, CMDPORT_BOOT_POINT_MAGIC);
	ck_assert_uint_eq(boot_points, 1);
	ck_assert_uint_eq(in32(CMDPORT_REG_BOOT_POINT), 1);
}
END_TEST

/* The configuration comes a page at a time, the last piece marked, then nothing more. */
START_TEST(test_config_chunks)
{
	out32(CMDPORT_REG_CHUNK_LO, (uint32_t)RAM_GPA);
	out32(CMDPORT_REG_CHUNK_HI, 0);
	ck_assert_uint_eq(in32(CMDPORT_REG_CONFIG), CMDPORT_CHUNK_MAX);
	ck_assert(!memcmp(ram, config_text, CMDPORT_CHUNK_MAX));
	ck_assert_uint_eq(in32(CMDPORT_REG_CONFIG), CMDPORT_CHUNK_MAX);
	ck_assert(!memcmp(ram, config_text + CMDPORT_CHUNK_MAX, CMDPORT_CHUNK_MAX));
	ck_assert_uint_eq(in32(CMDPORT_REG_CONFIG), 10 | CMDPORT_CONFIG_END);
	ck_assert(!memcmp(ram, config_text + 2 * CMDPORT_CHUNK_MAX, 10));
	ck_assert_uint_eq(in32(CMDPORT_REG_CONFIG), CMDPORT_CONFIG_END);
	ck_assert_uint_eq(run.rejected, 0);
}
END_TEST

/* A page outside RAM gets nothing, is counted, and the guest may try again elsewhere. */
START_TEST(test_config_bad_page)
{
	out32(CMDPORT_REG_CHUNK_LO, (uint32_t)RAM_GPA + CMDPORT_CHUNK_MAX + 1);
	out32(CMDPORT_REG_CHUNK_HI, 0);
	ck_assert_uint_eq(in32(CMDPORT_REG_CONFIG), CMDPORT_CONFIG_FAILED);
	ck_assert_uint_eq(run.rejected, 1);
	out32(CMDPORT_REG_CHUNK_HI, 1);
	ck_assert_uint_eq(in32(CMDPORT_REG_CONFIG), CMDPORT_CONFIG_FAILED);
	ck_assert_uint_eq(run.rejected, 2);
	out32(CMDPORT_REG_CHUNK_LO, (uint32_t)RAM_GPA);
	out32(CMDPORT_REG_CHUNK_HI, 0);
	ck_assert_uint_eq(in32(CMDPORT_REG_CONFIG), CMDPORT_CHUNK_MAX);
	ck_assert(!memcmp(ram, config_text, CMDPORT_CHUNK_MAX));
	out32(CMDPORT_REG_CONFIG, 5); /* the register is read-only */
	ck_assert_uint_eq(run.rejected, 3);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("command port");
	TCase *tc = tcase_create("ports");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_magic);
	tcase_add_test(tc, test_streams_buffered_until_flush);
	tcase_add_test(tc, test_full_buffer_passes_on);
	tcase_add_test(tc, test_status_exit_flushes);
	tcase_add_test(tc, test_status_signal);
	tcase_add_test(tc, test_bad_status_ignored);
	tcase_add_test(tc, test_decode);
	tcase_add_test(tc, test_chunk);
	tcase_add_test(tc, test_bad_chunks);
	tcase_add_test(tc, test_stdin_chunks);
	tcase_add_test(tc, test_stdin_bad_page);
	tcase_add_test(tc, test_stdin_winsize);
	tcase_add_test(tc, test_boot_point);
	tcase_add_test(tc, test_boot_point_not_held);
	tcase_add_test(tc, test_config_chunks);
	tcase_add_test(tc, test_config_bad_page);
	suite_add_tcase(s, tc);
	return s;
}
