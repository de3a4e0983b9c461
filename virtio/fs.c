// SPDX-License-Identifier: MIT
/*
 * virtio-fs: a FUSE file server for one host directory, and the virtio device that feeds
 * it descriptor chains (VIRTIO 1.2 section 5.11, FUSE protocol 7.x as in <linux/fuse.h>).
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
#include "virtio/fs.h"
#include "virtio/registry.h"
#include "vmm/seccomp.h"

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <time.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <linux/falloc.h>
#include <linux/fuse.h>
#include <linux/landlock.h>
#include <linux/openat2.h>
#include <linux/virtio_fs.h>
#include <linux/virtio_ids.h>

_Static_assert(sizeof(struct virtio_fs_config) == FS_CONFIG_SIZE, "virtio_fs_config");
_Static_assert(sizeof(struct fuse_in_header) == 40, "fuse_in_header");
_Static_assert(sizeof(struct fuse_out_header) == 16, "fuse_out_header");

#define FS_ROOT_SLOT 1 /* node ID 1 (FUSE_ROOT_ID) is slot 1, generation 0 */
/*
 * Every node the guest holds and every file it opens is a host descriptor, and the host
 * gives the whole process only RLIMIT_NOFILE of them: without a bound, one guest's
 * `find /mnt` would take every descriptor the VMM has (its other shares, user networking's
 * sockets) long before a million nodes. So each server owns a window of descriptor
 * numbers, [win_base, win_base + win_size), and its nodes and handles together never
 * exceed it: past that the guest gets ENFILE until it forgets some. The window is also
 * what the file server's seccomp list lets it name (vmm/seccomp.c). Its size is a power
 * of two, at most FS_WINDOW_MAX (a window costs the kernel 8 bytes per number in the
 * process's descriptor table), and at most an eighth of the limit, so that several shares
 * and the rest of the VMM fit under it.
 */
#define FS_WINDOW_MAX 16384u
#define FS_WINDOW_MIN 64u
#define FS_WINDOWS 16		  /* servers at once: one per --share */
#define FS_WANT_NOFILE (1u << 18) /* room for a dozen full windows above the first quarter */
#define FS_STOP_WAIT_S 2	  /* reset and teardown wait this long for a worker, no longer */
#define FS_ARGS_MAX 16384	  /* header + arguments copied out of a request */
#define FS_OUT_MAX (128u << 10)	  /* reply payloads built in our buffer (READDIR, ...) */
#define FS_HASH_BUCKETS 4096u
#define FS_TIMEOUT_S 1	/* entry and attribute validity: the host may change files too */
#define FS_NO_REPLY 1	/* handler result: nothing goes back (FORGET) */
#define FS_MINOR_MIN 12 /* oldest protocol whose argument layouts we decode */

struct fs_node {
	int fd; /* O_PATH, or -1 when the slot is free */
	uint32_t gen;
	mode_t type; /* S_IFMT bits: fixed for the inode's life */
	dev_t dev;
	ino_t ino;
	uint64_t nlookup;
	uint32_t hash_next; /* 0 ends the chain (slot 0 is never used) */
};

struct fs_handle {
	int fd; /* -1 when the slot is free */
	uint32_t gen;
	bool dir;
};

struct fs_server {
	int root_fd;
	int proc_fd; /* /proc/self/fd: reopening a node by its descriptor, relative to this */
	unsigned int win_base, win_size;
	bool readonly;
	bool initialized; /* FUSE_INIT answered */
	uint32_t minor;	  /* negotiated protocol minor */
	struct fs_node *nodes;
	uint32_t nnodes_cap, nodes_used;
	uint32_t free_nodes; /* first free slot, 0 if none */
	uint32_t buckets[FS_HASH_BUCKETS];
	struct fs_handle *handles;
	uint32_t nhandles_cap, handles_used;
	uint8_t args[FS_ARGS_MAX];
	uint8_t out[FS_OUT_MAX];
	uint8_t dents[32768];
};

/* One request being served. */
struct fs_req {
	struct fs_server *s;
	struct fuse_in_header in;
	const uint8_t *arg; /* in.len - header bytes, copied (WRITE: up to its data) */
	size_t arglen;
	const struct iovec *rd;
	unsigned int nrd;
	const struct iovec *wr;
	unsigned int nwr;
	size_t wr_bytes;
	size_t out_len;	   /* payload in s->out */
	size_t direct_len; /* payload already in the guest's buffers after the header */
};

/* ------------------------------------------------------------------------------------ */
/* Buffers */

static size_t iov_total(const struct iovec *iov, unsigned int n)
{
	size_t t = 0;

	for (unsigned int i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

static size_t iov_copy_from(void *dst, const struct iovec *iov, unsigned int n, size_t len)
{
	uint8_t *d = dst;
	size_t done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		size_t k = iov[i].iov_len < len - done ? iov[i].iov_len : len - done;

		memcpy(d + done, iov[i].iov_base, k);
		done += k;
	}
	return done;
}

static size_t iov_copy_to(const struct iovec *iov, unsigned int n, size_t off, const void *src,
			  size_t len)
{
	const uint8_t *p = src;
	size_t done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		size_t seg = iov[i].iov_len, k;

		if (off >= seg) {
			off -= seg;
			continue;
		}
		k = seg - off < len - done ? seg - off : len - done;
		memcpy((uint8_t *)iov[i].iov_base + off, p + done, k);
		done += k;
		off = 0;
	}
	return done;
}

/*
 * The bytes [off, off + len) of iov as at most max segments in out. Returns the count,
 * or -1 if they do not fit in max segments.
 */
static int iov_slice(const struct iovec *iov, unsigned int n, size_t off, size_t len,
		     struct iovec *out, unsigned int max)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < n && len; i++) {
		size_t seg = iov[i].iov_len, take;

		if (off >= seg) {
			off -= seg;
			continue;
		}
		if (k == max)
			return -1;
		take = seg - off < len ? seg - off : len;
		out[k].iov_base = (uint8_t *)iov[i].iov_base + off;
		out[k].iov_len = take;
		k++;
		len -= take;
		off = 0;
	}
	return (int)k;
}

/* ------------------------------------------------------------------------------------ */
/* Nodes and handles */

static uint32_t node_hash(dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ull ^ (uint64_t)dev;

	return (uint32_t)(h >> 32) % FS_HASH_BUCKETS;
}

static uint64_t node_id(const struct fs_server *s, uint32_t slot)
{
	return (uint64_t)s->nodes[slot].gen << 32 | slot;
}

/* The node the guest names, or NULL if it never got that ID (or forgot it). */
static struct fs_node *node_get(struct fs_server *s, uint64_t id)
{
	uint32_t slot = (uint32_t)id;

	if (slot == 0 || slot >= s->nnodes_cap || s->nodes[slot].fd < 0 ||
	    s->nodes[slot].gen != (uint32_t)(id >> 32))
		return NULL;
	return &s->nodes[slot];
}

static void node_unhash(struct fs_server *s, uint32_t slot)
{
	struct fs_node *n = &s->nodes[slot];
	uint32_t *link = &s->buckets[node_hash(n->dev, n->ino)];

	while (*link && *link != slot)
		link = &s->nodes[*link].hash_next;
	if (*link == slot)
		*link = n->hash_next;
	n->hash_next = 0;
}

static void node_free(struct fs_server *s, uint32_t slot)
{
	struct fs_node *n = &s->nodes[slot];

	node_unhash(s, slot);
	close(n->fd);
	n->fd = -1;
	n->gen++; /* an old ID for this slot never matches again */
	n->nlookup = 0;
	n->hash_next = s->free_nodes;
	s->free_nodes = slot;
	s->nodes_used--;
}

static int nodes_grow(struct fs_server *s)
{
	uint32_t cap = s->nnodes_cap ? s->nnodes_cap * 2 : 64;
	struct fs_node *n;

	if (s->nnodes_cap >= s->win_size)
		return -ENFILE;
	if (cap > s->win_size)
		cap = s->win_size;
	n = realloc(s->nodes, sizeof(*n) * cap);
	if (!n)
		return -ENOMEM;
	s->nodes = n;
	/* slot 0 is never handed out, so a zero node ID is never valid */
	for (uint32_t i = cap; i-- > (s->nnodes_cap ? s->nnodes_cap : 2);) {
		n[i] = (struct fs_node){ .fd = -1, .hash_next = s->free_nodes };
		s->free_nodes = i;
	}
	if (!s->nnodes_cap) {
		n[0] = (struct fs_node){ .fd = -1 };
		n[1] = (struct fs_node){ .fd = -1 };
	}
	s->nnodes_cap = cap;
	return 0;
}

/*
 * Take ownership of fd (an O_PATH descriptor with attributes st) as a node: the existing
 * node for the same inode gets one more lookup and fd is closed. Returns the slot or
 * -errno (fd closed).
 */
static int64_t node_add(struct fs_server *s, int fd, const struct stat *st)
{
	uint32_t b = node_hash(st->st_dev, st->st_ino), slot;
	struct fs_node *n;

	for (slot = s->buckets[b]; slot; slot = s->nodes[slot].hash_next) {
		n = &s->nodes[slot];
		if (n->dev == st->st_dev && n->ino == st->st_ino) {
			close(fd);
			n->nlookup++;
			return slot;
		}
	}
	if (!s->free_nodes) {
		int r = nodes_grow(s);

		if (r) {
			close(fd);
			return r;
		}
	}
	slot = s->free_nodes;
	n = &s->nodes[slot];
	s->free_nodes = n->hash_next;
	n->fd = fd;
	n->type = st->st_mode & S_IFMT;
	n->dev = st->st_dev;
	n->ino = st->st_ino;
	n->nlookup = 1;
	n->hash_next = s->buckets[b];
	s->buckets[b] = slot;
	s->nodes_used++;
	return slot;
}

static void node_forget(struct fs_server *s, uint64_t id, uint64_t count)
{
	struct fs_node *n = node_get(s, id);
	uint32_t slot = (uint32_t)id;

	if (!n || slot == FS_ROOT_SLOT)
		return;
	n->nlookup -= count < n->nlookup ? count : n->nlookup;
	if (n->nlookup == 0)
		node_free(s, slot);
}

static struct fs_handle *handle_get(struct fs_server *s, uint64_t fh, bool dir)
{
	uint32_t slot = (uint32_t)fh;

	if (slot >= s->nhandles_cap || s->handles[slot].fd < 0 ||
	    s->handles[slot].gen != (uint32_t)(fh >> 32) || s->handles[slot].dir != dir)
		return NULL;
	return &s->handles[slot];
}

/* Take ownership of fd as a handle. Returns the guest's fh, or -errno (fd closed). */
static int64_t handle_add(struct fs_server *s, int fd, bool dir)
{
	uint32_t slot;

	for (slot = 0; slot < s->nhandles_cap; slot++)
		if (s->handles[slot].fd < 0)
			break;
	if (slot == s->nhandles_cap) {
		uint32_t cap = s->nhandles_cap ? s->nhandles_cap * 2 : 16;
		struct fs_handle *h;

		if (s->nhandles_cap >= s->win_size) {
			close(fd);
			return -ENFILE;
		}
		h = realloc(s->handles, sizeof(*h) * cap);
		if (!h) {
			close(fd);
			return -ENOMEM;
		}
		for (uint32_t i = s->nhandles_cap; i < cap; i++)
			h[i] = (struct fs_handle){ .fd = -1 };
		s->handles = h;
		s->nhandles_cap = cap;
	}
	s->handles[slot].fd = fd;
	s->handles[slot].dir = dir;
	s->handles_used++;
	return (int64_t)((uint64_t)s->handles[slot].gen << 32 | slot) & INT64_MAX;
}

static void handle_close(struct fs_server *s, struct fs_handle *h)
{
	close(h->fd);
	h->fd = -1;
	h->gen = (h->gen + 1) & 0x7fffffff; /* keeps handle_add's result positive */
	s->handles_used--;
}

static void forget_all(struct fs_server *s)
{
	for (uint32_t i = 0; i < s->nhandles_cap; i++)
		if (s->handles[i].fd >= 0)
			handle_close(s, &s->handles[i]);
	for (uint32_t i = 2; i < s->nnodes_cap; i++)
		if (s->nodes[i].fd >= 0)
			node_free(s, i);
	if (s->nnodes_cap > FS_ROOT_SLOT)
		s->nodes[FS_ROOT_SLOT].nlookup = 1;
}

/* ------------------------------------------------------------------------------------ */
/* Host side: everything relative to descriptors */

/*
 * Move a descriptor just made into the server's window (closing the original), or answer
 * ENFILE when the window is full. fd may be -errno, which is passed on.
 */
static int to_window(const struct fs_server *s, int fd)
{
	int w, e;

	if (fd < 0)
		return fd;
	w = fcntl(fd, F_DUPFD_CLOEXEC, (int)s->win_base);
	e = errno;
	close(fd);
	if (w < 0)
		return e == EMFILE || e == EINVAL ? -ENFILE : -e;
	if ((unsigned int)w >= s->win_base + s->win_size) {
		close(w);
		return -ENFILE;
	}
	return w;
}

/*
 * Open name (one validated component) below dirfd without following any symlink or
 * leaving the directory, as a descriptor in the window. mode only with O_CREAT. Never
 * waits: O_NONBLOCK (for whatever is not O_PATH) makes a FIFO or a device that slipped
 * through answer at once, and a regular file ignores it but for leases, where it turns a
 * wait for a host process into EWOULDBLOCK.
 */
static int open_below(const struct fs_server *s, int dirfd, const char *name, int flags,
		      mode_t mode)
{
	static int no_openat2;
	struct open_how how = {
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS,
	};
	int fd;

	if (!(flags & O_PATH))
		flags |= O_NONBLOCK | O_NOCTTY;
	flags |= O_NOFOLLOW | O_CLOEXEC;
	how.flags = (uint64_t)flags;
	if (!__atomic_load_n(&no_openat2, __ATOMIC_RELAXED)) {
		fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
		if (fd >= 0 || errno != ENOSYS)
			return to_window(s, fd < 0 ? -errno : fd);
		__atomic_store_n(&no_openat2, 1, __ATOMIC_RELAXED);
	}
	/* name has no '/' and is not "..", so O_NOFOLLOW on its one component is enough */
	fd = openat(dirfd, name, flags, mode);
	return to_window(s, fd < 0 ? -errno : fd);
}

/*
 * Our own descriptor as a name in /proc/self/fd, for the calls that have no descriptor
 * form on O_PATH (chmod, linking without CAP_DAC_READ_SEARCH, reopening with an access
 * mode). Always relative to s->proc_fd, never AT_FDCWD: the file server's seccomp list
 * refuses every directory descriptor but its own. Only used for nodes that are not
 * symlinks, so following the link lands on the node itself and nowhere else; with
 * Landlock, the kernel checks the file it lands on, which must lie beneath the share.
 */
static void fd_name(char buf[16], int fd)
{
	snprintf(buf, 16, "%d", fd);
}

/* A node reopened with an access mode, as a descriptor in the window. */
static int reopen(const struct fs_server *s, int fd, int flags)
{
	char n[16];
	int r;

	fd_name(n, fd);
	if (!(flags & O_PATH))
		flags |= O_NONBLOCK | O_NOCTTY;
	r = openat(s->proc_fd, n, flags | O_CLOEXEC);
	return to_window(s, r < 0 ? -errno : r);
}

static void fill_attr(struct fuse_attr *a, const struct stat *st)
{
	memset(a, 0, sizeof(*a));
	a->ino = st->st_ino;
	a->size = (uint64_t)st->st_size;
	a->blocks = (uint64_t)st->st_blocks;
	a->atime = (uint64_t)st->st_atim.tv_sec;
	a->mtime = (uint64_t)st->st_mtim.tv_sec;
	a->ctime = (uint64_t)st->st_ctim.tv_sec;
	a->atimensec = (uint32_t)st->st_atim.tv_nsec;
	a->mtimensec = (uint32_t)st->st_mtim.tv_nsec;
	a->ctimensec = (uint32_t)st->st_ctim.tv_nsec;
	a->mode = st->st_mode;
	a->nlink = (uint32_t)st->st_nlink;
	a->uid = st->st_uid;
	a->gid = st->st_gid;
	a->rdev = (uint32_t)st->st_rdev;
	a->blksize = (uint32_t)st->st_blksize;
}

static void fill_entry(struct fs_server *s, struct fuse_entry_out *e, uint32_t slot,
		       const struct stat *st)
{
	memset(e, 0, sizeof(*e));
	e->nodeid = node_id(s, slot);
	e->entry_valid = FS_TIMEOUT_S;
	e->attr_valid = FS_TIMEOUT_S;
	fill_attr(&e->attr, st);
}

/* Look name up below parent: a new or existing node, its attributes in *st. */
static int64_t lookup_child(struct fs_server *s, int parent_fd, const char *name, struct stat *st)
{
	int fd = open_below(s, parent_fd, name, O_PATH, 0);

	if (fd < 0)
		return fd;
	if (fstat(fd, st) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return node_add(s, fd, st);
}

/* ------------------------------------------------------------------------------------ */
/* Request decoding */

static void *out_buf(struct fs_req *r, size_t len)
{
	r->out_len = len;
	memset(r->s->out, 0, len);
	return r->s->out;
}

/* The fixed argument structure at the start of the arguments, or NULL if too short. */
static const void *arg_struct(struct fs_req *r, size_t size, size_t *pos)
{
	if (r->arglen < size)
		return NULL;
	*pos = size;
	return r->arg;
}

/*
 * A NUL-terminated string at *pos inside the arguments; the NUL must be there. For a
 * name: one path component (component = true).
 */
static int take_string(struct fs_req *r, size_t *pos, const char **str, bool component)
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

static struct fs_node *req_node(struct fs_req *r)
{
	return node_get(r->s, r->in.nodeid);
}

/* ------------------------------------------------------------------------------------ */
/* Opcodes */

static int do_init(struct fs_req *r)
{
	const uint32_t ours = FUSE_ASYNC_READ | FUSE_ATOMIC_O_TRUNC | FUSE_BIG_WRITES |
			      FUSE_DO_READDIRPLUS | FUSE_MAX_PAGES | FUSE_PARALLEL_DIROPS;
	const struct fuse_init_in *in;
	struct fuse_init_out *out;
	size_t pos;

	/* the 7.36 fields (flags2 and after) are optional: the first 16 bytes are not */
	in = arg_struct(r, 16, &pos);
	if (!in)
		return -EINVAL;
	if (r->s->initialized)
		return -EPROTO;
	out = out_buf(r, sizeof(*out));
	out->major = FUSE_KERNEL_VERSION;
	out->minor = FUSE_KERNEL_MINOR_VERSION;
	if (in->major < FUSE_KERNEL_VERSION)
		return -EPROTO;
	if (in->major > FUSE_KERNEL_VERSION) {
		/* the driver will ask again with our major */
		r->out_len = FUSE_COMPAT_INIT_OUT_SIZE;
		return 0;
	}
	if (in->minor < FS_MINOR_MIN)
		return -EPROTO;
	if (in->minor < out->minor)
		out->minor = in->minor;
	out->max_readahead = in->max_readahead;
	out->flags = in->flags & ours;
	out->max_background = 64;
	out->congestion_threshold = 48;
	out->max_write = FS_MAX_WRITE;
	out->time_gran = 1;
	out->max_pages = FS_MAX_WRITE / 4096;
	r->out_len = out->minor < 23 ? FUSE_COMPAT_22_INIT_OUT_SIZE : sizeof(*out);
	r->s->minor = out->minor;
	r->s->initialized = true;
	return 0;
}

static int do_destroy(struct fs_req *r)
{
	forget_all(r->s);
	r->s->initialized = false;
	r->out_len = 0;
	return 0;
}

static int do_lookup(struct fs_req *r)
{
	struct fs_node *p = req_node(r);
	struct fuse_entry_out *e;
	const char *name;
	size_t pos = 0;
	struct stat st;
	int64_t slot;
	int ret;

	ret = take_string(r, &pos, &name, true);
	if (ret)
		return ret;
	if (!p)
		return -ESTALE;
	if (p->type != S_IFDIR)
		return -ENOTDIR;
	slot = lookup_child(r->s, p->fd, name, &st);
	if (slot < 0)
		return (int)slot;
	e = out_buf(r, sizeof(*e));
	fill_entry(r->s, e, (uint32_t)slot, &st);
	return 0;
}

static int do_forget(struct fs_req *r)
{
	size_t pos;
	const struct fuse_forget_in *in = arg_struct(r, sizeof(*in), &pos);

	if (in)
		node_forget(r->s, r->in.nodeid, in->nlookup);
	return FS_NO_REPLY;
}

static int do_batch_forget(struct fs_req *r)
{
	size_t pos;
	const struct fuse_batch_forget_in *in = arg_struct(r, sizeof(*in), &pos);
	struct fuse_forget_one one;

	/* a count that the request cannot hold is a broken request: forget nothing */
	if (!in || in->count > (r->arglen - pos) / sizeof(one))
		return FS_NO_REPLY;
	for (uint32_t i = 0; i < in->count; i++) {
		memcpy(&one, r->arg + pos + i * sizeof(one), sizeof(one));
		node_forget(r->s, one.nodeid, one.nlookup);
	}
	return FS_NO_REPLY;
}

static int reply_attr(struct fs_req *r, int fd)
{
	struct fuse_attr_out *a;
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	a = out_buf(r, sizeof(*a));
	a->attr_valid = FS_TIMEOUT_S;
	fill_attr(&a->attr, &st);
	return 0;
}

static int do_getattr(struct fs_req *r)
{
	struct fs_node *n = req_node(r);

	/* fuse_getattr_in may name a handle; the node's attributes are the same */
	if (!n)
		return -ESTALE;
	return reply_attr(r, n->fd);
}

static mode_t safe_mode(mode_t type, mode_t mode)
{
	mode &= 07777;
	if (type != S_IFDIR)
		mode &= (mode_t) ~(S_ISUID | S_ISGID);
	return mode;
}

static struct timespec time_arg(uint32_t valid, uint32_t set, uint32_t now, uint64_t sec,
				uint32_t nsec)
{
	if (!(valid & set))
		return (struct timespec){ .tv_nsec = UTIME_OMIT };
	if (valid & now)
		return (struct timespec){ .tv_nsec = UTIME_NOW };
	return (struct timespec){ .tv_sec = (time_t)sec, .tv_nsec = nsec % 1000000000 };
}

static int do_setattr(struct fs_req *r)
{
	struct fs_node *n = req_node(r);
	const struct fuse_setattr_in *in;
	struct fs_handle *h = NULL;
	size_t pos;
	char p[16];

	in = arg_struct(r, sizeof(*in), &pos);
	if (!in)
		return -EINVAL;
	if (!n)
		return -ESTALE;
	if (r->s->readonly)
		return -EROFS;
	if (in->valid & FATTR_FH) {
		h = handle_get(r->s, in->fh, false);
		if (!h)
			return -EBADF;
	}
	fd_name(p, n->fd);
	if (in->valid & FATTR_MODE) {
		if (n->type == S_IFLNK)
			return -EOPNOTSUPP;
		if (fchmodat(r->s->proc_fd, p, safe_mode(n->type, in->mode), 0) < 0)
			return -errno;
	}
	if (in->valid & (FATTR_UID | FATTR_GID)) {
		uid_t uid = (in->valid & FATTR_UID) ? in->uid : (uid_t)-1;
		gid_t gid = (in->valid & FATTR_GID) ? in->gid : (gid_t)-1;

		if (fchownat(n->fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	}
	if (in->valid & FATTR_SIZE) {
		if (in->size > INT64_MAX)
			return -EFBIG;
		if (h) {
			if (ftruncate(h->fd, (off_t)in->size) < 0)
				return -errno;
		} else {
			int fd, e = 0;

			if (n->type != S_IFREG)
				return n->type == S_IFDIR ? -EISDIR : -EINVAL;
			/* truncate(2) takes a path: open for writing, as it would check */
			fd = reopen(r->s, n->fd, O_WRONLY);
			if (fd < 0)
				return fd;
			if (ftruncate(fd, (off_t)in->size) < 0)
				e = -errno;
			close(fd);
			if (e)
				return e;
		}
	}
	if (in->valid & (FATTR_ATIME | FATTR_MTIME)) {
		struct timespec ts[2] = {
			time_arg(in->valid, FATTR_ATIME, FATTR_ATIME_NOW, in->atime, in->atimensec),
			time_arg(in->valid, FATTR_MTIME, FATTR_MTIME_NOW, in->mtime, in->mtimensec),
		};

		if (utimensat(n->fd, "", ts, AT_EMPTY_PATH) < 0) {
			/* kernels before 5.8 take no empty path here */
			if (errno != EINVAL || n->type == S_IFLNK ||
			    utimensat(r->s->proc_fd, p, ts, 0) < 0)
				return -errno;
		}
	}
	return reply_attr(r, n->fd);
}

static int do_readlink(struct fs_req *r)
{
	struct fs_node *n = req_node(r);
	ssize_t len;

	if (!n)
		return -ESTALE;
	if (n->type != S_IFLNK)
		return -EINVAL;
	len = readlinkat(n->fd, "", (char *)r->s->out, PATH_MAX);
	if (len < 0)
		return -errno;
	if ((size_t)len > r->wr_bytes - sizeof(struct fuse_out_header))
		return -ENAMETOOLONG;
	r->out_len = (size_t)len;
	return 0;
}

/* After creating name below parent: its node, as the entry reply. */
static int reply_new_entry(struct fs_req *r, struct fs_node *parent, const char *name)
{
	struct fuse_entry_out *e;
	struct stat st;
	int64_t slot = lookup_child(r->s, parent->fd, name, &st);

	if (slot < 0)
		return (int)slot;
	e = out_buf(r, sizeof(*e));
	fill_entry(r->s, e, (uint32_t)slot, &st);
	return 0;
}

/* Common start of the opcodes that make or remove a name in directory node in.nodeid. */
static int dir_for_change(struct fs_req *r, struct fs_node **dir)
{
	*dir = req_node(r);
	if (!*dir)
		return -ESTALE;
	if ((*dir)->type != S_IFDIR)
		return -ENOTDIR;
	if (r->s->readonly)
		return -EROFS;
	return 0;
}

static int do_mknod(struct fs_req *r)
{
	const struct fuse_mknod_in *in;
	struct fs_node *d;
	const char *name;
	size_t pos;
	mode_t type;
	int ret;

	in = arg_struct(r, sizeof(*in), &pos);
	if (!in)
		return -EINVAL;
	ret = take_string(r, &pos, &name, true);
	if (!ret)
		ret = dir_for_change(r, &d);
	if (ret)
		return ret;
	type = in->mode & S_IFMT;
	/* a device node in the share would be a door to the host's devices */
	if (type != S_IFREG && type != S_IFIFO && type != S_IFSOCK)
		return -EPERM;
	if (mknodat(d->fd, name, type | safe_mode(type, in->mode), 0) < 0)
		return -errno;
	return reply_new_entry(r, d, name);
}

static int do_mkdir(struct fs_req *r)
{
	const struct fuse_mkdir_in *in;
	struct fs_node *d;
	const char *name;
	size_t pos;
	int ret;

	in = arg_struct(r, sizeof(*in), &pos);
	if (!in)
		return -EINVAL;
	ret = take_string(r, &pos, &name, true);
	if (!ret)
		ret = dir_for_change(r, &d);
	if (ret)
		return ret;
	if (mkdirat(d->fd, name, safe_mode(S_IFDIR, in->mode)) < 0)
		return -errno;
	return reply_new_entry(r, d, name);
}

static int do_symlink(struct fs_req *r)
{
	const char *name, *target;
	struct fs_node *d;
	size_t pos = 0;
	int ret;

	ret = take_string(r, &pos, &name, true);
	if (!ret)
		ret = take_string(r, &pos, &target, false);
	if (!ret)
		ret = dir_for_change(r, &d);
	if (ret)
		return ret;
	/* the target is stored as text; nothing here ever resolves it */
	if (symlinkat(target, d->fd, name) < 0)
		return -errno;
	return reply_new_entry(r, d, name);
}

static int do_unlink(struct fs_req *r, bool dir)
{
	struct fs_node *d;
	const char *name;
	size_t pos = 0;
	int ret;

	ret = take_string(r, &pos, &name, true);
	if (!ret)
		ret = dir_for_change(r, &d);
	if (ret)
		return ret;
	if (unlinkat(d->fd, name, dir ? AT_REMOVEDIR : 0) < 0)
		return -errno;
	r->out_len = 0;
	return 0;
}

static int do_rename(struct fs_req *r, bool two)
{
	const char *oldname, *newname;
	struct fs_node *d, *nd;
	uint64_t newdir;
	uint32_t flags = 0;
	size_t pos;
	int ret;

	if (two) {
		const struct fuse_rename2_in *in = arg_struct(r, sizeof(*in), &pos);

		if (!in)
			return -EINVAL;
		newdir = in->newdir;
		flags = in->flags;
	} else {
		const struct fuse_rename_in *in = arg_struct(r, sizeof(*in), &pos);

		if (!in)
			return -EINVAL;
		newdir = in->newdir;
	}
	ret = take_string(r, &pos, &oldname, true);
	if (!ret)
		ret = take_string(r, &pos, &newname, true);
	if (!ret)
		ret = dir_for_change(r, &d);
	if (ret)
		return ret;
	nd = node_get(r->s, newdir);
	if (!nd)
		return -ESTALE;
	if (nd->type != S_IFDIR)
		return -ENOTDIR;
	if (flags & ~(uint32_t)(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if (renameat2(d->fd, oldname, nd->fd, newname, flags) < 0)
		return -errno;
	r->out_len = 0;
	return 0;
}

static int do_link(struct fs_req *r)
{
	const struct fuse_link_in *in;
	struct fs_node *d, *old;
	const char *name;
	size_t pos;
	char p[16];
	int ret;

	in = arg_struct(r, sizeof(*in), &pos);
	if (!in)
		return -EINVAL;
	ret = take_string(r, &pos, &name, true);
	if (!ret)
		ret = dir_for_change(r, &d);
	if (ret)
		return ret;
	old = node_get(r->s, in->oldnodeid);
	if (!old)
		return -ESTALE;
	if (old->type == S_IFDIR)
		return -EPERM;
	if (linkat(old->fd, "", d->fd, name, AT_EMPTY_PATH) < 0) {
		/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc's link to our fd does not */
		if (errno != ENOENT && errno != EPERM)
			return -errno;
		fd_name(p, old->fd);
		if (linkat(r->s->proc_fd, p, d->fd, name, AT_SYMLINK_FOLLOW) < 0)
			return -errno;
	}
	return reply_new_entry(r, d, name);
}

/* Open flags the guest may ask for; creation flags are the VMM's to add. */
static int open_flags(uint32_t guest)
{
	return (int)(guest & (O_ACCMODE | O_APPEND | O_TRUNC | O_SYNC | O_DSYNC | O_NONBLOCK));
}

static bool flags_modify(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

/* What CREATE and OPEN answer for a node they will not open. */
static int not_a_file(mode_t type)
{
	if (type == S_IFDIR)
		return -EISDIR;
	if (type == S_IFLNK)
		return -ELOOP;
	/* FIFOs, sockets, device nodes: what open(2) says of a FIFO without its other end */
	return -ENXIO;
}

static int do_open(struct fs_req *r)
{
	const struct fuse_open_in *in;
	struct fuse_open_out *out;
	struct fs_node *n;
	int64_t fh;
	size_t pos;
	int flags, fd;

	in = arg_struct(r, sizeof(*in), &pos);
	if (!in)
		return -EINVAL;
	n = req_node(r);
	if (!n)
		return -ESTALE;
	flags = open_flags(in->flags);
	if ((flags & O_ACCMODE) == O_ACCMODE)
		return -EINVAL;
	if (r->s->readonly && flags_modify(flags))
		return -EROFS;
	/* a link is never followed here; FIFOs and device nodes are never opened */
	if (n->type != S_IFREG)
		return not_a_file(n->type);
	fd = reopen(r->s, n->fd, flags);
	if (fd < 0)
		return fd;
	fh = handle_add(r->s, fd, false);
	if (fh < 0)
		return (int)fh;
	out = out_buf(r, sizeof(*out));
	out->fh = (uint64_t)fh;
	return 0;
}

/*
 * CREATE of a name that exists, without O_EXCL: open it if it is a regular file. Its type
 * is read from an O_PATH descriptor first, so nothing else is ever opened for I/O (a FIFO
 * would wait for its other end, a device could do anything); the inode cannot change type
 * while we hold it, and reopening goes to that inode, not to the name.
 */
static int open_existing(const struct fs_server *s, int dirfd, const char *name, int flags)
{
	struct stat st;
	int pfd = open_below(s, dirfd, name, O_PATH, 0), fd;

	if (pfd < 0)
		return pfd;
	if (fstat(pfd, &st) < 0) {
		fd = -errno;
	} else if (!S_ISREG(st.st_mode)) {
		fd = not_a_file(st.st_mode & S_IFMT);
	} else {
		fd = reopen(s, pfd, flags);
	}
	close(pfd);
	return fd;
}

static int do_create(struct fs_req *r)
{
	const struct fuse_create_in *in;
	struct fuse_entry_out *e;
	struct fuse_open_out *o;
	struct fs_node *d;
	const char *name;
	struct stat st;
	int64_t slot, fh;
	int ret, fd, pfd, flags;
	size_t pos;

	in = arg_struct(r, sizeof(*in), &pos);
	if (!in)
		return -EINVAL;
	ret = take_string(r, &pos, &name, true);
	if (!ret)
		ret = dir_for_change(r, &d);
	if (ret)
		return ret;
	flags = open_flags(in->flags);
	if ((flags & O_ACCMODE) == O_ACCMODE)
		return -EINVAL;
	/* a new file is regular by construction; an old one is looked at before it is opened */
	for (int tries = 0;; tries++) {
		fd = open_below(r->s, d->fd, name, flags | O_CREAT | O_EXCL,
				safe_mode(S_IFREG, in->mode));
		if (fd != -EEXIST || (in->flags & O_EXCL))
			break;
		fd = open_existing(r->s, d->fd, name, flags);
		/* removed in between: create it after all, a few times at most */
		if (fd != -ENOENT || tries == 3)
			break;
	}
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return not_a_file(st.st_mode & S_IFMT);
	}
	/* the node is the file just opened, not whatever the name may point to by now */
	pfd = reopen(r->s, fd, O_PATH);
	if (pfd < 0) {
		close(fd);
		return pfd;
	}
	slot = node_add(r->s, pfd, &st);
	if (slot < 0) {
		close(fd);
		return (int)slot;
	}
	fh = handle_add(r->s, fd, false);
	if (fh < 0) {
		node_forget(r->s, node_id(r->s, (uint32_t)slot), 1);
		return (int)fh;
	}
	e = out_buf(r, sizeof(*e) + sizeof(*o));
	fill_entry(r->s, e, (uint32_t)slot, &st);
	o = (struct fuse_open_out *)(e + 1);
	o->fh = (uint64_t)fh;
	return 0;
}

static int do_read(struct fs_req *r)
{
	const struct fuse_read_in *in;
	struct iovec v[64];
	struct fs_handle *h;
	size_t pos, size;
	ssize_t got;
	int n;

	in = arg_struct(r, sizeof(*in), &pos);
	if (!in)
		return -EINVAL;
	h = handle_get(r->s, in->fh, false);
	if (!h)
		return -EBADF;
	if (in->offset > INT64_MAX)
		return -EINVAL;
	size = in->size < FS_MAX_WRITE ? in->size : FS_MAX_WRITE;
	if (size > r->wr_bytes - sizeof(struct fuse_out_header))
		size = r->wr_bytes - sizeof(struct fuse_out_header);
	n = iov_slice(r->wr, r->nwr, sizeof(struct fuse_out_header), size, v, 64);
	if (n < 0)
		return -EINVAL;
	got = n ? preadv(h->fd, v, n, (off_t)in->offset) : 0;
	if (got < 0)
		return -errno;
	r->direct_len = (size_t)got;
	return 0;
}

static int do_write(struct fs_req *r)
{
	const struct fuse_write_in *in;
	struct fuse_write_out *out;
	struct iovec v[VIRTQ_MAX_SEGMENTS];
	struct fs_handle *h;
	size_t pos;
	ssize_t put;
	int n;

	in = arg_struct(r, sizeof(*in), &pos);
	if (!in)
		return -EINVAL;
	/* the data follows the arguments; in.len says how far, and the chain holds it */
	if (in->size > r->in.len - sizeof(struct fuse_in_header) - sizeof(*in) ||
	    in->size > FS_MAX_WRITE)
		return -EINVAL;
	if (r->s->readonly)
		return -EROFS;
	h = handle_get(r->s, in->fh, false);
	if (!h)
		return -EBADF;
	if (in->offset > INT64_MAX)
		return -EFBIG;
	n = iov_slice(r->rd, r->nrd, sizeof(struct fuse_in_header) + sizeof(*in), in->size, v,
		      VIRTQ_MAX_SEGMENTS);
	if (n < 0)
		return -EINVAL;
	put = n ? pwritev(h->fd, v, n, (off_t)in->offset) : 0;
	if (put < 0)
		return -errno;
	out = out_buf(r, sizeof(*out));
	out->size = (uint32_t)put;
	return 0;
}

static int do_statfs(struct fs_req *r)
{
	struct fs_node *n = req_node(r);
	struct fuse_statfs_out *out;
	struct statvfs sv;

	if (!n)
		return -ESTALE;
	if (fstatvfs(n->fd, &sv) < 0)
		return -errno;
	out = out_buf(r, sizeof(*out));
	out->st.blocks = sv.f_blocks;
	out->st.bfree = sv.f_bfree;
	out->st.bavail = sv.f_bavail;
	out->st.files = sv.f_files;
	out->st.ffree = sv.f_ffree;
	out->st.bsize = (uint32_t)sv.f_bsize;
	out->st.namelen = (uint32_t)sv.f_namemax;
	out->st.frsize = (uint32_t)sv.f_frsize;
	return 0;
}

static int do_release(struct fs_req *r, bool dir)
{
	const struct fuse_release_in *in;
	struct fs_handle *h;
	size_t pos;

	in = arg_struct(r, sizeof(*in), &pos);
	if (!in)
		return -EINVAL;
	h = handle_get(r->s, in->fh, dir);
	if (!h)
		return -EBADF;
	handle_close(r->s, h);
	r->out_len = 0;
	return 0;
}

static int do_fsync(struct fs_req *r, bool dir)
{
	const struct fuse_fsync_in *in;
	struct fs_handle *h;
	size_t pos;
	int ret;

	in = arg_struct(r, sizeof(*in), &pos);
	if (!in)
		return -EINVAL;
	h = handle_get(r->s, in->fh, dir);
	if (!h)
		return -EBADF;
	ret = (in->fsync_flags & FUSE_FSYNC_FDATASYNC) ? fdatasync(h->fd) : fsync(h->fd);
	if (ret < 0)
		return -errno;
	r->out_len = 0;
	return 0;
}

static int do_flush(struct fs_req *r)
{
	const struct fuse_flush_in *in;
	size_t pos;

	in = arg_struct(r, sizeof(*in), &pos);
	if (!in)
		return -EINVAL;
	/* writes reach the host file at once: nothing is buffered to flush */
	if (!handle_get(r->s, in->fh, false))
		return -EBADF;
	r->out_len = 0;
	return 0;
}

static int do_opendir(struct fs_req *r)
{
	const struct fuse_open_in *in;
	struct fuse_open_out *out;
	struct fs_node *n;
	int64_t fh;
	size_t pos;
	int fd;

	in = arg_struct(r, sizeof(*in), &pos);
	if (!in)
		return -EINVAL;
	n = req_node(r);
	if (!n)
		return -ESTALE;
	if (n->type != S_IFDIR)
		return -ENOTDIR;
	fd = openat(n->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fd = to_window(r->s, fd < 0 ? -errno : fd);
	if (fd < 0)
		return fd;
	fh = handle_add(r->s, fd, true);
	if (fh < 0)
		return (int)fh;
	out = out_buf(r, sizeof(*out));
	out->fh = (uint64_t)fh;
	return 0;
}

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static int do_readdir(struct fs_req *r, bool plus)
{
	const struct fuse_read_in *in;
	struct fs_server *s = r->s;
	struct fs_handle *h;
	size_t pos, size, used = 0;
	bool full = false;

	in = arg_struct(r, sizeof(*in), &pos);
	if (!in)
		return -EINVAL;
	h = handle_get(s, in->fh, true);
	if (!h)
		return -EBADF;
	if (in->offset > INT64_MAX)
		return -EINVAL;
	size = in->size < FS_OUT_MAX ? in->size : FS_OUT_MAX;
	if (size > r->wr_bytes - sizeof(struct fuse_out_header))
		size = r->wr_bytes - sizeof(struct fuse_out_header);
	/* offsets are the d_off the host gave each entry: seek there every time */
	if (lseek(h->fd, (off_t)in->offset, SEEK_SET) < 0)
		return -errno;
	while (!full) {
		long n = syscall(SYS_getdents64, h->fd, s->dents, sizeof(s->dents));

		if (n < 0) {
			if (used)
				break;
			return -errno;
		}
		if (n == 0)
			break;
		for (long off = 0; off < n;) {
			struct linux_dirent64 *d = (void *)(s->dents + off);
			size_t namelen = strlen(d->d_name);
			size_t head = plus ? FUSE_NAME_OFFSET_DIRENTPLUS : FUSE_NAME_OFFSET;
			size_t rec = FUSE_DIRENT_ALIGN(head + namelen);
			struct fuse_dirent *de;

			off += d->d_reclen;
			if (used + rec > size) {
				full = true;
				break;
			}
			memset(s->out + used, 0, rec);
			if (plus) {
				struct fuse_direntplus *dp = (void *)(s->out + used);
				bool dots = !strcmp(d->d_name, ".") || !strcmp(d->d_name, "..");
				struct stat st;
				int64_t slot = -1;

				/* node ID 0: "no entry to link", which the driver accepts */
				if (!dots)
					slot = lookup_child(s, h->fd, d->d_name, &st);
				if (slot >= 0)
					fill_entry(s, &dp->entry_out, (uint32_t)slot, &st);
				de = &dp->dirent;
			} else {
				de = (void *)(s->out + used);
			}
			de->ino = d->d_ino;
			de->off = (uint64_t)d->d_off;
			de->namelen = (uint32_t)namelen;
			de->type = d->d_type;
			memcpy(de->name, d->d_name, namelen);
			used += rec;
		}
	}
	r->out_len = used;
	return 0;
}

static int do_access(struct fs_req *r)
{
	const struct fuse_access_in *in;
	struct fs_node *n;
	struct stat st;
	size_t pos;
	mode_t bits;

	in = arg_struct(r, sizeof(*in), &pos);
	if (!in)
		return -EINVAL;
	n = req_node(r);
	if (!n)
		return -ESTALE;
	if ((in->mask & W_OK) && r->s->readonly)
		return -EROFS;
	if (fstat(n->fd, &st) < 0)
		return -errno;
	/* classic owner/group/other bits for the guest's caller; root passes but for x */
	if (r->in.uid == 0) {
		if ((in->mask & X_OK) && !S_ISDIR(st.st_mode) && !(st.st_mode & 0111))
			return -EACCES;
		return 0;
	}
	if (st.st_uid == r->in.uid)
		bits = (st.st_mode >> 6) & 7;
	else if (st.st_gid == r->in.gid)
		bits = (st.st_mode >> 3) & 7;
	else
		bits = st.st_mode & 7;
	if ((in->mask & 7) & ~bits)
		return -EACCES;
	return 0;
}

static int do_lseek(struct fs_req *r)
{
	const struct fuse_lseek_in *in;
	struct fuse_lseek_out *out;
	struct fs_handle *h;
	size_t pos;
	off_t o;

	in = arg_struct(r, sizeof(*in), &pos);
	if (!in)
		return -EINVAL;
	h = handle_get(r->s, in->fh, false);
	if (!h)
		return -EBADF;
	if (in->whence != SEEK_SET && in->whence != SEEK_CUR && in->whence != SEEK_END &&
	    in->whence != SEEK_DATA && in->whence != SEEK_HOLE)
		return -EINVAL;
	o = lseek(h->fd, (off_t)in->offset, (int)in->whence);
	if (o < 0)
		return -errno;
	out = out_buf(r, sizeof(*out));
	out->offset = (uint64_t)o;
	return 0;
}

static int do_fallocate(struct fs_req *r)
{
	const struct fuse_fallocate_in *in;
	struct fs_handle *h;
	size_t pos;

	in = arg_struct(r, sizeof(*in), &pos);
	if (!in)
		return -EINVAL;
	if (r->s->readonly)
		return -EROFS;
	h = handle_get(r->s, in->fh, false);
	if (!h)
		return -EBADF;
	if (in->mode &
	    ~(uint32_t)(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE))
		return -EOPNOTSUPP;
	if (in->offset > INT64_MAX || in->length > INT64_MAX)
		return -EINVAL;
	if (fallocate(h->fd, (int)in->mode, (off_t)in->offset, (off_t)in->length) < 0)
		return -errno;
	r->out_len = 0;
	return 0;
}

/* Smallest reply payload each answered opcode needs, checked before it runs. */
static size_t reply_min(uint32_t opcode)
{
	switch (opcode) {
	case FUSE_INIT:
		return sizeof(struct fuse_init_out);
	case FUSE_LOOKUP:
	case FUSE_MKNOD:
	case FUSE_MKDIR:
	case FUSE_SYMLINK:
	case FUSE_LINK:
		return sizeof(struct fuse_entry_out);
	case FUSE_CREATE:
		return sizeof(struct fuse_entry_out) + sizeof(struct fuse_open_out);
	case FUSE_GETATTR:
	case FUSE_SETATTR:
		return sizeof(struct fuse_attr_out);
	case FUSE_OPEN:
	case FUSE_OPENDIR:
		return sizeof(struct fuse_open_out);
	case FUSE_WRITE:
		return sizeof(struct fuse_write_out);
	case FUSE_STATFS:
		return sizeof(struct fuse_statfs_out);
	case FUSE_LSEEK:
		return sizeof(struct fuse_lseek_out);
	default:
		return 0;
	}
}

/* Opcodes the driver expects no answer to: they need no writable room. */
static bool no_reply(uint32_t opcode)
{
	return opcode == FUSE_FORGET || opcode == FUSE_BATCH_FORGET || opcode == FUSE_INTERRUPT;
}

static int dispatch(struct fs_req *r)
{
	uint32_t op = r->in.opcode;

	if (op == FUSE_INIT)
		return do_init(r);
	if (!r->s->initialized)
		return op == FUSE_FORGET || op == FUSE_BATCH_FORGET ? FS_NO_REPLY : -EIO;
	switch (op) {
	case FUSE_DESTROY:
		return do_destroy(r);
	case FUSE_LOOKUP:
		return do_lookup(r);
	case FUSE_FORGET:
		return do_forget(r);
	case FUSE_BATCH_FORGET:
		return do_batch_forget(r);
	case FUSE_GETATTR:
		return do_getattr(r);
	case FUSE_SETATTR:
		return do_setattr(r);
	case FUSE_READLINK:
		return do_readlink(r);
	case FUSE_SYMLINK:
		return do_symlink(r);
	case FUSE_MKNOD:
		return do_mknod(r);
	case FUSE_MKDIR:
		return do_mkdir(r);
	case FUSE_UNLINK:
		return do_unlink(r, false);
	case FUSE_RMDIR:
		return do_unlink(r, true);
	case FUSE_RENAME:
		return do_rename(r, false);
	case FUSE_RENAME2:
		return do_rename(r, true);
	case FUSE_LINK:
		return do_link(r);
	case FUSE_OPEN:
		return do_open(r);
	case FUSE_READ:
		return do_read(r);
	case FUSE_WRITE:
		return do_write(r);
	case FUSE_STATFS:
		return do_statfs(r);
	case FUSE_RELEASE:
		return do_release(r, false);
	case FUSE_RELEASEDIR:
		return do_release(r, true);
	case FUSE_FSYNC:
		return do_fsync(r, false);
	case FUSE_FSYNCDIR:
		return do_fsync(r, true);
	case FUSE_FLUSH:
		return do_flush(r);
	case FUSE_OPENDIR:
		return do_opendir(r);
	case FUSE_READDIR:
		return do_readdir(r, false);
	case FUSE_READDIRPLUS:
		return do_readdir(r, true);
	case FUSE_ACCESS:
		return do_access(r);
	case FUSE_CREATE:
		return do_create(r);
	case FUSE_LSEEK:
		return do_lseek(r);
	case FUSE_FALLOCATE:
		return do_fallocate(r);
	case FUSE_INTERRUPT:
		/* every request is answered before the next is read: nothing to interrupt */
		return FS_NO_REPLY;
	case FUSE_SETXATTR:
	case FUSE_REMOVEXATTR:
		return r->s->readonly ? -EROFS : -ENOSYS;
	default:
		/* GETXATTR, LISTXATTR, locks, ioctl, poll, copy_file_range, DAX setup, ... */
		return -ENOSYS;
	}
}

ssize_t fs_server_handle(struct fs_server *s, const struct iovec *in, unsigned int nin,
			 const struct iovec *out, unsigned int nout)
{
	struct fs_req r = { .s = s, .rd = in, .nrd = nin, .wr = out, .nwr = nout };
	size_t rd_bytes = iov_total(in, nin), copy;
	struct fuse_out_header h = { 0 };
	int ret;

	r.wr_bytes = iov_total(out, nout);
	if (rd_bytes < sizeof(r.in)) {
		ret = -EINVAL;
	} else {
		iov_copy_from(&r.in, in, nin, sizeof(r.in));
		h.unique = r.in.unique;
		if (r.in.len < sizeof(r.in) || r.in.len > rd_bytes) {
			ret = -EINVAL;
		} else if (r.in.len > FS_ARGS_MAX && r.in.opcode != FUSE_WRITE) {
			ret = -EINVAL;
		} else if (r.wr_bytes < sizeof(h) + reply_min(r.in.opcode) &&
			   !no_reply(r.in.opcode)) {
			ret = -EINVAL;
		} else {
			/* one copy of the arguments: the guest may rewrite its buffers meanwhile */
			copy = r.in.len < FS_ARGS_MAX ? r.in.len : FS_ARGS_MAX;
			iov_copy_from(s->args, in, nin, copy);
			r.arg = s->args + sizeof(r.in);
			r.arglen = copy - sizeof(r.in);
			ret = dispatch(&r);
		}
	}
	if (ret == FS_NO_REPLY)
		return 0;
	if (r.wr_bytes < sizeof(h))
		return -1;
	if (ret < 0) {
		h.error = ret;
		r.out_len = r.direct_len = 0;
	} else if (r.out_len) {
		iov_copy_to(out, nout, sizeof(h), s->out, r.out_len);
	}
	h.len = (uint32_t)(sizeof(h) + r.out_len + r.direct_len);
	iov_copy_to(out, nout, 0, &h, sizeof(h));
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
	if (window_take(s, dir, err, errlen)) {
		free(s);
		return NULL;
	}
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	s->root_fd = fd = to_window(s, fd);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(-fd));
		goto fail;
	}
	fd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	s->proc_fd = to_window(s, fd < 0 ? -errno : fd);
	if (s->proc_fd < 0) {
		snprintf(err, errlen, "%s: /proc/self/fd: %s (virtio-fs needs /proc)", dir,
			 strerror(-s->proc_fd));
		goto fail;
	}
	s->readonly = readonly;
	if (nodes_grow(s)) {
		snprintf(err, errlen, "%s: out of memory", dir);
		goto fail;
	}
	/* nodes_grow() keeps slots 0 and 1 off the free list: the root is node ID 1 */
	s->nodes[FS_ROOT_SLOT] = (struct fs_node){
		.fd = s->root_fd,
		.type = S_IFDIR,
		.dev = st.st_dev,
		.ino = st.st_ino,
		.nlookup = 1,
	};
	s->buckets[node_hash(st.st_dev, st.st_ino)] = FS_ROOT_SLOT;
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
	free(s);
	return NULL;
}

void fs_server_reset(struct fs_server *s)
{
	forget_all(s);
	s->initialized = false;
}

void fs_server_destroy(struct fs_server *s)
{
	if (!s)
		return;
	forget_all(s);
	close(s->root_fd);
	close(s->proc_fd);
	free(s->nodes);
	free(s->handles);
	window_give_back(s);
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

unsigned int fs_server_nodes(const struct fs_server *s)
{
	return s->nodes_used;
}

unsigned int fs_server_handles(const struct fs_server *s)
{
	return s->handles_used;
}

/* ------------------------------------------------------------------------------------ */
/* The virtio device */

static struct fs_device *to_fs(struct virtio_device *vdev)
{
	return vdev->priv;
}

static void fs_config_read(struct virtio_device *vdev, uint64_t offset, void *data,
			   unsigned int len)
{
	struct fs_device *f = to_fs(vdev);

	memset(data, 0, len);
	if (offset >= sizeof(f->config))
		return;
	if (len > sizeof(f->config) - offset)
		len = (unsigned int)(sizeof(f->config) - offset);
	memcpy(data, f->config + offset, len);
}

static void fs_config_write(struct virtio_device *vdev, uint64_t offset, const void *data,
			    unsigned int len)
{
	/* the tag and the queue count are read-only (5.11.4) */
	(void)vdev;
	(void)offset;
	(void)data;
	(void)len;
}

static void queue_broken(struct fs_queue *q, int why)
{
	struct fs_device *f = q->fs;

	fprintf(stderr, "vmm: %s: queue %u: driver error (%s); device needs reset\n", f->vdev.name,
		q->index, strerror(-why));
	virtio_needs_reset(&f->vdev);
}

/* Take the next chain, unless reset() has taken the ring back: 1, 0 or -errno. */
static int queue_pop(struct fs_queue *q, struct virtq *vq)
{
	int r = 0;

	pthread_mutex_lock(&q->ring_lock);
	if (!__atomic_load_n(&q->stopping, __ATOMIC_ACQUIRE))
		r = virtq_pop(vq, q->chain);
	pthread_mutex_unlock(&q->ring_lock);
	return r;
}

/* Give the chain back, unless reset() has taken the ring meanwhile: its answer is lost. */
static bool queue_push(struct fs_queue *q, struct virtq *vq, uint32_t len)
{
	bool done = false;

	pthread_mutex_lock(&q->ring_lock);
	if (!__atomic_load_n(&q->stopping, __ATOMIC_ACQUIRE)) {
		virtq_push(vq, q->chain->head, len);
		done = true;
	}
	pthread_mutex_unlock(&q->ring_lock);
	return done;
}

/* Serve everything available; false once the ring is broken. */
static bool queue_drain(struct fs_queue *q)
{
	struct fs_device *f = q->fs;
	struct virtq *vq = &f->vdev.queues[q->index];
	struct virtq_chain *c = q->chain;
	bool pushed = false, ok = true;
	int r = 0;

	virtq_set_notify(vq, false);
	for (;;) {
		while ((r = queue_pop(q, vq)) > 0) {
			ssize_t n;

			__atomic_fetch_add(&q->requests, 1, __ATOMIC_RELAXED);
			pthread_mutex_lock(&f->server_lock);
			n = fs_server_handle(f->server, c->iov, c->nreadable,
					     virtq_chain_writable(c), c->nwritable);
			pthread_mutex_unlock(&f->server_lock);
			if (n < 0) {
				/* no room for even a reply header: answer with nothing */
				if (!__atomic_exchange_n(&f->bad_request_logged, true,
							 __ATOMIC_RELAXED))
					fprintf(stderr,
						"vmm: %s: a request left no room for its reply "
						"(further ones not logged)\n",
						f->vdev.name);
				n = 0;
			}
			if (!queue_push(q, vq, (uint32_t)n))
				break;
			pushed = true;
		}
		if (__atomic_load_n(&q->stopping, __ATOMIC_ACQUIRE))
			return ok;
		if (r < 0) {
			queue_broken(q, r);
			ok = false;
			break;
		}
		virtq_set_notify(vq, true);
		if (!virtq_has_work(vq))
			break;
		virtq_set_notify(vq, false);
	}
	if (pushed && virtq_needs_interrupt(vq))
		virtio_notify_queue(&f->vdev, q->index);
	return ok;
}

/* Serve the queue until reset() writes stop_fd. */
static void queue_serve(struct fs_queue *q)
{
	struct pollfd pfd[2] = { { .fd = q->kick_fd, .events = POLLIN },
				 { .fd = q->stop_fd, .events = POLLIN } };
	bool ok = true, more = true; /* chains may have been queued before the start */
	uint64_t v;

	for (;;) {
		if (more && ok)
			ok = queue_drain(q);
		more = false;
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "vmm: %s: queue %u: poll: %s\n", q->fs->vdev.name, q->index,
				strerror(errno));
			break;
		}
		if (pfd[1].revents)
			break;
		if (pfd[0].revents) {
			if (read(q->kick_fd, &v, sizeof(v)) < 0) {
				/* EAGAIN: another wake-up took it; the ring is looked at anyway */
			}
			__atomic_fetch_add(&q->kicks, 1, __ATOMIC_RELAXED);
			more = true;
		}
	}
}

/*
 * Before the first request: from then on the guest steers this thread. Landlock first (its
 * calls are not on the seccomp list), then the list, which names the server's window.
 */
static bool queue_fence(struct fs_queue *q)
{
	static bool no_landlock_logged;
	struct fs_device *f = q->fs;
	struct vmm_seccomp_fds fds = { 0 };
	int r;

	if (q->fenced)
		return true;
	r = fs_server_confine(f->server);
	if (r < 0) {
		fprintf(stderr, "vmm: %s: queue %u: Landlock: %s\n", f->vdev.name, q->index,
			strerror(-r));
		virtio_needs_reset(&f->vdev);
		return false;
	}
	if (r == 0 && !__atomic_exchange_n(&no_landlock_logged, true, __ATOMIC_RELAXED))
		fprintf(stderr, "vmm: this kernel has no Landlock: the file server is confined by "
				"seccomp and its own checks alone\n");
	fs_server_window(f->server, &fds.share_base, &fds.share_size);
	vmm_seccomp_fds_add(&fds, VMM_SECCOMP_FD_EVENT, q->stop_fd);
	q->fenced = !virtio_thread_fence(&f->vdev, VMM_SECCOMP_FS, &fds, "queue", q->index);
	return q->fenced;
}

static void *queue_thread(void *arg)
{
	struct fs_queue *q = arg;
	struct fs_device *f = q->fs;
	char name[16];

	snprintf(name, sizeof(name), "fs-q%u", q->index);
	pthread_setname_np(pthread_self(), name);
	/* fenced before the guest runs: no thread of the VMM is ever without its list */
	queue_fence(q);
	pthread_mutex_lock(&f->lock);
	q->fence_done = true;
	pthread_cond_broadcast(&f->cond);
	for (;;) {
		while (!q->quit && !q->go && !(q->index == 0 && f->server_reset))
			pthread_cond_wait(&f->cond, &f->lock);
		if (q->quit)
			break;
		if (q->index == 0 && f->server_reset) {
			/* closing what the driver looked up is file-server work: this thread's */
			pthread_mutex_unlock(&f->lock);
			pthread_mutex_lock(&f->server_lock);
			fs_server_reset(f->server);
			pthread_mutex_unlock(&f->server_lock);
			pthread_mutex_lock(&f->lock);
			f->server_reset = false;
			pthread_cond_broadcast(&f->cond);
			continue;
		}
		q->go = false;
		q->serving = true;
		pthread_mutex_unlock(&f->lock);
		if (queue_fence(q))
			queue_serve(q);
		pthread_mutex_lock(&f->lock);
		q->serving = false;
		pthread_cond_broadcast(&f->cond);
	}
	q->exited = true;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

static int fs_queue_start(struct virtio_device *vdev, unsigned int index, int kick_fd)
{
	struct fs_device *f = to_fs(vdev);
	struct fs_queue *q;
	uint64_t v;
	int r = 0;

	if (index >= FS_NUM_QUEUES)
		return -EINVAL;
	q = &f->queues[index];
	pthread_mutex_lock(&f->lock);
	/* serving without running: still stuck in a host call since the last reset */
	if (q->running || q->serving || !vdev->queues[index].enabled || !q->has_thread) {
		r = q->running || q->serving ? -EBUSY : -EINVAL;
		goto out;
	}
	while (read(q->stop_fd, &v, sizeof(v)) > 0)
		; /* a stop left over from the last reset */
	q->kick_fd = kick_fd;
	__atomic_store_n(&q->stopping, false, __ATOMIC_RELEASE);
	q->go = true;
	q->running = true;
	pthread_cond_broadcast(&f->cond);
out:
	pthread_mutex_unlock(&f->lock);
	return r;
}

/* The deadline for every wait of one reset or teardown. */
static struct timespec stop_deadline(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += FS_STOP_WAIT_S;
	return t;
}

/* Wait on f->cond (f->lock held) until the deadline; false once it has passed. */
static bool wait_until(struct fs_device *f, const struct timespec *deadline)
{
	return pthread_cond_timedwait(&f->cond, &f->lock, deadline) != ETIMEDOUT;
}

static void report_stuck(struct fs_device *f, const char *what)
{
	if (!__atomic_exchange_n(&f->stuck_logged, true, __ATOMIC_RELAXED))
		fprintf(stderr,
			"vmm: %s: a file server thread has been in a host call for over %d s; "
			"%s without it\n",
			f->vdev.name, FS_STOP_WAIT_S, what);
}

/*
 * Stop the queues and forget the session. Called with the transport's lock held (a vCPU
 * writing the status): every wait is bounded, and a worker still busy at the deadline is
 * left to finish on its own; it can no longer touch the ring.
 */
static void fs_reset(struct virtio_device *vdev)
{
	struct fs_device *f = to_fs(vdev);
	struct timespec deadline = stop_deadline();
	bool any = false, late = false;

	pthread_mutex_lock(&f->lock);
	for (unsigned int i = 0; i < FS_NUM_QUEUES; i++) {
		struct fs_queue *q = &f->queues[i];

		if (!q->running)
			continue;
		__atomic_store_n(&q->stopping, true, __ATOMIC_RELEASE);
		/* a chain being taken or given back finishes; after that none is */
		pthread_mutex_lock(&q->ring_lock);
		pthread_mutex_unlock(&q->ring_lock);
		eventfd_write(q->stop_fd, 1);
	}
	for (unsigned int i = 0; i < FS_NUM_QUEUES; i++) {
		struct fs_queue *q = &f->queues[i];

		if (!q->running)
			continue;
		/* parked again: the worker no longer touches the ring or guest memory */
		while ((q->go || q->serving) && !late)
			late = !wait_until(f, &deadline);
		q->go = false;
		q->running = false;
		q->kick_fd = -1;
		any = true;
	}
	/* the driver starts over with FUSE_INIT: what it looked up and opened is gone */
	if (any && f->queues[0].has_thread) {
		f->server_reset = true;
		pthread_cond_broadcast(&f->cond);
		while (f->server_reset && !late)
			late = !wait_until(f, &deadline);
	}
	pthread_mutex_unlock(&f->lock);
	if (late)
		report_stuck(f, "the device was reset");
}

static const struct virtio_device_ops fs_ops = {
	.config_read = fs_config_read,
	.config_write = fs_config_write,
	.queue_start = fs_queue_start,
	.reset = fs_reset,
};

void fs_seccomp_fds(const struct fs_device *f, struct vmm_seccomp_fds *fds)
{
	for (unsigned int i = 0; i < f->vdev.num_queues && i < FS_NUM_QUEUES; i++)
		vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_EVENT, f->queues[i].stop_fd);
}

/*
 * Raise the process's descriptor limit so that full-size windows fit: the soft limit up
 * to the hard one, and the hard one too where we may (root with CAP_SYS_RESOURCE). Where
 * neither can grow, the windows shrink instead (window_take()).
 */
static void make_room(void)
{
	const rlim_t want = FS_WANT_NOFILE;
	struct rlimit rl, up;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	up.rlim_cur = want;
	up.rlim_max = rl.rlim_max > want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &up) == 0)
		return;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	setrlimit(RLIMIT_NOFILE, &rl);
}

int fs_device_init(struct fs_device *f, struct virtio_device **vdev_out,
		   const struct fs_share_options *o, const struct guest_mem *mem, char *err,
		   size_t errlen)
{
	struct virtio_device *vdev = &f->vdev;
	struct virtio_fs_config cfg;
	size_t taglen = strnlen(o->tag, sizeof(o->tag));

	memset(f, 0, sizeof(*f));
	for (unsigned int i = 0; i < FS_NUM_QUEUES; i++) {
		f->queues[i].stop_fd = -1;
		f->queues[i].kick_fd = -1;
	}
	if (taglen == 0 || taglen > FS_TAG_MAX) {
		snprintf(err, errlen, "%s: the tag must be 1 to %d bytes", o->dir, FS_TAG_MAX);
		return -EINVAL;
	}
	make_room();
	f->server = fs_server_create(o->dir, o->readonly, err, errlen);
	if (!f->server)
		return -EINVAL;
	pthread_mutex_init(&f->lock, NULL);
	pthread_mutex_init(&f->server_lock, NULL);
	for (unsigned int i = 0; i < FS_NUM_QUEUES; i++)
		pthread_mutex_init(&f->queues[i].ring_lock, NULL);
	{
		pthread_condattr_t ca;

		/* the stop deadlines are on the monotonic clock */
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&f->cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	f->vdev.ops = &fs_ops; /* from here fs_device_destroy() undoes the rest */
	for (unsigned int i = 0; i < FS_NUM_QUEUES; i++) {
		struct fs_queue *q = &f->queues[i];

		q->fs = f;
		q->index = i;
		q->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		q->chain = malloc(sizeof(*q->chain));
		if (q->stop_fd < 0 || !q->chain) {
			snprintf(err, errlen, "%s: %s", o->dir, strerror(errno));
			fs_device_destroy(f);
			return -ENOMEM;
		}
	}

	memset(&cfg, 0, sizeof(cfg));
	memcpy(cfg.tag, o->tag, taglen);
	cfg.num_request_queues = htole32(FS_NUM_QUEUES - 1);
	memcpy(f->config, &cfg, sizeof(cfg));

	vdev->name = "virtio-fs";
	vdev->device_id = VIRTIO_ID_FS;
	vdev->device_features = 0; /* no notification queue, no DAX window */
	vdev->num_queues = FS_NUM_QUEUES;
	vdev->queue_max_size = FS_QUEUE_SIZE;
	vdev->config_size = FS_CONFIG_SIZE;
	vdev->mem = mem;
	vdev->ops = &fs_ops;
	vdev->priv = f;
	*vdev_out = vdev;
	return 0;
}

int fs_device_start(struct fs_device *f, char *err, size_t errlen)
{
	bool fenced = true;

	for (unsigned int i = 0; i < FS_NUM_QUEUES; i++) {
		struct fs_queue *q = &f->queues[i];
		sigset_t all, old;
		int r;

		if (q->has_thread)
			continue;
		/* the worker takes no signals: vCPU kicks and SIGINT/SIGTERM are for others */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		r = pthread_create(&q->thread, NULL, queue_thread, q);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (r) {
			snprintf(err, errlen, "cannot start a worker: %s", strerror(r));
			return -r;
		}
		q->has_thread = true;
	}
	pthread_mutex_lock(&f->lock);
	for (unsigned int i = 0; i < FS_NUM_QUEUES; i++) {
		while (!f->queues[i].fence_done)
			pthread_cond_wait(&f->cond, &f->lock);
		fenced &= f->queues[i].fenced;
	}
	pthread_mutex_unlock(&f->lock);
	if (!fenced) {
		snprintf(err, errlen, "a worker could not confine itself (Landlock or seccomp)");
		return 1;
	}
	return 0;
}

void fs_device_destroy(struct fs_device *f)
{
	struct timespec deadline;
	bool late = false;

	if (!f->server)
		return;
	if (f->vdev.ops) {
		fs_reset(&f->vdev);
		deadline = stop_deadline();
		pthread_mutex_lock(&f->lock);
		for (unsigned int i = 0; i < FS_NUM_QUEUES; i++)
			f->queues[i].quit = true;
		pthread_cond_broadcast(&f->cond);
		for (unsigned int i = 0; i < FS_NUM_QUEUES; i++)
			while (f->queues[i].has_thread && !f->queues[i].exited && !late)
				late = !wait_until(f, &deadline);
		pthread_mutex_unlock(&f->lock);
		if (late) {
			/* the process is on its way out; the worker may still use all of this */
			report_stuck(f, "stopping");
			return;
		}
	}
	for (unsigned int i = 0; i < FS_NUM_QUEUES; i++) {
		struct fs_queue *q = &f->queues[i];

		if (q->has_thread)
			pthread_join(q->thread, NULL); /* it has left its loop: returns at once */
		q->has_thread = false;
		if (q->stop_fd >= 0)
			close(q->stop_fd);
		q->stop_fd = -1;
		free(q->chain);
		q->chain = NULL;
	}
	fs_server_destroy(f->server);
	f->server = NULL;
	pthread_mutex_destroy(&f->lock);
	pthread_mutex_destroy(&f->server_lock);
	for (unsigned int i = 0; i < FS_NUM_QUEUES; i++)
		pthread_mutex_destroy(&f->queues[i].ring_lock);
	pthread_cond_destroy(&f->cond);
	f->vdev.ops = NULL;
}

/* ------------------------------------------------------------------------------------ */
/* The kind: --share, in the VMM's registry (virtio/registry.h) */

/* Each guest-held node costs a descriptor: the soft limit goes up to the hard one. */
static int fs_kind_open(struct virtio_slot *slot, const struct virtio_host *host, char *err,
			size_t errlen)
{
	struct fs_device *f = calloc(1, sizeof(*f));
	struct rlimit rl;
	char why[384];

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (!f) {
		snprintf(err, errlen, "--share: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	if (fs_device_init(f, &slot->vdev, slot->options, host->mem, why, sizeof(why))) {
		free(f);
		snprintf(err, errlen, "--share %s", why); /* why names the directory */
		return -EINVAL;
	}
	slot->state = f;
	return 0;
}

/* The workers, made only now that no thread can inherit root's powers. */
static int fs_kind_start(struct virtio_slot *slot, char *err, size_t errlen)
{
	const struct fs_share_options *o = slot->options;
	char why[256];
	int r = fs_device_start(slot->state, why, sizeof(why));

	if (r)
		snprintf(err, errlen, "--share %s: %s", o->dir, why);
	return r < 0 ? -EINVAL : r;
}

static void fs_kind_stop(struct virtio_slot *slot)
{
	fs_device_destroy(slot->state);
}

static void fs_kind_destroy(struct virtio_slot *slot)
{
	struct fs_device *f = slot->state;

	/* a worker stuck in a host call may still use it: then it stays (fs_device_destroy) */
	if (!f->server) {
		free(f);
		slot->state = NULL;
	}
}

static void fs_kind_seccomp_fds(const struct virtio_slot *slot, struct vmm_seccomp_fds *fds)
{
	fs_seccomp_fds(slot->state, fds);
}

const struct virtio_kind virtio_fs_kind = {
	.name = "virtio-fs",
	.noun = "share",
	.stage = VIRTIO_OPEN_JAILED,
	.open = fs_kind_open,
	.start = fs_kind_start,
	.stop = fs_kind_stop,
	.destroy = fs_kind_destroy,
	.seccomp_fds = fs_kind_seccomp_fds,
	.save = NULL, /* snapshots: filled by the snapshot work */
	.restore = NULL,
};
