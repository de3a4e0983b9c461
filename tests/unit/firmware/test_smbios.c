/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the SMBIOS tables: they are parsed back the way an OS would, from the
 * 64-bit entry point through every structure's formatted area and string set to the
 * end-of-table structure, using the offsets of DMTF DSP0134 3.0 chapter 7.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "check_main.h"
#include "devices/platform.h"
#include "firmware/smbios.h"

#define GPA PLATFORM_SMBIOS_START
#define AREA (PLATFORM_SMBIOS_END - PLATFORM_SMBIOS_START)
#define GUARD 0x5a
#define EP_LEN 0x18
#define MAX_STRUCTS 300
#define MAX_STRINGS 16

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define TiB (1ull << 40)

#define TEST_UUID "12345678-9abc-4def-8123-456789abcdef"

static uint8_t area[AREA + 64];
static ssize_t used;

struct parsed_struct {
	const uint8_t *p; /* formatted area */
	uint8_t type;
	uint8_t len;
	uint16_t handle;
	unsigned int nstrings;
	const char *strings[MAX_STRINGS]; /* strings[0] is string number 1 */
};

static struct parsed_struct structs[MAX_STRUCTS];
static unsigned int nstructs;

/* The formatted-area length DSP0134 3.0 gives each structure type we write. */
static unsigned int expected_len(uint8_t type)
{
	switch (type) {
	case 0:
		return 0x18;
	case 1:
		return 0x1b;
	case 3:
		return 0x16; /* no contained elements, then the SKU string */
	case 4:
		return 0x30;
	case 16:
		return 0x17;
	case 17:
		return 0x28;
	case 19:
		return 0x1f;
	case 32:
		return 0x0b;
	case 127:
		return 0x04;
	}
	ck_abort_msg("unexpected structure type %u", type);
	return 0;
}

/* Which bytes of the formatted area are string numbers, per type. */
static const uint8_t *string_fields(uint8_t type, size_t *n)
{
	static const uint8_t t0[] = { 0x04, 0x05, 0x08 };
	static const uint8_t t1[] = { 0x04, 0x05, 0x06, 0x07, 0x19, 0x1a };
	static const uint8_t t3[] = { 0x04, 0x06, 0x07, 0x08, 0x15 };
	static const uint8_t t4[] = { 0x04, 0x07, 0x10, 0x20, 0x21, 0x22 };
	static const uint8_t t17[] = { 0x10, 0x11, 0x17, 0x18, 0x19, 0x1a };

	switch (type) {
	case 0:
		*n = sizeof(t0);
		return t0;
	case 1:
		*n = sizeof(t1);
		return t1;
	case 3:
		*n = sizeof(t3);
		return t3;
	case 4:
		*n = sizeof(t4);
		return t4;
	case 17:
		*n = sizeof(t17);
		return t17;
	}
	*n = 0;
	return NULL;
}

/* Check the entry point at area[0]; returns the structure table's offset in area. */
static size_t check_entry_point(uint64_t gpa)
{
	uint64_t table;
	uint32_t max;

	ck_assert_int_eq(memcmp(area, "_SM3_", 5), 0);
	ck_assert_uint_eq(area[6], EP_LEN);
	ck_assert_uint_eq(sum(area, EP_LEN), 0);
	ck_assert_uint_eq(area[7], 3);	  /* major */
	ck_assert_uint_eq(area[0x0a], 1); /* entry point revision */
	ck_assert_uint_eq(area[0x0b], 0);
	max = rd32(area + 0x0c);
	table = rd64(area + 0x10);
	ck_assert_uint_ge(table, gpa + EP_LEN);
	/* The whole table lies inside what smbios_build() said it used. */
	ck_assert_uint_le(table - gpa + max, (uint64_t)used);
	return table - gpa;
}

/* Parse one string set at p (at most end); returns the byte after it. */
static const uint8_t *parse_strings(struct parsed_struct *s, const uint8_t *p, const uint8_t *end)
{
	ck_assert(p + 2 <= end);
	if (!p[0]) {
		ck_assert_msg(!p[1], "type %u: an empty string at the start of the set", s->type);
		return p + 2;
	}
	while (*p) {
		size_t len = strnlen((const char *)p, end - p);

		ck_assert_msg(p + len < end, "type %u: string runs off the table", s->type);
		ck_assert_uint_lt(s->nstrings, MAX_STRINGS);
		s->strings[s->nstrings++] = (const char *)p;
		p += len + 1;
		ck_assert(p < end);
	}
	return p + 1;
}

/* Walk the table from the entry point as an OS does; fills structs[]. */
static void walk(uint64_t gpa)
{
	size_t off = check_entry_point(gpa);
	const uint8_t *p = area + off;
	const uint8_t *end = p + rd32(area + 0x0c);

	nstructs = 0;
	for (;;) {
		struct parsed_struct *s = &structs[nstructs];
		const uint8_t *fields;
		size_t nfields;

		ck_assert_uint_lt(nstructs, MAX_STRUCTS);
		ck_assert(p + 4 <= end);
		memset(s, 0, sizeof(*s));
		s->p = p;
		s->type = p[0];
		s->len = p[1];
		s->handle = rd16(p + 2);
		ck_assert_msg(s->len == expected_len(s->type), "type %u: length %#x", s->type,
			      s->len);
		ck_assert(p + s->len <= end);
		/* Handles are sequential from 0. */
		ck_assert_uint_eq(s->handle, nstructs);
		p = parse_strings(s, p + s->len, end);
		fields = string_fields(s->type, &nfields);
		for (size_t i = 0; i < nfields; i++)
			ck_assert_msg(s->p[fields[i]] <= s->nstrings,
				      "type %u offset %#x: string %u of %u", s->type, fields[i],
				      s->p[fields[i]], s->nstrings);
		nstructs++;
		if (s->type == 127)
			break;
	}
	/* The end-of-table structure is last, and the maximum size is exact. */
	ck_assert_ptr_eq(p, end);
	ck_assert_uint_eq(end - area, (size_t)used);
}

static void build_cfg(const struct smbios_config *cfg)
{
	memset(area, GUARD, sizeof(area));
	used = smbios_build(area, AREA, GPA, cfg);
	ck_assert_int_gt(used, 0);
	ck_assert_int_le(used, AREA);
	walk(GPA);
}

static void build(const char *name, unsigned int ncpus, uint64_t mem_size)
{
	struct smbios_config cfg = { .name = name, .ncpus = ncpus, .mem_size = mem_size };

	ck_assert_int_eq(smbios_uuid_parse(TEST_UUID, cfg.uuid), 0);
	build_cfg(&cfg);
}

static unsigned int count(uint8_t type)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < nstructs; i++)
		n += structs[i].type == type;
	return n;
}

/* The nth (from 0) structure of a type. */
static const struct parsed_struct *find(uint8_t type, unsigned int nth)
{
	for (unsigned int i = 0; i < nstructs; i++) {
		if (structs[i].type == type && !nth--)
			return &structs[i];
	}
	ck_abort_msg("no structure of type %u", type);
	return NULL;
}

/* The string a string field refers to; "" for string number 0 (none). */
static const char *str(const struct parsed_struct *s, uint8_t offset)
{
	uint8_t n = s->p[offset];

	ck_assert_uint_le(n, s->nstrings);
	return n ? s->strings[n - 1] : "";
}

START_TEST(test_entry_point)
{
	build(NULL, 2, 512 * MiB);
	ck_assert_uint_eq(area[8], 0); /* minor */
	ck_assert_uint_eq(area[9], 0); /* docrev */
	/* The table follows the entry point inside the SMBIOS area. */
	ck_assert_uint_eq(rd64(area + 0x10), GPA + 0x20);
	ck_assert_uint_eq(rd32(area + 0x0c), used - 0x20);
	ck_assert_uint_eq(GPA % 16, 0);
	ck_assert_uint_ge(GPA, 0xf0000);
	ck_assert_uint_le(GPA + used, 0x100000);
	/* Nothing past what it said it used. */
	for (size_t i = used; i < sizeof(area); i++)
		ck_assert_uint_eq(area[i], GUARD);
}
END_TEST

static const unsigned int cpu_counts[] = { 1, 2, 3, 8, 64, 254 };

START_TEST(test_every_structure)
{
	unsigned int ncpus = cpu_counts[_i];

	build("walk", ncpus, 512 * MiB);
	ck_assert_uint_eq(count(0), 1);
	ck_assert_uint_eq(count(1), 1);
	ck_assert_uint_eq(count(3), 1);
	ck_assert_uint_eq(count(4), ncpus);
	ck_assert_uint_eq(count(16), 1);
	ck_assert_uint_eq(count(17), 1);
	ck_assert_uint_eq(count(19), 1);
	ck_assert_uint_eq(count(32), 1);
	ck_assert_uint_eq(count(127), 1);
	ck_assert_uint_eq(nstructs, 8 + ncpus);
	/* The required structures come first, in order of type. */
	for (unsigned int i = 1; i < nstructs; i++)
		ck_assert_uint_le(structs[i - 1].type, structs[i].type);
}
END_TEST

START_TEST(test_bios)
{
	const struct parsed_struct *s;
	const char *date;

	build(NULL, 1, 512 * MiB);
	s = find(0, 0);
	ck_assert_str_eq(str(s, 0x04), "minivmm");
	ck_assert_str_ne(str(s, 0x05), "");
	date = str(s, 0x08);
	/* mm/dd/yyyy */
	ck_assert_uint_eq(strlen(date), 10);
	ck_assert(date[2] == '/' && date[5] == '/');
	ck_assert(rd64(s->p + 0x0a) != 0);
	ck_assert_uint_eq(s->p[0x12] & 0x01, 0x01); /* ACPI is supported */
	ck_assert_uint_eq(s->p[0x13] & 0x10, 0x10); /* this is a virtual machine */
	ck_assert_uint_eq(s->p[0x16], 0xff);	    /* no embedded controller */
	ck_assert_uint_eq(s->p[0x17], 0xff);
}
END_TEST

/* Read an SMBIOS 2.6+ UUID field the way Linux prints product_uuid. */
static void linux_uuid_text(const uint8_t *f, char out[37])
{
	snprintf(out, 37, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", rd32(f), rd16(f + 4),
		 rd16(f + 6), f[8], f[9], f[10], f[11], f[12], f[13], f[14], f[15]);
}

START_TEST(test_system)
{
	static const uint8_t wire[16] = { 0x78, 0x56, 0x34, 0x12, 0xbc, 0x9a, 0xef, 0x4d,
					  0x81, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };
	struct smbios_config cfg = { .name = "identity-test", .ncpus = 1, .mem_size = 256 * MiB };
	const struct parsed_struct *s;
	uint8_t back[16];
	char text[37];

	/* Upper case in, lower case out, as Linux prints it. */
	ck_assert_int_eq(smbios_uuid_parse("12345678-9ABC-4DEF-8123-456789ABCDEF", cfg.uuid), 0);
	build_cfg(&cfg);
	s = find(1, 0);
	ck_assert_str_eq(str(s, 0x04), "minivmm");
	ck_assert_str_eq(str(s, 0x05), "identity-test");
	ck_assert_str_ne(str(s, 0x06), "");
	ck_assert_str_eq(str(s, 0x07), TEST_UUID);
	ck_assert_mem_eq(s->p + 0x08, wire, 16);
	ck_assert_uint_eq(s->p[0x18], 0x06); /* woken by the power switch */
	ck_assert_str_ne(str(s, 0x19), "");
	ck_assert_str_eq(str(s, 0x1a), "Virtual Machine");

	linux_uuid_text(s->p + 0x08, text);
	ck_assert_str_eq(text, TEST_UUID);
	/* Back to RFC 4122 order: the bytes smbios_uuid_parse() gave, and the same text. */
	for (unsigned int i = 0; i < 4; i++)
		back[i] = s->p[0x08 + 3 - i];
	back[4] = s->p[0x08 + 5];
	back[5] = s->p[0x08 + 4];
	back[6] = s->p[0x08 + 7];
	back[7] = s->p[0x08 + 6];
	memcpy(back + 8, s->p + 0x08 + 8, 8);
	ck_assert_mem_eq(back, cfg.uuid, 16);
	smbios_uuid_format(back, text);
	ck_assert_str_eq(text, TEST_UUID);
}
END_TEST

START_TEST(test_default_name)
{
	build(NULL, 1, 512 * MiB);
	ck_assert_str_eq(str(find(1, 0), 0x05), SMBIOS_DEFAULT_NAME);
	build("", 1, 512 * MiB);
	ck_assert_str_eq(str(find(1, 0), 0x05), SMBIOS_DEFAULT_NAME);
}
END_TEST

START_TEST(test_enclosure)
{
	const struct parsed_struct *s;

	build(NULL, 1, 512 * MiB);
	s = find(3, 0);
	ck_assert_str_eq(str(s, 0x04), "minivmm");
	ck_assert_uint_eq(s->p[0x05], 0x01); /* Other, no lock */
	ck_assert_uint_eq(s->p[0x09], 0x03); /* boot-up state safe */
	ck_assert_uint_eq(s->p[0x0a], 0x03); /* power supply state safe */
	ck_assert_uint_eq(s->p[0x0b], 0x03); /* thermal state safe */
	ck_assert_uint_eq(s->p[0x13], 0);    /* no contained elements */
	ck_assert_uint_eq(s->p[0x14], 0);
}
END_TEST

START_TEST(test_processors)
{
	char want[16];

	build(NULL, 4, 512 * MiB);
	for (unsigned int cpu = 0; cpu < 4; cpu++) {
		const struct parsed_struct *s = find(4, cpu);

		snprintf(want, sizeof(want), "CPU %u", cpu);
		ck_assert_str_eq(str(s, 0x04), want);
		ck_assert_uint_eq(s->p[0x05], 0x03); /* central processor */
		ck_assert_uint_eq(s->p[0x18], 0x41); /* populated, enabled */
		ck_assert_uint_eq(s->p[0x23], 1);    /* cores */
		ck_assert_uint_eq(s->p[0x24], 1);    /* cores enabled */
		ck_assert_uint_eq(s->p[0x25], 1);    /* threads */
		ck_assert_uint_eq(rd16(s->p + 0x2a), 1);
		ck_assert_uint_eq(rd16(s->p + 0x2c), 1);
		ck_assert_uint_eq(rd16(s->p + 0x2e), 1);
		/* No cache structures. */
		ck_assert_uint_eq(rd16(s->p + 0x1a), 0xffff);
		ck_assert_uint_eq(rd16(s->p + 0x1c), 0xffff);
		ck_assert_uint_eq(rd16(s->p + 0x1e), 0xffff);
	}
}
END_TEST

static void check_array(uint64_t mem_size)
{
	const struct parsed_struct *a = find(16, 0);
	const struct parsed_struct *d = find(17, 0);

	ck_assert_uint_eq(a->p[0x04], 0x03); /* system board */
	ck_assert_uint_eq(a->p[0x05], 0x03); /* system memory */
	ck_assert_uint_eq(rd16(a->p + 0x0d), 1);
	if (mem_size / 1024 < 0x80000000ull) {
		ck_assert_uint_eq(rd32(a->p + 0x07), mem_size / 1024);
		ck_assert_uint_eq(rd64(a->p + 0x0f), 0);
	} else {
		ck_assert_uint_eq(rd32(a->p + 0x07), 0x80000000u);
		ck_assert_uint_eq(rd64(a->p + 0x0f), mem_size);
	}
	ck_assert_uint_eq(rd16(d->p + 0x04), a->handle);
	ck_assert_str_ne(str(d, 0x10), "");
	for (unsigned int i = 0; i < count(19); i++)
		ck_assert_uint_eq(rd16(find(19, i)->p + 0x0c), a->handle);
}

/* Type 19 number nth maps start .. end - 1 through the KiB fields. */
static void check_mapped_kib(unsigned int nth, uint64_t start, uint64_t end)
{
	const struct parsed_struct *m = find(19, nth);

	ck_assert_uint_eq(rd32(m->p + 0x04), start >> 10);
	ck_assert_uint_eq(rd32(m->p + 0x08), (end >> 10) - 1);
	ck_assert_uint_eq(m->p[0x0e], 1);
	ck_assert_uint_eq(rd64(m->p + 0x0f), 0);
	ck_assert_uint_eq(rd64(m->p + 0x17), 0);
}

START_TEST(test_memory_512m)
{
	const struct parsed_struct *d;

	build(NULL, 1, 512 * MiB);
	check_array(512 * MiB);
	d = find(17, 0);
	ck_assert_uint_eq(rd16(d->p + 0x0c), 512); /* MiB, bit 15 clear */
	ck_assert_uint_eq(rd32(d->p + 0x1c), 0);
	ck_assert_uint_eq(count(19), 1);
	check_mapped_kib(0, 0, 512 * MiB);
}
END_TEST

START_TEST(test_memory_64g)
{
	const struct parsed_struct *d;

	build(NULL, 2, 64 * GiB);
	check_array(64 * GiB);
	d = find(17, 0);
	ck_assert_uint_eq(rd16(d->p + 0x0c), 0x7fff); /* see the extended size */
	ck_assert_uint_eq(rd32(d->p + 0x1c), 64 * 1024);
	/* RAM below the PCI hole, and the rest from 4 GiB. */
	ck_assert_uint_eq(count(19), 2);
	check_mapped_kib(0, 0, PLATFORM_PCI_HOLE_START);
	check_mapped_kib(1, PLATFORM_4G, PLATFORM_4G + 64 * GiB - PLATFORM_PCI_HOLE_START);
}
END_TEST

/* The edge of the type 17 Size field: 0x7fff MiB means "see Extended Size". */
START_TEST(test_memory_size_edge)
{
	build(NULL, 1, 0x7ffeull * MiB);
	ck_assert_uint_eq(rd16(find(17, 0)->p + 0x0c), 0x7ffe);
	ck_assert_uint_eq(rd32(find(17, 0)->p + 0x1c), 0);
	build(NULL, 1, 0x7fffull * MiB);
	ck_assert_uint_eq(rd16(find(17, 0)->p + 0x0c), 0x7fff);
	ck_assert_uint_eq(rd32(find(17, 0)->p + 0x1c), 0x7fff);
	build(NULL, 1, 32 * GiB);
	ck_assert_uint_eq(rd16(find(17, 0)->p + 0x0c), 0x7fff);
	ck_assert_uint_eq(rd32(find(17, 0)->p + 0x1c), 32 * 1024);
	/* Exactly 3 GiB needs no second range. */
	build(NULL, 1, PLATFORM_PCI_HOLE_START);
	ck_assert_uint_eq(count(19), 1);
	check_mapped_kib(0, 0, PLATFORM_PCI_HOLE_START);
}
END_TEST

/* Past 4 TiB the KiB address fields overflow, and type 16 past 2 TiB. */
START_TEST(test_memory_8t)
{
	const uint64_t mem = 8 * TiB;
	const struct parsed_struct *m;

	build(NULL, 1, mem);
	check_array(mem);
	ck_assert_uint_eq(rd16(find(17, 0)->p + 0x0c), 0x7fff);
	ck_assert_uint_eq(rd32(find(17, 0)->p + 0x1c), mem / MiB);
	ck_assert_uint_eq(count(19), 2);
	check_mapped_kib(0, 0, PLATFORM_PCI_HOLE_START);
	m = find(19, 1);
	ck_assert_uint_eq(rd32(m->p + 0x04), 0xffffffffu);
	ck_assert_uint_eq(rd32(m->p + 0x08), 0xffffffffu);
	ck_assert_uint_eq(rd64(m->p + 0x0f), PLATFORM_4G);
	ck_assert_uint_eq(rd64(m->p + 0x17), PLATFORM_4G + mem - PLATFORM_PCI_HOLE_START - 1);
}
END_TEST

START_TEST(test_system_boot)
{
	const struct parsed_struct *s;

	build(NULL, 1, 512 * MiB);
	s = find(32, 0);
	for (unsigned int i = 0x04; i < 0x0a; i++)
		ck_assert_uint_eq(s->p[i], 0);
	ck_assert_uint_eq(s->p[0x0a], 0); /* no errors detected */
}
END_TEST

START_TEST(test_too_small_buffer)
{
	struct smbios_config cfg = { .name = "small", .ncpus = 4, .mem_size = 64 * GiB };
	ssize_t full, got;
	size_t i;

	ck_assert_int_eq(smbios_uuid_parse(TEST_UUID, cfg.uuid), 0);
	build_cfg(&cfg);
	full = used;
	for (size_t size = 0; size < (size_t)full; size++) {
		memset(area, GUARD, full + 64);
		got = smbios_build(area, size, GPA, &cfg);
		ck_assert_int_eq(got, -ENOSPC);
		for (i = size; i < (size_t)full + 64 && area[i] == GUARD; i++)
			;
		ck_assert_msg(i == (size_t)full + 64, "size %zu: byte %zu written", size, i);
	}
	ck_assert_int_eq(smbios_build(area, full, GPA, &cfg), full);
}
END_TEST

START_TEST(test_bad_config)
{
	struct smbios_config cfg = { .ncpus = 1, .mem_size = 512 * MiB };
	char long_name[SMBIOS_NAME_MAX + 2];

	ck_assert_int_gt(smbios_build(area, AREA, GPA, &cfg), 0);
	ck_assert_int_eq(smbios_build(NULL, AREA, GPA, &cfg), -EINVAL);
	ck_assert_int_eq(smbios_build(area, AREA, GPA, NULL), -EINVAL);
	ck_assert_int_eq(smbios_build(area, AREA, GPA + 8, &cfg), -EINVAL);
	cfg.ncpus = 0;
	ck_assert_int_eq(smbios_build(area, AREA, GPA, &cfg), -EINVAL);
	cfg.ncpus = 255;
	ck_assert_int_eq(smbios_build(area, AREA, GPA, &cfg), -EINVAL);
	cfg.ncpus = 254;
	ck_assert_int_gt(smbios_build(area, AREA, GPA, &cfg), 0);
	cfg.ncpus = 1;
	cfg.mem_size = 0;
	ck_assert_int_eq(smbios_build(area, AREA, GPA, &cfg), -EINVAL);
	cfg.mem_size = 512 * MiB;
	cfg.name = "two\nlines";
	ck_assert_int_eq(smbios_build(area, AREA, GPA, &cfg), -EINVAL);
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	cfg.name = long_name;
	ck_assert_int_eq(smbios_build(area, AREA, GPA, &cfg), -EINVAL);
	long_name[SMBIOS_NAME_MAX] = '\0';
	ck_assert_int_gt(smbios_build(area, AREA, GPA, &cfg), 0);
}
END_TEST

START_TEST(test_name_valid)
{
	ck_assert(smbios_name_valid(NULL));
	ck_assert(smbios_name_valid(""));
	ck_assert(smbios_name_valid("identity-test"));
	ck_assert(smbios_name_valid("web server #2 (staging)"));
	ck_assert(!smbios_name_valid("tab\there"));
	ck_assert(!smbios_name_valid("del\x7f"));
	ck_assert(!smbios_name_valid("caf\xc3\xa9"));
}
END_TEST

/* The tables describe themselves wherever the guest sees them. */
START_TEST(test_addresses_follow_gpa)
{
	struct smbios_config cfg = { .ncpus = 2, .mem_size = 512 * MiB };
	const uint64_t gpa = 0x12340;

	memset(area, GUARD, sizeof(area));
	used = smbios_build(area, AREA, gpa, &cfg);
	ck_assert_int_gt(used, 0);
	walk(gpa);
	ck_assert_uint_eq(rd64(area + 0x10), gpa + 0x20);
}
END_TEST

START_TEST(test_uuid_parse)
{
	static const uint8_t want[16] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x4d, 0xef,
					  0x81, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };
	uint8_t uuid[16];
	char text[37];

	ck_assert_int_eq(smbios_uuid_parse(TEST_UUID, uuid), 0);
	ck_assert_mem_eq(uuid, want, 16);
	smbios_uuid_format(uuid, text);
	ck_assert_str_eq(text, TEST_UUID);
	ck_assert_int_eq(smbios_uuid_parse("12345678-9AbC-4dEf-8123-456789ABcdef", uuid), 0);
	ck_assert_mem_eq(uuid, want, 16);
	ck_assert_int_eq(smbios_uuid_parse("00000000-0000-0000-0000-000000000000", uuid), 0);
	smbios_uuid_format(uuid, text);
	ck_assert_str_eq(text, "00000000-0000-0000-0000-000000000000");
	ck_assert_int_eq(smbios_uuid_parse("FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", uuid), 0);
	smbios_uuid_format(uuid, text);
	ck_assert_str_eq(text, "ffffffff-ffff-ffff-ffff-ffffffffffff");
}
END_TEST

static const char *const bad_uuids[] = {
	"",
	"12345678",
	"12345678-9abc-4def-8123-456789abcde",	 /* one digit short */
	"12345678-9abc-4def-8123-456789abcdef0", /* one too many */
	"12345678-9abc-4def-8123-456789abcdef\n",
	" 12345678-9abc-4def-8123-456789abcdef",
	"{12345678-9abc-4def-8123-456789abcdef}",
	"123456789abc4def8123456789abcdef",	/* no hyphens */
	"1234567-89abc-4def-8123-456789abcdef", /* hyphen one early */
	"12345678-9abc-4def-81234-56789abcdef",
	"12345678_9abc_4def_8123_456789abcdef",
	"12345678-9abc-4def-8123-456789abcdeg",
	"g2345678-9abc-4def-8123-456789abcdef",
	"12345678-9abc-4def-8123-4567 9abcdef",
	"+2345678-9abc-4def-8123-456789abcdef",
	"0x345678-9abc-4def-8123-456789abcdef",
	"12345678--abc-4def-8123-456789abcdef",
};

START_TEST(test_uuid_parse_errors)
{
	uint8_t uuid[16];
	uint8_t untouched[16];

	memset(uuid, 0xa5, sizeof(uuid));
	memset(untouched, 0xa5, sizeof(untouched));
	ck_assert_int_eq(smbios_uuid_parse(bad_uuids[_i], uuid), -EINVAL);
	ck_assert_mem_eq(uuid, untouched, 16);
	ck_assert_int_eq(smbios_uuid_parse(NULL, uuid), -EINVAL);
}
END_TEST

START_TEST(test_uuid_generate)
{
	uint8_t uuids[32][16];
	uint8_t back[16];
	char text[37];

	for (unsigned int i = 0; i < 32; i++) {
		ck_assert_int_eq(smbios_uuid_generate(uuids[i]), 0);
		ck_assert_uint_eq(uuids[i][6] >> 4, 4);	     /* version 4 */
		ck_assert_uint_eq(uuids[i][8] & 0xc0, 0x80); /* RFC 4122 variant */
		smbios_uuid_format(uuids[i], text);
		ck_assert_uint_eq(strlen(text), 36);
		ck_assert(text[14] == '4');
		ck_assert(strchr("89ab", text[19]));
		ck_assert_int_eq(smbios_uuid_parse(text, back), 0);
		ck_assert_mem_eq(back, uuids[i], 16);
		for (unsigned int j = 0; j < i; j++)
			ck_assert(memcmp(uuids[i], uuids[j], 16) != 0);
	}
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("smbios");
	TCase *tc = tcase_create("tables");
	TCase *uuid = tcase_create("uuid");

	tcase_add_test(tc, test_entry_point);
	tcase_add_loop_test(tc, test_every_structure, 0,
			    sizeof(cpu_counts) / sizeof(cpu_counts[0]));
	tcase_add_test(tc, test_bios);
	tcase_add_test(tc, test_system);
	tcase_add_test(tc, test_default_name);
	tcase_add_test(tc, test_enclosure);
	tcase_add_test(tc, test_processors);
	tcase_add_test(tc, test_memory_512m);
	tcase_add_test(tc, test_memory_64g);
	tcase_add_test(tc, test_memory_size_edge);
	tcase_add_test(tc, test_memory_8t);
	tcase_add_test(tc, test_system_boot);
	tcase_add_test(tc, test_too_small_buffer);
	tcase_add_test(tc, test_bad_config);
	tcase_add_test(tc, test_name_valid);
	tcase_add_test(tc, test_addresses_follow_gpa);
	suite_add_tcase(s, tc);
	tcase_add_test(uuid, test_uuid_parse);
	tcase_add_loop_test(uuid, test_uuid_parse_errors, 0,
			    sizeof(bad_uuids) / sizeof(bad_uuids[0]));
	tcase_add_test(uuid, test_uuid_generate);
	suite_add_tcase(s, uuid);
	return s;
}
