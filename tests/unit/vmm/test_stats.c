/* SPDX-License-Identifier: MIT */
/*
 * Exit statistics: a struct vm put together by hand (no KVM) with known counters, then
 * the table and the JSON checked for exactly those numbers. The JSON is parsed back by a
 * small validating parser that can also fetch one value by its path.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "check_main.h"
#include "virtio/blk/blk.h"
#include "vmm/stats.h"
#include "vmm/vm.h"

static struct vm vm;
static struct blk disk;
static struct vcpu vcpus[2];

static void nop_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	(void)opaque;
	(void)offset;
	memset(data, 0, len);
}

static void nop_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	(void)opaque;
	(void)offset;
	(void)data;
	(void)len;
}

static const struct bus_device_ops nop_ops = { .read = nop_read, .write = nop_write };

/*
 * The numbers every test sees:
 *   vCPU 0: 10240 port I/O, 7 MMIO, 1 system event, 2 interrupted; vCPU 1: 5 port I/O,
 *     3 MMIO, 1 interrupted.
 *   port I/O: com1 0x3f8-0x3ff 10240 writes + 3 reads; boot-marker 0x440 2 writes
 *     (registered after com1, before it in address order); 1 unhandled read.
 *   MMIO: pci-ecam 0xe0000000 (1 MiB) 10 reads + 0 writes.
 *   virtio-blk0 at 00:01.0 with 2 queues: kicks 3+1, requests 4+2, 5 MSI-X, 0 INTx,
 *     0 notify exits, 120 BAR reads, 80 BAR writes.
 */
static void setup(void)
{
	uint8_t b = 'x';

	/* the one deliberate stray access below logs a line */
	ck_assert_ptr_nonnull(freopen("/dev/null", "w", stderr));
	memset(&vm, 0, sizeof(vm));
	memset(vcpus, 0, sizeof(vcpus));
	clock_gettime(CLOCK_MONOTONIC, &vm.start);
	vm.vcpus = vcpus;
	vm.ncpus = 2;
	for (unsigned int i = 0; i < 2; i++) {
		vcpus[i].vm = &vm;
		vcpus[i].index = i;
	}
	for (int i = 0; i < 10240; i++)
		stats_count_exit(&vcpus[0].stats, stats_exit_kind(KVM_EXIT_IO));
	vcpus[0].stats.exits[STATS_EXIT_MMIO] = 7;
	vcpus[0].stats.exits[STATS_EXIT_SYSTEM_EVENT] = 1;
	vcpus[0].stats.exits[STATS_EXIT_INTERRUPTED] = 2;
	vcpus[1].stats.exits[STATS_EXIT_IO] = 5;
	vcpus[1].stats.exits[STATS_EXIT_MMIO] = 3;
	vcpus[1].stats.exits[STATS_EXIT_INTERRUPTED] = 1;

	bus_init(&vm.pio, "port I/O");
	bus_init(&vm.mmio, "MMIO");
	ck_assert_int_eq(bus_register(&vm.pio, 0x3f8, 8, &nop_ops, NULL, "com1"), 0);
	for (int i = 0; i < 10240; i++)
		ck_assert(bus_write(&vm.pio, 0x3f8, &b, 1));
	for (int i = 0; i < 3; i++)
		ck_assert(bus_read(&vm.pio, 0x3fd, &b, 1));
	/* lower address: com1's entry (and its counters) moves up one slot */
	ck_assert_int_eq(bus_register(&vm.pio, 0x440, 1, &nop_ops, NULL, "boot-marker"), 0);
	ck_assert(bus_write(&vm.pio, 0x440, &b, 1));
	ck_assert(bus_write(&vm.pio, 0x440, &b, 1));
	ck_assert(!bus_read(&vm.pio, 0x3000, &b, 1));
	ck_assert_int_eq(bus_register(&vm.mmio, 0xe0000000, 0x100000, &nop_ops, NULL, "pci-ecam"),
			 0);
	for (int i = 0; i < 10; i++) {
		uint32_t v;

		ck_assert(bus_read(&vm.mmio, 0xe0000000 + 4 * (uint64_t)i, &v, 4));
	}

	memset(&disk, 0, sizeof(disk));
	vm.ndevices = 1;
	vm.devices[0].kind = &virtio_blk_kind;
	vm.devices[0].state = &disk;
	vm.devices[0].vdev = &disk.vdev;
	vm.devices[0].opened = true;
	disk.vdev.name = "virtio-blk0";
	disk.vdev.num_queues = 2;
	disk.queues[0].kicks = 3;
	disk.queues[0].requests = 4;
	disk.queues[1].kicks = 1;
	disk.queues[1].requests = 2;
	vm.devices[0].pci.vdev = &disk.vdev;
	vm.devices[0].pci.pci.slot = 1;
	vm.devices[0].pci.msix_fired = 5;
	vm.devices[0].pci.bar_reads = 120;
	vm.devices[0].pci.bar_writes = 80;
}

/* ---- helpers ---- */

static char *table_text(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	stats_print(f, &vm);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

/* The table line that starts (after its indentation) with label; fails if none. */
static const char *line_of(const char *text, const char *label)
{
	const char *p = text;

	while (p && *p) {
		const char *s = p;

		while (*s == ' ')
			s++;
		if (!strncmp(s, label, strlen(label)))
			return p;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	ck_abort_msg("no line starting with '%s' in:\n%s", label, text);
	return NULL;
}

/* The numbers on a line, after its label: up to max of them. */
static unsigned int numbers(const char *line, const char *label, unsigned long long *out,
			    unsigned int max)
{
	const char *p = strstr(line, label) + strlen(label);
	unsigned int n = 0;

	while (*p && *p != '\n' && n < max) {
		char *end;

		if (isdigit((unsigned char)*p) && (p[-1] == ' ' || p[-1] == '/')) {
			unsigned long long v = strtoull(p, &end, 10);

			if (*end == ' ' || *end == '\n' || *end == '/' || *end == '\0') {
				out[n++] = v;
				p = end;
				continue;
			}
		}
		p++;
	}
	return n;
}

static void expect_numbers(const char *text, const char *label, unsigned int count, ...)
{
	unsigned long long got[16];
	const char *line = line_of(text, label);
	unsigned int n = numbers(line, label, got, 16);
	va_list ap;

	ck_assert_msg(n >= count, "line '%.*s': %u numbers, want %u", (int)strcspn(line, "\n"),
		      line, n, count);
	va_start(ap, count);
	for (unsigned int i = 0; i < count; i++) {
		unsigned long long want = va_arg(ap, unsigned long long);

		ck_assert_msg(got[i] == want, "line '%.*s': number %u is %llu, want %llu",
			      (int)strcspn(line, "\n"), line, i, got[i], want);
	}
	va_end(ap);
}

/*
 * A small JSON parser: validates the whole text, and when path is not NULL stores the
 * value found there ("exits.io", "buses.pio.ranges.1.name", ...) as text in found.
 */
struct json {
	const char *p;
	const char *path; /* what is left of the path to look for, NULL: not looking */
	char found[128];
	bool hit;
};

static bool json_value(struct json *j, bool on_path, const char *rest);

static void json_ws(struct json *j)
{
	while (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r')
		j->p++;
}

/* Parse a string; its unescaped text (at most len - 1 bytes) into buf when buf. */
static bool json_str(struct json *j, char *buf, size_t len)
{
	size_t n = 0;

	if (*j->p != '"')
		return false;
	for (j->p++; *j->p != '"'; j->p++) {
		char c = *j->p;

		if ((unsigned char)c < 0x20)
			return false;
		if (c == '\\') {
			j->p++;
			if (*j->p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!isxdigit((unsigned char)j->p[i]))
						return false;
				c = (char)strtol((char[]){ j->p[3], j->p[4], 0 }, NULL, 16);
				j->p += 4;
			} else if (strchr("\"\\/", *j->p)) {
				c = *j->p;
			} else if (strchr("bfnrt", *j->p)) {
				c = ' ';
			} else {
				return false;
			}
		}
		if (buf && n + 1 < len)
			buf[n++] = c;
	}
	j->p++;
	if (buf)
		buf[n] = '\0';
	return true;
}

/* Does the next component of rest equal key? Then *next is what follows it. */
static bool path_match(const char *rest, const char *key, const char **next)
{
	size_t klen = strlen(key);

	if (!rest || strncmp(rest, key, klen) || (rest[klen] != '.' && rest[klen] != '\0'))
		return false;
	*next = rest[klen] == '.' ? rest + klen + 1 : rest + klen;
	return true;
}

/* The members of an object or the elements of an array, up to and including close. */
static bool json_members(struct json *j, bool object, bool on_path, const char *rest)
{
	char close = object ? '}' : ']';
	unsigned int index = 0;

	json_ws(j);
	if (*j->p == close) {
		j->p++;
		return true;
	}
	for (;;) {
		char key[64];
		const char *next = NULL;
		bool match;

		json_ws(j);
		if (object) {
			if (!json_str(j, key, sizeof(key)))
				return false;
			json_ws(j);
			if (*j->p++ != ':')
				return false;
		} else {
			snprintf(key, sizeof(key), "%u", index);
		}
		match = on_path && path_match(rest, key, &next);
		if (!json_value(j, match, match ? next : NULL))
			return false;
		index++;
		json_ws(j);
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		return *j->p++ == close;
	}
}

static bool json_value(struct json *j, bool on_path, const char *rest)
{
	const char *start;

	json_ws(j);
	start = j->p;
	if (*j->p == '{' || *j->p == '[') {
		bool object = *j->p++ == '{';

		if (!json_members(j, object, on_path, rest))
			return false;
	} else if (*j->p == '"') {
		if (!json_str(j, NULL, 0))
			return false;
	} else if (!strncmp(j->p, "true", 4) || !strncmp(j->p, "null", 4)) {
		j->p += 4;
	} else if (!strncmp(j->p, "false", 5)) {
		j->p += 5;
	} else {
		char *end;

		if (*j->p != '-' && !isdigit((unsigned char)*j->p))
			return false;
		strtod(j->p, &end);
		if (end == j->p)
			return false;
		j->p = end;
	}
	if (on_path && rest && *rest == '\0') {
		size_t n = (size_t)(j->p - start);

		if (n >= sizeof(j->found))
			n = sizeof(j->found) - 1;
		memcpy(j->found, start, n);
		j->found[n] = '\0';
		j->hit = true;
	}
	return true;
}

/* Validate text; return the value at path as JSON text (a string keeps its quotes). */
static const char *json_get(const char *text, const char *path)
{
	static struct json j;

	memset(&j, 0, sizeof(j));
	j.p = text;
	ck_assert_msg(json_value(&j, true, path), "invalid JSON near '%.40s' in:\n%s", j.p, text);
	json_ws(&j);
	ck_assert_msg(*j.p == '\0', "trailing text after the JSON: '%.40s'", j.p);
	ck_assert_msg(j.hit, "no value at %s in:\n%s", path, text);
	return j.found;
}

static char *json_text(void)
{
	const char *dir = getenv("TMPDIR");
	char path[512];
	int fd;
	char *buf;
	FILE *f;
	long size;

	snprintf(path, sizeof(path), "%s/test_stats_XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(stats_write_json(path, &vm), 0);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)size + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	unlink(path);
	return buf;
}

/* ---- tests ---- */

START_TEST(test_exit_kinds)
{
	ck_assert_int_eq(stats_exit_kind(KVM_EXIT_IO), STATS_EXIT_IO);
	ck_assert_int_eq(stats_exit_kind(KVM_EXIT_MMIO), STATS_EXIT_MMIO);
	ck_assert_int_eq(stats_exit_kind(KVM_EXIT_HLT), STATS_EXIT_HLT);
	ck_assert_int_eq(stats_exit_kind(KVM_EXIT_SHUTDOWN), STATS_EXIT_SHUTDOWN);
	ck_assert_int_eq(stats_exit_kind(KVM_EXIT_SYSTEM_EVENT), STATS_EXIT_SYSTEM_EVENT);
	ck_assert_int_eq(stats_exit_kind(KVM_EXIT_INTERNAL_ERROR), STATS_EXIT_INTERNAL_ERROR);
	ck_assert_int_eq(stats_exit_kind(KVM_EXIT_FAIL_ENTRY), STATS_EXIT_FAIL_ENTRY);
	ck_assert_int_eq(stats_exit_kind(KVM_EXIT_INTR), STATS_EXIT_INTERRUPTED);
	ck_assert_int_eq(stats_exit_kind(KVM_EXIT_DEBUG), STATS_EXIT_OTHER);
	ck_assert_int_eq(stats_exit_kind(0xffff), STATS_EXIT_OTHER);
	ck_assert_str_eq(stats_exit_key(STATS_EXIT_IO), "io");
	ck_assert_str_eq(stats_exit_key(STATS_EXIT_INTERRUPTED), "interrupted");
	ck_assert_str_eq(stats_exit_key(STATS_EXIT_NR), "?");
	ck_assert_uint_eq(vcpus[0].stats.exits[STATS_EXIT_IO], 10240);
}
END_TEST

START_TEST(test_bus_counters)
{
	struct bus_range r[BUS_MAX_RANGES];
	unsigned int n = bus_snapshot(&vm.pio, r, BUS_MAX_RANGES);

	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(r[0].name, "com1");
	ck_assert_uint_eq(r[0].base, 0x3f8);
	ck_assert_uint_eq(r[0].len, 8);
	ck_assert_uint_eq(r[0].reads, 3);
	ck_assert_uint_eq(r[0].writes, 10240);
	ck_assert_str_eq(r[1].name, "boot-marker");
	ck_assert_uint_eq(r[1].reads, 0);
	ck_assert_uint_eq(r[1].writes, 2);
	ck_assert_uint_eq(vm.pio.unhandled, 1);
	/* a short buffer gets the first ranges only */
	ck_assert_uint_eq(bus_snapshot(&vm.pio, r, 1), 1);
	ck_assert_str_eq(r[0].name, "com1");
	/* unregistering a range forgets it, and its counters */
	ck_assert_int_eq(bus_unregister(&vm.pio, 0x3f8), 0);
	ck_assert_uint_eq(bus_snapshot(&vm.pio, r, BUS_MAX_RANGES), 1);
	ck_assert_str_eq(r[0].name, "boot-marker");
	ck_assert_uint_eq(r[0].writes, 2);
}
END_TEST

static void *com1_writer(void *arg)
{
	uint8_t b = 0;

	for (int i = 0; i < 10000; i++)
		bus_write(arg, 0x3f8, &b, 1);
	return NULL;
}

START_TEST(test_bus_counters_concurrent)
{
	struct bus_range r[BUS_MAX_RANGES];
	pthread_t threads[4];

	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&threads[i], NULL, com1_writer, &vm.pio), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(threads[i], NULL);
	bus_snapshot(&vm.pio, r, BUS_MAX_RANGES);
	ck_assert_uint_eq(r[0].writes, 10240 + 40000);
}
END_TEST

START_TEST(test_table_numbers)
{
	char *t = table_text();

	/* total, then one column per vCPU */
	expect_numbers(t, "port I/O (in/out)", 3, 10245ull, 10240ull, 5ull);
	expect_numbers(t, "MMIO (no RAM", 3, 10ull, 7ull, 3ull);
	expect_numbers(t, "HLT", 3, 0ull, 0ull, 0ull);
	expect_numbers(t, "system event", 3, 1ull, 1ull, 0ull);
	expect_numbers(t, "interrupted", 3, 3ull, 2ull, 1ull);
	expect_numbers(t, "all exits", 3, 10259ull, 10250ull, 9ull);
	ck_assert_ptr_nonnull(strstr(line_of(t, "exits to the VMM"), "vCPU 1"));
	/* reads, writes, then the range */
	expect_numbers(t, "port I/O: com1", 2, 3ull, 10240ull);
	ck_assert_ptr_nonnull(strstr(line_of(t, "port I/O: com1"), "0x3f8-0x3ff"));
	expect_numbers(t, "port I/O: boot-marker", 2, 0ull, 2ull);
	ck_assert_ptr_nonnull(strstr(line_of(t, "port I/O: boot-marker"), "0x440-0x440"));
	expect_numbers(t, "port I/O: no device", 1, 1ull);
	expect_numbers(t, "MMIO: pci-ecam", 2, 10ull, 0ull);
	ck_assert_ptr_nonnull(strstr(line_of(t, "MMIO: pci-ecam"), "0xe0000000-0xe00fffff"));
	expect_numbers(t, "MMIO: no device", 1, 0ull);
	/* kicks, requests, MSI-X, INTx, notify exits, BAR reads/writes */
	expect_numbers(t, "virtio-blk0 (00:01.0)", 7, 4ull, 6ull, 5ull, 0ull, 0ull, 120ull, 80ull);
	expect_numbers(t, "queue 0", 2, 3ull, 4ull);
	expect_numbers(t, "queue 1", 2, 1ull, 2ull);
	/* the header sums everything */
	ck_assert_ptr_nonnull(strstr(t, "10259 exits in "));
	ck_assert_ptr_nonnull(strstr(t, "on 2 vCPUs"));
	/* not a terminal: plain line ends */
	ck_assert_ptr_null(strchr(t, '\r'));
	free(t);
}
END_TEST

START_TEST(test_table_one_vcpu_no_disks)
{
	char *t;

	vm.ncpus = 1;
	vm.ndevices = 0;
	t = table_text();
	expect_numbers(t, "port I/O (in/out)", 1, 10240ull);
	ck_assert_ptr_null(strstr(line_of(t, "exits to the VMM"), "vCPU 0"));
	ck_assert_ptr_nonnull(strstr(t, "on 1 vCPU "));
	ck_assert_ptr_null(strstr(t, "virtio"));
	free(t);
}
END_TEST

/* On a terminal in raw mode (no output processing) the lines must end in \r\n. */
START_TEST(test_table_on_raw_terminal)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY), slave;
	struct termios raw;
	char buf[16384];
	size_t len = 0;
	ssize_t n;
	FILE *f;

	ck_assert_int_ge(master, 0);
	ck_assert_int_eq(grantpt(master), 0);
	ck_assert_int_eq(unlockpt(master), 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	ck_assert_int_ge(slave, 0);
	ck_assert_int_eq(tcgetattr(slave, &raw), 0);
	cfmakeraw(&raw);
	ck_assert_int_eq(tcsetattr(slave, TCSANOW, &raw), 0);
	f = fdopen(slave, "w");
	ck_assert_ptr_nonnull(f);
	stats_print(f, &vm);
	fclose(f);
	fcntl(master, F_SETFL, O_NONBLOCK);
	while (len < sizeof(buf) - 1 && (n = read(master, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	ck_assert_uint_gt(len, 100);
	ck_assert_ptr_nonnull(strstr(buf, "all exits"));
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\n')
			ck_assert_msg(i > 0 && buf[i - 1] == '\r', "bare \\n at byte %zu", i);
	close(master);
}
END_TEST

START_TEST(test_json_numbers)
{
	char *j = json_text();

	ck_assert_str_eq(json_get(j, "vcpus"), "2");
	ck_assert_str_eq(json_get(j, "exits.io"), "10245");
	ck_assert_str_eq(json_get(j, "exits.mmio"), "10");
	ck_assert_str_eq(json_get(j, "exits.hlt"), "0");
	ck_assert_str_eq(json_get(j, "exits.system_event"), "1");
	ck_assert_str_eq(json_get(j, "exits.interrupted"), "3");
	ck_assert_str_eq(json_get(j, "exits.all"), "10259");
	ck_assert_str_eq(json_get(j, "exits_per_vcpu.0.io"), "10240");
	ck_assert_str_eq(json_get(j, "exits_per_vcpu.1.io"), "5");
	ck_assert_str_eq(json_get(j, "exits_per_vcpu.1.all"), "9");
	ck_assert_str_eq(json_get(j, "buses.pio.unhandled"), "1");
	ck_assert_str_eq(json_get(j, "buses.pio.ranges.0.name"), "\"com1\"");
	ck_assert_str_eq(json_get(j, "buses.pio.ranges.0.base"), "\"0x3f8\"");
	ck_assert_str_eq(json_get(j, "buses.pio.ranges.0.size"), "8");
	ck_assert_str_eq(json_get(j, "buses.pio.ranges.0.reads"), "3");
	ck_assert_str_eq(json_get(j, "buses.pio.ranges.0.writes"), "10240");
	ck_assert_str_eq(json_get(j, "buses.pio.ranges.1.name"), "\"boot-marker\"");
	ck_assert_str_eq(json_get(j, "buses.pio.ranges.1.writes"), "2");
	ck_assert_str_eq(json_get(j, "buses.mmio.unhandled"), "0");
	ck_assert_str_eq(json_get(j, "buses.mmio.ranges.0.base"), "\"0xe0000000\"");
	ck_assert_str_eq(json_get(j, "buses.mmio.ranges.0.size"), "1048576");
	ck_assert_str_eq(json_get(j, "buses.mmio.ranges.0.reads"), "10");
	ck_assert_str_eq(json_get(j, "virtio.0.name"), "\"virtio-blk0\"");
	ck_assert_str_eq(json_get(j, "virtio.0.pci"), "\"00:01.0\"");
	ck_assert_str_eq(json_get(j, "virtio.0.kicks"), "4");
	ck_assert_str_eq(json_get(j, "virtio.0.requests"), "6");
	ck_assert_str_eq(json_get(j, "virtio.0.msix_fired"), "5");
	ck_assert_str_eq(json_get(j, "virtio.0.intx_raised"), "0");
	ck_assert_str_eq(json_get(j, "virtio.0.notify_exits"), "0");
	ck_assert_str_eq(json_get(j, "virtio.0.bar_reads"), "120");
	ck_assert_str_eq(json_get(j, "virtio.0.bar_writes"), "80");
	ck_assert_str_eq(json_get(j, "virtio.0.queues.1.index"), "1");
	ck_assert_str_eq(json_get(j, "virtio.0.queues.1.kicks"), "1");
	ck_assert_str_eq(json_get(j, "virtio.0.queues.1.requests"), "2");
	free(j);
}
END_TEST

START_TEST(test_json_empty_parts_and_escapes)
{
	char *j;

	/* no vCPUs, no disks, no ranges, and a name that needs escaping */
	vm.ncpus = 0;
	vm.vcpus = NULL;
	vm.ndevices = 0;
	bus_init(&vm.pio, "port I/O");
	bus_init(&vm.mmio, "MMIO");
	ck_assert_int_eq(bus_register(&vm.mmio, 0x1000, 16, &nop_ops, NULL, "we\"ird\\\n"), 0);
	j = json_text();
	ck_assert_str_eq(json_get(j, "exits.all"), "0");
	ck_assert_str_eq(json_get(j, "exits_per_vcpu"), "[]");
	ck_assert_str_eq(json_get(j, "buses.pio.ranges"), "[]");
	ck_assert_str_eq(json_get(j, "buses.mmio.ranges.0.name"), "\"we\\\"ird\\\\\\u000a\"");
	ck_assert_str_eq(json_get(j, "virtio"), "[]");
	free(j);
}
END_TEST

START_TEST(test_json_write_errors)
{
	ck_assert_int_eq(stats_write_json("/nonexistent-directory/stats.json", &vm), -ENOENT);
	ck_assert_int_eq(stats_write_json("/dev/full", &vm), -ENOSPC);
}
END_TEST

/* The parser must refuse what is not JSON, or the checks above would prove little. */
START_TEST(test_json_parser_refuses_junk)
{
	static const char *const bad[] = { "{",	    "{\"a\":}", "{\"a\":1,}", "[1 2]",
					   "{a:1}", "\"x",	"{\"a\":1}}" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json j = { .p = bad[i] };
		bool ok = json_value(&j, false, NULL);

		json_ws(&j);
		ck_assert_msg(!ok || *j.p != '\0', "accepted %s", bad[i]);
	}
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("stats");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_exit_kinds);
	tcase_add_test(tc, test_bus_counters);
	tcase_add_test(tc, test_bus_counters_concurrent);
	tcase_add_test(tc, test_table_numbers);
	tcase_add_test(tc, test_table_one_vcpu_no_disks);
	tcase_add_test(tc, test_table_on_raw_terminal);
	tcase_add_test(tc, test_json_numbers);
	tcase_add_test(tc, test_json_empty_parts_and_escapes);
	tcase_add_test(tc, test_json_write_errors);
	tcase_add_test(tc, test_json_parser_refuses_junk);
	suite_add_tcase(s, tc);
	return s;
}
