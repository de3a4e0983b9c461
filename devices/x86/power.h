/* SPDX-License-Identifier: MIT */
/*
 * The small platform devices through which a guest ends or marks its life:
 * - ACPI fixed-hardware PM1 registers (ACPI 6.x section 4.8): writing SLP_TYP=S5 with
 *   SLP_EN to PM1a control powers the machine off; the FADT reset register reboots it;
 *   the fixed power button (section 4.8.3.1) sets PWRBTN_STS; GPE block 0 (section 4.8.4.1)
 *   carries the VMM's own events (the VM generation ID's); the SCI line is high while
 *   any status bit, PM1's or a GPE's, is set whose enable bit the guest set;
 * - the i8042 keyboard controller, only as far as its 0xFE "pulse reset line" command,
 *   which Linux uses for reboot=k;
 * - the boot-marker port (0x440), where a guest writes a milestone number and the VMM
 *   logs the time since start, and the POST port 0x80, which is only counted.
 */
#ifndef DEVICES_X86_POWER_H
#define DEVICES_X86_POWER_H

#include <stdint.h>
#include <pthread.h>
#include <time.h>

#include "devices/bus.h"

struct power_events {
	void (*poweroff)(void *ctx);
	void (*reset)(void *ctx);
	/* the SCI's level changed (under the PM1 lock); NULL: no SCI wired */
	void (*sci)(void *ctx, int level);
	void *ctx;
};

struct power_devices {
	struct power_events events;
	pthread_mutex_t lock; /* the PM1 registers */
	uint16_t pm1_status, pm1_enable, pm1_control;
	uint8_t gpe0_status, gpe0_enable; /* under lock */
	int sci_level;			  /* under lock: what events.sci was last told */
	uint64_t post_writes;		  /* relaxed atomics, no lock: port 0x80 is hot */
	uint8_t last_post_code;		  /* (idem) */
	unsigned int markers_logged;
	struct timespec start; /* markers are logged relative to this */
};

void power_init(struct power_devices *p, const struct power_events *events,
		const struct timespec *start);
/* Press the power button (any thread): PWRBTN_STS, and the SCI if the guest enabled it. */
void power_button_press(struct power_devices *p);
/* Raise general-purpose event gpe (0-7; any thread): its status bit, and the SCI if enabled. */
void power_gpe_raise(struct power_devices *p, unsigned int gpe);
/*
 * Snapshots: the guest-visible PM1 and GPE0 registers; restore recomputes the SCI from
 * them. The GPE bytes took the place of padding that was always zero, so an older
 * snapshot restores with no GPE enabled.
 */
struct power_state {
	uint16_t pm1_status, pm1_enable, pm1_control;
	uint8_t gpe0_status, gpe0_enable;
};
void power_save(struct power_devices *p, struct power_state *st);
void power_restore(struct power_devices *p, const struct power_state *st);
/* Claim the ACPI PM, GPE0, reset, i8042, POST and boot-marker ports on the port-I/O bus. */
int power_register(struct power_devices *p, struct bus *pio);

#endif
