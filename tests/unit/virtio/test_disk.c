/* SPDX-License-Identifier: MIT */
/* --disk parsing, opening and locking images, odd sizes, and both I/O engines. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stddef.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "check_main.h"
#include "virtio/blk/disk.h"

static char err[512];

/* ------------------------------------------------------------------------------------ */
/* Helpers */

static char *make_image(uint64_t size, uint8_t seed)
{
	const char *dir = getenv("TMPDIR");
	char *path = malloc(4096);
	uint8_t buf[4096];
	uint64_t off = 0;
	int fd;

	ck_assert_ptr_nonnull(path);
	snprintf(path, 4096, "%s/vmm-disk-test-XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	while (off < size) {
		size_t n = size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf);

		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)(seed + (off + i) * 7 + (off + i) / 4096);
		ck_assert_int_eq(pwrite(fd, buf, n, (off_t)off), (ssize_t)n);
		off += n;
	}
	close(fd);
	return path;
}

static uint8_t pattern_byte(uint8_t seed, uint64_t off)
{
	return (uint8_t)(seed + off * 7 + off / 4096);
}

static uint64_t file_size(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

static struct disk_options opts_for(const char *path, bool readonly, enum disk_cache cache)
{
	struct disk_options o = { .readonly = readonly, .cache = cache };

	snprintf(o.path, sizeof(o.path), "%s", path);
	return o;
}

static void parse_ok(const char *text, struct disk_options *o)
{
	err[0] = '\0';
	ck_assert_msg(disk_parse_option(text, o, err, sizeof(err)) == 0, "%s: %s", text, err);
}

static void parse_bad(const char *text, const char *want)
{
	struct disk_options o;

	err[0] = '\0';
	ck_assert_int_eq(disk_parse_option(text, &o, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, want), "\"%s\" gave \"%s\", wanted \"%s\"", text, err, want);
}

/* ------------------------------------------------------------------------------------ */
/* Option parsing */

START_TEST(test_parse_all_keys)
{
	struct disk_options o;

	parse_ok("path=/images/root.img,readonly=on,serial=ABC-123,cache=none,queues=4", &o);
	ck_assert_str_eq(o.path, "/images/root.img");
	ck_assert(o.readonly);
	ck_assert_str_eq(o.serial, "ABC-123");
	ck_assert_int_eq(o.cache, DISK_CACHE_NONE);
	ck_assert_uint_eq(o.queues, 4);

	/* any order; off and writeback spelled out */
	parse_ok("queues=63,cache=writeback,readonly=off,path=x", &o);
	ck_assert_str_eq(o.path, "x");
	ck_assert(!o.readonly);
	ck_assert_int_eq(o.cache, DISK_CACHE_WRITEBACK);
	ck_assert_uint_eq(o.queues, 63);

	/* queue sizes: powers of two up to the split-ring limit */
	parse_ok("path=x,queue-size=1024", &o);
	ck_assert_uint_eq(o.queue_size, 1024);
	parse_ok("path=x,queue-size=32768", &o);
	ck_assert_uint_eq(o.queue_size, 32768);
	parse_ok("path=x", &o);
	ck_assert_uint_eq(o.queue_size, 0);
}
END_TEST

START_TEST(test_parse_defaults)
{
	struct disk_options o;

	memset(&o, 0x5a, sizeof(o));
	parse_ok("path=disk.img", &o);
	ck_assert_str_eq(o.path, "disk.img");
	ck_assert(!o.readonly);
	ck_assert_str_eq(o.serial, "");
	ck_assert_int_eq(o.cache, DISK_CACHE_WRITEBACK);
	ck_assert_uint_eq(o.queues, 0); /* one per vCPU, decided by the caller */
}
END_TEST

START_TEST(test_parse_edges)
{
	struct disk_options o;

	/* ",," is a comma inside a value */
	parse_ok("path=a,,b.img,serial=x,,y", &o);
	ck_assert_str_eq(o.path, "a,b.img");
	ck_assert_str_eq(o.serial, "x,y");
	parse_ok("path=trailing,,", &o);
	ck_assert_str_eq(o.path, "trailing,");
	/* exactly 20 bytes of serial; an empty one; queues 0 and 1; '=' inside a value */
	parse_ok("path=p,serial=12345678901234567890", &o);
	ck_assert_str_eq(o.serial, "12345678901234567890");
	parse_ok("path=p,serial=", &o);
	ck_assert_str_eq(o.serial, "");
	parse_ok("path=p,queues=0", &o);
	ck_assert_uint_eq(o.queues, 0);
	parse_ok("path=p,queues=1", &o);
	ck_assert_uint_eq(o.queues, 1);
	parse_ok("path=a=b", &o);
	ck_assert_str_eq(o.path, "a=b");
}
END_TEST

START_TEST(test_parse_errors)
{
	struct disk_options o = { .queues = 7 };

	parse_bad("", "--disk needs path=FILE");
	parse_bad("readonly=on", "--disk readonly=on: path=FILE is required");
	parse_bad("path=", "--disk path=: empty file name");
	parse_bad("path=a,foo=bar", "--disk foo=bar: unknown key");
	parse_bad("path=a,averyveryverylongkey=1", "averyveryverylongkey=1: unknown key");
	parse_bad("path=a,readonly=yes", "--disk readonly=yes: must be on or off");
	parse_bad("path=a,readonly=", "--disk readonly=: must be on or off");
	parse_bad("path=a,cache=unsafe", "--disk cache=unsafe: must be none or writeback");
	parse_bad("path=a,queues=64", "--disk queues=64: must be a whole number from 1 to 63");
	parse_bad("path=a,queues=-1", "--disk queues=-1:");
	parse_bad("path=a,queue-size=100", "--disk queue-size=100: must be a power of two");
	parse_bad("path=a,queue-size=65536", "--disk queue-size=65536: must be a power of two");
	parse_bad("path=a,queue-size=0", "--disk queue-size=0:");
	parse_bad("path=a,queues=1x", "--disk queues=1x:");
	parse_bad("path=a,queues=", "--disk queues=:");
	parse_bad("path=a,queues=00000001", "--disk queues=00000001:");
	parse_bad("path=a,serial=123456789012345678901",
		  "--disk serial=123456789012345678901: longer than 20 bytes");
	parse_bad("path=a,serial=tab\there", "--disk serial=tab\there: must be printable ASCII");
	parse_bad("path=a,serial=caf\xc3\xa9", "must be printable ASCII");
	parse_bad("path=a,path=b", "--disk path=b: key given twice");
	parse_bad("path=a,cache=none,cache=none", "--disk cache=none: key given twice");
	parse_bad("path=a,ro", "--disk ro: expected key=value");
	parse_bad("disk.img", "--disk disk.img: expected key=value");
	parse_bad("=x", "expected key=value");
	parse_bad("path=a,", "--disk path=a: empty item after it");
	parse_bad("path=a,,,", "--disk path=a,: empty item after it");

	/* nothing is written on failure */
	ck_assert_int_eq(disk_parse_option("path=a,queues=99", &o, err, sizeof(err)), -EINVAL);
	ck_assert_uint_eq(o.queues, 7);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* Opening */

START_TEST(test_open_errors)
{
	struct disk_options o;
	struct disk d = { .fd = -1, .fd_buffered = -1 };
	const char *dir = getenv("TMPDIR");
	char *empty = make_image(0, 0);
	char missing[1024];

	snprintf(missing, sizeof(missing), "%.900s/vmm-no-such-image-%d",
		 dir && *dir ? dir : "/tmp", (int)getpid());
	o = opts_for(missing, false, DISK_CACHE_WRITEBACK);
	ck_assert_int_eq(disk_open(&d, &o, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, missing));
	ck_assert_ptr_nonnull(strstr(err, "No such file"));

	o = opts_for(empty, false, DISK_CACHE_WRITEBACK);
	ck_assert_int_eq(disk_open(&d, &o, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, empty));
	ck_assert_ptr_nonnull(strstr(err, "is empty"));

	o = opts_for(dir && *dir ? dir : "/tmp", true, DISK_CACHE_WRITEBACK);
	ck_assert_int_eq(disk_open(&d, &o, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not a regular file or block device"));
	o.readonly = false;
	ck_assert_int_lt(disk_open(&d, &o, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, o.path));

	/* d untouched by all of it */
	ck_assert_int_eq(d.fd, -1);
	unlink(empty);
	free(empty);
}
END_TEST

START_TEST(test_open_unwritable)
{
	char *path = make_image(4096, 1);
	struct disk_options o = opts_for(path, false, DISK_CACHE_WRITEBACK);
	struct disk d;

	ck_assert_int_eq(chmod(path, 0444), 0);
	if (geteuid() != 0) { /* root writes anyway */
		ck_assert_int_eq(disk_open(&d, &o, err, sizeof(err)), -EACCES);
		ck_assert_ptr_nonnull(strstr(err, "readonly=on"));
	}
	o.readonly = true;
	ck_assert_int_eq(disk_open(&d, &o, err, sizeof(err)), 0);
	ck_assert(d.readonly);
	disk_close(&d);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(test_lock_conflicts)
{
	char *path = make_image(8192, 2);
	struct disk_options rw = opts_for(path, false, DISK_CACHE_WRITEBACK);
	struct disk_options ro = opts_for(path, true, DISK_CACHE_WRITEBACK);
	struct disk a, b, c;

	/* writable + writable: refused */
	ck_assert_int_eq(disk_open(&a, &rw, err, sizeof(err)), 0);
	ck_assert_int_eq(disk_open(&b, &rw, err, sizeof(err)), -EBUSY);
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_ptr_nonnull(strstr(err, "is in use by another process (locked)"));
	/* writable + read-only: refused */
	ck_assert_int_eq(disk_open(&b, &ro, err, sizeof(err)), -EBUSY);
	ck_assert_ptr_nonnull(strstr(err, "in use by another process"));
	disk_close(&a);

	/* read-only + read-only: shared */
	ck_assert_int_eq(disk_open(&a, &ro, err, sizeof(err)), 0);
	ck_assert_int_eq(disk_open(&b, &ro, err, sizeof(err)), 0);
	/* ... but then nobody may write */
	ck_assert_int_eq(disk_open(&c, &rw, err, sizeof(err)), -EBUSY);
	disk_close(&a);
	ck_assert_int_eq(disk_open(&c, &rw, err, sizeof(err)), -EBUSY);
	disk_close(&b);

	/* closing released the locks */
	ck_assert_int_eq(disk_open(&c, &rw, err, sizeof(err)), 0);
	disk_close(&c);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(test_lock_other_process)
{
	char *path = make_image(4096, 3);
	struct disk_options rw = opts_for(path, false, DISK_CACHE_WRITEBACK);
	int to_child[2], to_parent[2];
	struct disk a;
	char c = 0;
	pid_t pid;

	ck_assert_int_eq(pipe(to_child), 0);
	ck_assert_int_eq(pipe(to_parent), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct disk d;
		int ok = disk_open(&d, &rw, err, sizeof(err)) == 0;

		if (write(to_parent[1], ok ? "y" : "n", 1) != 1)
			_exit(1);
		if (read(to_child[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	ck_assert_int_eq(read(to_parent[0], &c, 1), 1);
	ck_assert_int_eq(c, 'y');
	ck_assert_int_eq(disk_open(&a, &rw, err, sizeof(err)), -EBUSY);
	ck_assert_int_eq(write(to_child[1], "x", 1), 1);
	waitpid(pid, NULL, 0);
	/* the other process ended: its lock went with it */
	ck_assert_int_eq(disk_open(&a, &rw, err, sizeof(err)), 0);
	disk_close(&a);
	unlink(path);
	free(path);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* I/O: odd sizes, direct I/O, both engines */

static void sync_io(struct disk *d, enum disk_io_op op, uint64_t off, void *buf, uint64_t len,
		    int want)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct disk_io io = {
		.op = op,
		.offset = off,
		.len = len,
		.iov = &iov,
		.iovcnt = 1,
	};

	disk_io_run_sync(d, &io);
	ck_assert_int_eq(io.result, want);
}

START_TEST(test_odd_size)
{
	char *path = make_image(1000, 4);
	struct disk_options o = opts_for(path, false, DISK_CACHE_WRITEBACK);
	uint8_t buf[1024];
	struct disk d;

	ck_assert_int_eq(disk_open(&d, &o, err, sizeof(err)), 0);
	ck_assert_uint_eq(d.size, 1000);
	ck_assert_uint_eq(d.sectors, 2); /* rounded up */

	/* the partial last sector reads as the file's bytes, then zeros */
	memset(buf, 0xee, sizeof(buf));
	sync_io(&d, DISK_IO_READ, 0, buf, 1024, 0);
	for (unsigned int i = 0; i < 1000; i++)
		ck_assert_uint_eq(buf[i], pattern_byte(4, i));
	for (unsigned int i = 1000; i < 1024; i++)
		ck_assert_uint_eq(buf[i], 0);

	/* writing it grows the file to the sector boundary, no further */
	memset(buf, 0x77, 512);
	sync_io(&d, DISK_IO_WRITE, 512, buf, 512, 0);
	ck_assert_uint_eq(file_size(path), 1024);
	memset(buf, 0, sizeof(buf));
	sync_io(&d, DISK_IO_READ, 0, buf, 1024, 0);
	ck_assert_uint_eq(buf[511], pattern_byte(4, 511));
	for (unsigned int i = 512; i < 1024; i++)
		ck_assert_uint_eq(buf[i], 0x77);
	disk_close(&d);
	unlink(path);
	free(path);

	/* smaller than one sector: still one sector */
	path = make_image(100, 5);
	o = opts_for(path, true, DISK_CACHE_WRITEBACK);
	ck_assert_int_eq(disk_open(&d, &o, err, sizeof(err)), 0);
	ck_assert_uint_eq(d.sectors, 1);
	memset(buf, 0xee, sizeof(buf));
	sync_io(&d, DISK_IO_READ, 0, buf, 512, 0);
	ck_assert_uint_eq(buf[99], pattern_byte(5, 99));
	ck_assert_uint_eq(buf[100], 0);
	ck_assert_uint_eq(buf[511], 0);
	disk_close(&d);
	unlink(path);
	free(path);

	/* exact multiple: no rounding */
	path = make_image(4096, 6);
	o = opts_for(path, true, DISK_CACHE_WRITEBACK);
	ck_assert_int_eq(disk_open(&d, &o, err, sizeof(err)), 0);
	ck_assert_uint_eq(d.sectors, 8);
	disk_close(&d);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(test_write_zeroes_fallbacks)
{
	char *path = make_image(64 << 10, 7);
	struct disk_options o = opts_for(path, false, DISK_CACHE_WRITEBACK);
	uint8_t buf[64 << 10];
	struct disk d;
	struct disk_io io;

	ck_assert_int_eq(disk_open(&d, &o, err, sizeof(err)), 0);
	/* as on a file system without ZERO_RANGE or PUNCH_HOLE: zeros are written by hand */
	d.no_zero_range = true;
	d.no_punch_hole = true;
	io = (struct disk_io){ .op = DISK_IO_WRITE_ZEROES, .offset = 4096, .len = 8192 };
	disk_io_run_sync(&d, &io);
	ck_assert_int_eq(io.result, 0);
	io = (struct disk_io){
		.op = DISK_IO_WRITE_ZEROES, .unmap = true, .offset = 32768, .len = 512
	};
	disk_io_run_sync(&d, &io);
	ck_assert_int_eq(io.result, 0);
	/* and a discard says it could not */
	io = (struct disk_io){ .op = DISK_IO_DISCARD, .offset = 0, .len = 4096 };
	disk_io_run_sync(&d, &io);
	ck_assert_int_eq(io.result, -EOPNOTSUPP);

	sync_io(&d, DISK_IO_READ, 0, buf, sizeof(buf), 0);
	for (unsigned int i = 0; i < sizeof(buf); i++) {
		bool zero = (i >= 4096 && i < 12288) || (i >= 32768 && i < 33280);

		ck_assert_uint_eq(buf[i], zero ? 0 : pattern_byte(7, i));
	}
	ck_assert_uint_eq(file_size(path), 64 << 10);
	disk_close(&d);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(test_direct_io)
{
	char *path = make_image(1 << 20, 8);
	struct disk_options o = opts_for(path, false, DISK_CACHE_NONE);
	uint8_t *buf;
	struct disk d;
	int r = disk_open(&d, &o, err, sizeof(err));

	if (r == -EINVAL && strstr(err, "O_DIRECT")) {
		/* the file system refused O_DIRECT: that is the error we promise */
		ck_assert_ptr_nonnull(strstr(err, "cache=writeback"));
		unlink(path);
		free(path);
		return;
	}
	ck_assert_msg(r == 0, "%s", err);
	ck_assert(d.direct);
	ck_assert_int_ne(d.fd, d.fd_buffered);
	ck_assert_uint_ge(d.dio_offset_align, 512);
	ck_assert_int_eq(posix_memalign((void **)&buf, 4096, 3 * 4096), 0);

	/* aligned: O_DIRECT */
	memset(buf, 0x31, 8192);
	sync_io(&d, DISK_IO_WRITE, 8192, buf, 8192, 0);
	memset(buf, 0, 8192);
	sync_io(&d, DISK_IO_READ, 8192, buf, 8192, 0);
	for (unsigned int i = 0; i < 8192; i++)
		ck_assert_uint_eq(buf[i], 0x31);

	/* a buffer at an odd address goes the buffered way, and still works */
	memset(buf + 1, 0x42, 4096);
	sync_io(&d, DISK_IO_WRITE, 16384, buf + 1, 4096, 0);
	memset(buf, 0, 3 * 4096);
	sync_io(&d, DISK_IO_READ, 16384, buf + 3, 4096, 0);
	for (unsigned int i = 0; i < 4096; i++)
		ck_assert_uint_eq(buf[3 + i], 0x42);
	/* and both views agree */
	sync_io(&d, DISK_IO_READ, 16384, buf + 4096, 4096, 0);
	ck_assert_uint_eq(buf[4096], 0x42);

	free(buf);
	disk_close(&d);
	unlink(path);
	free(path);
}
END_TEST

static unsigned int completions;

static void count_done(struct disk_io *io, void *opaque)
{
	(void)io;
	(void)opaque;
	completions++;
}

static const char *const engine_env[] = { "thread", "io_uring" };

/* Set up an engine as _i says; false if io_uring is not available on this host. */
static bool engine_up(struct disk_engine *e, struct disk *d, int kick, int stop, int i)
{
	int r;

	setenv("VMM_DISK_ENGINE", engine_env[i], 1);
	r = disk_engine_init(e, d, 8, kick, stop, count_done, NULL, err, sizeof(err));
	if (r < 0 && i == 1) {
		fprintf(stderr, "test_disk: io_uring unavailable here, skipped: %s\n", err);
		return false;
	}
	ck_assert_msg(r == 0, "%s", err);
	ck_assert_str_eq(disk_engine_name(e), engine_env[i]);
	return true;
}

static void engine_wait(struct disk_engine *e, unsigned int want)
{
	unsigned int events;

	while (completions < want) {
		ck_assert_int_eq(disk_engine_run(e, true, &events), 0);
		ck_assert_uint_eq(events, 0);
	}
}

START_TEST(test_engine_io)
{
	char *path = make_image(1000 + 64 * 1024, 9);
	struct disk_options o = opts_for(path, false, DISK_CACHE_WRITEBACK);
	static uint8_t a[16384], b[16384], tail[1024];
	struct iovec av[3], bv[2], tv[1];
	struct disk_io io[6];
	struct disk_engine e;
	struct disk d;

	ck_assert_int_eq(disk_open(&d, &o, err, sizeof(err)), 0);
	if (!engine_up(&e, &d, -1, -1, _i))
		goto out;
	completions = 0;

	/* a write split over three segments and a read over two, submitted together */
	memset(a, 0xa5, sizeof(a));
	av[0] = (struct iovec){ a, 512 };
	av[1] = (struct iovec){ a + 512, 4096 };
	av[2] = (struct iovec){ a + 4608, 16384 - 4608 };
	bv[0] = (struct iovec){ b, 1024 };
	bv[1] = (struct iovec){ b + 1024, 8192 - 1024 };
	tv[0] = (struct iovec){ tail, 1024 };
	memset(tail, 0xee, sizeof(tail));
	io[0] = (struct disk_io){
		.op = DISK_IO_WRITE, .offset = 8192, .len = 16384, .iov = av, .iovcnt = 3
	};
	io[1] = (struct disk_io){
		.op = DISK_IO_READ, .offset = 32768, .len = 8192, .iov = bv, .iovcnt = 2
	};
	/* the partial last sector: 1000 + 64K is 488 bytes into sector 129 */
	io[2] = (struct disk_io){
		.op = DISK_IO_READ, .offset = 64 * 1024, .len = 1024, .iov = tv, .iovcnt = 1
	};
	for (int i = 0; i < 3; i++)
		disk_engine_submit(&e, &io[i]);
	engine_wait(&e, 3);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(io[i].result, 0);
	for (unsigned int i = 0; i < 8192; i++)
		ck_assert_uint_eq(b[i], pattern_byte(9, 32768 + i));
	for (unsigned int i = 0; i < 1000; i++)
		ck_assert_uint_eq(tail[i], pattern_byte(9, 64 * 1024 + i));
	for (unsigned int i = 1000; i < 1024; i++)
		ck_assert_uint_eq(tail[i], 0);

	/* flush, discard, write zeroes (with and without unmap), then check by reading */
	io[3] = (struct disk_io){ .op = DISK_IO_FLUSH };
	io[4] = (struct disk_io){ .op = DISK_IO_DISCARD, .offset = 8192, .len = 4096 };
	io[5] = (struct disk_io){ .op = DISK_IO_WRITE_ZEROES, .offset = 16384, .len = 2048 };
	for (int i = 3; i < 6; i++)
		disk_engine_submit(&e, &io[i]);
	engine_wait(&e, 6);
	for (int i = 3; i < 6; i++)
		ck_assert_int_eq(io[i].result, 0);
	io[0] = (struct disk_io){
		.op = DISK_IO_WRITE_ZEROES, .unmap = true, .offset = 20480, .len = 512
	};
	disk_engine_submit(&e, &io[0]);
	engine_wait(&e, 7);
	ck_assert_int_eq(io[0].result, 0);

	bv[0] = (struct iovec){ b, 16384 };
	io[1] = (struct disk_io){
		.op = DISK_IO_READ, .offset = 8192, .len = 16384, .iov = bv, .iovcnt = 1
	};
	disk_engine_submit(&e, &io[1]);
	engine_wait(&e, 8);
	ck_assert_int_eq(io[1].result, 0);
	for (unsigned int i = 0; i < 16384; i++) {
		uint64_t off = 8192 + i;
		bool zero = off < 12288 || (off >= 16384 && off < 18432) ||
			    (off >= 20480 && off < 20992);

		ck_assert_msg(b[i] == (zero ? 0 : 0xa5), "byte %llu: %u", (unsigned long long)off,
			      b[i]);
	}

	disk_engine_destroy(&e);
out:
	disk_close(&d);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(test_engine_events)
{
	char *path = make_image(4096, 10);
	struct disk_options o = opts_for(path, true, DISK_CACHE_WRITEBACK);
	int kick = eventfd(0, EFD_CLOEXEC);
	int stop = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	static uint8_t buf[512];
	struct iovec v = { buf, sizeof(buf) };
	struct disk_io io = {
		.op = DISK_IO_WRITE, .offset = 0, .len = 512, .iov = &v, .iovcnt = 1
	};
	struct disk_engine e;
	unsigned int events;
	struct disk d;
	uint64_t left;

	ck_assert_int_ge(kick, 0);
	ck_assert_int_ge(stop, 0);
	ck_assert_int_eq(disk_open(&d, &o, err, sizeof(err)), 0);
	if (!engine_up(&e, &d, kick, stop, _i))
		goto out;
	completions = 0;

	/* nothing pending: a non-waiting run returns at once */
	ck_assert_int_eq(disk_engine_run(&e, false, &events), 0);
	ck_assert_uint_eq(events, 0);

	/* a kick wakes a waiting run and is consumed */
	ck_assert_int_eq(eventfd_write(kick, 3), 0);
	ck_assert_int_eq(disk_engine_run(&e, true, &events), 0);
	ck_assert_uint_eq(events, DISK_EVENT_KICK);
	ck_assert_int_eq(eventfd_write(stop, 1), 0);
	events = 0;
	while (!(events & DISK_EVENT_STOP))
		ck_assert_int_eq(disk_engine_run(&e, true, &events), 0);
	ck_assert_uint_eq(events & DISK_EVENT_KICK, 0);
	ck_assert_int_eq(read(stop, &left, sizeof(left)), -1); /* consumed */

	/* and again: the watches were re-armed */
	ck_assert_int_eq(eventfd_write(kick, 1), 0);
	ck_assert_int_eq(disk_engine_run(&e, true, &events), 0);
	ck_assert_uint_eq(events, DISK_EVENT_KICK);

	/* an error comes back as -errno: the descriptor is read-only */
	disk_engine_submit(&e, &io);
	engine_wait(&e, 1);
	ck_assert_int_eq(io.result, -EBADF);
	disk_engine_destroy(&e);
out:
	disk_close(&d);
	close(kick);
	close(stop);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(test_engine_env)
{
	char *path = make_image(4096, 11);
	struct disk_options o = opts_for(path, true, DISK_CACHE_WRITEBACK);
	struct disk_engine e;
	struct disk d;

	ck_assert_int_eq(disk_open(&d, &o, err, sizeof(err)), 0);
	setenv("VMM_DISK_ENGINE", "fast", 1);
	ck_assert_int_eq(disk_engine_init(&e, &d, 4, -1, -1, count_done, NULL, err, sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "VMM_DISK_ENGINE=fast"));
	/* unset or auto: whatever works here */
	unsetenv("VMM_DISK_ENGINE");
	ck_assert_int_eq(disk_engine_init(&e, &d, 4, -1, -1, count_done, NULL, err, sizeof(err)),
			 0);
	disk_engine_destroy(&e);
	disk_close(&d);
	unlink(path);
	free(path);
}
END_TEST

/* Make io_uring_setup fail with EPERM in this process, as a container's seccomp profile does. */
static int forbid_io_uring(void)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* In a child process under that filter: 0 if all went as promised, else a step number. */
static int fallback_child(const char *path)
{
	struct disk_options o = opts_for(path, false, DISK_CACHE_WRITEBACK);
	static uint8_t buf[4096];
	struct iovec v = { buf, sizeof(buf) };
	struct disk_io io = {
		.op = DISK_IO_READ, .offset = 0, .len = 4096, .iov = &v, .iovcnt = 1
	};
	struct disk_engine e;
	unsigned int events;
	struct disk d;

	if (forbid_io_uring())
		return 1;
	if (disk_open(&d, &o, err, sizeof(err)))
		return 2;
	/* asked for io_uring explicitly: a clear error, no silent fallback */
	setenv("VMM_DISK_ENGINE", "io_uring", 1);
	if (disk_engine_init(&e, &d, 4, -1, -1, count_done, NULL, err, sizeof(err)) != -EPERM ||
	    !strstr(err, "io_uring unavailable"))
		return 3;
	/* automatic: the thread engine, and it works */
	unsetenv("VMM_DISK_ENGINE");
	if (disk_engine_init(&e, &d, 4, -1, -1, count_done, NULL, err, sizeof(err)))
		return 4;
	if (strcmp(disk_engine_name(&e), "thread"))
		return 5;
	completions = 0;
	disk_engine_submit(&e, &io);
	while (completions < 1)
		if (disk_engine_run(&e, true, &events))
			return 6;
	if (io.result || buf[4095] != pattern_byte(12, 4095))
		return 7;
	disk_engine_destroy(&e);
	disk_close(&d);
	return 0;
}

START_TEST(test_engine_fallback)
{
	char *path;
	int status;
	pid_t pid;

#ifndef __x86_64__
	return; /* the filter below speaks x86-64 system call numbers, like the VMM */
#endif
	path = make_image(4096, 12);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(fallback_child(path));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_msg(WEXITSTATUS(status) == 0, "step %d failed: %s", WEXITSTATUS(status), err);
	unlink(path);
	free(path);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("disk");
	TCase *tc = tcase_create("options");

	tcase_add_test(tc, test_parse_all_keys);
	tcase_add_test(tc, test_parse_defaults);
	tcase_add_test(tc, test_parse_edges);
	tcase_add_test(tc, test_parse_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("open");
	tcase_add_test(tc, test_open_errors);
	tcase_add_test(tc, test_open_unwritable);
	tcase_add_test(tc, test_lock_conflicts);
	tcase_add_test(tc, test_lock_other_process);
	suite_add_tcase(s, tc);

	tc = tcase_create("io");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_odd_size);
	tcase_add_test(tc, test_write_zeroes_fallbacks);
	tcase_add_test(tc, test_direct_io);
	tcase_add_loop_test(tc, test_engine_io, 0, 2);
	tcase_add_loop_test(tc, test_engine_events, 0, 2);
	tcase_add_test(tc, test_engine_env);
	tcase_add_test(tc, test_engine_fallback);
	suite_add_tcase(s, tc);
	return s;
}
