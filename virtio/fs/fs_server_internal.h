/* SPDX-License-Identifier: MIT */
/*
 * The FUSE server's own parts, shared by its files and by nothing else (the virtio-fs
 * device uses virtio/fs/fs_server.h):
 *   fs_server.c     request decoding, the opcode table, fs_server_handle(), descriptor
 *                   windows, creation and Landlock
 *   fs_nodes.c      node IDs and file handles, and the host side: every path operation
 *                   relative to a descriptor, inside the server's window
 *   fs_ops_names.c  the opcodes that look up, make, change and remove names
 *   fs_ops_files.c  the opcodes on open files and directories
 * Threading: fs_server_handle() runs on several threads at once (virtio/fs/fs_server.h).
 * s->lock guards the node and handle tables (slots, generations, the hash, free lists,
 * lookup counts, reference counts, the counters) and the session (initialized, minor); it
 * is held only to find, add, count or drop an entry, never across a host call on a file.
 * Everything else of the server is fixed after fs_server_create() and
 * fs_server_set_cache(). A request holds a reference on every node and handle it uses
 * (struct fs_req records them, fs_server_handle() drops them), so a FORGET, RELEASE or
 * reset on another thread makes the entry unreachable at once but closes its descriptor
 * only when the last request using it is done: a descriptor number is never closed under
 * a thread that still calls the host with it. Entries live in fixed chunks that never
 * move, so a held pointer stays valid while the tables grow. Lock order: a handle's
 * pos_lock, then s->lock.
 */
#ifndef VIRTIO_FS_FS_SERVER_INTERNAL_H
#define VIRTIO_FS_FS_SERVER_INTERNAL_H

#include "virtio/fs/fs_server.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <linux/fuse.h>

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
#define FS_WINDOWS 16		/* servers at once: one per --share */
#define FS_ARGS_MAX 16384	/* header + arguments copied out of a request */
#define FS_OUT_MAX (128u << 10) /* reply payloads built in our buffer (READDIR, ...) */
#define FS_DENTS_MAX 32768	/* one getdents64 of READDIR */
#define FS_HASH_BUCKETS 4096u
#define FS_TIMEOUT_S 1		  /* cache=auto: the host may change files too */
#define FS_TIMEOUT_ALWAYS_S 86400 /* cache=always: a day, as good as for ever */
#define FS_NO_REPLY 1		  /* handler result: nothing goes back (FORGET) */
#define FS_MINOR_MIN 12		  /* oldest protocol whose argument layouts we decode */
#define FS_CHUNK 64u		  /* table entries allocated at once; a window holds whole chunks */
#define FS_CHUNKS (FS_WINDOW_MAX / FS_CHUNK)
#define FS_GEN_MASK 0x7fffffffu /* IDs and handles stay positive as int64_t */
#define FS_REQ_NODES 2		/* nodes one request names: RENAME and LINK take two */

/*
 * A slot is free (fd -1), live (the guest may name it: nlookup > 0), or dying: forgotten,
 * out of the hash and its generation moved on, but a request still uses fd (refs > 0).
 */
struct fs_node {
	int fd; /* O_PATH, or -1 when the slot is free; fixed while refs > 0 */
	uint32_t gen;
	mode_t type; /* S_IFMT bits: fixed for the inode's life */
	dev_t dev;
	ino_t ino;
	uint64_t nlookup;   /* the guest's lookups; 0 once forgotten */
	uint32_t refs;	    /* requests in flight that use fd */
	uint32_t hash_next; /* 0 ends the chain (slot 0 is never used); free list when free */
	uint32_t slot;	    /* its own index */
};

struct fs_handle {
	int fd; /* -1 when the slot is free; fixed while refs > 0 */
	uint32_t gen;
	bool dir;
	bool closing;		  /* released: no request finds it; the last reference closes */
	uint32_t refs;		  /* requests in flight that use fd */
	pthread_mutex_t pos_lock; /* the descriptor's file offset: READDIR's seek + read, LSEEK */
};

/* One thread's buffers for the request it serves (fs_scratch_create()). */
struct fs_scratch {
	uint8_t args[FS_ARGS_MAX];
	uint8_t out[FS_OUT_MAX];
	uint8_t dents[FS_DENTS_MAX];
};

struct fs_server {
	int root_fd;
	int proc_fd; /* /proc/self/fd: reopening a node by its descriptor, relative to this */
	unsigned int win_base, win_size;
	bool readonly;
	uint32_t timeout_s;   /* entry_valid and attr_valid of every reply (cache=) */
	uint32_t open_flags;  /* FOPEN_* of every OPEN and CREATE reply (cache=) */
	pthread_mutex_t lock; /* everything below (see the threading note above) */
	bool initialized;     /* FUSE_INIT answered; read without the lock as an atomic */
	uint32_t minor;	      /* negotiated protocol minor */
	struct fs_node *node_chunks[FS_CHUNKS];
	uint32_t nnodes_cap, nodes_used; /* used: slots holding a descriptor */
	uint32_t free_nodes;		 /* first free slot, 0 if none */
	uint32_t buckets[FS_HASH_BUCKETS];
	struct fs_handle *handle_chunks[FS_CHUNKS];
	uint32_t nhandles_cap, handles_used;
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
	uint8_t *out;	   /* the thread's reply buffer, FS_OUT_MAX bytes */
	uint8_t *dents;	   /* and its getdents buffer */
	size_t out_len;	   /* payload in out */
	size_t direct_len; /* payload already in the guest's buffers after the header */
	/* references this request holds, dropped when it is answered */
	struct fs_node *held[FS_REQ_NODES];
	unsigned int nheld;
	struct fs_handle *held_handle;
};

/* ---- nodes, handles and the host side (fs_nodes.c) ---- */

/* All of these take s->lock themselves; none is called with it held. */
uint32_t fs_node_hash(dev_t dev, ino_t ino);
struct fs_node *fs_node_at(const struct fs_server *s, uint32_t slot);
struct fs_node *fs_node_hold(struct fs_server *s, uint64_t id);
void fs_node_put(struct fs_server *s, struct fs_node *n);
int fs_nodes_grow(struct fs_server *s);
int64_t fs_node_add(struct fs_server *s, int fd, const struct stat *st);
void fs_node_forget(struct fs_server *s, uint64_t id, uint64_t count);
struct fs_handle *fs_handle_hold(struct fs_server *s, uint64_t fh, bool dir);
void fs_handle_put(struct fs_server *s, struct fs_handle *h);
int64_t fs_handle_add(struct fs_server *s, int fd, bool dir);
void fs_handle_release(struct fs_server *s, struct fs_handle *h);
void fs_forget_all(struct fs_server *s);
void fs_tables_free(struct fs_server *s);
int fs_to_window(const struct fs_server *s, int fd);
int fs_open_below(const struct fs_server *s, int dirfd, const char *name, int flags, mode_t mode);
void fs_fd_name(char buf[16], int fd);
int fs_reopen(const struct fs_server *s, int fd, int flags);
void fs_fill_attr(struct fuse_attr *a, const struct stat *st);
void fs_fill_entry(const struct fs_server *s, struct fuse_entry_out *e, uint64_t id,
		   const struct stat *st);
int64_t fs_lookup_child(struct fs_server *s, int parent_fd, const char *name, struct stat *st);

/* ---- request decoding (fs_server.c) ---- */

void *fs_out_buf(struct fs_req *r, size_t len);
const void *fs_arg_struct(struct fs_req *r, size_t size, size_t *pos);
const void *fs_arg_handle(struct fs_req *r, size_t size, size_t fh_offset, bool dir,
			  struct fs_handle **h, int *err);
int fs_take_string(struct fs_req *r, size_t *pos, const char **str, bool component);
struct fs_node *fs_req_node(struct fs_req *r);
struct fs_node *fs_req_node_id(struct fs_req *r, uint64_t id);
struct fs_handle *fs_req_handle(struct fs_req *r, uint64_t fh, bool dir);

/* ---- opcode handlers: 0, FS_NO_REPLY or -errno (fs_ops_names.c, fs_ops_files.c) ---- */

int fs_op_init(struct fs_req *r);
int fs_op_destroy(struct fs_req *r);
int fs_op_lookup(struct fs_req *r);
int fs_op_forget(struct fs_req *r);
int fs_op_batch_forget(struct fs_req *r);
int fs_op_getattr(struct fs_req *r);
mode_t fs_safe_mode(mode_t type, mode_t mode);
int fs_op_setattr(struct fs_req *r);
int fs_op_readlink(struct fs_req *r);
int fs_dir_for_change(struct fs_req *r, struct fs_node **dir);
int fs_op_mknod(struct fs_req *r);
int fs_op_mkdir(struct fs_req *r);
int fs_op_symlink(struct fs_req *r);
int fs_op_unlink(struct fs_req *r);
int fs_op_rename(struct fs_req *r);
int fs_op_link(struct fs_req *r);
int fs_op_open(struct fs_req *r);
int fs_op_create(struct fs_req *r);
int fs_op_read(struct fs_req *r);
int fs_op_write(struct fs_req *r);
int fs_op_statfs(struct fs_req *r);
int fs_op_release(struct fs_req *r);
int fs_op_fsync(struct fs_req *r);
int fs_op_flush(struct fs_req *r);
int fs_op_opendir(struct fs_req *r);
int fs_op_readdir(struct fs_req *r);
int fs_op_access(struct fs_req *r);
int fs_op_lseek(struct fs_req *r);
int fs_op_fallocate(struct fs_req *r);

#endif
