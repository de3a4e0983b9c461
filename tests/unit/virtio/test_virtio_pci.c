/* SPDX-License-Identifier: MIT */
/*
 * The virtio-pci transport driven the way a hostile driver would: through ECAM and BAR 0
 * on real buses, with a stand-in device behind it and KVM replaced by a fake ioctl (no
 * ioeventfd can be bound, so notifications arrive as BAR writes).
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>

#include "capture.h"
#include "check_main.h"
#include "devices/platform.h"
#include "virtio/pci.h"

#define COMMON(field) offsetof(struct virtio_pci_common_cfg, field)

static struct bus pio, mmio;
static struct pci_bus pbus;
static struct irq_router router;
static struct guest_mem mem;
static struct virtio_device vdev;
static struct virtio_pci vp;
static uint64_t bar;
static int started, resets;
static bool fault_during_start; /* dev_queue_start reports a device fault, as a worker may */

static int fake_ioctl(int fd, unsigned long request, void *arg)
{
	(void)fd;
	(void)arg;
	return request == KVM_CHECK_EXTENSION ? 1024 : 0;
}

static int dev_queue_start(struct virtio_device *v, unsigned int q, int kick_fd)
{
	(void)q, (void)kick_fd;
	started++;
	if (fault_during_start)
		v->transport->needs_reset(v);
	return 0;
}

static void dev_reset(struct virtio_device *v)
{
	(void)v;
	resets++;
}

static uint8_t dev_config[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

static const struct virtio_device_ops dev_ops = {
	.queue_start = dev_queue_start,
	.reset = dev_reset,
};

static void ecam_write16(unsigned int reg, uint16_t v)
{
	uint64_t at = PLATFORM_PCI_ECAM_START + ((uint64_t)vp.pci.slot << 15) + reg;

	ck_assert(bus_write(&mmio, at, &v, 2));
}

static void bar_write(uint64_t offset, uint64_t v, unsigned int len)
{
	ck_assert(bus_write(&mmio, bar + offset, &v, len));
}

static uint64_t bar_read(uint64_t offset, unsigned int len)
{
	uint64_t v = 0;

	ck_assert(bus_read(&mmio, bar + offset, &v, len));
	return v;
}

static uint8_t status(void)
{
	return (uint8_t)bar_read(COMMON(device_status), 1);
}

static void setup(void)
{
	memset(&vdev, 0, sizeof(vdev));
	started = resets = 0;
	fault_during_start = false;
	bus_init(&pio, "port I/O");
	bus_init(&mmio, "MMIO");
	ck_assert_int_eq(guest_mem_alloc(&mem, 1 << 20), 0);
	ck_assert_int_eq(irq_router_init_with(&router, -1, fake_ioctl), 0);
	pci_bus_init(&pbus, 0, NULL, NULL);
	vdev.name = "virtio-test";
	vdev.device_id = 2;
	vdev.num_queues = 1;
	vdev.queue_max_size = 8;
	vdev.config = dev_config;
	vdev.config_size = 8;
	vdev.mem = &mem;
	vdev.ops = &dev_ops;
	ck_assert_int_eq(virtio_pci_init(&vp, &vdev, &pbus, &router, -1), 0);
	ck_assert_int_eq(pci_bus_register(&pbus, &pio, &mmio), 0);
	ecam_write16(PCI_CFG_COMMAND, PCI_CMD_MEM | PCI_CMD_BUS_MASTER);
	bar = pci_device_bar_addr(&vp.pci, 0);
	ck_assert_uint_ne(bar, 0);
}

static void teardown(void)
{
	irq_router_destroy(&router);
	guest_mem_free(&mem);
}

/* The driver's side of set-up up to FEATURES_OK, queue 0 at desc (size 8). */
static void negotiate(uint64_t desc)
{
	bar_write(COMMON(device_status), 0, 1);
	ck_assert_uint_eq(status(), 0);
	bar_write(COMMON(device_status), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER, 1);
	bar_write(COMMON(guest_feature_select), 1, 4);
	bar_write(COMMON(guest_feature), 1, 4); /* VIRTIO_F_VERSION_1 */
	bar_write(COMMON(device_status),
		  VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			  VIRTIO_CONFIG_S_FEATURES_OK,
		  1);
	ck_assert_uint_eq(status() & VIRTIO_CONFIG_S_FEATURES_OK, VIRTIO_CONFIG_S_FEATURES_OK);
	bar_write(COMMON(queue_select), 0, 2);
	bar_write(COMMON(queue_desc_lo), desc, 8);
	bar_write(COMMON(queue_avail_lo), 0x1000, 8);
	bar_write(COMMON(queue_used_lo), 0x2000, 8);
	bar_write(COMMON(queue_enable), 1, 2);
}

static void driver_ok(void)
{
	bar_write(COMMON(device_status),
		  VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			  VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK,
		  1);
}

/*
 * Rings outside guest RAM: NEEDS_RESET, every round of a driver that resets and tries
 * again, one log line in all; and a reset really clears the state, so good rings work.
 */
START_TEST(test_unusable_queues_logged_once)
{
	FILE *f;
	int saved = capture_stderr(&f);

	for (int round = 0; round < 50; round++) {
		negotiate(0xffff000000000000ull + 0x1000 * (uint64_t)round);
		driver_ok();
		ck_assert_uint_eq(status() & VIRTIO_CONFIG_S_NEEDS_RESET,
				  VIRTIO_CONFIG_S_NEEDS_RESET);
		ck_assert_int_eq(started, 0);
	}
	/* a ring straddling the end of RAM is no better */
	negotiate((1 << 20) - 64);
	driver_ok();
	ck_assert_uint_eq(status() & VIRTIO_CONFIG_S_NEEDS_RESET, VIRTIO_CONFIG_S_NEEDS_RESET);
	ck_assert_int_eq(captured_lines(f, saved, "unusable queues"), 1);

	negotiate(0x3000);
	driver_ok();
	ck_assert_uint_eq(status() & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
	ck_assert_uint_eq(status() & VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_CONFIG_S_DRIVER_OK);
	ck_assert_int_eq(started, 1);
}
END_TEST

/* The device's own NEEDS_RESET: logged once per device, cleared by every reset. */
START_TEST(test_device_fault_logged_once)
{
	FILE *f;
	int saved = capture_stderr(&f);

	for (int round = 0; round < 50; round++) {
		negotiate(0x3000);
		driver_ok();
		ck_assert_uint_eq(status() & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
		vdev.transport->needs_reset(&vdev);
		vdev.transport->needs_reset(&vdev);
		ck_assert_uint_eq(status() & VIRTIO_CONFIG_S_NEEDS_RESET,
				  VIRTIO_CONFIG_S_NEEDS_RESET);
		/* the driver cannot clear it except by resetting */
		bar_write(COMMON(device_status), 0x0f, 1);
		ck_assert_uint_eq(status() & VIRTIO_CONFIG_S_NEEDS_RESET,
				  VIRTIO_CONFIG_S_NEEDS_RESET);
	}
	ck_assert_int_eq(captured_lines(f, saved, "broke the virtqueue rules"), 1);
	bar_write(COMMON(device_status), 0, 1);
	ck_assert_uint_eq(status(), 0);
	ck_assert_int_ge(resets, 50);
}
END_TEST

/*
 * Garbage everywhere in BAR 0 and in config space: nothing crashes, identity registers and
 * the device's configuration stay what they were, and a reset brings the device back.
 */
/*
 * The status game: a driver clears DRIVER_OK (0x0b) to reach the queue registers of a
 * running device, shrinks the queue to one entry with its used ring at the end of RAM,
 * sets DRIVER_OK again, clears it once more and grows the queue back. Clearing a bit must
 * change nothing but NEEDS_RESET, the queue fields must stay as they were started, and
 * the device must not be started a second time.
 */
START_TEST(test_status_bits_cannot_be_cleared)
{
	FILE *f;
	int saved = capture_stderr(&f);
	uint8_t running = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			  VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK;

	negotiate(0x3000);
	driver_ok();
	ck_assert_int_eq(started, 1);
	ck_assert_uint_eq(vdev.queues[0].num, 8);

	for (int round = 0; round < 3; round++) {
		bar_write(COMMON(device_status), 0x0b, 1);
		ck_assert_uint_eq(status(), running | VIRTIO_CONFIG_S_NEEDS_RESET);
		bar_write(COMMON(queue_select), 0, 2);
		bar_write(COMMON(queue_size), 1, 2);
		bar_write(COMMON(queue_used_lo), (1 << 20) - 16, 4);
		bar_write(COMMON(queue_desc_lo), 0xdead000, 8);
		driver_ok();
		bar_write(COMMON(queue_size), 8, 2);
		/* read-back shows what the queue really uses */
		ck_assert_uint_eq(bar_read(COMMON(queue_size), 2), 8);
		ck_assert_uint_eq(bar_read(COMMON(queue_used_lo), 4), 0x2000);
		ck_assert_uint_eq(bar_read(COMMON(queue_desc_lo), 4), 0x3000);
	}
	ck_assert_int_eq(started, 1);
	ck_assert_uint_eq(vdev.queues[0].num, 8);
	ck_assert_uint_eq(vdev.queues[0].used_gpa, 0x2000);
	ck_assert_int_eq(captured_lines(f, saved, "clear device status bits"), 1);

	/* only a reset (a write of 0) takes bits away, and then set-up works again */
	bar_write(COMMON(device_status), 0, 1);
	ck_assert_uint_eq(status(), 0);
	negotiate(0x3000);
	driver_ok();
	ck_assert_uint_eq(status(), running);
	ck_assert_int_eq(started, 2);
}
END_TEST

/* Once the driver enables a queue, its fields are frozen, even before DRIVER_OK. */
START_TEST(test_enabled_queue_is_frozen)
{
	negotiate(0x3000);
	bar_write(COMMON(queue_size), 2, 2);
	bar_write(COMMON(queue_desc_lo), 0x5000, 8);
	bar_write(COMMON(queue_avail_lo), 0x6000, 8);
	bar_write(COMMON(queue_used_lo), 0x7000, 8);
	ck_assert_uint_eq(bar_read(COMMON(queue_size), 2), 8);
	ck_assert_uint_eq(bar_read(COMMON(queue_desc_lo), 8), 0x3000);
	ck_assert_uint_eq(bar_read(COMMON(queue_avail_lo), 8), 0x1000);
	ck_assert_uint_eq(bar_read(COMMON(queue_used_lo), 8), 0x2000);
}
END_TEST

/*
 * A device thread may set NEEDS_RESET while a vCPU thread writes the status (here: from
 * inside queue start, between the transport's read of the old status and its update).
 * The driver's write must not wipe the device's bit out.
 */
START_TEST(test_device_needs_reset_survives_status_write)
{
	FILE *f;
	int saved = capture_stderr(&f);

	fault_during_start = true;
	negotiate(0x3000);
	driver_ok();
	ck_assert_int_eq(started, 1);
	ck_assert_uint_eq(status() & VIRTIO_CONFIG_S_NEEDS_RESET, VIRTIO_CONFIG_S_NEEDS_RESET);
	ck_assert_int_eq(captured_lines(f, saved, "broke the virtqueue rules"), 1);
}
END_TEST

START_TEST(test_garbage_writes)
{
	uint32_t x = 0x12345678;
	uint64_t ecam = PLATFORM_PCI_ECAM_START + ((uint64_t)vp.pci.slot << 15);
	FILE *f;
	int saved = capture_stderr(&f);

	for (uint64_t off = 0; off < 0x8000; off += 4) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		/* stay clear of queue addresses inside RAM: the stand-in device has no rings */
		if (off == COMMON(queue_desc_hi) || off == COMMON(queue_avail_hi) ||
		    off == COMMON(queue_used_hi))
			bar_write(off, x | 0x80000000u, 4);
		else
			bar_write(off, x, 4);
		(void)bar_read(off, 4);
	}
	for (unsigned int reg = 0; reg < 256; reg += 4) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		if (reg == PCI_CFG_BAR0 || reg == PCI_CFG_BAR0 + 4 || reg == PCI_CFG_COMMAND)
			continue; /* keep BAR 0 where the test reaches it */
		ck_assert(bus_write(&mmio, ecam + reg, &x, 4));
	}
	captured_lines(f, saved, "");
	ck_assert_uint_eq(pci_device_config_get(&vp.pci, PCI_CFG_VENDOR_ID, 2), 0x1af4);
	ck_assert_uint_eq(pci_device_config_get(&vp.pci, PCI_CFG_DEVICE_ID, 2), 0x1042);
	ck_assert_uint_eq(bar_read(0x2000, 4), 0x04030201); /* random writes changed nothing */
	negotiate(0x3000);
	driver_ok();
	ck_assert_uint_eq(status() & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
}
END_TEST

/* The transport's copy of the device's configuration space (BAR 0 + 0x2000). */
START_TEST(test_device_config)
{
	const uint64_t dev = 0x2000;

	ck_assert_uint_eq(bar_read(dev, 4), 0x04030201);
	ck_assert_uint_eq(bar_read(dev + 6, 2), 0x0807);
	ck_assert_uint_eq(bar_read(dev + 4, 4), 0x08070605);
	ck_assert_uint_eq(bar_read(dev + 1, 1), 2);
	/* across the end, past it: zeros */
	ck_assert_uint_eq(bar_read(dev + 6, 4), 0);
	ck_assert_uint_eq(bar_read(dev + 8, 1), 0);
	ck_assert_uint_eq(bar_read(dev + 0x800, 4), 0);
	/* read-only: writes are ignored */
	bar_write(dev, 0xffffffff, 4);
	bar_write(dev + 7, 0xff, 1);
	ck_assert_uint_eq(bar_read(dev, 8), 0x0807060504030201ull);
	ck_assert_uint_eq(dev_config[0], 1);
}
END_TEST

/*
 * Snapshots: a live device is held still (its reset op), saved, and started again; a fresh
 * transport restored from that state decodes the same BAR, reads back the driver's
 * set-up, starts the queue once with its ring indices, and a bad queue size is refused.
 */
START_TEST(test_snapshot_round_trip)
{
	struct snap_writer w;
	struct snap_reader r;
	struct virtio_pci_state st;
	const void *data;
	size_t len;
	char err[200];

	negotiate(0);
	driver_ok();
	ck_assert_int_eq(started, 1);
	vdev.queues[0].last_avail_idx = 5;
	vdev.queues[0].used_idx = 4;
	ck_assert(virtio_pci_live(&vp));
	resets = 0;
	ck_assert(virtio_pci_quiesce(&vp));
	ck_assert_int_eq(resets, 1);
	snap_writer_init(&w);
	ck_assert_int_eq(virtio_pci_save(&vp, &w, 3), 0);
	ck_assert_int_eq(snap_finish(&w), 0);
	virtio_pci_unquiesce(&vp);
	ck_assert_int_eq(started, 2);

	teardown();
	setup();
	ecam_write16(PCI_CFG_COMMAND, 0); /* the restore turns decoding back on */
	ck_assert_int_eq(snap_reader_open(&r, w.buf, w.len, err, sizeof(err)), 0);
	ck_assert_int_eq(virtio_pci_restore(&vp, &r, 3, err, sizeof(err)), 0);
	ck_assert_int_eq(started, 1);
	ck_assert_uint_eq(status() & VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_CONFIG_S_DRIVER_OK);
	ck_assert_uint_eq(bar_read(COMMON(queue_avail_lo), 8), 0x1000);
	ck_assert_uint_eq(vdev.queues[0].last_avail_idx, 5);
	ck_assert_uint_eq(vdev.queues[0].used_idx, 4);
	ck_assert(vdev.queues[0].enabled);

	/* a queue size no driver could have set: refused before anything changes */
	ck_assert_int_eq(snap_find(&r, SNAP_VIRTIO, 3, &data, &len), 0);
	memcpy(&st, data, sizeof(st));
	st.queues[0].size = 3;
	snap_writer_free(&w);
	snap_writer_init(&w);
	snap_section(&w, SNAP_VIRTIO, 0, &st, sizeof(st));
	ck_assert_int_eq(snap_finish(&w), 0);
	ck_assert_int_eq(snap_reader_open(&r, w.buf, w.len, err, sizeof(err)), 0);
	ck_assert_int_eq(virtio_pci_restore(&vp, &r, 0, err, sizeof(err)), -EINVAL);
	snap_writer_free(&w);
}
END_TEST

/*
 * A device's configuration change (virtio-net's announce): a new config_generation each
 * time, and once the driver is up an INTx (MSI-X is off) with ISR bit 1, which reading
 * ISR acknowledges. Before DRIVER_OK there is nobody to interrupt.
 */
START_TEST(test_config_change_interrupt)
{
	uint8_t gen = (uint8_t)bar_read(COMMON(config_generation), 1);
	uint64_t intx = vp.intx_raised;

	negotiate(0x3000);
	vdev.transport->notify_config(&vdev);
	ck_assert_uint_eq(bar_read(COMMON(config_generation), 1), (uint8_t)(gen + 1));
	ck_assert_uint_eq(bar_read(0x1000, 1), 0);
	ck_assert_uint_eq(vp.intx_raised, intx);
	driver_ok();
	vdev.transport->notify_config(&vdev);
	ck_assert_uint_eq(bar_read(COMMON(config_generation), 1), (uint8_t)(gen + 2));
	ck_assert_uint_eq(vp.intx_raised, intx + 1);
	ck_assert_uint_eq(bar_read(0x1000, 1), VIRTIO_PCI_ISR_CONFIG);
	ck_assert_uint_eq(bar_read(0x1000, 1), 0);
	ck_assert_uint_eq(status() & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("virtio_pci");
	TCase *tc = tcase_create("virtio_pci");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_unusable_queues_logged_once);
	tcase_add_test(tc, test_device_fault_logged_once);
	tcase_add_test(tc, test_garbage_writes);
	tcase_add_test(tc, test_device_config);
	tcase_add_test(tc, test_status_bits_cannot_be_cleared);
	tcase_add_test(tc, test_enabled_queue_is_frozen);
	tcase_add_test(tc, test_device_needs_reset_survives_status_write);
	tcase_add_test(tc, test_snapshot_round_trip);
	tcase_add_test(tc, test_config_change_interrupt);
	suite_add_tcase(s, tc);
	return s;
}
