// SPDX-License-Identifier: MIT
/*
 * The API's endpoints: vmm.ping, vm.info, vm.pause/resume, vm.shutdown/reboot/power-button,
 * vm.snapshot.
 */
#include "vmm/api_routes.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vmm/arch.h"
#include "vmm/exit_codes.h"
#include "vmm/json.h"
#include "vmm/pause.h"
#include "vmm/snapshot.h"
#include "vmm/stats.h"
#include "vmm/version.h"

enum api_method { API_GET, API_PUT };

struct api_endpoint {
	const char *name; /* after API_PREFIX */
	enum api_method method;
	int (*handle)(struct vm *vm, const struct api_config *cfg, char *body, size_t cap,
		      struct api_after *after);
	/* instead of handle, for an endpoint that takes parameters: the body's JSON object */
	int (*handle_params)(struct vm *vm, const struct json_value *params, char *body,
			     size_t cap);
};

/* s as a JSON string, quotes included, into out[0..cap); returns the length or cap on overflow */
static size_t json_quote(char *out, size_t cap, const char *s)
{
	size_t n = 0;

#define PUT(c)                                                                                     \
	do {                                                                                       \
		if (n + 1 >= cap)                                                                  \
			return cap;                                                                \
		out[n++] = (c);                                                                    \
	} while (0)
	PUT('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			PUT('\\');
			PUT((char)c);
		} else if (c < 0x20 || c == 0x7f) {
			if (n + 7 >= cap)
				return cap;
			n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
		} else {
			PUT((char)c);
		}
	}
	PUT('"');
#undef PUT
	out[n] = '\0';
	return n;
}

int api_error(char *body, size_t cap, int status, const char *msg)
{
	static const char head[] = "{\"error\": ";
	size_t n;

	if (cap < sizeof(head) + 4) {
		if (cap)
			body[0] = '\0';
		return status;
	}
	memcpy(body, head, sizeof(head) - 1);
	n = sizeof(head) - 1;
	n += json_quote(body + n, cap - n - 1, msg);
	if (n >= cap - 1) /* too long to quote: a shorter message that fits */
		snprintf(body, cap, "{\"error\": \"%s\"}", api_http_reason(status));
	else
		snprintf(body + n, cap - n, "}");
	return status;
}

static int errorf(char *body, size_t cap, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int errorf(char *body, size_t cap, int status, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return api_error(body, cap, status, msg);
}

static const char *vm_state(struct vm *vm)
{
	if (vm_is_stopping(vm))
		return "stopping";
	return vm_is_paused(vm) ? "paused" : "running";
}

static int ping(struct vm *vm, const struct api_config *cfg, char *body, size_t cap,
		struct api_after *after)
{
	(void)vm, (void)cfg, (void)after;
	snprintf(body, cap, "{\"version\": \"%s\"}", VMM_VERSION);
	return 200;
}

static int info(struct vm *vm, const struct api_config *cfg, char *body, size_t cap,
		struct api_after *after)
{
	size_t n;
	FILE *f;
	int ok;

	(void)after;
	n = (size_t)snprintf(body, cap,
			     "{\"state\": \"%s\", \"uptime_ms\": %.0f, \"config\": {\"cpus\": %u, "
			     "\"memory\": %llu, \"kernel\": ",
			     vm_state(vm), vm_elapsed_ms(vm), cfg->cpus, cfg->memory);
	if (n >= cap)
		return errorf(body, cap, 500, "the answer does not fit");
	if (cfg->kernel)
		n += json_quote(body + n, cap - n, cfg->kernel);
	else
		n += (size_t)snprintf(body + n, cap - n, "null");
	if (n >= cap)
		return errorf(body, cap, 500, "the answer does not fit");
	n += (size_t)snprintf(body + n, cap - n,
			      ", \"disks\": %u, \"nics\": %u, \"shares\": %u}, \"counters\": ",
			      cfg->disks, cfg->nics, cfg->shares);
	if (n >= cap)
		return errorf(body, cap, 500, "the answer does not fit");
	/* the --stats-json object, as it stands now: the counters are relaxed atomics */
	f = fmemopen(body + n, cap - n, "w");
	if (!f)
		return errorf(body, cap, 500, "out of memory");
	ok = stats_json(f, vm) == 0 && fputc('}', f) != EOF && fputc('\0', f) != EOF &&
	     fflush(f) == 0 && ftell(f) < (long)(cap - n);
	fclose(f);
	if (!ok)
		return errorf(body, cap, 500, "the counters do not fit in one answer");
	return 200;
}

static int pause_vm(struct vm *vm, const struct api_config *cfg, char *body, size_t cap,
		    struct api_after *after)
{
	int r;

	(void)cfg, (void)after;
	if (vm->debug.held)
		return errorf(body, cap, 409, "a debugger (--gdb) holds the VM: detach it first");
	r = vm_pause(vm);
	if (r == -EALREADY)
		return errorf(body, cap, 409, "the VM is already paused");
	if (r == -ECANCELED)
		return errorf(body, cap, 409, "the VM is stopping");
	if (r == -ETIMEDOUT)
		return errorf(body, cap, 503, "a vCPU did not stop within 5 s; the VM runs on");
	if (r)
		return errorf(body, cap, 500, "cannot pause: %s", strerror(-r));
	vm->pause.by_api = true;
	snprintf(body, cap, "{\"state\": \"paused\"}");
	return 200;
}

static int resume_vm(struct vm *vm, const struct api_config *cfg, char *body, size_t cap,
		     struct api_after *after)
{
	int r;

	(void)cfg, (void)after;
	if (vm_is_stopping(vm))
		return errorf(body, cap, 409, "the VM is stopping");
	if (vm->debug.held)
		return errorf(body, cap, 409, "a debugger (--gdb) holds the VM: detach it first");
	r = vm_resume(vm);
	if (r == -EALREADY)
		return errorf(body, cap, 409, "the VM is not paused");
	if (r)
		return errorf(body, cap, 500, "cannot resume: %s", strerror(-r));
	vm->pause.by_api = false;
	snprintf(body, cap, "{\"state\": \"running\"}");
	return 200;
}

static int stop_with(struct vm *vm, char *body, size_t cap, struct api_after *after, int code)
{
	if (vm_is_stopping(vm))
		return errorf(body, cap, 409, "the VM is stopping");
	after->stop_code = code;
	snprintf(body, cap, "{\"state\": \"stopping\"}");
	return 200;
}

static int shutdown_vm(struct vm *vm, const struct api_config *cfg, char *body, size_t cap,
		       struct api_after *after)
{
	(void)cfg;
	return stop_with(vm, body, cap, after, VMM_EXIT_POWEROFF);
}

static int reboot_vm(struct vm *vm, const struct api_config *cfg, char *body, size_t cap,
		     struct api_after *after)
{
	(void)cfg;
	return stop_with(vm, body, cap, after, VMM_EXIT_REBOOT);
}

/* The guest decides what the button does (Linux: an input event for its init or logind). */
static int power_button(struct vm *vm, const struct api_config *cfg, char *body, size_t cap,
			struct api_after *after)
{
	(void)cfg, (void)after;
	if (vm_is_stopping(vm))
		return errorf(body, cap, 409, "the VM is stopping");
	if (vm_is_paused(vm))
		return errorf(body, cap, 409, "the VM is paused: resume it first");
	if (arch_power_button(vm))
		return errorf(body, cap, 409, "this machine has no power button");
	snprintf(body, cap, "{\"state\": \"running\"}");
	return 200;
}

/*
 * Pause (if running), save into destination_url, stay paused. Every check of the URL and
 * the directory comes before the pause: a refused snapshot leaves the VM as it was.
 */
static int snapshot_vm(struct vm *vm, const struct json_value *params, char *body, size_t cap)
{
	const struct json_value *url = json_get(params, "destination_url");
	char err[400];
	int r;

	if (!url || url->type != JSON_STRING || params->count != 1)
		return errorf(body, cap, 400,
			      "vm.snapshot takes one parameter: {\"destination_url\": "
			      "\"file:///DIR\"}");
	if (vm->debug.held)
		return errorf(body, cap, 409, "a debugger (--gdb) holds the VM: detach it first");
	r = snapshot_save(vm, url->text, err, sizeof(err));
	switch (r) {
	case 0:
		snprintf(body, cap, "{\"state\": \"paused\"}");
		return 200;
	case -EINVAL:
	case -ENOENT:
	case -ENOTDIR:
	case -EACCES:
	case -EPERM:
	case -EROFS:
	case -ENAMETOOLONG:
	case -ELOOP:
		return api_error(body, cap, 400, err);
	case -EBUSY:
	case -ECANCELED:
		return api_error(body, cap, 409, err);
	case -ETIMEDOUT:
		return api_error(body, cap, 503, err);
	case -ENOSPC:
	case -EDQUOT:
		return api_error(body, cap, 507, err);
	case -EOPNOTSUPP:
		return api_error(body, cap, 501, err);
	default:
		return api_error(body, cap, 500, err);
	}
}

static const struct api_endpoint endpoints[] = {
	{ "vmm.ping", API_GET, ping, NULL },
	{ "vm.info", API_GET, info, NULL },
	{ "vm.pause", API_PUT, pause_vm, NULL },
	{ "vm.resume", API_PUT, resume_vm, NULL },
	{ "vm.shutdown", API_PUT, shutdown_vm, NULL },
	{ "vm.reboot", API_PUT, reboot_vm, NULL },
	{ "vm.power-button", API_PUT, power_button, NULL },
	{ "vm.snapshot", API_PUT, NULL, snapshot_vm },
};

/* Our endpoints take no parameters: a body, if any, must be an empty JSON object. */
static int check_body(const struct api_http_request *req, char *body, size_t cap)
{
	struct json_value *v = NULL;
	char err[160];
	int status = 0;

	if (!req->body_len)
		return 0;
	if (json_parse(req->body, req->body_len, &v, err, sizeof(err)))
		return errorf(body, cap, 400, "the body is not JSON: %s", err);
	if (v->type != JSON_OBJECT || v->count)
		status = errorf(body, cap, 400,
				"this endpoint takes no parameters: send {} or "
				"nothing");
	json_free(v);
	return status;
}

/* An endpoint with parameters: the body must be one JSON object. */
static int with_params(struct vm *vm, const struct api_endpoint *e,
		       const struct api_http_request *req, char *body, size_t cap)
{
	struct json_value *v = NULL;
	char err[160];
	int status;

	if (!req->body_len)
		return errorf(body, cap, 400, "%s needs a JSON object in the body", e->name);
	if (json_parse(req->body, req->body_len, &v, err, sizeof(err)))
		return errorf(body, cap, 400, "the body is not JSON: %s", err);
	if (v->type != JSON_OBJECT)
		status = errorf(body, cap, 400, "%s needs a JSON object in the body", e->name);
	else
		status = e->handle_params(vm, v, body, cap);
	json_free(v);
	return status;
}

int api_route(struct vm *vm, const struct api_config *cfg, const struct api_http_request *req,
	      char *body, size_t cap, struct api_after *after)
{
	const char *name = req->target + strlen(API_PREFIX);
	enum api_method method;
	int status;

	after->stop_code = -1;
	after->allow = NULL;
	if (strncmp(req->target, API_PREFIX, strlen(API_PREFIX)))
		return errorf(body, cap, 404, "no such endpoint (they start with %s)", API_PREFIX);
	if (!strcmp(req->method, "GET"))
		method = API_GET;
	else if (!strcmp(req->method, "PUT"))
		method = API_PUT;
	else
		method = (enum api_method) - 1;
	for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
		const struct api_endpoint *e = &endpoints[i];

		if (strcmp(name, e->name))
			continue;
		if (method != e->method) {
			after->allow = e->method == API_GET ? "GET" : "PUT";
			return errorf(body, cap, 405, "%s takes %s", e->name, after->allow);
		}
		if (e->handle_params)
			return with_params(vm, e, req, body, cap);
		status = check_body(req, body, cap);
		return status ? status : e->handle(vm, cfg, body, cap, after);
	}
	return errorf(body, cap, 404, "no such endpoint");
}
