// SPDX-License-Identifier: MIT
/*
 * The init of a `vmm run` guest, PID 1 in the initramfs the VMM writes (vmm/run/run.c).
 * It stops at its boot point (where `vmm run --boot-cache` snapshots the guest, before any
 * driver is loaded or anything mounted), then asks the VMM for the run's configuration,
 * loads the kernel modules listed there, mounts the root (a virtio-fs share, or the
 * initramfs itself), runs the command with its stdin, stdout and
 * stderr on pipes (or on a pty, for an interactive shell), forwards the output to the VMM
 * and the VMM's stdin to the command through the command port (devices/cmdport.h) and
 * reports the exit status there before powering off.
 *
 * The config comes through the command port a page at a time (CMDPORT_REG_CONFIG), so a
 * guest restored from a boot cache gets the new run's. It is a sequence of NUL-terminated
 * strings taken in pairs, key then value:
 *   module PATH | module-z PATH    a module to load, in order (-z: kernel decompresses)
 *   root initramfs | root virtiofs:TAG    root-ro 1
 *   root-overlay 1  the virtio-fs root is the lower layer of an overlayfs whose upper
 *                   layer is a tmpfs: the guest may write anywhere, the host sees nothing
 *   share ro:TAG:PATH | share rw:TAG:PATH  another virtio-fs share, mounted at PATH
 *   hostname NAME   cwd DIR   env NAME=VALUE   arg WORD (argv, in order)
 *   cwd-or-root DIR   like cwd, but / when DIR does not exist in the guest
 *   tty 1           the command runs on a terminal (interactive `vmm run`): a pty whose
 *                   size follows the host terminal's, instead of three pipes
 *   random HEX      fresh bytes from the host, credited to the kernel's pool, which then
 *                   reseeds: a guest restored from a boot cache has the snapshot's pool
 *   time SEC.NSEC   the host's clock when the config was read: CLOCK_REALTIME is set to it
 *
 * Built static (no loader or libraries in the initramfs), and talks to the VMM only
 * through the command port's registers (port I/O on x86, MMIO on arm64: guest/cmdport_io.h)
 * so nothing here depends on a guest driver.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "devices/cmdport.h"
#include "guest/cmdport_io.h"

#define NEWROOT "/.vmm-run/root"
#define LOWER "/.vmm-run/lower" /* with root-overlay: the share, under the overlay */
#define RWLAYER "/.vmm-run/rw"	/* with root-overlay: the tmpfs of the upper layer */
#define MAX_WORDS 4096
#define MODULE_INIT_COMPRESSED 4 /* MODULE_INIT_COMPRESSED_FILE, Linux 6.0+ */
#define MOUNT_WAIT_MS 5000
/* <linux/random.h>'s ioctls, which musl's headers lack */
#define RNDADDENTROPY _IOW('R', 0x03, int[2])
#define RNDRESEEDCRNG _IO('R', 0x07)

extern char **environ;

static bool have_device;
static uint8_t *page;	 /* one locked page the VMM reads chunks from */
static int pagemap = -1; /* /proc/self/pagemap, for the page's physical address */
static uint64_t page_gpa;

/* The page's guest-physical address now (0 when it cannot be had); re-read per chunk
 * because the kernel may migrate even a locked page. */
static uint64_t page_address(void)
{
	uint64_t entry;

	if (pread(pagemap, &entry, sizeof(entry), (off_t)((uintptr_t)page / 4096 * 8)) !=
		    sizeof(entry) ||
	    !(entry >> 63))
		return 0;
	return (entry & ((1ull << 55) - 1)) * 4096; /* bits 0-54: the page frame number */
}

static void setup_page(void)
{
	page = mmap(NULL, CMDPORT_CHUNK_MAX, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED | MAP_POPULATE, -1, 0);
	if (page == MAP_FAILED) {
		page = NULL;
		return;
	}
	/* a child sharing it copy-on-write would move our copy to another frame */
	madvise(page, CMDPORT_CHUNK_MAX, MADV_DONTFORK);
	page[0] = 0;
	pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
}

/*
 * Output to the VMM. Through the page: one exit per chunk of up to 4 KiB. A string
 * write would exit once per byte (KVM emulates rep outsb one item at a time), so bytes
 * go that way only when the page's address cannot be had.
 */
static void emit(enum cmdport_stream stream, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (!have_device) {
		if (write(stream == CMDPORT_STDOUT ? 1 : 2, buf, len) < 0) {
			/* no device and no console: nowhere left to say it */
		}
		return;
	}
	while (len) {
		size_t n = len < CMDPORT_CHUNK_MAX ? len : CMDPORT_CHUNK_MAX;
		uint64_t gpa = 0;

		/* the address after the copy: writing is what could have moved the page */
		if (page && pagemap >= 0) {
			memcpy(page, p, n);
			gpa = page_address();
		}
		if (!gpa) {
			cmdport_write_bytes((unsigned int)stream, p, len);
			cmdport_write8(CMDPORT_REG_CONTROL, CMDPORT_CONTROL_FLUSH);
			return;
		}
		if (gpa != page_gpa) {
			cmdport_write32(CMDPORT_REG_CHUNK_LO, (uint32_t)gpa);
			cmdport_write32(CMDPORT_REG_CHUNK_HI, (uint32_t)(gpa >> 32));
			page_gpa = gpa;
		}
		cmdport_write32(CMDPORT_REG_CHUNK, CMDPORT_CHUNK_WORD(stream, n));
		p += n;
		len -= n;
	}
}

static void say(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n = snprintf(line, sizeof(line), "vmm-init: ");

	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	emit(CMDPORT_STDERR, line, (size_t)n);
}

static void finish(enum cmdport_status_kind kind, int value)
{
	sync(); /* a --disk the command wrote is on the host before the VMM stops */
	if (have_device)
		cmdport_write32(CMDPORT_REG_STATUS, CMDPORT_STATUS_WORD(kind, value & 0xff));
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

static void fail(int err, const char *fmt, ...)
{
	char what[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	say("%s: %s", what, strerror(err));
	finish(CMDPORT_STATUS_INIT_FAILED, err);
}

/*
 * The boot point: tell the VMM, and wait while it holds us here (it is saving a snapshot
 * of the guest for its boot cache). A restored guest goes on from inside this loop.
 */
static void boot_point(void)
{
	if (!have_device)
		return;
	cmdport_write32(CMDPORT_REG_BOOT_POINT, CMDPORT_BOOT_POINT_MAGIC);
	while (!cmdport_read32(CMDPORT_REG_BOOT_POINT))
		usleep(1000);
}

/* The run's configuration from the VMM, a page at a time, NUL-terminated in memory. */
static char *read_config(size_t *len)
{
	size_t cap = 0;
	char *buf = NULL;
	uint32_t word;

	*len = 0;
	if (!have_device)
		fail(ENODEV, "no command port to ask for the configuration");
	do {
		uint64_t gpa = page && pagemap >= 0 ? page_address() : 0;
		size_t n;

		if (!gpa)
			fail(EIO, "no page to receive the configuration in");
		if (gpa != page_gpa) {
			cmdport_write32(CMDPORT_REG_CHUNK_LO, (uint32_t)gpa);
			cmdport_write32(CMDPORT_REG_CHUNK_HI, (uint32_t)(gpa >> 32));
			page_gpa = gpa;
		}
		word = cmdport_read32(CMDPORT_REG_CONFIG);
		if (word & CMDPORT_CONFIG_FAILED)
			fail(EFAULT, "reading the configuration");
		n = CMDPORT_CONFIG_LEN(word);
		if (n > CMDPORT_CHUNK_MAX)
			n = CMDPORT_CHUNK_MAX;
		if (*len + n + 1 > cap) {
			cap = (cap + n + 1) * 2;
			buf = realloc(buf, cap);
			if (!buf)
				fail(ENOMEM, "reading the configuration");
		}
		memcpy(buf + *len, page, n);
		*len += n;
	} while (!(word & CMDPORT_CONFIG_END));
	if (!buf && !(buf = malloc(1)))
		fail(ENOMEM, "reading the configuration");
	buf[*len] = 0;
	return buf;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Fresh bytes from the host into the kernel's pool, credited, and a reseed of the random
 * number generator: a guest restored from a boot cache would otherwise produce the same
 * "random" bytes as every other run restored from it.
 */
static void add_randomness(const char *hex)
{
	struct {
		int entropy_count; /* struct rand_pool_info */
		int buf_size;
		uint8_t bytes[64];
	} req = { 0 };
	size_t n = 0;
	int fd;

	for (; n < sizeof(req.bytes) && hex[2 * n] && hex[2 * n + 1]; n++) {
		int hi = hex_digit(hex[2 * n]), lo = hex_digit(hex[2 * n + 1]);

		if (hi < 0 || lo < 0)
			break;
		req.bytes[n] = (uint8_t)(hi << 4 | lo);
	}
	req.entropy_count = (int)(8 * n);
	req.buf_size = (int)n;
	fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, RNDADDENTROPY, &req) < 0 || ioctl(fd, RNDRESEEDCRNG) < 0)
		say("seeding the random number generator: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* The host's time: a restored guest's clock stopped when the snapshot was taken. */
static void set_time(const char *value)
{
	struct timespec ts = { 0 };
	char *end;

	ts.tv_sec = (time_t)strtoll(value, &end, 10);
	if (*end == '.')
		ts.tv_nsec = strtol(end + 1, NULL, 10);
	if (ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
		ts.tv_nsec = 0;
	if (ts.tv_sec > 0 && clock_settime(CLOCK_REALTIME, &ts) < 0)
		say("setting the clock: %s", strerror(errno));
}

static void load_module(const char *path, bool compressed)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		say("module %s: %s", path, strerror(errno));
		return;
	}
	if (syscall(SYS_finit_module, fd, "", compressed ? MODULE_INIT_COMPRESSED : 0) < 0 &&
	    errno != EEXIST)
		say("loading module %s: %s", path, strerror(errno));
	close(fd);
}

static void mkdirs(const char *path)
{
	char tmp[4096];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = 0;
			mkdir(tmp, 0755);
			*p = '/';
		}
	}
	mkdir(tmp, 0755);
}

/* virtio-fs devices probe as their module loads, but give a slow probe a moment. */
static int mount_virtiofs(const char *tag, const char *target, bool ro)
{
	for (int waited = 0;; waited += 10) {
		if (mount(tag, target, "virtiofs", ro ? MS_RDONLY : 0, NULL) == 0)
			return 0;
		if ((errno != EINVAL && errno != ENODEV && errno != ENOENT) ||
		    waited >= MOUNT_WAIT_MS)
			return -errno;
		usleep(10000);
	}
}

/*
 * The share read-only at LOWER, a tmpfs at RWLAYER for the upper layer and overlayfs's
 * work directory, the union at NEWROOT. When overlayfs is missing or refuses the share,
 * the share itself becomes the root, read-only, and the command is told so on stderr.
 */
static void mount_overlay_root(const char *tag)
{
	int ret = mount_virtiofs(tag, LOWER, true);

	if (ret)
		fail(-ret, "mounting the root (virtio-fs tag %s)", tag);
	if (mount("tmpfs", RWLAYER, "tmpfs", 0, "mode=755") == 0 &&
	    mkdir(RWLAYER "/upper", 0755) == 0 && mkdir(RWLAYER "/work", 0755) == 0 &&
	    mount("overlay", NEWROOT, "overlay", 0,
		  "lowerdir=" LOWER ",upperdir=" RWLAYER "/upper,workdir=" RWLAYER "/work") == 0)
		return;
	say("--overlay: %s; the root stays read-only", strerror(errno));
	if (mount(LOWER, NEWROOT, NULL, MS_MOVE, NULL) < 0)
		fail(errno, "moving the root share");
}

/* /proc, /sys and /dev move into the new root; /tmp and /run are fresh tmpfs there. */
static void enter_root(const char *tag, bool ro, bool overlay)
{
	static const char *const moved[] = { "/dev", "/proc", "/sys" };
	char path[64];
	int ret;

	if (overlay) {
		mount_overlay_root(tag);
	} else {
		ret = mount_virtiofs(tag, NEWROOT, ro);
		if (ret)
			fail(-ret, "mounting the root (virtio-fs tag %s)", tag);
	}
	for (size_t i = 0; i < sizeof(moved) / sizeof(moved[0]); i++) {
		snprintf(path, sizeof(path), NEWROOT "%s", moved[i]);
		if (mount(moved[i], path, NULL, MS_MOVE, NULL) < 0)
			fail(errno, "moving %s into the root", moved[i]);
	}
	if (chdir(NEWROOT) < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
	    chdir("/") < 0)
		fail(errno, "switching to the new root");
}

static void mount_scratch(void)
{
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)
		say("mounting /tmp: %s", strerror(errno));
	/* the host's /run describes the host's services, not this guest's */
	if (access("/run", F_OK) == 0 &&
	    mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755") < 0)
		say("mounting /run: %s", strerror(errno));
}

static void mount_share(char *spec)
{
	char *tag, *path;
	bool ro = !strncmp(spec, "ro:", 3);
	int ret;

	tag = spec + 3;
	path = strchr(tag, ':');
	if (!path)
		return;
	*path++ = 0;
	mkdirs(path);
	ret = mount_virtiofs(tag, path, ro);
	if (ret)
		say("mounting share %s at %s: %s", tag, path, strerror(-ret));
}

static void forward(int *fd, enum cmdport_stream stream)
{
	char buf[CMDPORT_BUFFER_SIZE];
	ssize_t n = read(*fd, buf, sizeof(buf));

	if (n > 0) {
		emit(stream, buf, (size_t)n);
	} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
		close(*fd);
		*fd = -1;
	}
}

/*
 * Our stdin reaches the command through a pipe. The init asks the VMM for a chunk
 * (CMDPORT_REG_STDIN) whenever the last one is written: an init has no interrupt of its
 * own to wait on, so while the VMM has nothing it asks again after a short sleep that
 * doubles up to INPUT_WAIT_MAX_MS, and at once again as soon as bytes came.
 */
#define INPUT_WAIT_MAX_MS 32

struct input {
	int fd;	    /* the pipe's write end (non-blocking); -1 once closed */
	int tty_fd; /* with a terminal: its master, whose size follows ours; else -1 */
	size_t off, len;
	int wait_ms; /* how long to sleep before asking again; 0: ask now */
	char buf[CMDPORT_CHUNK_MAX];
};

static void input_close(struct input *in)
{
	if (in->fd >= 0)
		close(in->fd);
	in->fd = -1;
	in->off = in->len = 0;
}

static void input_fetch(struct input *in)
{
	uint64_t gpa = have_device && page && pagemap >= 0 ? page_address() : 0;
	uint32_t word, len;

	if (!gpa) { /* no page the VMM can fill: the command gets an empty stdin */
		input_close(in);
		return;
	}
	if (gpa != page_gpa) {
		cmdport_write32(CMDPORT_REG_CHUNK_LO, (uint32_t)gpa);
		cmdport_write32(CMDPORT_REG_CHUNK_HI, (uint32_t)(gpa >> 32));
		page_gpa = gpa;
	}
	word = cmdport_read32(CMDPORT_REG_STDIN);
	if (word & CMDPORT_STDIN_EOF) {
		input_close(in);
		return;
	}
	if ((word & CMDPORT_STDIN_WINSIZE) && in->tty_fd >= 0) {
		uint32_t size = cmdport_read32(CMDPORT_REG_WINSIZE);
		struct winsize ws = { .ws_row = (unsigned short)(size >> 16),
				      .ws_col = (unsigned short)size };

		/* the kernel sends the terminal's foreground job SIGWINCH */
		ioctl(in->tty_fd, TIOCSWINSZ, &ws);
	}
	len = CMDPORT_STDIN_LEN(word);
	if (len > CMDPORT_CHUNK_MAX)
		len = CMDPORT_CHUNK_MAX;
	memcpy(in->buf, page, len);
	in->off = 0;
	in->len = len;
	if (len)
		in->wait_ms = 0;
	else
		in->wait_ms = in->wait_ms ? (in->wait_ms * 2 > INPUT_WAIT_MAX_MS ? INPUT_WAIT_MAX_MS
										 : in->wait_ms * 2)
					  : 1;
}

static void input_write(struct input *in)
{
	ssize_t n = write(in->fd, in->buf + in->off, in->len - in->off);

	if (n > 0)
		in->off += (size_t)n;
	else if (n < 0 && errno != EAGAIN && errno != EINTR)
		input_close(in); /* the command closed its stdin: the rest is dropped */
	if (in->off == in->len)
		in->off = in->len = 0;
}

/*
 * A terminal for an interactive command: a devpts instance of the guest's own, a master
 * for the init (non-blocking) and the slave for the command. Returns the master, or -1.
 */
static int open_terminal(int *slave)
{
	int master, unlock = 0;

	mkdir("/dev/pts", 0755);
	if (mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620") < 0) {
		say("mounting /dev/pts: %s", strerror(errno));
		return -1;
	}
	master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (master < 0 || ioctl(master, TIOCSPTLCK, &unlock) < 0 ||
	    (*slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		say("opening a terminal: %s", strerror(errno));
		if (master >= 0)
			close(master);
		return -1;
	}
	return master;
}

/*
 * Run argv with env in the current directory; returns its wait status. With tty, the
 * command's stdin, stdout and stderr are a terminal (its controlling one, in a session
 * of its own) instead of three pipes, so a shell gets job control and Ctrl-C.
 */
static int run_command(char **argv, char **env, bool tty)
{
	static struct input in = { .tty_fd = -1 };
	int out[2], err[2], inp[2], sfd, status = 0, master = -1, slave = -1;
	bool exited = false;
	sigset_t chld, old;
	pid_t pid;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 ||
	    pipe2(inp, O_CLOEXEC) < 0 || fcntl(inp[1], F_SETFL, O_NONBLOCK) < 0)
		fail(errno, "setting up the command's pipes");
	/* a command that stops reading gives EPIPE, not a signal (the child resets it) */
	signal(SIGPIPE, SIG_IGN);
	if (tty && (master = open_terminal(&slave)) >= 0) {
		in.tty_fd = master;
		in.fd = fcntl(master, F_DUPFD_CLOEXEC, 0);
		input_fetch(&in); /* the size first: the shell reads it as it starts */
	}
	pid = fork();
	if (pid < 0)
		fail(errno, "fork");
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		signal(SIGPIPE, SIG_DFL);
		setsid();
		if (master >= 0) {
			if (ioctl(slave, TIOCSCTTY, 0) < 0 || dup2(slave, 0) < 0 ||
			    dup2(slave, 1) < 0 || dup2(slave, 2) < 0)
				_exit(126);
		} else if (dup2(inp[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0) {
			_exit(126);
		}
		environ = env;
		execvp(argv[0], argv);
		dprintf(2, "vmm-run: %s: %s\n", argv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	close(out[1]);
	close(err[1]);
	close(inp[0]);
	if (master >= 0) {
		/* everything the command writes comes out of the master, as stdout */
		close(slave);
		close(out[0]);
		close(err[0]);
		close(inp[1]);
		out[0] = master;
		err[0] = -1;
	} else {
		in.fd = inp[1];
	}
	/*
	 * Forward until the command has exited and its pipes are drained. A background
	 * process may hold them open forever, so once the command is gone only what is
	 * already there is read.
	 */
	while (!exited || out[0] >= 0 || err[0] >= 0) {
		int timeout = exited ? 0 : -1;

		if (exited)
			input_close(&in);
		else if (in.fd >= 0 && in.len == 0)
			input_fetch(&in);
		if (in.fd >= 0 && in.len == 0)
			timeout = in.wait_ms;

		struct pollfd p[4] = { { out[0], POLLIN, 0 },
				       { err[0], POLLIN, 0 },
				       { sfd, POLLIN, 0 },
				       { in.len ? in.fd : -1, POLLOUT, 0 } };

		if (exited) {
			for (int i = 0; i < 2; i++)
				if (p[i].fd >= 0)
					fcntl(p[i].fd, F_SETFL, O_NONBLOCK);
		}
		int ready = poll(p, 4, timeout);

		if (ready < 0 && errno != EINTR)
			fail(errno, "poll");
		if (p[3].revents)
			input_write(&in);
		if (exited && !(p[0].revents | p[1].revents))
			break;
		if (p[0].revents)
			forward(&out[0], CMDPORT_STDOUT);
		if (p[1].revents)
			forward(&err[0], CMDPORT_STDERR);
		if (p[2].revents) {
			struct signalfd_siginfo si;
			int st;
			pid_t got;

			while (read(sfd, &si, sizeof(si)) > 0)
				;
			/* PID 1 inherits every orphan: reap them all, remember ours */
			while ((got = waitpid(-1, &st, WNOHANG)) > 0) {
				if (got == pid) {
					status = st;
					exited = true;
				}
			}
		}
	}
	return status;
}

int main(void)
{
	char *argv[MAX_WORDS + 1], *env[MAX_WORDS + 1];
	const char *root = "initramfs", *cwd = "/", *hostname = "vmm-run";
	char *shares[64];
	unsigned int nargs = 0, nenv = 0, nshares = 0;
	bool root_ro = false, root_overlay = false, cwd_optional = false, tty = false;
	size_t len, pos = 0;
	char *cfg;
	int status;

	mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	have_device = cmdport_io_open();
	if (!have_device)
		say("no command port: is this minivmm's `vmm run`?");
	setup_page();
	boot_point();

	cfg = read_config(&len);
	while (pos < len) {
		char *key = cfg + pos, *value;

		pos += strlen(key) + 1;
		if (pos >= len)
			break;
		value = cfg + pos;
		pos += strlen(value) + 1;
		if (!strcmp(key, "module") || !strcmp(key, "module-z"))
			load_module(value, key[6] == '-');
		else if (!strcmp(key, "random"))
			add_randomness(value);
		else if (!strcmp(key, "time"))
			set_time(value);
		else if (!strcmp(key, "root"))
			root = value;
		else if (!strcmp(key, "root-ro"))
			root_ro = true;
		else if (!strcmp(key, "root-overlay"))
			root_overlay = true;
		else if (!strcmp(key, "tty"))
			tty = true;
		else if (!strcmp(key, "share") && nshares < 64)
			shares[nshares++] = value;
		else if (!strcmp(key, "hostname"))
			hostname = value;
		else if (!strcmp(key, "cwd") || !strcmp(key, "cwd-or-root"))
			cwd = value, cwd_optional = key[3] == '-';
		else if (!strcmp(key, "env") && nenv < MAX_WORDS)
			env[nenv++] = value;
		else if (!strcmp(key, "arg") && nargs < MAX_WORDS)
			argv[nargs++] = value;
	}
	argv[nargs] = NULL;
	env[nenv] = NULL;
	if (!nargs)
		fail(EINVAL, "no command to run");

	if (!strncmp(root, "virtiofs:", 9))
		enter_root(root + 9, root_ro, root_overlay);
	mount_scratch();
	for (unsigned int i = 0; i < nshares; i++)
		mount_share(shares[i]);
	if (sethostname(hostname, strlen(hostname)) < 0)
		say("hostname %s: %s", hostname, strerror(errno));
	/* the host's working directory may lie outside what the guest can see */
	if (chdir(cwd) < 0 && (!cwd_optional || chdir("/") < 0))
		fail(errno, "working directory %s", cwd);

	status = run_command(argv, env, tty);
	if (WIFSIGNALED(status))
		finish(CMDPORT_STATUS_SIGNALED, WTERMSIG(status));
	finish(CMDPORT_STATUS_EXITED, WEXITSTATUS(status));
	return 0;
}
