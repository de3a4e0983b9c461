/* SPDX-License-Identifier: MIT */
/* The snapshot state file: a round trip, and every kind of bad file refused with its reason. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "check_main.h"
#include "vmm/snapshot_format.h"

static struct snap_writer w;
static char err[256];

static void setup(void)
{
	snap_writer_init(&w);
	err[0] = '\0';
}

static void teardown(void)
{
	snap_writer_free(&w);
}

/* Three sections: one written whole, one in pieces with an odd length, one empty. */
static void write_sample(void)
{
	static const uint64_t regs[4] = { 1, 2, 3, 0x123456789abcdef0ull };
	struct snap_meta meta = { .memory_size = 16ull << 20, .ncpus = 2, .ndevices = 1 };

	strcpy(meta.devices[0], "virtio-blk");
	ck_assert_int_eq(snap_section(&w, SNAP_META, 0, &meta, sizeof(meta)), 0);
	ck_assert_int_eq(snap_section(&w, SNAP_VCPU_REGS, 1, regs, sizeof(regs)), 0);
	ck_assert_int_eq(snap_begin(&w, SNAP_UART, 0), 0);
	ck_assert_int_eq(snap_put(&w, "abc", 3), 0);
	ck_assert_int_eq(snap_put(&w, "de", 2), 0);
	ck_assert_int_eq(snap_end(&w), 0);
	ck_assert_int_eq(snap_section(&w, SNAP_POWER, 0, NULL, 0), 0);
	ck_assert_int_eq(snap_finish(&w), 0);
}

START_TEST(test_round_trip)
{
	struct snap_reader r;
	struct snap_meta meta;
	uint64_t regs[4];
	const void *data;
	size_t len;

	write_sample();
	ck_assert_uint_eq(w.len % 8, 0);
	ck_assert_int_eq(snap_reader_open(&r, w.buf, w.len, err, sizeof(err)), 0);
	ck_assert_uint_eq(r.header.format_version, SNAP_FORMAT_VERSION);
	ck_assert_int_eq(snap_get(&r, SNAP_META, 0, &meta, sizeof(meta)), 0);
	ck_assert_uint_eq(meta.memory_size, 16ull << 20);
	ck_assert_str_eq(meta.devices[0], "virtio-blk");
	ck_assert_int_eq(snap_get(&r, SNAP_VCPU_REGS, 1, regs, sizeof(regs)), 0);
	ck_assert_uint_eq(regs[3], 0x123456789abcdef0ull);
	ck_assert_int_eq(snap_find(&r, SNAP_UART, 0, &data, &len), 0);
	ck_assert_uint_eq(len, 5);
	ck_assert_int_eq(memcmp(data, "abcde", 5), 0);
	ck_assert_int_eq(snap_find(&r, SNAP_POWER, 0, &data, &len), 0);
	ck_assert_uint_eq(len, 0);
	/* what is not there, and a section of the wrong size */
	ck_assert_int_eq(snap_get(&r, SNAP_VCPU_REGS, 0, regs, sizeof(regs)), -ENOENT);
	ck_assert_int_eq(snap_get(&r, SNAP_VCPU_REGS, 1, regs, 8), -EBADMSG);
}
END_TEST

START_TEST(test_truncated)
{
	struct snap_reader r;

	write_sample();
	/* one byte short, then shorter than a header */
	ck_assert_int_eq(snap_reader_open(&r, w.buf, w.len - 1, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "truncated"));
	ck_assert_int_eq(snap_reader_open(&r, w.buf, 40, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "truncated"));
	ck_assert_int_eq(snap_reader_open(&r, w.buf, 0, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(snap_find(&r, SNAP_META, 0, &(const void *){ NULL }, &(size_t){ 0 }),
			 -ENOENT);
}
END_TEST

/* Any single byte flipped anywhere is refused: the checksum covers the header too. */
START_TEST(test_flipped_byte)
{
	struct snap_reader r;

	write_sample();
	for (size_t i = 0; i < w.len; i++) {
		w.buf[i] ^= 0x10;
		ck_assert_int_eq(snap_reader_open(&r, w.buf, w.len, err, sizeof(err)), -EINVAL);
		w.buf[i] ^= 0x10;
	}
	/* the payload's bytes fail on the checksum in particular */
	w.buf[w.len - 20] ^= 1;
	snap_reader_open(&r, w.buf, w.len, err, sizeof(err));
	ck_assert_ptr_nonnull(strstr(err, "corrupted"));
	w.buf[w.len - 20] ^= 1;
	/* and the file reads again as it was: the reader left the buffer alone */
	ck_assert_int_eq(snap_reader_open(&r, w.buf, w.len, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_wrong_version)
{
	struct snap_reader r;
	struct snap_header h;

	write_sample();
	memcpy(&h, w.buf, sizeof(h));
	h.format_version = SNAP_FORMAT_VERSION + 1;
	memcpy(w.buf, &h, sizeof(h));
	ck_assert_int_eq(snap_reader_open(&r, w.buf, w.len, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "format version 2"));
	ck_assert_ptr_nonnull(strstr(err, "reads version 1"));
}
END_TEST

START_TEST(test_not_a_snapshot)
{
	struct snap_reader r;

	write_sample();
	memcpy(w.buf, "ELF\0\0\0\0\0", 8);
	ck_assert_int_eq(snap_reader_open(&r, w.buf, w.len, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "magic"));
}
END_TEST

START_TEST(test_meta_mismatch)
{
	struct snap_meta saved = { .memory_size = 16ull << 20, .ncpus = 2, .ndevices = 1 };
	struct snap_meta wanted;

	strcpy(saved.devices[0], "virtio-blk");
	wanted = saved;
	ck_assert_int_eq(snap_meta_check(&saved, &wanted, err, sizeof(err)), 0);

	wanted.memory_size = 32ull << 20;
	ck_assert_int_eq(snap_meta_check(&saved, &wanted, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "16384K"));
	ck_assert_ptr_nonnull(strstr(err, "--memory"));

	wanted = saved;
	wanted.ncpus = 1;
	ck_assert_int_eq(snap_meta_check(&saved, &wanted, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "--cpus"));

	wanted = saved;
	wanted.ndevices = 0;
	ck_assert_int_eq(snap_meta_check(&saved, &wanted, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "virtio-blk, the command line's is nothing"));

	wanted = saved;
	strcpy(wanted.devices[0], "virtio-net");
	ck_assert_int_eq(snap_meta_check(&saved, &wanted, err, sizeof(err)), -EINVAL);
}
END_TEST

/* Misuse is the writer's bug, reported once and sticky, never a bad file. */
START_TEST(test_writer_misuse)
{
	ck_assert_int_eq(snap_put(&w, "x", 1), -EINVAL);
	ck_assert_int_eq(snap_finish(&w), -EINVAL);
	snap_writer_free(&w);
	snap_writer_init(&w);
	snap_begin(&w, SNAP_META, 0);
	ck_assert_int_eq(snap_finish(&w), -EINVAL);
}
END_TEST

START_TEST(test_parse_url)
{
	char path[16];

	ck_assert_int_eq(snap_parse_url("file:///var/snap", path, sizeof(path), err, sizeof(err)),
			 0);
	ck_assert_str_eq(path, "/var/snap");
	ck_assert_int_eq(snap_parse_url("/var/snap", path, sizeof(path), err, sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not a file:///DIR URL"));
	ck_assert_int_eq(snap_parse_url("file://host/x", path, sizeof(path), err, sizeof(err)),
			 -EINVAL);
	ck_assert_int_eq(snap_parse_url("file://", path, sizeof(path), err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(snap_parse_url("file:///", path, sizeof(path), err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(
		snap_parse_url("file:///a/very/long/path", path, sizeof(path), err, sizeof(err)),
		-EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "too long"));
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("snapshot_format");
	TCase *tc = tcase_create("format");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_flipped_byte);
	tcase_add_test(tc, test_wrong_version);
	tcase_add_test(tc, test_not_a_snapshot);
	tcase_add_test(tc, test_meta_mismatch);
	tcase_add_test(tc, test_writer_misuse);
	tcase_add_test(tc, test_parse_url);
	suite_add_tcase(s, tc);
	return s;
}
