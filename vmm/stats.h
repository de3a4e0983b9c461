/* SPDX-License-Identifier: MIT */
/*
 * Exit statistics: how often the guest made the VMM do something, and why. The counters
 * live next to what they count, so that counting costs almost nothing on the hot paths:
 *   - exits by reason: struct vcpu_exit_stats in each struct vcpu, written only by that
 *     vCPU's own thread (a relaxed load and store, no locked instruction);
 *   - accesses by address range: struct bus_range (devices/bus.h), relaxed atomics;
 *   - virtio: interrupts injected and BAR accesses in struct virtio_pci, kicks consumed
 *     and requests taken per queue in struct blk_queue, relaxed atomics.
 * The printers below only read them (relaxed loads), so they may run while the guest
 * does: the totals are then a moment's snapshot, not one consistent instant.
 */
#ifndef VMM_STATS_H
#define VMM_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "vmm/exit_stats.h"

struct vm;

/* Short name of a reason, as the JSON keys spell it ("io", "mmio", ...). */
const char *stats_exit_key(enum stats_exit kind);

/*
 * Print the tables (exits by reason and vCPU; accesses by bus range, unhandled ones
 * included; per virtio device: kicks, requests and interrupts injected) to out. Lines end
 * in "\r\n" when out is a terminal, which may be in raw mode while the guest runs.
 */
void stats_print(FILE *out, struct vm *vm);

/*
 * The same numbers as one JSON object, written to path (created or truncated). Returns 0
 * or -errno.
 */
int stats_write_json(const char *path, struct vm *vm);
/*
 * The same into f, opened earlier (the VMM opens it before its seccomp lists allow no
 * more opens), which is closed afterwards. Returns 0 or -errno.
 */
int stats_write_json_file(FILE *f, struct vm *vm);
/* The same JSON to an open stream ("\n" line ends); returns 0 or -EIO. */
int stats_json(FILE *out, struct vm *vm);

#endif
