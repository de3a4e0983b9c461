// SPDX-License-Identifier: MIT
/* The boot cache's directory kept bounded: stale temporaries and least recently used entries. */
#include "vmm/run/boot_cache_tidy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "vmm/snapshot.h"

#define KEY_CHARS 64
#define TEMP_PREFIX ".tmp-"
#define TEMP_KEY_CHARS 16

/* The only names removed inside an entry: what snapshot_save_dir() writes. */
static const char *const entry_files[] = {
	SNAPSHOT_MEMORY_FILE,
	SNAPSHOT_STATE_FILE,
	SNAPSHOT_MEMORY_FILE ".tmp",
	SNAPSHOT_STATE_FILE ".tmp",
};

struct entry {
	char name[KEY_CHARS + 1];
	int64_t mtime_ns;
	uint64_t bytes;
};

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool boot_cache_is_key(const char *name)
{
	return strlen(name) == KEY_CHARS && all_hex(name, KEY_CHARS);
}

bool boot_cache_is_temp(const char *name)
{
	const char *p = name + strlen(TEMP_PREFIX) + TEMP_KEY_CHARS;

	if (strncmp(name, TEMP_PREFIX, strlen(TEMP_PREFIX)) ||
	    strlen(name) < strlen(TEMP_PREFIX) + TEMP_KEY_CHARS + 2 ||
	    !all_hex(name + strlen(TEMP_PREFIX), TEMP_KEY_CHARS) || *p != '-')
		return false;
	return strspn(p + 1, "0123456789") == strlen(p + 1);
}

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/*
 * name in DIR, opened if it is a real directory of uid's (never through a link): its
 * descriptor and *st, or -1.
 */
static int open_ours(int dir_fd, const char *name, uid_t uid, struct stat *st)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0 || !S_ISDIR(st->st_mode) || st->st_uid != uid) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The disk space of an entry's files (blocks: the memory file has holes). */
static uint64_t entry_bytes(int fd)
{
	uint64_t sum = 0;
	struct stat st;

	for (size_t i = 0; i < sizeof(entry_files) / sizeof(entry_files[0]); i++)
		if (fstatat(fd, entry_files[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			sum += (uint64_t)st.st_blocks * 512;
	return sum;
}

/*
 * Empty the locked directory fd (our file names only) and remove it as name. A user's file
 * inside keeps the directory, and that is all it keeps. True when the directory is gone.
 */
static bool remove_dir(int dir_fd, const char *name, int fd)
{
	for (size_t i = 0; i < sizeof(entry_files) / sizeof(entry_files[0]); i++)
		unlinkat(fd, entry_files[i], 0);
	return unlinkat(dir_fd, name, AT_REMOVEDIR) == 0;
}

/*
 * Evict entry name: lock it (in use: leave it), move it out of the key's way under a
 * temporary name first, so a lookup sees the whole entry or none, then empty and remove it.
 * Returns true when it is gone.
 */
static bool evict(int dir_fd, const char *name, uid_t uid)
{
	char tmp[sizeof(TEMP_PREFIX) + TEMP_KEY_CHARS + 24];
	struct stat st;
	int fd = open_ours(dir_fd, name, uid, &st);
	bool gone = false;

	if (fd < 0)
		return false;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		snprintf(tmp, sizeof(tmp), TEMP_PREFIX "%.16s-%ld", name, (long)getpid());
		if (renameat(dir_fd, name, dir_fd, tmp) == 0) {
			remove_dir(dir_fd, tmp, fd); /* or left to a later sweep */
			gone = true;
		}
	}
	close(fd); /* and its lock */
	return gone;
}

/* A temporary entry nobody holds and nobody touched for BOOT_CACHE_STALE_NS: remove it. */
static bool sweep(int dir_fd, const char *name, uid_t uid, int64_t now_ns)
{
	struct stat st;
	int fd = open_ours(dir_fd, name, uid, &st);
	bool gone = false;

	if (fd < 0)
		return false;
	if (now_ns - mtime_ns(&st) >= BOOT_CACHE_STALE_NS && flock(fd, LOCK_EX | LOCK_NB) == 0)
		gone = remove_dir(dir_fd, name, fd);
	close(fd);
	return gone;
}

static int older_first(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->mtime_ns != y->mtime_ns)
		return x->mtime_ns < y->mtime_ns ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The kernel's record for getdents64(): glibc declares the call but not the record. */
struct dirent64_record {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

/* Add DIR's entry name to *list (its size and time); temporaries are swept as they come. */
static int note(int dir_fd, const char *name, uid_t uid, int64_t now_ns, struct entry **list,
		size_t *n, size_t *cap, struct boot_cache_tidy_result *res)
{
	struct stat st;
	int fd;

	if (boot_cache_is_temp(name)) {
		res->swept += sweep(dir_fd, name, uid, now_ns);
		return 0;
	}
	if (!boot_cache_is_key(name) || (fd = open_ours(dir_fd, name, uid, &st)) < 0)
		return 0;
	if (*n == *cap) {
		size_t more = *cap ? 2 * *cap : 16;
		struct entry *l = realloc(*list, more * sizeof(*l));

		if (!l) {
			close(fd);
			return -ENOMEM;
		}
		*list = l;
		*cap = more;
	}
	memcpy((*list)[*n].name, name, KEY_CHARS + 1);
	(*list)[*n].mtime_ns = mtime_ns(&st);
	(*list)[*n].bytes = entry_bytes(fd);
	(*n)++;
	close(fd);
	return 0;
}

int boot_cache_tidy(int dir_fd, const char *saved, const struct boot_cache_limit *lim, uid_t uid,
		    int64_t now_ns, struct boot_cache_tidy_result *res)
{
	/* a descriptor of its own: reading a directory moves its offset */
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char buf[4096] __attribute__((aligned(8)));
	struct entry *list = NULL;
	size_t n = 0, cap = 0, count;
	uint64_t bytes = 0;
	ssize_t len;
	int ret = 0;

	memset(res, 0, sizeof(*res));
	if (fd < 0)
		return -errno;
	/* void *: musl declares the call with a struct dirent *, glibc with a void * */
	while (!ret && (len = getdents64(fd, (void *)buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; !ret && off < len;) {
			const struct dirent64_record *d = (const void *)(buf + off);

			off += d->reclen;
			if (d->type == DT_DIR || d->type == DT_UNKNOWN)
				ret = note(dir_fd, d->name, uid, now_ns, &list, &n, &cap, res);
		}
	}
	if (!ret && len < 0)
		ret = -errno;
	close(fd);
	if (ret) {
		free(list);
		return ret;
	}
	qsort(list, n, sizeof(*list), older_first);
	for (size_t i = 0; i < n; i++)
		bytes += list[i].bytes;
	count = n;
	for (size_t i = 0; i < n; i++) {
		if (count <= lim->keep && (!lim->max_bytes || bytes <= lim->max_bytes))
			break;
		if (!strcmp(list[i].name, saved) || !evict(dir_fd, list[i].name, uid))
			continue;
		count--;
		bytes -= list[i].bytes;
		res->evicted++;
	}
	res->kept = (unsigned int)count;
	res->kept_bytes = bytes;
	free(list);
	return 0;
}
