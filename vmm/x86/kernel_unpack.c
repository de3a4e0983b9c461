// SPDX-License-Identifier: MIT
/* Host-side unpacking of a bzImage's payload, and the cache of unpacked kernels. */
#include "vmm/x86/kernel_unpack.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <asm/bootparam.h>

#include "vmm/x86/bzimage.h"
#include "vmm/x86/elf.h"
#include "vmm/sha256.h"

#define SETUP_HEADER_OFFSET 0x1f1
#define PAYLOAD_PROTOCOL 0x0208 /* payload_offset and payload_length exist from 2.08 */
#define ENTRY_SUFFIX ".vmlinux"
#define ENTRY_NAME_MAX (2 * SHA256_BYTES + 32)
#define IDENTITY_NAME_MAX 160

/* Where the payload lies in the mapped image; -EOPNOTSUPP for an image that states none. */
static int find_payload(const uint8_t *image, size_t len, const uint8_t **payload,
			size_t *payload_len, char *err, size_t errlen)
{
	struct bzimage_info info;
	struct setup_header hdr;
	char why[160];

	/* not a bzImage we boot: the loader says why when it loads it */
	if (bzimage_parse(image, len, &info, why, sizeof(why)) || info.protocol < PAYLOAD_PROTOCOL)
		return -EOPNOTSUPP;
	memcpy(&hdr, image + SETUP_HEADER_OFFSET, sizeof(hdr));
	if (hdr.payload_offset > info.kernel_size ||
	    hdr.payload_length > info.kernel_size - hdr.payload_offset) {
		snprintf(err, errlen,
			 "bzImage is truncated: its payload (%u bytes at %u) ends past the "
			 "file's %zu bytes",
			 hdr.payload_length, hdr.payload_offset, len);
		return -EINVAL;
	}
	*payload = image + info.setup_size + hdr.payload_offset;
	*payload_len = hdr.payload_length;
	return 0;
}

/*
 * The directory the entries live in, opened; -errno when there is none we can trust
 * (-ENOENT: no $XDG_CACHE_HOME or $HOME to find it under, -EPERM: not ours or writable by
 * others). Made 0700 when missing; one that is not ours or that others may write to is not
 * used, since an entry there could be swapped under us.
 */
static int open_cache_dir(const char *cache_dir)
{
	static const char *const parts[] = { "minivmm", "kernels" };
	const char *base = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char path[4096];
	struct stat st;
	int dir, next;

	if (cache_dir) {
		dir = open(cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		if (!base || base[0] != '/') {
			if (!home || home[0] != '/')
				return -ENOENT;
			if (snprintf(path, sizeof(path), "%s/.cache", home) >= (int)sizeof(path))
				return -ENAMETOOLONG;
			base = path;
		}
		mkdir(base, 0700);
		dir = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		for (unsigned int i = 0; dir >= 0 && i < 2; i++) {
			mkdirat(dir, parts[i], 0700);
			next = openat(dir, parts[i],
				      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			close(dir);
			dir = next;
		}
	}
	if (dir < 0)
		return -errno;
	if (fstat(dir, &st) || st.st_uid != geteuid() || (st.st_mode & 022)) {
		close(dir);
		return -EPERM;
	}
	return dir;
}

/* An entry we made, whole: ours, the stated size, an ELF header that parses. */
static int open_entry(int dir, const char *name, size_t out_len)
{
	uint8_t head[ELF_HEADER_BYTES] = { 0 };
	struct elf_info info;
	struct stat st;
	char why[160];
	int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (size_t)st.st_size != out_len || pread(fd, head, sizeof(head), 0) <= 0 ||
	    elf_parse(head, sizeof(head), out_len, 0, &info, why, sizeof(why))) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Unpack into fd, a new file of ours. -EINVAL (with err) is the payload's fault; any other
 * -errno is the file's (no space, a file system without fallocate).
 */
static int unpack_into(int fd, enum unpack_format format, const uint8_t *payload,
		       size_t payload_len, size_t out_len, char *err, size_t errlen)
{
	uint8_t *out;
	int ret;

	/* allocated up front: a page written through the mapping must never meet a full disk */
	ret = posix_fallocate(fd, 0, (off_t)out_len);
	if (ret)
		return -ret;
	out = mmap(NULL, out_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (out == MAP_FAILED)
		return -errno;
	ret = unpack_payload(format, payload, payload_len, out, out_len, err, errlen);
	munmap(out, out_len);
	return ret;
}

/* Unpack into a temporary entry and rename it into place; returns its descriptor. */
static int make_entry(int dir, const char *name, enum unpack_format format, const uint8_t *payload,
		      size_t payload_len, size_t out_len, int *fd_out, char *err, size_t errlen)
{
	char tmp[ENTRY_NAME_MAX + 32];
	int fd, ret;

	snprintf(tmp, sizeof(tmp), ".%s.%d.tmp", name, (int)getpid());
	fd = openat(dir, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST && !unlinkat(dir, tmp, 0)) /* left by a crash */
		fd = openat(dir, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	ret = unpack_into(fd, format, payload, payload_len, out_len, err, errlen);
	/* on disk before it has its name: a crash must not leave a whole-looking empty entry */
	if (!ret && fdatasync(fd))
		ret = -errno;
	if (!ret && renameat(dir, tmp, dir, name))
		ret = -errno;
	if (ret) {
		unlinkat(dir, tmp, 0);
		close(fd);
		return ret;
	}
	*fd_out = fd;
	return 0;
}

static int unpack_in_memory(enum unpack_format format, const uint8_t *payload, size_t payload_len,
			    size_t out_len, int *fd_out, char *err, size_t errlen)
{
	int fd = memfd_create("vmlinux", MFD_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = unpack_into(fd, format, payload, payload_len, out_len, err, errlen);
	if (ret && ret != -EINVAL)
		snprintf(err, errlen, "cannot unpack it in memory: %s", strerror(-ret));
	if (ret) {
		close(fd);
		return ret;
	}
	*fd_out = fd;
	return 0;
}

static void entry_name(const uint8_t *image, size_t len, char *name, size_t namelen)
{
	uint8_t digest[SHA256_BYTES];
	char hex[2 * SHA256_BYTES + 1];

	sha256(image, len, digest);
	hex_string(digest, SHA256_BYTES, hex);
	snprintf(name, namelen, "%s" ENTRY_SUFFIX, hex);
}

/*
 * Hashing a 14 MiB bzImage costs about 0.1 s of CPU (more in a nested guest), a good part
 * of what unpacking on the host saves; so the entry's name is also remembered under the
 * file's identity: device, inode, size, modification and change times. A file whose
 * identity is known skips the hash. Writing to it, or replacing it, changes its change
 * time, which only the kernel sets.
 */
static void identity_name(const struct stat *st, char *out, size_t outlen)
{
	snprintf(out, outlen, "%llx-%llx-%llx-%llx.%09ld-%llx.%09ld.name",
		 (unsigned long long)st->st_dev, (unsigned long long)st->st_ino,
		 (unsigned long long)st->st_size, (unsigned long long)st->st_mtim.tv_sec,
		 st->st_mtim.tv_nsec, (unsigned long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
}

static bool recall_name(int dir, const char *id, char *name, size_t namelen)
{
	struct stat st;
	ssize_t n = -1;
	int fd = openat(dir, id, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_uid == geteuid())
		n = pread(fd, name, namelen - 1, 0);
	close(fd);
	if (n != 2 * SHA256_BYTES + (ssize_t)strlen(ENTRY_SUFFIX))
		return false;
	name[n] = 0;
	return strspn(name, "0123456789abcdef") == 2 * SHA256_BYTES &&
	       !strcmp(name + 2 * SHA256_BYTES, ENTRY_SUFFIX);
}

/* Best effort: without it the next boot hashes again. */
static void remember_name(int dir, const char *id, const char *name)
{
	char tmp[IDENTITY_NAME_MAX + 32];
	size_t len = strlen(name);
	bool ok;
	int fd;

	snprintf(tmp, sizeof(tmp), ".%s.%d.tmp", id, (int)getpid());
	fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	ok = write(fd, name, len) == (ssize_t)len;
	close(fd);
	if (!ok || renameat(dir, tmp, dir, id))
		unlinkat(dir, tmp, 0);
}

static int unpack_payload_cached(const uint8_t *image, size_t len, const struct stat *st,
				 const uint8_t *payload, size_t payload_len, size_t out_len,
				 const char *cache_dir, struct kernel_unpack_result *res, char *err,
				 size_t errlen)
{
	char name[ENTRY_NAME_MAX], id[IDENTITY_NAME_MAX];
	int dir = open_cache_dir(cache_dir), ret = -ENOENT;
	bool known;

	if (dir >= 0) {
		identity_name(st, id, sizeof(id));
		known = recall_name(dir, id, name, sizeof(name));
		if (!known)
			entry_name(image, len, name, sizeof(name));
		res->fd = open_entry(dir, name, out_len);
		res->source = KERNEL_UNPACK_CACHE_HIT;
		if (res->fd < 0) {
			ret = make_entry(dir, name, res->format, payload, payload_len, out_len,
					 &res->fd, err, errlen);
			res->source = KERNEL_UNPACK_CACHE_NEW;
		}
		if (res->fd >= 0 && !known)
			remember_name(dir, id, name);
		close(dir);
		if (res->fd >= 0 || ret == -EINVAL)
			return res->fd >= 0 ? 0 : ret;
		res->cache_error = ret;
		res->cache_part = "its cache entry";
	} else {
		res->cache_error = dir;
		res->cache_part = "the cache directory";
	}
	res->source = KERNEL_UNPACK_MEMORY;
	return unpack_in_memory(res->format, payload, payload_len, out_len, &res->fd, err, errlen);
}

int kernel_unpack(int fd, size_t len, const char *cache_dir, struct kernel_unpack_result *res,
		  char *err, size_t errlen)
{
	const uint8_t *payload;
	size_t payload_len, out_len;
	struct stat st;
	uint8_t *image;
	int ret;

	res->fd = -1;
	res->len = 0;
	res->format = UNPACK_UNKNOWN;
	res->source = KERNEL_UNPACK_NONE;
	res->cache_error = 0;
	res->cache_part = NULL;
	if (len == 0 || fstat(fd, &st))
		return 0;
	image = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (image == MAP_FAILED) {
		snprintf(err, errlen, "cannot map it: %s", strerror(errno));
		return -EIO;
	}
	ret = find_payload(image, len, &payload, &payload_len, err, errlen);
	if (ret == -EOPNOTSUPP) {
		ret = 0;
		goto out;
	}
	if (ret)
		goto out;
	res->format = unpack_detect(payload, payload_len);
	if (!unpack_supported(res->format))
		goto out;
	ret = unpack_output_size(payload, payload_len, &out_len, err, errlen)
		      ?: unpack_payload_cached(image, len, &st, payload, payload_len, out_len,
					       cache_dir, res, err, errlen);
	if (ret) {
		res->source = KERNEL_UNPACK_NONE;
		goto out;
	}
	res->len = out_len;
out:
	munmap(image, len);
	return ret;
}

void kernel_unpack_describe(const struct kernel_unpack_result *res, char *out, size_t outlen)
{
	static const char *const where[] = {
		[KERNEL_UNPACK_CACHE_HIT] = "from the cache",
		[KERNEL_UNPACK_CACHE_NEW] = "now cached",
		[KERNEL_UNPACK_MEMORY] = "in memory, not cached",
	};

	if (res->source == KERNEL_UNPACK_NONE)
		snprintf(out, outlen,
			 "kernel: its payload (%s) is unpacked by the kernel itself in the guest",
			 unpack_format_name(res->format));
	else if (res->source == KERNEL_UNPACK_MEMORY)
		/* why, so that a cache that never fills (a full disk, a bad directory) is seen */
		snprintf(out, outlen,
			 "kernel: booting the vmlinux unpacked on the host (%s, %s: %s: %s)",
			 unpack_format_name(res->format), where[res->source], res->cache_part,
			 res->cache_error == -EPERM ? "not ours, or others may write to it"
						    : strerror(-res->cache_error));
	else
		snprintf(out, outlen, "kernel: booting the vmlinux unpacked on the host (%s, %s)",
			 unpack_format_name(res->format), where[res->source]);
}
