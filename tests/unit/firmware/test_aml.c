/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the AML writer: byte-exact encodings checked against ACPI 6.x section
 * 20.2 and section 6.4, nesting, and errors that never write past the caller's buffer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "firmware/aml.h"

#define GUARD 0xa5
#define GUARD_LEN 64

static uint8_t out[16384];

typedef void (*emit_fn)(struct aml *a);

/* Run fn into out[] (size bytes) and return what aml_finish() says. */
static ssize_t emit(emit_fn fn, size_t size)
{
	struct aml a;

	memset(out, GUARD, sizeof(out));
	aml_init(&a, out, size);
	fn(&a);
	return aml_finish(&a);
}

static void expect_bytes(emit_fn fn, const uint8_t *want, size_t len)
{
	ssize_t got = emit(fn, sizeof(out));

	ck_assert_int_eq(got, (ssize_t)len);
	ck_assert_mem_eq(out, want, len);
}

#define EXPECT(fn, ...)                                                                            \
	do {                                                                                       \
		static const uint8_t want_[] = { __VA_ARGS__ };                                    \
		expect_bytes(fn, want_, sizeof(want_));                                            \
	} while (0)

/* Decode a PkgLength as an AML reader would: returns its byte count, value in *v. */
static size_t decode_pkglength(const uint8_t *p, size_t *v)
{
	size_t n = (p[0] >> 6) + 1;

	if (n == 1) {
		*v = p[0] & 0x3f;
		return 1;
	}
	*v = p[0] & 0x0f;
	for (size_t i = 1; i < n; i++)
		*v |= (size_t)p[i] << (4 + 8 * (i - 1));
	return n;
}

START_TEST(test_pkglength_boundaries)
{
	static const struct {
		size_t body;
		size_t nbytes;
		uint8_t bytes[4];
	} cases[] = {
		{ 0, 1, { 0x01 } },
		{ 62, 1, { 0x3f } },		      /* value 63: the largest 1-byte form */
		{ 63, 2, { 0x41, 0x04 } },	      /* value 65: 64 does not fit 1 byte */
		{ 4093, 2, { 0x4f, 0xff } },	      /* value 4095: the largest 2-byte form */
		{ 4094, 3, { 0x81, 0x00, 0x01 } },    /* value 4097 */
		{ 0xffffc, 3, { 0x8f, 0xff, 0xff } }, /* value 2^20 - 1 */
		{ 0xffffd, 4, { 0xc1, 0x00, 0x00, 0x01 } },
		{ 0x0ffffffb, 4, { 0xcf, 0xff, 0xff, 0xff } },
	};
	uint8_t b[4];
	size_t v;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_uint_eq(aml_pkglength(b, cases[i].body), cases[i].nbytes);
		ck_assert_mem_eq(b, cases[i].bytes, cases[i].nbytes);
		ck_assert_uint_eq(decode_pkglength(b, &v), cases[i].nbytes);
		ck_assert_uint_eq(v, cases[i].body + cases[i].nbytes);
	}
	ck_assert_uint_eq(aml_pkglength(b, 0x0ffffffc), 0);
	ck_assert_uint_eq(aml_pkglength(b, (size_t)-1), 0);
}
END_TEST

START_TEST(test_pkglength_shortest_everywhere)
{
	static const size_t limits[] = { 0x3f, 0xfff, 0xfffff, 0xfffffff };
	uint8_t b[4];
	size_t n, v;

	for (size_t body = 0; body < 0x101000; body += body < 5000 ? 1 : 4093) {
		n = aml_pkglength(b, body);
		ck_assert_uint_eq(decode_pkglength(b, &v), n);
		ck_assert_uint_eq(v, body + n);
		ck_assert(n == 1 || body + n - 1 > limits[n - 2]);
	}
}
END_TEST

/* Scope(FOO) whose body is the 4-byte name plus n raw bytes of a counting pattern. */
static size_t scope_payload;

static void emit_scope_payload(struct aml *a)
{
	uint8_t b[8192];

	for (size_t i = 0; i < scope_payload; i++)
		b[i] = i * 7 + 3;
	aml_scope_begin(a, "FOO");
	aml_bytes(a, b, scope_payload);
	aml_end(a);
}

static void check_scope_payload(size_t payload, size_t want_pkglen_bytes)
{
	size_t n, v;

	scope_payload = payload;
	ck_assert_int_eq(emit(emit_scope_payload, sizeof(out)),
			 1 + want_pkglen_bytes + 4 + payload);
	ck_assert_uint_eq(out[0], 0x10);
	n = decode_pkglength(out + 1, &v);
	ck_assert_uint_eq(n, want_pkglen_bytes);
	ck_assert_uint_eq(v, n + 4 + payload);
	ck_assert_mem_eq(out + 1 + n, "FOO_", 4);
	for (size_t i = 0; i < payload; i++)
		ck_assert_uint_eq(out[1 + n + 4 + i], (uint8_t)(i * 7 + 3));
	ck_assert_uint_eq(out[1 + n + 4 + payload], GUARD);
}

START_TEST(test_pkglength_in_objects)
{
	check_scope_payload(0, 1);
	check_scope_payload(58, 1); /* PkgLength value 63 */
	check_scope_payload(59, 2);
	check_scope_payload(4089, 2); /* PkgLength value 4095 */
	check_scope_payload(4090, 3);
}
END_TEST

static uint64_t int_value;

static void emit_int(struct aml *a)
{
	aml_integer(a, int_value);
}

#define EXPECT_INT(v, ...)                                                                         \
	do {                                                                                       \
		int_value = (v);                                                                   \
		EXPECT(emit_int, __VA_ARGS__);                                                     \
	} while (0)

START_TEST(test_integer_shortest_form)
{
	EXPECT_INT(0, 0x00);
	EXPECT_INT(1, 0x01);
	EXPECT_INT(2, 0x0a, 0x02);
	EXPECT_INT(0xff, 0x0a, 0xff);
	EXPECT_INT(0x100, 0x0b, 0x00, 0x01);
	EXPECT_INT(0xffff, 0x0b, 0xff, 0xff);
	EXPECT_INT(0x10000, 0x0c, 0x00, 0x00, 0x01, 0x00);
	EXPECT_INT(0xfec00000, 0x0c, 0x00, 0x00, 0xc0, 0xfe);
	EXPECT_INT(0xffffffff, 0x0c, 0xff, 0xff, 0xff, 0xff);
	EXPECT_INT(0x100000000ull, 0x0e, 0, 0, 0, 0, 1, 0, 0, 0);
	EXPECT_INT(UINT64_MAX, 0x0e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
}
END_TEST

static void emit_string(struct aml *a)
{
	aml_string(a, "Hi!");
}

static void emit_empty_string(struct aml *a)
{
	aml_string(a, "");
}

START_TEST(test_string)
{
	EXPECT(emit_string, 0x0d, 'H', 'i', '!', 0x00);
	EXPECT(emit_empty_string, 0x0d, 0x00);
}
END_TEST

static void emit_eisaid(struct aml *a)
{
	aml_eisaid(a, "PNP0501");
}

START_TEST(test_eisaid)
{
	uint32_t v = 0;

	ck_assert_int_eq(aml_eisaid_value("PNP0501", &v), 0);
	ck_assert_uint_eq(v, 0x0105d041);
	ck_assert_int_eq(aml_eisaid_value("PNP0A08", &v), 0);
	ck_assert_uint_eq(v, 0x080ad041);
	EXPECT(emit_eisaid, 0x0c, 0x41, 0xd0, 0x05, 0x01);

	ck_assert_int_eq(aml_eisaid_value("pnp0501", &v), -EINVAL);
	ck_assert_int_eq(aml_eisaid_value("PNP050", &v), -EINVAL);
	ck_assert_int_eq(aml_eisaid_value("PNP05011", &v), -EINVAL);
	ck_assert_int_eq(aml_eisaid_value("PNP05G1", &v), -EINVAL);
}
END_TEST

static const char *name_path;

static void emit_name_ref(struct aml *a)
{
	aml_name_ref(a, name_path);
}

#define EXPECT_NAME(path, ...)                                                                     \
	do {                                                                                       \
		name_path = (path);                                                                \
		EXPECT(emit_name_ref, __VA_ARGS__);                                                \
	} while (0)

START_TEST(test_namestrings)
{
	EXPECT_NAME("_HID", '_', 'H', 'I', 'D');
	EXPECT_NAME("S5", 'S', '5', '_', '_');
	EXPECT_NAME("\\_S5", '\\', '_', 'S', '5', '_');
	EXPECT_NAME("^FOO", '^', 'F', 'O', 'O', '_');
	EXPECT_NAME("^^A", '^', '^', 'A', '_', '_', '_');
	EXPECT_NAME("\\", '\\', 0x00);
	EXPECT_NAME("\\_SB.PCI0", '\\', 0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0');
	EXPECT_NAME("\\_SB.PCI0.ISA", '\\', 0x2f, 3, '_', 'S', 'B', '_', 'P', 'C', 'I', '0', 'I',
		    'S', 'A', '_');
}
END_TEST

START_TEST(test_bad_namestrings)
{
	static const char *const bad[] = { "1ABC", "ABCDE", "com1", "A..B",
					   "A.",   ".A",    "\\^A", "A-B" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		name_path = bad[i];
		ck_assert_int_eq(emit(emit_name_ref, sizeof(out)), -EINVAL);
	}
}
END_TEST

static void emit_s5(struct aml *a)
{
	aml_name(a, "\\_S5");
	aml_package_begin(a);
	aml_integer(a, 5);
	aml_integer(a, 5);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_end(a);
}

START_TEST(test_s5_package)
{
	/* Name (\_S5, Package (0x04) { 0x05, 0x05, Zero, Zero }) */
	EXPECT(emit_s5, 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05,
	       0x00, 0x00);
}
END_TEST

static void emit_prt(struct aml *a)
{
	aml_package_begin(a);
	aml_package_begin(a);
	aml_integer(a, 0xffff);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_integer(a, 16);
	aml_end(a);
	aml_package_begin(a);
	aml_integer(a, 0x1ffff);
	aml_integer(a, 1);
	aml_name_ref(a, "LNKB");
	aml_integer(a, 0);
	aml_end(a);
	aml_package_begin(a);
	aml_end(a);
	aml_end(a);
}

START_TEST(test_package_of_packages)
{
	EXPECT(emit_prt, 0x12, 0x1d, 0x03,				   /* outer: 3 elements */
	       0x12, 0x09, 0x04, 0x0b, 0xff, 0xff, 0x00, 0x00, 0x0a, 0x10, /* {0xFFFF, 0, 0, 16} */
	       0x12, 0x0d, 0x04, 0x0c, 0xff, 0xff, 0x01, 0x00, 0x01,	   /* {0x1FFFF, 1, */
	       'L', 'N', 'K', 'B', 0x00,				   /* LNKB, 0} */
	       0x12, 0x02, 0x00);					   /* {} */
}
END_TEST

static size_t package_elements;

static void emit_big_package(struct aml *a)
{
	aml_package_begin(a);
	for (size_t i = 0; i < package_elements; i++)
		aml_integer(a, 1);
	aml_end(a);
}

START_TEST(test_package_sizes)
{
	size_t n, v;

	/* 61 elements: body 62 bytes, PkgLength 63 in one byte; 62 elements need two. */
	package_elements = 61;
	ck_assert_int_eq(emit(emit_big_package, sizeof(out)), 64);
	ck_assert_uint_eq(out[1], 0x3f);
	ck_assert_uint_eq(out[2], 61);
	package_elements = 62;
	ck_assert_int_eq(emit(emit_big_package, sizeof(out)), 66);
	ck_assert_uint_eq(decode_pkglength(out + 1, &v), 2);
	ck_assert_uint_eq(v, 65);
	ck_assert_uint_eq(out[3], 62);
	for (n = 0; n < 62; n++)
		ck_assert_uint_eq(out[4 + n], 0x01);
	package_elements = 255;
	ck_assert_int_eq(emit(emit_big_package, sizeof(out)), 1 + 2 + 1 + 255);
	ck_assert_uint_eq(out[3], 255);
	package_elements = 256;
	ck_assert_int_eq(emit(emit_big_package, sizeof(out)), -EINVAL);
}
END_TEST

static void emit_com1(struct aml *a)
{
	aml_device_begin(a, "COM1");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0501");
	aml_name(a, "_UID");
	aml_integer(a, 1);
	aml_name(a, "_CRS");
	aml_resources_begin(a);
	aml_res_io(a, 0x3f8, 0x3f8, 1, 8);
	aml_res_irq_noflags(a, 4);
	aml_resources_end(a);
	aml_end(a);
}

START_TEST(test_device_with_resources)
{
	EXPECT(emit_com1, 0x5b, 0x82, 0x2b, 'C', 'O', 'M', '1',	       /* Device (COM1) */
	       0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x05, 0x01, /* EisaId ("PNP0501") */
	       0x08, '_', 'U', 'I', 'D', 0x01,			       /* One */
	       0x08, '_', 'C', 'R', 'S', 0x11, 0x10, 0x0a, 0x0d,       /* Buffer (0x0D) */
	       0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,	       /* IO (Decode16, ...) */
	       0x22, 0x10, 0x00,				       /* IRQNoFlags () {4} */
	       0x79, 0x00);					       /* End Tag */
}
END_TEST

static void emit_method(struct aml *a)
{
	aml_method_begin(a, "_STA", 0, false);
	aml_return(a);
	aml_integer(a, 0x0f);
	aml_end(a);
	aml_method_begin(a, "FN", 2, true);
	aml_end(a);
}

START_TEST(test_method)
{
	EXPECT(emit_method, 0x14, 0x09, '_', 'S', 'T', 'A', 0x00, /* Method (_STA, 0) */
	       0xa4, 0x0a, 0x0f,				  /* Return (0x0F) */
	       0x14, 0x06, 'F', 'N', '_', '_', 0x0a);		  /* Method (FN, 2, Serialized) */
}
END_TEST

static void emit_notify(struct aml *a)
{
	aml_method_begin(a, "_E00", 0, false);
	aml_notify(a, "\\_SB.VGEN", 0x80);
	aml_end(a);
	aml_notify(a, "DEV", 0); /* a short name, padded; Zero */
}

START_TEST(test_notify)
{
	EXPECT(emit_notify, 0x14, 0x13, '_', 'E', '0', '0', 0x00, /* Method (_E00) */
	       0x86, '\\', 0x2e, '_', 'S', 'B', '_', 'V', 'G', 'E', 'N', 0x0a, 0x80, /* Notify */
	       0x86, 'D', 'E', 'V', '_', 0x00);
}
END_TEST

static void emit_notify_in_package(struct aml *a)
{
	aml_package_begin(a);
	aml_notify(a, "DEV", 0x80);
	aml_end(a);
}

static void emit_notify_bad_name(struct aml *a)
{
	aml_notify(a, "dev", 0x80);
}

static void emit_nested(struct aml *a)
{
	aml_scope_begin(a, "\\_SB");
	aml_device_begin(a, "PCI0");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0A08");
	aml_scope_begin(a, "^");
	aml_name(a, "X");
	aml_integer(a, 0);
	aml_end(a);
	aml_end(a);
	aml_end(a);
}

START_TEST(test_nested_scopes)
{
	EXPECT(emit_nested, 0x10, 0x21, '\\', '_', 'S', 'B', '_',      /* Scope (\_SB) */
	       0x5b, 0x82, 0x19, 'P', 'C', 'I', '0',		       /* Device (PCI0) */
	       0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x08, /* EisaId ("PNP0A08") */
	       0x10, 0x09, '^', 0x00,				       /* Scope (^) */
	       0x08, 'X', '_', '_', '_', 0x00);			       /* Name (X, Zero) */
}
END_TEST

static void emit_host_bridge_crs(struct aml *a)
{
	aml_resources_begin(a);
	aml_res_word_bus(a, 0x00, 0xff);
	aml_res_word_io(a, 0x0d00, 0xffff);
	aml_res_dword_memory(a, 0xc0000000, 0xfebfffff, false);
	aml_res_qword_memory(a, 0x100000000ull, 0x1ffffffffull, true);
	aml_resources_end(a);
}

START_TEST(test_address_space_descriptors)
{
	EXPECT(emit_host_bridge_crs, 0x11, 0x4e, 0x06, 0x0a, 0x6a, /* Buffer (0x6A) */
	       /* WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, 0, 0xFF) */
	       0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00,
	       0x00, 0x01,
	       /* WordIO (..., EntireRange, 0, 0x0D00, 0xFFFF, 0, 0xF300) */
	       0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0x00, 0x00, 0x00, 0x0d, 0xff, 0xff, 0x00, 0x00,
	       0x00, 0xf3,
	       /* DWordMemory (..., NonCacheable, ReadWrite, 0, 0xC0000000, 0xFEBFFFFF, ...) */
	       0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0,
	       0xff, 0xff, 0xbf, 0xfe, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x3e,
	       /* QWordMemory (..., Prefetchable, ReadWrite, 0, 4 GiB, 8 GiB - 1, 0, 4 GiB) */
	       0x8a, 0x2b, 0x00, 0x00, 0x0c, 0x07, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
	       0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
	       0x79, 0x00);
}
END_TEST

static void emit_word_too_big(struct aml *a)
{
	struct aml_addr_space r = { .type = AML_RES_TYPE_IO, .min = 0x10000, .max = 0x10000 };

	aml_resources_begin(a);
	aml_res_word(a, &r);
	aml_resources_end(a);
}

static void emit_res_outside_buffer(struct aml *a)
{
	aml_res_io(a, 0x3f8, 0x3f8, 1, 8);
}

static void emit_name_in_package(struct aml *a)
{
	aml_package_begin(a);
	aml_name(a, "X");
	aml_end(a);
}

static void emit_integer_in_buffer(struct aml *a)
{
	aml_buffer_begin(a);
	aml_integer(a, 3);
	aml_end(a);
}

static void emit_unbalanced_end(struct aml *a)
{
	aml_end(a);
}

static void emit_left_open(struct aml *a)
{
	aml_device_begin(a, "DEV");
}

static void emit_too_deep(struct aml *a)
{
	for (int i = 0; i <= AML_MAX_DEPTH; i++)
		aml_package_begin(a);
	for (int i = 0; i <= AML_MAX_DEPTH; i++)
		aml_end(a);
}

static void emit_bad_irq(struct aml *a)
{
	aml_resources_begin(a);
	aml_res_irq_noflags(a, 16);
	aml_resources_end(a);
}

static void emit_bad_window(struct aml *a)
{
	aml_resources_begin(a);
	aml_res_word_io(a, 0x1000, 0x0fff);
	aml_resources_end(a);
}

static void emit_bad_method(struct aml *a)
{
	aml_method_begin(a, "M", 8, false);
	aml_end(a);
}

START_TEST(test_misuse_is_reported)
{
	static const emit_fn bad[] = {
		emit_word_too_big,	emit_res_outside_buffer,
		emit_name_in_package,	emit_integer_in_buffer,
		emit_unbalanced_end,	emit_left_open,
		emit_too_deep,		emit_bad_irq,
		emit_bad_window,	emit_bad_method,
		emit_notify_in_package, emit_notify_bad_name,
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(emit(bad[i], sizeof(out)), -EINVAL);
}
END_TEST

START_TEST(test_errors_are_sticky)
{
	struct aml a;
	size_t len;

	aml_init(&a, out, sizeof(out));
	aml_integer(&a, 7);
	aml_end(&a);
	len = a.len;
	aml_integer(&a, 7);
	aml_string(&a, "more");
	ck_assert_uint_eq(a.len, len);
	ck_assert_int_eq(aml_finish(&a), -EINVAL);
}
END_TEST

static void emit_everything(struct aml *a)
{
	emit_s5(a);
	aml_scope_begin(a, "\\_SB");
	emit_com1(a);
	aml_end(a);
	emit_prt(a);
	emit_host_bridge_crs(a);
	emit_method(a);
}

/* Every buffer size short of the full output fails with -ENOSPC and writes nothing past it. */
START_TEST(test_overflow_never_overruns)
{
	ssize_t full = emit(emit_everything, sizeof(out));
	ssize_t got;
	uint8_t *buf;
	struct aml a;

	ck_assert_int_gt(full, 0);
	for (size_t size = 0; size <= (size_t)full; size++) {
		/* An exact-size heap block, so the sanitizer build also catches an overrun. */
		buf = malloc(size + GUARD_LEN);
		ck_assert_ptr_nonnull(buf);
		memset(buf, GUARD, size + GUARD_LEN);
		aml_init(&a, buf, size);
		emit_everything(&a);
		got = aml_finish(&a);
		if (size == (size_t)full)
			ck_assert_int_eq(got, full);
		else
			ck_assert_int_eq(got, -ENOSPC);
		for (size_t i = size; i < size + GUARD_LEN; i++)
			ck_assert_uint_eq(buf[i], GUARD);
		free(buf);
	}
}
END_TEST

START_TEST(test_empty_buffer)
{
	struct aml a;

	aml_init(&a, NULL, 0);
	ck_assert_int_eq(aml_finish(&a), 0);
	aml_integer(&a, 0);
	ck_assert_int_eq(aml_finish(&a), -ENOSPC);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("aml");
	TCase *tc = tcase_create("encoding");

	tcase_add_test(tc, test_pkglength_boundaries);
	tcase_add_test(tc, test_pkglength_shortest_everywhere);
	tcase_add_test(tc, test_pkglength_in_objects);
	tcase_add_test(tc, test_integer_shortest_form);
	tcase_add_test(tc, test_string);
	tcase_add_test(tc, test_eisaid);
	tcase_add_test(tc, test_namestrings);
	tcase_add_test(tc, test_bad_namestrings);
	tcase_add_test(tc, test_s5_package);
	tcase_add_test(tc, test_package_of_packages);
	tcase_add_test(tc, test_package_sizes);
	tcase_add_test(tc, test_device_with_resources);
	tcase_add_test(tc, test_method);
	tcase_add_test(tc, test_notify);
	tcase_add_test(tc, test_nested_scopes);
	tcase_add_test(tc, test_address_space_descriptors);
	tcase_add_test(tc, test_misuse_is_reported);
	tcase_add_test(tc, test_errors_are_sticky);
	tcase_add_test(tc, test_overflow_never_overruns);
	tcase_add_test(tc, test_empty_buffer);
	suite_add_tcase(s, tc);
	return s;
}
