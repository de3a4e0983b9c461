// SPDX-License-Identifier: MIT
/* `vmm run --boot-cache DIR`: the key, the lookup, and saving at the boot point. */
#include "vmm/run/boot_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "devices/cmdport.h"
#include "virtio/blk/disk.h"
#include "vmm/exit_codes.h"
#include "vmm/pause.h"
#include "vmm/snapshot.h"
#include "vmm/version.h"

/* Bumped when what an entry means changes (the key's text, the init's protocol). */
#define BOOT_CACHE_FORMAT 1

struct boot_cache run_boot_cache = { .dir_fd = -1, .tmp_fd = -1, .event_fd = -1, .entry_fd = -1 };

static void warn(const struct boot_cache *c, const char *what, const char *why)
{
	fprintf(stderr, "vmm: --boot-cache %s: %s: %s; the run goes on without it\n", c->dir, what,
		why);
}

static void file_id(const struct stat *st, struct boot_cache_file_id *id)
{
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = (uint64_t)st->st_size;
	id->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	id->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
}

static int put_file_id(char *buf, size_t cap, const char *name, const struct boot_cache_file_id *id)
{
	return snprintf(buf, cap, "%s %llu %llu %llu %lld %lld\n", name,
			(unsigned long long)id->dev, (unsigned long long)id->ino,
			(unsigned long long)id->size, (long long)id->mtime_ns,
			(long long)id->ctime_ns);
}

/*
 * The key is the hash of a text naming every input on a line of its own, so no two
 * different sets of inputs can make the same bytes.
 */
void boot_cache_key(const struct boot_cache_inputs *in, char key[BOOT_CACHE_KEY_LEN + 1])
{
	size_t cap = 1024 + strlen(in->cmdline) + strlen(in->devices), len = 0;
	char *text = malloc(cap);
	uint8_t digest[SHA256_BYTES];
	char initramfs[2 * SHA256_BYTES + 1];

	if (!text) { /* a key nothing matches: a miss, and no entry is written under it */
		memset(key, 0, BOOT_CACHE_KEY_LEN + 1);
		return;
	}
	len += (size_t)snprintf(text + len, cap - len, "minivmm boot cache %d\nversion %s\n",
				BOOT_CACHE_FORMAT, VMM_VERSION);
	len += (size_t)put_file_id(text + len, cap - len, "vmm", &in->vmm);
	len += (size_t)put_file_id(text + len, cap - len, "kernel", &in->kernel);
	hex_string(in->initramfs, SHA256_BYTES, initramfs);
	len += (size_t)snprintf(text + len, cap - len, "initramfs %s", initramfs);
	/* the two texts go with their lengths: neither can pass for a part of the other */
	len += (size_t)snprintf(text + len, cap - len,
				"\nmemory %llu\ncpus %u\ncmdline %zu %s\ndevices %zu\n%s",
				(unsigned long long)in->memory, in->ncpus, strlen(in->cmdline),
				in->cmdline, strlen(in->devices), in->devices);
	sha256((const uint8_t *)text, len < cap ? len : cap - 1, digest);
	free(text);
	hex_string(digest, SHA256_BYTES, key);
}

void boot_cache_describe_devices(const struct vm *vm, char *buf, size_t cap)
{
	size_t len = 0;

	buf[0] = 0;
	for (unsigned int i = 0; i < vm->ndevices && len < cap; i++) {
		const struct virtio_slot *s = &vm->devices[i];
		const struct disk_options *d = s->options;
		struct stat st;

		len += (size_t)snprintf(buf + len, cap - len, "%s", s->kind->name);
		/* a restore refuses a disk of another size or access (virtio/blk) */
		if (!strcmp(s->kind->name, "virtio-blk") && d && len < cap)
			len += (size_t)snprintf(buf + len, cap - len, " %lld %d %u %u",
						stat(d->path, &st) ? -1LL : (long long)st.st_size,
						d->readonly, d->queues, d->queue_size);
		if (len < cap)
			len += (size_t)snprintf(buf + len, cap - len, "\n");
	}
}

/*
 * Whether uid:gid, with no other groups (vmm/seccomp.h, vmm_drop_privileges), may make and
 * rename entries in a directory of this mode and owner; root as that user is no longer root.
 */
static bool user_may_write(const struct stat *st, uid_t uid, gid_t gid)
{
	mode_t need = S_IWOTH | S_IXOTH;

	if (uid == 0)
		return true;
	if (st->st_uid == uid)
		need = S_IWUSR | S_IXUSR;
	else if (st->st_gid == gid)
		need = S_IWGRP | S_IXGRP;
	return (st->st_mode & need) == need;
}

int boot_cache_open(struct boot_cache *c, const struct vmm_options *opts, char *err, size_t errlen)
{
	struct stat st;

	c->dir[0] = 0;
	c->entry_fd = -1;
	c->verbose = opts->verbose;
	c->limit.keep = opts->boot_cache_keep ?: BOOT_CACHE_DEFAULT_KEEP;
	c->limit.max_bytes = opts->boot_cache_max_bytes;
	if (!opts->boot_cache)
		return 0;
	if (stat(opts->boot_cache, &st) < 0) {
		snprintf(err, errlen, "--boot-cache %s: %s", opts->boot_cache, strerror(errno));
		return VMM_EXIT_USAGE;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "--boot-cache %s: not a directory", opts->boot_cache);
		return VMM_EXIT_USAGE;
	}
	if (access(opts->boot_cache, W_OK | X_OK) < 0) {
		snprintf(err, errlen, "--boot-cache %s: not a directory we can write: %s",
			 opts->boot_cache, strerror(errno));
		return VMM_EXIT_USAGE;
	}
	c->as_user = opts->has_user;
	c->user_uid = opts->uid;
	c->user_gid = opts->gid;
	if (c->as_user && !user_may_write(&st, opts->uid, opts->gid)) {
		snprintf(err, errlen,
			 "--boot-cache %s: --user %u:%u cannot write there, and entries are saved "
			 "after the VMM becomes that user",
			 opts->boot_cache, opts->uid, opts->gid);
		return VMM_EXIT_USAGE;
	}
	if (!realpath(opts->boot_cache, c->dir) ||
	    (c->dir_fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "--boot-cache %s: %s", opts->boot_cache, strerror(errno));
		c->dir[0] = 0;
		return VMM_EXIT_USAGE;
	}
	/* our own binary: a rebuilt VMM may lay out its devices differently */
	if (stat("/proc/self/exe", &st) == 0) {
		file_id(&st, &c->vmm);
	} else {
		warn(c, "/proc/self/exe", strerror(errno));
		close(c->dir_fd);
		c->dir_fd = -1;
		c->dir[0] = 0;
	}
	return 0;
}

bool boot_cache_enabled(const struct boot_cache *c)
{
	return c->dir[0] != 0;
}

/* An entry's two files and its directory (an unusable one, or our own unfinished one). */
static void remove_entry(int dir_fd, const char *name)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0) {
		unlinkat(fd, SNAPSHOT_MEMORY_FILE, 0);
		unlinkat(fd, SNAPSHOT_STATE_FILE, 0);
		close(fd);
	}
	unlinkat(dir_fd, name, AT_REMOVEDIR);
}

/* A hit's hold on its entry, let go (it turned out unusable, or the run is over). */
static void let_go(struct boot_cache *c)
{
	if (c->entry_fd >= 0)
		close(c->entry_fd);
	c->entry_fd = -1;
}

static void turn_off(struct boot_cache *c)
{
	let_go(c);
	if (c->tmp_fd >= 0)
		close(c->tmp_fd);
	if (c->tmp[0])
		remove_entry(c->dir_fd, c->tmp);
	if (c->dir_fd >= 0)
		close(c->dir_fd);
	c->tmp_fd = c->dir_fd = -1;
	c->tmp[0] = 0;
	c->dir[0] = 0;
	c->hit = false;
}

/* A fresh directory under DIR for the entry being written (renamed to KEY once full). */
static void start_entry(struct boot_cache *c)
{
	struct stat st;

	snprintf(c->tmp, sizeof(c->tmp), ".tmp-%.16s-%ld", c->key, (long)getpid());
	unlinkat(c->dir_fd, c->tmp, AT_REMOVEDIR); /* an empty one left by a crash, same pid */
	if (mkdirat(c->dir_fd, c->tmp, 0700) < 0 ||
	    (c->tmp_fd = openat(c->dir_fd, c->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		int e = errno;

		c->tmp[0] = 0;
		warn(c, "cannot make an entry", strerror(e));
		turn_off(c);
		return;
	}
	/* the save runs as --user's user, who must be able to fill and rename it */
	if (c->as_user && fchown(c->tmp_fd, c->user_uid, c->user_gid) < 0) {
		warn(c, "cannot give the entry to --user", strerror(errno));
		turn_off(c);
		return;
	}
	/* ours while this run lives: tidying in another run never takes it (boot_cache_tidy.h) */
	flock(c->tmp_fd, LOCK_EX | LOCK_NB);
	/* entries are made as this one is: tidying removes only that owner's */
	c->uid = fstat(c->tmp_fd, &st) == 0 ? st.st_uid : geteuid();
	if (c->verbose)
		fprintf(stderr, "vmm: run: boot cache miss (%s); it is saved at the boot point\n",
			c->key);
}

/* The inputs the key covers, as this run has them. Returns 0 or -errno. */
static int gather_inputs(struct boot_cache *c, struct vm *vm, const struct vmm_options *opts,
			 const struct run_image *img, struct boot_cache_inputs *in, char *devices,
			 size_t cap)
{
	struct stat st;

	if (!opts->kernel || stat(opts->kernel, &st) < 0)
		return opts->kernel ? -errno : -EINVAL;
	in->vmm = c->vmm;
	file_id(&st, &in->kernel);
	sha256(img->initramfs.buf, img->initramfs.len, in->initramfs);
	in->memory = opts->memory;
	in->ncpus = opts->cpus;
	in->cmdline = img->cmdline;
	boot_cache_describe_devices(vm, devices, cap);
	in->devices = devices;
	return 0;
}

/*
 * Whether DIR/KEY is an entry; if so, hold it: LOCK_SH until the run ends, so that tidying
 * in another run skips it (a run evicting it holds LOCK_EX until it is gone, and then its
 * state file is gone too), and mark it used now, the most recent in the LRU order.
 */
static bool hold_entry(struct boot_cache *c)
{
	struct stat st;

	c->entry_fd = openat(c->dir_fd, c->key, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (c->entry_fd < 0)
		return false;
	if (flock(c->entry_fd, LOCK_SH) < 0 ||
	    fstatat(c->entry_fd, SNAPSHOT_STATE_FILE, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode)) {
		let_go(c);
		return false;
	}
	futimens(c->entry_fd, NULL); /* not ours (a shared DIR): it just ages */
	return true;
}

void boot_cache_lookup(struct boot_cache *c, struct vm *vm, const struct vmm_options *opts,
		       const struct run_image *img)
{
	struct boot_cache_inputs in;
	char devices[VM_MAX_DEVICES * 80];
	int ret;

	if (!boot_cache_enabled(c))
		return;
	c->vm = vm;
	ret = gather_inputs(c, vm, opts, img, &in, devices, sizeof(devices));
	if (!ret) {
		boot_cache_key(&in, c->key);
		ret = c->key[0] ? 0 : -ENOMEM;
	}
	if (ret) {
		warn(c, "the key", strerror(-ret));
		turn_off(c);
		return;
	}
	if (hold_entry(c)) {
		c->hit = true;
		snprintf(c->url, sizeof(c->url), "file://%s/%s", c->dir, c->key);
		if (c->verbose)
			fprintf(stderr, "vmm: run: boot cache hit: restoring %s/%s\n", c->dir,
				c->key);
		return;
	}
	start_entry(c);
}

void boot_cache_unusable(struct boot_cache *c, const char *why)
{
	fprintf(stderr, "vmm: --boot-cache: %s; booting cold and saving it again\n", why);
	c->hit = false;
	c->replace = true;
	let_go(c);
	start_entry(c);
}

/*
 * The saved entry under its key; an entry a concurrent run put there first is as good.
 * True when ours is the one in place.
 */
static bool put_in_place(struct boot_cache *c)
{
	int ret = renameat(c->dir_fd, c->tmp, c->dir_fd, c->key);

	if (ret < 0 && (errno == ENOTEMPTY || errno == EEXIST) && c->replace) {
		remove_entry(c->dir_fd, c->key);
		ret = renameat(c->dir_fd, c->tmp, c->dir_fd, c->key);
	}
	if (ret == 0) {
		c->tmp[0] = 0;
		if (c->verbose)
			fprintf(stderr, "vmm: run: boot cache saved in %s/%s\n", c->dir, c->key);
		return true;
	}
	if (errno != ENOTEMPTY && errno != EEXIST)
		warn(c, "cannot put the entry in place", strerror(errno));
	return false;
}

/* A new entry is in place: keep the directory within its bounds (boot_cache_tidy.h). */
static void tidy(struct boot_cache *c)
{
	struct boot_cache_tidy_result res;
	struct timespec now;
	int ret;

	clock_gettime(CLOCK_REALTIME, &now);
	ret = boot_cache_tidy(c->dir_fd, c->key, &c->limit, c->uid,
			      (int64_t)now.tv_sec * 1000000000 + now.tv_nsec, &res);
	if (ret)
		fprintf(stderr, "vmm: --boot-cache %s: cannot tidy it: %s\n", c->dir,
			strerror(-ret));
	else if (c->verbose && (res.evicted || res.swept))
		fprintf(stderr,
			"vmm: run: boot cache: %u old entries and %u left-overs removed; %u "
			"entries (%llu MiB) kept\n",
			res.evicted, res.swept, res.kept,
			(unsigned long long)(res.kept_bytes >> 20));
}

/* Main thread: the guest is at its boot point. Save, put the entry in place, let it go. */
static void on_boot_point(int fd, uint32_t events, void *opaque)
{
	struct boot_cache *c = opaque;
	char err[512];
	bool saved = false;
	uint64_t n;
	int ret;

	(void)events;
	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return;
	event_loop_del_fd(c->loop, fd);
	ret = snapshot_save_dir(c->vm, c->tmp_fd, err, sizeof(err));
	if (!ret)
		saved = put_in_place(c);
	else if (ret != -ECANCELED) /* the VM is stopping anyway */
		warn(c, "cannot save the boot", err);
	close(c->tmp_fd);
	c->tmp_fd = -1;
	if (c->tmp[0]) /* not in place: throw it away */
		remove_entry(c->dir_fd, c->tmp);
	c->tmp[0] = 0;
	/* a successful save leaves the VM paused; the init sees "go on" as it runs again */
	cmdport_boot_release(&c->vm->cmdport);
	if (!ret)
		vm_resume(c->vm);
	if (!ret && saved) /* the guest runs meanwhile */
		tidy(c);
}

int boot_cache_watch(struct boot_cache *c, struct event_loop *loop, struct vm *vm)
{
	int ret;

	if (!boot_cache_enabled(c) || c->hit || c->tmp_fd < 0)
		return 0;
	c->vm = vm;
	c->loop = loop;
	c->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->event_fd < 0)
		ret = -errno;
	else
		ret = event_loop_add_fd(loop, c->event_fd, EPOLLIN, on_boot_point, c);
	if (ret) {
		warn(c, "cannot watch for the boot point", strerror(-ret));
		turn_off(c);
	}
	return ret;
}

bool boot_cache_boot_point(void *ctx)
{
	struct boot_cache *c = ctx;
	uint64_t one = 1;

	if (c->event_fd < 0 || c->tmp_fd < 0)
		return false;
	/* the vCPU cannot pause itself: the main thread does, once this exit is handled */
	return write(c->event_fd, &one, sizeof(one)) == sizeof(one);
}

void boot_cache_vcpu_fds(const struct boot_cache *c, struct vmm_seccomp_fds *fds)
{
	if (c->event_fd >= 0)
		vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_EVENT, c->event_fd);
}

void boot_cache_main_fds(const struct boot_cache *c, struct vmm_seccomp_fds *fds)
{
	if (c->event_fd < 0)
		return;
	vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_EVENT, c->event_fd);
	snapshot_seccomp_fds(c->vm, fds);
}

void boot_cache_close(struct boot_cache *c)
{
	if (c->event_fd >= 0 && c->tmp_fd >= 0) /* still registered: the boot point never came */
		event_loop_del_fd(c->loop, c->event_fd);
	if (c->event_fd >= 0)
		close(c->event_fd);
	c->event_fd = -1;
	turn_off(c);
}
