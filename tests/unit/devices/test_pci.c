/* SPDX-License-Identifier: MIT */
/*
 * PCI bus: configuration space as a guest sees it through CF8/CFC and ECAM, BAR sizing,
 * firmware-style assignment and decoding, the capability list, INTx and BAR routing.
 * Every access goes through the port and MMIO buses, as a vCPU exit would.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "devices/bus.h"
#include "devices/pci.h"
#include "devices/platform.h"

#define GiB (1ull << 30)
#define MMIO64_BASE (8 * GiB)
#define MAX_EVENTS 64

struct remap {
	struct pci_device *dev;
	unsigned int bar;
	uint64_t old_addr, new_addr;
};

struct irq_event {
	unsigned int gsi;
	bool level;
};

static struct bus pio, mmio;
static struct pci_bus pci;
static struct remap remaps[MAX_EVENTS];
static unsigned int nr_remaps;
static struct irq_event irqs[MAX_EVENTS];
static unsigned int nr_irqs;
static unsigned int config_writes;
static unsigned int last_cw_offset, last_cw_len;

/* The last BAR access a test device saw. */
static struct {
	struct pci_device *dev;
	unsigned int bar;
	uint64_t offset;
	unsigned int len;
	uint64_t value;
	unsigned int reads, writes;
} bar_access;

static void on_remap(struct pci_device *dev, unsigned int bar, uint64_t old_addr, uint64_t new_addr)
{
	ck_assert_uint_lt(nr_remaps, MAX_EVENTS);
	remaps[nr_remaps++] = (struct remap){ dev, bar, old_addr, new_addr };
}

static void on_config_write(struct pci_device *dev, unsigned int offset, unsigned int len)
{
	(void)dev;
	config_writes++;
	last_cw_offset = offset;
	last_cw_len = len;
	ck_assert_uint_le(offset + len, PCI_CONFIG_SIZE);
	/* Raw accessors are usable here: the bus mutex is held, and not re-taken. */
	(void)pci_device_config_get(dev, PCI_CFG_COMMAND, 2);
}

static void on_bar_read(struct pci_device *dev, unsigned int bar, uint64_t offset, void *data,
			unsigned int len)
{
	bar_access.dev = dev;
	bar_access.bar = bar;
	bar_access.offset = offset;
	bar_access.len = len;
	bar_access.reads++;
	memset(data, 0x5a, len);
}

static void on_bar_write(struct pci_device *dev, unsigned int bar, uint64_t offset,
			 const void *data, unsigned int len)
{
	bar_access.dev = dev;
	bar_access.bar = bar;
	bar_access.offset = offset;
	bar_access.len = len;
	bar_access.value = 0;
	memcpy(&bar_access.value, data, len);
	bar_access.writes++;
}

static const struct pci_device_ops test_ops = {
	.bar_remap = on_remap,
	.config_write = on_config_write,
	.bar_read = on_bar_read,
	.bar_write = on_bar_write,
};

static void on_set_irq(void *ctx, unsigned int gsi, bool level)
{
	ck_assert_ptr_eq(ctx, &pci);
	ck_assert_uint_lt(nr_irqs, MAX_EVENTS);
	irqs[nr_irqs++] = (struct irq_event){ gsi, level };
}

/* Under garbage there are many remaps: check each, count them, keep no log. */
static unsigned int garbage_remaps;

static void on_remap_count(struct pci_device *dev, unsigned int bar, uint64_t old_addr,
			   uint64_t new_addr)
{
	ck_assert_uint_lt(bar, PCI_NUM_BARS);
	ck_assert_uint_ne(old_addr, new_addr);
	ck_assert_uint_eq(dev->bars[bar].decoded, new_addr);
	ck_assert(new_addr == 0 || new_addr >= PLATFORM_PCI_IO_START);
	ck_assert_uint_lt(new_addr, MMIO64_BASE + PLATFORM_PCI_MMIO64_SIZE);
	garbage_remaps++;
}

static const struct pci_device_ops garbage_ops = {
	.bar_remap = on_remap_count,
	.config_write = on_config_write,
	.bar_read = on_bar_read,
	.bar_write = on_bar_write,
};

static void setup_with(uint64_t mmio64_base)
{
	bus_init(&pio, "pio");
	bus_init(&mmio, "mmio");
	pci_bus_init(&pci, mmio64_base, on_set_irq, &pci);
	ck_assert_int_eq(pci_bus_register(&pci, &pio, &mmio), 0);
	nr_remaps = nr_irqs = config_writes = 0;
	memset(&bar_access, 0, sizeof(bar_access));
}

static void setup(void)
{
	setup_with(MMIO64_BASE);
}

/* A virtio-like device: vendor 0x1af4, device 0x1042 (block), class 0x018000. */
static void test_device(struct pci_device *dev)
{
	pci_device_init(dev, 0x1af4, 0x1042, 0x018000, 0x1af4, 0x0002, 0x01, &test_ops, NULL);
}

/* ---- guest-side config accesses ---- */

static uint64_t pio_read(uint16_t port, unsigned int len)
{
	uint64_t v = 0;

	bus_read(&pio, port, &v, len);
	return v;
}

static void pio_write(uint16_t port, uint64_t v, unsigned int len)
{
	bus_write(&pio, port, &v, len);
}

static uint32_t cf8(unsigned int slot, unsigned int reg)
{
	return 0x80000000u | slot << 11 | (reg & 0xfc);
}

static uint32_t cfc_read(unsigned int slot, unsigned int reg, unsigned int len)
{
	pio_write(PLATFORM_PCI_CONFIG_ADDRESS_PORT, cf8(slot, reg), 4);
	return pio_read(PLATFORM_PCI_CONFIG_DATA_PORT + (reg & 3), len);
}

static void cfc_write(unsigned int slot, unsigned int reg, uint32_t v, unsigned int len)
{
	pio_write(PLATFORM_PCI_CONFIG_ADDRESS_PORT, cf8(slot, reg), 4);
	pio_write(PLATFORM_PCI_CONFIG_DATA_PORT + (reg & 3), v, len);
}

static uint64_t ecam_addr(unsigned int slot, unsigned int fn, unsigned int reg)
{
	return PLATFORM_PCI_ECAM_START + (slot << 15 | fn << 12 | reg);
}

static uint64_t ecam_read(unsigned int slot, unsigned int reg, unsigned int len)
{
	uint64_t v = 0;

	bus_read(&mmio, ecam_addr(slot, 0, reg), &v, len);
	return v;
}

static void ecam_write(unsigned int slot, unsigned int reg, uint64_t v, unsigned int len)
{
	bus_write(&mmio, ecam_addr(slot, 0, reg), &v, len);
}

static uint32_t bar_reg(unsigned int i)
{
	return PCI_CFG_BAR0 + 4 * i;
}

/* What a guest learns from sizing a 32-bit BAR register: write ~0, read, restore. */
static uint32_t size_probe(unsigned int slot, unsigned int reg)
{
	uint32_t orig = ecam_read(slot, reg, 4), mask;

	ecam_write(slot, reg, 0xffffffff, 4);
	mask = ecam_read(slot, reg, 4);
	ecam_write(slot, reg, orig, 4);
	ck_assert_uint_eq(ecam_read(slot, reg, 4), orig);
	return mask;
}

/* ---- identity and read-only fields ---- */

START_TEST(test_host_bridge)
{
	ck_assert_uint_eq(cfc_read(0, PCI_CFG_VENDOR_ID, 2), PCI_HOST_BRIDGE_VENDOR);
	ck_assert_uint_eq(cfc_read(0, PCI_CFG_DEVICE_ID, 2), PCI_HOST_BRIDGE_DEVICE);
	ck_assert_uint_eq(cfc_read(0, PCI_CFG_REVISION, 4) >> 8, 0x060000);
	ck_assert_uint_eq(cfc_read(0, PCI_CFG_HEADER_TYPE, 1), 0);
	ck_assert_uint_eq(cfc_read(0, PCI_CFG_STATUS, 2), 0);
	ck_assert_uint_eq(cfc_read(0, PCI_CFG_INTERRUPT_PIN, 1), 0);
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++)
		ck_assert_uint_eq(size_probe(0, bar_reg(i)), 0);
}
END_TEST

START_TEST(test_identity)
{
	struct pci_device dev;
	int slot;

	test_device(&dev);
	slot = pci_bus_add_device(&pci, &dev);
	ck_assert_int_eq(slot, 1);
	ck_assert_uint_eq(cfc_read(slot, 0, 4), 0x10421af4);
	ck_assert_uint_eq(cfc_read(slot, PCI_CFG_REVISION, 4), 0x01800001);
	ck_assert_uint_eq(cfc_read(slot, PCI_CFG_SUBSYS_VENDOR_ID, 4), 0x00021af4);
	ck_assert_uint_eq(cfc_read(slot, PCI_CFG_COMMAND, 2), 0);	/* decoding off */
	ck_assert_uint_eq(cfc_read(slot, PCI_CFG_INTERRUPT_PIN, 1), 1); /* INTA# */
	ck_assert_uint_eq(cfc_read(slot, PCI_CFG_INTERRUPT_LINE, 1),
			  PLATFORM_PCI_INTX_GSI_BASE + slot % 4);
	ck_assert_uint_eq(dev.gsi, PLATFORM_PCI_INTX_GSI_BASE + slot % 4);
	ck_assert_uint_eq(size_probe(slot, PCI_CFG_ROM), 0); /* no expansion ROM */
	ck_assert_int_eq(pci_bus_add_device(&pci, &dev), -EBUSY);
	ck_assert_int_eq(pci_bus_add_device(&pci, NULL), -EINVAL);
}
END_TEST

/* Write all-ones to every byte; only the writable bits may change. */
START_TEST(test_read_only_fields)
{
	static const uint8_t cap[8] = { 0x09, 0, 8, 1, 2, 3, 4, 5 };
	struct pci_device dev;
	uint32_t before[64];
	int slot;

	test_device(&dev);
	ck_assert_int_eq(pci_device_add_bar(&dev, 0, 0x1000, PCI_BAR_MEM32), 0);
	ck_assert_int_ge(pci_device_add_capability(&dev, cap, sizeof(cap), NULL), 0x40);
	slot = pci_bus_add_device(&pci, &dev);
	for (unsigned int r = 0; r < 256; r += 4)
		before[r / 4] = ecam_read(slot, r, 4);
	for (unsigned int w = 1; w <= 4; w *= 2) {
		for (unsigned int r = 0; r < 256; r += w)
			cfc_write(slot, r, 0xffffffff, w);
	}
	for (unsigned int r = 0; r < 256; r += 4) {
		uint32_t now = ecam_read(slot, r, 4);

		switch (r) {
		case PCI_CFG_COMMAND: /* command: IO, MEM, BUS_MASTER, INTX_DISABLE; status as is */
			ck_assert_uint_eq(now, (before[r / 4] & 0xffff0000) | 0x0407);
			break;
		case PCI_CFG_CACHE_LINE_SIZE:
			ck_assert_uint_eq(now, before[r / 4] | 0xff);
			break;
		case PCI_CFG_BAR0:
			ck_assert_uint_eq(now, 0xfffff000);
			break;
		case PCI_CFG_INTERRUPT_LINE:
			ck_assert_uint_eq(now, before[r / 4] | 0xff);
			break;
		default:
			ck_assert_msg(now == before[r / 4], "register 0x%02x: 0x%08x -> 0x%08x", r,
				      before[r / 4], now);
		}
	}
	ck_assert_uint_eq(ecam_read(slot, PCI_CFG_STATUS, 2), PCI_STS_CAP_LIST);
}
END_TEST

/* ---- BARs ---- */

START_TEST(test_bar_sizing)
{
	struct pci_device dev;
	int slot;

	test_device(&dev);
	ck_assert_int_eq(pci_device_add_bar(&dev, 0, 0x4000, PCI_BAR_MEM32), 0);
	ck_assert_int_eq(pci_device_add_bar(&dev, 1, 64, PCI_BAR_IO), 0);
	ck_assert_int_eq(pci_device_add_bar(&dev, 2, 0x100000, PCI_BAR_MEM64 | PCI_BAR_PREFETCH),
			 0);
	ck_assert_int_eq(pci_device_add_bar(&dev, 4, 16ull * GiB, PCI_BAR_MEM64), 0);
	slot = pci_bus_add_device(&pci, &dev);
	ck_assert_int_gt(slot, 0);

	ck_assert_uint_eq(size_probe(slot, bar_reg(0)), 0xffffc000);
	ck_assert_uint_eq(size_probe(slot, bar_reg(1)), 0xffffffc1);
	ck_assert_uint_eq(size_probe(slot, bar_reg(2)), 0xfff0000c);
	ck_assert_uint_eq(size_probe(slot, bar_reg(3)), 0xffffffff);
	ck_assert_uint_eq(size_probe(slot, bar_reg(4)), 0x00000004);
	ck_assert_uint_eq(size_probe(slot, bar_reg(5)), 0xfffffffc);

	/* What the guest computes from those masks. */
	ck_assert_uint_eq(~(size_probe(slot, bar_reg(0)) & ~0xfu) + 1, 0x4000);
	ck_assert_uint_eq((uint16_t)(~(size_probe(slot, bar_reg(1)) & ~0x3u) + 1), 64);
	ck_assert_uint_eq(~(((uint64_t)size_probe(slot, bar_reg(5)) << 32 |
			     (size_probe(slot, bar_reg(4)) & ~0xfu))) +
				  1,
			  16ull * GiB);
	/* Nothing was decoded, so nothing was remapped. */
	ck_assert_uint_eq(nr_remaps, 0);
}
END_TEST

START_TEST(test_bar_add_errors)
{
	struct pci_device dev;

	test_device(&dev);
	ck_assert_int_eq(pci_device_add_bar(&dev, 6, 0x1000, PCI_BAR_MEM32), -EINVAL);
	ck_assert_int_eq(pci_device_add_bar(&dev, 5, 0x1000, PCI_BAR_MEM64), -EINVAL);
	ck_assert_int_eq(pci_device_add_bar(&dev, 0, 0x1800, PCI_BAR_MEM32), -EINVAL);
	ck_assert_int_eq(pci_device_add_bar(&dev, 0, 0, PCI_BAR_MEM32), -EINVAL);
	ck_assert_int_eq(pci_device_add_bar(&dev, 0, 8, PCI_BAR_MEM32), -EINVAL);
	ck_assert_int_eq(pci_device_add_bar(&dev, 0, 4ull * GiB, PCI_BAR_MEM32), -EINVAL);
	ck_assert_int_eq(pci_device_add_bar(&dev, 0, 2, PCI_BAR_IO), -EINVAL);
	ck_assert_int_eq(pci_device_add_bar(&dev, 0, 512, PCI_BAR_IO), -EINVAL);
	ck_assert_int_eq(pci_device_add_bar(&dev, 0, 16, PCI_BAR_IO | PCI_BAR_PREFETCH), -EINVAL);
	ck_assert_int_eq(pci_device_add_bar(&dev, 0, 16, PCI_BAR_IO | PCI_BAR_MEM32), -EINVAL);
	ck_assert_int_eq(pci_device_add_bar(&dev, 0, 16, 0), -EINVAL);
	ck_assert_int_eq(pci_device_add_bar(&dev, 0, 16, PCI_BAR_PREFETCH), -EINVAL);
	ck_assert_int_eq(pci_device_add_bar(&dev, 0, 16, 0x100 | PCI_BAR_MEM32), -EINVAL);
	ck_assert_int_eq(pci_device_add_bar(NULL, 0, 16, PCI_BAR_MEM32), -EINVAL);

	ck_assert_int_eq(pci_device_add_bar(&dev, 1, 0x1000, PCI_BAR_MEM64), 0);
	ck_assert_int_eq(pci_device_add_bar(&dev, 1, 0x1000, PCI_BAR_MEM32), -EINVAL);
	ck_assert_int_eq(pci_device_add_bar(&dev, 2, 0x1000, PCI_BAR_MEM32), -EINVAL); /* upper */
	ck_assert_int_eq(pci_device_add_bar(&dev, 0, 0x1000, PCI_BAR_MEM64), -EINVAL);
	ck_assert_int_eq(pci_device_add_bar(&dev, 0, 4, PCI_BAR_IO), 0);
	ck_assert_int_eq(pci_device_add_bar(&dev, 3, 256, PCI_BAR_IO), 0);
	ck_assert_int_eq(pci_device_add_bar(&dev, 4, 1ull << 63, PCI_BAR_MEM64), 0);
	/* Valid, but no window holds 2^63 bytes. */
	ck_assert_int_eq(pci_bus_add_device(&pci, &dev), -ENOSPC);
}
END_TEST

static bool inside(uint64_t addr, uint64_t size, uint64_t start, uint64_t len)
{
	return addr >= start && addr + size <= start + len;
}

/* Every BAR of every device: aligned, in its window, and no two overlap. */
START_TEST(test_firmware_assignment)
{
	static struct pci_device devs[8];
	static const struct {
		unsigned int index;
		uint64_t size;
		unsigned int flags;
	} layout[] = {
		{ 0, 0x1000, PCI_BAR_MEM32 },
		{ 1, 32, PCI_BAR_IO },
		{ 2, 0x4000, PCI_BAR_MEM64 | PCI_BAR_PREFETCH },
		{ 4, 0x100000, PCI_BAR_MEM32 },
		{ 5, 4, PCI_BAR_IO },
	};
	uint64_t addr[8][PCI_NUM_BARS] = { { 0 } };

	for (unsigned int d = 0; d < 8; d++) {
		test_device(&devs[d]);
		/* Vary the order of sizes so alignment gaps appear. */
		for (unsigned int k = 0; k < sizeof(layout) / sizeof(layout[0]); k++) {
			uint64_t size = layout[k].size << (d % 3);

			if ((layout[k].flags & PCI_BAR_IO) && size > PCI_BAR_IO_MAX_SIZE)
				size = PCI_BAR_IO_MAX_SIZE;
			ck_assert_int_eq(pci_device_add_bar(&devs[d], layout[k].index, size,
							    layout[k].flags),
					 0);
		}
		ck_assert_int_eq(pci_bus_add_device(&pci, &devs[d]), (int)d + 1);
	}
	for (unsigned int d = 0; d < 8; d++) {
		for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
			const struct pci_bar *b = &devs[d].bars[i];
			uint64_t a;

			if (!b->size)
				continue;
			a = ecam_read(d + 1, bar_reg(i), 4);
			if (b->flags & PCI_BAR_IO) {
				ck_assert_uint_eq(a & 1, 1);
				a &= ~3ull;
				ck_assert(inside(a, b->size, PLATFORM_PCI_IO_START,
						 PLATFORM_PCI_IO_END + 1 - PLATFORM_PCI_IO_START));
			} else if (b->flags & PCI_BAR_MEM64) {
				ck_assert_uint_eq(a & 0xf, 0xc);
				a = (a & ~0xfull) | ecam_read(d + 1, bar_reg(i + 1), 4) << 32;
				ck_assert(
					inside(a, b->size, MMIO64_BASE, PLATFORM_PCI_MMIO64_SIZE));
			} else {
				ck_assert_uint_eq(a & 0xf, 0);
				a &= ~0xfull;
				ck_assert(inside(a, b->size, PLATFORM_PCI_MMIO32_START,
						 PLATFORM_PCI_MMIO32_SIZE));
			}
			ck_assert_uint_eq(a % b->size, 0);
			ck_assert_uint_ne(a, 0);
			addr[d][i] = a;
			for (unsigned int e = 0; e <= d; e++) {
				for (unsigned int j = 0; j < PCI_NUM_BARS; j++) {
					const struct pci_bar *o = &devs[e].bars[j];

					if ((e == d && j == i) || !addr[e][j] ||
					    !(o->flags & PCI_BAR_IO) != !(b->flags & PCI_BAR_IO))
						continue;
					ck_assert(addr[e][j] + o->size <= a ||
						  a + b->size <= addr[e][j]);
				}
			}
		}
		/* Decoding stays off until the guest turns it on. */
		ck_assert_uint_eq(ecam_read(d + 1, PCI_CFG_COMMAND, 2), 0);
		ck_assert_uint_eq(pci_device_bar_addr(&devs[d], 0), 0);
	}
	ck_assert_uint_eq(nr_remaps, 0);
}
END_TEST

/* Without a 64-bit window, 64-bit BARs get 32-bit addresses. */
START_TEST(test_assignment_without_mmio64)
{
	struct pci_device dev;
	uint64_t lo, hi;

	setup_with(0);
	test_device(&dev);
	ck_assert_int_eq(pci_device_add_bar(&dev, 0, 0x4000, PCI_BAR_MEM64), 0);
	ck_assert_int_eq(pci_bus_add_device(&pci, &dev), 1);
	lo = ecam_read(1, bar_reg(0), 4);
	hi = ecam_read(1, bar_reg(1), 4);
	ck_assert_uint_eq(hi, 0);
	ck_assert(
		inside(lo & ~0xfull, 0x4000, PLATFORM_PCI_MMIO32_START, PLATFORM_PCI_MMIO32_SIZE));
}
END_TEST

START_TEST(test_slots_and_windows_run_out)
{
	static struct pci_device devs[PCI_SLOTS + 1];
	struct pci_device big;

	for (unsigned int d = 0; d < PCI_SLOTS; d++) {
		test_device(&devs[d]);
		ck_assert_int_eq(pci_device_add_bar(&devs[d], 0, 0x1000000, PCI_BAR_MEM32), 0);
		ck_assert_int_eq(pci_bus_add_device(&pci, &devs[d]), d < 31 ? (int)d + 1 : -ENOSPC);
	}
	ck_assert_ptr_null(devs[31].bus);

	/* A 2 GiB BAR does not fit in the 512 MiB window; the device is not half-added. */
	setup();
	test_device(&big);
	ck_assert_int_eq(pci_device_add_bar(&big, 0, 0x1000, PCI_BAR_MEM32), 0);
	ck_assert_int_eq(pci_device_add_bar(&big, 1, 1ull << 31, PCI_BAR_MEM32), 0);
	ck_assert_int_eq(pci_bus_add_device(&pci, &big), -ENOSPC);
	ck_assert_ptr_null(big.bus);
	ck_assert_uint_eq(ecam_read(1, 0, 4), 0xffffffff);
	/* The cursor did not move: the next device starts at the window's base. */
	test_device(&devs[0]);
	ck_assert_int_eq(pci_device_add_bar(&devs[0], 0, 0x1000, PCI_BAR_MEM32), 0);
	ck_assert_int_eq(pci_bus_add_device(&pci, &devs[0]), 1);
	ck_assert_uint_eq(ecam_read(1, bar_reg(0), 4), PLATFORM_PCI_MMIO32_START);
}
END_TEST

static void expect_remap(unsigned int i, unsigned int bar, uint64_t old_addr, uint64_t new_addr)
{
	ck_assert_uint_gt(nr_remaps, i);
	ck_assert_uint_eq(remaps[i].bar, bar);
	ck_assert_uint_eq(remaps[i].old_addr, old_addr);
	ck_assert_uint_eq(remaps[i].new_addr, new_addr);
}

START_TEST(test_bar_remap)
{
	struct pci_device dev;
	uint64_t a0, a2, a3;
	int slot;

	test_device(&dev);
	ck_assert_int_eq(pci_device_add_bar(&dev, 0, 0x1000, PCI_BAR_MEM32), 0);
	ck_assert_int_eq(pci_device_add_bar(&dev, 2, 0x4000, PCI_BAR_MEM64), 0);
	ck_assert_int_eq(pci_device_add_bar(&dev, 4, 32, PCI_BAR_IO), 0);
	slot = pci_bus_add_device(&pci, &dev);
	a0 = ecam_read(slot, bar_reg(0), 4);
	a2 = ecam_read(slot, bar_reg(2), 4) & ~0xfull;
	a2 |= ecam_read(slot, bar_reg(3), 4) << 32;
	a3 = ecam_read(slot, bar_reg(4), 4) & ~3ull;

	/* Linux's way: sizing with decoding off calls nothing. */
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++)
		size_probe(slot, bar_reg(i));
	ck_assert_uint_eq(nr_remaps, 0);

	/* Memory decode on: both memory BARs appear; the I/O BAR does not. */
	ecam_write(slot, PCI_CFG_COMMAND, PCI_CMD_MEM, 2);
	ck_assert_uint_eq(nr_remaps, 2);
	expect_remap(0, 0, 0, a0);
	expect_remap(1, 2, 0, a2);
	ck_assert_uint_eq(pci_device_bar_addr(&dev, 2), a2);
	ck_assert_ptr_eq(remaps[0].dev, &dev);
	ecam_write(slot, PCI_CFG_COMMAND, PCI_CMD_MEM | PCI_CMD_IO, 2);
	ck_assert_uint_eq(nr_remaps, 3);
	expect_remap(2, 4, 0, a3);

	/* Writing the same command again changes nothing. */
	ecam_write(slot, PCI_CFG_COMMAND, PCI_CMD_MEM | PCI_CMD_IO, 2);
	ck_assert_uint_eq(nr_remaps, 3);

	/* Move BAR 0 while decoding. */
	ecam_write(slot, bar_reg(0), PLATFORM_PCI_MMIO32_START + 0x100000, 4);
	ck_assert_uint_eq(nr_remaps, 4);
	expect_remap(3, 0, a0, PLATFORM_PCI_MMIO32_START + 0x100000);

	/* Sizing with decoding on: the BAR stops decoding, never "moves" to all-ones. */
	nr_remaps = 0;
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++)
		size_probe(slot, bar_reg(i));
	for (unsigned int i = 0; i < nr_remaps; i++) {
		uint64_t a = remaps[i].new_addr;

		ck_assert(a == 0 || a == PLATFORM_PCI_MMIO32_START + 0x100000 || a == a2 ||
			  a == a3);
	}
	ck_assert_uint_eq(pci_device_bar_addr(&dev, 0), PLATFORM_PCI_MMIO32_START + 0x100000);
	ck_assert_uint_eq(pci_device_bar_addr(&dev, 2), a2);
	ck_assert_uint_eq(pci_device_bar_addr(&dev, 4), a3);

	/* Outside every window: not decoded. */
	nr_remaps = 0;
	ecam_write(slot, bar_reg(0), 0x1000, 4);
	expect_remap(0, 0, PLATFORM_PCI_MMIO32_START + 0x100000, 0);
	ecam_write(slot, bar_reg(0), PLATFORM_PCI_MMIO32_START + PLATFORM_PCI_MMIO32_SIZE, 4);
	ck_assert_uint_eq(nr_remaps, 1);
	ecam_write(slot, bar_reg(0), PLATFORM_PCI_MMIO32_START, 4);
	expect_remap(1, 0, 0, PLATFORM_PCI_MMIO32_START);

	/* Move the 64-bit BAR into the 32-bit window, the high half first. */
	nr_remaps = 0;
	ecam_write(slot, bar_reg(3), 0, 4);
	ecam_write(slot, bar_reg(2), PLATFORM_PCI_MMIO32_START + 0x200000, 4);
	ck_assert_uint_ge(nr_remaps, 1);
	ck_assert_uint_eq(remaps[nr_remaps - 1].bar, 2);
	ck_assert_uint_eq(remaps[nr_remaps - 1].new_addr, PLATFORM_PCI_MMIO32_START + 0x200000);
	/* And back with one 8-byte ECAM write. */
	nr_remaps = 0;
	ecam_write(slot, bar_reg(2), a2, 8);
	ck_assert_uint_eq(nr_remaps, 1);
	expect_remap(0, 2, PLATFORM_PCI_MMIO32_START + 0x200000, a2);

	/* Decoding off: everything goes away. */
	nr_remaps = 0;
	ecam_write(slot, PCI_CFG_COMMAND, 0, 2);
	ck_assert_uint_eq(nr_remaps, 3);
	for (unsigned int i = 0; i < 3; i++)
		ck_assert_uint_eq(remaps[i].new_addr, 0);
	/* Reprogramming while off calls nothing. */
	ecam_write(slot, bar_reg(0), PLATFORM_PCI_MMIO32_START + 0x300000, 4);
	ck_assert_uint_eq(nr_remaps, 3);
}
END_TEST

/* ---- capabilities ---- */

START_TEST(test_capabilities)
{
	static const uint8_t vndr[] = { PCI_CAPID_VNDR, 0xee, 7, 1, 2, 3, 4 }; /* odd length */
	static const uint8_t msix[12] = { PCI_CAPID_MSIX, 0xee, 0x03, 0x00, 0x01, 0, 0, 0 };
	static const uint8_t msix_wmask[12] = { 0xff, 0xff, 0x00, 0xc0 };
	static const uint8_t big[200] = { 0x10 };
	static const uint8_t ids[] = { PCI_CAPID_VNDR, PCI_CAPID_MSIX, PCI_CAPID_VNDR };
	struct pci_device dev;
	int off[3], slot;
	unsigned int p, n = 0;

	test_device(&dev);
	ck_assert_uint_eq(pci_device_find_capability(&dev, PCI_CAPID_MSIX, 0), 0);
	off[0] = pci_device_add_capability(&dev, vndr, sizeof(vndr), NULL);
	off[1] = pci_device_add_capability(&dev, msix, sizeof(msix), msix_wmask);
	off[2] = pci_device_add_capability(&dev, vndr, sizeof(vndr), NULL);
	ck_assert_int_eq(off[0], 0x40);
	ck_assert_int_eq(off[1], 0x48);
	ck_assert_int_eq(off[2], 0x54);
	ck_assert_int_eq(pci_device_add_capability(&dev, big, sizeof(big), NULL), -ENOSPC);
	ck_assert_int_eq(pci_device_add_capability(&dev, big, 1, NULL), -EINVAL);
	ck_assert_int_eq(pci_device_add_capability(&dev, NULL, 4, NULL), -EINVAL);
	ck_assert_uint_eq(pci_device_find_capability(&dev, PCI_CAPID_MSIX, 0), 0x48);
	ck_assert_uint_eq(pci_device_find_capability(&dev, PCI_CAPID_VNDR, 0x41), 0x54);
	ck_assert_uint_eq(pci_device_find_capability(&dev, 0x05, 0), 0);
	slot = pci_bus_add_device(&pci, &dev);
	ck_assert_int_eq(pci_device_add_capability(&dev, vndr, sizeof(vndr), NULL), -EBUSY);
	ck_assert_int_eq(pci_device_add_bar(&dev, 0, 16, PCI_BAR_MEM32), -EBUSY);

	/* The walk a guest does. */
	ck_assert_uint_ne(cfc_read(slot, PCI_CFG_STATUS, 2) & PCI_STS_CAP_LIST, 0);
	for (p = cfc_read(slot, PCI_CFG_CAP_PTR, 1); p; p = cfc_read(slot, p + 1, 1)) {
		ck_assert_uint_lt(n, 3);
		ck_assert_uint_eq(p % 4, 0);
		ck_assert_uint_eq(p, (unsigned int)off[n]);
		ck_assert_uint_eq(cfc_read(slot, p, 1), ids[n]);
		n++;
	}
	ck_assert_uint_eq(n, 3);
	ck_assert_mem_eq(dev.config + off[0] + 2, vndr + 2, sizeof(vndr) - 2);

	/* Message control: only enable and function mask are writable; id and next never. */
	config_writes = 0;
	ecam_write(slot, off[1], 0xffffffff, 4);
	ck_assert_uint_eq(ecam_read(slot, off[1], 4), 0xc0035400 | PCI_CAPID_MSIX);
	ck_assert_uint_eq(config_writes, 1);
	ck_assert_uint_eq(last_cw_offset, (unsigned int)off[1]);
	ck_assert_uint_eq(last_cw_len, 4);
	cfc_write(slot, off[1] + 3, 0x00, 1);
	ck_assert_uint_eq(ecam_read(slot, off[1] + 2, 2), 0x0003);
	ck_assert_uint_eq(last_cw_offset, (unsigned int)off[1] + 3);
	ck_assert_uint_eq(last_cw_len, 1);
	ecam_write(slot, off[1] + 4, 0xffffffff, 4); /* table offset/BIR: read-only */
	ck_assert_uint_eq(ecam_read(slot, off[1] + 4, 4), 1);
	ecam_write(slot, off[0], 0, 8);
	ck_assert_uint_eq(ecam_read(slot, off[0], 1), PCI_CAPID_VNDR);
	ck_assert_uint_eq(ecam_read(slot, off[0] + 1, 1), off[1]);
}
END_TEST

/* A device with no capabilities: no list bit, pointer 0. */
START_TEST(test_no_capabilities)
{
	struct pci_device dev;
	int slot;

	test_device(&dev);
	slot = pci_bus_add_device(&pci, &dev);
	ck_assert_uint_eq(cfc_read(slot, PCI_CFG_STATUS, 2) & PCI_STS_CAP_LIST, 0);
	ck_assert_uint_eq(cfc_read(slot, PCI_CFG_CAP_PTR, 1), 0);
}
END_TEST

/* ---- the two access mechanisms ---- */

START_TEST(test_cf8_equals_ecam)
{
	static const uint8_t cap[8] = { PCI_CAPID_VNDR, 0, 8, 0xaa, 0xbb, 0xcc, 0xdd, 0xee };
	struct pci_device dev;
	int slot;

	test_device(&dev);
	ck_assert_int_eq(pci_device_add_bar(&dev, 0, 0x1000, PCI_BAR_MEM32), 0);
	ck_assert_int_eq(pci_device_add_bar(&dev, 2, 0x100000, PCI_BAR_MEM64), 0);
	ck_assert_int_ge(pci_device_add_capability(&dev, cap, sizeof(cap), NULL), 0);
	slot = pci_bus_add_device(&pci, &dev);
	pci_device_set_intx(&dev, true);
	for (unsigned int s = 0; s < PCI_SLOTS; s++) {
		for (unsigned int r = 0; r < 256; r++) {
			for (unsigned int w = 1; w <= 4; w *= 2) {
				if (r % w)
					continue;
				ck_assert_msg(cfc_read(s, r, w) == ecam_read(s, r, w),
					      "slot %u reg 0x%x width %u", s, r, w);
			}
		}
	}
	/* A write through one shows through the other. */
	cfc_write(slot, PCI_CFG_INTERRUPT_LINE, 0x0b, 1);
	ck_assert_uint_eq(ecam_read(slot, PCI_CFG_INTERRUPT_LINE, 1), 0x0b);
	ecam_write(slot, PCI_CFG_COMMAND, PCI_CMD_BUS_MASTER, 2);
	ck_assert_uint_eq(cfc_read(slot, PCI_CFG_COMMAND, 2), PCI_CMD_BUS_MASTER);
	/* A 64-bit ECAM read is two registers. */
	ck_assert_uint_eq(ecam_read(slot, 0, 8),
			  (uint64_t)cfc_read(slot, 4, 4) << 32 | cfc_read(slot, 0, 4));
}
END_TEST

START_TEST(test_empty_and_invalid)
{
	struct pci_device dev;

	test_device(&dev);
	pci_bus_add_device(&pci, &dev);
	/* Empty slot. */
	ck_assert_uint_eq(cfc_read(2, 0, 4), 0xffffffff);
	ck_assert_uint_eq(ecam_read(2, 0, 4), 0xffffffff);
	ck_assert_uint_eq(ecam_read(31, 0x3c, 2), 0xffff);
	cfc_write(2, 0x04, 0xffff, 2); /* ignored */
	/* Functions 1-7 are not there. */
	for (unsigned int fn = 1; fn < 8; fn++) {
		uint32_t v = 0;

		pio_write(PLATFORM_PCI_CONFIG_ADDRESS_PORT, cf8(1, 0) | fn << 8, 4);
		ck_assert_uint_eq(pio_read(PLATFORM_PCI_CONFIG_DATA_PORT, 4), 0xffffffff);
		bus_read(&mmio, ecam_addr(1, fn, 0), &v, 4);
		ck_assert_uint_eq(v, 0xffffffff);
	}
	/* Bus 1 is not there either. */
	pio_write(PLATFORM_PCI_CONFIG_ADDRESS_PORT, cf8(1, 0) | 1 << 16, 4);
	ck_assert_uint_eq(pio_read(PLATFORM_PCI_CONFIG_DATA_PORT, 4), 0xffffffff);
	/* Enable bit clear: no config cycle. */
	pio_write(PLATFORM_PCI_CONFIG_ADDRESS_PORT, cf8(1, 0) & 0x7fffffff, 4);
	ck_assert_uint_eq(pio_read(PLATFORM_PCI_CONFIG_DATA_PORT, 4), 0xffffffff);
	/* Extended config space of a present function reads as zero, writes go nowhere. */
	ck_assert_uint_eq(ecam_read(1, 0x100, 4), 0);
	ck_assert_uint_eq(ecam_read(1, 0xffc, 4), 0);
	config_writes = 0;
	ecam_write(1, 0x100, 0xffffffff, 4);
	ck_assert_uint_eq(ecam_read(1, 0x100, 4), 0);
	ck_assert_uint_eq(config_writes, 0);
	/* An ECAM access straddling two functions is refused. */
	ck_assert_uint_eq(ecam_read(1, 0xffe, 4), 0xffffffff);
}
END_TEST

/* Linux's probe for mechanism #1: byte writes to CF8-CFB are not address writes. */
START_TEST(test_cf8_latch)
{
	pio_write(PLATFORM_PCI_CONFIG_ADDRESS_PORT, 0x80000000, 4);
	ck_assert_uint_eq(pio_read(PLATFORM_PCI_CONFIG_ADDRESS_PORT, 4), 0x80000000);
	pio_write(PLATFORM_PCI_CONFIG_ADDRESS_PORT + 3, 0x01, 1);
	pio_write(PLATFORM_PCI_CONFIG_ADDRESS_PORT, 0x00, 1);
	pio_write(PLATFORM_PCI_CONFIG_ADDRESS_PORT + 2, 0x00, 2);
	ck_assert_uint_eq(pio_read(PLATFORM_PCI_CONFIG_ADDRESS_PORT, 4), 0x80000000);
	ck_assert_uint_eq(pio_read(PLATFORM_PCI_CONFIG_ADDRESS_PORT, 2), 0xffff);
	ck_assert_uint_eq(pio_read(PLATFORM_PCI_CONFIG_ADDRESS_PORT + 1, 1), 0xff);
	/* Reserved bits (30-24, 1-0) read back as zero. */
	pio_write(PLATFORM_PCI_CONFIG_ADDRESS_PORT, 0xffffffff, 4);
	ck_assert_uint_eq(pio_read(PLATFORM_PCI_CONFIG_ADDRESS_PORT, 4), 0x80fffffc);
	/* Byte and word accesses to CFC-CFF address within the dword. */
	ck_assert_uint_eq(cfc_read(0, 2, 2), PCI_HOST_BRIDGE_DEVICE);
	ck_assert_uint_eq(cfc_read(0, 3, 1), PCI_HOST_BRIDGE_DEVICE >> 8);
	ck_assert_uint_eq(cfc_read(0, 1, 1), PCI_HOST_BRIDGE_VENDOR >> 8);
}
END_TEST

/* Any value at any offset and width, through either mechanism: nothing breaks. */
START_TEST(test_garbage_config_writes)
{
	static const uint8_t cap[12] = { PCI_CAPID_MSIX, 0, 0x03, 0x00, 0x01 };
	static const uint8_t capw[12] = { 0, 0, 0, 0xc0 };
	struct pci_device dev;
	unsigned int seed = 12345;
	uint64_t v;
	int slot;

	pci_device_init(&dev, 0x1af4, 0x1042, 0x018000, 0x1af4, 0x0002, 0x01, &garbage_ops, NULL);
	ck_assert_int_eq(pci_device_add_bar(&dev, 0, 0x1000, PCI_BAR_MEM32), 0);
	ck_assert_int_eq(pci_device_add_bar(&dev, 1, 0x4000, PCI_BAR_MEM64), 0);
	ck_assert_int_eq(pci_device_add_bar(&dev, 3, 16, PCI_BAR_IO), 0);
	ck_assert_int_ge(pci_device_add_capability(&dev, cap, sizeof(cap), capw), 0);
	garbage_remaps = 0;
	slot = pci_bus_add_device(&pci, &dev);

	/* Every offset of functions 0 and 1 of slots 0-2, every width, ECAM. */
	for (unsigned int s = 0; s <= 2; s++) {
		for (unsigned int fn = 0; fn <= 1; fn++) {
			for (unsigned int r = 0; r < PCI_ECAM_FN_SIZE; r++) {
				for (unsigned int w = 1; w <= 8; w *= 2) {
					v = (uint64_t)rand_r(&seed) << 33 ^ rand_r(&seed);
					bus_write(&mmio, ecam_addr(s, fn, r), &v, w);
					bus_read(&mmio, ecam_addr(s, fn, r), &v, w);
				}
			}
		}
	}
	/* Random CF8 values and CFC accesses, random widths and offsets. */
	for (unsigned int i = 0; i < 200000; i++) {
		unsigned int w = 1u << (rand_r(&seed) % 3);
		unsigned int off = rand_r(&seed) % 4;

		unsigned int cw = 1u << (rand_r(&seed) % 3);

		if (rand_r(&seed) % 4 == 0)
			pio_write(PLATFORM_PCI_CONFIG_ADDRESS_PORT + rand_r(&seed) % (5 - cw),
				  (uint32_t)rand_r(&seed) << 1 ^ rand_r(&seed), cw);
		if (off + w > 4)
			off = 0;
		v = (uint32_t)rand_r(&seed) << 1 ^ rand_r(&seed);
		if (rand_r(&seed) % 2)
			pio_write(PLATFORM_PCI_CONFIG_DATA_PORT + off, v, w);
		else
			pio_read(PLATFORM_PCI_CONFIG_DATA_PORT + off, w);
		/* And whatever the BARs decode by now. */
		v = pci_device_bar_addr(&dev, rand_r(&seed) % PCI_NUM_BARS);
		if (v) {
			bus_read(&mmio, v, &v, 4);
			bus_read(&pio, pci_device_bar_addr(&dev, 3), &v, 1);
		}
	}
	/* The identity survived, every decoded BAR is in a window, the list is intact. */
	ck_assert_uint_eq(ecam_read(slot, 0, 4), 0x10421af4);
	ck_assert_uint_eq(ecam_read(0, 0, 4),
			  PCI_HOST_BRIDGE_DEVICE << 16 | PCI_HOST_BRIDGE_VENDOR);
	ck_assert_uint_eq(pci_device_find_capability(&dev, PCI_CAPID_MSIX, 0), 0x40);
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		uint64_t a = pci_device_bar_addr(&dev, i);

		if (!a)
			continue;
		ck_assert(inside(a, dev.bars[i].size, PLATFORM_PCI_MMIO32_START,
				 PLATFORM_PCI_MMIO32_SIZE) ||
			  inside(a, dev.bars[i].size, MMIO64_BASE, PLATFORM_PCI_MMIO64_SIZE) ||
			  inside(a, dev.bars[i].size, PLATFORM_PCI_IO_START, 0xf000));
	}
	ck_assert_uint_gt(garbage_remaps, 0); /* the garbage did turn decoding on and off */
}
END_TEST

/* ---- INTx ---- */

START_TEST(test_intx)
{
	struct pci_device a, b, c;
	int sa, sb, sc;

	test_device(&a);
	test_device(&b);
	test_device(&c);
	sa = pci_bus_add_device(&pci, &a);
	sb = pci_bus_add_device(&pci, &b);
	ck_assert_int_eq(sa, 1);
	ck_assert_int_eq(sb, 2);
	for (int i = 3; i < 5; i++) { /* fill slots 3 and 4 so c lands in slot 5 */
		static struct pci_device filler[2];

		test_device(&filler[i - 3]);
		ck_assert_int_eq(pci_bus_add_device(&pci, &filler[i - 3]), i);
	}
	sc = pci_bus_add_device(&pci, &c);
	ck_assert_int_eq(sc, 5); /* shares GSI 17 with slot 1 */

	pci_device_set_intx(&a, true);
	ck_assert_uint_eq(nr_irqs, 1);
	ck_assert_uint_eq(irqs[0].gsi, 17);
	ck_assert(irqs[0].level);
	ck_assert_uint_ne(cfc_read(sa, PCI_CFG_STATUS, 2) & PCI_STS_INTX, 0);
	ck_assert_uint_eq(cfc_read(sb, PCI_CFG_STATUS, 2) & PCI_STS_INTX, 0);
	pci_device_set_intx(&a, true); /* no change, no call */
	ck_assert_uint_eq(nr_irqs, 1);

	pci_device_set_intx(&b, true);
	ck_assert_uint_eq(nr_irqs, 2);
	ck_assert_uint_eq(irqs[1].gsi, 18);
	pci_device_set_intx(&b, false);
	ck_assert_uint_eq(irqs[2].gsi, 18);
	ck_assert(!irqs[2].level);

	/* Shared line: high while either device asserts. */
	pci_device_set_intx(&c, true);
	ck_assert_uint_eq(nr_irqs, 3);
	pci_device_set_intx(&a, false);
	ck_assert_uint_eq(nr_irqs, 3);
	pci_device_set_intx(&c, false);
	ck_assert_uint_eq(nr_irqs, 4);
	ck_assert_uint_eq(irqs[3].gsi, 17);
	ck_assert(!irqs[3].level);

	/* INTX_DISABLE drops the line but not the status bit; clearing it raises it again. */
	nr_irqs = 0;
	pci_device_set_intx(&a, true);
	cfc_write(sa, PCI_CFG_COMMAND, PCI_CMD_INTX_DISABLE, 2);
	ck_assert_uint_eq(nr_irqs, 2);
	ck_assert(!irqs[1].level);
	ck_assert_uint_ne(cfc_read(sa, PCI_CFG_STATUS, 2) & PCI_STS_INTX, 0);
	pci_device_set_intx(&a, false);
	pci_device_set_intx(&a, true);
	ck_assert_uint_eq(nr_irqs, 2);
	cfc_write(sa, PCI_CFG_COMMAND + 1, 0, 1);
	ck_assert_uint_eq(nr_irqs, 3);
	ck_assert_uint_eq(irqs[2].gsi, 17);
	ck_assert(irqs[2].level);
	pci_device_set_intx(&a, false);
	ck_assert_uint_eq(cfc_read(sa, PCI_CFG_STATUS, 2) & PCI_STS_INTX, 0);
}
END_TEST

/* A level set before the device is on a bus shows once it is added. */
START_TEST(test_intx_before_add)
{
	struct pci_device dev;

	test_device(&dev);
	pci_device_set_intx(&dev, true);
	ck_assert_uint_eq(nr_irqs, 0);
	ck_assert_int_eq(pci_bus_add_device(&pci, &dev), 1);
	ck_assert_uint_eq(nr_irqs, 1);
	ck_assert_uint_eq(irqs[0].gsi, 17);
	ck_assert(irqs[0].level);
}
END_TEST

/* ---- BAR routing ---- */

START_TEST(test_bar_routing)
{
	struct pci_device dev;
	uint64_t m32, m64, io, v = 0;
	uint32_t w = 0xdeadbeef;
	int slot;

	test_device(&dev);
	ck_assert_int_eq(pci_device_add_bar(&dev, 0, 0x1000, PCI_BAR_MEM32), 0);
	ck_assert_int_eq(pci_device_add_bar(&dev, 1, 0x4000, PCI_BAR_MEM64 | PCI_BAR_PREFETCH), 0);
	ck_assert_int_eq(pci_device_add_bar(&dev, 3, 32, PCI_BAR_IO), 0);
	slot = pci_bus_add_device(&pci, &dev);
	m32 = ecam_read(slot, bar_reg(0), 4);
	m64 = (ecam_read(slot, bar_reg(1), 8)) & ~0xfull;
	io = ecam_read(slot, bar_reg(3), 4) & ~3ull;

	/* Decoding off: the window answers all-ones, the device sees nothing. */
	ck_assert(bus_read(&mmio, m32, &v, 4));
	ck_assert_uint_eq(v, 0xffffffff);
	ck_assert_uint_eq(bar_access.reads, 0);

	ecam_write(slot, PCI_CFG_COMMAND, PCI_CMD_MEM | PCI_CMD_IO, 2);
	v = 0;
	bus_read(&mmio, m32 + 0x10, &v, 4);
	ck_assert_uint_eq(v, 0x5a5a5a5a);
	ck_assert_ptr_eq(bar_access.dev, &dev);
	ck_assert_uint_eq(bar_access.bar, 0);
	ck_assert_uint_eq(bar_access.offset, 0x10);
	ck_assert_uint_eq(bar_access.len, 4);

	bus_write(&mmio, m64 + 0x3ff8, &w, 4);
	ck_assert_uint_eq(bar_access.bar, 1);
	ck_assert_uint_eq(bar_access.offset, 0x3ff8);
	ck_assert_uint_eq(bar_access.value, 0xdeadbeef);
	ck_assert_uint_ge(m64, MMIO64_BASE);

	bus_write(&pio, io + 3, &w, 1);
	ck_assert_uint_eq(bar_access.bar, 3);
	ck_assert_uint_eq(bar_access.offset, 3);
	ck_assert_uint_eq(bar_access.value, 0xef);

	/* Past the end of a BAR, or straddling it: not the device's. */
	bar_access.reads = 0;
	bus_read(&mmio, m32 + 0x1000, &v, 4);
	bus_read(&mmio, m32 + 0xffe, &v, 4);
	ck_assert_uint_eq(bar_access.reads, 0);

	/* Memory off, I/O on. */
	ecam_write(slot, PCI_CFG_COMMAND, PCI_CMD_IO, 2);
	bus_read(&mmio, m32, &v, 4);
	ck_assert_uint_eq(bar_access.reads, 0);
	bus_read(&pio, io, &v, 2);
	ck_assert_uint_eq(bar_access.reads, 1);
}
END_TEST

/* If one of the ranges is taken, nothing stays claimed. */
START_TEST(test_register_conflict)
{
	static const struct bus_device_ops none = { 0 };
	struct pci_bus other;
	struct bus p, m;
	uint32_t v;

	bus_init(&p, "p");
	bus_init(&m, "m");
	ck_assert_int_eq(bus_register(&m, PLATFORM_PCI_ECAM_START + 0x1000, 1, &none, NULL, "x"),
			 0);
	pci_bus_init(&other, MMIO64_BASE, NULL, NULL);
	ck_assert_int_eq(pci_bus_register(&other, &p, &m), -EEXIST);
	ck_assert_uint_eq(p.count, 0);
	ck_assert_uint_eq(m.count, 1);
	/* Only the port bus: fine. */
	ck_assert_int_eq(pci_bus_register(&other, &p, NULL), 0);
	ck_assert_uint_eq(p.count, 3);
	v = 0x80000000;
	bus_write(&p, PLATFORM_PCI_CONFIG_ADDRESS_PORT, &v, 4);
	bus_read(&p, PLATFORM_PCI_CONFIG_DATA_PORT, &v, 4);
	ck_assert_uint_eq(v, PCI_HOST_BRIDGE_DEVICE << 16 | PCI_HOST_BRIDGE_VENDOR);
}
END_TEST

/* ---- the 64-bit window ---- */

START_TEST(test_mmio64_base)
{
	ck_assert_uint_eq(pci_mmio64_base(512ull << 20), 4 * GiB);
	ck_assert_uint_eq(pci_mmio64_base(3 * GiB), 4 * GiB);
	ck_assert_uint_eq(pci_mmio64_base(3 * GiB + 1), 5 * GiB);
	ck_assert_uint_eq(pci_mmio64_base(4 * GiB), 5 * GiB);
	ck_assert_uint_eq(pci_mmio64_base(4 * GiB + 4096), 6 * GiB);
	ck_assert_uint_eq(pci_mmio64_base(64 * GiB), 65 * GiB);
	ck_assert_uint_eq(pci_mmio64_base(UINT64_MAX), 0);
	ck_assert_uint_eq(pci_mmio64_base(UINT64_MAX - 60 * GiB), 0);
	ck_assert_uint_eq(pci_mmio64_base(UINT64_MAX - 80 * GiB), (uint64_t)-79 * GiB);
	/* Always past the last byte of RAM, which starts again at 4 GiB. */
	for (uint64_t m = GiB; m < 80 * GiB; m += 3 * GiB / 7) {
		uint64_t high_end = m > 3 * GiB ? 4 * GiB + (m - 3 * GiB) : 4 * GiB;

		ck_assert_uint_ge(pci_mmio64_base(m), high_end);
		ck_assert_uint_lt(pci_mmio64_base(m) - high_end, GiB);
		ck_assert_uint_eq(pci_mmio64_base(m) % GiB, 0);
	}
}
END_TEST

/* ---- callbacks may call back in, and threads may race ---- */

static void on_config_write_intx(struct pci_device *dev, unsigned int offset, unsigned int len)
{
	(void)offset;
	(void)len;
	/* The bus mutex is held here; setting INTx takes only the INTx mutex. */
	pci_device_set_intx(dev, !__atomic_load_n(&dev->intx_level, __ATOMIC_RELAXED));
}

static const struct pci_device_ops reentrant_ops = { .config_write = on_config_write_intx,
						     .bar_remap = on_remap_count };

START_TEST(test_callbacks_may_set_intx)
{
	struct pci_device dev;
	int slot;

	pci_device_init(&dev, 0x1af4, 0x1000, 0x020000, 0, 0, 0, &reentrant_ops, NULL);
	slot = pci_bus_add_device(&pci, &dev);
	cfc_write(slot, PCI_CFG_INTERRUPT_LINE, 5, 1);
	ck_assert_uint_eq(nr_irqs, 1);
	ecam_write(slot, PCI_CFG_INTERRUPT_LINE, 6, 1);
	ck_assert_uint_eq(nr_irqs, 2);
}
END_TEST

static struct pci_device race_dev;
static bool race_stop;

static void *race_intx(void *arg)
{
	(void)arg;
	for (unsigned int i = 0; !__atomic_load_n(&race_stop, __ATOMIC_RELAXED); i++) {
		uint32_t v;

		pci_device_set_intx(&race_dev, i & 1);
		bus_read(&mmio, PLATFORM_PCI_MMIO32_START, &v, 4); /* BAR 0, when decoded */
	}
	pci_device_set_intx(&race_dev, false);
	return NULL;
}

static void on_set_irq_count(void *ctx, unsigned int gsi, bool level)
{
	(void)ctx;
	(void)gsi;
	(void)level;
}

START_TEST(test_threads)
{
	pthread_t t;
	int slot;

	pci_bus_init(&pci, MMIO64_BASE, on_set_irq_count, NULL);
	bus_init(&pio, "pio");
	bus_init(&mmio, "mmio");
	ck_assert_int_eq(pci_bus_register(&pci, &pio, &mmio), 0);
	pci_device_init(&race_dev, 0x1af4, 0x1000, 0x020000, 0, 0, 0, &reentrant_ops, NULL);
	ck_assert_int_eq(pci_device_add_bar(&race_dev, 0, 0x1000, PCI_BAR_MEM32), 0);
	slot = pci_bus_add_device(&pci, &race_dev);
	__atomic_store_n(&race_stop, false, __ATOMIC_RELAXED);
	ck_assert_int_eq(pthread_create(&t, NULL, race_intx, NULL), 0);
	for (unsigned int i = 0; i < 20000; i++) {
		cfc_write(slot, PCI_CFG_COMMAND, i & 1 ? PCI_CMD_INTX_DISABLE | PCI_CMD_MEM : 0, 2);
		ecam_write(slot, PCI_CFG_COMMAND, i & 2 ? PCI_CMD_MEM : PCI_CMD_INTX_DISABLE, 2);
	}
	__atomic_store_n(&race_stop, true, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	ecam_write(slot, PCI_CFG_COMMAND, 0, 2);
	/* Whatever the interleaving, the line's count follows the last level. */
	pci_device_set_intx(&race_dev, true);
	ck_assert_uint_eq(pci.gsi_users[slot % 4], 1);
	pci_device_set_intx(&race_dev, false);
	ck_assert_uint_eq(pci.gsi_users[slot % 4], 0);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("pci");
	TCase *tc = tcase_create("bus");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_host_bridge);
	tcase_add_test(tc, test_identity);
	tcase_add_test(tc, test_read_only_fields);
	tcase_add_test(tc, test_bar_sizing);
	tcase_add_test(tc, test_bar_add_errors);
	tcase_add_test(tc, test_firmware_assignment);
	tcase_add_test(tc, test_assignment_without_mmio64);
	tcase_add_test(tc, test_slots_and_windows_run_out);
	tcase_add_test(tc, test_bar_remap);
	tcase_add_test(tc, test_capabilities);
	tcase_add_test(tc, test_no_capabilities);
	tcase_add_test(tc, test_cf8_equals_ecam);
	tcase_add_test(tc, test_empty_and_invalid);
	tcase_add_test(tc, test_cf8_latch);
	tcase_add_test(tc, test_garbage_config_writes);
	tcase_add_test(tc, test_intx);
	tcase_add_test(tc, test_intx_before_add);
	tcase_add_test(tc, test_bar_routing);
	tcase_add_test(tc, test_register_conflict);
	tcase_add_test(tc, test_mmio64_base);
	tcase_add_test(tc, test_callbacks_may_set_intx);
	tcase_add_test(tc, test_threads);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}
