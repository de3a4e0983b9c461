// SPDX-License-Identifier: MIT
/*
 * vmclock: start a VMM and time, from outside, when given text first appears on its
 * output; optionally measure its memory once it is there. The same clock for every VMM:
 * the time is taken just before fork() and again as soon as poll() says the bytes
 * arrived on the pipe, so exec, dynamic linking and every set-up step are inside it.
 *
 *   vmclock [-p LABEL=TEXT]... [-k] [-t MS] [-w MS] [-m MIB] [-x DIR] [-o FILE] [-e FILE] --
 *           CMD ARG...
 *
 *   -p LABEL=TEXT  when TEXT first appears on the child's stdout or stderr, print
 *                  LABEL=<ms since the fork> (each stream is searched as a whole)
 *   -k             once every TEXT was seen (and -w/-m are done), kill the child
 *                  (else wait for it to exit)
 *   -t MS          give up after MS ms: kill the child, print missing=LABEL (60000)
 *   -w MS          wait MS ms after the last TEXT before -m and -k
 *   -m MIB         guest RAM in MiB: read /proc/PID/smaps and print rss_kb, guest_kb
 *                  (mappings of MIB to MIB+16 MiB: guest RAM, padded at most for
 *                  alignment; no other mapping of a VMM has that size), overhead_kb (the
 *                  rest), and size and Rss of every mapping of 64 MiB or more
 *   -x DIR         KVM's debugfs folder (/sys/kernel/debug/kvm): the moment every TEXT
 *                  was seen, read the counters of the child's VM there (the folder
 *                  PID-FD of the thread that created it) and print kvm_NAME=N for each
 *                  exit counter in exit_counters[] that this kernel has; kvm_error=why
 *                  when there is no such folder. The same counters, kept by KVM itself,
 *                  for every VMM: how often each kind of exit happened until then.
 *   -o FILE, -e FILE  a copy of the child's stdout, stderr
 * Then status=N (exit status, or 128+signal). Exit status 0 when every TEXT was seen.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/wait.h>

#define MAX_PATTERNS 8
#define STREAM_MAX (16u << 20) /* searched bytes per stream; beyond, only copied */

struct pattern {
	const char *label;
	const char *text;
	double ms; /* < 0 until seen */
};

struct stream {
	int fd;
	FILE *copy;
	char *buf;
	size_t len;
	bool open;
};

static struct timespec t0;

/*
 * KVM's per-VM sums of its vCPUs' counters (x86 names): every exit, then the kinds a boot
 * has most of. Exits KVM handles itself count here as well as those it hands to the VMM.
 */
static const char *const exit_counters[] = {
	"exits",
	"io_exits",
	"mmio_exits",
	"halt_exits",
	"irq_exits",
	"irq_window_exits",
	"nmi_window_exits",
	"signal_exits",
	"request_irq_exits",
	"insn_emulation",
	"hypercalls",
	"irq_injections",
};

static double since_start(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0.tv_sec) * 1e3 + (double)(now.tv_nsec - t0.tv_nsec) / 1e6;
}

static void usage(void)
{
	fprintf(stderr, "usage: vmclock [-p LABEL=TEXT]... [-k] [-t MS] [-w MS] [-m MIB] "
			"[-x DIR] [-o FILE] [-e FILE] -- CMD ARG...\n");
	exit(2);
}

/* Sum Rss over every mapping in smaps, and over those that are the guest's RAM. */
static int measure(pid_t pid, uint64_t guest_bytes)
{
	char path[64], line[512];
	uint64_t size = 0, rss = 0, guest = 0;
	bool is_guest = false, big = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "r");
	if (!f) {
		printf("smaps_error=%s\n", strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a, b, kb;

		if (sscanf(line, "%llx-%llx ", &a, &b) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			size = b - a;
			is_guest = size >= guest_bytes && size <= guest_bytes + (16u << 20);
			big = size >= (64u << 20);
		} else if (sscanf(line, "Rss: %llu kB", &kb) == 1) {
			if (big)
				printf("big_map=%.1fMiB,rss_kb=%llu%s\n", (double)size / (1 << 20),
				       kb, is_guest ? ",guest" : "");
			rss += kb;
			if (is_guest)
				guest += kb;
		}
	}
	fclose(f);
	printf("rss_kb=%" PRIu64 "\nguest_kb=%" PRIu64 "\noverhead_kb=%" PRIu64 "\n", rss, guest,
	       rss - guest);
	return 0;
}

/* Is tid a thread of process pid? */
static bool thread_of(pid_t pid, long tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%ld", (int)pid, tid);
	return access(path, F_OK) == 0;
}

/* Print kvm_NAME=N for pid's VM from KVM's debugfs folder dir (see -x above). */
static void kvm_counters(const char *dir, pid_t pid)
{
	char vm[256] = "", path[512], value[32];
	unsigned int nread = 0;
	struct dirent *e;
	int err = 0;
	DIR *d = opendir(dir);

	if (!d) {
		printf("kvm_error=%s: %s\n", dir, strerror(errno));
		return;
	}
	/* the folder is named after the thread that created the VM, and its descriptor */
	while ((e = readdir(d))) {
		long tid;
		int fd;

		if (sscanf(e->d_name, "%ld-%d", &tid, &fd) == 2 && thread_of(pid, tid)) {
			snprintf(vm, sizeof(vm), "%s", e->d_name);
			break;
		}
	}
	closedir(d);
	if (!vm[0]) {
		printf("kvm_error=no VM of process %d in %s\n", (int)pid, dir);
		return;
	}
	for (size_t i = 0; i < sizeof(exit_counters) / sizeof(exit_counters[0]); i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s/%s", dir, vm, exit_counters[i]);
		f = fopen(path, "r");
		if (!f) {
			if (errno != ENOENT) /* ENOENT: not a counter of this kernel */
				err = errno;
			continue;
		}
		if (fgets(value, sizeof(value), f)) {
			printf("kvm_%s=%s", exit_counters[i], value);
			nread++;
		}
		fclose(f);
	}
	if (!nread)
		printf("kvm_error=%s/%s: %s\n", dir, vm, err ? strerror(err) : "no counters");
}

static void take(struct stream *s, struct pattern *p, unsigned int np, double now)
{
	char chunk[65536];
	ssize_t n = read(s->fd, chunk, sizeof(chunk));

	if (n <= 0) {
		if (n == 0 || (errno != EINTR && errno != EAGAIN))
			s->open = false;
		return;
	}
	if (s->copy)
		fwrite(chunk, 1, (size_t)n, s->copy);
	if (s->len + (size_t)n > STREAM_MAX)
		return;
	s->buf = realloc(s->buf, s->len + (size_t)n + 1);
	if (!s->buf) {
		perror("vmclock");
		exit(1);
	}
	memcpy(s->buf + s->len, chunk, (size_t)n);
	s->len += (size_t)n;
	s->buf[s->len] = '\0';
	for (unsigned int i = 0; i < np; i++)
		if (p[i].ms < 0 && memmem(s->buf, s->len, p[i].text, strlen(p[i].text)))
			p[i].ms = now;
}

static bool all_seen(const struct pattern *p, unsigned int np)
{
	for (unsigned int i = 0; i < np; i++)
		if (p[i].ms < 0)
			return false;
	return true;
}

int main(int argc, char **argv)
{
	struct pattern pat[MAX_PATTERNS];
	struct stream st[2] = { { .fd = -1 }, { .fd = -1 } };
	unsigned int np = 0;
	double limit = 60000, settle = 0, seen_at = -1;
	uint64_t guest_mib = 0;
	bool kill_when_done = false, measured = false, killed = false;
	const char *out_copy = NULL, *err_copy = NULL, *kvm_dir = NULL;
	int pipes[2][2], opt, status = 0, code;
	pid_t pid;

	while ((opt = getopt(argc, argv, "+p:kt:w:m:x:o:e:")) != -1) {
		char *eq;

		switch (opt) {
		case 'p':
			eq = strchr(optarg, '=');
			if (!eq || np == MAX_PATTERNS)
				usage();
			*eq = '\0';
			pat[np++] = (struct pattern){ optarg, eq + 1, -1 };
			break;
		case 'k':
			kill_when_done = true;
			break;
		case 't':
			limit = atof(optarg);
			break;
		case 'w':
			settle = atof(optarg);
			break;
		case 'm':
			guest_mib = strtoull(optarg, NULL, 0);
			break;
		case 'x':
			kvm_dir = optarg;
			break;
		case 'o':
			out_copy = optarg;
			break;
		case 'e':
			err_copy = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	if (pipe2(pipes[0], O_CLOEXEC) || pipe2(pipes[1], O_CLOEXEC)) {
		perror("vmclock: pipe");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		perror("vmclock: fork");
		return 1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		setpgid(0, 0); /* so a kill reaches anything the VMM starts */
		dup2(null, 0);
		dup2(pipes[0][1], 1);
		dup2(pipes[1][1], 2);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "vmclock: %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}
	close(pipes[0][1]);
	close(pipes[1][1]);
	st[0] = (struct stream){ .fd = pipes[0][0], .open = true };
	st[1] = (struct stream){ .fd = pipes[1][0], .open = true };
	if (out_copy)
		st[0].copy = fopen(out_copy, "w");
	if (err_copy)
		st[1].copy = fopen(err_copy, "w");

	while (st[0].open || st[1].open) {
		struct pollfd fds[2];
		nfds_t n = 0;
		double now = since_start(), wait_ms = limit - now;

		if (seen_at >= 0 && (guest_mib || kill_when_done)) {
			double left = seen_at + settle - now;

			if (left <= 0) {
				if (guest_mib && !measured)
					measure(pid, guest_mib << 20);
				measured = true;
				if (!kill_when_done)
					guest_mib = 0; /* measured once; now wait for the exit */
				else
					break;
			} else if (left < wait_ms) {
				wait_ms = left;
			}
		}
		if (wait_ms <= 0)
			break;
		for (int i = 0; i < 2; i++)
			if (st[i].open)
				fds[n++] = (struct pollfd){ .fd = st[i].fd, .events = POLLIN };
		if (poll(fds, n, (int)wait_ms + 1) < 0 && errno != EINTR)
			break;
		now = since_start();
		for (nfds_t i = 0; i < n; i++) {
			struct stream *s = fds[i].fd == st[0].fd ? &st[0] : &st[1];

			if (fds[i].revents)
				take(s, pat, np, now);
		}
		if (seen_at < 0 && all_seen(pat, np)) {
			seen_at = now;
			if (kvm_dir)
				kvm_counters(kvm_dir, pid);
		}
	}
	if (waitpid(pid, &status, WNOHANG) == 0) {
		kill(-pid, SIGKILL);
		killed = true;
		waitpid(pid, &status, 0);
	}
	for (unsigned int i = 0; i < np; i++) {
		if (pat[i].ms >= 0)
			printf("%s=%.3f\n", pat[i].label, pat[i].ms);
		else
			printf("missing=%s\n", pat[i].label);
	}
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	printf("status=%d%s\n", code, killed ? " (killed by vmclock)" : "");
	for (int i = 0; i < 2; i++)
		if (st[i].copy)
			fclose(st[i].copy);
	return all_seen(pat, np) ? 0 : 1;
}
