/* SPDX-License-Identifier: MIT */
/*
 * `vmm ctl SOCKET COMMAND`: the --api-socket client. One request, its JSON answer on
 * stdout; exit 0 on a 2xx answer, 1 on any other answer or when the VMM cannot be
 * reached, 2 on a bad command line.
 */
#ifndef VMM_CTL_H
#define VMM_CTL_H

/* argv[0] is "ctl". Returns the exit status. */
int ctl_main(int argc, char **argv, const char *argv0);

#endif
