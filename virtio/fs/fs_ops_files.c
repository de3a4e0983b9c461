// SPDX-License-Identifier: MIT
/* FUSE opcodes on open files and directories (virtio/fs/fs_server_internal.h). */
#include "virtio/fs/fs_server_internal.h"
#include "virtio/iov.h"
#include "virtio/virtqueue.h" /* VIRTQ_MAX_SEGMENTS: the most a WRITE can span */

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <linux/fuse.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <linux/falloc.h>

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

int fs_op_open(struct fs_req *r)
{
	const struct fuse_open_in *in;
	struct fuse_open_out *out;
	struct fs_node *n;
	int64_t fh;
	size_t pos;
	int flags, fd;

	in = fs_arg_struct(r, sizeof(*in), &pos);
	if (!in)
		return -EINVAL;
	n = fs_req_node(r);
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
	fd = fs_reopen(r->s, n->fd, flags);
	if (fd < 0)
		return fd;
	fh = fs_handle_add(r->s, fd, false);
	if (fh < 0)
		return (int)fh;
	out = fs_out_buf(r, sizeof(*out));
	out->fh = (uint64_t)fh;
	out->open_flags = r->s->open_flags;
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
	int pfd = fs_open_below(s, dirfd, name, O_PATH, 0), fd;

	if (pfd < 0)
		return pfd;
	if (fstat(pfd, &st) < 0) {
		fd = -errno;
	} else if (!S_ISREG(st.st_mode)) {
		fd = not_a_file(st.st_mode & S_IFMT);
	} else {
		fd = fs_reopen(s, pfd, flags);
	}
	close(pfd);
	return fd;
}

int fs_op_create(struct fs_req *r)
{
	const struct fuse_create_in *in;
	struct fuse_entry_out *e;
	struct fuse_open_out *o;
	struct fs_node *d;
	const char *name;
	struct stat st;
	int64_t id, fh;
	int ret, fd, pfd, flags;
	size_t pos;

	in = fs_arg_struct(r, sizeof(*in), &pos);
	if (!in)
		return -EINVAL;
	ret = fs_take_string(r, &pos, &name, true);
	if (!ret)
		ret = fs_dir_for_change(r, &d);
	if (ret)
		return ret;
	flags = open_flags(in->flags);
	if ((flags & O_ACCMODE) == O_ACCMODE)
		return -EINVAL;
	/* a new file is regular by construction; an old one is looked at before it is opened */
	for (int tries = 0;; tries++) {
		fd = fs_open_below(r->s, d->fd, name, flags | O_CREAT | O_EXCL,
				   fs_safe_mode(S_IFREG, in->mode));
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
	pfd = fs_reopen(r->s, fd, O_PATH);
	if (pfd < 0) {
		close(fd);
		return pfd;
	}
	id = fs_node_add(r->s, pfd, &st);
	if (id < 0) {
		close(fd);
		return (int)id;
	}
	fh = fs_handle_add(r->s, fd, false);
	if (fh < 0) {
		fs_node_forget(r->s, (uint64_t)id, 1);
		return (int)fh;
	}
	e = fs_out_buf(r, sizeof(*e) + sizeof(*o));
	fs_fill_entry(r->s, e, (uint64_t)id, &st);
	o = (struct fuse_open_out *)(e + 1);
	o->fh = (uint64_t)fh;
	o->open_flags = r->s->open_flags;
	return 0;
}

int fs_op_read(struct fs_req *r)
{
	const struct fuse_read_in *in;
	struct iovec v[64];
	struct fs_handle *h;
	size_t size;
	int err;
	ssize_t got;
	int n;

	in = fs_arg_handle(r, sizeof(*in), offsetof(struct fuse_read_in, fh), false, &h, &err);
	if (!in)
		return err;
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

int fs_op_write(struct fs_req *r)
{
	const struct fuse_write_in *in;
	struct fuse_write_out *out;
	struct iovec v[VIRTQ_MAX_SEGMENTS];
	struct fs_handle *h;
	size_t pos;
	ssize_t put;
	int n;

	in = fs_arg_struct(r, sizeof(*in), &pos);
	if (!in)
		return -EINVAL;
	/* the data follows the arguments; in.len says how far, and the chain holds it */
	if (in->size > r->in.len - sizeof(struct fuse_in_header) - sizeof(*in) ||
	    in->size > FS_MAX_WRITE)
		return -EINVAL;
	if (r->s->readonly)
		return -EROFS;
	h = fs_req_handle(r, in->fh, false);
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
	out = fs_out_buf(r, sizeof(*out));
	out->size = (uint32_t)put;
	return 0;
}

int fs_op_statfs(struct fs_req *r)
{
	struct fs_node *n = fs_req_node(r);
	struct fuse_statfs_out *out;
	struct statvfs sv;

	if (!n)
		return -ESTALE;
	if (fstatvfs(n->fd, &sv) < 0)
		return -errno;
	out = fs_out_buf(r, sizeof(*out));
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

int fs_op_release(struct fs_req *r)
{
	const bool dir = r->in.opcode == FUSE_RELEASEDIR;
	const struct fuse_release_in *in;
	struct fs_handle *h;
	int err;

	in = fs_arg_handle(r, sizeof(*in), offsetof(struct fuse_release_in, fh), dir, &h, &err);
	if (!in)
		return err;
	fs_handle_release(r->s, h);
	r->out_len = 0;
	return 0;
}

int fs_op_fsync(struct fs_req *r)
{
	const bool dir = r->in.opcode == FUSE_FSYNCDIR;
	const struct fuse_fsync_in *in;
	struct fs_handle *h;
	int err;
	int ret;

	in = fs_arg_handle(r, sizeof(*in), offsetof(struct fuse_fsync_in, fh), dir, &h, &err);
	if (!in)
		return err;
	ret = (in->fsync_flags & FUSE_FSYNC_FDATASYNC) ? fdatasync(h->fd) : fsync(h->fd);
	if (ret < 0)
		return -errno;
	r->out_len = 0;
	return 0;
}

int fs_op_flush(struct fs_req *r)
{
	const struct fuse_flush_in *in;
	struct fs_handle *h;
	int err;

	/* writes reach the host file at once: nothing is buffered to flush */
	in = fs_arg_handle(r, sizeof(*in), offsetof(struct fuse_flush_in, fh), false, &h, &err);
	if (!in)
		return err;
	r->out_len = 0;
	return 0;
}

int fs_op_opendir(struct fs_req *r)
{
	const struct fuse_open_in *in;
	struct fuse_open_out *out;
	struct fs_node *n;
	int64_t fh;
	size_t pos;
	int fd;

	in = fs_arg_struct(r, sizeof(*in), &pos);
	if (!in)
		return -EINVAL;
	n = fs_req_node(r);
	if (!n)
		return -ESTALE;
	if (n->type != S_IFDIR)
		return -ENOTDIR;
	fd = openat(n->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fd = fs_to_window(r->s, fd < 0 ? -errno : fd);
	if (fd < 0)
		return fd;
	fh = fs_handle_add(r->s, fd, true);
	if (fh < 0)
		return (int)fh;
	out = fs_out_buf(r, sizeof(*out));
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

int fs_op_readdir(struct fs_req *r)
{
	const bool plus = r->in.opcode == FUSE_READDIRPLUS;
	const struct fuse_read_in *in;
	struct fs_server *s = r->s;
	struct fs_handle *h;
	size_t size, used = 0;
	int err, ret = 0;
	bool full = false;

	in = fs_arg_handle(r, sizeof(*in), offsetof(struct fuse_read_in, fh), true, &h, &err);
	if (!in)
		return err;
	if (in->offset > INT64_MAX)
		return -EINVAL;
	size = in->size < FS_OUT_MAX ? in->size : FS_OUT_MAX;
	if (size > r->wr_bytes - sizeof(struct fuse_out_header))
		size = r->wr_bytes - sizeof(struct fuse_out_header);
	/* offsets are the d_off the host gave each entry: seek there every time */
	pthread_mutex_lock(&h->pos_lock);
	if (lseek(h->fd, (off_t)in->offset, SEEK_SET) < 0) {
		ret = -errno;
		full = true;
	}
	while (!full) {
		long n = syscall(SYS_getdents64, h->fd, r->dents, FS_DENTS_MAX);

		if (n < 0) {
			if (!used)
				ret = -errno;
			break;
		}
		if (n == 0)
			break;
		for (long off = 0; off < n;) {
			struct linux_dirent64 *d = (void *)(r->dents + off);
			size_t namelen = strlen(d->d_name);
			size_t head = plus ? FUSE_NAME_OFFSET_DIRENTPLUS : FUSE_NAME_OFFSET;
			size_t rec = FUSE_DIRENT_ALIGN(head + namelen);
			struct fuse_dirent *de;

			off += d->d_reclen;
			if (used + rec > size) {
				full = true;
				break;
			}
			memset(r->out + used, 0, rec);
			if (plus) {
				struct fuse_direntplus *dp = (void *)(r->out + used);
				bool dots = !strcmp(d->d_name, ".") || !strcmp(d->d_name, "..");
				struct stat st;
				int64_t id = -1;

				/* node ID 0: "no entry to link", which the driver accepts */
				if (!dots)
					id = fs_lookup_child(s, h->fd, d->d_name, &st);
				if (id >= 0)
					fs_fill_entry(s, &dp->entry_out, (uint64_t)id, &st);
				de = &dp->dirent;
			} else {
				de = (void *)(r->out + used);
			}
			de->ino = d->d_ino;
			de->off = (uint64_t)d->d_off;
			de->namelen = (uint32_t)namelen;
			de->type = d->d_type;
			memcpy(de->name, d->d_name, namelen);
			used += rec;
		}
	}
	pthread_mutex_unlock(&h->pos_lock);
	if (ret)
		return ret;
	r->out_len = used;
	return 0;
}

int fs_op_access(struct fs_req *r)
{
	const struct fuse_access_in *in;
	struct fs_node *n;
	struct stat st;
	size_t pos;
	mode_t bits;

	in = fs_arg_struct(r, sizeof(*in), &pos);
	if (!in)
		return -EINVAL;
	n = fs_req_node(r);
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

int fs_op_lseek(struct fs_req *r)
{
	const struct fuse_lseek_in *in;
	struct fuse_lseek_out *out;
	struct fs_handle *h;
	int err;
	off_t o;

	in = fs_arg_handle(r, sizeof(*in), offsetof(struct fuse_lseek_in, fh), false, &h, &err);
	if (!in)
		return err;
	if (in->whence != SEEK_SET && in->whence != SEEK_CUR && in->whence != SEEK_END &&
	    in->whence != SEEK_DATA && in->whence != SEEK_HOLE)
		return -EINVAL;
	/* SEEK_CUR reads the offset that READDIR of the same handle moves */
	pthread_mutex_lock(&h->pos_lock);
	o = lseek(h->fd, (off_t)in->offset, (int)in->whence);
	err = o < 0 ? -errno : 0;
	pthread_mutex_unlock(&h->pos_lock);
	if (err)
		return err;
	out = fs_out_buf(r, sizeof(*out));
	out->offset = (uint64_t)o;
	return 0;
}

int fs_op_fallocate(struct fs_req *r)
{
	const struct fuse_fallocate_in *in;
	struct fs_handle *h;
	size_t pos;

	in = fs_arg_struct(r, sizeof(*in), &pos);
	if (!in)
		return -EINVAL;
	if (r->s->readonly)
		return -EROFS;
	h = fs_req_handle(r, in->fh, false);
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
