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
 * Threading: none inside; fs_server_handle() has one caller at a time.
 */
#ifndef VIRTIO_FS_FS_SERVER_INTERNAL_H
#define VIRTIO_FS_FS_SERVER_INTERNAL_H

#include "virtio/fs/fs_server.h"

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
#define FS_HASH_BUCKETS 4096u
#define FS_TIMEOUT_S 1		  /* cache=auto: the host may change files too */
#define FS_TIMEOUT_ALWAYS_S 86400 /* cache=always: a day, as good as for ever */
#define FS_NO_REPLY 1		  /* handler result: nothing goes back (FORGET) */
#define FS_MINOR_MIN 12		  /* oldest protocol whose argument layouts we decode */

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
	uint32_t timeout_s;  /* entry_valid and attr_valid of every reply (cache=) */
	uint32_t open_flags; /* FOPEN_* of every OPEN and CREATE reply (cache=) */
	bool initialized;    /* FUSE_INIT answered */
	uint32_t minor;	     /* negotiated protocol minor */
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

/* ---- nodes, handles and the host side (fs_nodes.c) ---- */

uint32_t fs_node_hash(dev_t dev, ino_t ino);
uint64_t fs_node_id(const struct fs_server *s, uint32_t slot);
struct fs_node *fs_node_get(struct fs_server *s, uint64_t id);
int fs_nodes_grow(struct fs_server *s);
int64_t fs_node_add(struct fs_server *s, int fd, const struct stat *st);
void fs_node_forget(struct fs_server *s, uint64_t id, uint64_t count);
struct fs_handle *fs_handle_get(struct fs_server *s, uint64_t fh, bool dir);
int64_t fs_handle_add(struct fs_server *s, int fd, bool dir);
void fs_handle_close(struct fs_server *s, struct fs_handle *h);
void fs_forget_all(struct fs_server *s);
int fs_to_window(const struct fs_server *s, int fd);
int fs_open_below(const struct fs_server *s, int dirfd, const char *name, int flags, mode_t mode);
void fs_fd_name(char buf[16], int fd);
int fs_reopen(const struct fs_server *s, int fd, int flags);
void fs_fill_attr(struct fuse_attr *a, const struct stat *st);
void fs_fill_entry(struct fs_server *s, struct fuse_entry_out *e, uint32_t slot,
		   const struct stat *st);
int64_t fs_lookup_child(struct fs_server *s, int parent_fd, const char *name, struct stat *st);

/* ---- request decoding (fs_server.c) ---- */

void *fs_out_buf(struct fs_req *r, size_t len);
const void *fs_arg_struct(struct fs_req *r, size_t size, size_t *pos);
const void *fs_arg_handle(struct fs_req *r, size_t size, size_t fh_offset, bool dir,
			  struct fs_handle **h, int *err);
int fs_take_string(struct fs_req *r, size_t *pos, const char **str, bool component);
struct fs_node *fs_req_node(struct fs_req *r);

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
