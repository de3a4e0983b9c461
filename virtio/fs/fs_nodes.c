// SPDX-License-Identifier: MIT
/* The FUSE server's nodes and handles, and every host call on a path
 * (virtio/fs/fs_server_internal.h).
 */
#include "virtio/fs/fs_server_internal.h"

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
#include <sys/syscall.h>
#include <linux/openat2.h>

/* ------------------------------------------------------------------------------------ */
/* Nodes and handles */

uint32_t fs_node_hash(dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ull ^ (uint64_t)dev;

	return (uint32_t)(h >> 32) % FS_HASH_BUCKETS;
}

struct fs_node *fs_node_at(const struct fs_server *s, uint32_t slot)
{
	return &s->node_chunks[slot / FS_CHUNK][slot % FS_CHUNK];
}

static struct fs_handle *handle_at(const struct fs_server *s, uint32_t slot)
{
	return &s->handle_chunks[slot / FS_CHUNK][slot % FS_CHUNK];
}

static uint64_t node_id(const struct fs_server *s, uint32_t slot)
{
	return (uint64_t)fs_node_at(s, slot)->gen << 32 | slot;
}

/* The live node the guest names, or NULL if it never got that ID (or forgot it). Locked. */
static struct fs_node *node_find(struct fs_server *s, uint64_t id)
{
	uint32_t slot = (uint32_t)id;
	struct fs_node *n;

	if (slot == 0 || slot >= s->nnodes_cap)
		return NULL;
	n = fs_node_at(s, slot);
	if (n->fd < 0 || n->nlookup == 0 || n->gen != (uint32_t)(id >> 32))
		return NULL;
	return n;
}

struct fs_node *fs_node_hold(struct fs_server *s, uint64_t id)
{
	struct fs_node *n;

	pthread_mutex_lock(&s->lock);
	n = node_find(s, id);
	if (n)
		n->refs++;
	pthread_mutex_unlock(&s->lock);
	return n;
}

static void node_unhash(struct fs_server *s, uint32_t slot)
{
	struct fs_node *n = fs_node_at(s, slot);
	uint32_t *link = &s->buckets[fs_node_hash(n->dev, n->ino)];

	while (*link && *link != slot)
		link = &fs_node_at(s, *link)->hash_next;
	if (*link == slot)
		*link = n->hash_next;
	n->hash_next = 0;
}

/*
 * Locked: the guest's last lookup of slot is gone. No new request can find it from now on;
 * returns its descriptor for the caller to close once unlocked, or -1 while a request still
 * uses it (the last fs_node_put() closes it then).
 */
static int node_drop(struct fs_server *s, uint32_t slot)
{
	struct fs_node *n = fs_node_at(s, slot);
	int fd = n->fd;

	node_unhash(s, slot);
	n->nlookup = 0;
	n->gen = (n->gen + 1) & FS_GEN_MASK; /* an old ID for this slot never matches again */
	if (n->refs)
		return -1;
	n->fd = -1;
	n->hash_next = s->free_nodes;
	s->free_nodes = slot;
	s->nodes_used--;
	return fd;
}

void fs_node_put(struct fs_server *s, struct fs_node *n)
{
	int fd = -1;

	pthread_mutex_lock(&s->lock);
	if (--n->refs == 0 && n->nlookup == 0) {
		/* dying: forgotten while this request used it */
		fd = n->fd;
		n->fd = -1;
		n->hash_next = s->free_nodes;
		s->free_nodes = n->slot;
		s->nodes_used--;
	}
	pthread_mutex_unlock(&s->lock);
	if (fd >= 0)
		close(fd);
}

/* Locked: room for FS_CHUNK more nodes, up to the window. */
int fs_nodes_grow(struct fs_server *s)
{
	uint32_t cap = s->nnodes_cap, c = cap / FS_CHUNK;
	struct fs_node *n;

	if (cap >= s->win_size || c >= FS_CHUNKS)
		return -ENFILE;
	n = malloc(sizeof(*n) * FS_CHUNK);
	if (!n)
		return -ENOMEM;
	s->node_chunks[c] = n;
	/* slot 0 is never handed out, so a zero node ID is never valid; slot 1 is the root */
	for (uint32_t i = FS_CHUNK; i-- > 0;) {
		n[i] = (struct fs_node){ .fd = -1, .slot = cap + i };
		if (cap + i > FS_ROOT_SLOT) {
			n[i].hash_next = s->free_nodes;
			s->free_nodes = cap + i;
		}
	}
	s->nnodes_cap = cap + FS_CHUNK;
	return 0;
}

/*
 * Take ownership of fd (an O_PATH descriptor with attributes st) as a node: the live node
 * for the same inode gets one more lookup and fd is closed. Returns the node ID or -errno
 * (fd closed).
 */
int64_t fs_node_add(struct fs_server *s, int fd, const struct stat *st)
{
	uint32_t b = fs_node_hash(st->st_dev, st->st_ino), slot;
	struct fs_node *n;
	int64_t id;

	pthread_mutex_lock(&s->lock);
	for (slot = s->buckets[b]; slot; slot = n->hash_next) {
		n = fs_node_at(s, slot);
		if (n->dev == st->st_dev && n->ino == st->st_ino) {
			n->nlookup++;
			id = (int64_t)node_id(s, slot);
			pthread_mutex_unlock(&s->lock);
			close(fd);
			return id;
		}
	}
	if (!s->free_nodes) {
		int r = fs_nodes_grow(s);

		if (r) {
			pthread_mutex_unlock(&s->lock);
			close(fd);
			return r;
		}
	}
	slot = s->free_nodes;
	n = fs_node_at(s, slot);
	s->free_nodes = n->hash_next;
	n->fd = fd;
	n->type = st->st_mode & S_IFMT;
	n->dev = st->st_dev;
	n->ino = st->st_ino;
	n->nlookup = 1;
	n->refs = 0;
	n->hash_next = s->buckets[b];
	s->buckets[b] = slot;
	s->nodes_used++;
	id = (int64_t)node_id(s, slot);
	pthread_mutex_unlock(&s->lock);
	return id;
}

void fs_node_forget(struct fs_server *s, uint64_t id, uint64_t count)
{
	uint32_t slot = (uint32_t)id;
	struct fs_node *n;
	int fd = -1;

	pthread_mutex_lock(&s->lock);
	n = node_find(s, id);
	if (n && slot != FS_ROOT_SLOT) {
		n->nlookup -= count < n->nlookup ? count : n->nlookup;
		if (n->nlookup == 0)
			fd = node_drop(s, slot);
	}
	pthread_mutex_unlock(&s->lock);
	if (fd >= 0)
		close(fd);
}

struct fs_handle *fs_handle_hold(struct fs_server *s, uint64_t fh, bool dir)
{
	uint32_t slot = (uint32_t)fh;
	struct fs_handle *h = NULL;

	pthread_mutex_lock(&s->lock);
	if (slot < s->nhandles_cap) {
		h = handle_at(s, slot);
		if (h->fd < 0 || h->closing || h->gen != (uint32_t)(fh >> 32) || h->dir != dir)
			h = NULL;
		else
			h->refs++;
	}
	pthread_mutex_unlock(&s->lock);
	return h;
}

/* Locked: the slot of a handle that has just lost its last use. Returns its descriptor. */
static int handle_free(struct fs_server *s, struct fs_handle *h)
{
	int fd = h->fd;

	h->fd = -1;
	h->closing = false;
	s->handles_used--;
	return fd;
}

void fs_handle_put(struct fs_server *s, struct fs_handle *h)
{
	int fd = -1;

	pthread_mutex_lock(&s->lock);
	if (--h->refs == 0 && h->closing)
		fd = handle_free(s, h);
	pthread_mutex_unlock(&s->lock);
	if (fd >= 0)
		close(fd);
}

/* Take ownership of fd as a handle. Returns the guest's fh, or -errno (fd closed). */
int64_t fs_handle_add(struct fs_server *s, int fd, bool dir)
{
	struct fs_handle *h = NULL;
	uint32_t slot;
	int64_t fh;

	pthread_mutex_lock(&s->lock);
	for (slot = 0; slot < s->nhandles_cap; slot++) {
		h = handle_at(s, slot);
		if (h->fd < 0)
			break;
	}
	if (slot == s->nhandles_cap) {
		uint32_t c = slot / FS_CHUNK;

		h = NULL;
		if (s->nhandles_cap < s->win_size && c < FS_CHUNKS)
			h = malloc(sizeof(*h) * FS_CHUNK);
		if (!h) {
			pthread_mutex_unlock(&s->lock);
			close(fd);
			return s->nhandles_cap < s->win_size ? -ENOMEM : -ENFILE;
		}
		for (uint32_t i = 0; i < FS_CHUNK; i++) {
			h[i] = (struct fs_handle){ .fd = -1 };
			pthread_mutex_init(&h[i].pos_lock, NULL);
		}
		s->handle_chunks[c] = h;
		s->nhandles_cap += FS_CHUNK;
	}
	h->fd = fd;
	h->dir = dir;
	h->closing = false;
	h->refs = 0;
	s->handles_used++;
	fh = (int64_t)((uint64_t)h->gen << 32 | slot);
	pthread_mutex_unlock(&s->lock);
	return fh;
}

/*
 * RELEASE: from now on no request finds h; the descriptor closes when the last request
 * holding it (the caller's, at least) drops its reference.
 */
void fs_handle_release(struct fs_server *s, struct fs_handle *h)
{
	pthread_mutex_lock(&s->lock);
	if (!h->closing) {
		h->closing = true;
		h->gen = (h->gen + 1) & FS_GEN_MASK; /* keeps fs_handle_add's result positive */
	}
	pthread_mutex_unlock(&s->lock);
}

/*
 * Every handle released and every node but the root forgotten. One entry per pass of the
 * lock, so that no descriptor is closed with it held; entries that requests still use close
 * when those finish.
 */
void fs_forget_all(struct fs_server *s)
{
	for (uint32_t i = 0;; i++) {
		struct fs_handle *h;
		int fd = -1;

		pthread_mutex_lock(&s->lock);
		if (i >= s->nhandles_cap) {
			pthread_mutex_unlock(&s->lock);
			break;
		}
		h = handle_at(s, i);
		if (h->fd >= 0 && !h->closing) {
			h->closing = true;
			h->gen = (h->gen + 1) & FS_GEN_MASK;
			if (!h->refs)
				fd = handle_free(s, h);
		}
		pthread_mutex_unlock(&s->lock);
		if (fd >= 0)
			close(fd);
	}
	for (uint32_t i = FS_ROOT_SLOT + 1;; i++) {
		struct fs_node *n;
		int fd = -1;

		pthread_mutex_lock(&s->lock);
		if (i >= s->nnodes_cap) {
			if (s->nnodes_cap > FS_ROOT_SLOT)
				fs_node_at(s, FS_ROOT_SLOT)->nlookup = 1;
			pthread_mutex_unlock(&s->lock);
			break;
		}
		n = fs_node_at(s, i);
		if (n->fd >= 0 && n->nlookup)
			fd = node_drop(s, i);
		pthread_mutex_unlock(&s->lock);
		if (fd >= 0)
			close(fd);
	}
}

/* The tables' memory, once no request can run (the server is being destroyed). */
void fs_tables_free(struct fs_server *s)
{
	for (uint32_t c = 0; c < FS_CHUNKS; c++) {
		if (s->handle_chunks[c])
			for (uint32_t i = 0; i < FS_CHUNK; i++)
				pthread_mutex_destroy(&s->handle_chunks[c][i].pos_lock);
		free(s->handle_chunks[c]);
		free(s->node_chunks[c]);
		s->handle_chunks[c] = NULL;
		s->node_chunks[c] = NULL;
	}
}

/* ------------------------------------------------------------------------------------ */
/* Host side: everything relative to descriptors */

/*
 * Move a descriptor just made into the server's window (closing the original), or answer
 * ENFILE when the window is full. fd may be -errno, which is passed on.
 */
int fs_to_window(const struct fs_server *s, int fd)
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
int fs_open_below(const struct fs_server *s, int dirfd, const char *name, int flags, mode_t mode)
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
			return fs_to_window(s, fd < 0 ? -errno : fd);
		__atomic_store_n(&no_openat2, 1, __ATOMIC_RELAXED);
	}
	/* name has no '/' and is not "..", so O_NOFOLLOW on its one component is enough */
	fd = openat(dirfd, name, flags, mode);
	return fs_to_window(s, fd < 0 ? -errno : fd);
}

/*
 * Our own descriptor as a name in /proc/self/fd, for the calls that have no descriptor
 * form on O_PATH (chmod, linking without CAP_DAC_READ_SEARCH, reopening with an access
 * mode). Always relative to s->proc_fd, never AT_FDCWD: the file server's seccomp list
 * refuses every directory descriptor but its own. Only used for nodes that are not
 * symlinks, so following the link lands on the node itself and nowhere else; with
 * Landlock, the kernel checks the file it lands on, which must lie beneath the share.
 */
void fs_fd_name(char buf[16], int fd)
{
	snprintf(buf, 16, "%d", fd);
}

/* A node reopened with an access mode, as a descriptor in the window. */
int fs_reopen(const struct fs_server *s, int fd, int flags)
{
	char n[16];
	int r;

	fs_fd_name(n, fd);
	if (!(flags & O_PATH))
		flags |= O_NONBLOCK | O_NOCTTY;
	r = openat(s->proc_fd, n, flags | O_CLOEXEC);
	return fs_to_window(s, r < 0 ? -errno : r);
}

void fs_fill_attr(struct fuse_attr *a, const struct stat *st)
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

void fs_fill_entry(const struct fs_server *s, struct fuse_entry_out *e, uint64_t id,
		   const struct stat *st)
{
	memset(e, 0, sizeof(*e));
	e->nodeid = id;
	e->entry_valid = s->timeout_s;
	e->attr_valid = s->timeout_s;
	fs_fill_attr(&e->attr, st);
}

/* Look name up below parent: a new or existing node's ID, its attributes in *st. */
int64_t fs_lookup_child(struct fs_server *s, int parent_fd, const char *name, struct stat *st)
{
	int fd = fs_open_below(s, parent_fd, name, O_PATH, 0);

	if (fd < 0)
		return fd;
	if (fstat(fd, st) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fs_node_add(s, fd, st);
}
