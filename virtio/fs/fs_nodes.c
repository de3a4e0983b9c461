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

uint64_t fs_node_id(const struct fs_server *s, uint32_t slot)
{
	return (uint64_t)s->nodes[slot].gen << 32 | slot;
}

/* The node the guest names, or NULL if it never got that ID (or forgot it). */
struct fs_node *fs_node_get(struct fs_server *s, uint64_t id)
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
	uint32_t *link = &s->buckets[fs_node_hash(n->dev, n->ino)];

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

int fs_nodes_grow(struct fs_server *s)
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
int64_t fs_node_add(struct fs_server *s, int fd, const struct stat *st)
{
	uint32_t b = fs_node_hash(st->st_dev, st->st_ino), slot;
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
		int r = fs_nodes_grow(s);

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

void fs_node_forget(struct fs_server *s, uint64_t id, uint64_t count)
{
	struct fs_node *n = fs_node_get(s, id);
	uint32_t slot = (uint32_t)id;

	if (!n || slot == FS_ROOT_SLOT)
		return;
	n->nlookup -= count < n->nlookup ? count : n->nlookup;
	if (n->nlookup == 0)
		node_free(s, slot);
}

struct fs_handle *fs_handle_get(struct fs_server *s, uint64_t fh, bool dir)
{
	uint32_t slot = (uint32_t)fh;

	if (slot >= s->nhandles_cap || s->handles[slot].fd < 0 ||
	    s->handles[slot].gen != (uint32_t)(fh >> 32) || s->handles[slot].dir != dir)
		return NULL;
	return &s->handles[slot];
}

/* Take ownership of fd as a handle. Returns the guest's fh, or -errno (fd closed). */
int64_t fs_handle_add(struct fs_server *s, int fd, bool dir)
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

void fs_handle_close(struct fs_server *s, struct fs_handle *h)
{
	close(h->fd);
	h->fd = -1;
	h->gen = (h->gen + 1) & 0x7fffffff; /* keeps fs_handle_add's result positive */
	s->handles_used--;
}

void fs_forget_all(struct fs_server *s)
{
	for (uint32_t i = 0; i < s->nhandles_cap; i++)
		if (s->handles[i].fd >= 0)
			fs_handle_close(s, &s->handles[i]);
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

void fs_fill_entry(struct fs_server *s, struct fuse_entry_out *e, uint32_t slot,
		   const struct stat *st)
{
	memset(e, 0, sizeof(*e));
	e->nodeid = fs_node_id(s, slot);
	e->entry_valid = s->timeout_s;
	e->attr_valid = s->timeout_s;
	fs_fill_attr(&e->attr, st);
}

/* Look name up below parent: a new or existing node, its attributes in *st. */
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
