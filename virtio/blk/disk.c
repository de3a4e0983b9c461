// SPDX-License-Identifier: MIT
/*
 * Raw disk images: opening and locking (virtio/blk/disk.h). The option parser is in
 * disk_options.c, the two I/O engines and their per-I/O state machine in disk_io.c.
 */
#include "virtio/blk/disk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>

/* ------------------------------------------------------------------------------------ */
/* Opening */

static int open_error(char *err, size_t errlen, const char *path, const char *what, int e)
{
	snprintf(err, errlen, "%s: %s%s%s", path, what, *what ? ": " : "", strerror(e));
	return -e;
}

static int make_blocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

static void dio_alignment(struct disk *d, const struct stat *st)
{
	unsigned int mem = DISK_SECTOR_SIZE, off = DISK_SECTOR_SIZE;

#ifdef STATX_DIOALIGN
	struct statx stx;

	if (statx(d->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
	    (stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align) {
		mem = stx.stx_dio_mem_align ? stx.stx_dio_mem_align : 1;
		off = stx.stx_dio_offset_align;
		goto out;
	}
#endif
	/* otherwise 512, and EINVAL from the kernel sends a request the buffered way */
	if (S_ISBLK(st->st_mode)) {
		int lbs = 0;

		if (ioctl(d->fd, BLKSSZGET, &lbs) == 0 && lbs > 0) {
			mem = (unsigned int)lbs;
			off = (unsigned int)lbs;
		}
	}
#ifdef STATX_DIOALIGN
out:
#endif
	d->dio_mem_align = mem;
	d->dio_offset_align = off < DISK_SECTOR_SIZE ? DISK_SECTOR_SIZE : off;
}

int disk_open(struct disk *d, const struct disk_options *o, char *err, size_t errlen)
{
	struct disk n = { .fd = -1, .fd_buffered = -1 };
	/*
	 * O_NONBLOCK: a FIFO named as a read-only disk would otherwise block open() until a
	 * writer comes; it is refused below by its type, and the flag is cleared on what is
	 * kept (io_uring would answer EAGAIN on a non-blocking file instead of waiting).
	 */
	int flags = O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (o->readonly ? O_RDONLY : O_RDWR);
	bool direct = o->cache == DISK_CACHE_NONE;
	struct flock lock = {
		.l_type = o->readonly ? F_RDLCK : F_WRLCK,
		.l_whence = SEEK_SET,
		.l_start = 0,
		.l_len = 0, /* the whole file, however long it grows */
	};
	const char *path = o->path;
	char probe[DISK_SECTOR_SIZE];
	struct stat st;
	ssize_t got;
	int e;

	if (strlen(path) >= sizeof(n.path))
		return open_error(err, errlen, path, "", ENAMETOOLONG);
	strcpy(n.path, path);
	n.readonly = o->readonly;
	n.direct = direct;

	n.fd = open(path, flags | (direct ? O_DIRECT : 0));
	if (n.fd < 0) {
		e = errno;
		if (direct && e == EINVAL) {
			int t = open(path, flags);

			if (t >= 0) {
				bool file = fstat(t, &st) == 0 &&
					    (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode));

				close(t);
				if (!file) {
					snprintf(err, errlen,
						 "%s: not a regular file or block device", path);
					return -EINVAL;
				}
				snprintf(err, errlen,
					 "%s: the file system does not support O_DIRECT "
					 "(cache=none); use cache=writeback",
					 path);
				return -EINVAL;
			}
			e = errno;
		}
		if (!o->readonly && (e == EACCES || e == EROFS || e == EPERM)) {
			snprintf(err, errlen,
				 "%s: cannot open for writing: %s (readonly=on opens it "
				 "read-only)",
				 path, strerror(e));
			return -e;
		}
		return open_error(err, errlen, path, "cannot open", e);
	}
	if (fstat(n.fd, &st) < 0) {
		e = errno;
		close(n.fd);
		return open_error(err, errlen, path, "cannot stat", e);
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file or block device", path);
		close(n.fd);
		return -EINVAL;
	}
	n.blockdev = S_ISBLK(st.st_mode);
	if (make_blocking(n.fd) < 0) {
		e = errno;
		close(n.fd);
		return open_error(err, errlen, path, "cannot open", e);
	}

	/* an OFD lock belongs to this open file description: a second open, even ours, conflicts */
	if (fcntl(n.fd, F_OFD_SETLK, &lock) < 0) {
		e = errno;
		if (e == EAGAIN || e == EACCES) {
			snprintf(err, errlen, "%s is in use by another process (locked)", path);
			close(n.fd);
			return -EBUSY;
		}
		close(n.fd);
		return open_error(err, errlen, path, "cannot lock", e);
	}

	if (n.blockdev) {
		uint64_t bytes;

		if (ioctl(n.fd, BLKGETSIZE64, &bytes) < 0) {
			e = errno;
			close(n.fd);
			return open_error(err, errlen, path, "cannot read the device size", e);
		}
		n.size = bytes;
	} else {
		n.size = (uint64_t)st.st_size;
	}
	if (n.size == 0) {
		snprintf(err, errlen, "%s is empty: a disk image needs at least one byte", path);
		close(n.fd);
		return -EINVAL;
	}
	n.sectors = n.size / DISK_SECTOR_SIZE + (n.size % DISK_SECTOR_SIZE != 0);

	if (direct) {
		struct stat st2;

		n.fd_buffered = open(path, flags);
		if (n.fd_buffered < 0 || make_blocking(n.fd_buffered) < 0) {
			e = errno;
			if (n.fd_buffered >= 0)
				close(n.fd_buffered);
			close(n.fd);
			return open_error(err, errlen, path, "cannot open", e);
		}
		/* the name must still lead to the file we locked */
		if (fstat(n.fd_buffered, &st2) < 0 || st2.st_dev != st.st_dev ||
		    st2.st_ino != st.st_ino) {
			snprintf(err, errlen, "%s: replaced while being opened", path);
			disk_close(&n);
			return -ESTALE;
		}
		dio_alignment(&n, &st);
	} else {
		n.fd_buffered = n.fd;
	}

	/* make sure it really reads (EIO on a failing device, a file on a dead mount) */
	got = pread(n.fd_buffered, probe, sizeof(probe), 0);
	if (got < 0) {
		e = errno;
		disk_close(&n);
		return open_error(err, errlen, path, "cannot read", e);
	}

	n.discard_align = 1;
	if (!n.blockdev && st.st_blksize > (blksize_t)DISK_SECTOR_SIZE &&
	    st.st_blksize <= (1 << 20))
		n.discard_align = (unsigned int)st.st_blksize / DISK_SECTOR_SIZE;
	else if (n.blockdev && n.direct && n.dio_offset_align > DISK_SECTOR_SIZE)
		n.discard_align = n.dio_offset_align / DISK_SECTOR_SIZE;
	*d = n;
	return 0;
}

void disk_close(struct disk *d)
{
	/*
	 * Unlock explicitly: an io_uring ring holds the file until the kernel frees the
	 * ring, after the VMM may be gone, and a VMM started at once must find it unlocked.
	 */
	struct flock unlock = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

	if (d->fd >= 0)
		fcntl(d->fd, F_OFD_SETLK, &unlock);
	if (d->fd_buffered >= 0 && d->fd_buffered != d->fd)
		close(d->fd_buffered);
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	d->fd_buffered = -1;
}
