/* SPDX-License-Identifier: MIT */
/*
 * systemd's readiness protocol (sd_notify(3)), for a unit of Type=notify: when the service
 * manager sets NOTIFY_SOCKET (a unix datagram socket: a path, or "@name" in the abstract
 * namespace), the VMM sends "READY=1" once its vCPUs run the guest. Without the variable
 * nothing happens. Main thread only, before the seccomp lists are loaded.
 */
#ifndef VMM_NOTIFY_H
#define VMM_NOTIFY_H

#include <stddef.h>

/*
 * Send msg to $NOTIFY_SOCKET. Returns 0 (also when it is not set), or -EINVAL with one line
 * in err when it does not name a socket we can reach (the caller decides how loud to be).
 */
int notify_send(const char *msg, char *err, size_t errlen);

#endif
