/* SPDX-License-Identifier: MIT */
/*
 * --api-socket PATH: a unix stream socket on which a client drives the running VM with
 * HTTP/1.1 and JSON (docs/api.md): ping, info, pause, resume, shutdown, reboot. The
 * socket is bound while the VMM may still create files (before --jail and the seccomp
 * lists), mode 0600, and served by the main thread's event loop: non-blocking, one
 * request per connection, a few connections at once, each with a time limit, so that a
 * slow, silent or hostile client can hold neither the loop nor the VM.
 *
 * Main thread only. Memory for the connections is taken once, at api_open().
 */
#ifndef VMM_API_H
#define VMM_API_H

#include <stddef.h>

#include "vmm/event_loop.h"
#include "vmm/seccomp.h"
#include "vmm/vm.h"

struct api_server;

/*
 * Bind and listen on path. A stale socket left by a VMM that died is replaced; anything
 * else at path (a file, a socket someone listens on) is refused. Returns 0 with *out
 * set, or -errno with one line in err naming --api-socket (a user error: exit 2).
 */
int api_open(struct api_server **out, const char *path, char *err, size_t errlen);
/* Serve requests on loop for vm; opts gives vm.info its configuration summary. */
int api_watch(struct api_server *s, struct event_loop *loop, struct vm *vm,
	      const struct vmm_options *opts);
/* What the main thread's seccomp list must allow for the socket (NULL: nothing). */
void api_seccomp_fds(const struct api_server *s, struct vmm_seccomp_fds *fds);
/* Close every connection and the socket, and remove it from the file system. NULL: no-op. */
void api_close(struct api_server *s);

#endif
