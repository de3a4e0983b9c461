// SPDX-License-Identifier: MIT
/*
 * Exit statistics, printed for people (a table) and for scripts (JSON). Everything here
 * only reads counters that the hot paths keep: see vmm/stats.h for where each one lives.
 */
#include "vmm/stats.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "vmm/devices.h"
#include "vmm/vm.h"

/* Per-vCPU columns in the table up to this many vCPUs; beyond, only the total. */
#define STATS_VCPU_COLUMNS 8

static const struct {
	const char *key;   /* JSON */
	const char *label; /* table */
} exit_names[STATS_EXIT_NR] = {
	[STATS_EXIT_IO] = { "io", "port I/O (in/out)" },
	[STATS_EXIT_MMIO] = { "mmio", "MMIO (no RAM at the address)" },
	[STATS_EXIT_HLT] = { "hlt", "HLT" },
	[STATS_EXIT_SHUTDOWN] = { "shutdown", "shutdown (triple fault)" },
	[STATS_EXIT_SYSTEM_EVENT] = { "system_event", "system event (off/reset)" },
	[STATS_EXIT_INTERNAL_ERROR] = { "internal_error", "internal error" },
	[STATS_EXIT_FAIL_ENTRY] = { "fail_entry", "failed VM entry" },
	[STATS_EXIT_INTERRUPTED] = { "interrupted", "interrupted (signal)" },
	[STATS_EXIT_OTHER] = { "other", "other" },
};

const char *stats_exit_key(enum stats_exit kind)
{
	return (unsigned int)kind < STATS_EXIT_NR ? exit_names[kind].key : "?";
}

static uint64_t load(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

static uint64_t vcpu_exits(const struct vm *vm, unsigned int cpu, enum stats_exit kind)
{
	return load(&vm->vcpus[cpu].stats.exits[kind]);
}

static uint64_t vcpu_exits_all(const struct vm *vm, unsigned int cpu)
{
	uint64_t sum = 0;

	for (unsigned int k = 0; k < STATS_EXIT_NR; k++)
		sum += vcpu_exits(vm, cpu, k);
	return sum;
}

static uint64_t total_exits(const struct vm *vm, enum stats_exit kind)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; vm->vcpus && i < vm->ncpus; i++)
		sum += vcpu_exits(vm, i, kind);
	return sum;
}

/* The virtio devices whose kind counts kicks and requests per queue (virtio/registry.h). */
static bool in_virtio_table(const struct virtio_slot *s)
{
	return s->kind && s->kind->queue_counters;
}

static unsigned int ndevices(const struct vm *vm)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < vm->ndevices && i < VM_MAX_DEVICES; i++)
		n += in_virtio_table(&vm->devices[i]);
	return n;
}

static const char *device_name(const struct virtio_slot *s, char *buf, size_t len)
{
	if (s->vdev && s->vdev->name)
		return s->vdev->name;
	snprintf(buf, len, "%s%u", s->kind->name, s->index);
	return buf;
}

static unsigned int device_queues(const struct virtio_slot *s)
{
	unsigned int n = s->vdev ? s->vdev->num_queues : 0;

	return n < VIRTIO_MAX_QUEUES ? n : VIRTIO_MAX_QUEUES;
}

struct device_totals {
	uint64_t kicks, requests;
};

static struct device_totals queue_totals(const struct virtio_slot *s, unsigned int q)
{
	struct device_totals t = { 0, 0 };

	s->kind->queue_counters(s, q, &t.kicks, &t.requests);
	return t;
}

static struct device_totals device_totals(const struct virtio_slot *s)
{
	struct device_totals t = { 0, 0 };

	for (unsigned int q = 0; q < device_queues(s); q++) {
		struct device_totals one = queue_totals(s, q);

		t.kicks += one.kicks;
		t.requests += one.requests;
	}
	return t;
}

/* How many devices of one kind the VM has. */
static unsigned int kind_devices(const struct vm *vm, const struct virtio_kind *kind)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < vm->ndevices && i < VM_MAX_DEVICES; i++)
		n += vm->devices[i].kind == kind;
	return n;
}

/* ---- the table ---- */

/* A row's per-vCPU cells (kind STATS_EXIT_NR: every reason), or "" without columns. */
static void vcpu_cells(const struct vm *vm, bool columns, unsigned int kind, char *buf, size_t len)
{
	buf[0] = '\0';
	for (unsigned int i = 0; columns && i < vm->ncpus; i++) {
		size_t used = strlen(buf);
		uint64_t n = kind < STATS_EXIT_NR ? vcpu_exits(vm, i, kind) : vcpu_exits_all(vm, i);

		snprintf(buf + used, len - used, "  %9" PRIu64, n);
	}
}

static void print_exits(struct virtio_report *t, const struct vm *vm)
{
	bool columns = vm->vcpus && vm->ncpus > 1 && vm->ncpus <= STATS_VCPU_COLUMNS;
	char cells[16 * STATS_VCPU_COLUMNS + 1] = "";
	uint64_t all = 0;

	for (unsigned int i = 0; columns && i < vm->ncpus; i++) {
		size_t used = strlen(cells);

		snprintf(cells + used, sizeof(cells) - used, "  %8s%u", "vCPU ", i);
	}
	virtio_report_row(t, "exits to the VMM, by reason     %10s%s", "total", cells);
	for (unsigned int k = 0; k < STATS_EXIT_NR; k++) {
		uint64_t n = total_exits(vm, k);

		vcpu_cells(vm, columns, k, cells, sizeof(cells));
		virtio_report_row(t, "  %-29s %10" PRIu64 "%s", exit_names[k].label, n, cells);
		all += n;
	}
	vcpu_cells(vm, columns, STATS_EXIT_NR, cells, sizeof(cells));
	virtio_report_row(t, "  %-29s %10" PRIu64 "%s", "all exits", all, cells);
}

static void print_bus(struct virtio_report *t, struct bus *bus)
{
	struct bus_range ranges[BUS_MAX_RANGES];
	unsigned int n = bus_snapshot(bus, ranges, BUS_MAX_RANGES);
	const char *bus_name = bus->name ? bus->name : "bus";
	char name[64];

	for (unsigned int i = 0; i < n; i++) {
		const struct bus_range *r = &ranges[i];

		snprintf(name, sizeof(name), "%s: %s", bus_name, r->name ? r->name : "?");
		virtio_report_row(t,
				  "  %-29s %10" PRIu64 " %10" PRIu64 "  0x%" PRIx64 "-0x%" PRIx64,
				  name, r->reads, r->writes, r->base, r->base + (r->len - 1));
	}
	snprintf(name, sizeof(name), "%s: no device", bus_name);
	virtio_report_row(t, "  %-29s %10" PRIu64 "  (unhandled, reads and writes together)", name,
			  load(&bus->unhandled));
}

static void print_virtio(struct virtio_report *t, const struct vm *vm)
{
	virtio_report_row(t, "virtio devices                  %10s %10s %8s %8s %8s %10s", "kicks",
			  "requests", "MSI-X", "INTx", "notify", "BAR r/w");
	for (unsigned int i = 0; i < vm->ndevices && i < VM_MAX_DEVICES; i++) {
		const struct virtio_slot *s = &vm->devices[i];
		const struct virtio_pci *vp = &s->pci;
		struct device_totals d;
		char buf[24], name[64], bar[32];

		if (!in_virtio_table(s))
			continue;
		d = device_totals(s);
		if (vp->vdev)
			snprintf(name, sizeof(name), "%s (00:%02x.0)",
				 device_name(s, buf, sizeof(buf)), vp->pci.slot);
		else
			snprintf(name, sizeof(name), "%s", device_name(s, buf, sizeof(buf)));
		snprintf(bar, sizeof(bar), "%" PRIu64 "/%" PRIu64, load(&vp->bar_reads),
			 load(&vp->bar_writes));
		virtio_report_row(t,
				  "  %-29s %10" PRIu64 " %10" PRIu64 " %8" PRIu64 " %8" PRIu64
				  " %8" PRIu64 " %10s",
				  name, d.kicks, d.requests, load(&vp->msix_fired),
				  load(&vp->intx_raised), load(&vp->notify_exits), bar);
		for (unsigned int q = 0; device_queues(s) > 1 && q < device_queues(s); q++) {
			struct device_totals one = queue_totals(s, q);

			virtio_report_row(t, "    queue %-21u %10" PRIu64 " %10" PRIu64, q,
					  one.kicks, one.requests);
		}
	}
}

/* The kinds with a table of their own (virtio-net), in the registry's order. */
static void print_kinds(struct virtio_report *t, const struct vm *vm)
{
	const struct virtio_kind *kind;

	for (unsigned int k = 0; (kind = devices_kind(k)); k++) {
		if (!kind->report_key || !kind_devices(vm, kind))
			continue;
		kind->report_heading(t);
		for (unsigned int i = 0; i < vm->ndevices && i < VM_MAX_DEVICES; i++)
			if (vm->devices[i].kind == kind)
				kind->report_rows(t, &vm->devices[i]);
	}
}

static const struct {
	const char *key;   /* JSON */
	const char *label; /* table */
} phase_names[VM_PHASE_NR] = {
	[VM_PHASE_GUEST_LOADED] = { "guest_loaded", "guest loaded" },
	[VM_PHASE_DISKS_OPENED] = { "disks_opened", "disks opened" },
	[VM_PHASE_VM_CREATED] = { "vm_created", "KVM VM created" },
	[VM_PHASE_DEVICES] = { "devices", "devices" },
	[VM_PHASE_VCPUS] = { "vcpus", "vCPUs set up" },
	[VM_PHASE_FIRST_RUN] = { "first_kvm_run", "first KVM_RUN" },
};

static double phase_ms(const struct vm *vm, enum vm_phase phase)
{
	double ms;

	__atomic_load(&vm->phase_ms[phase], &ms, __ATOMIC_RELAXED);
	return ms;
}

/* One line: each milestone of start-up, in ms since main() began. */
static void print_startup(struct virtio_report *t, const struct vm *vm)
{
	char line[256];
	size_t used = 0;

	for (unsigned int p = 0; p < VM_PHASE_NR && used < sizeof(line); p++)
		used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s %.3f",
					 p ? ", " : "", phase_names[p].label, phase_ms(vm, p));
	virtio_report_row(t, "start-up, ms after the VMM started: %s", line);
}

void stats_print(FILE *out, struct vm *vm)
{
	struct virtio_report t = { out, isatty(fileno(out)) ? "\r\n" : "\n" };
	uint64_t all = 0;
	double secs = vm_elapsed_ms(vm) / 1e3;

	for (unsigned int k = 0; k < STATS_EXIT_NR; k++)
		all += total_exits(vm, k);
	virtio_report_row(&t,
			  "vmm: exit statistics: %" PRIu64
			  " exits in %.2f s on %u vCPU%s (%.0f per second)",
			  all, secs, vm->ncpus, vm->ncpus == 1 ? "" : "s",
			  secs > 0 ? (double)all / secs : 0.0);
	print_startup(&t, vm);
	print_exits(&t, vm);
	virtio_report_row(&t, "accesses, by device range      %10s %10s  %s", "reads", "writes",
			  "addresses");
	print_bus(&t, &vm->pio);
	print_bus(&t, &vm->mmio);
	if (ndevices(vm)) {
		print_virtio(&t, vm);
		virtio_report_row(
			&t,
			"  (kicks and MSI-X pass through KVM eventfds: they cost the VMM no exit;");
		virtio_report_row(
			&t, "   notify = queue notifications that came as MMIO exits instead)");
	}
	print_kinds(&t, vm);
	fflush(out);
}

/* ---- JSON ---- */

static void json_exits(FILE *out, const struct vm *vm, int cpu, const char *indent)
{
	uint64_t all = 0;

	fputc('{', out);
	for (unsigned int k = 0; k < STATS_EXIT_NR; k++) {
		uint64_t n = cpu < 0 ? total_exits(vm, k) : vcpu_exits(vm, (unsigned int)cpu, k);

		fprintf(out, "%s\n%s  \"%s\": %" PRIu64, k ? "," : "", indent, exit_names[k].key,
			n);
		all += n;
	}
	fprintf(out, ",\n%s  \"all\": %" PRIu64 "\n%s}", indent, all, indent);
}

static void json_bus(FILE *out, struct bus *bus)
{
	struct bus_range ranges[BUS_MAX_RANGES];
	unsigned int n = bus_snapshot(bus, ranges, BUS_MAX_RANGES);

	fprintf(out, "{\n      \"unhandled\": %" PRIu64 ",\n      \"ranges\": [",
		load(&bus->unhandled));
	for (unsigned int i = 0; i < n; i++) {
		fprintf(out, "%s\n        { \"name\": ", i ? "," : "");
		virtio_report_json_string(out, ranges[i].name ? ranges[i].name : "?");
		fprintf(out,
			", \"base\": \"0x%" PRIx64 "\", \"size\": %" PRIu64 ", \"reads\": %" PRIu64
			", \"writes\": %" PRIu64 " }",
			ranges[i].base, ranges[i].len, ranges[i].reads, ranges[i].writes);
	}
	fprintf(out, "%s]\n    }", n ? "\n      " : "");
}

static void json_virtio(FILE *out, const struct vm *vm)
{
	unsigned int n = 0;

	fputc('[', out);
	for (unsigned int i = 0; i < vm->ndevices && i < VM_MAX_DEVICES; i++) {
		const struct virtio_slot *s = &vm->devices[i];
		const struct virtio_pci *vp = &s->pci;
		struct device_totals d;
		char buf[32];

		if (!in_virtio_table(s))
			continue;
		d = device_totals(s);
		fprintf(out, "%s\n    {\n      \"name\": ", n++ ? "," : "");
		virtio_report_json_string(out, device_name(s, buf, sizeof(buf)));
		if (vp->vdev)
			fprintf(out, ",\n      \"pci\": \"00:%02x.0\"", vp->pci.slot);
		fprintf(out,
			",\n      \"kicks\": %" PRIu64 ",\n      \"requests\": %" PRIu64
			",\n      \"msix_fired\": %" PRIu64 ",\n      \"intx_raised\": %" PRIu64
			",\n      \"notify_exits\": %" PRIu64 ",\n      \"bar_reads\": %" PRIu64
			",\n      \"bar_writes\": %" PRIu64 ",\n      \"queues\": [",
			d.kicks, d.requests, load(&vp->msix_fired), load(&vp->intx_raised),
			load(&vp->notify_exits), load(&vp->bar_reads), load(&vp->bar_writes));
		for (unsigned int q = 0; q < device_queues(s); q++) {
			struct device_totals one = queue_totals(s, q);

			fprintf(out,
				"%s\n        { \"index\": %u, \"kicks\": %" PRIu64
				", \"requests\": %" PRIu64 " }",
				q ? "," : "", q, one.kicks, one.requests);
		}
		fprintf(out, "%s]\n    }", device_queues(s) ? "\n      " : "");
	}
	fprintf(out, "%s]", n ? "\n  " : "");
}

/* A kind's own array ("net"): present, maybe empty, whether or not the VM has one. */
static void json_kind(FILE *out, const struct vm *vm, const struct virtio_kind *kind)
{
	unsigned int n = 0;

	fprintf(out, ",\n  \"%s\": [", kind->report_key);
	for (unsigned int i = 0; i < vm->ndevices && i < VM_MAX_DEVICES; i++) {
		if (vm->devices[i].kind != kind)
			continue;
		fprintf(out, "%s\n    ", n++ ? "," : "");
		kind->report_json(out, &vm->devices[i]);
	}
	fprintf(out, "%s]", n ? "\n  " : "");
}

int stats_json(FILE *out, struct vm *vm)
{
	fprintf(out, "{\n  \"elapsed_s\": %.3f,\n  \"vcpus\": %u,\n  \"startup_ms\": {",
		vm_elapsed_ms(vm) / 1e3, vm->ncpus);
	for (unsigned int p = 0; p < VM_PHASE_NR; p++)
		fprintf(out, "%s\n    \"%s\": %.3f", p ? "," : "", phase_names[p].key,
			phase_ms(vm, p));
	fputs("\n  },\n  \"exits\": ", out);
	json_exits(out, vm, -1, "  ");
	fputs(",\n  \"exits_per_vcpu\": [", out);
	for (unsigned int i = 0; vm->vcpus && i < vm->ncpus; i++) {
		fprintf(out, "%s\n    ", i ? "," : "");
		json_exits(out, vm, (int)i, "    ");
	}
	fprintf(out, "%s],\n  \"buses\": {\n    \"pio\": ", vm->vcpus && vm->ncpus ? "\n  " : "");
	json_bus(out, &vm->pio);
	fputs(",\n    \"mmio\": ", out);
	json_bus(out, &vm->mmio);
	fputs("\n  },\n  \"virtio\": ", out);
	json_virtio(out, vm);
	for (unsigned int k = 0; devices_kind(k); k++)
		if (devices_kind(k)->report_key)
			json_kind(out, vm, devices_kind(k));
	fputs("\n}\n", out);
	return ferror(out) ? -EIO : 0;
}

int stats_write_json_file(FILE *f, struct vm *vm)
{
	int ret = stats_json(f, vm);

	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

int stats_write_json(const char *path, struct vm *vm)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -errno;
	return stats_write_json_file(f, vm);
}
