/* SPDX-License-Identifier: MIT */
/* Host-side unpacking of a bzImage: payload lookup, the cache, its fallbacks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <asm/bootparam.h>

#include "check_main.h"
#include "elf_image.h"
#include "vmm/payload.h"
#include "vmm/x86/kernel_unpack.h"

#define SETUP_SECTS 1
#define SETUP_SIZE ((SETUP_SECTS + 1) * 512)
#define PAYLOAD_OFFSET 0x100 /* from the protected-mode start, as a real one is */
#define IMAGE_CAP (SETUP_SIZE + PAYLOAD_OFFSET + 2 * TEST_ELF_SIZE + 4096)

static const enum unpack_format formats_under_test[] = { UNPACK_GZIP, UNPACK_LZ4, UNPACK_ZSTD };
#define NFORMATS_UNDER_TEST 3

static char dir[256], cache[300], kernel[300];
static uint8_t elf[TEST_ELF_SIZE], image[IMAGE_CAP];
static size_t image_len;
static struct kernel_unpack_result res;
static char err[256], line[300];

static void build_image(enum unpack_format format, uint16_t protocol)
{
	struct setup_header hdr = { 0 };
	size_t n;

	memset(image, 0, sizeof(image));
	test_elf_build(elf, sizeof(elf), TEST_ELF_ENTRY, test_elf_vmlinux, TEST_ELF_NSEGS);
	n = test_payload(format, elf, sizeof(elf), image + SETUP_SIZE + PAYLOAD_OFFSET,
			 sizeof(image) - SETUP_SIZE - PAYLOAD_OFFSET - 64);
	ck_assert(n > 0);
	hdr.setup_sects = SETUP_SECTS;
	hdr.boot_flag = 0xaa55;
	hdr.header = 0x53726448; /* "HdrS" */
	hdr.version = protocol;
	hdr.loadflags = LOADED_HIGH;
	hdr.kernel_alignment = 0x200000;
	hdr.relocatable_kernel = 1;
	hdr.xloadflags = XLF_KERNEL_64;
	hdr.pref_address = 0x1000000;
	hdr.init_size = 4 << 20;
	hdr.payload_offset = PAYLOAD_OFFSET;
	hdr.payload_length = (uint32_t)n;
	memcpy(image + 0x1f1, &hdr, sizeof(hdr));
	image_len = SETUP_SIZE + PAYLOAD_OFFSET + n + 64; /* the decompressor's tail, say */
}

/* kernel_unpack() on the first len bytes of the image, through a file as the loader has it */
static int unpack_len(const char *cache_dir, size_t len)
{
	int fd = open(kernel, O_RDWR | O_CREAT | O_TRUNC, 0600), ret;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, image, len), (ssize_t)len);
	memset(err, 0, sizeof(err));
	ret = kernel_unpack(fd, len, cache_dir, &res, err, sizeof(err));
	close(fd);
	return ret;
}

static int unpack(const char *cache_dir)
{
	return unpack_len(cache_dir, image_len);
}

/* res holds the test vmlinux, whole; closes it */
static void check_vmlinux(void)
{
	uint8_t back[TEST_ELF_SIZE + 1];

	ck_assert_int_ge(res.fd, 0);
	ck_assert_uint_eq(res.len, sizeof(elf));
	ck_assert_int_eq(pread(res.fd, back, sizeof(back), 0), (ssize_t)sizeof(elf));
	ck_assert(!memcmp(back, elf, sizeof(elf)));
	close(res.fd);
	res.fd = -1;
}

/* the one entry in dir, by name; "" when there is none; never a temporary file */
static const char *entry_path(const char *in)
{
	static char path[700];
	char cmd[400];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ls -A %s | grep -v '[0-9]\\.name$'", in);
	p = popen(cmd, "r");
	ck_assert(p != NULL);
	path[0] = 0;
	if (fgets(cmd, sizeof(cmd), p)) {
		cmd[strcspn(cmd, "\n")] = 0;
		snprintf(path, sizeof(path), "%s/%s", in, cmd);
	}
	ck_assert(!fgets(cmd, sizeof(cmd), p)); /* never a second one */
	pclose(p);
	return path;
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/vmm-unpack-test.XXXXXX");
	ck_assert(mkdtemp(dir) != NULL);
	snprintf(cache, sizeof(cache), "%s/cache", dir);
	snprintf(kernel, sizeof(kernel), "%s/bzImage", dir);
	ck_assert_int_eq(mkdir(cache, 0700), 0);
	build_image(UNPACK_GZIP, 0x020f);
	res.fd = -1;
}

static void teardown(void)
{
	char cmd[300];

	if (res.fd >= 0)
		close(res.fd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_miss_then_hit)
{
	struct stat st;
	const char *path;

	build_image(formats_under_test[_i], 0x020f);
	ck_assert_msg(unpack(cache) == 0, "%s", err);
	ck_assert_int_eq(res.source, KERNEL_UNPACK_CACHE_NEW);
	ck_assert_int_eq(res.format, formats_under_test[_i]);
	check_vmlinux();
	path = entry_path(cache);
	ck_assert(strstr(path, ".vmlinux") != NULL);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_uint_eq(st.st_size, sizeof(elf));

	ck_assert_msg(unpack(cache) == 0, "%s", err);
	ck_assert_int_eq(res.source, KERNEL_UNPACK_CACHE_HIT);
	check_vmlinux();
}
END_TEST

/* kernel_unpack() on the kernel file as the last unpack() left it: same identity */
static int unpack_again(const char *cache_dir)
{
	int fd = open(kernel, O_RDONLY), ret;

	ck_assert_int_ge(fd, 0);
	ret = kernel_unpack(fd, image_len, cache_dir, &res, err, sizeof(err));
	close(fd);
	return ret;
}

START_TEST(test_known_file_skips_the_hash)
{
	char cmd[700], name[200];
	FILE *p;

	ck_assert_int_eq(unpack(cache), 0);
	close(res.fd);
	/* the file's identity now names the entry */
	snprintf(cmd, sizeof(cmd), "ls %s | grep '\\.name$'", cache);
	p = popen(cmd, "r");
	ck_assert(fgets(name, sizeof(name), p) != NULL);
	pclose(p);
	name[strcspn(name, "\n")] = 0;
	ck_assert_int_eq(unpack_again(cache), 0);
	ck_assert_int_eq(res.source, KERNEL_UNPACK_CACHE_HIT);
	check_vmlinux();
	/* a name file that names nothing valid is ignored: the hash finds the entry */
	snprintf(cmd, sizeof(cmd), "echo junk > %s/%s", cache, name);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(unpack_again(cache), 0);
	ck_assert_int_eq(res.source, KERNEL_UNPACK_CACHE_HIT);
	check_vmlinux();
	/* one that names another, missing entry: made under that name, still this kernel */
	snprintf(cmd, sizeof(cmd), "printf %%064d.vmlinux 0 > %s/%s", cache, name);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(unpack_again(cache), 0);
	ck_assert_int_eq(res.source, KERNEL_UNPACK_CACHE_NEW);
	check_vmlinux();
}
END_TEST

START_TEST(test_corrupt_entry_remade)
{
	const char *path;
	int fd;

	ck_assert_int_eq(unpack(cache), 0);
	close(res.fd);
	path = entry_path(cache);
	/* cut short: the size no longer matches */
	ck_assert_int_eq(truncate(path, 100), 0);
	ck_assert_int_eq(unpack(cache), 0);
	ck_assert_int_eq(res.source, KERNEL_UNPACK_CACHE_NEW);
	check_vmlinux();
	/* the right size, but no ELF header */
	fd = open(path, O_WRONLY);
	ck_assert_int_eq(pwrite(fd, "junk", 4, 0), 4);
	close(fd);
	ck_assert_int_eq(unpack(cache), 0);
	ck_assert_int_eq(res.source, KERNEL_UNPACK_CACHE_NEW);
	check_vmlinux();
	ck_assert_int_eq(unpack(cache), 0);
	ck_assert_int_eq(res.source, KERNEL_UNPACK_CACHE_HIT);
	check_vmlinux();
}
END_TEST

START_TEST(test_another_bzimage_another_entry)
{
	char first[700];

	ck_assert_int_eq(unpack(cache), 0);
	close(res.fd);
	snprintf(first, sizeof(first), "%s", entry_path(cache));
	image[image_len - 1] ^= 1; /* outside the payload: same vmlinux, another file */
	ck_assert_int_eq(unpack(cache), 0);
	ck_assert_int_eq(res.source, KERNEL_UNPACK_CACHE_NEW);
	check_vmlinux();
	ck_assert_int_eq(unlink(first), 0);
	ck_assert(strcmp(first, entry_path(cache)) != 0);
}
END_TEST

START_TEST(test_unusable_cache_dir_means_memory)
{
	char path[400];

	/* a directory nothing may be created in, even by root */
	ck_assert_int_eq(unpack("/proc/self"), 0);
	ck_assert_int_eq(res.source, KERNEL_UNPACK_MEMORY);
	check_vmlinux();
	/* one that does not exist */
	snprintf(path, sizeof(path), "%s/missing", dir);
	ck_assert_int_eq(unpack(path), 0);
	ck_assert_int_eq(res.source, KERNEL_UNPACK_MEMORY);
	check_vmlinux();
	ck_assert_int_eq(res.cache_error, -ENOENT);
	/* one others may write to */
	ck_assert_int_eq(chmod(cache, 0777), 0);
	ck_assert_int_eq(unpack(cache), 0);
	ck_assert_int_eq(res.source, KERNEL_UNPACK_MEMORY);
	check_vmlinux();
	ck_assert_str_eq(entry_path(cache), "");
	/* the user is told why, not only that it was not cached */
	kernel_unpack_describe(&res, line, sizeof(line));
	ck_assert_str_eq(line, "kernel: booting the vmlinux unpacked on the host (gzip, in memory, "
			       "not cached: the cache directory: not ours, or others may write to "
			       "it)");
}
END_TEST

/* An entry that cannot be written (a full disk, here a directory in the way) says why. */
START_TEST(test_unwritable_entry_means_memory_and_says_why)
{
	char scratch[320], blocker[1200], *name;

	snprintf(scratch, sizeof(scratch), "%s/scratch", dir);
	ck_assert_int_eq(mkdir(scratch, 0700), 0);
	ck_assert_int_eq(unpack(scratch), 0); /* to learn the entry's name */
	close(res.fd);
	res.fd = -1;
	name = strrchr(entry_path(scratch), '/') + 1;
	snprintf(blocker, sizeof(blocker), "%s/.%s.%d.tmp", cache, name, (int)getpid());
	ck_assert_int_eq(mkdir(blocker, 0700), 0);
	ck_assert_int_eq(unpack(cache), 0);
	ck_assert_int_eq(res.source, KERNEL_UNPACK_MEMORY);
	ck_assert_int_eq(res.cache_error, -EISDIR);
	kernel_unpack_describe(&res, line, sizeof(line));
	ck_assert_str_eq(line, "kernel: booting the vmlinux unpacked on the host (gzip, in memory, "
			       "not cached: its cache entry: Is a directory)");
	check_vmlinux();
}
END_TEST

START_TEST(test_user_cache_dir)
{
	char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	char *xdg = getenv("XDG_CACHE_HOME") ? strdup(getenv("XDG_CACHE_HOME")) : NULL;
	char path[400];
	struct stat st;

	setenv("XDG_CACHE_HOME", cache, 1);
	ck_assert_int_eq(unpack(NULL), 0);
	ck_assert_int_eq(res.source, KERNEL_UNPACK_CACHE_NEW);
	check_vmlinux();
	snprintf(path, sizeof(path), "%s/minivmm/kernels", cache);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0700);
	ck_assert(entry_path(path)[0] != 0);
	/* $HOME/.cache when XDG_CACHE_HOME is not set */
	unsetenv("XDG_CACHE_HOME");
	setenv("HOME", dir, 1);
	ck_assert_int_eq(unpack(NULL), 0);
	ck_assert_int_eq(res.source, KERNEL_UNPACK_CACHE_NEW);
	check_vmlinux();
	snprintf(path, sizeof(path), "%s/.cache/minivmm/kernels", dir);
	ck_assert(entry_path(path)[0] != 0);
	/* neither: memory, quietly */
	unsetenv("HOME");
	ck_assert_int_eq(unpack(NULL), 0);
	ck_assert_int_eq(res.source, KERNEL_UNPACK_MEMORY);
	check_vmlinux();
	if (home)
		setenv("HOME", home, 1);
	if (xdg)
		setenv("XDG_CACHE_HOME", xdg, 1);
	free(home);
	free(xdg);
}
END_TEST

START_TEST(test_bad_payloads_are_errors)
{
	size_t plen = image_len - SETUP_SIZE - PAYLOAD_OFFSET - 64;

	/* the file ends inside the payload */
	ck_assert_int_eq(unpack_len(cache, SETUP_SIZE + PAYLOAD_OFFSET + plen / 2), -EINVAL);
	ck_assert_msg(strstr(err, "truncated"), "%s", err);
	/* the stream damaged: gzip's CRC or the inflater catches it */
	image[SETUP_SIZE + PAYLOAD_OFFSET + plen / 2] ^= 0x55;
	ck_assert_int_eq(unpack(cache), -EINVAL);
	ck_assert_msg(strstr(err, "payload is"), "%s", err);
	ck_assert_int_eq(res.fd, -1);
	ck_assert_str_eq(entry_path(cache), ""); /* no entry and no temporary left */
	ck_assert_int_eq(unpack("/proc/self"), -EINVAL);
	ck_assert_int_eq(res.fd, -1);
}
END_TEST

START_TEST(test_not_ours_to_unpack)
{
	char note[200];

	/* before protocol 2.08 there is no payload to find */
	build_image(UNPACK_GZIP, 0x0207);
	ck_assert_int_eq(unpack(cache), 0);
	ck_assert_int_eq(res.fd, -1);
	ck_assert_int_eq(res.format, UNPACK_UNKNOWN);
	/* lzo: named, left to the guest */
	build_image(UNPACK_GZIP, 0x020f);
	memcpy(image + SETUP_SIZE + PAYLOAD_OFFSET, "\x89LZO", 4);
	ck_assert_int_eq(unpack(cache), 0);
	ck_assert_int_eq(res.fd, -1);
	ck_assert_int_eq(res.format, UNPACK_LZO);
	kernel_unpack_describe(&res, note, sizeof(note));
	ck_assert_msg(strstr(note, "lzo") && strstr(note, "guest"), "%s", note);
	/* not a bzImage at all: the loader says what it is not */
	memset(image, 0, 1024);
	ck_assert_int_eq(unpack(cache), 0);
	ck_assert_int_eq(res.fd, -1);
	ck_assert_str_eq(entry_path(cache), "");
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("kernel_unpack");
	TCase *tc = tcase_create("cache");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_miss_then_hit, 0, NFORMATS_UNDER_TEST);
	tcase_add_test(tc, test_known_file_skips_the_hash);
	tcase_add_test(tc, test_corrupt_entry_remade);
	tcase_add_test(tc, test_another_bzimage_another_entry);
	tcase_add_test(tc, test_unusable_cache_dir_means_memory);
	tcase_add_test(tc, test_unwritable_entry_means_memory_and_says_why);
	tcase_add_test(tc, test_user_cache_dir);
	tcase_add_test(tc, test_bad_payloads_are_errors);
	tcase_add_test(tc, test_not_ours_to_unpack);
	suite_add_tcase(s, tc);
	return s;
}
