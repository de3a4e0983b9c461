/* SPDX-License-Identifier: MIT */
/*
 * The small, strict part of HTTP/1.1 (RFC 9112) that the API socket speaks: one request
 * per connection, a body only with Content-Length, no chunked transfer coding, no
 * continuation lines, CRLF line ends only, and hard bounds on every size. A request that
 * breaks a rule gets the status code that says which (400, 413, 431, 501, 505) and is not
 * looked at further. Pure functions over a caller's buffer: no allocation, no I/O, any
 * thread.
 */
#ifndef VMM_API_HTTP_H
#define VMM_API_HTTP_H

#include <stddef.h>

#define API_HTTP_MAX_HEAD 8192	/* request line and headers, the blank line included */
#define API_HTTP_MAX_BODY 65536 /* Content-Length */
#define API_HTTP_MAX_METHOD 7	/* the longest method we know is DELETE */
#define API_HTTP_MAX_TARGET 255 /* our paths are short */
#define API_HTTP_MAX_REQUEST (API_HTTP_MAX_HEAD + API_HTTP_MAX_BODY)

struct api_http_request {
	char method[API_HTTP_MAX_METHOD + 1];
	char target[API_HTTP_MAX_TARGET + 1];
	const char *body; /* inside the caller's buffer, body_len bytes, not NUL-terminated */
	size_t body_len;
};

/*
 * Look at the bytes received so far, buf[0..len). Returns 1 when they hold one whole
 * request (then *req is filled), 0 when more bytes are needed, or the HTTP status code to
 * answer with, negated, when they can never become a valid request (-400 malformed, -413
 * body too large, -431 headers too large, -501 a transfer coding, -505 not HTTP/1.x).
 * Bytes after the body are an error (-400): a client sends one request per connection.
 */
int api_http_parse(const char *buf, size_t len, struct api_http_request *req);

/* The reason phrase of a status code we send ("Not Found"), or "Error". */
const char *api_http_reason(int status);

/*
 * Write a whole response with a JSON body (body may be NULL: none) into out[0..cap).
 * Returns its length, or 0 when it does not fit.
 */
size_t api_http_response(char *out, size_t cap, int status, const char *body);

#endif
