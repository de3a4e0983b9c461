/* SPDX-License-Identifier: MIT */
/* A kernel build tree's image, release and module dependencies (see kernel_tree.h). */
#include "vmm/run/kernel_tree.h"

#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "vmm/hostfile.h"
#include "vmm/run/modules.h"

#define ORDER_MAX (8u << 20) /* modules.order of an allmodconfig build is about 400 KiB */
#define KO_MAX (256u << 20)

/* Through hostfile_open, as every file a user names: a FIFO in the tree fails, never hangs. */
static int read_text(const char *path, char **out, size_t max)
{
	struct stat st;
	const char *why;
	int fd = hostfile_open(path, O_RDONLY, 0, HOSTFILE_REGULAR, &st, &why);
	ssize_t n;

	if (fd < 0)
		return fd;
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return -EINVAL;
	}
	*out = malloc((size_t)st.st_size + 1);
	if (!*out) {
		close(fd);
		return -ENOMEM;
	}
	n = read(fd, *out, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(*out);
		return -EIO;
	}
	(*out)[n] = 0;
	return 0;
}

static int tree_at(const char *dir, struct kernel_tree *t)
{
	char path[KERNEL_TREE_PATH_MAX + 64];
	char *text;
	size_t len;

	if (strlen(dir) >= sizeof(t->dir))
		return 0;
	snprintf(path, sizeof(path), "%s/include/config/kernel.release", dir);
	if (read_text(path, &text, 4096))
		return 0;
	len = strcspn(text, "\n");
	text[len] = 0;
	if (!len || len >= sizeof(t->release)) {
		free(text);
		return 0;
	}
	memcpy(t->release, text, len + 1);
	free(text);
	snprintf(t->dir, sizeof(t->dir), "%s", dir);
	return 1;
}

int kernel_tree_find(const char *path, struct kernel_tree *t, char *err, size_t errlen)
{
	char dir[KERNEL_TREE_PATH_MAX];
	struct stat st;
	const char *slash;

	if (stat(path, &st) < 0)
		return 0; /* the loader names the problem */
	if (S_ISDIR(st.st_mode)) {
		if (!tree_at(path, t)) {
			snprintf(err, errlen,
				 "--kernel %s: a directory, but not a kernel build tree (no "
				 "include/config/kernel.release)",
				 path);
			return -EINVAL;
		}
		snprintf(t->image, sizeof(t->image), "%s/arch/x86/boot/bzImage", t->dir);
		if (access(t->image, R_OK) < 0) {
			snprintf(err, errlen,
				 "--kernel %s: a kernel build tree without %s (run make)", path,
				 "arch/x86/boot/bzImage");
			return -EINVAL;
		}
		return 1;
	}
	/* DIR/vmlinux: the tree is the file's directory */
	slash = strrchr(path, '/');
	if (!slash || strcmp(slash + 1, "vmlinux") || (size_t)(slash - path) >= sizeof(dir))
		return 0;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = 0;
	if (!tree_at(dir[0] ? dir : "/", t))
		return 0;
	snprintf(t->image, sizeof(t->image), "%s", path);
	return 1;
}

/* Section i's header, copied: the file's bytes need not be aligned for an Elf64_Shdr. */
static bool section(const uint8_t *p, size_t len, const Elf64_Ehdr *eh, unsigned int i,
		    Elf64_Shdr *sh)
{
	memcpy(sh, p + eh->e_shoff + (size_t)i * sizeof(*sh), sizeof(*sh));
	return sh->sh_offset <= len && sh->sh_size <= len - sh->sh_offset;
}

int kernel_tree_modinfo_depends(const void *ko, size_t len, char *out, size_t outlen)
{
	const uint8_t *p = ko;
	Elf64_Shdr names, sh;
	Elf64_Ehdr eh;

	if (len < sizeof(eh))
		return -EINVAL;
	memcpy(&eh, p, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shoff > len ||
	    eh.e_shnum > (len - eh.e_shoff) / sizeof(Elf64_Shdr) || eh.e_shstrndx >= eh.e_shnum)
		return -EINVAL;
	if (!section(p, len, &eh, eh.e_shstrndx, &names))
		return -EINVAL;
	for (unsigned int i = 0; i < eh.e_shnum; i++) {
		const char *s;

		if (!section(p, len, &eh, i, &sh) || sh.sh_name >= names.sh_size)
			continue;
		if (strncmp((const char *)p + names.sh_offset + sh.sh_name, ".modinfo",
			    names.sh_size - sh.sh_name))
			continue;
		/* NUL-separated key=value strings; the last may lack its NUL in a bad file */
		s = (const char *)p + sh.sh_offset;
		for (size_t off = 0; off < sh.sh_size;) {
			size_t n = strnlen(s + off, sh.sh_size - off);

			if (n >= 8 && !memcmp(s + off, "depends=", 8)) {
				if (n - 8 >= outlen)
					return -E2BIG;
				memcpy(out, s + off + 8, n - 8);
				out[n - 8] = 0;
				return 0;
			}
			off += n + 1;
		}
		return -ENOENT;
	}
	return -ENOENT;
}

/* modules.order's entry for a module name ("virtio_blk"), as a .ko path; NULL if none. */
static char *order_lookup(char *const *entries, unsigned int n, const char *want, char *path,
			  size_t len)
{
	char name[256], wanted[256];

	modules_name(want, wanted, sizeof(wanted));
	for (unsigned int i = 0; i < n; i++) {
		size_t l = strlen(entries[i]);

		/* 6.1 lists ".ko"; later kernels list the ".o" the module is linked from */
		if (l > 2 && !strcmp(entries[i] + l - 2, ".o"))
			snprintf(path, len, "%.*s.ko", (int)(l - 2), entries[i]);
		else
			snprintf(path, len, "%s", entries[i]);
		modules_name(path, name, sizeof(name));
		if (!strcmp(name, wanted))
			return path;
	}
	return NULL;
}

static int ko_depends(const struct kernel_tree *t, const char *rel, char *out, size_t outlen)
{
	char path[KERNEL_TREE_PATH_MAX + 512];
	struct stat st;
	const char *why;
	void *map;
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
	fd = hostfile_open(path, O_RDONLY, 0, HOSTFILE_REGULAR, &st, &why);
	if (fd < 0)
		return fd;
	if (st.st_size <= 0 || (uint64_t)st.st_size > KO_MAX) {
		close(fd);
		return -EINVAL;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return -errno;
	ret = kernel_tree_modinfo_depends(map, (size_t)st.st_size, out, outlen);
	munmap(map, (size_t)st.st_size);
	return ret == -ENOENT ? (out[0] = 0, 0) : ret;
}

struct dep_text {
	char *buf;
	size_t len, cap;
	bool nomem;
};

static void put(struct dep_text *d, const char *s)
{
	size_t n = strlen(s);

	if (d->nomem)
		return;
	if (d->len + n + 1 > d->cap) {
		size_t cap = (d->cap ? 2 * d->cap : 4096) + n;
		char *b = realloc(d->buf, cap);

		if (!b) {
			d->nomem = true;
			return;
		}
		d->buf = b;
		d->cap = cap;
	}
	memcpy(d->buf + d->len, s, n + 1);
	d->len += n;
}

int kernel_tree_modules_dep(const struct kernel_tree *t, const char *const *wanted, unsigned int n,
			    char **text, char *err, size_t errlen)
{
	char path[KERNEL_TREE_PATH_MAX + 64], *order, **entries;
	char queue[MODULES_MAX][256], done[MODULES_MAX][256];
	unsigned int nentries = 0, nqueue = 0, ndone = 0;
	struct dep_text d = { 0 };
	int ret;

	snprintf(path, sizeof(path), "%s/modules.order", t->dir);
	ret = read_text(path, &order, ORDER_MAX);
	if (ret) {
		snprintf(err, errlen, "%s: %s (build the modules: make modules)", path,
			 ret == -EINVAL ? "not a regular file of a sane size" : strerror(-ret));
		return ret;
	}
	entries = calloc(strlen(order) / 2 + 1, sizeof(*entries)); /* a line has 2 bytes at least */
	if (!entries) {
		free(order);
		return -ENOMEM;
	}
	for (char *line = strtok(order, "\n"); line; line = strtok(NULL, "\n"))
		entries[nentries++] = line;
	for (unsigned int i = 0; i < n && nqueue < MODULES_MAX; i++)
		snprintf(queue[nqueue++], sizeof(queue[0]), "%s", wanted[i]);
	/* breadth first from what is wanted, each module's depends= added once */
	while (nqueue && !ret) {
		char rel[512], deps[1024], dep_rel[512], name[256];
		bool seen = false;

		snprintf(name, sizeof(name), "%s", queue[--nqueue]);
		for (unsigned int i = 0; i < ndone; i++)
			seen |= !strcmp(done[i], name);
		if (seen || !order_lookup(entries, nentries, name, rel, sizeof(rel)))
			continue; /* done, or not a module here: built in */
		if (ndone == MODULES_MAX) {
			ret = -E2BIG;
			break;
		}
		snprintf(done[ndone++], sizeof(done[0]), "%s", name);
		ret = ko_depends(t, rel, deps, sizeof(deps));
		if (ret) {
			snprintf(err, errlen, "%s/%s: %s", t->dir, rel,
				 ret == -EINVAL ? "not a kernel module (ELF64 with .modinfo)"
						: strerror(-ret));
			break;
		}
		put(&d, rel);
		put(&d, ":");
		for (char *dep = strtok(deps, ","); dep; dep = strtok(NULL, ",")) {
			if (!order_lookup(entries, nentries, dep, dep_rel, sizeof(dep_rel)))
				continue;
			put(&d, " ");
			put(&d, dep_rel);
			if (nqueue < MODULES_MAX)
				snprintf(queue[nqueue++], sizeof(queue[0]), "%s", dep);
		}
		put(&d, "\n");
	}
	free(entries);
	free(order);
	if (!ret && d.nomem)
		ret = -ENOMEM;
	if (ret) {
		if (ret == -E2BIG || ret == -ENOMEM)
			snprintf(err, errlen, "%s: %s", t->dir, strerror(-ret));
		free(d.buf);
		return ret;
	}
	*text = d.buf ? d.buf : strdup("");
	return *text ? 0 : -ENOMEM;
}
