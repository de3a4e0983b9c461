/* SPDX-License-Identifier: MIT */
/* Address-range bus: routing, registration rules and the handling of stray accesses. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "devices/bus.h"

struct fake_dev {
	unsigned int reads, writes;
	uint64_t last_offset;
	unsigned int last_len;
	uint8_t last_written[8];
	uint8_t fill; /* what reads return */
};

static void fake_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct fake_dev *d = opaque;

	d->reads++;
	d->last_offset = offset;
	d->last_len = len;
	memset(data, d->fill, len);
}

static void fake_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct fake_dev *d = opaque;

	d->writes++;
	d->last_offset = offset;
	d->last_len = len;
	memcpy(d->last_written, data, len);
}

static const struct bus_device_ops fake_ops = { .read = fake_read, .write = fake_write };

static struct bus bus;

static void setup(void)
{
	/* Stray accesses below are deliberate; their log line is checked in one test only. */
	ck_assert_ptr_nonnull(freopen("/dev/null", "w", stderr));
	bus_init(&bus, "test-bus");
}

static uint64_t unhandled(void)
{
	return __atomic_load_n(&bus.unhandled, __ATOMIC_RELAXED);
}

START_TEST(test_routing_and_offsets)
{
	struct fake_dev com = { .fill = 0x11 }, kbd = { .fill = 0x22 };
	uint8_t buf[4];
	uint32_t word = 0xdeadbeef;

	ck_assert_int_eq(bus_register(&bus, 0x3f8, 8, &fake_ops, &com, "com1"), 0);
	ck_assert_int_eq(bus_register(&bus, 0x60, 1, &fake_ops, &kbd, "kbd"), 0);

	ck_assert(bus_read(&bus, 0x3fa, buf, 1));
	ck_assert_uint_eq(com.reads, 1);
	ck_assert_uint_eq(com.last_offset, 2);
	ck_assert_uint_eq(buf[0], 0x11);

	ck_assert(bus_read(&bus, 0x60, buf, 1));
	ck_assert_uint_eq(kbd.reads, 1);
	ck_assert_uint_eq(kbd.last_offset, 0);
	ck_assert_uint_eq(buf[0], 0x22);

	ck_assert(bus_write(&bus, 0x3fc, &word, 4));
	ck_assert_uint_eq(com.writes, 1);
	ck_assert_uint_eq(com.last_offset, 4);
	ck_assert_uint_eq(com.last_len, 4);
	ck_assert_mem_eq(com.last_written, &word, 4);

	/* Last byte of a range, and a whole-range access. */
	ck_assert(bus_read(&bus, 0x3ff, buf, 1));
	ck_assert_uint_eq(com.last_offset, 7);
	ck_assert(bus_read(&bus, 0x3f8, buf, 4));
	ck_assert_uint_eq(com.last_offset, 0);
	ck_assert_uint_eq(unhandled(), 0);
}
END_TEST

START_TEST(test_many_ranges_any_order)
{
	static struct fake_dev devs[BUS_MAX_RANGES];
	uint8_t b;

	/* Register in a scrambled order; 37 is coprime with 64, so every slot is used once. */
	for (unsigned int i = 0; i < BUS_MAX_RANGES; i++) {
		unsigned int k = (i * 37) % BUS_MAX_RANGES;

		uint64_t base = 0x1000 + k * 0x10;

		ck_assert_int_eq(bus_register(&bus, base, 0x10, &fake_ops, &devs[k], "dev"), 0);
	}
	for (unsigned int i = 1; i < bus.count; i++)
		ck_assert(bus.ranges[i - 1].base < bus.ranges[i].base);
	for (unsigned int k = 0; k < BUS_MAX_RANGES; k++) {
		ck_assert(bus_read(&bus, 0x1000 + k * 0x10 + 5, &b, 1));
		ck_assert_uint_eq(devs[k].reads, 1);
		ck_assert_uint_eq(devs[k].last_offset, 5);
	}
	ck_assert(!bus_read(&bus, 0xfff, &b, 1));
	ck_assert(!bus_read(&bus, 0x1000 + BUS_MAX_RANGES * 0x10, &b, 1));
}
END_TEST

START_TEST(test_overlap_refused)
{
	struct fake_dev d = { 0 };

	ck_assert_int_eq(bus_register(&bus, 0x100, 0x10, &fake_ops, &d, "a"), 0);
	ck_assert_int_eq(bus_register(&bus, 0x100, 0x10, &fake_ops, &d, "same"), -EEXIST);
	ck_assert_int_eq(bus_register(&bus, 0xf8, 0x10, &fake_ops, &d, "left"), -EEXIST);
	ck_assert_int_eq(bus_register(&bus, 0x10f, 0x10, &fake_ops, &d, "right"), -EEXIST);
	ck_assert_int_eq(bus_register(&bus, 0x104, 0x2, &fake_ops, &d, "inside"), -EEXIST);
	ck_assert_int_eq(bus_register(&bus, 0x0, 0x1000, &fake_ops, &d, "around"), -EEXIST);
	ck_assert_uint_eq(bus.count, 1);

	/* Touching ranges are fine. */
	ck_assert_int_eq(bus_register(&bus, 0xf0, 0x10, &fake_ops, &d, "below"), 0);
	ck_assert_int_eq(bus_register(&bus, 0x110, 0x10, &fake_ops, &d, "above"), 0);
	ck_assert_uint_eq(bus.count, 3);
}
END_TEST

START_TEST(test_invalid_and_full)
{
	struct fake_dev d = { 0 };

	ck_assert_int_eq(bus_register(&bus, 0x100, 0, &fake_ops, &d, "empty"), -EINVAL);
	ck_assert_int_eq(bus_register(&bus, UINT64_MAX, 2, &fake_ops, &d, "wraps"), -EINVAL);
	ck_assert_int_eq(bus_register(&bus, UINT64_MAX - 7, 8, &fake_ops, &d, "top"), 0);
	for (unsigned int i = 1; i < BUS_MAX_RANGES; i++)
		ck_assert_int_eq(bus_register(&bus, i, 1, &fake_ops, &d, "x"), 0);
	ck_assert_int_eq(bus_register(&bus, 0x1000, 1, &fake_ops, &d, "one too many"), -ENOSPC);
	ck_assert_uint_eq(bus.count, BUS_MAX_RANGES);

	ck_assert_int_eq(bus_unregister(&bus, 5), 0);
	ck_assert_int_eq(bus_register(&bus, 0x1000, 1, &fake_ops, &d, "fits again"), 0);
}
END_TEST

START_TEST(test_top_of_address_space)
{
	struct fake_dev d = { .fill = 0x5a };
	uint64_t q = 0;

	ck_assert_int_eq(bus_register(&bus, UINT64_MAX - 7, 8, &fake_ops, &d, "top"), 0);
	ck_assert(bus_read(&bus, UINT64_MAX - 7, &q, 8));
	ck_assert_uint_eq(q, 0x5a5a5a5a5a5a5a5aull);
	ck_assert(bus_read(&bus, UINT64_MAX, &q, 1));
	ck_assert_uint_eq(d.last_offset, 7);
	ck_assert(!bus_read(&bus, UINT64_MAX - 1, &q, 4));
}
END_TEST

START_TEST(test_unhandled_reads_all_ones)
{
	uint32_t v = 0;

	ck_assert(!bus_read(&bus, 0x80, &v, 4));
	ck_assert_uint_eq(v, 0xffffffffu);
	ck_assert_uint_eq(unhandled(), 1);
	ck_assert(!bus_write(&bus, 0x80, &v, 1));
	ck_assert_uint_eq(unhandled(), 2);
}
END_TEST

START_TEST(test_straddling_access_unhandled)
{
	struct fake_dev d = { .fill = 0 };
	uint32_t v = 0;

	ck_assert_int_eq(bus_register(&bus, 0x3f8, 8, &fake_ops, &d, "com1"), 0);
	ck_assert(!bus_read(&bus, 0x3fe, &v, 4));
	ck_assert_uint_eq(v, 0xffffffffu);
	ck_assert(!bus_read(&bus, 0x3f6, &v, 4));
	ck_assert(!bus_write(&bus, 0x3ff, &v, 2));
	ck_assert_uint_eq(d.reads + d.writes, 0);
	ck_assert_uint_eq(unhandled(), 3);
}
END_TEST

START_TEST(test_unregister)
{
	struct fake_dev a = { 0 }, b = { 0 };
	uint8_t v;

	ck_assert_int_eq(bus_register(&bus, 0x10, 4, &fake_ops, &a, "a"), 0);
	ck_assert_int_eq(bus_register(&bus, 0x20, 4, &fake_ops, &b, "b"), 0);
	ck_assert_int_eq(bus_unregister(&bus, 0x12), -ENOENT);
	ck_assert_int_eq(bus_unregister(&bus, 0x10), 0);
	ck_assert_int_eq(bus_unregister(&bus, 0x10), -ENOENT);
	ck_assert(!bus_read(&bus, 0x10, &v, 1));
	ck_assert(bus_read(&bus, 0x21, &v, 1));
	ck_assert_uint_eq(b.reads, 1);
	ck_assert_int_eq(bus_register(&bus, 0x10, 0x10, &fake_ops, &a, "a again"), 0);
}
END_TEST

/* Once sealed (the vCPUs run), the ranges stay as they are and still route accesses. */
START_TEST(test_sealed_bus_is_final)
{
	struct fake_dev a = { 0 };
	uint8_t v = 7;

	ck_assert_int_eq(bus_register(&bus, 0x10, 4, &fake_ops, &a, "a"), 0);
	bus_seal(&bus);
	ck_assert_int_eq(bus_register(&bus, 0x20, 4, &fake_ops, &a, "late"), -EBUSY);
	ck_assert_int_eq(bus_unregister(&bus, 0x10), -EBUSY);
	ck_assert(bus_write(&bus, 0x11, &v, 1));
	ck_assert(!bus_write(&bus, 0x21, &v, 1));
	ck_assert_uint_eq(a.writes, 1);
}
END_TEST

START_TEST(test_missing_callbacks)
{
	static const struct bus_device_ops no_ops = { 0 };
	uint16_t v = 0;

	ck_assert_int_eq(bus_register(&bus, 0x80, 1, NULL, NULL, "no ops"), -EINVAL);
	ck_assert_int_eq(bus_register(&bus, 0x80, 2, &no_ops, NULL, "sink"), 0);
	ck_assert(bus_read(&bus, 0x80, &v, 2));
	ck_assert_uint_eq(v, 0xffff);
	ck_assert(bus_write(&bus, 0x80, &v, 2));
	ck_assert_uint_eq(unhandled(), 0);
}
END_TEST

/* Only the first stray access is logged; the rest are only counted. */
START_TEST(test_unhandled_logged_once)
{
	char line[256] = { 0 };
	FILE *log = tmpfile();
	uint8_t v = 0;

	ck_assert_ptr_nonnull(log);
	fflush(stderr);
	ck_assert_int_ge(dup2(fileno(log), STDERR_FILENO), 0);
	for (int i = 0; i < 100; i++)
		bus_write(&bus, 0x1234, &v, 1);
	bus_read(&bus, 0x99, &v, 1);
	fflush(stderr);
	ck_assert_uint_eq(unhandled(), 101);

	rewind(log);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), log));
	ck_assert_str_eq(line, "vmm: test-bus: unhandled write at 0x1234 (len 1); "
			       "further ones are counted only\n");
	ck_assert_ptr_null(fgets(line, sizeof(line), log));
}
END_TEST

static void *stray_reader(void *p)
{
	uint32_t v;

	for (int i = 0; i < 10000; i++)
		bus_read(p, 0x5000, &v, 4);
	return NULL;
}

START_TEST(test_concurrent_unhandled_count)
{
	pthread_t threads[4];

	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&threads[i], NULL, stray_reader, &bus), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(threads[i], NULL);
	ck_assert_uint_eq(unhandled(), 40000);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("bus");
	TCase *tc = tcase_create("ranges");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_routing_and_offsets);
	tcase_add_test(tc, test_many_ranges_any_order);
	tcase_add_test(tc, test_overlap_refused);
	tcase_add_test(tc, test_invalid_and_full);
	tcase_add_test(tc, test_top_of_address_space);
	tcase_add_test(tc, test_unhandled_reads_all_ones);
	tcase_add_test(tc, test_straddling_access_unhandled);
	tcase_add_test(tc, test_unregister);
	tcase_add_test(tc, test_sealed_bus_is_final);
	tcase_add_test(tc, test_missing_callbacks);
	tcase_add_test(tc, test_unhandled_logged_once);
	tcase_add_test(tc, test_concurrent_unhandled_count);
	suite_add_tcase(s, tc);
	return s;
}
