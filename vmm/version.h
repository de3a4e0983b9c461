/* SPDX-License-Identifier: MIT */
/* The VMM's version, as --version and the API's vmm.ping report it. */
#ifndef VMM_VERSION_H
#define VMM_VERSION_H

#define VMM_VERSION "0.1"

#endif
