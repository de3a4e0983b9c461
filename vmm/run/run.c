// SPDX-License-Identifier: MIT
/* `vmm run`: the initramfs and command line before boot, the exit status after. */
#include "vmm/run/run.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "vmm/arch.h"
#include "vmm/exit_codes.h"
#include "vmm/hostfile.h"
#include "vmm/run/kernel_tree.h"
#include "vmm/run/modules.h"
#include "vmm/sha256.h"
#include "vmm/vcpu.h"

#define RUN_MAX_ENV (VMM_MAX_ENV + 16)
#define RUN_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define RUN_MAX_FILE (1ull << 30)

/* What the command inherits from us unless --env says otherwise. */
static const char *const inherited_env[] = { "PATH",   "HOME", "USER", "LOGNAME",  "LANG",
					     "LC_ALL", "TERM", "TZ",   "LC_CTYPE", "LC_MESSAGES" };

bool run_env_set(const char **env, unsigned int *n, unsigned int max, const char *entry)
{
	size_t name_len = strcspn(entry, "=");

	for (unsigned int i = 0; i < *n; i++) {
		if (!strncmp(env[i], entry, name_len) && env[i][name_len] == '=') {
			env[i] = entry;
			return true;
		}
	}
	if (*n == max)
		return false;
	env[(*n)++] = entry;
	return true;
}

static int read_whole(const char *path, uint8_t **data, size_t *len)
{
	struct stat st;
	const char *why;
	int fd = hostfile_open(path, O_RDONLY, 0, HOSTFILE_REGULAR, &st, &why);
	size_t done = 0;

	if (fd < 0)
		return fd;
	if ((uint64_t)st.st_size > RUN_MAX_FILE) {
		close(fd);
		return -EFBIG;
	}
	*len = (size_t)st.st_size;
	*data = malloc(*len + 1);
	if (!*data) {
		close(fd);
		return -ENOMEM;
	}
	while (done < *len) {
		ssize_t n = read(fd, *data + done, *len - done);

		if (n <= 0) {
			int ret = n < 0 ? -errno : -EIO;
			free(*data);
			close(fd);
			return ret;
		}
		done += (size_t)n;
	}
	(*data)[*len] = 0;
	close(fd);
	return 0;
}

/* The config the init reads: NUL-terminated key and value strings, in pairs. */
struct config_buf {
	char *buf;
	size_t len, cap;
	int error;
};

static void config_put(struct config_buf *c, const char *key, const char *value)
{
	size_t need = strlen(key) + strlen(value) + 2;

	if (c->error)
		return;
	if (c->len + need > c->cap) {
		size_t cap = (c->cap ? c->cap * 2 : 4096) + need;
		char *buf = realloc(c->buf, cap);

		if (!buf) {
			c->error = -ENOMEM;
			return;
		}
		c->buf = buf;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, key, strlen(key) + 1);
	c->len += strlen(key) + 1;
	memcpy(c->buf + c->len, value, strlen(value) + 1);
	c->len += strlen(value) + 1;
}

static struct kernel_tree tree; /* vmm run --kernel DIR */

/*
 * The configuration the init asks for through the command port (run_config_read), kept
 * for the whole run. It ends with the "time" entry, a fixed-width value written when the
 * init starts reading, so a guest restored from a boot cache sets the host's time.
 */
static struct config_buf run_config;
static size_t run_config_time; /* where the time's value starts */
#define RUN_TIME_WIDTH 30      /* "SSSSSSSSSSSSSSSSSSSS.NNNNNNNNN" */
#define RUN_RANDOM_BYTES 32

int run_find_kernel_tree(struct vmm_options *opts, char *err, size_t errlen)
{
	int ret;

	if (!opts->kernel)
		return 0;
	ret = kernel_tree_find(opts->kernel, &tree, err, errlen);
	if (ret < 0)
		return VMM_EXIT_USAGE;
	if (ret == 1) {
		opts->kernel = tree.image;
		opts->kernel_tree = tree.dir;
	}
	return 0;
}

/*
 * The modules the guest's devices need, from modules.dep (or, for a build tree, from its
 * modules.order and the modules' own dependencies), into /.vmm-run/modules/.
 */
static int add_modules(struct cpio *c, struct config_buf *cfg, const struct vmm_options *opts,
		       const char *const *wanted, unsigned int nwanted, char *err, size_t errlen)
{
	char release[128], dir[4096], path[4200];
	struct module_list list = { 0 };
	uint8_t *text = NULL;
	size_t len;
	int ret;

	if (!nwanted)
		return 0;
	if (opts->kernel_tree && !opts->modules_dir) {
		char *dep;

		ret = kernel_tree_modules_dep(&tree, wanted, nwanted, &dep, err, errlen);
		if (ret)
			return VMM_EXIT_USAGE;
		snprintf(dir, sizeof(dir), "%s", tree.dir);
		text = (uint8_t *)dep;
	} else if (opts->modules_dir) {
		snprintf(dir, sizeof(dir), "%s", opts->modules_dir);
	} else if (arch_kernel_release(opts->kernel, release, sizeof(release)) == 0) {
		snprintf(dir, sizeof(dir), "/lib/modules/%s", release);
	} else {
		return 0; /* no release string to look for: assume a kernel with it all built in */
	}
	snprintf(path, sizeof(path), "%s/%s", dir, text ? "modules.order" : "modules.dep");
	ret = text ? 0 : read_whole(path, &text, &len);
	if (ret) {
		if (!opts->modules_dir)
			return 0; /* the kernel is not installed here: hope it needs no modules */
		snprintf(err, errlen, "--modules %s: cannot read modules.dep: %s (run depmod?)",
			 dir, ret == -EINVAL ? "not a regular file" : strerror(-ret));
		return VMM_EXIT_USAGE;
	}
	ret = modules_resolve((const char *)text, wanted, nwanted, &list);
	free(text);
	if (ret) {
		snprintf(err, errlen, "%s: cannot order the modules: %s", path, strerror(-ret));
		modules_free(&list);
		return VMM_EXIT_USAGE;
	}
	ret = cpio_add_dir(c, RUN_INIT_DIR "/modules", 0755) ? VMM_EXIT_ERROR : 0;
	for (unsigned int i = 0; i < list.count && !ret; i++) {
		const char *base = strrchr(list.paths[i], '/');
		char name[300];
		uint8_t *ko;
		size_t ko_len;

		base = base ? base + 1 : list.paths[i];
		/* modules.dep paths are relative to the directory, or absolute in old files */
		if (list.paths[i][0] == '/')
			snprintf(path, sizeof(path), "%s", list.paths[i]);
		else
			snprintf(path, sizeof(path), "%s/%s", dir, list.paths[i]);
		if (read_whole(path, &ko, &ko_len)) {
			snprintf(err, errlen, "kernel module %s: cannot read it", path);
			ret = VMM_EXIT_USAGE;
			break;
		}
		snprintf(name, sizeof(name), RUN_INIT_DIR "/modules/%s", base);
		if (cpio_add_file(c, name + 1, 0644, ko, ko_len))
			ret = VMM_EXIT_ERROR;
		free(ko);
		/* xz, zstd and gzip modules are inflated by a kernel built to do so */
		config_put(cfg, strstr(base, ".ko.") ? "module-z" : "module", name);
	}
	modules_free(&list);
	return ret;
}

/* nftw has no context argument: the tree being copied, while it is. */
static struct cpio *tree_cpio;
static const char *tree_root;
static char tree_err[512];

static int tree_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	const char *rel = path + strlen(tree_root);
	char name[4096];
	int ret = 0;

	(void)ftw;
	while (*rel == '/')
		rel++;
	if (!*rel)
		return 0; /* the root itself is the initramfs root */
	snprintf(name, sizeof(name), "%s", rel);
	if (type == FTW_DNR || type == FTW_NS) {
		snprintf(tree_err, sizeof(tree_err), "--rootfs: cannot read %s", path);
		return 1;
	}
	if (S_ISDIR(st->st_mode)) {
		ret = cpio_add_dir(tree_cpio, name, st->st_mode);
	} else if (S_ISREG(st->st_mode)) {
		uint8_t *data;
		size_t len;

		ret = read_whole(path, &data, &len);
		if (ret) {
			snprintf(tree_err, sizeof(tree_err), "--rootfs: %s: %s", path,
				 strerror(-ret));
			return 1;
		}
		ret = cpio_add_file(tree_cpio, name, st->st_mode, data, len);
		free(data);
	} else if (S_ISLNK(st->st_mode)) {
		char target[4096];
		ssize_t n = readlink(path, target, sizeof(target) - 1);

		if (n < 0) {
			snprintf(tree_err, sizeof(tree_err), "--rootfs: %s: %s", path,
				 strerror(errno));
			return 1;
		}
		target[n] = 0;
		ret = cpio_add_symlink(tree_cpio, name, target);
	} else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) || S_ISFIFO(st->st_mode)) {
		ret = cpio_add_node(tree_cpio, name, st->st_mode, major(st->st_rdev),
				    minor(st->st_rdev));
	} /* sockets mean nothing in a copy */
	if (ret) {
		snprintf(tree_err, sizeof(tree_err), "--rootfs %s: the initramfs is too large: %s",
			 tree_root, strerror(-ret));
		return 1;
	}
	return 0;
}

static int add_tree(struct cpio *c, const char *dir, char *err, size_t errlen)
{
	struct stat st;
	int ret;

	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "--rootfs %s: %s", dir,
			 errno && !S_ISDIR(st.st_mode) ? strerror(errno) : "not a directory");
		return VMM_EXIT_USAGE;
	}
	tree_cpio = c;
	tree_root = dir;
	tree_err[0] = 0;
	ret = nftw(dir, tree_entry, 64, FTW_PHYS);
	if (ret) {
		snprintf(err, errlen, "%s",
			 tree_err[0] ? tree_err : "--rootfs: cannot walk the directory");
		return VMM_EXIT_USAGE;
	}
	return 0;
}

static void build_env(const struct vmm_options *opts, struct config_buf *cfg)
{
	const char *env[RUN_MAX_ENV];
	unsigned int n = 0;
	static char path_default[] = "PATH=" RUN_DEFAULT_PATH;
	static char entries[sizeof(inherited_env) / sizeof(inherited_env[0])][4096];

	run_env_set(env, &n, RUN_MAX_ENV, path_default);
	for (size_t i = 0; i < sizeof(inherited_env) / sizeof(inherited_env[0]); i++) {
		const char *value = getenv(inherited_env[i]);

		if (!value)
			continue;
		snprintf(entries[i], sizeof(entries[i]), "%s=%s", inherited_env[i], value);
		run_env_set(env, &n, RUN_MAX_ENV, entries[i]);
	}
	for (unsigned int i = 0; i < opts->nenv; i++)
		run_env_set(env, &n, RUN_MAX_ENV, opts->env[i]);
	for (unsigned int i = 0; i < n; i++)
		config_put(cfg, "env", env[i]);
}

int run_check_command(struct vmm_options *opts, char *err, size_t errlen)
{
	static char *shell[] = { "/bin/sh", NULL };

	if (opts->ncommand)
		return 0;
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		snprintf(err, errlen,
			 "a command is needed: vmm run [options] -- CMD [ARGS...] (or start it "
			 "on a terminal for a shell; try --help)");
		return VMM_EXIT_USAGE;
	}
	opts->command = shell;
	opts->ncommand = 1;
	opts->run_tty = true;
	return 0;
}

int run_add_root_share(struct vmm_options *opts, char *err, size_t errlen)
{
	char why[256];

	if (opts->rootfs)
		return 0;
	if (options_add_share(opts, "/:" RUN_ROOT_TAG ",readonly=on", why, sizeof(why))) {
		snprintf(err, errlen, "vmm run shares the host's / as its root (tag %s): %s",
			 RUN_ROOT_TAG, why);
		return VMM_EXIT_USAGE;
	}
	return 0;
}

/* Where a --share appears in the guest: at its host path, as the host has it. */
static void add_shares(const struct vmm_options *opts, struct config_buf *cfg)
{
	for (unsigned int i = 0; i < opts->nshares; i++) {
		const struct fs_share_options *s = &opts->shares[i];
		char real[4096], spec[4096 + FS_TAG_MAX + 8];

		if (!strcmp(s->tag, RUN_ROOT_TAG))
			continue;
		if (!realpath(s->dir, real))
			snprintf(real, sizeof(real), "%s", s->dir);
		snprintf(spec, sizeof(spec), "%s:%s:%s", s->readonly ? "ro" : "rw", s->tag, real);
		config_put(cfg, "share", spec);
	}
}

/*
 * What makes this run's guest its own even when it starts from a boot cache's snapshot:
 * fresh random bytes for its kernel's pool, and the time (last, see run_config_read).
 */
static int add_identity(struct config_buf *cfg, char *err, size_t errlen)
{
	uint8_t bytes[RUN_RANDOM_BYTES];
	char hex[2 * RUN_RANDOM_BYTES + 1], placeholder[RUN_TIME_WIDTH + 1];

	if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes)) {
		snprintf(err, errlen, "run: cannot get random bytes for the guest: %s",
			 strerror(errno));
		return VMM_EXIT_ERROR;
	}
	hex_string(bytes, sizeof(bytes), hex);
	config_put(cfg, "random", hex);
	memset(placeholder, '0', RUN_TIME_WIDTH);
	placeholder[RUN_TIME_WIDTH] = 0;
	config_put(cfg, "time", placeholder);
	run_config_time = cfg->error ? 0 : cfg->len - RUN_TIME_WIDTH - 1;
	return 0;
}

int run_prepare(struct run_image *img, const struct vmm_options *opts, const uint8_t *init,
		size_t init_len, char *err, size_t errlen)
{
	static const char *const dirs[] = {
		"dev",		 "proc",	   "sys",	 "tmp", "run", ".vmm-run",
		".vmm-run/root", ".vmm-run/lower", ".vmm-run/rw"
	};
	struct config_buf cfg = { 0 };
	const char *wanted[5];
	bool overlay = !opts->rootfs && !opts->overlay_off;
	unsigned int nwanted = 0;
	char cwd[4096];
	int ret = 0;

	memset(img, 0, sizeof(*img));
	cpio_init(&img->initramfs);
	if (opts->ndisks || opts->nshares)
		wanted[nwanted++] = "virtio_pci";
	if (opts->nshares)
		wanted[nwanted++] = "virtiofs";
	if (opts->ndisks) {
		wanted[nwanted++] = "virtio_blk";
	}
	if (overlay)
		wanted[nwanted++] = "overlay";

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		cpio_add_dir(&img->initramfs, dirs[i], 0755);
	/* the kernel opens it for the init's stdin, stdout and stderr */
	cpio_add_node(&img->initramfs, "dev/console", S_IFCHR | 0600, 5, 1);
	cpio_add_file(&img->initramfs, ".vmm-run/init", 0755, init, init_len);
	if (img->initramfs.error) {
		snprintf(err, errlen, "run: out of memory building the initramfs");
		return VMM_EXIT_ERROR;
	}

	/* first: the init reseeds and sets the clock before it loads or mounts anything */
	ret = add_identity(&cfg, err, errlen);
	if (!ret)
		ret = add_modules(&img->initramfs, &cfg, opts, wanted, nwanted, err, errlen);
	if (!ret && opts->rootfs)
		ret = add_tree(&img->initramfs, opts->rootfs, err, errlen);
	if (ret)
		goto out;

	if (opts->rootfs) {
		config_put(&cfg, "root", "initramfs");
	} else {
		config_put(&cfg, "root", "virtiofs:" RUN_ROOT_TAG);
		config_put(&cfg, "root-ro", "1");
		if (overlay)
			config_put(&cfg, "root-overlay", "1");
	}
	add_shares(opts, &cfg);
	config_put(&cfg, "hostname", opts->name ? opts->name : "vmm-run");
	if (opts->cwd)
		snprintf(cwd, sizeof(cwd), "%s", opts->cwd);
	else if (opts->rootfs || !getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "/"); /* a copied tree has none of our directories */
	config_put(&cfg, opts->cwd ? "cwd" : "cwd-or-root", cwd);
	build_env(opts, &cfg);
	if (opts->run_tty)
		config_put(&cfg, "tty", "1");
	for (unsigned int i = 0; i < opts->ncommand; i++)
		config_put(&cfg, "arg", opts->command[i]);
	/* the configuration is not in the initramfs: the init asks the VMM for it */
	if (cfg.error || cpio_finish(&img->initramfs)) {
		snprintf(err, errlen, "run: out of memory building the initramfs");
		ret = VMM_EXIT_ERROR;
		goto out;
	}

	/* loglevel=1: only a panic reaches the console, so a quiet run stays cheap */
	snprintf(img->cmdline, sizeof(img->cmdline),
		 "console=ttyS0 reboot=k panic=-1 rdinit=" RUN_INIT_DIR "/init%s%s%s",
		 opts->verbose ? "" : " quiet loglevel=1",
		 strcmp(opts->cmdline, VMM_DEFAULT_CMDLINE) ? " " : "",
		 strcmp(opts->cmdline, VMM_DEFAULT_CMDLINE) ? opts->cmdline : "");
out:
	if (ret) {
		free(cfg.buf);
		run_image_free(img);
	} else {
		free(run_config.buf);
		run_config = cfg;
	}
	return ret;
}

size_t run_config_read(void *ctx, uint64_t offset, uint8_t *dst, size_t max, bool *end)
{
	size_t n;

	(void)ctx;
	if (offset == 0 && run_config_time) {
		struct timespec now;
		char value[RUN_TIME_WIDTH + 1];

		/* the vDSO: no system call on the vCPU thread */
		clock_gettime(CLOCK_REALTIME, &now);
		snprintf(value, sizeof(value), "%020lld.%09ld", (long long)now.tv_sec, now.tv_nsec);
		memcpy(run_config.buf + run_config_time, value, RUN_TIME_WIDTH);
	}
	if (offset >= run_config.len) {
		*end = true;
		return 0;
	}
	n = run_config.len - offset < max ? run_config.len - offset : max;
	memcpy(dst, run_config.buf + offset, n);
	*end = offset + n == run_config.len;
	return n;
}

void run_image_free(struct run_image *img)
{
	cpio_free(&img->initramfs);
}

void run_output(void *ctx, enum cmdport_stream stream, const uint8_t *buf, size_t len)
{
	int fd = stream == CMDPORT_STDOUT ? STDOUT_FILENO : STDERR_FILENO;

	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		/*
		 * The reader went away (`vmm run -- yes | head`): end the run as SIGPIPE ends
		 * a program in a pipeline, status 141, instead of running on unread.
		 */
		if (n < 0 && errno == EPIPE)
			vm_request_stop(ctx, VMM_EXIT_SIGNAL_BASE + SIGPIPE);
		if (n <= 0)
			return; /* other errors lose the output, not the run */
		buf += n;
		len -= (size_t)n;
	}
}

/* Opened before the sandbox closes: no thread may open a file once the guest runs. */
static FILE *status_out;

int run_open_status_file(const struct vmm_options *opts, char *err, size_t errlen)
{
	const char *why;
	int fd;

	if (!opts->status_file)
		return 0;
	fd = hostfile_open(opts->status_file, O_WRONLY | O_CREAT | O_TRUNC, 0666, HOSTFILE_OUTPUT,
			   NULL, &why);
	if (fd < 0) {
		snprintf(err, errlen, "--status-file %s: %s", opts->status_file, why);
		return fd;
	}
	status_out = fdopen(fd, "w");
	if (!status_out) {
		int ret = -errno;

		close(fd);
		snprintf(err, errlen, "--status-file %s: %s", opts->status_file, strerror(-ret));
		return ret;
	}
	return 0;
}

int run_status_file_fd(void)
{
	return status_out ? fileno(status_out) : -1;
}

static void write_status_file(const char *path, const char *line)
{
	FILE *f = status_out;

	status_out = NULL;
	if (!f || fprintf(f, "%s\n", line) < 0 || fclose(f)) {
		fprintf(stderr, "vmm: --status-file %s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
	}
}

static const char *stop_reason(int code)
{
	switch (code) {
	case VMM_EXIT_POWEROFF:
		return "powered off";
	case VMM_EXIT_REBOOT:
		return "rebooted (a kernel panic does, with panic=-1)";
	case VMM_EXIT_TRIPLE_FAULT:
		return "triple-faulted";
	case VMM_EXIT_KVM_ERROR:
		return "could not be run by KVM";
	default:
		return "stopped";
	}
}

int run_finish(struct vm *vm, const struct vmm_options *opts, const struct console *con,
	       int stop_code)
{
	enum cmdport_status_kind kind;
	uint8_t value;
	char line[160];
	int code;
	bool have = cmdport_status(&vm->cmdport, &kind, &value);

	cmdport_flush(&vm->cmdport);
	if (stop_code == VMM_EXIT_TIMEOUT) {
		snprintf(line, sizeof(line), "timeout %u", opts->timeout);
		code = VMM_EXIT_TIMEOUT;
	} else if (stop_code >= VMM_EXIT_SIGNAL_BASE) {
		snprintf(line, sizeof(line), "vmm-signal %d", stop_code - VMM_EXIT_SIGNAL_BASE);
		code = stop_code;
	} else if (stop_code == VMM_EXIT_ERROR) {
		snprintf(line, sizeof(line), "vmm-error");
		code = stop_code;
	} else if (have && kind == CMDPORT_STATUS_EXITED) {
		snprintf(line, sizeof(line), "exit %u", value);
		code = value;
	} else if (have && kind == CMDPORT_STATUS_SIGNALED) {
		snprintf(line, sizeof(line), "signal %u", value);
		code = VMM_EXIT_SIGNAL_BASE + value;
	} else if (have) {
		fprintf(stderr, "vmm: run: the guest's init failed (%s)\n", strerror(value));
		snprintf(line, sizeof(line), "init-failed %u", value);
		code = VMM_EXIT_NO_STATUS;
	} else {
		uint8_t tail[CONSOLE_TAIL_SIZE];
		size_t tail_len = console_tail(con, tail, sizeof(tail));

		fprintf(stderr, "vmm: run: the guest %s without reporting the command's status\n",
			stop_reason(stop_code));
		if (tail_len && !opts->verbose) {
			fprintf(stderr, "vmm: run: the guest console's last output:\n");
			fwrite(tail, 1, tail_len, stderr);
			if (tail[tail_len - 1] != '\n')
				fputc('\n', stderr);
		}
		snprintf(line, sizeof(line), "no-status %d", stop_code);
		code = VMM_EXIT_NO_STATUS;
	}
	if (opts->status_file)
		write_status_file(opts->status_file, line);
	return code;
}
