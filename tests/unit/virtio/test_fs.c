/* SPDX-License-Identifier: MIT */
/*
 * virtio-fs: the FUSE server driven request by request, as the guest's virtiofs driver
 * would, against a fresh temporary directory per test; then the device itself through a
 * split ring in guest memory. Each share has a file, a directory, and symlinks that point
 * outside it at a file whose content must never change or be read through the share.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/userfaultfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <linux/fuse.h>
#include <linux/virtio_ring.h>

#include "check_main.h"
#include "virtio/fs/fs.h"
#include "virtio/registry.h"
#include "vmm/seccomp.h"

#define SECRET "the host's own file, outside the share\n"

static char base[256];	/* temporary directory holding share/ and secret */
static char share[300]; /* the shared directory */
static char secret[300];
static struct fs_server *srv;
static char err[512];
static uint64_t next_unique = 1;

/* ------------------------------------------------------------------------------------ */
/* The share on disk */

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static char *read_host(const char *rel, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", share, rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, len - 1);
	close(fd);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	return buf;
}

static bool host_exists(const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", share, rel);
	return lstat(path, &st) == 0;
}

static void secret_unchanged(void)
{
	char buf[256];
	ssize_t n;
	int fd = open(secret, O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, SECRET);
}

static void rm_tree(const char *path)
{
	char cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	ck_assert_int_eq(system(cmd), 0);
}

static void make_share(void)
{
	const char *tmp = getenv("TMPDIR");
	char p[PATH_MAX];

	if (!tmp || !*tmp || strlen(tmp) > 200)
		tmp = "/tmp";
	snprintf(base, sizeof(base), "%s/vmm-fs-test-XXXXXX", tmp);
	ck_assert_ptr_nonnull(mkdtemp(base));
	snprintf(share, sizeof(share), "%s/share", base);
	snprintf(secret, sizeof(secret), "%s/secret", base);
	ck_assert_int_eq(mkdir(share, 0755), 0);
	write_file(secret, SECRET);
	snprintf(p, sizeof(p), "%s/hello.txt", share);
	write_file(p, "hello");
	snprintf(p, sizeof(p), "%s/sub", share);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/sub/inner", share);
	write_file(p, "inner");
	snprintf(p, sizeof(p), "%s/out-rel", share);
	ck_assert_int_eq(symlink("../secret", p), 0);
	snprintf(p, sizeof(p), "%s/out-abs", share);
	ck_assert_int_eq(symlink(secret, p), 0);
	snprintf(p, sizeof(p), "%s/up", share);
	ck_assert_int_eq(symlink("..", p), 0);
}

/* ------------------------------------------------------------------------------------ */
/* Requests */

struct rq {
	uint8_t buf[1 << 16];
	size_t len;
};

static uint8_t reply[1 << 17];
static struct rq q;

/* The test thread's buffers for the server, made on first use. */
static struct fs_scratch *sc(void)
{
	static struct fs_scratch *b;

	if (!b)
		b = fs_scratch_create();
	ck_assert_ptr_nonnull(b);
	return b;
}

static void rq_start(uint32_t opcode, uint64_t nodeid)
{
	struct fuse_in_header h = {
		.opcode = opcode,
		.unique = next_unique++,
		.nodeid = nodeid,
		.uid = 0,
		.gid = 0,
		.pid = 1,
	};

	memcpy(q.buf, &h, sizeof(h));
	q.len = sizeof(h);
}

static void rq_put(const void *p, size_t n)
{
	ck_assert_uint_le(q.len + n, sizeof(q.buf));
	memcpy(q.buf + q.len, p, n);
	q.len += n;
}

static void rq_str(const char *s)
{
	rq_put(s, strlen(s) + 1);
}

/* Send q with out_size bytes of reply room; the raw result of fs_server_handle. */
static ssize_t rq_send_raw(size_t out_size)
{
	struct iovec in = { q.buf, q.len }, out = { reply, out_size };

	((struct fuse_in_header *)q.buf)->len = (uint32_t)q.len;
	memset(reply, 0xa5, sizeof(reply));
	return fs_server_handle(srv, sc(), &in, 1, &out, 1);
}

/* Send q; check the reply header against the request; return its error (0 or -errno). */
static int rq_send(void)
{
	uint64_t unique = ((struct fuse_in_header *)q.buf)->unique;
	ssize_t n = rq_send_raw(sizeof(reply));
	struct fuse_out_header *h = (void *)reply;

	ck_assert_int_ge(n, (ssize_t)sizeof(*h));
	ck_assert_uint_eq(h->len, (uint64_t)n);
	ck_assert_uint_eq(h->unique, unique);
	if (h->error)
		ck_assert_uint_eq(h->len, sizeof(*h));
	return h->error;
}

static void *payload(void)
{
	return reply + sizeof(struct fuse_out_header);
}

static size_t payload_len(void)
{
	return ((struct fuse_out_header *)reply)->len - sizeof(struct fuse_out_header);
}

static void init_session(void)
{
	struct fuse_init_in in = { .major = 7,
				   .minor = 38,
				   .max_readahead = 65536,
				   .flags =
					   FUSE_DO_READDIRPLUS | FUSE_BIG_WRITES | FUSE_MAX_PAGES };

	rq_start(FUSE_INIT, 0);
	rq_put(&in, sizeof(in));
	ck_assert_int_eq(rq_send(), 0);
}

static void start(bool readonly)
{
	make_share();
	srv = fs_server_create(share, readonly, err, sizeof(err));
	ck_assert_msg(srv != NULL, "%s", err);
	init_session();
}

static void teardown(void)
{
	fs_server_destroy(srv);
	srv = NULL;
	rm_tree(base);
}

static int lookup(uint64_t parent, const char *name, struct fuse_entry_out *e)
{
	int r;

	rq_start(FUSE_LOOKUP, parent);
	rq_str(name);
	r = rq_send();
	if (!r && e)
		memcpy(e, payload(), sizeof(*e));
	return r;
}

static uint64_t node(uint64_t parent, const char *name)
{
	struct fuse_entry_out e;

	ck_assert_int_eq(lookup(parent, name, &e), 0);
	ck_assert_uint_ne(e.nodeid, 0);
	return e.nodeid;
}

static int open_node(uint64_t nodeid, uint32_t flags, uint64_t *fh)
{
	struct fuse_open_in in = { .flags = flags };
	int r;

	rq_start(FUSE_OPEN, nodeid);
	rq_put(&in, sizeof(in));
	r = rq_send();
	if (!r)
		*fh = ((struct fuse_open_out *)payload())->fh;
	return r;
}

static int create(uint64_t parent, const char *name, uint32_t flags, struct fuse_entry_out *e,
		  uint64_t *fh)
{
	struct fuse_create_in in = { .flags = flags, .mode = S_IFREG | 0644 };
	int r;

	rq_start(FUSE_CREATE, parent);
	rq_put(&in, sizeof(in));
	rq_str(name);
	r = rq_send();
	if (!r) {
		if (e)
			memcpy(e, payload(), sizeof(*e));
		*fh = ((struct fuse_open_out *)((uint8_t *)payload() +
						sizeof(struct fuse_entry_out)))
			      ->fh;
	}
	return r;
}

static int write_fh(uint64_t nodeid, uint64_t fh, uint64_t off, const char *text)
{
	struct fuse_write_in in = { .fh = fh, .offset = off, .size = (uint32_t)strlen(text) };
	int r;

	rq_start(FUSE_WRITE, nodeid);
	rq_put(&in, sizeof(in));
	rq_put(text, strlen(text));
	r = rq_send();
	if (!r)
		ck_assert_uint_eq(((struct fuse_write_out *)payload())->size, strlen(text));
	return r;
}

static int read_fh(uint64_t nodeid, uint64_t fh, uint64_t off, uint32_t size, char *out)
{
	struct fuse_read_in in = { .fh = fh, .offset = off, .size = size };
	int r;

	rq_start(FUSE_READ, nodeid);
	rq_put(&in, sizeof(in));
	r = rq_send();
	if (!r) {
		memcpy(out, payload(), payload_len());
		out[payload_len()] = '\0';
	}
	return r;
}

static int release(uint64_t nodeid, uint64_t fh, bool dir)
{
	struct fuse_release_in in = { .fh = fh };

	rq_start(dir ? FUSE_RELEASEDIR : FUSE_RELEASE, nodeid);
	rq_put(&in, sizeof(in));
	return rq_send();
}

static int name_op(uint32_t opcode, uint64_t parent, const void *arg, size_t arglen,
		   const char *name)
{
	rq_start(opcode, parent);
	if (arglen)
		rq_put(arg, arglen);
	rq_str(name);
	return rq_send();
}

static int getattr(uint64_t nodeid, struct fuse_attr *a)
{
	struct fuse_getattr_in in = { 0 };
	int r;

	rq_start(FUSE_GETATTR, nodeid);
	rq_put(&in, sizeof(in));
	r = rq_send();
	if (!r && a)
		*a = ((struct fuse_attr_out *)payload())->attr;
	return r;
}

static void forget(uint64_t nodeid, uint64_t n)
{
	struct fuse_forget_in in = { .nlookup = n };

	rq_start(FUSE_FORGET, nodeid);
	rq_put(&in, sizeof(in));
	ck_assert_int_eq(rq_send_raw(sizeof(reply)), 0); /* no reply */
}

/* ------------------------------------------------------------------------------------ */
/* INIT and DESTROY */

START_TEST(test_init_negotiates)
{
	struct fuse_init_in in = { .major = 7, .minor = 31, .flags = 0xffffffff };
	struct fuse_init_out *o;

	make_share();
	srv = fs_server_create(share, false, err, sizeof(err));
	ck_assert_ptr_nonnull(srv);
	/* nothing but INIT before INIT */
	rq_start(FUSE_GETATTR, FUSE_ROOT_ID);
	rq_put(&(struct fuse_getattr_in){ 0 }, sizeof(struct fuse_getattr_in));
	ck_assert_int_eq(rq_send(), -EIO);
	/* a newer major: we answer with ours (8 bytes) and wait for the retry */
	in.major = 8;
	rq_start(FUSE_INIT, 0);
	rq_put(&in, sizeof(in));
	ck_assert_int_eq(rq_send(), 0);
	ck_assert_uint_eq(payload_len(), FUSE_COMPAT_INIT_OUT_SIZE);
	ck_assert_uint_eq(((struct fuse_init_out *)payload())->major, 7);
	in.major = 7;
	rq_start(FUSE_INIT, 0);
	rq_put(&in, 16); /* a pre-7.36 driver sends 16 bytes */
	ck_assert_int_eq(rq_send(), 0);
	o = payload();
	ck_assert_uint_eq(payload_len(), sizeof(*o));
	ck_assert_uint_eq(o->major, 7);
	ck_assert_uint_eq(o->minor, 31);
	ck_assert_uint_eq(o->max_write, FS_MAX_WRITE);
	ck_assert_uint_eq(o->flags & ~(uint32_t)(FUSE_ASYNC_READ | FUSE_ATOMIC_O_TRUNC |
						 FUSE_BIG_WRITES | FUSE_DO_READDIRPLUS |
						 FUSE_MAX_PAGES | FUSE_PARALLEL_DIROPS),
			  0);
	ck_assert(o->flags & FUSE_DO_READDIRPLUS);
	/* a second INIT on the same session is a protocol error */
	rq_start(FUSE_INIT, 0);
	rq_put(&in, sizeof(in));
	ck_assert_int_eq(rq_send(), -EPROTO);
	/* DESTROY ends the session; a new INIT starts one */
	rq_start(FUSE_DESTROY, 0);
	ck_assert_int_eq(rq_send(), 0);
	ck_assert_uint_eq(payload_len(), 0);
	rq_start(FUSE_INIT, 0);
	rq_put(&in, sizeof(in));
	ck_assert_int_eq(rq_send(), 0);
	/* too old */
	fs_server_reset(srv);
	in.minor = 5;
	rq_start(FUSE_INIT, 0);
	rq_put(&in, sizeof(in));
	ck_assert_int_eq(rq_send(), -EPROTO);
	rq_start(FUSE_INIT, 0);
	rq_put(&in, 8); /* shorter than the 16 bytes every version sends */
	ck_assert_int_eq(rq_send(), -EINVAL);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* LOOKUP, FORGET, node IDs */

/* cache=: what the guest is told it may keep, in LOOKUP, GETATTR, OPEN, CREATE, OPENDIR. */
START_TEST(test_cache_modes)
{
	static const struct {
		enum fs_cache cache;
		uint64_t valid;
		uint32_t open_flags, dir_flags;
	} modes[] = {
		{ FS_CACHE_AUTO, 1, 0, 0 },
		{ FS_CACHE_NEVER, 0, FOPEN_DIRECT_IO, 0 },
		{ FS_CACHE_ALWAYS, 86400, FOPEN_KEEP_CACHE, FOPEN_KEEP_CACHE | FOPEN_CACHE_DIR },
	};

	for (unsigned int i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct fuse_entry_out e;
		struct fuse_getattr_in gin = { 0 };
		struct fuse_open_in oin = { .flags = O_RDONLY };
		struct fuse_create_in cin = { .flags = O_RDWR, .mode = S_IFREG | 0644 };
		const struct fuse_open_out *o;
		uint64_t nodeid;

		start(false);
		if (modes[i].cache != FS_CACHE_AUTO) /* auto must be what a new server does */
			fs_server_set_cache(srv, modes[i].cache);
		ck_assert_int_eq(lookup(FUSE_ROOT_ID, "hello.txt", &e), 0);
		ck_assert_uint_eq(e.entry_valid, modes[i].valid);
		ck_assert_uint_eq(e.attr_valid, modes[i].valid);
		nodeid = e.nodeid;
		rq_start(FUSE_GETATTR, nodeid);
		rq_put(&gin, sizeof(gin));
		ck_assert_int_eq(rq_send(), 0);
		ck_assert_uint_eq(((struct fuse_attr_out *)payload())->attr_valid, modes[i].valid);
		rq_start(FUSE_OPEN, nodeid);
		rq_put(&oin, sizeof(oin));
		ck_assert_int_eq(rq_send(), 0);
		ck_assert_uint_eq(((struct fuse_open_out *)payload())->open_flags,
				  modes[i].open_flags);
		rq_start(FUSE_CREATE, FUSE_ROOT_ID);
		rq_put(&cin, sizeof(cin));
		rq_str("new.txt");
		ck_assert_int_eq(rq_send(), 0);
		ck_assert_uint_eq(((struct fuse_entry_out *)payload())->entry_valid,
				  modes[i].valid);
		o = (const struct fuse_open_out *)((uint8_t *)payload() +
						   sizeof(struct fuse_entry_out));
		ck_assert_uint_eq(o->open_flags, modes[i].open_flags);
		rq_start(FUSE_OPENDIR, FUSE_ROOT_ID);
		rq_put(&oin, sizeof(oin));
		ck_assert_int_eq(rq_send(), 0);
		ck_assert_uint_eq(((struct fuse_open_out *)payload())->open_flags,
				  modes[i].dir_flags);
		teardown();
	}
}
END_TEST

START_TEST(test_lookup_and_forget)
{
	struct fuse_entry_out e, e2;
	struct fuse_attr a;
	uint64_t sub;

	start(false);
	ck_assert_uint_eq(fs_server_nodes(srv), 1);
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "hello.txt", &e), 0);
	ck_assert_uint_eq(e.attr.size, 5);
	ck_assert(S_ISREG(e.attr.mode));
	ck_assert_uint_ne(e.nodeid, FUSE_ROOT_ID);
	/* the same inode is the same node, with one more lookup to forget */
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "hello.txt", &e2), 0);
	ck_assert_uint_eq(e2.nodeid, e.nodeid);
	ck_assert_uint_eq(fs_server_nodes(srv), 2);
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "missing", NULL), -ENOENT);
	sub = node(FUSE_ROOT_ID, "sub");
	ck_assert_int_eq(lookup(sub, "inner", &e2), 0);
	ck_assert_uint_eq(e2.attr.size, 5);
	/* a file is no directory to look into */
	ck_assert_int_eq(lookup(e.nodeid, "x", NULL), -ENOTDIR);

	forget(e.nodeid, 1);
	ck_assert_int_eq(getattr(e.nodeid, &a), 0); /* one lookup left */
	forget(e.nodeid, 1);
	ck_assert_int_eq(getattr(e.nodeid, &a), -ESTALE);
	/* looked up again: the slot may be reused, but the old ID stays dead */
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "hello.txt", &e2), 0);
	ck_assert_uint_ne(e2.nodeid, e.nodeid);
	ck_assert_int_eq(getattr(e.nodeid, &a), -ESTALE);
	/* the root cannot be forgotten */
	forget(FUSE_ROOT_ID, 100);
	ck_assert_int_eq(getattr(FUSE_ROOT_ID, &a), 0);
	ck_assert(S_ISDIR(a.mode));
	teardown();
}
END_TEST

START_TEST(test_forged_node_ids)
{
	const uint64_t ids[] = {
		0, 2, 3, 63, 64, 1ull << 32 | 1, 0xffffffffffffffffull, (1ull << 32) | 2
	};
	struct fuse_entry_out e;
	struct fuse_attr a;

	start(false);
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "hello.txt", &e), 0);
	for (unsigned int i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		if (ids[i] == e.nodeid)
			continue;
		ck_assert_int_eq(getattr(ids[i], &a), -ESTALE);
		ck_assert_int_eq(lookup(ids[i], "hello.txt", NULL), -ESTALE);
	}
	/* a guessed file handle opens nothing either */
	ck_assert_int_eq(read_fh(e.nodeid, 0, 0, 10, (char[16]){ 0 }), -EBADF);
	ck_assert_int_eq(read_fh(e.nodeid, 1ull << 32, 0, 10, (char[16]){ 0 }), -EBADF);
	teardown();
}
END_TEST

START_TEST(test_batch_forget)
{
	struct fuse_batch_forget_in in = { .count = 2 };
	struct fuse_forget_one one[2];
	struct fuse_attr a;

	start(false);
	one[0] = (struct fuse_forget_one){ node(FUSE_ROOT_ID, "hello.txt"), 1 };
	one[1] = (struct fuse_forget_one){ node(FUSE_ROOT_ID, "sub"), 1 };
	ck_assert_uint_eq(fs_server_nodes(srv), 3);
	/* a count larger than the request holds: dropped whole */
	in.count = 1000;
	rq_start(FUSE_BATCH_FORGET, 0);
	rq_put(&in, sizeof(in));
	rq_put(one, sizeof(one));
	ck_assert_int_eq(rq_send_raw(sizeof(reply)), 0);
	ck_assert_uint_eq(fs_server_nodes(srv), 3);
	in.count = 2;
	rq_start(FUSE_BATCH_FORGET, 0);
	rq_put(&in, sizeof(in));
	rq_put(one, sizeof(one));
	ck_assert_int_eq(rq_send_raw(sizeof(reply)), 0);
	ck_assert_uint_eq(fs_server_nodes(srv), 1);
	ck_assert_int_eq(getattr(one[0].nodeid, &a), -ESTALE);
	teardown();
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* Names and escapes */

START_TEST(test_bad_names)
{
	char longname[300];

	start(false);
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "..", NULL), -EINVAL);
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, ".", NULL), -EINVAL);
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "", NULL), -EINVAL);
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "sub/inner", NULL), -EINVAL);
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "../secret", NULL), -EINVAL);
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "/etc", NULL), -EINVAL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, longname, NULL), -ENAMETOOLONG);
	longname[NAME_MAX] = '\0'; /* exactly NAME_MAX: a legal name that is not there */
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, longname, NULL), -ENOENT);
	/* a name whose NUL is missing: the request ends first */
	rq_start(FUSE_LOOKUP, FUSE_ROOT_ID);
	rq_put("hello.txt", 9);
	ck_assert_int_eq(rq_send(), -EINVAL);
	/* the NUL lies beyond in.len, in bytes the chain has but the request does not */
	rq_start(FUSE_LOOKUP, FUSE_ROOT_ID);
	rq_put("hello.txt", 10);
	{
		struct iovec in = { q.buf, q.len }, out = { reply, sizeof(reply) };

		((struct fuse_in_header *)q.buf)->len = (uint32_t)q.len - 1;
		ck_assert_int_eq(fs_server_handle(srv, sc(), &in, 1, &out, 1), 16);
		ck_assert_int_eq(((struct fuse_out_header *)reply)->error, -EINVAL);
	}
	/* escape names for everything that creates or removes */
	ck_assert_int_eq(name_op(FUSE_MKDIR, FUSE_ROOT_ID, &(struct fuse_mkdir_in){ 0755, 0 },
				 sizeof(struct fuse_mkdir_in), "../escaped"),
			 -EINVAL);
	ck_assert_int_eq(name_op(FUSE_UNLINK, FUSE_ROOT_ID, NULL, 0, ".."), -EINVAL);
	ck_assert_int_eq(name_op(FUSE_RMDIR, FUSE_ROOT_ID, NULL, 0, "../share"), -EINVAL);
	ck_assert_uint_eq(access("../escaped", F_OK) < 0, 1);
	teardown();
}
END_TEST

START_TEST(test_symlink_outside_is_never_followed)
{
	struct fuse_entry_out e;
	uint64_t fh, up;
	char buf[64];

	start(false);
	/* LOOKUP gives the link itself */
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "out-rel", &e), 0);
	ck_assert(S_ISLNK(e.attr.mode));
	ck_assert_uint_eq(e.attr.size, strlen("../secret"));
	rq_start(FUSE_READLINK, e.nodeid);
	ck_assert_int_eq(rq_send(), 0);
	ck_assert_uint_eq(payload_len(), strlen("../secret"));
	ck_assert_int_eq(memcmp(payload(), "../secret", payload_len()), 0);
	/* OPEN through it reaches nothing */
	ck_assert_int_eq(open_node(e.nodeid, O_RDONLY, &fh), -ELOOP);
	ck_assert_int_eq(open_node(e.nodeid, O_RDWR | O_TRUNC, &fh), -ELOOP);
	ck_assert_int_eq(lookup(e.nodeid, "secret", NULL), -ENOTDIR);
	/* CREATE of the link's name neither follows it nor replaces the target */
	ck_assert_int_ne(create(FUSE_ROOT_ID, "out-rel", O_WRONLY | O_TRUNC, NULL, &fh), 0);
	ck_assert_int_ne(create(FUSE_ROOT_ID, "out-abs", O_RDWR, NULL, &fh), 0);
	ck_assert_int_ne(create(FUSE_ROOT_ID, "out-abs", O_RDWR | O_EXCL, NULL, &fh), 0);
	/* SETATTR on the link: no truncation, no chmod of the target */
	{
		struct fuse_setattr_in in = { .valid = FATTR_SIZE | FATTR_MODE,
					      .size = 0,
					      .mode = 0777 };

		ck_assert_int_eq(lookup(FUSE_ROOT_ID, "out-abs", &e), 0);
		rq_start(FUSE_SETATTR, e.nodeid);
		rq_put(&in, sizeof(in));
		ck_assert_int_ne(rq_send(), 0);
	}
	/* a link to ".." is a link too: nothing can be looked up through it */
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "up", &e), 0);
	ck_assert(S_ISLNK(e.attr.mode));
	up = e.nodeid;
	ck_assert_int_eq(lookup(up, "secret", NULL), -ENOTDIR);
	ck_assert_int_eq(name_op(FUSE_MKDIR, up, &(struct fuse_mkdir_in){ 0755, 0 },
				 sizeof(struct fuse_mkdir_in), "made"),
			 -ENOTDIR);
	/* and a hard link to the symlink is a second link, not a copy of the target */
	{
		struct fuse_link_in in = { .oldnodeid = up };

		ck_assert_int_eq(name_op(FUSE_LINK, FUSE_ROOT_ID, &in, sizeof(in), "up2"), 0);
		ck_assert(S_ISLNK(((struct fuse_entry_out *)payload())->attr.mode));
	}
	secret_unchanged();
	ck_assert_ptr_null(strstr(read_host("hello.txt", buf, sizeof(buf)), "host's"));
	teardown();
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* Files */

START_TEST(test_create_write_read)
{
	struct fuse_entry_out e;
	uint64_t fh, fh2, hello;
	char buf[128];

	start(false);
	ck_assert_int_eq(create(FUSE_ROOT_ID, "new.txt", O_RDWR, &e, &fh), 0);
	ck_assert(S_ISREG(e.attr.mode));
	ck_assert_uint_eq(fs_server_handles(srv), 1);
	ck_assert_int_eq(write_fh(e.nodeid, fh, 0, "written by the guest"), 0);
	ck_assert_int_eq(read_fh(e.nodeid, fh, 8, 100, buf), 0);
	ck_assert_str_eq(buf, "by the guest");
	ck_assert_str_eq(read_host("new.txt", buf, sizeof(buf)), "written by the guest");
	/* the same name again with O_EXCL */
	ck_assert_int_eq(create(FUSE_ROOT_ID, "new.txt", O_RDWR | O_EXCL, NULL, &fh2), -EEXIST);
	{
		struct fuse_flush_in fl = { .fh = fh };
		struct fuse_fsync_in fs = { .fh = fh, .fsync_flags = FUSE_FSYNC_FDATASYNC };
		struct fuse_lseek_in ls = { .fh = fh, .offset = 0, .whence = SEEK_END };
		struct fuse_fallocate_in fa = { .fh = fh, .offset = 0, .length = 4096 };

		rq_start(FUSE_FLUSH, e.nodeid);
		rq_put(&fl, sizeof(fl));
		ck_assert_int_eq(rq_send(), 0);
		rq_start(FUSE_FSYNC, e.nodeid);
		rq_put(&fs, sizeof(fs));
		ck_assert_int_eq(rq_send(), 0);
		rq_start(FUSE_LSEEK, e.nodeid);
		rq_put(&ls, sizeof(ls));
		ck_assert_int_eq(rq_send(), 0);
		ck_assert_uint_eq(((struct fuse_lseek_out *)payload())->offset, 20);
		ls.whence = 77;
		rq_start(FUSE_LSEEK, e.nodeid);
		rq_put(&ls, sizeof(ls));
		ck_assert_int_eq(rq_send(), -EINVAL);
		rq_start(FUSE_FALLOCATE, e.nodeid);
		rq_put(&fa, sizeof(fa));
		ck_assert_int_eq(rq_send(), 0);
	}
	ck_assert_int_eq(release(e.nodeid, fh, false), 0);
	ck_assert_uint_eq(fs_server_handles(srv), 0);
	ck_assert_int_eq(release(e.nodeid, fh, false), -EBADF);
	ck_assert_int_eq(read_fh(e.nodeid, fh, 0, 10, buf), -EBADF);

	/* OPEN an existing file: read, then O_TRUNC through SETATTR size */
	hello = node(FUSE_ROOT_ID, "hello.txt");
	ck_assert_int_eq(open_node(hello, O_RDONLY, &fh), 0);
	ck_assert_int_eq(read_fh(hello, fh, 0, 3, buf), 0);
	ck_assert_str_eq(buf, "hel");
	ck_assert_int_eq(read_fh(hello, fh, 100, 3, buf), 0); /* past the end: empty */
	ck_assert_str_eq(buf, "");
	/* a read-only handle cannot write */
	ck_assert_int_eq(write_fh(hello, fh, 0, "x"), -EBADF);
	ck_assert_int_eq(release(hello, fh, false), 0);
	{
		struct fuse_setattr_in in = { .valid = FATTR_SIZE | FATTR_MODE | FATTR_MTIME,
					      .size = 2,
					      .mode = 0600 | S_ISUID,
					      .mtime = 1000000 };
		struct fuse_attr_out *a;

		rq_start(FUSE_SETATTR, hello);
		rq_put(&in, sizeof(in));
		ck_assert_int_eq(rq_send(), 0);
		a = payload();
		ck_assert_uint_eq(a->attr.size, 2);
		ck_assert_uint_eq(a->attr.mode & 07777, 0600); /* no set-user-ID on the host */
		ck_assert_uint_eq(a->attr.mtime, 1000000);
	}
	ck_assert_str_eq(read_host("hello.txt", buf, sizeof(buf)), "he");
	/* a directory opens only as a directory */
	ck_assert_int_eq(open_node(node(FUSE_ROOT_ID, "sub"), O_RDONLY, &fh), -EISDIR);
	teardown();
}
END_TEST

/*
 * A READ of the guest's page cache or of a direct-I/O buffer comes with one writable
 * segment per page: 1 MiB (max_read) is 256 segments after the reply header, and every
 * one must be filled.
 */
START_TEST(test_read_into_one_segment_per_page)
{
	enum { PAGES = 256, PAGE = 4096 };
	static uint8_t data[PAGES * PAGE], got[PAGES * PAGE];
	struct fuse_read_in in = { .size = sizeof(got) };
	struct iovec rd, wr[1 + PAGES];
	struct fuse_out_header h;
	char path[PATH_MAX];
	uint64_t nodeid;
	ssize_t n;
	int fd;

	start(false);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + i / PAGE);
	snprintf(path, sizeof(path), "%s/big", share);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, sizeof(data)), (ssize_t)sizeof(data));
	close(fd);
	nodeid = node(FUSE_ROOT_ID, "big");
	ck_assert_int_eq(open_node(nodeid, O_RDONLY, &in.fh), 0);

	rq_start(FUSE_READ, nodeid);
	rq_put(&in, sizeof(in));
	((struct fuse_in_header *)q.buf)->len = (uint32_t)q.len;
	rd = (struct iovec){ q.buf, q.len };
	wr[0] = (struct iovec){ &h, sizeof(h) };
	for (unsigned int i = 0; i < PAGES; i++)
		wr[1 + i] = (struct iovec){ got + (size_t)i * PAGE, PAGE };
	n = fs_server_handle(srv, sc(), &rd, 1, wr, 1 + PAGES);
	ck_assert_int_eq(n, (ssize_t)(sizeof(h) + sizeof(got)));
	ck_assert_int_eq(h.error, 0);
	ck_assert_uint_eq(h.len, sizeof(h) + sizeof(got));
	ck_assert(!memcmp(got, data, sizeof(data)));
	ck_assert_int_eq(release(nodeid, in.fh, false), 0);
	teardown();
}
END_TEST

START_TEST(test_write_lengths)
{
	struct fuse_entry_out e;
	struct fuse_write_in in;
	uint64_t fh;
	char buf[64];

	start(false);
	ck_assert_int_eq(create(FUSE_ROOT_ID, "w", O_RDWR, &e, &fh), 0);
	/* size claims more data than the request carries */
	in = (struct fuse_write_in){ .fh = fh, .offset = 0, .size = 100 };
	rq_start(FUSE_WRITE, e.nodeid);
	rq_put(&in, sizeof(in));
	rq_put("short", 5);
	ck_assert_int_eq(rq_send(), -EINVAL);
	ck_assert_str_eq(read_host("w", buf, sizeof(buf)), "");
	/* a write_in cut short */
	rq_start(FUSE_WRITE, e.nodeid);
	rq_put(&in, sizeof(in) - 8);
	ck_assert_int_eq(rq_send(), -EINVAL);
	/* data split over several readable buffers, as a chain would have it */
	{
		struct iovec iov[4];
		struct iovec out = { reply, sizeof(reply) };

		in.size = 10;
		rq_start(FUSE_WRITE, e.nodeid);
		rq_put(&in, sizeof(in));
		rq_put("0123456789", 10);
		((struct fuse_in_header *)q.buf)->len = (uint32_t)q.len;
		iov[0] = (struct iovec){ q.buf, 30 };
		iov[1] = (struct iovec){ q.buf + 30, 52 };
		iov[2] = (struct iovec){ q.buf + 82, 0 };
		iov[3] = (struct iovec){ q.buf + 82, q.len - 82 };
		ck_assert_int_eq(fs_server_handle(srv, sc(), iov, 4, &out, 1), 24);
		ck_assert_int_eq(((struct fuse_out_header *)reply)->error, 0);
		ck_assert_str_eq(read_host("w", buf, sizeof(buf)), "0123456789");
	}
	/* READ into several writable buffers */
	{
		struct fuse_read_in rin = { .fh = fh, .offset = 2, .size = 6 };
		struct iovec in1 = { q.buf, 0 }, out[3];
		uint8_t a[20], b[3], c[30];

		rq_start(FUSE_READ, e.nodeid);
		rq_put(&rin, sizeof(rin));
		((struct fuse_in_header *)q.buf)->len = (uint32_t)q.len;
		in1.iov_len = q.len;
		out[0] = (struct iovec){ a, 17 };
		out[1] = (struct iovec){ b, 3 };
		out[2] = (struct iovec){ c, 30 };
		ck_assert_int_eq(fs_server_handle(srv, sc(), &in1, 1, out, 3), 22);
		ck_assert_int_eq(memcmp(a + 16, "2", 1), 0);
		ck_assert_int_eq(memcmp(b, "345", 3), 0);
		ck_assert_int_eq(memcmp(c, "67", 2), 0);
	}
	teardown();
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* Directories */

/* Names READDIR(PLUS) returned over every round, and whether want was among them. */
static unsigned int readdir_count;

static bool readdir_has(uint64_t dir, bool plus, const char *want, uint64_t *nodeid)
{
	struct fuse_open_in oin = { .flags = O_RDONLY };
	struct fuse_read_in rin = { .size = 4096 };
	bool found = false;
	uint64_t fh;

	rq_start(FUSE_OPENDIR, dir);
	rq_put(&oin, sizeof(oin));
	ck_assert_int_eq(rq_send(), 0);
	fh = ((struct fuse_open_out *)payload())->fh;
	rin.fh = fh;
	readdir_count = 0;
	for (int rounds = 0; rounds < 1000; rounds++) {
		size_t off = 0, len;

		rq_start(plus ? FUSE_READDIRPLUS : FUSE_READDIR, dir);
		rq_put(&rin, sizeof(rin));
		ck_assert_int_eq(rq_send(), 0);
		len = payload_len();
		if (len == 0)
			break;
		while (off < len) {
			uint8_t *p = (uint8_t *)payload() + off;
			struct fuse_dirent *d;
			uint64_t id = 0;

			if (plus) {
				struct fuse_direntplus *dp = (void *)p;

				d = &dp->dirent;
				id = dp->entry_out.nodeid;
				off += FUSE_DIRENTPLUS_SIZE(dp);
			} else {
				d = (void *)p;
				off += FUSE_DIRENT_SIZE(d);
			}
			ck_assert_uint_le(off, len);
			readdir_count++;
			if (d->namelen == strlen(want) && !memcmp(d->name, want, d->namelen)) {
				found = true;
				if (nodeid)
					*nodeid = id;
			}
			rin.offset = d->off;
		}
	}
	rq_start(FUSE_RELEASEDIR, dir);
	rq_put(&(struct fuse_release_in){ .fh = fh }, sizeof(struct fuse_release_in));
	ck_assert_int_eq(rq_send(), 0);
	return found;
}

START_TEST(test_directory_ops)
{
	struct fuse_mkdir_in md = { .mode = 0755 };
	struct fuse_mknod_in mn = { .mode = S_IFIFO | 0644 };
	struct fuse_rename2_in rn = { 0 };
	uint64_t d, id = 0;
	char buf[64];

	start(false);
	ck_assert_int_eq(name_op(FUSE_MKDIR, FUSE_ROOT_ID, &md, sizeof(md), "made"), 0);
	d = ((struct fuse_entry_out *)payload())->nodeid;
	ck_assert(host_exists("made"));
	ck_assert_int_eq(name_op(FUSE_MKDIR, FUSE_ROOT_ID, &md, sizeof(md), "made"), -EEXIST);
	ck_assert_int_eq(name_op(FUSE_MKNOD, d, &mn, sizeof(mn), "fifo"), 0);
	ck_assert(S_ISFIFO(((struct fuse_entry_out *)payload())->attr.mode));
	/* a FIFO is never opened by the VMM (it could block the queue) */
	ck_assert_int_eq(
		open_node(((struct fuse_entry_out *)payload())->nodeid, O_RDONLY, &(uint64_t){ 0 }),
		-ENXIO);
	mn.mode = S_IFCHR | 0666;
	mn.rdev = makedev(1, 3);
	ck_assert_int_eq(name_op(FUSE_MKNOD, d, &mn, sizeof(mn), "null"), -EPERM);
	mn.mode = S_IFBLK | 0666;
	ck_assert_int_eq(name_op(FUSE_MKNOD, d, &mn, sizeof(mn), "disk"), -EPERM);
	ck_assert(!host_exists("made/null"));
	/* SYMLINK: the target is only text */
	rq_start(FUSE_SYMLINK, d);
	rq_str("link");
	rq_str("../../../../etc/passwd");
	ck_assert_int_eq(rq_send(), 0);
	ck_assert(S_ISLNK(((struct fuse_entry_out *)payload())->attr.mode));
	rq_start(FUSE_SYMLINK, d);
	rq_str("link2");
	ck_assert_int_eq(rq_send(), -EINVAL); /* no target */
	/* READDIR and READDIRPLUS list it all; PLUS hands out node IDs */
	ck_assert(readdir_has(d, false, "fifo", NULL));
	ck_assert(readdir_has(d, false, "link", NULL));
	ck_assert(readdir_has(FUSE_ROOT_ID, true, "hello.txt", &id));
	ck_assert_uint_ne(id, 0);
	ck_assert_uint_eq(id, node(FUSE_ROOT_ID, "hello.txt"));
	ck_assert(readdir_has(FUSE_ROOT_ID, true, "..", &id));
	ck_assert_uint_eq(id, 0); /* dots: no entry to link */
	/* RENAME, RENAME2 with NOREPLACE, LINK, UNLINK, RMDIR */
	rq_start(FUSE_RENAME, FUSE_ROOT_ID);
	rq_put(&(struct fuse_rename_in){ .newdir = d }, sizeof(struct fuse_rename_in));
	rq_str("hello.txt");
	rq_str("moved.txt");
	ck_assert_int_eq(rq_send(), 0);
	ck_assert_str_eq(read_host("made/moved.txt", buf, sizeof(buf)), "hello");
	rn.newdir = d;
	rn.flags = RENAME_NOREPLACE;
	rq_start(FUSE_RENAME2, d);
	rq_put(&rn, sizeof(rn));
	rq_str("fifo");
	rq_str("moved.txt");
	ck_assert_int_eq(rq_send(), -EEXIST);
	rn.flags = 1u << 10;
	rq_start(FUSE_RENAME2, d);
	rq_put(&rn, sizeof(rn));
	rq_str("fifo");
	rq_str("other");
	ck_assert_int_eq(rq_send(), -EINVAL);
	rq_start(FUSE_RENAME, d);
	rq_put(&(struct fuse_rename_in){ .newdir = 12345 }, sizeof(struct fuse_rename_in));
	rq_str("fifo");
	rq_str("x");
	ck_assert_int_eq(rq_send(), -ESTALE);
	{
		struct fuse_link_in ln = { .oldnodeid = node(d, "moved.txt") };

		ck_assert_int_eq(name_op(FUSE_LINK, FUSE_ROOT_ID, &ln, sizeof(ln), "hard"), 0);
		ck_assert_uint_eq(((struct fuse_entry_out *)payload())->attr.nlink, 2);
		ln.oldnodeid = d;
		ck_assert_int_eq(name_op(FUSE_LINK, FUSE_ROOT_ID, &ln, sizeof(ln), "dirlink"),
				 -EPERM);
	}
	ck_assert_int_eq(name_op(FUSE_RMDIR, FUSE_ROOT_ID, NULL, 0, "made"), -ENOTEMPTY);
	ck_assert_int_eq(name_op(FUSE_UNLINK, d, NULL, 0, "moved.txt"), 0);
	ck_assert_int_eq(name_op(FUSE_UNLINK, d, NULL, 0, "fifo"), 0);
	ck_assert_int_eq(name_op(FUSE_UNLINK, d, NULL, 0, "link"), 0);
	ck_assert_int_eq(name_op(FUSE_RMDIR, FUSE_ROOT_ID, NULL, 0, "made"), 0);
	ck_assert(!host_exists("made"));
	ck_assert_str_eq(read_host("hard", buf, sizeof(buf)), "hello");
	/* a directory handle is no file handle */
	{
		struct fuse_open_in oin = { 0 };
		uint64_t fh;

		rq_start(FUSE_OPENDIR, FUSE_ROOT_ID);
		rq_put(&oin, sizeof(oin));
		ck_assert_int_eq(rq_send(), 0);
		fh = ((struct fuse_open_out *)payload())->fh;
		ck_assert_int_eq(read_fh(FUSE_ROOT_ID, fh, 0, 10, buf), -EBADF);
		rq_start(FUSE_FSYNCDIR, FUSE_ROOT_ID);
		rq_put(&(struct fuse_fsync_in){ .fh = fh }, sizeof(struct fuse_fsync_in));
		ck_assert_int_eq(rq_send(), 0);
		ck_assert_int_eq(release(FUSE_ROOT_ID, fh, false), -EBADF);
		ck_assert_int_eq(release(FUSE_ROOT_ID, fh, true), 0);
	}
	teardown();
}
END_TEST

/* A directory larger than one reply: every entry exactly once, across rounds. */
START_TEST(test_readdir_continues)
{
	char p[PATH_MAX];
	uint64_t d, id = 0;

	start(false);
	for (int i = 0; i < 300; i++) {
		snprintf(p, sizeof(p), "%s/sub/file-with-a-longish-name-%03d", share, i);
		write_file(p, "x");
	}
	d = node(FUSE_ROOT_ID, "sub");
	ck_assert(readdir_has(d, false, "file-with-a-longish-name-299", NULL));
	ck_assert_uint_eq(readdir_count, 303); /* ., .., inner and the 300 */
	ck_assert(readdir_has(d, true, "file-with-a-longish-name-000", &id));
	ck_assert_uint_eq(readdir_count, 303);
	ck_assert_uint_ne(id, 0);
	ck_assert_uint_eq(fs_server_nodes(srv), 2 + 301); /* root, sub, and each entry */
	teardown();
}
END_TEST

START_TEST(test_statfs_access_xattr)
{
	struct fuse_access_in ac = { .mask = R_OK | W_OK };
	struct fuse_getxattr_in gx = { .size = 64 };

	start(false);
	rq_start(FUSE_STATFS, FUSE_ROOT_ID);
	ck_assert_int_eq(rq_send(), 0);
	ck_assert_uint_gt(((struct fuse_statfs_out *)payload())->st.bsize, 0);
	ck_assert_uint_eq(((struct fuse_statfs_out *)payload())->st.namelen, NAME_MAX);
	rq_start(FUSE_ACCESS, FUSE_ROOT_ID);
	rq_put(&ac, sizeof(ac));
	ck_assert_int_eq(rq_send(), 0);
	rq_start(FUSE_GETXATTR, FUSE_ROOT_ID);
	rq_put(&gx, sizeof(gx));
	rq_str("user.x");
	ck_assert_int_eq(rq_send(), -ENOSYS);
	rq_start(FUSE_LISTXATTR, FUSE_ROOT_ID);
	rq_put(&gx, sizeof(gx));
	ck_assert_int_eq(rq_send(), -ENOSYS);
	rq_start(FUSE_IOCTL, FUSE_ROOT_ID);
	ck_assert_int_eq(rq_send(), -ENOSYS);
	rq_start(12345, FUSE_ROOT_ID);
	ck_assert_int_eq(rq_send(), -ENOSYS);
	teardown();
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* Malformed requests */

START_TEST(test_malformed_lengths)
{
	struct iovec in, out = { reply, sizeof(reply) };
	struct fuse_out_header *h = (void *)reply;
	uint8_t small[20] = { 0 };

	start(false);
	/* fewer bytes than a header: an error with unique 0 */
	in = (struct iovec){ small, sizeof(small) };
	ck_assert_int_eq(fs_server_handle(srv, sc(), &in, 1, &out, 1), 16);
	ck_assert_int_eq(h->error, -EINVAL);
	ck_assert_uint_eq(h->unique, 0);
	/* in.len larger than the chain */
	rq_start(FUSE_LOOKUP, FUSE_ROOT_ID);
	rq_str("hello.txt");
	((struct fuse_in_header *)q.buf)->len = (uint32_t)q.len + 1;
	in = (struct iovec){ q.buf, q.len };
	ck_assert_int_eq(fs_server_handle(srv, sc(), &in, 1, &out, 1), 16);
	ck_assert_int_eq(h->error, -EINVAL);
	/* in.len smaller than the header */
	((struct fuse_in_header *)q.buf)->len = 39;
	ck_assert_int_eq(fs_server_handle(srv, sc(), &in, 1, &out, 1), 16);
	ck_assert_int_eq(h->error, -EINVAL);
	/* a huge in.len */
	((struct fuse_in_header *)q.buf)->len = 0xffffffff;
	ck_assert_int_eq(fs_server_handle(srv, sc(), &in, 1, &out, 1), 16);
	ck_assert_int_eq(h->error, -EINVAL);
	/* argument structure cut short */
	rq_start(FUSE_MKDIR, FUSE_ROOT_ID);
	rq_put("\xed\x01", 2);
	ck_assert_int_eq(rq_send(), -EINVAL);
	/* no room for a reply header at all: nothing written, and the caller is told */
	rq_start(FUSE_GETATTR, FUSE_ROOT_ID);
	rq_put(&(struct fuse_getattr_in){ 0 }, sizeof(struct fuse_getattr_in));
	ck_assert_int_eq(rq_send_raw(15), -1);
	ck_assert_uint_eq(reply[0], 0xa5);
	/* room for a header but not for the entry: refused before anything is created */
	rq_start(FUSE_MKDIR, FUSE_ROOT_ID);
	rq_put(&(struct fuse_mkdir_in){ 0755, 0 }, sizeof(struct fuse_mkdir_in));
	rq_str("notmade");
	ck_assert_int_eq(rq_send_raw(16 + 10), 16);
	ck_assert_int_eq(h->error, -EINVAL);
	ck_assert(!host_exists("notmade"));
	/* FORGET needs no room, and still forgets */
	rq_start(FUSE_FORGET, node(FUSE_ROOT_ID, "hello.txt"));
	rq_put(&(struct fuse_forget_in){ 1 }, sizeof(struct fuse_forget_in));
	ck_assert_uint_eq(fs_server_nodes(srv), 2);
	ck_assert_int_eq(rq_send_raw(0), 0);
	ck_assert_uint_eq(fs_server_nodes(srv), 1);
	/* a request beyond our argument buffer that is no WRITE */
	rq_start(FUSE_LOOKUP, FUSE_ROOT_ID);
	memset(q.buf + q.len, 'a', 20000);
	q.len += 20000;
	ck_assert_int_eq(rq_send(), -EINVAL);
	teardown();
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* What is not a regular file or a directory, and how many nodes */

/*
 * A FIFO the guest made, then opened by name without O_EXCL: CREATE must answer at once
 * instead of waiting in open() for a reader that never comes (this test case has a short
 * timeout, so a server that blocks fails it instead of hanging).
 */
START_TEST(test_fifo_is_never_opened)
{
	struct fuse_mknod_in mn = { .mode = S_IFIFO | 0644 };
	const uint32_t modes[] = { O_WRONLY, O_RDONLY, O_RDWR, O_WRONLY | O_TRUNC };
	struct fuse_entry_out e;
	uint64_t fifo, fh, again;
	char p[PATH_MAX];

	start(false);
	ck_assert_int_eq(name_op(FUSE_MKNOD, FUSE_ROOT_ID, &mn, sizeof(mn), "fifo"), 0);
	fifo = ((struct fuse_entry_out *)payload())->nodeid;
	for (unsigned int i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		ck_assert_int_eq(create(FUSE_ROOT_ID, "fifo", modes[i], NULL, &fh), -ENXIO);
		ck_assert_int_eq(open_node(fifo, modes[i], &fh), -ENXIO);
	}
	ck_assert_uint_eq(fs_server_handles(srv), 0);
	/* a FIFO and a socket made on the host side: the same */
	snprintf(p, sizeof(p), "%s/hostfifo", share);
	ck_assert_int_eq(mkfifo(p, 0644), 0);
	ck_assert_int_eq(create(FUSE_ROOT_ID, "hostfifo", O_WRONLY, NULL, &fh), -ENXIO);
	snprintf(p, sizeof(p), "%s/hostsock", share);
	ck_assert_int_eq(mknod(p, S_IFSOCK | 0644, 0), 0);
	ck_assert_int_eq(create(FUSE_ROOT_ID, "hostsock", O_RDWR, NULL, &fh), -ENXIO);
	/* a directory and a symlink keep their own answers */
	ck_assert_int_eq(create(FUSE_ROOT_ID, "sub", O_RDONLY, NULL, &fh), -EISDIR);
	ck_assert_int_eq(create(FUSE_ROOT_ID, "out-rel", O_RDONLY, NULL, &fh), -ELOOP);
	/* an existing regular file without O_EXCL is opened, as before */
	ck_assert_int_eq(create(FUSE_ROOT_ID, "hello.txt", O_RDWR, &e, &fh), 0);
	again = node(FUSE_ROOT_ID, "hello.txt");
	ck_assert_uint_eq(e.nodeid, again);
	ck_assert_uint_eq(e.attr.size, 5);
	ck_assert_int_eq(release(e.nodeid, fh, false), 0);
	ck_assert_int_eq(create(FUSE_ROOT_ID, "hello.txt", O_WRONLY | O_TRUNC, &e, &fh), 0);
	ck_assert_uint_eq(e.attr.size, 0);
	teardown();
}
END_TEST

/* ---- several threads in one server ---- */

#define RACE_ROUNDS 3000

struct racer {
	pthread_t t;
	const char *name; /* below the root */
	ino_t ino;	  /* what every answer about it must say */
	bool wipe;	  /* forget every lookup at once, under the others' feet */
	struct fs_scratch *b;
	uint8_t req[512];
	uint8_t out[8192];
	char why[160]; /* the first wrong answer */
};

/* One request from a racer's own buffers; the answer's error, its payload in out + 16. */
static int race_send(struct racer *r, uint32_t opcode, uint64_t nodeid, const void *arg,
		     size_t alen, const char *name)
{
	struct fuse_in_header h = { .opcode = opcode, .nodeid = nodeid, .unique = 7 };
	size_t len = sizeof(h) + alen + (name ? strlen(name) + 1 : 0);
	struct iovec in = { r->req, len }, out = { r->out, sizeof(r->out) };
	ssize_t n;

	h.len = (uint32_t)len;
	memcpy(r->req, &h, sizeof(h));
	if (alen)
		memcpy(r->req + sizeof(h), arg, alen);
	if (name)
		memcpy(r->req + sizeof(h) + alen, name, strlen(name) + 1);
	n = fs_server_handle(srv, r->b, &in, 1, &out, 1);
	if (n == 0)
		return 0; /* FORGET */
	if (n < 16)
		return -EIO;
	return ((struct fuse_out_header *)r->out)->error;
}

static void race_wrong(struct racer *r, const char *what, long got)
{
	if (!r->why[0])
		snprintf(r->why, sizeof(r->why), "%s: %s: %ld", r->name, what, got);
}

static void *race(void *arg)
{
	struct racer *r = arg;
	struct fuse_forget_in all = { .nlookup = 1ull << 40 };
	struct fuse_getattr_in ga = { 0 };
	struct fuse_forget_in one = { 1 };

	for (unsigned int i = 0; i < RACE_ROUNDS && !r->why[0]; i++) {
		struct fuse_entry_out e;
		int err = race_send(r, FUSE_LOOKUP, FUSE_ROOT_ID, NULL, 0, r->name);

		if (err) {
			race_wrong(r, "LOOKUP", err);
			break;
		}
		memcpy(&e, r->out + 16, sizeof(e));
		if (e.attr.ino != r->ino)
			race_wrong(r, "LOOKUP's inode", (long)e.attr.ino);
		/* our own lookup keeps the node, unless a wiper took every one */
		err = race_send(r, FUSE_GETATTR, e.nodeid, &ga, sizeof(ga), NULL);
		if (err == 0 &&
		    ((struct fuse_attr_out *)(r->out + 16))->attr.ino != (uint64_t)r->ino)
			race_wrong(r, "GETATTR's inode (a descriptor closed under us?)",
				   (long)((struct fuse_attr_out *)(r->out + 16))->attr.ino);
		else if (err && !(err == -ESTALE && !strcmp(r->name, "wiped")))
			race_wrong(r, "GETATTR", err);
		if (i % 3 == 0 && S_ISREG(e.attr.mode)) {
			struct fuse_open_in oi = { .flags = O_RDONLY };
			struct fuse_read_in ri = { .size = 64 };
			struct fuse_release_in rl = { 0 };

			err = race_send(r, FUSE_OPEN, e.nodeid, &oi, sizeof(oi), NULL);
			if (!err) {
				ri.fh = rl.fh = ((struct fuse_open_out *)(r->out + 16))->fh;
				err = race_send(r, FUSE_READ, e.nodeid, &ri, sizeof(ri), NULL);
				if (err || memcmp(r->out + 16, "hello", 5))
					race_wrong(r, "READ", err);
				err = race_send(r, FUSE_RELEASE, e.nodeid, &rl, sizeof(rl), NULL);
			}
			if (err && !(err == -ESTALE && !strcmp(r->name, "wiped")))
				race_wrong(r, "OPEN/RELEASE", err);
		} else if (i % 3 == 0) {
			struct fuse_open_in oi = { .flags = O_RDONLY };
			struct fuse_read_in ri = { .size = 4096 };
			struct fuse_release_in rl = { 0 };

			err = race_send(r, FUSE_OPENDIR, e.nodeid, &oi, sizeof(oi), NULL);
			if (!err) {
				ri.fh = rl.fh = ((struct fuse_open_out *)(r->out + 16))->fh;
				err = race_send(r, FUSE_READDIRPLUS, e.nodeid, &ri, sizeof(ri),
						NULL);
				if (err)
					race_wrong(r, "READDIRPLUS", err);
				/* what READDIRPLUS looked up is ours to forget: one entry, "inner"
				 */
				for (size_t off = 0;
				     off + sizeof(struct fuse_direntplus) <
				     ((struct fuse_out_header *)r->out)->len - 16;) {
					struct fuse_direntplus *dp = (void *)(r->out + 16 + off);

					if (dp->entry_out.nodeid)
						race_send(r, FUSE_FORGET, dp->entry_out.nodeid,
							  &one, sizeof(one), NULL);
					off += FUSE_DIRENTPLUS_SIZE(dp);
				}
				err = race_send(r, FUSE_RELEASEDIR, e.nodeid, &rl, sizeof(rl),
						NULL);
			}
			if (err)
				race_wrong(r, "OPENDIR/RELEASEDIR", err);
		}
		race_send(r, FUSE_FORGET, e.nodeid, r->wipe ? &all : &one, sizeof(one), NULL);
	}
	return NULL;
}

/*
 * LOOKUP, GETATTR, OPEN, READ, READDIRPLUS, RELEASE and FORGET of the same few nodes from
 * several threads at once: every answer names the right inode (a descriptor closed or
 * reused under a request would show another one), and once all are done the counts are
 * back to the root alone, with no handle left open. One pair of threads forgets a node
 * wholesale while the other still uses it: that one may get ESTALE, never another file.
 */
START_TEST(test_concurrent_lookup_forget)
{
	const char *names[] = { "hello.txt", "hello.txt", "sub", "sub", "wiped", "wiped" };
	struct racer *rs = calloc(6, sizeof(*rs));
	char p[PATH_MAX];
	struct stat st;

	ck_assert_ptr_nonnull(rs);
	start(false);
	snprintf(p, sizeof(p), "%s/wiped", share);
	write_file(p, "hello");
	for (unsigned int i = 0; i < 6; i++) {
		snprintf(p, sizeof(p), "%s/%s", share, names[i]);
		ck_assert_int_eq(stat(p, &st), 0);
		rs[i].name = names[i];
		rs[i].ino = st.st_ino;
		rs[i].wipe = i == 5;
		rs[i].b = fs_scratch_create();
		ck_assert_ptr_nonnull(rs[i].b);
	}
	for (unsigned int i = 0; i < 6; i++)
		ck_assert_int_eq(pthread_create(&rs[i].t, NULL, race, &rs[i]), 0);
	for (unsigned int i = 0; i < 6; i++) {
		pthread_join(rs[i].t, NULL);
		ck_assert_msg(!rs[i].why[0], "%s", rs[i].why);
		fs_scratch_destroy(rs[i].b);
	}
	ck_assert_uint_eq(fs_server_nodes(srv), 1);
	ck_assert_uint_eq(fs_server_handles(srv), 0);
	/* and the server still answers */
	ck_assert_uint_ne(node(FUSE_ROOT_ID, "hello.txt"), 0);
	ck_assert_uint_eq(fs_server_nodes(srv), 2);
	free(rs);
	teardown();
}
END_TEST

/*
 * Every node the guest holds is a host descriptor, so the guest must not be able to take
 * all of the process's: past the server's bound it gets ENFILE, the VMM keeps descriptors
 * for everything else, and a FORGET makes room again.
 */
START_TEST(test_nodes_are_bounded)
{
	const unsigned int files = 3000;
	struct rlimit old, rl;
	unsigned int held = 0;
	uint64_t first = 0;
	char p[PATH_MAX];
	int r = 0, fd;

	make_share();
	for (unsigned int i = 0; i < files; i++) {
		snprintf(p, sizeof(p), "%s/sub/f%u", share, i);
		fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		ck_assert_int_ge(fd, 0);
		close(fd);
	}
	/* a host limit the old server let one share use up */
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	rl = old;
	rl.rlim_cur = 4096;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	srv = fs_server_create(share, false, err, sizeof(err));
	ck_assert_msg(srv != NULL, "%s", err);
	init_session();
	{
		uint64_t sub = node(FUSE_ROOT_ID, "sub");

		for (unsigned int i = 0; i < files; i++) {
			struct fuse_entry_out e;
			char name[16];

			snprintf(name, sizeof(name), "f%u", i);
			r = lookup(sub, name, &e);
			if (r)
				break;
			if (!first)
				first = e.nodeid;
			held++;
		}
	}
	ck_assert_msg(r == -ENFILE, "%u lookups, then %d (expected ENFILE)", held, r);
	fprintf(stderr, "test_fs: RLIMIT_NOFILE 4096: %u nodes held, then ENFILE\n", held);
	ck_assert_uint_ge(held, 64);
	/* the process still has descriptors for the rest of the VMM */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_lt(held + 100, 4096);
	forget(first, 1);
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "hello.txt", NULL), 0);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	teardown();
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* Landlock: the worker thread confined to its share */

struct confined {
	int confine;	   /* fs_server_confine()'s answer */
	int outside_errno; /* open() of a file outside the share */
	int create_errno;  /* creating a file outside it */
	int inside_fd_ok;  /* open() of a file inside it */
	int fuse[16];	   /* FUSE requests served from the confined thread */
};

static void *confined_worker(void *arg)
{
	struct confined *c = arg;
	struct fuse_entry_out e;
	char p[PATH_MAX], buf[64];
	uint64_t fh, sub;
	int fd, i = 0;

	c->confine = fs_server_confine(srv);
	if (c->confine != 1)
		return NULL;
	fd = open(secret, O_RDONLY | O_CLOEXEC);
	c->outside_errno = fd < 0 ? errno : 0;
	snprintf(p, sizeof(p), "%s/made-outside", base);
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	c->create_errno = fd < 0 ? errno : 0;
	snprintf(p, sizeof(p), "%s/hello.txt", share);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	c->inside_fd_ok = fd >= 0;
	if (fd >= 0)
		close(fd);
	/* everything the server does still works: reopening through /proc included */
	c->fuse[i++] = create(FUSE_ROOT_ID, "new.txt", O_RDWR, &e, &fh);
	c->fuse[i++] = write_fh(e.nodeid, fh, 0, "0123456789");
	c->fuse[i++] = release(e.nodeid, fh, false);
	c->fuse[i++] = open_node(e.nodeid, O_RDONLY, &fh);
	c->fuse[i++] = read_fh(e.nodeid, fh, 0, 4, buf);
	{
		struct fuse_setattr_in in = { .valid = FATTR_SIZE | FATTR_MODE,
					      .size = 3,
					      .mode = 0600 };

		rq_start(FUSE_SETATTR, e.nodeid);
		rq_put(&in, sizeof(in));
		c->fuse[i++] = rq_send();
	}
	sub = node(FUSE_ROOT_ID, "sub");
	{
		struct fuse_rename_in rn = { .newdir = sub };

		rq_start(FUSE_RENAME, FUSE_ROOT_ID);
		rq_put(&rn, sizeof(rn));
		rq_str("new.txt");
		rq_str("moved.txt");
		c->fuse[i++] = rq_send();
	}
	{
		struct fuse_link_in ln = { .oldnodeid = e.nodeid };

		c->fuse[i++] = name_op(FUSE_LINK, FUSE_ROOT_ID, &ln, sizeof(ln), "hard");
	}
	c->fuse[i++] =
		name_op(FUSE_MKNOD, FUSE_ROOT_ID, &(struct fuse_mknod_in){ .mode = S_IFIFO | 0600 },
			sizeof(struct fuse_mknod_in), "fifo");
	c->fuse[i++] = name_op(FUSE_MKDIR, sub, &(struct fuse_mkdir_in){ 0755, 0 },
			       sizeof(struct fuse_mkdir_in), "d");
	c->fuse[i++] = name_op(FUSE_UNLINK, FUSE_ROOT_ID, NULL, 0, "hard");
	/* and the server's own refusals are unchanged */
	c->fuse[i++] = open_node(node(FUSE_ROOT_ID, "out-abs"), O_RDONLY, &fh) == -ELOOP ? 0 : -1;
	return NULL;
}

START_TEST(test_landlock_confines_the_worker)
{
	struct confined c = { 0 };
	pthread_t t;
	char buf[64];

	start(false);
	ck_assert_int_eq(pthread_create(&t, NULL, confined_worker, &c), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	if (c.confine == 0) {
		fprintf(stderr, "SKIP: test_landlock_confines_the_worker: no Landlock here\n");
		teardown();
		return;
	}
	ck_assert_int_eq(c.confine, 1);
	ck_assert_int_eq(c.outside_errno, EACCES);
	ck_assert_int_eq(c.create_errno, EACCES);
	ck_assert_int_eq(c.inside_fd_ok, 1);
	for (unsigned int i = 0; i < sizeof(c.fuse) / sizeof(c.fuse[0]); i++)
		ck_assert_msg(c.fuse[i] == 0, "request %u answered %d", i, c.fuse[i]);
	ck_assert_str_eq(read_host("sub/moved.txt", buf, sizeof(buf)), "012");
	ck_assert(host_exists("sub/d") && host_exists("fifo") && !host_exists("hard"));
	/* only that thread: this one still reaches the whole host */
	secret_unchanged();
	teardown();
}
END_TEST

/* A read-only share's worker may read there, and change nothing even by mistake. */
static void *confined_reader(void *arg)
{
	struct confined *c = arg;
	char p[PATH_MAX];
	int fd;

	c->confine = fs_server_confine(srv);
	if (c->confine != 1)
		return NULL;
	snprintf(p, sizeof(p), "%s/hello.txt", share);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	c->inside_fd_ok = fd >= 0;
	if (fd >= 0)
		close(fd);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	c->outside_errno = fd < 0 ? errno : 0;
	snprintf(p, sizeof(p), "%s/new", share);
	c->create_errno = mkdir(p, 0755) < 0 ? errno : 0;
	return NULL;
}

START_TEST(test_landlock_readonly_share)
{
	struct confined c = { 0 };
	pthread_t t;

	start(true);
	ck_assert_int_eq(pthread_create(&t, NULL, confined_reader, &c), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	if (c.confine == 0) {
		fprintf(stderr, "SKIP: test_landlock_readonly_share: no Landlock here\n");
		teardown();
		return;
	}
	ck_assert_int_eq(c.confine, 1);
	ck_assert_int_eq(c.inside_fd_ok, 1);
	ck_assert_int_eq(c.outside_errno, EACCES);
	ck_assert_int_eq(c.create_errno, EACCES);
	teardown();
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* Read-only share */

START_TEST(test_readonly_refuses_changes)
{
	struct fuse_mkdir_in md = { .mode = 0755 };
	struct fuse_mknod_in mn = { .mode = S_IFREG | 0644 };
	struct fuse_setattr_in sa = { .valid = FATTR_SIZE, .size = 0 };
	uint64_t hello, fh;
	char buf[64];

	start(true);
	hello = node(FUSE_ROOT_ID, "hello.txt");
	ck_assert_int_eq(create(FUSE_ROOT_ID, "new", O_WRONLY, NULL, &fh), -EROFS);
	ck_assert_int_eq(name_op(FUSE_MKDIR, FUSE_ROOT_ID, &md, sizeof(md), "d"), -EROFS);
	ck_assert_int_eq(name_op(FUSE_MKNOD, FUSE_ROOT_ID, &mn, sizeof(mn), "n"), -EROFS);
	ck_assert_int_eq(name_op(FUSE_UNLINK, FUSE_ROOT_ID, NULL, 0, "hello.txt"), -EROFS);
	ck_assert_int_eq(name_op(FUSE_RMDIR, FUSE_ROOT_ID, NULL, 0, "sub"), -EROFS);
	ck_assert_int_eq(name_op(FUSE_LINK, FUSE_ROOT_ID, &(struct fuse_link_in){ hello },
				 sizeof(struct fuse_link_in), "h2"),
			 -EROFS);
	rq_start(FUSE_SYMLINK, FUSE_ROOT_ID);
	rq_str("l");
	rq_str("hello.txt");
	ck_assert_int_eq(rq_send(), -EROFS);
	rq_start(FUSE_RENAME, FUSE_ROOT_ID);
	rq_put(&(struct fuse_rename_in){ FUSE_ROOT_ID }, sizeof(struct fuse_rename_in));
	rq_str("hello.txt");
	rq_str("renamed");
	ck_assert_int_eq(rq_send(), -EROFS);
	rq_start(FUSE_SETATTR, hello);
	rq_put(&sa, sizeof(sa));
	ck_assert_int_eq(rq_send(), -EROFS);
	rq_start(FUSE_SETXATTR, hello);
	rq_put(&(struct fuse_setxattr_in){ 0 }, sizeof(struct fuse_setxattr_in));
	rq_str("user.x");
	ck_assert_int_eq(rq_send(), -EROFS);
	ck_assert_int_eq(open_node(hello, O_WRONLY, &fh), -EROFS);
	ck_assert_int_eq(open_node(hello, O_RDWR, &fh), -EROFS);
	ck_assert_int_eq(open_node(hello, O_RDONLY | O_TRUNC, &fh), -EROFS);
	rq_start(FUSE_ACCESS, hello);
	rq_put(&(struct fuse_access_in){ .mask = W_OK }, sizeof(struct fuse_access_in));
	ck_assert_int_eq(rq_send(), -EROFS);
	/* reading still works, writing through a read handle does not */
	ck_assert_int_eq(open_node(hello, O_RDONLY, &fh), 0);
	ck_assert_int_eq(read_fh(hello, fh, 0, 64, buf), 0);
	ck_assert_str_eq(buf, "hello");
	ck_assert_int_eq(write_fh(hello, fh, 0, "x"), -EROFS);
	rq_start(FUSE_FALLOCATE, hello);
	rq_put(&(struct fuse_fallocate_in){ .fh = fh, .length = 10 },
	       sizeof(struct fuse_fallocate_in));
	ck_assert_int_eq(rq_send(), -EROFS);
	ck_assert(readdir_has(FUSE_ROOT_ID, false, "sub", NULL));
	ck_assert_str_eq(read_host("hello.txt", buf, sizeof(buf)), "hello");
	ck_assert(!host_exists("new") && !host_exists("d") && !host_exists("h2"));
	teardown();
}
END_TEST

START_TEST(test_reset_forgets_everything)
{
	uint64_t hello, fh;
	struct fuse_attr a;

	start(false);
	hello = node(FUSE_ROOT_ID, "hello.txt");
	ck_assert_int_eq(open_node(hello, O_RDONLY, &fh), 0);
	fs_server_reset(srv);
	ck_assert_uint_eq(fs_server_nodes(srv), 1);
	ck_assert_uint_eq(fs_server_handles(srv), 0);
	init_session();
	ck_assert_int_eq(getattr(hello, &a), -ESTALE);
	ck_assert_int_eq(getattr(FUSE_ROOT_ID, &a), 0);
	teardown();
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* The device through a split ring */

#define QSIZE 64u

static struct guest_mem mem;
static int notifies[FS_NUM_QUEUES];
static int needs_reset;

static void t_notify(struct virtio_device *v, unsigned int qi)
{
	(void)v;
	__atomic_add_fetch(&notifies[qi], 1, __ATOMIC_SEQ_CST);
}

static void t_needs_reset(struct virtio_device *v)
{
	(void)v;
	__atomic_store_n(&needs_reset, 1, __ATOMIC_SEQ_CST);
}

static const struct virtio_transport_ops transport = {
	.notify_queue = t_notify,
	.needs_reset = t_needs_reset,
};

static void *gpa(uint64_t a, uint64_t len)
{
	void *p = guest_mem_ptr(&mem, a, len);

	ck_assert_ptr_nonnull(p);
	return p;
}

static void ring_setup(struct virtio_device *vdev, unsigned int qi)
{
	struct virtq *vq = &vdev->queues[qi];
	uint64_t desc = 0x10000ull * (qi + 1);

	memset(gpa(desc, 0x10000), 0, 0x10000);
	virtq_reset(vq);
	vq->size = QSIZE;
	vq->desc_gpa = desc;
	vq->avail_gpa = desc + 16 * QSIZE;
	vq->used_gpa = desc + 0x1000;
	ck_assert_int_eq(virtq_enable(vq, &mem), 0);
}

/* Undo device_up() (or a test's own device over the same ring): nothing may stay behind. */
static void device_down(struct fs_device *f, int *kick)
{
	fs_device_destroy(f);
	ck_assert_ptr_null(f->server); /* no worker left in a host call kept the server */
	free(f);
	for (unsigned int i = 0; i < FS_NUM_QUEUES; i++)
		close(kick[i]);
	guest_mem_free(&mem);
	rm_tree(base);
}

/* One chain: request at 1 MiB (+ 64 KiB per queue), reply room after it; returns used len. */
static uint32_t ring_request(struct virtio_device *vdev, int *kick, unsigned int qi,
			     const void *reqb, uint32_t reqlen, uint32_t outlen, uint16_t *used)
{
	uint64_t desc = 0x10000ull * (qi + 1), data = 0x100000ull + 0x20000ull * qi;
	struct vring_desc *t = gpa(desc, 16 * QSIZE);
	struct vring_avail *av = gpa(desc + 16 * QSIZE, 6 + 2 * QSIZE);
	struct vring_used *u = gpa(desc + 0x1000, 6 + 8 * QSIZE);
	uint16_t idx = le16toh(av->idx);

	(void)vdev;

	memcpy(gpa(data, reqlen), reqb, reqlen);
	t[0] = (struct vring_desc){ htole64(data), htole32(reqlen), htole16(VRING_DESC_F_NEXT), 1 };
	t[1] = (struct vring_desc){ htole64(data + 0x10000), htole32(outlen),
				    htole16(VRING_DESC_F_WRITE), 0 };
	if (!outlen)
		t[0].flags = 0;
	av->ring[idx % QSIZE] = 0;
	__atomic_store_n(&av->idx, htole16((uint16_t)(idx + 1)), __ATOMIC_RELEASE);
	ck_assert_int_eq(eventfd_write(kick[qi], 1), 0);
	for (int i = 0; i < 10000 && le16toh(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE)) == *used;
	     i++)
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	ck_assert_uint_eq(le16toh(u->idx), (uint16_t)(*used + 1));
	(*used)++;
	memcpy(reply, gpa(data + 0x10000, outlen ? outlen : 1), outlen);
	return le32toh(u->ring[(*used - 1) % QSIZE].len);
}

START_TEST(test_device_over_virtqueues)
{
	struct fs_share_options o = { .readonly = false };
	struct fs_device *f = calloc(1, sizeof(*f));
	struct virtio_device *vdev;
	uint8_t cfg[FS_CONFIG_SIZE];
	int kick[FS_NUM_QUEUES];
	uint16_t used[FS_NUM_QUEUES] = { 0 };
	struct fuse_entry_out e;
	uint32_t len;

	make_share();
	snprintf(o.dir, sizeof(o.dir), "%s", share);
	snprintf(o.tag, sizeof(o.tag), "hosttag");
	ck_assert_int_eq(guest_mem_alloc(&mem, 4ull << 20), 0);
	ck_assert_msg(fs_device_init(f, &vdev, &o, &mem, err, sizeof(err)) == 0, "%s", err);
	vdev->transport = &transport;
	ck_assert_msg(fs_device_start(f, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(vdev->device_id, 26);
	ck_assert_uint_eq(vdev->num_queues, 2);
	virtio_config_read(vdev, 0, cfg, sizeof(cfg));
	ck_assert_int_eq(memcmp(cfg, "hosttag\0\0", 9), 0);
	ck_assert_uint_eq(cfg[36], 1); /* num_request_queues */
	for (unsigned int i = 0; i < FS_NUM_QUEUES; i++) {
		kick[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ring_setup(vdev, i);
		ck_assert_int_eq(vdev->ops->queue_start(vdev, i, kick[i]), 0);
	}
	srv = NULL;
	{
		struct fuse_init_in in = { .major = 7, .minor = 38 };

		rq_start(FUSE_INIT, 0);
		rq_put(&in, sizeof(in));
		((struct fuse_in_header *)q.buf)->len = (uint32_t)q.len;
		len = ring_request(vdev, kick, 1, q.buf, (uint32_t)q.len, 4096, &used[1]);
		ck_assert_uint_eq(len, 16 + sizeof(struct fuse_init_out));
		ck_assert_int_eq(((struct fuse_out_header *)reply)->error, 0);
	}
	rq_start(FUSE_LOOKUP, FUSE_ROOT_ID);
	rq_str("hello.txt");
	((struct fuse_in_header *)q.buf)->len = (uint32_t)q.len;
	len = ring_request(vdev, kick, 1, q.buf, (uint32_t)q.len, 4096, &used[1]);
	ck_assert_uint_eq(len, 16 + sizeof(e));
	memcpy(&e, payload(), sizeof(e));
	ck_assert_uint_eq(e.attr.size, 5);
	/* FORGET on the hiprio queue: used with length 0 */
	rq_start(FUSE_FORGET, e.nodeid);
	rq_put(&(struct fuse_forget_in){ 1 }, sizeof(struct fuse_forget_in));
	((struct fuse_in_header *)q.buf)->len = (uint32_t)q.len;
	len = ring_request(vdev, kick, 0, q.buf, (uint32_t)q.len, 0, &used[0]);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_ge(__atomic_load_n(&notifies[1], __ATOMIC_SEQ_CST), 1);
	ck_assert_int_eq(__atomic_load_n(&needs_reset, __ATOMIC_SEQ_CST), 0);
	ck_assert_uint_eq(fs_server_nodes(f->server), 1);
	/* a request with no room for a reply: used with nothing written, device goes on */
	rq_start(FUSE_STATFS, FUSE_ROOT_ID);
	((struct fuse_in_header *)q.buf)->len = (uint32_t)q.len;
	len = ring_request(vdev, kick, 1, q.buf, (uint32_t)q.len, 8, &used[1]);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(__atomic_load_n(&needs_reset, __ATOMIC_SEQ_CST), 0);
	/* reset stops the threads and forgets the session */
	vdev->ops->reset(vdev);
	ck_assert_uint_eq(fs_server_nodes(f->server), 1);
	device_down(f, kick);
}
END_TEST

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A device with both queues started and the session initialised. */
static struct fs_device *device_up(struct virtio_device **vdev, int *kick, uint16_t *used)
{
	struct fs_share_options o = { .readonly = false };
	struct fs_device *f = calloc(1, sizeof(*f));
	struct fuse_init_in in = { .major = 7, .minor = 38 };

	ck_assert_ptr_nonnull(f);
	make_share();
	snprintf(o.dir, sizeof(o.dir), "%s", share);
	snprintf(o.tag, sizeof(o.tag), "hosttag");
	ck_assert_int_eq(guest_mem_alloc(&mem, 4ull << 20), 0);
	ck_assert_msg(fs_device_init(f, vdev, &o, &mem, err, sizeof(err)) == 0, "%s", err);
	(*vdev)->transport = &transport;
	ck_assert_msg(fs_device_start(f, err, sizeof(err)) == 0, "%s", err);
	for (unsigned int i = 0; i < FS_NUM_QUEUES; i++) {
		kick[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		used[i] = 0;
		ring_setup(*vdev, i);
		ck_assert_int_eq((*vdev)->ops->queue_start(*vdev, i, kick[i]), 0);
	}
	rq_start(FUSE_INIT, 0);
	rq_put(&in, sizeof(in));
	((struct fuse_in_header *)q.buf)->len = (uint32_t)q.len;
	ring_request(*vdev, kick, 1, q.buf, (uint32_t)q.len, 4096, &used[1]);
	ck_assert_int_eq(((struct fuse_out_header *)reply)->error, 0);
	return f;
}

/*
 * A request that waits inside the server for as long as the test wants: a READ whose data
 * buffer is a page of guest memory that userfaultfd holds back. The worker's preadv() then
 * waits in the kernel for the page, as it would for a slow disk or a file on a hung network
 * file system, until stall_end().
 */
struct stall {
	int uffd;
	void *page;
};

/* Hold back the page at guest address a (4 KiB aligned). False where userfaultfd is not ours. */
static bool stall_begin(struct stall *st, uint64_t a)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;

	st->page = gpa(a, 4096);
	st->uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (st->uffd < 0)
		return false;
	ck_assert_int_eq(ioctl(st->uffd, UFFDIO_API, &api), 0);
	/* the page must be missing for the fault to be ours */
	ck_assert_int_eq(madvise(st->page, 4096, MADV_NOHUGEPAGE), 0);
	ck_assert_int_eq(madvise(st->page, 4096, MADV_DONTNEED), 0);
	reg = (struct uffdio_register){ .range = { (uintptr_t)st->page, 4096 },
					.mode = UFFDIO_REGISTER_MODE_MISSING };
	ck_assert_int_eq(ioctl(st->uffd, UFFDIO_REGISTER, &reg), 0);
	return true;
}

/* Wait (bounded) until a thread waits for the page: it is inside its host call. */
static void stall_wait(struct stall *st)
{
	struct pollfd p = { .fd = st->uffd, .events = POLLIN };
	struct uffd_msg m;

	ck_assert_msg(poll(&p, 1, 5000) == 1, "no worker reached the held-back page");
	ck_assert_int_eq(read(st->uffd, &m, sizeof(m)), (ssize_t)sizeof(m));
	ck_assert_uint_eq(m.event, UFFD_EVENT_PAGEFAULT);
}

/* Let the waiting thread go on: without userfaultfd the page is an ordinary one. */
static void stall_end(struct stall *st)
{
	close(st->uffd);
	st->uffd = -1;
}

/*
 * A chain of segs (gpa, len; writable from the first with write set) at descriptor head of
 * queue qi, made available without waiting for its answer, and kicked as a driver would:
 * only when the device has notifications on (and kick set).
 */
static void post_kick(int *kick, unsigned int qi, uint16_t head, const uint64_t (*segs)[3],
		      unsigned int n, bool do_kick)
{
	uint64_t desc = 0x10000ull * (qi + 1);
	struct vring_desc *t = gpa(desc, 16 * QSIZE);
	struct vring_avail *av = gpa(desc + 16 * QSIZE, 6 + 2 * QSIZE);
	uint16_t idx = le16toh(av->idx);

	for (unsigned int i = 0; i < n; i++) {
		uint16_t flags = (uint16_t)((segs[i][2] ? VRING_DESC_F_WRITE : 0) |
					    (i + 1 < n ? VRING_DESC_F_NEXT : 0));

		t[head + i] =
			(struct vring_desc){ htole64(segs[i][0]), htole32((uint32_t)segs[i][1]),
					     htole16(flags), htole16((uint16_t)(head + i + 1)) };
	}
	av->ring[idx % QSIZE] = htole16(head);
	__atomic_store_n(&av->idx, htole16((uint16_t)(idx + 1)), __ATOMIC_SEQ_CST);
	/* the driver's side of virtq_set_notify()'s barrier */
	if (do_kick &&
	    !(le16toh(__atomic_load_n(&((struct vring_used *)gpa(desc + 0x1000, 4))->flags,
				      __ATOMIC_SEQ_CST)) &
	      VRING_USED_F_NO_NOTIFY))
		ck_assert_int_eq(eventfd_write(kick[qi], 1), 0);
}

static void post(int *kick, unsigned int qi, uint16_t head, const uint64_t (*segs)[3],
		 unsigned int n)
{
	post_kick(kick, qi, head, segs, n, true);
}

static uint16_t used_idx(unsigned int qi)
{
	struct vring_used *u = gpa(0x10000ull * (qi + 1) + 0x1000, 6 + 8 * QSIZE);

	return le16toh(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE));
}

/* Wait up to ms for queue qi's used index to reach want; whether it did. */
static bool wait_used(unsigned int qi, uint16_t want, int ms)
{
	for (int i = 0; i < ms; i++) {
		if ((uint16_t)(used_idx(qi) - want) < 0x8000)
			return true;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return (uint16_t)(used_idx(qi) - want) < 0x8000;
}

/* The used element n of queue qi: its head and length. */
static void used_elem(unsigned int qi, uint16_t n, uint32_t *id, uint32_t *len)
{
	struct vring_used *u = gpa(0x10000ull * (qi + 1) + 0x1000, 6 + 8 * QSIZE);

	*id = le32toh(u->ring[n % QSIZE].id);
	*len = le32toh(u->ring[n % QSIZE].len);
}

/* Over the ring: LOOKUP name below the root and OPEN it for reading; its fh. */
static uint64_t ring_open(struct virtio_device *vdev, int *kick, uint16_t *used, const char *name,
			  uint64_t *nodeid)
{
	struct fuse_entry_out e;
	struct fuse_open_in oi = { .flags = O_RDONLY };

	rq_start(FUSE_LOOKUP, FUSE_ROOT_ID);
	rq_str(name);
	((struct fuse_in_header *)q.buf)->len = (uint32_t)q.len;
	ck_assert_uint_eq(ring_request(vdev, kick, 1, q.buf, (uint32_t)q.len, 4096, &used[1]),
			  16 + sizeof(e));
	memcpy(&e, payload(), sizeof(e));
	*nodeid = e.nodeid;
	rq_start(FUSE_OPEN, e.nodeid);
	rq_put(&oi, sizeof(oi));
	((struct fuse_in_header *)q.buf)->len = (uint32_t)q.len;
	ck_assert_uint_eq(ring_request(vdev, kick, 1, q.buf, (uint32_t)q.len, 4096, &used[1]),
			  16 + sizeof(struct fuse_open_out));
	return ((struct fuse_open_out *)payload())->fh;
}

/* --stats counts a share's requests and kicks per queue, as it does a disk's. */
START_TEST(test_stats_count_requests)
{
	struct virtio_device *vdev;
	int kick[FS_NUM_QUEUES];
	uint16_t used[FS_NUM_QUEUES];
	struct fs_device *f = device_up(&vdev, kick, used);
	struct virtio_slot slot = { .kind = &virtio_fs_kind, .state = f };
	uint64_t kicks0, requests0, kicks, requests, nodeid;

	ck_assert_ptr_nonnull(virtio_fs_kind.queue_counters);
	virtio_fs_kind.queue_counters(&slot, 1, &kicks0, &requests0);
	ck_assert_uint_ge(requests0, 1); /* device_up's FUSE_INIT */
	ring_open(vdev, kick, used, "hello.txt", &nodeid);
	virtio_fs_kind.queue_counters(&slot, 1, &kicks, &requests);
	ck_assert_uint_eq(requests, requests0 + 2);
	ck_assert_uint_gt(kicks, kicks0);
	virtio_fs_kind.queue_counters(&slot, 0, &kicks, &requests);
	ck_assert_uint_eq(requests, 0);
	device_down(f, kick);
}
END_TEST

#define STALL_GPA 0x300000ull /* the held-back page */
#define STALL_REQ 0x2f0000ull /* the READ's request and its reply header */

/* Queue a READ of fh whose data lands in the held-back page, at descriptor head. */
static void post_stalled_read_kick(int *kick, uint16_t head, uint64_t nodeid, uint64_t fh,
				   bool do_kick)
{
	struct fuse_read_in ri = { .fh = fh, .offset = 0, .size = 4096 };
	const uint64_t segs[3][3] = { { STALL_REQ, 0, 0 },
				      { STALL_REQ + 0x1000, sizeof(struct fuse_out_header), 1 },
				      { STALL_GPA, 4096, 1 } };
	uint64_t s0[3][3];

	rq_start(FUSE_READ, nodeid);
	rq_put(&ri, sizeof(ri));
	((struct fuse_in_header *)q.buf)->len = (uint32_t)q.len;
	memcpy(gpa(STALL_REQ, q.len), q.buf, q.len);
	memcpy(s0, segs, sizeof(s0));
	s0[0][1] = q.len;
	post_kick(kick, 1, head, (const uint64_t(*)[3])s0, 3, do_kick);
}

static void post_stalled_read(int *kick, uint16_t head, uint64_t nodeid, uint64_t fh)
{
	post_stalled_read_kick(kick, head, nodeid, fh, true);
}

/*
 * One request waiting in the host must not hold up the others: while a READ waits inside
 * the server, a GETATTR of another file and a LOOKUP on the same queue are answered, and a
 * FORGET on the hiprio queue is taken. The READ's answer follows once it can go on.
 */
START_TEST(test_waiting_request_does_not_stall_others)
{
	struct virtio_device *vdev;
	int kick[FS_NUM_QUEUES];
	uint16_t used[FS_NUM_QUEUES];
	struct fs_device *f = device_up(&vdev, kick, used);
	uint64_t hello, fh, sub;
	struct stall st;
	uint32_t id, len;
	uint64_t segs[2][3];

	fh = ring_open(vdev, kick, used, "hello.txt", &hello);
	if (!stall_begin(&st, STALL_GPA)) {
		fprintf(stderr,
			"SKIP: userfaultfd: %s: cannot hold a request inside the server; "
			"not tested\n",
			strerror(errno));
		goto out;
	}
	post_stalled_read(kick, 10, hello, fh);
	stall_wait(&st);
	/* the READ is inside preadv(), in the server: now a GETATTR of the root */
	rq_start(FUSE_GETATTR, FUSE_ROOT_ID);
	rq_put(&(struct fuse_getattr_in){ 0 }, sizeof(struct fuse_getattr_in));
	((struct fuse_in_header *)q.buf)->len = (uint32_t)q.len;
	memcpy(gpa(0x200000, q.len), q.buf, q.len);
	segs[0][0] = 0x200000, segs[0][1] = q.len, segs[0][2] = 0;
	segs[1][0] = 0x201000, segs[1][1] = 4096, segs[1][2] = 1;
	post(kick, 1, 20, (const uint64_t(*)[3])segs, 2);
	ck_assert_msg(wait_used(1, (uint16_t)(used[1] + 1), 3000),
		      "a GETATTR waited behind a READ stuck in the host");
	used_elem(1, used[1], &id, &len);
	ck_assert_uint_eq(id, 20);
	ck_assert_uint_eq(len, 16 + sizeof(struct fuse_attr_out));
	ck_assert_int_eq(((struct fuse_out_header *)gpa(0x201000, 16))->error, 0);
	used[1]++;
	/* a LOOKUP of another file, and a FORGET on hiprio, go through too */
	rq_start(FUSE_LOOKUP, FUSE_ROOT_ID);
	rq_str("sub");
	((struct fuse_in_header *)q.buf)->len = (uint32_t)q.len;
	memcpy(gpa(0x210000, q.len), q.buf, q.len);
	segs[0][0] = 0x210000, segs[0][1] = q.len;
	segs[1][0] = 0x211000;
	post(kick, 1, 30, (const uint64_t(*)[3])segs, 2);
	ck_assert_msg(wait_used(1, (uint16_t)(used[1] + 1), 3000),
		      "a LOOKUP waited behind a READ stuck in the host");
	used_elem(1, used[1], &id, &len);
	ck_assert_uint_eq(id, 30);
	ck_assert_int_eq(((struct fuse_out_header *)gpa(0x211000, 16))->error, 0);
	sub = ((struct fuse_entry_out *)gpa(0x211000 + 16, sizeof(struct fuse_entry_out)))->nodeid;
	used[1]++;
	ck_assert_uint_eq(fs_server_nodes(f->server), 3);
	rq_start(FUSE_FORGET, sub);
	rq_put(&(struct fuse_forget_in){ 1 }, sizeof(struct fuse_forget_in));
	((struct fuse_in_header *)q.buf)->len = (uint32_t)q.len;
	ck_assert_uint_eq(ring_request(vdev, kick, 0, q.buf, (uint32_t)q.len, 0, &used[0]), 0);
	ck_assert_uint_eq(fs_server_nodes(f->server), 2);
	/* the READ has not been answered yet; once the page comes, it is */
	ck_assert_uint_eq(used_idx(1), used[1]);
	stall_end(&st);
	ck_assert(wait_used(1, (uint16_t)(used[1] + 1), 5000));
	used_elem(1, used[1], &id, &len);
	ck_assert_uint_eq(id, 10);
	ck_assert_uint_eq(len, 16 + 5);
	ck_assert_int_eq(memcmp(gpa(STALL_GPA, 5), "hello", 5), 0);
	used[1]++;

	/*
	 * Both at once behind one kick, the READ first: whichever worker takes the READ and
	 * waits must leave the GETATTR to another.
	 */
	ck_assert(stall_begin(&st, STALL_GPA));
	post_stalled_read_kick(kick, 10, hello, fh, false);
	rq_start(FUSE_GETATTR, FUSE_ROOT_ID);
	rq_put(&(struct fuse_getattr_in){ 0 }, sizeof(struct fuse_getattr_in));
	((struct fuse_in_header *)q.buf)->len = (uint32_t)q.len;
	memcpy(gpa(0x200000, q.len), q.buf, q.len);
	segs[0][0] = 0x200000, segs[0][1] = q.len, segs[0][2] = 0;
	segs[1][0] = 0x201000, segs[1][1] = 4096, segs[1][2] = 1;
	post(kick, 1, 20, (const uint64_t(*)[3])segs, 2);
	stall_wait(&st);
	ck_assert_msg(wait_used(1, (uint16_t)(used[1] + 1), 3000),
		      "a GETATTR queued behind a READ waited for it");
	used_elem(1, used[1], &id, &len);
	ck_assert_uint_eq(id, 20);
	used[1]++;
	stall_end(&st);
	ck_assert(wait_used(1, (uint16_t)(used[1] + 1), 5000));
	used_elem(1, used[1], &id, &len);
	ck_assert_uint_eq(id, 10);
	ck_assert_uint_eq(len, 16 + 5);
	used[1]++;
	ck_assert_int_eq(__atomic_load_n(&needs_reset, __ATOMIC_SEQ_CST), 0);
out:
	device_down(f, kick);
}
END_TEST

/*
 * A worker stuck in a host call (here: a READ waiting for a page of guest memory) must not
 * hold up a device reset or the VMM's exit for ever: both give up after a bounded wait,
 * the stuck worker never writes into the ring afterwards, and once it comes back it parks
 * and can be joined.
 */
START_TEST(test_stuck_worker_bounds_reset_and_teardown)
{
	struct virtio_device *vdev;
	int kick[FS_NUM_QUEUES];
	uint16_t used[FS_NUM_QUEUES];
	struct fs_device *f = device_up(&vdev, kick, used);
	struct fuse_init_in in = { .major = 7, .minor = 38 };
	uint64_t fh, node;
	struct stall st;
	double t0, took;

	/* reset */
	fh = ring_open(vdev, kick, used, "hello.txt", &node);
	if (!stall_begin(&st, STALL_GPA)) {
		fprintf(stderr,
			"SKIP: userfaultfd: %s: cannot hold a worker in the host; not tested\n",
			strerror(errno));
		fs_device_destroy(f);
		goto out;
	}
	post_stalled_read(kick, 10, node, fh);
	stall_wait(&st);
	t0 = now_s();
	vdev->ops->reset(vdev);
	took = now_s() - t0;
	ck_assert_msg(took < 5.0, "reset took %.1f s", took);
	/* the stuck READ still holds its handle: closed once it is done, not under it */
	stall_end(&st);
	nanosleep(&(struct timespec){ 0, 200000000 }, NULL);
	/* the late answer is dropped: the ring belongs to the next driver */
	ck_assert_uint_eq(used_idx(1), used[1]);
	ck_assert_uint_eq(fs_server_handles(f->server), 0);

	/* the queue starts again once the worker has parked */
	ring_setup(vdev, 1);
	ck_assert_int_eq(vdev->ops->queue_start(vdev, 1, kick[1]), 0);
	used[1] = 0;
	rq_start(FUSE_INIT, 0);
	rq_put(&in, sizeof(in));
	((struct fuse_in_header *)q.buf)->len = (uint32_t)q.len;
	ring_request(vdev, kick, 1, q.buf, (uint32_t)q.len, 4096, &used[1]);
	ck_assert_int_eq(((struct fuse_out_header *)reply)->error, 0);
	fh = ring_open(vdev, kick, used, "hello.txt", &node);
	ck_assert(stall_begin(&st, STALL_GPA));
	post_stalled_read(kick, 10, node, fh);
	stall_wait(&st);
	/* teardown: gives up on the stuck worker, and a second call finishes the job */
	t0 = now_s();
	fs_device_destroy(f);
	took = now_s() - t0;
	ck_assert_msg(took < 8.0, "teardown took %.1f s", took);
	ck_assert_ptr_nonnull(f->server);
	stall_end(&st);
out:
	device_down(f, kick);
}
END_TEST

/* Threads of this process; Seccomp: of each of them must be 2 when filters is set. */
static unsigned int threads(bool filters)
{
	char path[300], line[128];
	unsigned int n = 0;
	struct dirent *d;
	DIR *dir = opendir("/proc/self/task");

	ck_assert_ptr_nonnull(dir);
	while ((d = readdir(dir))) {
		FILE *f;
		int mode = -1;

		if (d->d_name[0] == '.')
			continue;
		n++;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", d->d_name);
		f = fopen(path, "re");
		if (!f)
			continue; /* gone meanwhile */
		while (fgets(line, sizeof(line), f))
			sscanf(line, "Seccomp: %d", &mode);
		fclose(f);
		/* the test's own thread has none: only the workers load theirs */
		if (filters && (pid_t)strtol(d->d_name, NULL, 10) != getpid())
			ck_assert_msg(mode == 2, "thread %s: Seccomp %d", d->d_name, mode);
	}
	closedir(dir);
	return n;
}

/*
 * Set-up makes no thread (one made then would keep the privileges the VMM drops later);
 * start makes the workers, and each has loaded its seccomp list by the time it returns.
 */
START_TEST(test_workers_start_fenced)
{
	struct fs_share_options o = { .readonly = false };
	static struct fs_device *f; /* reachable: the workers outlive the test */
	struct virtio_device *vdev;

	f = calloc(1, sizeof(*f));
	make_share();
	snprintf(o.dir, sizeof(o.dir), "%s", share);
	snprintf(o.tag, sizeof(o.tag), "hosttag");
	ck_assert_int_eq(guest_mem_alloc(&mem, 4ull << 20), 0);
	ck_assert_uint_eq(threads(false), 1);
	ck_assert_msg(fs_device_init(f, &vdev, &o, &mem, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(threads(false), 1);
	vdev->transport = &transport;
	/* the process is a forked test case: its filters end with it */
	ck_assert_int_eq(vmm_seccomp_init(VMM_SECCOMP_ON, NULL), 0);
	ck_assert_msg(fs_device_start(f, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(threads(true), 1 + FS_WORKERS);
	/*
	 * Not destroyed: a sanitizer's thread exit makes calls the list does not allow.
	 * The forked test process ends with its workers parked.
	 */
	rm_tree(base);
}
END_TEST

/* The kicks a transport would list for its device threads, as virtio-pci does. */
static int fenced_kick[FS_NUM_QUEUES];

static void t_seccomp_fds(struct virtio_device *v, struct vmm_seccomp_fds *fds)
{
	(void)v;
	for (unsigned int i = 0; i < FS_NUM_QUEUES; i++)
		vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_EVENT, fenced_kick[i]);
}

static const struct virtio_transport_ops fenced_transport = {
	.notify_queue = t_notify,
	.needs_reset = t_needs_reset,
	.seccomp_fds = t_seccomp_fds,
};

struct as_vcpu {
	struct fs_device *f;
	struct virtio_device *vdev;
	int step; /* 1: start the queues; 3: reset; answered with the next number */
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static void as_vcpu_step(struct as_vcpu *v, int from)
{
	pthread_mutex_lock(&v->lock);
	v->step = from;
	pthread_cond_broadcast(&v->cond);
	while (v->step == from)
		pthread_cond_wait(&v->cond, &v->lock);
	pthread_mutex_unlock(&v->lock);
}

/* A thread under a vCPU's list: what a vCPU does to the device when the driver says so. */
static void *as_vcpu_thread(void *arg)
{
	struct as_vcpu *v = arg;
	struct vmm_seccomp_fds fds = { 0 };
	char why[256];
	int ok;

	fs_seccomp_fds(v->f, &fds);
	ok = vmm_seccomp_install(VMM_SECCOMP_VCPU, &fds, why, sizeof(why)) == 0;
	pthread_mutex_lock(&v->lock);
	for (;;) {
		while (v->step != 1 && v->step != 3)
			pthread_cond_wait(&v->cond, &v->lock);
		if (!ok) {
			v->step = -1;
		} else if (v->step == 1) {
			for (unsigned int i = 0; i < FS_NUM_QUEUES; i++)
				if (v->vdev->ops->queue_start(v->vdev, i, fenced_kick[i]))
					v->step = -1;
			if (v->step == 1)
				v->step = 2;
		} else {
			v->vdev->ops->reset(v->vdev);
			v->step = 4;
		}
		pthread_cond_broadcast(&v->cond);
	}
	return NULL; /* never: a sanitizer's thread exit is not on the list */
}

/*
 * The device under the VMM's seccomp lists: the workers serve under theirs (a chain with
 * another behind it makes one wake a second), and a thread under a vCPU's starts and resets
 * the queues. A call either list does not allow kills the test process.
 */
START_TEST(test_device_under_seccomp)
{
	struct fs_share_options o = { .readonly = false };
	static struct fs_device *f; /* reachable: the workers outlive the test */
	static struct as_vcpu v = { .lock = PTHREAD_MUTEX_INITIALIZER,
				    .cond = PTHREAD_COND_INITIALIZER };
	struct fuse_init_in in = { .major = 7, .minor = 38 };
	struct virtio_device *vd;
	uint16_t used[FS_NUM_QUEUES] = { 0 };
	uint64_t segs[2][3];
	pthread_t t;

	f = calloc(1, sizeof(*f));
	ck_assert_ptr_nonnull(f);
	make_share();
	snprintf(o.dir, sizeof(o.dir), "%s", share);
	snprintf(o.tag, sizeof(o.tag), "hosttag");
	ck_assert_int_eq(guest_mem_alloc(&mem, 4ull << 20), 0);
	ck_assert_msg(fs_device_init(f, &vd, &o, &mem, err, sizeof(err)) == 0, "%s", err);
	vd->transport = &fenced_transport;
	vd->transport_irq_fd = -1;
	for (unsigned int i = 0; i < FS_NUM_QUEUES; i++) {
		fenced_kick[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ck_assert_int_ge(fenced_kick[i], 0);
		ring_setup(vd, i);
	}
	ck_assert_int_eq(vmm_seccomp_init(VMM_SECCOMP_ON, NULL), 0);
	ck_assert_msg(fs_device_start(f, err, sizeof(err)) == 0, "%s", err);
	v.f = f;
	v.vdev = vd;
	ck_assert_int_eq(pthread_create(&t, NULL, as_vcpu_thread, &v), 0);
	as_vcpu_step(&v, 1);
	ck_assert_int_eq(v.step, 2);
	rq_start(FUSE_INIT, 0);
	rq_put(&in, sizeof(in));
	((struct fuse_in_header *)q.buf)->len = (uint32_t)q.len;
	ring_request(vd, fenced_kick, 1, q.buf, (uint32_t)q.len, 4096, &used[1]);
	ck_assert_int_eq(((struct fuse_out_header *)reply)->error, 0);
	/* two GETATTRs behind one kick */
	rq_start(FUSE_GETATTR, FUSE_ROOT_ID);
	rq_put(&(struct fuse_getattr_in){ 0 }, sizeof(struct fuse_getattr_in));
	((struct fuse_in_header *)q.buf)->len = (uint32_t)q.len;
	for (unsigned int k = 0; k < 2; k++) {
		memcpy(gpa(0x200000 + 0x2000 * k, q.len), q.buf, q.len);
		segs[0][0] = 0x200000 + 0x2000 * k, segs[0][1] = q.len, segs[0][2] = 0;
		segs[1][0] = 0x201000 + 0x2000 * k, segs[1][1] = 4096, segs[1][2] = 1;
		post_kick(fenced_kick, 1, (uint16_t)(20 + 2 * k), (const uint64_t(*)[3])segs, 2,
			  k == 1);
	}
	ck_assert(wait_used(1, (uint16_t)(used[1] + 2), 5000));
	as_vcpu_step(&v, 3);
	ck_assert_int_eq(v.step, 4);
	ck_assert_int_eq(__atomic_load_n(&needs_reset, __ATOMIC_SEQ_CST), 0);
	/* not destroyed, as above: the forked test process ends with its workers parked */
	rm_tree(base);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("virtio-fs");
	TCase *tc = tcase_create("fs");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_init_negotiates);
	tcase_add_test(tc, test_lookup_and_forget);
	tcase_add_test(tc, test_cache_modes);
	tcase_add_test(tc, test_forged_node_ids);
	tcase_add_test(tc, test_batch_forget);
	tcase_add_test(tc, test_bad_names);
	tcase_add_test(tc, test_symlink_outside_is_never_followed);
	tcase_add_test(tc, test_create_write_read);
	tcase_add_test(tc, test_write_lengths);
	tcase_add_test(tc, test_read_into_one_segment_per_page);
	tcase_add_test(tc, test_stats_count_requests);
	tcase_add_test(tc, test_directory_ops);
	tcase_add_test(tc, test_readdir_continues);
	tcase_add_test(tc, test_statfs_access_xattr);
	tcase_add_test(tc, test_malformed_lengths);
	tcase_add_test(tc, test_readonly_refuses_changes);
	tcase_add_test(tc, test_reset_forgets_everything);
	tcase_add_test(tc, test_concurrent_lookup_forget);
	tcase_add_test(tc, test_device_over_virtqueues);
	tcase_add_test(tc, test_workers_start_fenced);
	tcase_add_test(tc, test_device_under_seccomp);
	tcase_add_test(tc, test_nodes_are_bounded);
	tcase_add_test(tc, test_landlock_confines_the_worker);
	tcase_add_test(tc, test_landlock_readonly_share);
	suite_add_tcase(s, tc);
	/* a server that blocks fails these instead of hanging */
	tc = tcase_create("blocking");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_fifo_is_never_opened);
	tcase_add_test(tc, test_stuck_worker_bounds_reset_and_teardown);
	tcase_add_test(tc, test_waiting_request_does_not_stall_others);
	suite_add_tcase(s, tc);
	return s;
}
