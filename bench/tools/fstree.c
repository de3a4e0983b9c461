// SPDX-License-Identifier: MIT
/*
 * fstree: the file system benchmark's helper (bench/fs.sh), static so that the L1 host
 * and every L2 guest run the same program whatever libraries they have.
 *
 *   fstree make DIR DIRS FILES  DIR/dNNNN/fNNNN: DIRS directories of FILES files each,
 *                               file i (counting from 0 over the whole tree) holding
 *                               64 + (i * 37) % 512 bytes of text: the same tree on
 *                               every run
 *   fstree big FILE MIB         FILE of MIB MiB, a fixed byte pattern (no /dev/urandom:
 *                               under emulation that alone would take longer)
 *   fstree stat DIR             lstat() every entry below DIR by its full path, one
 *                               process (no fork per file, as `find -exec stat` would);
 *                               prints files=N dirs=N bytes=N (regular files' sizes)
 *   fstree time OUT CMD ARG...  run CMD with stdout and stderr to OUT; prints ms=X
 *                               status=N (CLOCK_MONOTONIC around fork and wait)
 * Exit status 0 on success, 1 on a failed call (said on stderr), 2 on a usage error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int usage(void)
{
	fprintf(stderr, "usage: fstree make DIR DIRS FILES | big FILE MIB | stat DIR | "
			"time OUT CMD ARG...\n");
	return 2;
}

static int fail(const char *what, const char *path)
{
	fprintf(stderr, "fstree: %s %s: %s\n", what, path, strerror(errno));
	return 1;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int make_tree(const char *dir, long dirs, long files)
{
	char path[PATH_MAX], text[600];
	long i = 0;

	if (mkdir(dir, 0755) && errno != EEXIST)
		return fail("mkdir", dir);
	for (long d = 0; d < dirs; d++) {
		snprintf(path, sizeof(path), "%s/d%04ld", dir, d);
		if (mkdir(path, 0755) && errno != EEXIST)
			return fail("mkdir", path);
		for (long f = 0; f < files; f++, i++) {
			size_t len = 64 + (size_t)(i * 37 % 512), n;
			int fd;

			snprintf(path, sizeof(path), "%s/d%04ld/f%04ld", dir, d, f);
			n = (size_t)snprintf(text, sizeof(text), "file %ld of directory %ld\n", f,
					     d);
			for (; n < len; n++)
				text[n] = (char)('a' + (i + (long)n) % 26);
			text[len - 1] = '\n';
			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd < 0)
				return fail("create", path);
			if (write_all(fd, text, len) || close(fd))
				return fail("write", path);
		}
	}
	return 0;
}

static int make_big(const char *file, long mib)
{
	static char buf[1 << 20];
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return fail("create", file);
	for (long m = 0; m < mib; m++) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (char)((i * 131 + (size_t)m) & 0xff);
		if (write_all(fd, buf, sizeof(buf)))
			return fail("write", file);
	}
	if (close(fd))
		return fail("write", file);
	return 0;
}

struct counts {
	unsigned long files, dirs;
	uint64_t bytes;
};

/* Depth first, by full path: each lstat() walks the path from the top, as a stat(1) would. */
static int stat_tree(char *path, size_t len, struct counts *c)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int ret = 0;

	if (!d)
		return fail("opendir", path);
	while ((e = readdir(d))) {
		struct stat st;
		size_t n = strlen(e->d_name);

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (len + 1 + n + 1 > PATH_MAX) {
			errno = ENAMETOOLONG;
			ret = fail("path", path);
			break;
		}
		path[len] = '/';
		memcpy(path + len + 1, e->d_name, n + 1);
		if (lstat(path, &st)) {
			ret = fail("lstat", path);
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			c->dirs++;
			ret = stat_tree(path, len + 1 + n, c);
			if (ret)
				break;
		} else {
			c->files++;
			if (S_ISREG(st.st_mode))
				c->bytes += (uint64_t)st.st_size;
		}
		path[len] = '\0';
	}
	path[len] = '\0';
	closedir(d);
	return ret;
}

static int time_cmd(const char *out, char **argv)
{
	struct timespec t0, t1;
	int status, fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	pid_t pid;

	if (fd < 0)
		return fail("create", out);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0)
		return fail("fork", argv[0]);
	if (pid == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], argv);
		fprintf(stderr, "fstree: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return fail("wait", argv[0]);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(fd);
	printf("ms=%.1f status=%d\n",
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}

static int number(const char *text, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(text, &end, 10);
	return errno || end == text || *end || *v < 0 || *v > 1000000;
}

int main(int argc, char **argv)
{
	long a, b;

	if (argc == 5 && !strcmp(argv[1], "make")) {
		if (number(argv[3], &a) || number(argv[4], &b) || a > 9999 || b > 9999)
			return usage();
		return make_tree(argv[2], a, b);
	}
	if (argc == 4 && !strcmp(argv[1], "big")) {
		if (number(argv[3], &a))
			return usage();
		return make_big(argv[2], a);
	}
	if (argc == 3 && !strcmp(argv[1], "stat")) {
		static char path[PATH_MAX];
		struct counts c = { 0 };
		size_t len = strlen(argv[2]);

		if (len >= PATH_MAX)
			return usage();
		memcpy(path, argv[2], len + 1);
		if (stat_tree(path, len, &c))
			return 1;
		printf("files=%lu dirs=%lu bytes=%llu\n", c.files, c.dirs,
		       (unsigned long long)c.bytes);
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "time"))
		return time_cmd(argv[2], argv + 3);
	return usage();
}
