// SPDX-License-Identifier: MIT
/*
 * Exit statistics, printed for people (a table) and for scripts (JSON). Everything here
 * only reads counters that the hot paths keep: see vmm/stats.h for where each one lives.
 */
#include "vmm/stats.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

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

/* The virtio devices: one virtio-pci function per disk. */
static unsigned int ndevices(const struct vm *vm)
{
	return vm->ndisks < VMM_MAX_DISKS ? vm->ndisks : VMM_MAX_DISKS;
}

static const char *device_name(const struct vm *vm, unsigned int i, char *buf, size_t len)
{
	if (vm->disks[i].vdev.name)
		return vm->disks[i].vdev.name;
	snprintf(buf, len, "virtio-blk%u", i);
	return buf;
}

static unsigned int device_queues(const struct vm *vm, unsigned int i)
{
	unsigned int n = vm->disks[i].vdev.num_queues;

	return n < VIRTIO_MAX_QUEUES ? n : VIRTIO_MAX_QUEUES;
}

struct device_totals {
	uint64_t kicks, requests;
};

static struct device_totals device_totals(const struct vm *vm, unsigned int i)
{
	struct device_totals t = { 0, 0 };

	for (unsigned int q = 0; q < device_queues(vm, i); q++) {
		t.kicks += load(&vm->disks[i].queues[q].kicks);
		t.requests += load(&vm->disks[i].queues[q].requests);
	}
	return t;
}

/* ---- the table ---- */

struct table {
	FILE *out;
	const char *eol;
};

static void __attribute__((format(printf, 2, 3))) row(struct table *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(t->out, fmt, ap);
	va_end(ap);
	fputs(t->eol, t->out);
}

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

static void print_exits(struct table *t, const struct vm *vm)
{
	bool columns = vm->vcpus && vm->ncpus > 1 && vm->ncpus <= STATS_VCPU_COLUMNS;
	char cells[16 * STATS_VCPU_COLUMNS + 1] = "";
	uint64_t all = 0;

	for (unsigned int i = 0; columns && i < vm->ncpus; i++) {
		size_t used = strlen(cells);

		snprintf(cells + used, sizeof(cells) - used, "  %8s%u", "vCPU ", i);
	}
	row(t, "exits to the VMM, by reason     %10s%s", "total", cells);
	for (unsigned int k = 0; k < STATS_EXIT_NR; k++) {
		uint64_t n = total_exits(vm, k);

		vcpu_cells(vm, columns, k, cells, sizeof(cells));
		row(t, "  %-29s %10" PRIu64 "%s", exit_names[k].label, n, cells);
		all += n;
	}
	vcpu_cells(vm, columns, STATS_EXIT_NR, cells, sizeof(cells));
	row(t, "  %-29s %10" PRIu64 "%s", "all exits", all, cells);
}

static void print_bus(struct table *t, struct bus *bus)
{
	struct bus_range ranges[BUS_MAX_RANGES];
	unsigned int n = bus_snapshot(bus, ranges, BUS_MAX_RANGES);
	const char *bus_name = bus->name ? bus->name : "bus";
	char name[64];

	for (unsigned int i = 0; i < n; i++) {
		const struct bus_range *r = &ranges[i];

		snprintf(name, sizeof(name), "%s: %s", bus_name, r->name ? r->name : "?");
		row(t, "  %-29s %10" PRIu64 " %10" PRIu64 "  0x%" PRIx64 "-0x%" PRIx64, name,
		    r->reads, r->writes, r->base, r->base + (r->len - 1));
	}
	snprintf(name, sizeof(name), "%s: no device", bus_name);
	row(t, "  %-29s %10" PRIu64 "  (unhandled, reads and writes together)", name,
	    load(&bus->unhandled));
}

static void print_virtio(struct table *t, const struct vm *vm)
{
	row(t, "virtio devices                  %10s %10s %8s %8s %8s %10s", "kicks", "requests",
	    "MSI-X", "INTx", "notify", "BAR r/w");
	for (unsigned int i = 0; i < ndevices(vm); i++) {
		const struct virtio_pci *vp = &vm->disk_pci[i];
		struct device_totals d = device_totals(vm, i);
		char buf[16], name[40], bar[32];

		if (vp->vdev)
			snprintf(name, sizeof(name), "%s (00:%02x.0)",
				 device_name(vm, i, buf, sizeof(buf)), vp->pci.slot);
		else
			snprintf(name, sizeof(name), "%s", device_name(vm, i, buf, sizeof(buf)));
		snprintf(bar, sizeof(bar), "%" PRIu64 "/%" PRIu64, load(&vp->bar_reads),
			 load(&vp->bar_writes));
		row(t,
		    "  %-29s %10" PRIu64 " %10" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
		    " %10s",
		    name, d.kicks, d.requests, load(&vp->msix_fired), load(&vp->intx_raised),
		    load(&vp->notify_exits), bar);
		for (unsigned int q = 0; device_queues(vm, i) > 1 && q < device_queues(vm, i); q++)
			row(t, "    queue %-21u %10" PRIu64 " %10" PRIu64, q,
			    load(&vm->disks[i].queues[q].kicks),
			    load(&vm->disks[i].queues[q].requests));
	}
}

/* virtio-net: frames each way, and what was dropped and why, summed over queue pairs. */
static struct net_stats nic_totals(const struct vm *vm, unsigned int i)
{
	const struct net *n = &vm->nics[i];
	struct net_stats t;

	memset(&t, 0, sizeof(t));
	for (unsigned int q = 0; n->pairs && q < n->npairs; q++) {
		const struct net_stats *s = &n->pairs[q].stats;

		t.rx_frames += load(&s->rx_frames);
		t.rx_bytes += load(&s->rx_bytes);
		t.tx_frames += load(&s->tx_frames);
		t.tx_bytes += load(&s->tx_bytes);
		t.rx_kicks += load(&s->rx_kicks);
		t.tx_kicks += load(&s->tx_kicks);
		t.tx_bad_header += load(&s->tx_bad_header);
		t.tx_oversized += load(&s->tx_oversized);
		t.tx_errors += load(&s->tx_errors);
		t.rx_bad_buffers += load(&s->rx_bad_buffers);
		t.rx_errors += load(&s->rx_errors);
	}
	return t;
}

static unsigned int nnics(const struct vm *vm)
{
	return vm->nnics < VMM_MAX_NICS ? vm->nnics : VMM_MAX_NICS;
}

static void print_nics(struct table *t, const struct vm *vm)
{
	row(t, "virtio-net                      %10s %10s %10s %10s %8s %8s", "rx frames",
	    "rx bytes", "tx frames", "tx bytes", "MSI-X", "INTx");
	for (unsigned int i = 0; i < nnics(vm); i++) {
		const struct virtio_pci *vp = &vm->nic_pci[i];
		struct net_stats s = nic_totals(vm, i);
		char name[40];

		snprintf(name, sizeof(name), "%s (00:%02x.0)", vm->nics[i].vdev.name, vp->pci.slot);
		row(t,
		    "  %-29s %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %8" PRIu64
		    " %8" PRIu64,
		    name, s.rx_frames, s.rx_bytes, s.tx_frames, s.tx_bytes, load(&vp->msix_fired),
		    load(&vp->intx_raised));
		row(t,
		    "    kicks rx/tx %" PRIu64 "/%" PRIu64 "; dropped: tx bad header %" PRIu64
		    ", tx oversized %" PRIu64 ", tx back end errors %" PRIu64
		    ", rx bad buffers %" PRIu64 ", rx errors %" PRIu64,
		    s.rx_kicks, s.tx_kicks, s.tx_bad_header, s.tx_oversized, s.tx_errors,
		    s.rx_bad_buffers, s.rx_errors);
		for (unsigned int q = 0; vm->nics[i].npairs > 1 && q < vm->nics[i].npairs; q++) {
			const struct net_stats *ps = &vm->nics[i].pairs[q].stats;

			row(t,
			    "    queue pair %-16u %10" PRIu64 " %10" PRIu64 " %10" PRIu64
			    " %10" PRIu64,
			    q, load(&ps->rx_frames), load(&ps->rx_bytes), load(&ps->tx_frames),
			    load(&ps->tx_bytes));
		}
	}
}

void stats_print(FILE *out, struct vm *vm)
{
	struct table t = { out, isatty(fileno(out)) ? "\r\n" : "\n" };
	uint64_t all = 0;
	double secs = vm_elapsed_ms(vm) / 1e3;

	for (unsigned int k = 0; k < STATS_EXIT_NR; k++)
		all += total_exits(vm, k);
	row(&t, "vmm: exit statistics: %" PRIu64 " exits in %.2f s on %u vCPU%s (%.0f per second)",
	    all, secs, vm->ncpus, vm->ncpus == 1 ? "" : "s", secs > 0 ? (double)all / secs : 0.0);
	print_exits(&t, vm);
	row(&t, "accesses, by device range      %10s %10s  %s", "reads", "writes", "addresses");
	print_bus(&t, &vm->pio);
	print_bus(&t, &vm->mmio);
	if (ndevices(vm)) {
		print_virtio(&t, vm);
		row(&t, "  (kicks and MSI-X pass through KVM eventfds: they cost the VMM no exit;");
		row(&t, "   notify = queue notifications that came as MMIO exits instead)");
	}
	if (nnics(vm))
		print_nics(&t, vm);
	fflush(out);
}

/* ---- JSON ---- */

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

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
		json_string(out, ranges[i].name ? ranges[i].name : "?");
		fprintf(out,
			", \"base\": \"0x%" PRIx64 "\", \"size\": %" PRIu64 ", \"reads\": %" PRIu64
			", \"writes\": %" PRIu64 " }",
			ranges[i].base, ranges[i].len, ranges[i].reads, ranges[i].writes);
	}
	fprintf(out, "%s]\n    }", n ? "\n      " : "");
}

static void json_virtio(FILE *out, const struct vm *vm)
{
	fputc('[', out);
	for (unsigned int i = 0; i < ndevices(vm); i++) {
		const struct virtio_pci *vp = &vm->disk_pci[i];
		struct device_totals d = device_totals(vm, i);
		char buf[16];

		fprintf(out, "%s\n    {\n      \"name\": ", i ? "," : "");
		json_string(out, device_name(vm, i, buf, sizeof(buf)));
		if (vp->vdev)
			fprintf(out, ",\n      \"pci\": \"00:%02x.0\"", vp->pci.slot);
		fprintf(out,
			",\n      \"kicks\": %" PRIu64 ",\n      \"requests\": %" PRIu64
			",\n      \"msix_fired\": %" PRIu64 ",\n      \"intx_raised\": %" PRIu64
			",\n      \"notify_exits\": %" PRIu64 ",\n      \"bar_reads\": %" PRIu64
			",\n      \"bar_writes\": %" PRIu64 ",\n      \"queues\": [",
			d.kicks, d.requests, load(&vp->msix_fired), load(&vp->intx_raised),
			load(&vp->notify_exits), load(&vp->bar_reads), load(&vp->bar_writes));
		for (unsigned int q = 0; q < device_queues(vm, i); q++)
			fprintf(out,
				"%s\n        { \"index\": %u, \"kicks\": %" PRIu64
				", \"requests\": %" PRIu64 " }",
				q ? "," : "", q, load(&vm->disks[i].queues[q].kicks),
				load(&vm->disks[i].queues[q].requests));
		fprintf(out, "%s]\n    }", device_queues(vm, i) ? "\n      " : "");
	}
	fprintf(out, "%s]", ndevices(vm) ? "\n  " : "");
}

static void json_nics(FILE *out, const struct vm *vm)
{
	fputc('[', out);
	for (unsigned int i = 0; i < nnics(vm); i++) {
		struct net_stats s = nic_totals(vm, i);

		fprintf(out, "%s\n    {\n      \"name\": ", i ? "," : "");
		json_string(out, vm->nics[i].vdev.name);
		fprintf(out,
			",\n      \"pci\": \"00:%02x.0\",\n      \"queue_pairs\": %u"
			",\n      \"rx_frames\": %" PRIu64 ",\n      \"rx_bytes\": %" PRIu64
			",\n      \"tx_frames\": %" PRIu64 ",\n      \"tx_bytes\": %" PRIu64
			",\n      \"rx_kicks\": %" PRIu64 ",\n      \"tx_kicks\": %" PRIu64
			",\n      \"tx_bad_header\": %" PRIu64 ",\n      \"tx_oversized\": %" PRIu64
			",\n      \"tx_errors\": %" PRIu64 ",\n      \"rx_bad_buffers\": %" PRIu64
			",\n      \"rx_errors\": %" PRIu64 ",\n      \"msix_fired\": %" PRIu64
			",\n      \"intx_raised\": %" PRIu64 "\n    }",
			vm->nic_pci[i].pci.slot, vm->nics[i].npairs, s.rx_frames, s.rx_bytes,
			s.tx_frames, s.tx_bytes, s.rx_kicks, s.tx_kicks, s.tx_bad_header,
			s.tx_oversized, s.tx_errors, s.rx_bad_buffers, s.rx_errors,
			load(&vm->nic_pci[i].msix_fired), load(&vm->nic_pci[i].intx_raised));
	}
	fprintf(out, "%s]", nnics(vm) ? "\n  " : "");
}

int stats_json(FILE *out, struct vm *vm)
{
	fprintf(out, "{\n  \"elapsed_s\": %.3f,\n  \"vcpus\": %u,\n  \"exits\": ",
		vm_elapsed_ms(vm) / 1e3, vm->ncpus);
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
	fputs(",\n  \"net\": ", out);
	json_nics(out, vm);
	fputs("\n}\n", out);
	return ferror(out) ? -EIO : 0;
}

int stats_write_json(const char *path, struct vm *vm)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -errno;
	ret = stats_json(f, vm);
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}
