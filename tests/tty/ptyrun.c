// SPDX-License-Identifier: MIT
/*
 * ptyrun: run a command on a pseudo-terminal of its own, as a user's terminal would run it,
 * and say whether it left the terminal's settings as it found them.
 *
 * Usage: ptyrun [-t SECONDS] [-z ROWSxCOLS] [-d SECONDS] [-w TEXT -s BYTES]... COMMAND [ARG...]
 *   The command gets a new session with the pty's slave as its controlling terminal and
 *   as stdin, stdout and stderr, of the size -z gives (default: none set). Everything it
 *   writes is copied to our stdout. Once TEXT has appeared in its output, BYTES are typed
 *   (written to the master), once, -d SECONDS later (default 0); several -w/-s pairs are
 *   steps taken in order, each TEXT looked for in the output after the last step. After it
 *   exits, one line on stderr compares the terminal's settings with those before, in the
 *   fields `stty -g` prints: "ptyrun: terminal restored" or "ptyrun: terminal changed:
 *   before ... after ...".
 * Exit status: the command's, 128 + N when signal N killed it, 124 when it ran past
 * SECONDS (default 30; it is then killed), 125 when ptyrun itself failed.
 *
 * A test tool, linked statically so that the nested harness's outer host can run it too.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

static int fail(const char *what)
{
	fprintf(stderr, "ptyrun: %s: %s\n", what, strerror(errno));
	return 125;
}

/* the terminal's settings as `stty -g` shows them: the four flag words, then each c_cc */
static void settings(int fd, char *buf, size_t size)
{
	struct termios t;
	size_t n;

	if (tcgetattr(fd, &t) < 0) {
		snprintf(buf, size, "(unreadable: %s)", strerror(errno));
		return;
	}
	n = (size_t)snprintf(buf, size, "%x:%x:%x:%x", (unsigned int)t.c_iflag,
			     (unsigned int)t.c_oflag, (unsigned int)t.c_cflag,
			     (unsigned int)t.c_lflag);
	for (unsigned int i = 0; i < NCCS && n + 4 < size; i++)
		n += (size_t)snprintf(buf + n, size - n, ":%x", t.c_cc[i]);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define SEEN_SIZE 8192 /* the tail of the output searched for TEXT */

/* copy what the command wrote to stdout and keep its tail for matching TEXT */
static void relay(int master, char *seen, size_t *len)
{
	char buf[SEEN_SIZE / 2];
	ssize_t n;

	while ((n = read(master, buf, sizeof(buf))) > 0) {
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			break;
		if (*len + (size_t)n >= SEEN_SIZE) {
			size_t drop = *len + (size_t)n - (SEEN_SIZE - 1);

			memmove(seen, seen + drop, *len - drop);
			*len -= drop;
		}
		memcpy(seen + *len, buf, (size_t)n);
		*len += (size_t)n;
		seen[*len] = '\0';
	}
	fflush(stdout);
}

#define MAX_STEPS 8

int main(int argc, char **argv)
{
	const char *wait_for[MAX_STEPS], *type[MAX_STEPS];
	char before[512], after[512], seen[SEEN_SIZE] = "";
	double limit = 30, deadline, delay = 0, matched = 0;
	size_t seen_len = 0;
	unsigned int nwait = 0, ntype = 0, step = 0, rows = 0, cols = 0;
	int master, slave, opt, status = 0;
	bool done = false;
	pid_t pid;

	while ((opt = getopt(argc, argv, "+t:w:s:z:d:")) != -1) {
		if (opt == 't')
			limit = atof(optarg);
		else if (opt == 'd')
			delay = atof(optarg);
		else if (opt == 'z' && sscanf(optarg, "%ux%u", &rows, &cols) == 2)
			continue;
		else if (opt == 'w' && nwait < MAX_STEPS)
			wait_for[nwait++] = optarg;
		else if (opt == 's' && ntype < MAX_STEPS)
			type[ntype++] = optarg;
		else
			return 125;
	}
	if (optind >= argc || nwait != ntype) {
		fprintf(stderr, "usage: ptyrun [-t SECONDS] [-z ROWSxCOLS] [-d SECONDS] "
				"[-w TEXT -s BYTES]... COMMAND [ARG...]\n");
		return 125;
	}
	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
		return fail("cannot open a pseudo-terminal");
	/* ours stays open: the settings can be read after the command has closed its copies */
	slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return fail("cannot open the pseudo-terminal's slave");
	settings(slave, before, sizeof(before));
	if (rows && cols) {
		struct winsize ws = { .ws_row = (unsigned short)rows,
				      .ws_col = (unsigned short)cols };

		ioctl(master, TIOCSWINSZ, &ws);
	}
	pid = fork();
	if (pid < 0)
		return fail("fork");
	if (pid == 0) {
		if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0 || dup2(slave, 0) < 0 ||
		    dup2(slave, 1) < 0 || dup2(slave, 2) < 0)
			_exit(fail("cannot give the command the terminal"));
		execvp(argv[optind], argv + optind);
		_exit(fail(argv[optind]));
	}
	fcntl(master, F_SETFL, O_NONBLOCK);
	deadline = now() + limit;
	while (!done) {
		struct pollfd p = { .fd = master, .events = POLLIN };

		poll(&p, 1, 50);
		relay(master, seen, &seen_len);
		if (step < nwait && !matched && strstr(seen, wait_for[step]))
			matched = now();
		if (step < nwait && matched && now() >= matched + delay) {
			if (write(master, type[step], strlen(type[step])) < 0)
				return fail("cannot type into the terminal");
			fprintf(stderr, "ptyrun: saw '%s', typed step %u\n", wait_for[step],
				step + 1);
			/* the next step's text must come after this one */
			seen_len = 0;
			seen[0] = '\0';
			matched = 0;
			step++;
		}
		if (waitpid(pid, &status, WNOHANG) == pid) {
			done = true;
		} else if (now() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			relay(master, seen, &seen_len);
			fprintf(stderr, "ptyrun: %s ran past %g s; killed\n", argv[optind], limit);
			return 124;
		}
	}
	relay(master, seen, &seen_len);
	settings(slave, after, sizeof(after));
	if (strcmp(before, after))
		fprintf(stderr, "ptyrun: terminal changed: before %s after %s\n", before, after);
	else
		fprintf(stderr, "ptyrun: terminal restored\n");
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
