/* SPDX-License-Identifier: MIT */
/* `vmm run --boot-cache`: the key covers every input, and nothing else; the directory check. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "check_main.h"
#include "vmm/exit_codes.h"
#include "vmm/run/boot_cache.h"

static struct boot_cache_inputs base(void)
{
	struct boot_cache_inputs in = {
		.vmm = { 1, 2, 3, 4, 5 },
		.kernel = { 6, 7, 8, 9, 10 },
		.memory = 512ull << 20,
		.ncpus = 2,
		.cmdline = "console=ttyS0 rdinit=/.vmm-run/init",
		.devices = "virtio-fs\n",
	};

	memset(in.initramfs, 0xab, sizeof(in.initramfs));
	return in;
}

static void key_of(const struct boot_cache_inputs *in, char *key)
{
	boot_cache_key(in, key);
	ck_assert_uint_eq(strlen(key), BOOT_CACHE_KEY_LEN);
	ck_assert_uint_eq(strspn(key, "0123456789abcdef"), BOOT_CACHE_KEY_LEN);
}

START_TEST(test_key_stable)
{
	struct boot_cache_inputs a = base(), b = base();
	char ka[BOOT_CACHE_KEY_LEN + 1], kb[BOOT_CACHE_KEY_LEN + 1];

	key_of(&a, ka);
	key_of(&b, kb);
	ck_assert_str_eq(ka, kb);
}
END_TEST

/* Change one input at a time (_i picks which): the key changes every time. */
START_TEST(test_key_covers_each_input)
{
	struct boot_cache_inputs in = base();
	char k0[BOOT_CACHE_KEY_LEN + 1], k1[BOOT_CACHE_KEY_LEN + 1];

	key_of(&in, k0);
	switch (_i) {
	case 0:
		in.vmm.mtime_ns++;
		break;
	case 1:
		in.vmm.size++;
		break;
	case 2:
		in.kernel.ino++;
		break;
	case 3:
		in.kernel.ctime_ns++;
		break;
	case 4:
		in.initramfs[31] ^= 1;
		break;
	case 5:
		in.memory += 4096;
		break;
	case 6:
		in.ncpus = 3;
		break;
	case 7:
		in.cmdline = "console=ttyS0 rdinit=/.vmm-run/init quiet";
		break;
	case 8:
		in.devices = "virtio-fs\nvirtio-fs\n";
		break;
	case 9:
		in.devices = "virtio-fs\nvirtio-blk 1048576 0 0 0\n";
		break;
	}
	key_of(&in, k1);
	ck_assert_str_ne(k0, k1);
}
END_TEST

/* A command line that holds what the devices' lines would say is not those devices. */
START_TEST(test_key_fields_do_not_run_together)
{
	struct boot_cache_inputs a = base(), b = base();
	char ka[BOOT_CACHE_KEY_LEN + 1], kb[BOOT_CACHE_KEY_LEN + 1];

	a.cmdline = "quiet\ndevices 10\nvirtio-fs\n";
	a.devices = "";
	b.cmdline = "quiet";
	b.devices = "virtio-fs\n";
	key_of(&a, ka);
	key_of(&b, kb);
	ck_assert_str_ne(ka, kb);
}
END_TEST

static int open_dir(const char *path, char *err)
{
	struct vmm_options opts = { .boot_cache = path };

	memset(&run_boot_cache, 0, sizeof(run_boot_cache));
	run_boot_cache.dir_fd = run_boot_cache.tmp_fd = run_boot_cache.event_fd = -1;
	run_boot_cache.entry_fd = -1;
	return boot_cache_open(&run_boot_cache, &opts, err, 256);
}

START_TEST(test_open_checks_the_directory)
{
	char dir[] = "/tmp/boot-cache-XXXXXX", path[64], err[256];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(open_dir(dir, err), 0);
	ck_assert(boot_cache_enabled(&run_boot_cache));
	boot_cache_close(&run_boot_cache);
	ck_assert(!boot_cache_enabled(&run_boot_cache));

	snprintf(path, sizeof(path), "%s/missing", dir);
	ck_assert_int_eq(open_dir(path, err), VMM_EXIT_USAGE);
	ck_assert_ptr_nonnull(strstr(err, "No such file"));
	snprintf(path, sizeof(path), "%s/file", dir);
	close(open(path, O_WRONLY | O_CREAT, 0600));
	ck_assert_int_eq(open_dir(path, err), VMM_EXIT_USAGE);
	ck_assert_ptr_nonnull(strstr(err, "not a directory"));
	unlink(path);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(open_dir(path, err), VMM_EXIT_USAGE);
	ck_assert_ptr_nonnull(strstr(err, "not a directory"));
	unlink(path);
	rmdir(dir);
}
END_TEST

/* --user: the save runs as that user, so the directory must be theirs to write */
START_TEST(test_open_checks_the_user_may_write)
{
	char dir[] = "/tmp/boot-cache-XXXXXX", err[256] = "";
	struct vmm_options opts = {
		.boot_cache = dir, .has_user = true, .uid = 54321, .gid = 54321
	};
	struct stat st;

	ck_assert_ptr_nonnull(mkdtemp(dir)); /* 0700, ours */
	ck_assert_int_eq(stat(dir, &st), 0);
	memset(&run_boot_cache, 0, sizeof(run_boot_cache));
	run_boot_cache.dir_fd = run_boot_cache.tmp_fd = run_boot_cache.event_fd = -1;
	run_boot_cache.entry_fd = -1;
	ck_assert_int_eq(boot_cache_open(&run_boot_cache, &opts, err, sizeof(err)), VMM_EXIT_USAGE);
	ck_assert_ptr_nonnull(strstr(err, "--user 54321:54321 cannot write there"));
	/* the same user as the owner, or a group or others that may write: accepted */
	opts.uid = st.st_uid;
	ck_assert_int_eq(boot_cache_open(&run_boot_cache, &opts, err, sizeof(err)), 0);
	boot_cache_close(&run_boot_cache);
	opts.uid = 54321;
	ck_assert_int_eq(chmod(dir, 0703), 0);
	ck_assert_int_eq(boot_cache_open(&run_boot_cache, &opts, err, sizeof(err)), 0);
	boot_cache_close(&run_boot_cache);
	ck_assert_int_eq(chmod(dir, 0701), 0); /* others may enter, not write */
	ck_assert_int_eq(boot_cache_open(&run_boot_cache, &opts, err, sizeof(err)), VMM_EXIT_USAGE);
	rmdir(dir);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("boot cache");
	TCase *tc = tcase_create("key");

	tcase_add_test(tc, test_key_stable);
	tcase_add_loop_test(tc, test_key_covers_each_input, 0, 10);
	tcase_add_test(tc, test_key_fields_do_not_run_together);
	tcase_add_test(tc, test_open_checks_the_directory);
	tcase_add_test(tc, test_open_checks_the_user_may_write);
	suite_add_tcase(s, tc);
	return s;
}
