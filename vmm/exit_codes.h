/* SPDX-License-Identifier: MIT */
/* The VMM's exit statuses: scripts rely on them, so they never change meaning. */
#ifndef VMM_EXIT_CODES_H
#define VMM_EXIT_CODES_H

enum vmm_exit_code {
	VMM_EXIT_POWEROFF = 0,
	VMM_EXIT_ERROR = 1,
	VMM_EXIT_USAGE = 2,
	VMM_EXIT_REBOOT = 3,
	VMM_EXIT_TRIPLE_FAULT = 4,
	VMM_EXIT_KVM_ERROR = 5,
	VMM_EXIT_QUIT = 6,
	VMM_EXIT_TIMEOUT = 124,	  /* --timeout expired, as timeout(1) says it */
	VMM_EXIT_NO_STATUS = 125, /* vmm run: the guest never reported the command's status */
	VMM_EXIT_SIGNAL_BASE = 128,
};

#endif
