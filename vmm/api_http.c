// SPDX-License-Identifier: MIT
/* The API socket's HTTP/1.1: request parsing and response writing (RFC 9112, a strict subset). */
#include "vmm/api_http.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* RFC 9110 section 5.6.2: the characters of a token (header names) */
static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* a header value's characters: visible ASCII, space, tab and obs-text; no controls */
static bool is_value_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/*
 * Where the head ends (just past the blank line), 0 while it is incomplete, or a negated
 * status. A bare LF or a NUL anywhere is refused at once, so that garbage costs no wait.
 */
static long find_head_end(const char *buf, size_t len)
{
	size_t n = len < API_HTTP_MAX_HEAD ? len : API_HTTP_MAX_HEAD;

	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\0')
			return -400;
		if (buf[i] != '\n')
			continue;
		if (i == 0 || buf[i - 1] != '\r')
			return -400;
		if (i >= 3 && buf[i - 2] == '\n' && buf[i - 3] == '\r')
			return (long)i + 1;
	}
	return len >= API_HTTP_MAX_HEAD ? -431 : 0;
}

/* "METHOD SP /target SP HTTP/1.x", line[0..len) without its CRLF */
static int parse_request_line(const char *line, size_t len, struct api_http_request *req)
{
	size_t i = 0, m, t;

	for (m = 0; i < len && line[i] >= 'A' && line[i] <= 'Z'; i++, m++) {
		if (m == API_HTTP_MAX_METHOD)
			return -501; /* no method we know is this long */
		req->method[m] = line[i];
	}
	req->method[m] = '\0';
	if (m == 0 || i == len || line[i++] != ' ')
		return -400;
	if (i == len || line[i] != '/')
		return -400;
	for (t = 0; i < len && line[i] > 0x20 && line[i] < 0x7f; i++, t++) {
		if (t == API_HTTP_MAX_TARGET)
			return -414;
		req->target[t] = line[i];
	}
	req->target[t] = '\0';
	if (i == len || line[i++] != ' ')
		return -400;
	if (len - i != 8 || memcmp(line + i, "HTTP/", 5) || line[i + 6] != '.' ||
	    line[i + 5] < '0' || line[i + 5] > '9' || line[i + 7] < '0' || line[i + 7] > '9')
		return -400;
	return line[i + 5] == '1' ? 0 : -505;
}

/* One "name: value" line, line[0..len) without its CRLF; content_length is -1 until seen. */
static int parse_header(const char *line, size_t len, long *content_length)
{
	size_t i = 0, name_len, v, end;
	long n = 0;

	while (i < len && is_tchar((unsigned char)line[i]))
		i++;
	/* no name (a continuation line starts with a space), or a space before the colon */
	if (i == 0 || i == len || line[i] != ':')
		return -400;
	name_len = i++;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	v = i;
	for (end = len; end > v && (line[end - 1] == ' ' || line[end - 1] == '\t'); end--)
		;
	for (size_t k = v; k < end; k++)
		if (!is_value_char((unsigned char)line[k]))
			return -400;
	if (name_len == 17 && !strncasecmp(line, "transfer-encoding", 17))
		return -501;
	if (name_len != 14 || strncasecmp(line, "content-length", 14))
		return 0;
	if (*content_length >= 0 || v == end)
		return -400; /* twice, or empty: which one would be meant? */
	for (size_t k = v; k < end; k++) {
		if (line[k] < '0' || line[k] > '9')
			return -400;
		n = n * 10 + (line[k] - '0');
		if (n > API_HTTP_MAX_BODY)
			return -413;
	}
	*content_length = n;
	return 0;
}

int api_http_parse(const char *buf, size_t len, struct api_http_request *req)
{
	long head_len = find_head_end(buf, len), content_length = -1;
	const char *line = buf, *eol;
	int r;

	if (head_len <= 0)
		return (int)head_len;
	memset(req, 0, sizeof(*req));
	eol = memchr(line, '\r', (size_t)head_len);
	r = parse_request_line(line, (size_t)(eol - line), req);
	if (r)
		return r;
	for (line = eol + 2; line < buf + head_len - 2; line = eol + 2) {
		eol = memchr(line, '\r', (size_t)(buf + head_len - line));
		if (!eol || eol[1] != '\n')
			return -400; /* a CR inside a line */
		r = parse_header(line, (size_t)(eol - line), &content_length);
		if (r)
			return r;
	}
	if (content_length < 0)
		content_length = 0;
	if (len < (size_t)head_len + (size_t)content_length)
		return 0;
	if (len > (size_t)head_len + (size_t)content_length)
		return -400; /* a second request, or a body longer than announced */
	req->body = buf + head_len;
	req->body_len = (size_t)content_length;
	return 1;
}

const char *api_http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	case 507:
		return "Insufficient Storage";
	default:
		return "Error";
	}
}

size_t api_http_head(char *out, size_t cap, int status, size_t body_len, const char *allow)
{
	int n = snprintf(out, cap,
			 "HTTP/1.1 %d %s\r\n%s%s%sContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, api_http_reason(status), allow ? "Allow: " : "",
			 allow ? allow : "", allow ? "\r\n" : "", body_len);

	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

size_t api_http_response(char *out, size_t cap, int status, const char *body)
{
	size_t body_len = body ? strlen(body) : 0;
	size_t n = api_http_head(out, cap, status, body_len, NULL);

	if (!n || cap - n <= body_len)
		return 0;
	memcpy(out + n, body ? body : "", body_len + 1);
	return n + body_len;
}
