/* SPDX-License-Identifier: MIT */
/*
 * The API's endpoints (docs/api.md): from one parsed request to a status code, a JSON
 * body and what to do once the answer is on its way (stop the VM). Main thread only.
 */
#ifndef VMM_API_ROUTES_H
#define VMM_API_ROUTES_H

#include <stddef.h>

#include "vmm/api_http.h"
#include "vmm/vm.h"

#define API_PREFIX "/api/v1/"

/* After the answer is sent: a stop with this exit status, or nothing. */
struct api_after {
	int stop_code; /* -1: none */
};

/* What vm.info reports about the configuration, fixed at start. */
struct api_config {
	unsigned int cpus;
	unsigned long long memory;
	const char *kernel; /* or NULL */
	unsigned int disks, nics, shares;
};

/*
 * Answer req into body[0..cap) (NUL-terminated JSON). Returns the HTTP status; *after
 * says what to do once it is sent.
 */
int api_route(struct vm *vm, const struct api_config *cfg, const struct api_http_request *req,
	      char *body, size_t cap, struct api_after *after);
/* {"error": "msg"} into body, msg escaped as a JSON string; returns status. */
int api_error(char *body, size_t cap, int status, const char *msg);

#endif
