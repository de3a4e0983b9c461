/* SPDX-License-Identifier: MIT */
/*
 * `vmm run --boot-cache DIR,keep=N,max-size=SIZE`: least recently used entries go first,
 * crashed runs' temporaries go, nothing of the user's or in use is touched, and a hit
 * makes its entry the most recent. A real entry needs a real boot, so these build
 * directories that look like entries.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "check_main.h"
#include "vmm/run/boot_cache.h"
#include "vmm/run/boot_cache_tidy.h"
#include "vmm/snapshot.h"

#define MIB (1ull << 20)

static char dir[64];
static int dir_fd = -1;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/boot-cache-tidy-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dir_fd, 0);
}

static void teardown(void)
{
	char cmd[128];

	close(dir_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* A key made of one repeated hex digit. */
static const char *key(char c)
{
	static char k[8][BOOT_CACHE_KEY_LEN + 1];
	static unsigned int next;
	char *s = k[next++ % 8];

	memset(s, c, BOOT_CACHE_KEY_LEN);
	s[BOOT_CACHE_KEY_LEN] = 0;
	return s;
}

static void write_file(const char *path, uint64_t bytes)
{
	static char chunk[64 << 10];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	memset(chunk, 0x5a, sizeof(chunk));
	for (uint64_t done = 0; done < bytes; done += sizeof(chunk))
		ck_assert_int_eq(write(fd, chunk, sizeof(chunk)), sizeof(chunk));
	close(fd);
}

static void set_age(const char *name, int age_s)
{
	struct timespec t[2];

	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= age_s;
	t[1] = t[0];
	ck_assert_int_eq(utimensat(dir_fd, name, t, AT_SYMLINK_NOFOLLOW), 0);
}

/* DIR/name as an entry (or temporary) last used age_s ago, its memory file bytes long. */
static void make_entry(const char *name, int age_s, uint64_t bytes)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/%s/%s", dir, name, SNAPSHOT_STATE_FILE);
	write_file(path, 4096);
	snprintf(path, sizeof(path), "%s/%s/%s", dir, name, SNAPSHOT_MEMORY_FILE);
	write_file(path, bytes);
	set_age(name, age_s);
}

static bool exists(const char *name)
{
	struct stat st;

	return fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static unsigned int names_in_dir(void)
{
	char cmd[128];
	unsigned int n = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%u", &n), 1);
	pclose(f);
	return n;
}

static struct boot_cache_tidy_result tidy(const char *saved, unsigned int keep, uint64_t max_bytes)
{
	struct boot_cache_limit lim = { keep, max_bytes };
	struct boot_cache_tidy_result res;

	ck_assert_int_eq(boot_cache_tidy(dir_fd, saved, &lim, getuid(), now_ns(), &res), 0);
	return res;
}

START_TEST(test_names)
{
	ck_assert(boot_cache_is_key(key('a')));
	ck_assert(!boot_cache_is_key("abc"));
	ck_assert(!boot_cache_is_key(
		"ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789"));
	ck_assert(boot_cache_is_temp(".tmp-0123456789abcdef-42"));
	ck_assert(!boot_cache_is_temp(".tmp-0123456789abcdef-"));
	ck_assert(!boot_cache_is_temp(".tmp-0123456789abcdef-42x"));
	ck_assert(!boot_cache_is_temp(".tmp-notes"));
	ck_assert(!boot_cache_is_temp("tmp-0123456789abcdef-42"));
}
END_TEST

/* Five entries used 50, 40, 30, 20, 10 s ago; keep=3 leaves the three most recent. */
START_TEST(test_keep_evicts_least_recently_used)
{
	const char *k[5] = { key('1'), key('2'), key('3'), key('4'), key('5') };
	struct boot_cache_tidy_result res;

	for (int i = 0; i < 5; i++)
		make_entry(k[i], 50 - 10 * i, 64 << 10);
	res = tidy(k[4], 3, 0);
	ck_assert_uint_eq(res.evicted, 2);
	ck_assert_uint_eq(res.kept, 3);
	ck_assert(!exists(k[0]) && !exists(k[1]));
	ck_assert(exists(k[2]) && exists(k[3]) && exists(k[4]));
	/* nothing is left behind under a temporary name */
	ck_assert_uint_eq(names_in_dir(), 3);
	/* within the limit: nothing more goes */
	res = tidy(k[4], 3, 0);
	ck_assert_uint_eq(res.evicted, 0);
	ck_assert_uint_eq(names_in_dir(), 3);
}
END_TEST

/* max-size counts disk space: 4 MiB entries, 9 MiB allowed: the two most recent stay. */
START_TEST(test_max_bytes)
{
	const char *k[4] = { key('a'), key('b'), key('c'), key('d') };
	struct boot_cache_tidy_result res;

	for (int i = 0; i < 4; i++)
		make_entry(k[i], 40 - 10 * i, 4 * MIB);
	res = tidy(k[3], 100, 9 * MIB);
	ck_assert_uint_eq(res.evicted, 2);
	ck_assert(!exists(k[0]) && !exists(k[1]) && exists(k[2]) && exists(k[3]));
	ck_assert_uint_ge(res.kept_bytes, 8 * MIB);
	ck_assert_uint_le(res.kept_bytes, 9 * MIB);
}
END_TEST

/* The entry just saved stays whatever the limit, even when its time says it is oldest. */
START_TEST(test_saved_entry_stays)
{
	const char *old = key('e'), *saved = key('f');

	make_entry(saved, 100, 4 * MIB); /* a clock that went back */
	make_entry(old, 10, 4 * MIB);
	ck_assert_uint_eq(tidy(saved, 1, 1 * MIB).evicted, 1);
	ck_assert(exists(saved) && !exists(old));
}
END_TEST

/* An entry a run holds (a hit holds LOCK_SH) is skipped; the next oldest goes instead. */
START_TEST(test_in_use_is_skipped)
{
	const char *k[3] = { key('1'), key('2'), key('3') };
	int fd;

	for (int i = 0; i < 3; i++)
		make_entry(k[i], 30 - 10 * i, 64 << 10);
	fd = openat(dir_fd, k[0], O_RDONLY | O_DIRECTORY);
	ck_assert_int_eq(flock(fd, LOCK_SH), 0);
	ck_assert_uint_eq(tidy(k[2], 2, 0).evicted, 1);
	ck_assert(exists(k[0]) && !exists(k[1]) && exists(k[2]));
	close(fd); /* the run ended: it may go now */
	ck_assert_uint_eq(tidy(k[2], 1, 0).evicted, 1);
	ck_assert(!exists(k[0]) && exists(k[2]));
}
END_TEST

/*
 * Temporaries: one a crashed run left 20 minutes ago goes; a fresh one and an old one a
 * live run holds (LOCK_EX, as a saving run does) stay.
 */
START_TEST(test_stale_temporaries)
{
	const char *stale = ".tmp-0123456789abcdef-4242", *fresh = ".tmp-0123456789abcdef-4243",
		   *held = ".tmp-0123456789abcdef-4244", *saved = key('9');
	int fd;

	make_entry(stale, 1200, 64 << 10);
	make_entry(fresh, 5, 64 << 10);
	make_entry(held, 1200, 64 << 10);
	make_entry(saved, 0, 64 << 10);
	fd = openat(dir_fd, held, O_RDONLY | O_DIRECTORY);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	ck_assert_uint_eq(tidy(saved, 8, 0).swept, 1);
	close(fd);
	ck_assert(!exists(stale) && exists(fresh) && exists(held) && exists(saved));
}
END_TEST

/*
 * The user's things in DIR: files and directories of other names, a file or symbolic link
 * named like an entry, a directory of another user, a file inside an evicted entry. With
 * keep=1 all our other entries go, and all of those stay.
 */
START_TEST(test_foreign_files_untouched)
{
	const char *saved = key('0'), *old = key('1'), *link = key('2'), *file = key('3'),
		   *other = key('4'), *tfile = ".tmp-0123456789abcdef-7";
	char path[256], target[128];
	unsigned int before;

	make_entry(saved, 0, 64 << 10);
	make_entry(old, 100, 64 << 10);
	snprintf(path, sizeof(path), "%s/%s/notes.txt", dir, old);
	write_file(path, 10);
	/* a link to a directory that looks like an old entry */
	snprintf(target, sizeof(target), "%s-target", dir);
	ck_assert_int_eq(mkdir(target, 0700), 0);
	snprintf(path, sizeof(path), "%s/%s", target, SNAPSHOT_STATE_FILE);
	write_file(path, 10);
	snprintf(path, sizeof(path), "%s/%s", dir, link);
	ck_assert_int_eq(symlink(target, path), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	write_file(path, 10);
	if (getuid() == 0) { /* only root can give a directory away */
		make_entry(other, 200, 64 << 10);
		snprintf(path, sizeof(path), "%s/%s", dir, other);
		ck_assert_int_eq(chown(path, 4242, 4242), 0);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, tfile); /* a temporary's name, not a dir */
	write_file(path, 10);
	set_age(tfile, 3600);
	make_entry(".tmp-notes", 3600, 10);
	make_entry("projects", 3600, 10);
	before = names_in_dir();

	tidy(saved, 1, 0);
	ck_assert(exists(saved) && !exists(old));
	/* the evicted entry's directory stays for the user's file, under a temporary name */
	ck_assert_uint_eq(names_in_dir(), before);
	snprintf(path, sizeof(path), "%s/%s", target, SNAPSHOT_STATE_FILE);
	ck_assert_int_eq(access(path, F_OK), 0);
	ck_assert(exists(link) && exists(file) && exists(tfile));
	ck_assert(exists(".tmp-notes") && exists("projects"));
	if (getuid() == 0)
		ck_assert(exists(other));
	snprintf(path, sizeof(path), "rm -rf '%s'", target);
	ck_assert_int_eq(system(path), 0);
}
END_TEST

/*
 * A hit marks its entry used: its time becomes now, so a tidy that must drop one of two
 * entries drops the other, older-saved one; while the run lasts it holds the entry.
 */
START_TEST(test_hit_refreshes_recency)
{
	static struct vm vm;
	static struct run_image img;
	static uint8_t initramfs[16] = "070701";
	struct vmm_options opts = { .boot_cache = dir, .kernel = "/proc/self/exe" };
	struct boot_cache *c = &run_boot_cache;
	char err[256], hit_key[BOOT_CACHE_KEY_LEN + 1];
	struct stat st;
	int fd;

	img.initramfs.buf = initramfs;
	img.initramfs.len = sizeof(initramfs);
	snprintf(img.cmdline, sizeof(img.cmdline), "console=ttyS0");
	opts.memory = 64 * MIB;
	opts.cpus = 1;
	memset(c, 0, sizeof(*c));
	c->dir_fd = c->tmp_fd = c->event_fd = c->entry_fd = -1;

	/* a first lookup misses and names the key; put an old entry under it */
	ck_assert_int_eq(boot_cache_open(c, &opts, err, sizeof(err)), 0);
	boot_cache_lookup(c, &vm, &opts, &img);
	ck_assert(boot_cache_enabled(c) && !c->hit);
	memcpy(hit_key, c->key, sizeof(hit_key));
	boot_cache_close(c);
	make_entry(hit_key, 100, 64 << 10);
	make_entry(key('7'), 50, 64 << 10);

	ck_assert_int_eq(boot_cache_open(c, &opts, err, sizeof(err)), 0);
	boot_cache_lookup(c, &vm, &opts, &img);
	ck_assert(c->hit);
	ck_assert_int_eq(fstatat(dir_fd, hit_key, &st, 0), 0);
	ck_assert_int_ge(st.st_mtim.tv_sec, time(NULL) - 5);
	/* held: another run's tidy cannot take it */
	fd = openat(dir_fd, hit_key, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ne(flock(fd, LOCK_EX | LOCK_NB), 0);
	close(fd);
	boot_cache_close(c);

	/* the hit is now the more recent: a new save with keep=2 drops the other one */
	make_entry(key('8'), 0, 64 << 10);
	ck_assert_uint_eq(tidy(key('8'), 2, 0).evicted, 1);
	ck_assert(exists(hit_key) && !exists(key('7')) && exists(key('8')));
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("boot cache tidy");
	TCase *tc = tcase_create("tidy");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_keep_evicts_least_recently_used);
	tcase_add_test(tc, test_max_bytes);
	tcase_add_test(tc, test_saved_entry_stays);
	tcase_add_test(tc, test_in_use_is_skipped);
	tcase_add_test(tc, test_stale_temporaries);
	tcase_add_test(tc, test_foreign_files_untouched);
	tcase_add_test(tc, test_hit_refreshes_recency);
	suite_add_tcase(s, tc);
	return s;
}
