// SPDX-License-Identifier: MIT
/* `vmm ctl`: one HTTP request on the API socket, the answer's body on stdout. */
#include "vmm/ctl.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "vmm/exit_codes.h"

#define CTL_TIMEOUT_MS 30000 /* a pause waits for every vCPU; far less than this */
/* a snapshot writes the guest's RAM first: as long as the disk takes, minutes for a big one */
#define CTL_SNAPSHOT_TIMEOUT_MS 600000
#define CTL_MAX_ANSWER (512 * 1024) /* the server's answers are at most 256 KiB */

static const struct {
	const char *command;
	const char *method;
	const char *endpoint;
} commands[] = {
	{ "ping", "GET", "vmm.ping" },
	{ "info", "GET", "vm.info" },
	{ "pause", "PUT", "vm.pause" },
	{ "resume", "PUT", "vm.resume" },
	{ "shutdown", "PUT", "vm.shutdown" },
	{ "reboot", "PUT", "vm.reboot" },
	{ "power-button", "PUT", "vm.power-button" },
};

static int timeout_ms = CTL_TIMEOUT_MS;

static void usage(FILE *out, const char *argv0)
{
	fprintf(out,
		"Usage: %s ctl SOCKET COMMAND\n"
		"Send one request to a VMM started with --api-socket SOCKET and print its JSON\n"
		"answer. COMMAND is one of:\n"
		"  ping          the VMM's version\n"
		"  info          state (running or paused), configuration and counters\n"
		"  pause         stop every vCPU and the guest's clock\n"
		"  resume        let them run again\n"
		"  shutdown      stop the VM now (the VMM exits 0, as after a power-off)\n"
		"  reboot        stop the VM as a guest reboot does (the VMM exits 3)\n"
		"  power-button  press the ACPI power button: the guest shuts itself down\n"
		"  snapshot DIR  pause the VM and save it into the directory DIR (it stays\n"
		"                paused); `vmm --restore source_url=file:///DIR` goes on from it\n"
		"  request METHOD PATH [BODY]\n"
		"                any request, as given (PATH: /api/v1/...), for scripts and tests\n"
		"Exit status: 0 the VMM answered 2xx; 1 another answer (its status on stderr),\n"
		"or no VMM there; 2 bad command line. The protocol: docs/api.md.\n",
		argv0);
}

static int connect_to(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Everything until the VMM closes the connection; returns its length or -1 (errno). */
static ssize_t recv_all(int fd, char *buf, size_t cap)
{
	size_t len = 0;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;
		int r = poll(&pfd, 1, timeout_ms);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			errno = r == 0 ? ETIMEDOUT : errno;
			return -1;
		}
		if (len == cap) {
			errno = EMSGSIZE;
			return -1;
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		/* the VMM closed without reading all we sent: its answer came before the reset */
		if (n == 0 || (n < 0 && errno == ECONNRESET && len))
			return (ssize_t)len;
		if (n < 0)
			return -1;
		len += (size_t)n;
	}
}

/* "HTTP/1.1 200 OK\r\n...\r\n\r\nBODY": the status, and where the body starts. */
static int parse_answer(char *buf, size_t len, const char **body)
{
	char *end;
	int status;

	buf[len] = '\0';
	if (len < 12 || strncmp(buf, "HTTP/1.", 7) || buf[8] != ' ')
		return -1;
	status = (int)strtol(buf + 9, &end, 10);
	if (end != buf + 12 || status < 100 || status > 599)
		return -1;
	end = strstr(buf, "\r\n\r\n");
	if (!end)
		return -1;
	*body = end + 4;
	return status;
}

/* Send the request, print the answer's body; returns the exit status. */
static int exchange(const char *socket_path, const char *request, size_t len)
{
	static char answer[CTL_MAX_ANSWER + 1];
	const char *body;
	ssize_t got;
	int fd, status;

	fd = connect_to(socket_path);
	if (fd < 0) {
		fprintf(stderr, "vmm ctl: %s: %s\n", socket_path, strerror(errno));
		return VMM_EXIT_ERROR;
	}
	/*
	 * A request the VMM refuses from its head alone (a body over its limit) is answered
	 * and closed before the body is all sent: the answer still waits to be read.
	 */
	if ((send_all(fd, request, len) < 0 && errno != EPIPE && errno != ECONNRESET) ||
	    (got = recv_all(fd, answer, CTL_MAX_ANSWER)) < 0) {
		fprintf(stderr, "vmm ctl: %s: %s\n", socket_path, strerror(errno));
		close(fd);
		return VMM_EXIT_ERROR;
	}
	close(fd);
	status = parse_answer(answer, (size_t)got, &body);
	if (status < 0) {
		fprintf(stderr, "vmm ctl: %s: not an HTTP answer\n", socket_path);
		return VMM_EXIT_ERROR;
	}
	fputs(body, stdout);
	if (*body && body[strlen(body) - 1] != '\n')
		fputc('\n', stdout);
	if (status >= 200 && status < 300)
		return 0;
	fflush(stdout);
	fprintf(stderr, "vmm ctl: %.*s\n", (int)strcspn(answer + 9, "\r\n"), answer + 9);
	return VMM_EXIT_ERROR;
}

/* `request METHOD PATH [BODY]`: whatever the caller says, within the server's limits. */
static int request_raw(const char *socket_path, char **args, int nargs)
{
	const char *body = nargs == 3 ? args[2] : "";
	size_t body_len = strlen(body), cap = body_len + 512;
	char *request = malloc(cap);
	int n, r;

	if (!request) {
		fprintf(stderr, "vmm ctl: out of memory\n");
		return VMM_EXIT_ERROR;
	}
	n = snprintf(request, cap,
		     "%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Length: %zu\r\n"
		     "Connection: close\r\n\r\n%s",
		     args[0], args[1], body_len, body);
	if (n < 0 || (size_t)n >= cap) {
		free(request);
		fprintf(stderr, "vmm ctl: request: METHOD and PATH are too long\n");
		return VMM_EXIT_USAGE;
	}
	r = exchange(socket_path, request, (size_t)n);
	free(request);
	return r;
}

/* `snapshot DIR`: vm.snapshot with DIR as an absolute file:// URL, quoted for JSON. */
static int request_snapshot(const char *socket_path, const char *dir)
{
	char cwd[PATH_MAX], path[2 * PATH_MAX], body[4 * PATH_MAX + 64];
	char *args[3] = { "PUT", "/api/v1/vm.snapshot", body };
	size_t n;

	if (dir[0] == '/')
		snprintf(path, sizeof(path), "%s", dir);
	else if (getcwd(cwd, sizeof(cwd)))
		snprintf(path, sizeof(path), "%s/%s", cwd, dir);
	else {
		fprintf(stderr, "vmm ctl: snapshot %s: %s\n", dir, strerror(errno));
		return VMM_EXIT_ERROR;
	}
	n = (size_t)snprintf(body, sizeof(body), "{\"destination_url\": \"file://");
	for (const char *c = path; *c; c++) {
		if ((unsigned char)*c < 0x20) {
			fprintf(stderr, "vmm ctl: snapshot: a control character in the path\n");
			return VMM_EXIT_USAGE;
		}
		if (*c == '"' || *c == '\\')
			body[n++] = '\\';
		body[n++] = *c;
	}
	snprintf(body + n, sizeof(body) - n, "\"}");
	timeout_ms = CTL_SNAPSHOT_TIMEOUT_MS;
	return request_raw(socket_path, args, 3);
}

int ctl_main(int argc, char **argv, const char *argv0)
{
	char request[256];
	size_t i;
	int n;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout, argv0);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[2], "request")) {
		if (argc != 5 && argc != 6) {
			fprintf(stderr, "vmm ctl: request needs METHOD PATH [BODY]\n");
			return VMM_EXIT_USAGE;
		}
		return request_raw(argv[1], argv + 3, argc - 3);
	}
	if (argc >= 3 && !strcmp(argv[2], "snapshot")) {
		if (argc != 4) {
			fprintf(stderr, "vmm ctl: snapshot needs a directory\n");
			return VMM_EXIT_USAGE;
		}
		return request_snapshot(argv[1], argv[3]);
	}
	if (argc != 3) {
		fprintf(stderr, "vmm ctl: needs a socket and a command (%s ctl --help)\n", argv0);
		return VMM_EXIT_USAGE;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[2], commands[i].command))
			break;
	if (i == sizeof(commands) / sizeof(commands[0])) {
		fprintf(stderr,
			"vmm ctl: %s: not a command (ping, info, pause, resume, shutdown, reboot, "
			"power-button, snapshot, request)\n",
			argv[2]);
		return VMM_EXIT_USAGE;
	}
	n = snprintf(request, sizeof(request),
		     "%s /api/v1/%s HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n"
		     "Connection: close\r\n\r\n",
		     commands[i].method, commands[i].endpoint);
	return exchange(argv[1], request, (size_t)n);
}
