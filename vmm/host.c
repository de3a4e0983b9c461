// SPDX-License-Identifier: MIT
/* The hint for hosts whose KVM has no hardware virtualization behind it. */
#include "vmm/host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/platform.h"

#define HINT                                                                                       \
	"this KVM has no hardware virtualization (no vmx or svm in /proc/cpuinfo: a PVM or "       \
	"emulated host); an unmodified Linux kernel runs in KVM's instruction emulator here "      \
	"and may not boot (see \"Hosts\" in README.md, and docs/harness.md)"

/* Polling the output counters once a second costs nothing the guest could notice. */
#define POLL_MS 1000

struct host_watch {
	struct vm *vm;
	struct event_timer *timer;
	struct host_silence silence;
	bool raw_terminal;
};

static bool has_word(const char *list, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += len) {
		bool starts = p == list || p[-1] == ' ' || p[-1] == '\t';
		char end = p[len];

		if (starts && (end == '\0' || end == ' ' || end == '\t' || end == '\n'))
			return true;
	}
	return false;
}

enum host_virt host_virt_from_cpuinfo(const char *path)
{
	enum host_virt virt = HOST_VIRT_UNKNOWN;
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		return HOST_VIRT_UNKNOWN;
	while (getline(&line, &cap, f) > 0) {
		char *colon = strchr(line, ':');
		size_t key = colon ? (size_t)(colon - line) : 0;

		/* "flags", padded with tabs; not "vmx flags", which Intel hosts list too */
		while (key > 0 && (line[key - 1] == ' ' || line[key - 1] == '\t'))
			key--;
		if (!colon || key != 5 || strncmp(line, "flags", 5))
			continue;
		virt = has_word(colon + 1, "vmx") || has_word(colon + 1, "svm") ? HOST_VIRT_HW
										: HOST_VIRT_NONE;
		break;
	}
	free(line);
	fclose(f);
	return virt;
}

bool host_silence_due(struct host_silence *s, uint64_t output, int64_t now_ms)
{
	if (s->warned)
		return false;
	if (!s->started || output != s->output) {
		s->started = true;
		s->output = output;
		s->changed_ms = now_ms;
		return false;
	}
	if (now_ms - s->changed_ms < (int64_t)HOST_SILENCE_S * 1000)
		return false;
	s->warned = true;
	return true;
}

/*
 * What the guest has said so far: writes to the serial port and to the `vmm run` device.
 * The buses count every access anyway, so watching costs the vCPUs nothing.
 */
static uint64_t guest_output(struct vm *vm)
{
	struct bus_range ranges[BUS_MAX_RANGES];
	unsigned int n = bus_snapshot(&vm->pio, ranges, BUS_MAX_RANGES);
	uint64_t sum = 0;

	for (unsigned int i = 0; i < n; i++)
		if (ranges[i].base == PLATFORM_COM1_PORT || ranges[i].base == PLATFORM_CMDPORT_PORT)
			sum += ranges[i].writes;
	return sum;
}

static void on_poll(void *opaque)
{
	struct host_watch *w = opaque;
	int64_t now = event_loop_now_ms();

	if (host_silence_due(&w->silence, guest_output(w->vm), now)) {
		fprintf(stderr, "%svmm: no output from the guest for %d s: " HINT "%s\n",
			w->raw_terminal ? "\r\n" : "", HOST_SILENCE_S, w->raw_terminal ? "\r" : "");
		return; /* said twice: enough */
	}
	event_timer_arm(w->timer, now + POLL_MS);
}

static const char *cpuinfo_path(void)
{
#ifdef VMM_TEST_HOOKS
	/* test builds only: a stand-in file, so tests can play either kind of host */
	const char *fake = getenv("VMM_TEST_CPUINFO");

	if (fake)
		return fake;
#endif
	return "/proc/cpuinfo";
}

int host_check(struct event_loop *loop, struct vm *vm, bool raw_terminal)
{
	static struct host_watch watch;

	if (host_virt_from_cpuinfo(cpuinfo_path()) != HOST_VIRT_NONE)
		return 0; /* real VT-x/AMD-V, or we cannot tell: say nothing */
	fprintf(stderr, "vmm: " HINT "%s\n", raw_terminal ? "\r" : "");
	watch = (struct host_watch){ .vm = vm, .raw_terminal = raw_terminal };
	watch.timer = event_timer_new(loop, on_poll, &watch);
	if (!watch.timer)
		return -ENOMEM;
	host_silence_due(&watch.silence, guest_output(vm), event_loop_now_ms());
	event_timer_arm(watch.timer, event_loop_now_ms() + POLL_MS);
	return 0;
}
