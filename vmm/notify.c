/* SPDX-License-Identifier: MIT */
/* sd_notify(3)'s datagram to $NOTIFY_SOCKET (see notify.h). */
#include "vmm/notify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int notify_send(const char *msg, char *err, size_t errlen)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	size_t len;
	socklen_t alen;
	int fd, ret = 0;

	if (!name || !*name)
		return 0;
	len = strlen(name);
	if ((name[0] != '/' && name[0] != '@') || len >= sizeof(a.sun_path)) {
		snprintf(
			err, errlen,
			"NOTIFY_SOCKET=%s: expected an absolute path or @name of at most %zu bytes",
			name, sizeof(a.sun_path) - 1);
		return -EINVAL;
	}
	memcpy(a.sun_path, name, len);
	if (name[0] == '@')
		a.sun_path[0] = 0; /* the abstract namespace: no NUL at the end either */
	alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (name[0] == '/'));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || sendto(fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL,
			     (struct sockaddr *)&a, alen) < 0) {
		snprintf(err, errlen, "NOTIFY_SOCKET=%s: %s", name, strerror(errno));
		ret = -EINVAL;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}
