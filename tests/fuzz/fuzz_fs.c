/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the virtio-fs FUSE server (virtio/fs/fs.c): arbitrary request bytes
 * against a share in a temporary directory, rebuilt for every input:
 *
 *   <base>/share/hello.txt, share/sub/inner, share/out-link -> ../secret,
 *   share/up -> .., share/fifo
 *   <base>/secret          (outside the share)
 *
 * Input: records of [flags u8][out_size u16 le][req_len u16 le][req_len bytes], each one
 * request (a FUSE header and arguments, as the guest would send; the fuzzer must find
 * FUSE_INIT itself, the seeds start with it). flags & 15 picks where the request is split
 * into two readable buffers, flags & 16 splits the reply room in two; every buffer is
 * its own heap block of exactly its size, so ASan sees any access outside it. After each
 * request: the result fits the reply room, the header says so, errors are -1..-4095 with
 * no payload. After each input: <base> holds exactly share/ and secret, and secret is
 * unchanged: nothing was created, renamed or written outside the share.
 * FALLOCATE's length is cut to 1 MiB so an input cannot fill the disk.
 *
 * Built with -DFS_FUZZ_MAKE_SEEDS it writes the seed corpus instead:
 *   clang -O1 -I. -D_GNU_SOURCE -DFS_FUZZ_MAKE_SEEDS tests/fuzz/fuzz_fs.c virtio/fs/fs.c \
 *	virtio/virtqueue.c vmm/memory.c -o build/fuzz/make_fs_seeds -pthread
 *   build/fuzz/make_fs_seeds tests/fuzz/corpus/fs
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/fuse.h>

#include "virtio/fs/fs.h"

#define SECRET "outside the share\n"

static void check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

#ifndef FS_FUZZ_MAKE_SEEDS

static char base[256], share[300], secret[300];
static struct fs_scratch *scratch; /* one, for the whole run: the server's callers own theirs */

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	if (ftw->level > 0)
		remove(path);
	return 0;
}

static void put_file(const char *rel, const char *text)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", base, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	check(fd >= 0);
	check(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
}

static void populate(void)
{
	char p[PATH_MAX];

	nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	check(mkdir(share, 0755) == 0);
	put_file("secret", SECRET);
	put_file("share/hello.txt", "hello");
	snprintf(p, sizeof(p), "%s/sub", share);
	check(mkdir(p, 0755) == 0);
	put_file("share/sub/inner", "inner");
	snprintf(p, sizeof(p), "%s/out-link", share);
	check(symlink("../secret", p) == 0);
	snprintf(p, sizeof(p), "%s/up", share);
	check(symlink("..", p) == 0);
	snprintf(p, sizeof(p), "%s/fifo", share);
	check(mkfifo(p, 0644) == 0);
}

/* Nothing outside the share changed: <base> holds share/ and secret, secret as made. */
static void outside_intact(void)
{
	char buf[64];
	struct stat st;
	int fd, dfd, n = 0;
	ssize_t len;
	char d[4096];
	long got;

	check(lstat(share, &st) == 0 && S_ISDIR(st.st_mode));
	check(lstat(secret, &st) == 0 && S_ISREG(st.st_mode));
	fd = open(secret, O_RDONLY | O_CLOEXEC);
	check(fd >= 0);
	len = read(fd, buf, sizeof(buf));
	close(fd);
	check(len == (ssize_t)strlen(SECRET) && !memcmp(buf, SECRET, (size_t)len));
	/* linux_dirent64: d_reclen at 16, d_name at 19 */
	dfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	check(dfd >= 0);
	while ((got = syscall(SYS_getdents64, dfd, d, sizeof(d))) > 0) {
		for (long off = 0; off < got;) {
			unsigned short reclen;
			const char *name = d + off + 19;

			memcpy(&reclen, d + off + 16, sizeof(reclen));
			if (strcmp(name, ".") && strcmp(name, ".."))
				n++;
			off += reclen;
		}
	}
	close(dfd);
	check(n == 2);
}

static void setup_once(void)
{
	const char *tmp = getenv("TMPDIR");

	if (base[0])
		return;
	if (!tmp || !*tmp || strlen(tmp) > 200)
		tmp = "/tmp";
	snprintf(base, sizeof(base), "%s/vmm-fuzz-fs-XXXXXX", tmp);
	check(mkdtemp(base) != NULL);
	snprintf(share, sizeof(share), "%s/share", base);
	snprintf(secret, sizeof(secret), "%s/secret", base);
	scratch = fs_scratch_create();
	check(scratch != NULL);
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct fs_server *s;
	size_t pos = 0;

	setup_once();
	populate();
	s = fs_server_create(share, size && (data[0] & 0x80), err, sizeof(err));
	check(s != NULL);
	while (size - pos >= 5) {
		uint8_t flags = data[pos];
		size_t out_size = le16(data + pos + 1), req_len = le16(data + pos + 3);
		struct iovec in[2], out[2];
		unsigned int nin = 1, nout = 1;
		uint8_t *req, *req2 = NULL, *o1, *o2 = NULL;
		size_t split, osplit;
		ssize_t n;

		pos += 5;
		if (req_len > size - pos)
			req_len = size - pos;
		req = malloc(req_len ? req_len : 1);
		check(req != NULL);
		memcpy(req, data + pos, req_len);
		pos += req_len;
		if (req_len >= 40 + sizeof(struct fuse_fallocate_in) &&
		    ((struct fuse_in_header *)req)->opcode == FUSE_FALLOCATE) {
			struct fuse_fallocate_in *fa = (void *)(req + 40);

			fa->length %= 1u << 20;
			fa->offset %= 1u << 20;
		}
		in[0] = (struct iovec){ req, req_len };
		split = req_len ? ((flags & 15) * 7u) % req_len : 0;
		if (split) {
			/* two separate blocks, so a read across the split is caught */
			req2 = malloc(req_len - split);
			check(req2 != NULL);
			memcpy(req2, req + split, req_len - split);
			in[0].iov_len = split;
			in[1] = (struct iovec){ req2, req_len - split };
			nin = 2;
		}
		osplit = (flags & 16) ? out_size / 3 : 0;
		o1 = malloc(out_size - osplit ? out_size - osplit : 1);
		check(o1 != NULL);
		out[0] = (struct iovec){ o1, out_size - osplit };
		if (osplit) {
			o2 = malloc(osplit);
			check(o2 != NULL);
			out[1] = (struct iovec){ o2, osplit };
			nout = 2;
		}
		n = fs_server_handle(s, scratch, in, nin, out, nout);
		check(n >= -1 && n <= (ssize_t)out_size);
		if (n == -1)
			check(out_size < sizeof(struct fuse_out_header));
		if (n > 0) {
			struct fuse_out_header h;
			size_t first = out[0].iov_len < sizeof(h) ? out[0].iov_len : sizeof(h);

			memcpy(&h, o1, first);
			if (first < sizeof(h))
				memcpy((uint8_t *)&h + first, o2, sizeof(h) - first);
			check(h.len == (uint32_t)n);
			check(h.error <= 0 && h.error > -4096);
			check(h.error == 0 || h.len == sizeof(h));
		}
		free(req);
		free(req2);
		free(o1);
		free(o2);
	}
	check(fs_server_nodes(s) >= 1);
	fs_server_destroy(s);
	outside_intact();
	return 0;
}

#else /* FS_FUZZ_MAKE_SEEDS: write the seed corpus */

static uint8_t seed[65536];
static size_t seed_len;
static uint64_t unique;

/* Append one request record with out_size bytes of reply room. */
static void rec(uint8_t flags, uint16_t out_size, uint32_t opcode, uint64_t nodeid, const void *arg,
		size_t arglen, const char *s1, const char *s2)
{
	size_t l1 = s1 ? strlen(s1) + 1 : 0, l2 = s2 ? strlen(s2) + 1 : 0;
	size_t len = 40 + arglen + l1 + l2;
	struct fuse_in_header h = {
		.len = (uint32_t)len, .opcode = opcode, .unique = ++unique, .nodeid = nodeid
	};
	uint8_t *p = seed + seed_len;

	check(seed_len + 5 + len <= sizeof(seed));
	p[0] = flags;
	p[1] = (uint8_t)out_size;
	p[2] = (uint8_t)(out_size >> 8);
	p[3] = (uint8_t)len;
	p[4] = (uint8_t)(len >> 8);
	p += 5;
	memcpy(p, &h, 40);
	memcpy(p + 40, arg, arglen);
	if (s1)
		memcpy(p + 40 + arglen, s1, l1);
	if (s2)
		memcpy(p + 40 + arglen + l1, s2, l2);
	seed_len += 5 + len;
}

static void init(uint8_t flags)
{
	struct fuse_init_in in = { .major = 7, .minor = 38, .flags = FUSE_DO_READDIRPLUS };

	seed_len = 0;
	seed[0] = 0;
	rec(flags, 4096, FUSE_INIT, 0, &in, sizeof(in), NULL, NULL);
}

static void save(const char *dir, const char *name)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "wb");
	check(f && fwrite(seed, 1, seed_len, f) == seed_len && fclose(f) == 0);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";
	/* node IDs in a fresh share: root 1, then slots 2, 3, ... in lookup order */
	struct fuse_open_in oin = { .flags = O_RDWR };
	struct fuse_read_in rin = { .fh = 0, .size = 4096 };
	struct fuse_write_in win = { .fh = 0, .size = 5 };
	struct fuse_create_in cin = { .flags = O_RDWR, .mode = S_IFREG | 0644 };
	struct fuse_mkdir_in min = { .mode = 0755 };
	struct fuse_mknod_in nin = { .mode = S_IFCHR | 0644, .rdev = 0x103 };
	struct fuse_rename2_in r2 = { .newdir = 1, .flags = 1 };
	struct fuse_link_in lin = { .oldnodeid = 2 };
	struct fuse_release_in rel = { .fh = 0 };
	struct fuse_setattr_in sa = { .valid = FATTR_SIZE | FATTR_MODE, .size = 3, .mode = 04755 };
	struct {
		struct fuse_batch_forget_in in;
		struct fuse_forget_one one[2];
	} bf = { { 2, 0 }, { { 2, 1 }, { 3, 1 } } };
	uint8_t wbuf[sizeof(win) + 5];

	memcpy(wbuf, &win, sizeof(win));
	memcpy(wbuf + sizeof(win), "HELLO", 5);

	init(0);
	rec(0, 4096, FUSE_LOOKUP, 1, NULL, 0, "hello.txt", NULL);
	rec(3, 4096, FUSE_OPEN, 2, &oin, sizeof(oin), NULL, NULL);
	rec(16, 4096, FUSE_READ, 2, &rin, sizeof(rin), NULL, NULL);
	rec(5, 4096, FUSE_WRITE, 2, wbuf, sizeof(wbuf), NULL, NULL);
	rec(0, 4096, FUSE_SETATTR, 2, &sa, sizeof(sa), NULL, NULL);
	rec(0, 4096, FUSE_RELEASE, 2, &rel, sizeof(rel), NULL, NULL);
	rec(0, 0, FUSE_FORGET, 2, &(struct fuse_forget_in){ 1 }, sizeof(struct fuse_forget_in),
	    NULL, NULL);
	save(dir, "lookup-read-write");

	init(0);
	rec(0, 4096, FUSE_CREATE, 1, &cin, sizeof(cin), "new.txt", NULL);
	rec(0, 4096, FUSE_WRITE, 2, wbuf, sizeof(wbuf), NULL, NULL);
	rec(0, 4096, FUSE_OPENDIR, 1, &oin, sizeof(oin), NULL, NULL);
	rin.fh = 1;
	rec(16, 4096, FUSE_READDIRPLUS, 1, &rin, sizeof(rin), NULL, NULL);
	rec(0, 300, FUSE_READDIR, 1, &rin, sizeof(rin), NULL, NULL);
	rec(0, 4096, FUSE_STATFS, 1, NULL, 0, NULL, NULL);
	save(dir, "create-readdir");

	init(0);
	rec(0, 4096, FUSE_LOOKUP, 1, NULL, 0, "..", NULL);
	rec(0, 4096, FUSE_LOOKUP, 1, NULL, 0, "out-link", NULL);
	rec(0, 4096, FUSE_READLINK, 2, NULL, 0, NULL, NULL);
	rec(0, 4096, FUSE_OPEN, 2, &oin, sizeof(oin), NULL, NULL);
	rec(0, 4096, FUSE_CREATE, 1, &cin, sizeof(cin), "out-link", NULL);
	rec(0, 4096, FUSE_LOOKUP, 1, NULL, 0, "up", NULL);
	rec(0, 4096, FUSE_MKDIR, 3, &min, sizeof(min), "x", NULL);
	rec(0, 4096, FUSE_MKNOD, 1, &nin, sizeof(nin), "null", NULL);
	rec(0, 4096, FUSE_SYMLINK, 1, NULL, 0, "l", "../../etc");
	rec(0, 4096, FUSE_LOOKUP, 1, NULL, 0, "fifo", NULL);
	save(dir, "escapes");

	init(0);
	rec(0, 4096, FUSE_MKDIR, 1, &min, sizeof(min), "d", NULL);
	rec(0, 4096, FUSE_LOOKUP, 1, NULL, 0, "hello.txt", NULL);
	rec(0, 4096, FUSE_LINK, 2, &lin, sizeof(lin), "hard", NULL);
	rec(0, 4096, FUSE_RENAME2, 1, &r2, sizeof(r2), "hard", "hello.txt");
	rec(0, 4096, FUSE_UNLINK, 2, NULL, 0, "hard", NULL);
	rec(0, 4096, FUSE_RMDIR, 1, NULL, 0, "d", NULL);
	rec(0, 0, FUSE_BATCH_FORGET, 0, &bf, sizeof(bf), NULL, NULL);
	save(dir, "directories");

	init(0x80); /* a read-only share */
	rec(0, 4096, FUSE_CREATE, 1, &cin, sizeof(cin), "new.txt", NULL);
	rec(0, 4096, FUSE_LOOKUP, 1, NULL, 0, "hello.txt", NULL);
	rec(0, 4096, FUSE_OPEN, 2, &oin, sizeof(oin), NULL, NULL);
	rec(0, 10, FUSE_GETATTR, 2, &(struct fuse_getattr_in){ 0 }, sizeof(struct fuse_getattr_in),
	    NULL, NULL);
	rec(0, 4, FUSE_STATFS, 1, NULL, 0, NULL, NULL);
	save(dir, "readonly-small-replies");
	return 0;
}

#endif
