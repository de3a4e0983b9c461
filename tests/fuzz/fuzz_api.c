/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the API socket's request parser (vmm/api_http.c): any bytes, fed
 * whole and in two parts as a socket would deliver them, must give "more", a request
 * whose fields are NUL-terminated and whose body lies inside the input, or a 4xx/5xx
 * status; never a crash. A whole request's body then goes through the JSON parser, as
 * the server does.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "vmm/api_http.h"
#include "vmm/json.h"

static void check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

static int parse_checked(const char *buf, size_t len)
{
	struct api_http_request req;
	int r = api_http_parse(buf, len, &req);

	check(r == 0 || r == 1 || (r <= -400 && r > -600));
	if (r == 1) {
		check(memchr(req.method, '\0', sizeof(req.method)) != NULL);
		check(memchr(req.target, '\0', sizeof(req.target)) != NULL);
		check(req.target[0] == '/');
		check(req.body >= buf && req.body + req.body_len == buf + len);
		check(req.body_len <= API_HTTP_MAX_BODY);
	}
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_http_request req;
	struct json_value *v = NULL;
	const char *buf = (const char *)data;
	char err[128], out[512];
	int whole, r;

	if (size > API_HTTP_MAX_REQUEST + 16)
		return 0;
	whole = parse_checked(buf, size);
	/* a shorter prefix that is a whole request leaves bytes over in the whole: refused */
	r = parse_checked(buf, size / 2);
	check(r != 1 || size / 2 == size || whole == -400);
	if (whole == 1 && api_http_parse(buf, size, &req) == 1 && req.body_len) {
		if (json_parse(req.body, req.body_len, &v, err, sizeof(err)) == 0)
			json_free(v);
	}
	if (whole < 0)
		check(api_http_response(out, sizeof(out), -whole, "{\"error\":\"x\"}") > 0);
	return 0;
}
