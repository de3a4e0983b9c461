/* SPDX-License-Identifier: MIT */
/* The API socket's HTTP subset: whole requests, partial ones, and each kind of refusal. */
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "vmm/api_http.h"

static struct api_http_request req;

static int parse(const char *text)
{
	return api_http_parse(text, strlen(text), &req);
}

START_TEST(test_get)
{
	ck_assert_int_eq(parse("GET /api/v1/vmm.ping HTTP/1.1\r\nHost: localhost\r\n"
			       "Accept: */*\r\n\r\n"),
			 1);
	ck_assert_str_eq(req.method, "GET");
	ck_assert_str_eq(req.target, "/api/v1/vmm.ping");
	ck_assert_uint_eq(req.body_len, 0);
}
END_TEST

START_TEST(test_body)
{
	const char *text = "PUT /api/v1/vm.pause HTTP/1.1\r\ncontent-LENGTH:  2 \r\n\r\n{}";

	ck_assert_int_eq(parse(text), 1);
	ck_assert_str_eq(req.method, "PUT");
	ck_assert_uint_eq(req.body_len, 2);
	ck_assert(!memcmp(req.body, "{}", 2));
	/* every shorter prefix asks for more */
	for (size_t n = 0; n < strlen(text); n++)
		ck_assert_int_eq(api_http_parse(text, n, &req), 0);
}
END_TEST

START_TEST(test_malformed)
{
	ck_assert_int_eq(parse("GET /x HTTP/1.1\n\n"), -400); /* bare LF */
	ck_assert_int_eq(parse("GET /x HTTP/1.1\r\nA: b\nc\r\n\r\n"), -400);
	ck_assert_int_eq(parse("get /x HTTP/1.1\r\n\r\n"), -400);  /* methods are upper case */
	ck_assert_int_eq(parse("GET  /x HTTP/1.1\r\n\r\n"), -400); /* two spaces */
	ck_assert_int_eq(parse("GET x HTTP/1.1\r\n\r\n"), -400);   /* not a path */
	ck_assert_int_eq(parse("GET /x HTTP/1.1 \r\n\r\n"), -400);
	ck_assert_int_eq(parse("GET /x HTTX/1.1\r\n\r\n"), -400);
	ck_assert_int_eq(parse("\r\n\r\n"), -400);
	ck_assert_int_eq(parse("GET /x HTTP/1.1\r\n folded\r\n\r\n"), -400);
	ck_assert_int_eq(parse("GET /x HTTP/1.1\r\nName : v\r\n\r\n"), -400);
	ck_assert_int_eq(parse("GET /x HTTP/1.1\r\nA: b\rc\r\n\r\n"), -400);
	ck_assert_int_eq(parse("GET /x HTTP/1.1\r\nA: b\x01\r\n\r\n"), -400);
	ck_assert_int_eq(parse("GET /x HTTP/1.1\r\nContent-Length: 1x\r\n\r\n"), -400);
	ck_assert_int_eq(parse("GET /x HTTP/1.1\r\nContent-Length:\r\n\r\n"), -400);
	ck_assert_int_eq(parse("GET /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), -400);
	ck_assert_int_eq(parse("GET /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n"
			       "\r\nx"),
			 -400);
	/* more than announced: a second request on the same connection */
	ck_assert_int_eq(parse("GET /x HTTP/1.1\r\n\r\nGET /y HTTP/1.1\r\n\r\n"), -400);
	ck_assert_int_eq(api_http_parse("GET /\0 HTTP/1.1\r\n\r\n", 19, &req), -400);
}
END_TEST

START_TEST(test_limits)
{
	static char big[API_HTTP_MAX_HEAD + 64];
	char line[128];

	ck_assert_int_eq(parse("GET /x HTTP/2.0\r\n\r\n"), -505);
	ck_assert_int_eq(parse("GET /x HTTP/1.0\r\n\r\n"), 1);
	ck_assert_int_eq(parse("OPTIONSX /x HTTP/1.1\r\n\r\n"), -501);
	ck_assert_int_eq(parse("PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), -501);
	snprintf(line, sizeof(line), "PUT /x HTTP/1.1\r\nContent-Length: %d\r\n\r\n",
		 API_HTTP_MAX_BODY + 1);
	ck_assert_int_eq(parse(line), -413);
	ck_assert_int_eq(parse("PUT /x HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n"),
			 -413);
	/* a head that never ends */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /x HTTP/1.1\r\nX: ", 20);
	ck_assert_int_eq(api_http_parse(big, API_HTTP_MAX_HEAD - 1, &req), 0);
	ck_assert_int_eq(api_http_parse(big, sizeof(big), &req), -431);
	/* a path too long for us */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	memcpy(big + 5 + API_HTTP_MAX_TARGET, " HTTP/1.1\r\n\r\n", 14);
	ck_assert_int_eq(api_http_parse(big, 5 + API_HTTP_MAX_TARGET + 14, &req), -414);
}
END_TEST

START_TEST(test_response)
{
	char out[256];
	size_t n = api_http_response(out, sizeof(out), 404, "{\"error\":\"no\"}");

	ck_assert_uint_gt(n, 0);
	out[n] = '\0';
	ck_assert_str_eq(out, "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
			      "Content-Length: 14\r\nConnection: close\r\n\r\n{\"error\":\"no\"}");
	ck_assert_uint_eq(api_http_response(out, 20, 200, "{}"), 0);
	n = api_http_response(out, sizeof(out), 204, NULL);
	ck_assert(n > 0 && strstr(out, "Content-Length: 0\r\n") != NULL);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("api_http");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_get);
	tcase_add_test(tc, test_body);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_response);
	suite_add_tcase(s, tc);
	return s;
}
