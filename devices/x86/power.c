// SPDX-License-Identifier: MIT
/* ACPI PM1 and GPE0 / reset register, i8042 reset, POST and boot-marker ports. */
#include "devices/x86/power.h"

#include <stdio.h>
#include <string.h>

#include "devices/platform.h"

#define PM1_STS_PWRBTN 0x0100 /* also PWRBTN_EN, at the same bit of the enable register */
#define PM1_CNT_SCI_EN 0x0001
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_TYP_MASK 0x7
#define PM1_CNT_SLP_EN 0x2000
#define I8042_CMD_RESET 0xfe
#define MARKERS_LOGGED_MAX 64 /* a guest spinning on the port must not flood the log */

/* The SCI follows status AND enable, as a level (the FADT's SCI_INT is level-triggered). */
static void update_sci(struct power_devices *p)
{
	int level = (p->pm1_status & p->pm1_enable) || (p->gpe0_status & p->gpe0_enable);

	if (level != p->sci_level && p->events.sci) {
		p->sci_level = level;
		p->events.sci(p->events.ctx, level);
	}
}

void power_button_press(struct power_devices *p)
{
	pthread_mutex_lock(&p->lock);
	p->pm1_status |= PM1_STS_PWRBTN;
	update_sci(p);
	pthread_mutex_unlock(&p->lock);
}

void power_gpe_raise(struct power_devices *p, unsigned int gpe)
{
	if (gpe >= 8)
		return;
	pthread_mutex_lock(&p->lock);
	p->gpe0_status |= (uint8_t)(1u << gpe);
	update_sci(p);
	pthread_mutex_unlock(&p->lock);
}

void power_save(struct power_devices *p, struct power_state *st)
{
	pthread_mutex_lock(&p->lock);
	*st = (struct power_state){ p->pm1_status, p->pm1_enable, p->pm1_control, p->gpe0_status,
				    p->gpe0_enable };
	pthread_mutex_unlock(&p->lock);
}

void power_restore(struct power_devices *p, const struct power_state *st)
{
	pthread_mutex_lock(&p->lock);
	p->pm1_status = st->pm1_status;
	p->pm1_enable = st->pm1_enable;
	p->pm1_control = st->pm1_control & (uint16_t)~PM1_CNT_SLP_EN;
	p->gpe0_status = st->gpe0_status;
	p->gpe0_enable = st->gpe0_enable;
	update_sci(p);
	pthread_mutex_unlock(&p->lock);
}

/* PM1 event block: status (write 1 to clear) at offset 0, enable at offset 2. */
static void pm1_evt_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct power_devices *p = opaque;
	uint32_t both;

	pthread_mutex_lock(&p->lock);
	both = p->pm1_status | ((uint32_t)p->pm1_enable << 16);
	pthread_mutex_unlock(&p->lock);
	bus_store_le(data, len, both >> (offset * 8));
}

static void pm1_evt_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct power_devices *p = opaque;
	uint32_t v = (uint32_t)(bus_load_le(data, len) << (offset * 8));
	uint32_t mask = (uint32_t)(((1ull << (len * 8)) - 1) << (offset * 8));

	pthread_mutex_lock(&p->lock);
	if (mask & 0xffff)
		p->pm1_status &= (uint16_t) ~(v & mask);
	if (mask >> 16)
		p->pm1_enable = (uint16_t)((p->pm1_enable & ~(mask >> 16)) | ((v & mask) >> 16));
	update_sci(p);
	pthread_mutex_unlock(&p->lock);
}

/* GPE0 block: status (write 1 to clear) at offset 0, enable at offset 1, a byte each. */
static void gpe0_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct power_devices *p = opaque;
	uint16_t both;

	pthread_mutex_lock(&p->lock);
	both = (uint16_t)(p->gpe0_status | p->gpe0_enable << 8);
	pthread_mutex_unlock(&p->lock);
	bus_store_le(data, len, (uint64_t)both >> (offset * 8));
}

static void gpe0_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct power_devices *p = opaque;
	uint16_t v = (uint16_t)(bus_load_le(data, len) << (offset * 8));
	uint16_t mask = (uint16_t)(((1u << (len * 8)) - 1) << (offset * 8));

	pthread_mutex_lock(&p->lock);
	p->gpe0_status &= (uint8_t) ~(v & mask);
	if (mask >> 8)
		p->gpe0_enable = (uint8_t)((p->gpe0_enable & ~(mask >> 8)) | ((v & mask) >> 8));
	update_sci(p);
	pthread_mutex_unlock(&p->lock);
}

static void pm1_cnt_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct power_devices *p = opaque;

	pthread_mutex_lock(&p->lock);
	/* SCI_EN always reads 1: this machine has no legacy (non-ACPI) mode to leave */
	bus_store_le(data, len, (uint64_t)(p->pm1_control | PM1_CNT_SCI_EN) >> (offset * 8));
	pthread_mutex_unlock(&p->lock);
}

static void pm1_cnt_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct power_devices *p = opaque;
	uint16_t v;
	bool off;

	if (offset != 0 || len < 2)
		return; /* SLP_EN lives in the high byte: a partial write cannot sleep */
	v = (uint16_t)bus_load_le(data, 2);
	pthread_mutex_lock(&p->lock);
	p->pm1_control = v & (uint16_t)~PM1_CNT_SLP_EN; /* SLP_EN is write-only */
	off = (v & PM1_CNT_SLP_EN) &&
	      ((v >> PM1_CNT_SLP_TYP_SHIFT) & PM1_CNT_SLP_TYP_MASK) == PLATFORM_ACPI_S5_SLP_TYP;
	pthread_mutex_unlock(&p->lock);
	/* other sleep states are not offered in the DSDT; a request for one is ignored */
	if (off)
		p->events.poweroff(p->events.ctx);
}

static void read_zero(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	(void)opaque;
	(void)offset;
	memset(data, 0, len);
}

static void reset_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct power_devices *p = opaque;

	if (offset == 0 && bus_load_le(data, len) == PLATFORM_ACPI_RESET_VALUE)
		p->events.reset(p->events.ctx);
}

/*
 * i8042: reads report an empty controller (status 0: no output byte, input buffer free),
 * which is what reboot=k waits for. The FADT says there is no 8042, so Linux does not
 * probe it for a keyboard and we need no more of it.
 */
static void i8042_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct power_devices *p = opaque;

	if (offset == 0 && len == 1 && *(const uint8_t *)data == I8042_CMD_RESET)
		p->events.reset(p->events.ctx);
}

static void ignore_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	(void)opaque;
	(void)offset;
	(void)data;
	(void)len;
}

static void post_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct power_devices *p = opaque;

	(void)offset;
	memset(data, __atomic_load_n(&p->last_post_code, __ATOMIC_RELAXED), len);
}

static void post_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct power_devices *p = opaque;

	(void)offset;
	(void)len;
	/* Linux's io_delay writes here all through boot: atomics, no lock */
	__atomic_fetch_add(&p->post_writes, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&p->last_post_code, *(const uint8_t *)data, __ATOMIC_RELAXED);
}

static void marker_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct power_devices *p = opaque;
	struct timespec now;
	double ms;
	bool log;

	(void)offset;
	(void)len;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (double)(now.tv_sec - p->start.tv_sec) * 1e3 +
	     (double)(now.tv_nsec - p->start.tv_nsec) / 1e6;
	pthread_mutex_lock(&p->lock);
	log = p->markers_logged < MARKERS_LOGGED_MAX;
	if (log)
		p->markers_logged++;
	pthread_mutex_unlock(&p->lock);
	if (log)
		fprintf(stderr, "vmm: boot marker 0x%02x at %.3f ms\n", *(const uint8_t *)data, ms);
}

static const struct bus_device_ops pm1_evt_ops = { pm1_evt_read, pm1_evt_write };
static const struct bus_device_ops pm1_cnt_ops = { pm1_cnt_read, pm1_cnt_write };
static const struct bus_device_ops gpe0_ops = { gpe0_read, gpe0_write };
static const struct bus_device_ops reset_ops = { read_zero, reset_write };
static const struct bus_device_ops i8042_data_ops = { read_zero, ignore_write };
static const struct bus_device_ops i8042_cmd_ops = { read_zero, i8042_write };
static const struct bus_device_ops post_ops = { post_read, post_write };
static const struct bus_device_ops marker_ops = { read_zero, marker_write };

void power_init(struct power_devices *p, const struct power_events *events,
		const struct timespec *start)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	p->events = *events;
	p->start = *start;
}

int power_register(struct power_devices *p, struct bus *pio)
{
	int ret = 0;

	ret = ret
		      ?: bus_register(pio, PLATFORM_ACPI_PM1A_EVT_PORT, PLATFORM_ACPI_PM1A_EVT_LEN,
				      &pm1_evt_ops, p, "acpi-pm1-evt");
	ret = ret
		      ?: bus_register(pio, PLATFORM_ACPI_PM1A_CNT_PORT, PLATFORM_ACPI_PM1A_CNT_LEN,
				      &pm1_cnt_ops, p, "acpi-pm1-cnt");
	ret = ret
		      ?: bus_register(pio, PLATFORM_ACPI_GPE0_PORT, PLATFORM_ACPI_GPE0_LEN,
				      &gpe0_ops, p, "acpi-gpe0");
	ret = ret ?: bus_register(pio, PLATFORM_ACPI_RESET_PORT, 1, &reset_ops, p, "acpi-reset");
	ret = ret
		      ?: bus_register(pio, PLATFORM_I8042_DATA_PORT, 1, &i8042_data_ops, p,
				      "i8042-data");
	ret = ret ?: bus_register(pio, PLATFORM_I8042_CMD_PORT, 1, &i8042_cmd_ops, p, "i8042");
	ret = ret ?: bus_register(pio, PLATFORM_POST_PORT, 1, &post_ops, p, "post");
	ret = ret ?: bus_register(pio, PLATFORM_BOOT_MARKER_PORT, 1, &marker_ops, p, "boot-marker");
	return ret;
}
