// SPDX-License-Identifier: MIT
/* FUSE opcodes that look up, make, change and remove names (virtio/fs/fs_server_internal.h). */
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
#include <time.h>

#ifdef __GLIBC__
#define fs_renameat2 renameat2
#else
#include <linux/fs.h>
#include <sys/syscall.h>
/* musl (before 1.2.5) has no wrapper, and its headers no RENAME_* flags: the UAPI's. */
static int fs_renameat2(int olddir, const char *old, int newdir, const char *new, unsigned flags)
{
	return syscall(SYS_renameat2, olddir, old, newdir, new, flags);
}
#endif

/* ------------------------------------------------------------------------------------ */
/* Opcodes */

int fs_op_init(struct fs_req *r)
{
	const uint32_t ours = FUSE_ASYNC_READ | FUSE_ATOMIC_O_TRUNC | FUSE_BIG_WRITES |
			      FUSE_DO_READDIRPLUS | FUSE_MAX_PAGES | FUSE_PARALLEL_DIROPS;
	const struct fuse_init_in *in;
	struct fuse_init_out *out;
	size_t pos;

	/* the 7.36 fields (flags2 and after) are optional: the first 16 bytes are not */
	in = fs_arg_struct(r, 16, &pos);
	if (!in)
		return -EINVAL;
	if (__atomic_load_n(&r->s->initialized, __ATOMIC_ACQUIRE))
		return -EPROTO;
	out = fs_out_buf(r, sizeof(*out));
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
	/* two INITs at once: the second is refused as if it came after */
	pthread_mutex_lock(&r->s->lock);
	if (r->s->initialized) {
		pthread_mutex_unlock(&r->s->lock);
		return -EPROTO;
	}
	r->s->minor = out->minor;
	__atomic_store_n(&r->s->initialized, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&r->s->lock);
	return 0;
}

int fs_op_destroy(struct fs_req *r)
{
	fs_forget_all(r->s);
	__atomic_store_n(&r->s->initialized, false, __ATOMIC_RELEASE);
	r->out_len = 0;
	return 0;
}

int fs_op_lookup(struct fs_req *r)
{
	struct fs_node *p = fs_req_node(r);
	struct fuse_entry_out *e;
	const char *name;
	size_t pos = 0;
	struct stat st;
	int64_t id;
	int ret;

	ret = fs_take_string(r, &pos, &name, true);
	if (ret)
		return ret;
	if (!p)
		return -ESTALE;
	if (p->type != S_IFDIR)
		return -ENOTDIR;
	id = fs_lookup_child(r->s, p->fd, name, &st);
	if (id < 0)
		return (int)id;
	e = fs_out_buf(r, sizeof(*e));
	fs_fill_entry(r->s, e, (uint64_t)id, &st);
	return 0;
}

int fs_op_forget(struct fs_req *r)
{
	size_t pos;
	const struct fuse_forget_in *in = fs_arg_struct(r, sizeof(*in), &pos);

	if (in)
		fs_node_forget(r->s, r->in.nodeid, in->nlookup);
	return FS_NO_REPLY;
}

int fs_op_batch_forget(struct fs_req *r)
{
	size_t pos;
	const struct fuse_batch_forget_in *in = fs_arg_struct(r, sizeof(*in), &pos);
	struct fuse_forget_one one;

	/* a count that the request cannot hold is a broken request: forget nothing */
	if (!in || in->count > (r->arglen - pos) / sizeof(one))
		return FS_NO_REPLY;
	for (uint32_t i = 0; i < in->count; i++) {
		memcpy(&one, r->arg + pos + i * sizeof(one), sizeof(one));
		fs_node_forget(r->s, one.nodeid, one.nlookup);
	}
	return FS_NO_REPLY;
}

static int reply_attr(struct fs_req *r, int fd)
{
	struct fuse_attr_out *a;
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	a = fs_out_buf(r, sizeof(*a));
	a->attr_valid = r->s->timeout_s;
	fs_fill_attr(&a->attr, &st);
	return 0;
}

int fs_op_getattr(struct fs_req *r)
{
	struct fs_node *n = fs_req_node(r);

	/* fuse_getattr_in may name a handle; the node's attributes are the same */
	if (!n)
		return -ESTALE;
	return reply_attr(r, n->fd);
}

mode_t fs_safe_mode(mode_t type, mode_t mode)
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

int fs_op_setattr(struct fs_req *r)
{
	struct fs_node *n = fs_req_node(r);
	const struct fuse_setattr_in *in;
	struct fs_handle *h = NULL;
	size_t pos;
	char p[16];

	in = fs_arg_struct(r, sizeof(*in), &pos);
	if (!in)
		return -EINVAL;
	if (!n)
		return -ESTALE;
	if (r->s->readonly)
		return -EROFS;
	if (in->valid & FATTR_FH) {
		h = fs_req_handle(r, in->fh, false);
		if (!h)
			return -EBADF;
	}
	fs_fd_name(p, n->fd);
	if (in->valid & FATTR_MODE) {
		if (n->type == S_IFLNK)
			return -EOPNOTSUPP;
		if (fchmodat(r->s->proc_fd, p, fs_safe_mode(n->type, in->mode), 0) < 0)
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
			fd = fs_reopen(r->s, n->fd, O_WRONLY);
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

int fs_op_readlink(struct fs_req *r)
{
	struct fs_node *n = fs_req_node(r);
	ssize_t len;

	if (!n)
		return -ESTALE;
	if (n->type != S_IFLNK)
		return -EINVAL;
	len = readlinkat(n->fd, "", (char *)r->out, PATH_MAX);
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
	int64_t id = fs_lookup_child(r->s, parent->fd, name, &st);

	if (id < 0)
		return (int)id;
	e = fs_out_buf(r, sizeof(*e));
	fs_fill_entry(r->s, e, (uint64_t)id, &st);
	return 0;
}

/* Common start of the opcodes that make or remove a name in directory node in.nodeid. */
int fs_dir_for_change(struct fs_req *r, struct fs_node **dir)
{
	*dir = fs_req_node(r);
	if (!*dir)
		return -ESTALE;
	if ((*dir)->type != S_IFDIR)
		return -ENOTDIR;
	if (r->s->readonly)
		return -EROFS;
	return 0;
}

int fs_op_mknod(struct fs_req *r)
{
	const struct fuse_mknod_in *in;
	struct fs_node *d;
	const char *name;
	size_t pos;
	mode_t type;
	int ret;

	in = fs_arg_struct(r, sizeof(*in), &pos);
	if (!in)
		return -EINVAL;
	ret = fs_take_string(r, &pos, &name, true);
	if (!ret)
		ret = fs_dir_for_change(r, &d);
	if (ret)
		return ret;
	type = in->mode & S_IFMT;
	/* a device node in the share would be a door to the host's devices */
	if (type != S_IFREG && type != S_IFIFO && type != S_IFSOCK)
		return -EPERM;
	if (mknodat(d->fd, name, type | fs_safe_mode(type, in->mode), 0) < 0)
		return -errno;
	return reply_new_entry(r, d, name);
}

int fs_op_mkdir(struct fs_req *r)
{
	const struct fuse_mkdir_in *in;
	struct fs_node *d;
	const char *name;
	size_t pos;
	int ret;

	in = fs_arg_struct(r, sizeof(*in), &pos);
	if (!in)
		return -EINVAL;
	ret = fs_take_string(r, &pos, &name, true);
	if (!ret)
		ret = fs_dir_for_change(r, &d);
	if (ret)
		return ret;
	if (mkdirat(d->fd, name, fs_safe_mode(S_IFDIR, in->mode)) < 0)
		return -errno;
	return reply_new_entry(r, d, name);
}

int fs_op_symlink(struct fs_req *r)
{
	const char *name, *target;
	struct fs_node *d;
	size_t pos = 0;
	int ret;

	ret = fs_take_string(r, &pos, &name, true);
	if (!ret)
		ret = fs_take_string(r, &pos, &target, false);
	if (!ret)
		ret = fs_dir_for_change(r, &d);
	if (ret)
		return ret;
	/* the target is stored as text; nothing here ever resolves it */
	if (symlinkat(target, d->fd, name) < 0)
		return -errno;
	return reply_new_entry(r, d, name);
}

int fs_op_unlink(struct fs_req *r)
{
	const bool dir = r->in.opcode == FUSE_RMDIR;
	struct fs_node *d;
	const char *name;
	size_t pos = 0;
	int ret;

	ret = fs_take_string(r, &pos, &name, true);
	if (!ret)
		ret = fs_dir_for_change(r, &d);
	if (ret)
		return ret;
	if (unlinkat(d->fd, name, dir ? AT_REMOVEDIR : 0) < 0)
		return -errno;
	r->out_len = 0;
	return 0;
}

int fs_op_rename(struct fs_req *r)
{
	const bool two = r->in.opcode == FUSE_RENAME2;
	const char *oldname, *newname;
	struct fs_node *d, *nd;
	uint64_t newdir;
	uint32_t flags = 0;
	size_t pos;
	int ret;

	if (two) {
		const struct fuse_rename2_in *in = fs_arg_struct(r, sizeof(*in), &pos);

		if (!in)
			return -EINVAL;
		newdir = in->newdir;
		flags = in->flags;
	} else {
		const struct fuse_rename_in *in = fs_arg_struct(r, sizeof(*in), &pos);

		if (!in)
			return -EINVAL;
		newdir = in->newdir;
	}
	ret = fs_take_string(r, &pos, &oldname, true);
	if (!ret)
		ret = fs_take_string(r, &pos, &newname, true);
	if (!ret)
		ret = fs_dir_for_change(r, &d);
	if (ret)
		return ret;
	nd = fs_req_node_id(r, newdir);
	if (!nd)
		return -ESTALE;
	if (nd->type != S_IFDIR)
		return -ENOTDIR;
	if (flags & ~(uint32_t)(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if (fs_renameat2(d->fd, oldname, nd->fd, newname, flags) < 0)
		return -errno;
	r->out_len = 0;
	return 0;
}

int fs_op_link(struct fs_req *r)
{
	const struct fuse_link_in *in;
	struct fs_node *d, *old;
	const char *name;
	size_t pos;
	char p[16];
	int ret;

	in = fs_arg_struct(r, sizeof(*in), &pos);
	if (!in)
		return -EINVAL;
	ret = fs_take_string(r, &pos, &name, true);
	if (!ret)
		ret = fs_dir_for_change(r, &d);
	if (ret)
		return ret;
	old = fs_req_node_id(r, in->oldnodeid);
	if (!old)
		return -ESTALE;
	if (old->type == S_IFDIR)
		return -EPERM;
	if (linkat(old->fd, "", d->fd, name, AT_EMPTY_PATH) < 0) {
		/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc's link to our fd does not */
		if (errno != ENOENT && errno != EPERM)
			return -errno;
		fs_fd_name(p, old->fd);
		if (linkat(r->s->proc_fd, p, d->fd, name, AT_SYMLINK_FOLLOW) < 0)
			return -errno;
	}
	return reply_new_entry(r, d, name);
}
