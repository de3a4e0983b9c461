// SPDX-License-Identifier: MIT
/* --api-socket: the listening socket, its connections, and their life on the event loop. */
#include "vmm/api.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "vmm/api_http.h"
#include "vmm/api_routes.h"
#include "vmm/vcpu.h"

#define API_MAX_CONNS 4
#define API_CONN_TIMEOUT_MS 10000 /* from accept to the last byte of the answer */
#define API_MAX_ANSWER 65536

struct api_conn {
	struct api_server *server;
	int fd; /* -1: a free slot */
	size_t len;
	size_t sent, out_len;
	struct api_after after;
	struct event_timer *timer;
	char in[API_HTTP_MAX_REQUEST + 1]; /* one more: a byte beyond a request is an error */
	char body[API_MAX_ANSWER];
	char out[API_MAX_ANSWER + 256];
};

struct api_server {
	int fd;
	int dir_fd; /* the socket's directory, O_PATH: removed through it, even from a jail */
	char name[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct event_loop *loop;
	struct vm *vm;
	struct api_config cfg;
	bool accepting;
	struct api_conn conns[API_MAX_CONNS];
};

static int bad(char *err, size_t errlen, const char *path, const char *why)
{
	snprintf(err, errlen, "--api-socket %s: %s", path, why);
	return -EINVAL;
}

/* Something at path already: a socket nobody listens on is a dead VMM's, and goes. */
static int clear_stale(const char *path, const struct sockaddr_un *addr, char *err, size_t errlen)
{
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : bad(err, errlen, path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return bad(err, errlen, path, "exists and is not a socket");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return bad(err, errlen, path, strerror(errno));
	r = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
	close(fd);
	if (r == 0)
		return bad(err, errlen, path, "another program is listening on it");
	if (unlink(path) < 0)
		return bad(err, errlen, path, strerror(errno));
	return 0;
}

static int bind_socket(struct api_server *s, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	mode_t old_mask;
	int r;

	if (!*path)
		return bad(err, errlen, path, "an empty path");
	if (strlen(path) >= sizeof(addr.sun_path))
		return bad(err, errlen, path, "longer than a socket path may be (107 bytes)");
	memcpy(addr.sun_path, path, strlen(path) + 1);
	r = clear_stale(path, &addr, err, errlen);
	if (r)
		return r;
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return bad(err, errlen, path, strerror(errno));
	/* 0600 from the moment it exists: no window in which another user may connect */
	old_mask = umask(0177);
	r = bind(s->fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old_mask);
	if (r < 0)
		return bad(err, errlen, path,
			   errno == ENOENT ? "its directory does not exist" : strerror(errno));
	if (listen(s->fd, API_MAX_CONNS * 2) < 0)
		return bad(err, errlen, path, strerror(errno));
	return 0;
}

static int open_dir(struct api_server *s, const char *path, char *err, size_t errlen)
{
	char copy[sizeof(s->path)];

	memcpy(copy, path, strlen(path) + 1);
	snprintf(s->name, sizeof(s->name), "%s", basename(copy));
	memcpy(copy, path, strlen(path) + 1);
	s->dir_fd = open(dirname(copy), O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->dir_fd < 0)
		return bad(err, errlen, path, strerror(errno));
	return 0;
}

/*
 * A start-up that fails after the socket exists (no /dev/kvm, a bad disk) returns from
 * main() without api_close(): the socket goes then, at exit.
 */
static struct api_server *unclosed;

static void remove_socket(struct api_server *s)
{
	if (unlinkat(s->dir_fd, s->name, 0) < 0 && errno != ENOENT)
		fprintf(stderr, "vmm: cannot remove --api-socket %s: %s\n", s->path,
			strerror(errno));
}

static void remove_at_exit(void)
{
	if (unclosed)
		remove_socket(unclosed);
}

int api_open(struct api_server **out, const char *path, char *err, size_t errlen)
{
	static bool registered;

	struct api_server *s = calloc(1, sizeof(*s));
	int r;

	if (!s) {
		snprintf(err, errlen, "--api-socket %s: out of memory", path);
		return -ENOMEM;
	}
	s->fd = s->dir_fd = -1;
	for (unsigned int i = 0; i < API_MAX_CONNS; i++)
		s->conns[i] = (struct api_conn){ .server = s, .fd = -1 };
	r = bind_socket(s, path, err, errlen);
	if (!r) {
		snprintf(s->path, sizeof(s->path), "%s", path);
		r = open_dir(s, path, err, errlen);
	}
	if (r) {
		if (s->path[0])
			unlink(s->path);
		if (s->fd >= 0)
			close(s->fd);
		free(s);
		return r;
	}
	if (!registered)
		registered = atexit(remove_at_exit) == 0;
	unclosed = s;
	*out = s;
	return 0;
}

static void set_accepting(struct api_server *s, bool on)
{
	if (s->accepting != on && event_loop_mod_fd(s->loop, s->fd, on ? EPOLLIN : 0) == 0)
		s->accepting = on;
}

static void conn_close(struct api_conn *c)
{
	struct api_server *s = c->server;
	int stop = c->after.stop_code;

	event_loop_del_fd(s->loop, c->fd);
	event_timer_disarm(c->timer);
	close(c->fd);
	c->fd = -1;
	c->after.stop_code = -1;
	set_accepting(s, true);
	/* only now: the answer went out before the VM stops */
	if (stop >= 0)
		vm_request_stop(s->vm, stop);
}

static void conn_flush(struct api_conn *c)
{
	while (c->sent < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->sent, c->out_len - c->sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			event_loop_mod_fd(c->server->loop, c->fd, EPOLLOUT);
			return;
		}
		if (n <= 0)
			break; /* the client went away: nothing more to tell it */
		c->sent += (size_t)n;
	}
	conn_close(c);
}

static void conn_answer(struct api_conn *c, int status)
{
	c->out_len = api_http_response(c->out, sizeof(c->out), status, c->body);
	c->sent = 0;
	if (!c->out_len) { /* cannot happen: out has room for any body and the head */
		conn_close(c);
		return;
	}
	conn_flush(c);
}

static void conn_request(struct api_conn *c)
{
	struct api_http_request req;
	int r = api_http_parse(c->in, c->len, &req);

	if (r == 0)
		return;
	/* one request per connection: stop reading, whatever comes next is not looked at */
	event_loop_mod_fd(c->server->loop, c->fd, 0);
	if (r < 0) {
		api_error(c->body, sizeof(c->body), -r, api_http_reason(-r));
		conn_answer(c, -r);
		return;
	}
	r = api_route(c->server->vm, &c->server->cfg, &req, c->body, sizeof(c->body), &c->after);
	conn_answer(c, r);
}

static void on_conn(int fd, uint32_t events, void *opaque)
{
	struct api_conn *c = opaque;
	ssize_t n;

	if (c->out_len) { /* answering */
		if (events & (EPOLLERR | EPOLLHUP))
			conn_close(c);
		else
			conn_flush(c);
		return;
	}
	n = recv(fd, c->in + c->len, sizeof(c->in) - c->len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) { /* the client left before its request was whole: forget it */
		conn_close(c);
		return;
	}
	c->len += (size_t)n;
	conn_request(c);
}

static void on_timeout(void *opaque)
{
	struct api_conn *c = opaque;

	if (c->fd < 0)
		return;
	if (c->out_len) { /* it does not read its answer */
		conn_close(c);
		return;
	}
	event_loop_mod_fd(c->server->loop, c->fd, 0);
	api_error(c->body, sizeof(c->body), 408, "the request took too long to arrive");
	conn_answer(c, 408);
}

static void on_listen(int fd, uint32_t events, void *opaque)
{
	struct api_server *s = opaque;
	struct api_conn *c = NULL;
	int conn;

	(void)events;
	for (unsigned int i = 0; i < API_MAX_CONNS && !c; i++)
		if (s->conns[i].fd < 0)
			c = &s->conns[i];
	if (!c) { /* every slot busy: leave the rest in the backlog until one frees */
		set_accepting(s, false);
		return;
	}
	conn = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (conn < 0)
		return;
	c->fd = conn;
	c->len = c->sent = c->out_len = 0;
	c->after.stop_code = -1;
	if (event_loop_add_fd(s->loop, conn, EPOLLIN, on_conn, c)) {
		close(conn);
		c->fd = -1;
		return;
	}
	event_timer_arm(c->timer, event_loop_now_ms() + API_CONN_TIMEOUT_MS);
}

int api_watch(struct api_server *s, struct event_loop *loop, struct vm *vm,
	      const struct vmm_options *opts)
{
	if (!s)
		return 0;
	s->loop = loop;
	s->vm = vm;
	s->cfg = (struct api_config){
		.cpus = opts->cpus,
		.memory = (unsigned long long)opts->memory,
		.kernel = opts->kernel ? opts->kernel : opts->flat,
		.disks = opts->ndisks,
		.nics = opts->nnics,
		.shares = opts->nshares,
	};
	for (unsigned int i = 0; i < API_MAX_CONNS; i++) {
		s->conns[i].timer = event_timer_new(loop, on_timeout, &s->conns[i]);
		if (!s->conns[i].timer)
			return -ENOMEM;
	}
	s->accepting = true;
	return event_loop_add_fd(loop, s->fd, EPOLLIN, on_listen, s);
}

void api_seccomp_fds(const struct api_server *s, struct vmm_seccomp_fds *fds)
{
	if (!s)
		return;
	vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_API, s->fd);
	vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_API, s->dir_fd);
}

void api_close(struct api_server *s)
{
	if (!s)
		return;
	for (unsigned int i = 0; i < API_MAX_CONNS; i++) {
		struct api_conn *c = &s->conns[i];

		if (c->fd >= 0 && s->loop) {
			c->after.stop_code = -1; /* the VM is stopping already */
			conn_close(c);
		}
		if (c->timer)
			event_timer_free(c->timer);
	}
	if (s->loop)
		event_loop_del_fd(s->loop, s->fd);
	close(s->fd);
	remove_socket(s);
	unclosed = NULL;
	close(s->dir_fd);
	free(s);
}
