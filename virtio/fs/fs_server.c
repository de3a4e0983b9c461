// SPDX-License-Identifier: MIT
/*
 * The FUSE file server for one host directory (FUSE protocol 7.x as in <linux/fuse.h>):
 * what virtio-fs (virtio/fs/fs.c) hands each descriptor chain to.
 *
 * Why not libfuse's low-level API (fuse_session_custom_io + fuse_session_process_buf):
 * its request decoder is written for /dev/fuse, where the kernel is the trusted peer. It
 * never compares a request's argument structures or in.len with the bytes it received,
 * takes names with strlen() from wherever they start, hands WRITE's size field to the
 * file system unchecked, and walks BATCH_FORGET's count without a bound. Here the peer
 * is the guest, so every one of those would have to be checked before libfuse saw the
 * request: that is the whole decoder again. It also refuses a second FUSE_INIT on a
 * session (a guest that remounts after a device reset) and replies through one writev
 * callback per session, not per request. So the subset Linux's virtiofs uses is decoded
 * here, with every length checked against what the chain holds.
 *
 * How a request travels: the queue thread pops a chain; fs_server_handle() copies the
 * header and arguments (not WRITE's data) out of guest memory once, so nothing the guest
 * changes afterwards is seen; it checks in.len against the chain and each argument
 * structure against in.len; the handler works on descriptors only (never on host path
 * strings built from guest names); the reply is built in a buffer and copied into the
 * chain's writable buffers, except READ, whose data goes straight into them (preadv), as
 * WRITE's comes straight out of the readable ones (pwritev).
 */
#include "virtio/fs/fs_server_internal.h"
#include "virtio/iov.h"

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/landlock.h>

_Static_assert(sizeof(struct fuse_in_header) == 40, "fuse_in_header");
_Static_assert(sizeof(struct fuse_out_header) == 16, "fuse_out_header");

/* ------------------------------------------------------------------------------------ */
/* Request decoding */

void *fs_out_buf(struct fs_req *r, size_t len)
{
	r->out_len = len;
	memset(r->out, 0, len);
	return r->out;
}

/* The fixed argument structure at the start of the arguments, or NULL if too short. */
const void *fs_arg_struct(struct fs_req *r, size_t size, size_t *pos)
{
	if (r->arglen < size)
		return NULL;
	*pos = size;
	return r->arg;
}

/*
 * For a request whose fixed argument structure names an open handle (its fh field, at
 * fh_offset): the argument, with the handle in *h. NULL when it does not: *err is then
 * -EINVAL for a short argument, -EBADF when fh is no open handle of that kind (dir).
 */
const void *fs_arg_handle(struct fs_req *r, size_t size, size_t fh_offset, bool dir,
			  struct fs_handle **h, int *err)
{
	const uint8_t *in;
	uint64_t fh;
	size_t pos;

	in = fs_arg_struct(r, size, &pos);
	if (!in || size < sizeof(fh) || fh_offset > size - sizeof(fh)) {
		*err = -EINVAL;
		return NULL;
	}
	memcpy(&fh, in + fh_offset, sizeof(fh));
	*h = fs_req_handle(r, fh, dir);
	if (!*h) {
		*err = -EBADF;
		return NULL;
	}
	return in;
}

/*
 * A NUL-terminated string at *pos inside the arguments; the NUL must be there. For a
 * name: one path component (component = true).
 */
int fs_take_string(struct fs_req *r, size_t *pos, const char **str, bool component)
{
	const char *p, *nul;
	size_t len;

	if (*pos > r->arglen)
		return -EINVAL;
	p = (const char *)r->arg + *pos;
	nul = memchr(p, '\0', r->arglen - *pos);
	if (!nul)
		return -EINVAL;
	len = (size_t)(nul - p);
	if (len == 0)
		return component ? -EINVAL : -ENOENT;
	if (len > (component ? NAME_MAX : PATH_MAX - 1))
		return -ENAMETOOLONG;
	if (component && (memchr(p, '/', len) || !strcmp(p, ".") || !strcmp(p, "..")))
		return -EINVAL;
	*str = p;
	*pos += len + 1;
	return 0;
}

/*
 * The live node id, held until the request is answered, or NULL (the guest never got that
 * ID, or forgot it).
 */
struct fs_node *fs_req_node_id(struct fs_req *r, uint64_t id)
{
	struct fs_node *n;

	if (r->nheld == FS_REQ_NODES)
		return NULL; /* no opcode names more: a handler bug, not the guest's */
	n = fs_node_hold(r->s, id);
	if (n)
		r->held[r->nheld++] = n;
	return n;
}

struct fs_node *fs_req_node(struct fs_req *r)
{
	return fs_req_node_id(r, r->in.nodeid);
}

/* The open handle fh of that kind, held until the request is answered, or NULL. */
struct fs_handle *fs_req_handle(struct fs_req *r, uint64_t fh, bool dir)
{
	struct fs_handle *h;

	if (r->held_handle)
		return NULL; /* one per request */
	h = fs_handle_hold(r->s, fh, dir);
	r->held_handle = h;
	return h;
}

static void req_put(struct fs_req *r)
{
	for (unsigned int i = 0; i < r->nheld; i++)
		fs_node_put(r->s, r->held[i]);
	r->nheld = 0;
	if (r->held_handle)
		fs_handle_put(r->s, r->held_handle);
	r->held_handle = NULL;
}

/* What the server knows about one FUSE opcode: the one table for every question about it. */
struct fs_op {
	int (*run)(struct fs_req *r);
	uint32_t reply_min; /* smallest reply payload it needs, checked before it runs */
	bool no_reply;	    /* the driver expects no answer: it needs no writable room */
	bool before_init;   /* accepted (and not answered) before FUSE_INIT */
};

/*
 * A request runs to its end once taken (no host call here is made to wait for the guest),
 * so there is nothing to interrupt.
 */
static int op_interrupt(struct fs_req *r)
{
	(void)r;
	return FS_NO_REPLY;
}

static int op_setxattr(struct fs_req *r)
{
	return r->s->readonly ? -EROFS : -ENOSYS;
}

/* Opcodes not here (GETXATTR, LISTXATTR, locks, ioctl, poll, DAX setup, ...): ENOSYS. */
static const struct fs_op fs_ops[] = {
	[FUSE_INIT] = { fs_op_init, sizeof(struct fuse_init_out) },
	[FUSE_DESTROY] = { fs_op_destroy },
	[FUSE_LOOKUP] = { fs_op_lookup, sizeof(struct fuse_entry_out) },
	[FUSE_FORGET] = { fs_op_forget, 0, true, true },
	[FUSE_BATCH_FORGET] = { fs_op_batch_forget, 0, true, true },
	[FUSE_INTERRUPT] = { op_interrupt, 0, true },
	[FUSE_GETATTR] = { fs_op_getattr, sizeof(struct fuse_attr_out) },
	[FUSE_SETATTR] = { fs_op_setattr, sizeof(struct fuse_attr_out) },
	[FUSE_READLINK] = { fs_op_readlink },
	[FUSE_SYMLINK] = { fs_op_symlink, sizeof(struct fuse_entry_out) },
	[FUSE_MKNOD] = { fs_op_mknod, sizeof(struct fuse_entry_out) },
	[FUSE_MKDIR] = { fs_op_mkdir, sizeof(struct fuse_entry_out) },
	[FUSE_UNLINK] = { fs_op_unlink },
	[FUSE_RMDIR] = { fs_op_unlink },
	[FUSE_RENAME] = { fs_op_rename },
	[FUSE_RENAME2] = { fs_op_rename },
	[FUSE_LINK] = { fs_op_link, sizeof(struct fuse_entry_out) },
	[FUSE_OPEN] = { fs_op_open, sizeof(struct fuse_open_out) },
	[FUSE_CREATE] = { fs_op_create,
			  sizeof(struct fuse_entry_out) + sizeof(struct fuse_open_out) },
	[FUSE_READ] = { fs_op_read },
	[FUSE_WRITE] = { fs_op_write, sizeof(struct fuse_write_out) },
	[FUSE_STATFS] = { fs_op_statfs, sizeof(struct fuse_statfs_out) },
	[FUSE_RELEASE] = { fs_op_release },
	[FUSE_RELEASEDIR] = { fs_op_release },
	[FUSE_FSYNC] = { fs_op_fsync },
	[FUSE_FSYNCDIR] = { fs_op_fsync },
	[FUSE_FLUSH] = { fs_op_flush },
	[FUSE_OPENDIR] = { fs_op_opendir, sizeof(struct fuse_open_out) },
	[FUSE_READDIR] = { fs_op_readdir },
	[FUSE_READDIRPLUS] = { fs_op_readdir },
	[FUSE_ACCESS] = { fs_op_access },
	[FUSE_LSEEK] = { fs_op_lseek, sizeof(struct fuse_lseek_out) },
	[FUSE_FALLOCATE] = { fs_op_fallocate },
	[FUSE_SETXATTR] = { op_setxattr },
	[FUSE_REMOVEXATTR] = { op_setxattr },
};

static const struct fs_op *op_find(uint32_t opcode)
{
	static const struct fs_op none;

	if (opcode < sizeof(fs_ops) / sizeof(fs_ops[0]))
		return &fs_ops[opcode];
	return &none;
}

static int dispatch(struct fs_req *r, const struct fs_op *op)
{
	if (r->in.opcode != FUSE_INIT && !__atomic_load_n(&r->s->initialized, __ATOMIC_ACQUIRE))
		return op->before_init ? FS_NO_REPLY : -EIO;
	return op->run ? op->run(r) : -ENOSYS;
}

struct fs_scratch *fs_scratch_create(void)
{
	return malloc(sizeof(struct fs_scratch));
}

void fs_scratch_destroy(struct fs_scratch *b)
{
	free(b);
}

ssize_t fs_server_handle(struct fs_server *s, struct fs_scratch *b, const struct iovec *in,
			 unsigned int nin, const struct iovec *out, unsigned int nout)
{
	struct fs_req r = { .s = s,
			    .rd = in,
			    .nrd = nin,
			    .wr = out,
			    .nwr = nout,
			    .out = b->out,
			    .dents = b->dents };
	size_t rd_bytes = iov_size(in, nin), copy;
	struct fuse_out_header h = { 0 };
	const struct fs_op *op = NULL;
	int ret;

	r.wr_bytes = iov_size(out, nout);
	if (iov_to_buf(in, nin, 0, &r.in, sizeof(r.in)) < 0) {
		ret = -EINVAL;
	} else {
		h.unique = r.in.unique;
		op = op_find(r.in.opcode);
		if (r.in.len < sizeof(r.in) || r.in.len > rd_bytes) {
			ret = -EINVAL;
		} else if (r.in.len > FS_ARGS_MAX && r.in.opcode != FUSE_WRITE) {
			ret = -EINVAL;
		} else if (r.wr_bytes < sizeof(h) + op->reply_min && !op->no_reply) {
			ret = -EINVAL;
		} else {
			/* one copy of the arguments: the guest may rewrite its buffers meanwhile */
			copy = r.in.len < FS_ARGS_MAX ? r.in.len : FS_ARGS_MAX;
			/* cannot fail: copy <= in.len <= rd_bytes */
			iov_to_buf(in, nin, 0, b->args, copy);
			r.arg = b->args + sizeof(r.in);
			r.arglen = copy - sizeof(r.in);
			ret = dispatch(&r, op);
			req_put(&r);
		}
	}
	if (ret == FS_NO_REPLY)
		return 0;
	if (r.wr_bytes < sizeof(h))
		return -1;
	if (ret < 0) {
		h.error = ret;
		r.out_len = r.direct_len = 0;
	} else if (iov_from_buf(out, nout, sizeof(h), b->out, r.out_len) < 0) {
		/* a handler's reply larger than the room it was given: ours to report */
		h.error = -EIO;
		r.out_len = r.direct_len = 0;
	}
	h.len = (uint32_t)(sizeof(h) + r.out_len + r.direct_len);
	iov_from_buf(out, nout, 0, &h, sizeof(h)); /* wr_bytes >= sizeof(h) */
	return (ssize_t)h.len;
}

/* Windows of live servers; a size of 0 is a free entry. */
static pthread_mutex_t windows_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	unsigned int base, size;
} windows[FS_WINDOWS];

/*
 * Find s a window under the descriptor limit that no other server has: an eighth of the
 * limit (rounded down to a power of two) at most, above its first quarter, which is left
 * to the rest of the VMM; smaller when the larger ones are taken.
 */
static int window_take(struct fs_server *s, const char *dir, char *err, size_t errlen)
{
	unsigned int limit, top = 1, size;
	struct rlimit rl;
	int ret = -EMFILE;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		rl.rlim_cur = 1024;
	limit = rl.rlim_cur > (1u << 30) ? 1u << 30 : (unsigned int)rl.rlim_cur;
	while (top * 2 <= limit)
		top *= 2;
	size = top / 8 < FS_WINDOW_MAX ? top / 8 : FS_WINDOW_MAX;
	pthread_mutex_lock(&windows_lock);
	for (; ret && size >= FS_WINDOW_MIN; size /= 2) {
		for (unsigned int base = top / 4; ret && base + size <= limit; base += size) {
			int free_k = -1;
			bool overlap = false;

			for (int k = 0; k < FS_WINDOWS; k++) {
				if (!windows[k].size) {
					free_k = free_k < 0 ? k : free_k;
					continue;
				}
				if (base < windows[k].base + windows[k].size &&
				    windows[k].base < base + size)
					overlap = true;
			}
			if (overlap || free_k < 0)
				continue;
			windows[free_k].base = s->win_base = base;
			windows[free_k].size = s->win_size = size;
			ret = 0;
		}
	}
	pthread_mutex_unlock(&windows_lock);
	if (ret)
		snprintf(err, errlen,
			 "%s: the descriptor limit (%u, RLIMIT_NOFILE) leaves no room for this "
			 "share's files; raise it (ulimit -n)",
			 dir, limit);
	return ret;
}

static void window_give_back(const struct fs_server *s)
{
	pthread_mutex_lock(&windows_lock);
	for (int k = 0; k < FS_WINDOWS; k++)
		if (windows[k].size && windows[k].base == s->win_base)
			windows[k].size = 0;
	pthread_mutex_unlock(&windows_lock);
}

void fs_server_set_cache(struct fs_server *s, enum fs_cache cache)
{
	switch (cache) {
	case FS_CACHE_NEVER:
		s->timeout_s = 0;
		s->open_flags = FOPEN_DIRECT_IO;
		break;
	case FS_CACHE_ALWAYS:
		s->timeout_s = FS_TIMEOUT_ALWAYS_S;
		s->open_flags = FOPEN_KEEP_CACHE;
		break;
	default:
		s->timeout_s = FS_TIMEOUT_S;
		s->open_flags = 0;
		break;
	}
}

struct fs_server *fs_server_create(const char *dir, bool readonly, char *err, size_t errlen)
{
	struct fs_server *s = calloc(1, sizeof(*s));
	struct stat st;
	int fd;

	if (!s) {
		snprintf(err, errlen, "%s: out of memory", dir);
		return NULL;
	}
	s->root_fd = s->proc_fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	fs_server_set_cache(s, FS_CACHE_AUTO);
	if (window_take(s, dir, err, errlen)) {
		pthread_mutex_destroy(&s->lock);
		free(s);
		return NULL;
	}
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	s->root_fd = fd = fs_to_window(s, fd);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(-fd));
		goto fail;
	}
	fd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	s->proc_fd = fs_to_window(s, fd < 0 ? -errno : fd);
	if (s->proc_fd < 0) {
		snprintf(err, errlen, "%s: /proc/self/fd: %s (virtio-fs needs /proc)", dir,
			 strerror(-s->proc_fd));
		goto fail;
	}
	s->readonly = readonly;
	if (fs_nodes_grow(s)) {
		snprintf(err, errlen, "%s: out of memory", dir);
		goto fail;
	}
	/* fs_nodes_grow() keeps slots 0 and 1 off the free list: the root is node ID 1 */
	*fs_node_at(s, FS_ROOT_SLOT) = (struct fs_node){
		.fd = s->root_fd,
		.type = S_IFDIR,
		.dev = st.st_dev,
		.ino = st.st_ino,
		.nlookup = 1,
		.slot = FS_ROOT_SLOT,
	};
	s->buckets[fs_node_hash(st.st_dev, st.st_ino)] = FS_ROOT_SLOT;
	s->nodes_used = 1;
	return s;
fail:
	if (s->root_fd >= 0)
		close(s->root_fd);
	else if (fd >= 0)
		close(fd);
	if (s->proc_fd >= 0)
		close(s->proc_fd);
	window_give_back(s);
	fs_tables_free(s);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return NULL;
}

void fs_server_reset(struct fs_server *s)
{
	fs_forget_all(s);
	__atomic_store_n(&s->initialized, false, __ATOMIC_RELEASE);
}

void fs_server_destroy(struct fs_server *s)
{
	if (!s)
		return;
	fs_forget_all(s);
	close(s->root_fd);
	close(s->proc_fd);
	fs_tables_free(s);
	window_give_back(s);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void fs_server_window(const struct fs_server *s, unsigned int *base, unsigned int *size)
{
	*base = s->win_base;
	*size = s->win_size;
}

/* Rights of ABI versions newer than the headers this may be built with. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ull << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ull << 15)
#endif

int fs_server_confine(const struct fs_server *s)
{
	const uint64_t read = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
	struct landlock_ruleset_attr rs = { 0 };
	struct landlock_path_beneath_attr pb = { .parent_fd = s->root_fd };
	long abi;
	int fd, ret = 0;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0)
		return errno == ENOSYS || errno == EOPNOTSUPP ? 0 : -errno;
	/* every right the kernel knows is handled: what is not granted below is refused */
	rs.handled_access_fs = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | read |
			       LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
			       LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
			       LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
			       LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
			       LANDLOCK_ACCESS_FS_MAKE_SYM;
	if (abi >= 2)
		rs.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER; /* rename, link across dirs */
	if (abi >= 3)
		rs.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		rs.handled_access_fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	/* beneath the share: read-only, or everything but executing and making devices */
	pb.allowed_access =
		s->readonly ? read
			    : rs.handled_access_fs & ~(uint64_t)(LANDLOCK_ACCESS_FS_EXECUTE |
								 LANDLOCK_ACCESS_FS_MAKE_CHAR |
								 LANDLOCK_ACCESS_FS_MAKE_BLOCK |
								 LANDLOCK_ACCESS_FS_IOCTL_DEV);
	fd = (int)syscall(SYS_landlock_create_ruleset, &rs, sizeof(rs), 0);
	if (fd < 0)
		return -errno;
	if (syscall(SYS_landlock_add_rule, fd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_landlock_restrict_self, fd, 0) < 0)
		ret = -errno;
	close(fd);
	return ret ? ret : 1;
}

unsigned int fs_server_nodes(struct fs_server *s)
{
	unsigned int n;

	pthread_mutex_lock(&s->lock);
	n = s->nodes_used;
	pthread_mutex_unlock(&s->lock);
	return n;
}

unsigned int fs_server_handles(struct fs_server *s)
{
	unsigned int n;

	pthread_mutex_lock(&s->lock);
	n = s->handles_used;
	pthread_mutex_unlock(&s->lock);
	return n;
}
