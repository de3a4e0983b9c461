/* SPDX-License-Identifier: MIT */
/*
 * The FUSE file server for one shared host directory: it takes one request as the
 * readable buffers of a descriptor chain and writes the reply into the writable ones. It
 * knows nothing about virtqueues (virtio/fs/fs.c feeds it), so tests and the fuzz target
 * drive it directly.
 *
 * Safety: every node the guest can name is an O_PATH descriptor opened below its parent
 * one single path component at a time (openat2 with RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS, or openat with O_NOFOLLOW where openat2 is
 * missing). Names from the guest must be one component: not empty, no '/', not "." or
 * "..", at most NAME_MAX bytes, NUL-terminated inside the request. Symbolic links are
 * created and read (READLINK) but never followed by the VMM. Only regular files and
 * directories can be opened; MKNOD makes only regular files, FIFOs and sockets (never
 * device nodes); set-user-ID and set-group-ID bits are never set on non-directories.
 * Node IDs and file handles are table slots with a generation number, so the guest can
 * only name nodes it looked up and handles it opened. A read-only share answers EROFS to
 * everything that would modify it. Files are created with the VMM's own identity.
 * Only regular files and directories are ever opened for I/O, and never in a way that
 * waits (a FIFO gets ENXIO). Every descriptor a server holds lies in its own window of
 * descriptor numbers, which bounds what a guest can hold (ENFILE past it) and is all the
 * worker's seccomp list lets it name; each worker also confines itself to the share with
 * Landlock where the kernel has it (docs/security.md).
 *
 * Threading: fs_server_handle() may run on any number of threads at once, each with its
 * own struct fs_scratch; requests on different files proceed in parallel, since the server
 * locks its tables only to find, add or drop an entry and never across a host call on a
 * file. Requests on the same node or handle stay correct: one that is forgotten (FORGET)
 * or released (RELEASE) meanwhile stops being found at once, and its descriptor is closed
 * when the last request using it is done; READDIR and LSEEK on one directory or file
 * handle take turns on its file offset. fs_server_reset() may run alongside requests (a
 * stuck one keeps what it holds until it returns). fs_server_create(),
 * fs_server_set_cache() and fs_server_destroy() run with no request in flight.
 */
#ifndef VIRTIO_FS_FS_SERVER_H
#define VIRTIO_FS_FS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#define FS_MAX_WRITE (1u << 20) /* max_write and the largest READ we serve */

struct fs_server;

/*
 * How long the guest may trust what it learned (--share ...,cache=; virtiofsd's names):
 *   auto    names and attributes for 1 s, file data until the file changes size or mtime;
 *   never   nothing: every lookup and stat asks us, and file I/O bypasses the guest's page
 *           cache (direct I/O), for a directory that the host changes under the guest;
 *   always  names and attributes for a day and file data across opens, for a directory
 *           that only this guest changes (or nobody: a read-only root).
 */
enum fs_cache {
	FS_CACHE_AUTO,
	FS_CACHE_NEVER,
	FS_CACHE_ALWAYS,
};

/*
 * Serve dir (opened now, following symlinks in dir itself: that is the user's choice).
 * Returns NULL with one sentence in err.
 */
struct fs_server *fs_server_create(const char *dir, bool readonly, char *err, size_t errlen);
/* Takes effect for the replies that follow; a guest's existing cache entries keep theirs. */
void fs_server_set_cache(struct fs_server *s, enum fs_cache cache);
/* Close every node and handle, root included, and free the server. */
void fs_server_destroy(struct fs_server *s);
/*
 * Forget every node but the root and close every handle: the state after a device reset,
 * waiting for the guest's next FUSE_INIT.
 */
void fs_server_reset(struct fs_server *s);
/*
 * One serving thread's buffers (about 180 KiB: the request's arguments, the reply, a
 * directory read), made once per thread so that serving allocates nothing. NULL when out
 * of memory. A scratch is used by one thread at a time.
 */
struct fs_scratch;
struct fs_scratch *fs_scratch_create(void);
void fs_scratch_destroy(struct fs_scratch *b);
/*
 * Serve one request with the caller's scratch b: in[0..nin) hold the request
 * (fuse_in_header first), out[0..nout) receive the reply. Returns the bytes written into
 * out (0 for requests that get no reply: FORGET, BATCH_FORGET, INTERRUPT), or -1 when a
 * reply was due but out cannot hold even a fuse_out_header. Never trusts a length in the
 * request to size a copy. Thread-safe (see above).
 */
ssize_t fs_server_handle(struct fs_server *s, struct fs_scratch *b, const struct iovec *in,
			 unsigned int nin, const struct iovec *out, unsigned int nout);
/*
 * The descriptor numbers the server's nodes and handles live in: [*base, *base + *size),
 * a power of two aligned to its size. The worker's seccomp list allows only these.
 */
void fs_server_window(const struct fs_server *s, unsigned int *base, unsigned int *size);
/*
 * Confine the calling thread, with Landlock, to the share: beneath it every right the
 * server needs (read rights only for a read-only share), nothing anywhere else. Sets
 * no-new-privileges on the thread, which Landlock requires. Returns 1 when confined, 0
 * when the kernel has no Landlock (nothing done), or a negative errno.
 */
int fs_server_confine(const struct fs_server *s);
/*
 * Nodes (the root included) and handles that hold a host descriptor, for tests: what the
 * guest holds, plus forgotten ones that a request in flight still uses.
 */
unsigned int fs_server_nodes(struct fs_server *s);
unsigned int fs_server_handles(struct fs_server *s);

#endif
