/* SPDX-License-Identifier: MIT */
/*
 * The API's endpoints on a VM without vCPUs or KVM: routing (404, 405), body rules (400),
 * the answers that need no KVM (ping, info, resume while running, shutdown), and the
 * JSON error's escaping.
 */
#include <string.h>

#include "check_main.h"
#include "vmm/api_routes.h"
#include "vmm/exit_codes.h"
#include "vmm/json.h"
#include "vmm/pause.h"

static struct vm vm;
static struct api_after after;
static char body[65536];
static const struct api_config cfg = { .cpus = 2, .memory = 1 << 28, .kernel = "k\"1" };

static int call(const char *method, const char *target, const char *payload)
{
	struct api_http_request req = { .body = payload,
					.body_len = payload ? strlen(payload) : 0 };

	snprintf(req.method, sizeof(req.method), "%s", method);
	snprintf(req.target, sizeof(req.target), "%s", target);
	memset(body, 0, sizeof(body));
	return api_route(&vm, &cfg, &req, body, sizeof(body), &after);
}

/* body is one JSON object with a string member key */
static void ck_json_member(const char *key)
{
	struct json_value *v = NULL;
	char err[128];

	ck_assert_msg(json_parse(body, strlen(body), &v, err, sizeof(err)) == 0, "%s: %s", body,
		      err);
	ck_assert_int_eq(v->type, JSON_OBJECT);
	ck_assert_msg(json_get(v, key) != NULL, "%s lacks %s", body, key);
	json_free(v);
}

static void setup(void)
{
	memset(&vm, 0, sizeof(vm));
	vm_pause_init(&vm.pause);
	vm.kvm.vm_fd = -1;
}

START_TEST(test_routing)
{
	ck_assert_int_eq(call("GET", "/api/v1/vmm.ping", NULL), 200);
	ck_assert_str_eq(body, "{\"version\": \"0.1\"}");
	ck_assert_int_eq(after.stop_code, -1);
	ck_assert_int_eq(call("GET", "/api/v1/nothing", NULL), 404);
	ck_json_member("error");
	ck_assert_int_eq(call("GET", "/other", NULL), 404);
	ck_assert_int_eq(call("GET", "/api/v1/", NULL), 404);
	ck_assert_int_eq(call("GET", "/api/v1/vm.pausex", NULL), 404);
	ck_assert_ptr_null(after.allow);
	ck_assert_int_eq(call("PUT", "/api/v1/vmm.ping", NULL), 405);
	ck_assert_str_eq(after.allow, "GET");
	ck_assert_int_eq(call("GET", "/api/v1/vm.shutdown", NULL), 405);
	ck_assert_int_eq(call("DELETE", "/api/v1/vm.info", NULL), 405);
	ck_json_member("error");
}
END_TEST

START_TEST(test_bodies)
{
	ck_assert_int_eq(call("GET", "/api/v1/vmm.ping", "{}"), 200);
	ck_assert_int_eq(call("GET", "/api/v1/vmm.ping", " { } "), 200);
	ck_assert_int_eq(call("GET", "/api/v1/vmm.ping", "{"), 400);
	ck_json_member("error");
	ck_assert_int_eq(call("GET", "/api/v1/vmm.ping", "[]"), 400);
	ck_assert_int_eq(call("GET", "/api/v1/vmm.ping", "{\"a\": 1}"), 400);
	/* the JSON parser's message, quotes and all, comes back as valid JSON */
	ck_assert_int_eq(call("PUT", "/api/v1/vm.shutdown", "{\"\\x\": 1}"), 400);
	ck_json_member("error");
	ck_assert_int_eq(after.stop_code, -1); /* a refused request does nothing */
}
END_TEST

START_TEST(test_states)
{
	ck_assert_int_eq(call("GET", "/api/v1/vm.info", NULL), 200);
	ck_json_member("counters");
	ck_assert(strstr(body, "\"state\": \"running\"") != NULL);
	ck_assert(strstr(body, "\"kernel\": \"k\\\"1\"") != NULL);
	ck_assert_int_eq(call("PUT", "/api/v1/vm.resume", NULL), 409);
	ck_json_member("error");
	/* paused (as vm_pause() leaves it): pause again and the power button are refused */
	vm.pause.requested = true;
	ck_assert_int_eq(call("PUT", "/api/v1/vm.pause", NULL), 409);
	ck_assert_int_eq(call("PUT", "/api/v1/vm.power-button", NULL), 409);
	ck_assert_int_eq(call("GET", "/api/v1/vm.info", NULL), 200);
	ck_assert(strstr(body, "\"state\": \"paused\"") != NULL);
	/* shutdown and reboot stop the VM only once the answer is out */
	ck_assert_int_eq(call("PUT", "/api/v1/vm.shutdown", NULL), 200);
	ck_assert_int_eq(after.stop_code, VMM_EXIT_POWEROFF);
	ck_assert_int_eq(call("PUT", "/api/v1/vm.reboot", NULL), 200);
	ck_assert_int_eq(after.stop_code, VMM_EXIT_REBOOT);
	ck_assert(!vm_is_stopping(&vm));
}
END_TEST

/* While a gdb client holds the VM, pause and resume are its own: the API may not take them. */
START_TEST(test_debugger_holds_the_vm)
{
	vm.debug.held = true;
	vm.pause.requested = true; /* gdb stopped it */
	ck_assert_int_eq(call("PUT", "/api/v1/vm.resume", NULL), 409);
	ck_assert(strstr(body, "a debugger (--gdb) holds the VM") != NULL);
	ck_assert(vm.pause.requested); /* still stopped */
	vm.pause.requested = false;    /* gdb let it run */
	ck_assert_int_eq(call("PUT", "/api/v1/vm.pause", NULL), 409);
	ck_assert(!vm.pause.requested);
	ck_assert_int_eq(call("GET", "/api/v1/vm.info", NULL), 200);
}
END_TEST

/* vm.snapshot's parameters and directory are checked before the VM is paused. */
START_TEST(test_snapshot_refusals)
{
	const char *snap = "/api/v1/vm.snapshot";

	ck_assert_int_eq(call("PUT", snap, NULL), 400);
	ck_assert_int_eq(call("PUT", snap, "{}"), 400);
	ck_assert_ptr_nonnull(strstr(body, "destination_url"));
	ck_assert_int_eq(call("PUT", snap, "[\"file:///tmp\"]"), 400);
	ck_assert_int_eq(call("PUT", snap, "{\"destination_url\": 1}"), 400);
	ck_assert_int_eq(call("PUT", snap, "{\"destination_url\": \"/tmp\", \"x\": 1}"), 400);
	ck_assert_int_eq(call("PUT", snap, "{\"destination_url\": \"http://host/dir\"}"), 400);
	ck_assert_ptr_nonnull(strstr(body, "not a file:///DIR URL"));
	ck_assert_int_eq(call("PUT", snap, "{\"destination_url\": \"file:///nonexistent/x\"}"),
			 400);
	ck_assert_ptr_nonnull(strstr(body, "/nonexistent/x"));
	ck_json_member("error");
	ck_assert_int_eq(call("GET", snap, NULL), 405);
	ck_assert(!vm_is_paused(&vm));
	vm.debug.held = true;
	ck_assert_int_eq(call("PUT", snap, "{\"destination_url\": \"file:///tmp\"}"), 409);
}
END_TEST

START_TEST(test_error_escaping)
{
	char small[24];

	ck_assert_int_eq(api_error(body, sizeof(body), 400, "a \"quoted\"\n\\ \x01"), 400);
	ck_assert_str_eq(body, "{\"error\": \"a \\\"quoted\\\"\\u000a\\\\ \\u0001\"}");
	/* too long for the buffer: a shorter message, still JSON */
	ck_assert_int_eq(api_error(small, sizeof(small), 404, "a very long message indeed"), 404);
	ck_assert_str_eq(small, "{\"error\": \"Not Found\"}");
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("api_routes");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_routing);
	tcase_add_test(tc, test_bodies);
	tcase_add_test(tc, test_states);
	tcase_add_test(tc, test_debugger_holds_the_vm);
	tcase_add_test(tc, test_error_escaping);
	tcase_add_test(tc, test_snapshot_refusals);
	suite_add_tcase(s, tc);
	return s;
}
