/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for PCI configuration space (devices/pci.c, devices/bus.c,
 * devices/msix.c): everything a guest can do to it through ports 0xCF8/0xCFC, ECAM and
 * the BAR windows. The bus holds the host bridge and one device wired the way
 * virtio/pci.c wires its functions: a 64-bit memory BAR 0 holding the MSI-X table and
 * PBA, a 32-bit prefetchable BAR 2, an I/O BAR 4, and an MSI-X capability whose
 * config_write hook calls msix_config_written().
 *
 * Input: byte 0 picks the setup (bit 0: a 64-bit window, bits 1-3: MSI-X vectors - 1
 * times 5, plus 1), then 8-byte records (a short tail is ignored):
 *   0  u8   op % 8: 0 CF8 write, 1 CFC-CFF access, 2 ECAM access, 3 BAR access,
 *                   4 raw port access, 5 raw MMIO access, 6 the device raises MSI-X
 *                   vector (value % 64), 7 a sizing probe of BAR (bits 4-5 of byte 1)
 *                   through CF8/CFC (bit 2 clear) or ECAM (bit 2 set)
 *   1  u8   bits 0-1: length 1 << n; bit 2: write; bits 4-5: which BAR (op 3, 7)
 *   2  u16  offset (ECAM: bits 0-11 register, bits 12-15 + value bits 0-3 device/fn;
 *           raw: address bits 0-15)
 *   4  u32  value written (raw accesses: address bits 16-47)
 *
 * Checked after every record: nothing crashed (ASan/UBSan), the read-only identity
 * registers of both functions are intact, the MSI-X capability's read-only fields are
 * intact and its Enable/Function Mask bits match the msix model, decoded BARs lie in their
 * window aligned to their size and an access at a decoded BAR's address reaches a BAR
 * that decodes it (BARs may overlap), and BAR callbacks get in-range offsets and sane lengths.
 * MSI-X: table entries read back with their reserved bits clear, no vector is pending while it is
 * unmasked, nothing pends beyond the last vector, a message is only sent for an unmasked vector,
 * and PBA writes change nothing. A sizing probe reads back the BAR's size mask and type bits,
 * decodes nothing while the all-ones pattern is in place, and the old address decodes
 * again once it is written back.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "devices/bus.h"
#include "devices/msix.h"
#include "devices/pci.h"
#include "devices/platform.h"

#define DEV_VENDOR 0x1af4
#define DEV_DEVICE 0x1041
#define DEV_CLASS 0x020000
#define DEV_SUBSYS_VENDOR 0x1af4
#define DEV_SUBSYS_ID 0x0001
#define DEV_REVISION 0x01

#define BAR0_SIZE 0x8000u
#define BAR0_MSIX_TABLE 0x4000u
#define BAR0_MSIX_PBA 0x6000u
#define BAR2_SIZE 0x1000u
#define BAR4_SIZE 0x40u

#define RECORD_SIZE 8
#define MAX_RECORDS 2048

static struct pci_bus pbus;
static int last_read_bar = -1; /* which BAR the last bar_read callback was for */
static uint64_t last_read_offset;
static struct bus pio, mmio;
static struct pci_device dev;
static struct msix msix;
static unsigned int msix_cap, nvec;
static uint64_t mmio64_base;

static void check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t bar_size(unsigned int bar)
{
	return bar == 0 ? BAR0_SIZE : bar == 2 ? BAR2_SIZE : bar == 4 ? BAR4_SIZE : 0;
}

static void check_bar_access(unsigned int bar, uint64_t offset, unsigned int len)
{
	uint64_t size = bar_size(bar);

	check(len == 1 || len == 2 || len == 4 || len == 8);
	check(size != 0 && offset < size && len <= size - offset);
}

static void dev_bar_read(struct pci_device *d, unsigned int bar, uint64_t offset, void *data,
			 unsigned int len)
{
	check(d == &dev);
	check_bar_access(bar, offset, len);
	last_read_bar = (int)bar;
	last_read_offset = offset;
	memset(data, 0, len);
	if (bar != 0)
		return;
	if (offset >= BAR0_MSIX_TABLE && offset < BAR0_MSIX_PBA)
		msix_table_read(&msix, offset - BAR0_MSIX_TABLE, data, len);
	else if (offset >= BAR0_MSIX_PBA)
		msix_pba_read(&msix, offset - BAR0_MSIX_PBA, data, len);
}

static void dev_bar_write(struct pci_device *d, unsigned int bar, uint64_t offset, const void *data,
			  unsigned int len)
{
	check(d == &dev);
	check_bar_access(bar, offset, len);
	if (bar == 0 && offset >= BAR0_MSIX_TABLE && offset < BAR0_MSIX_PBA)
		msix_table_write(&msix, offset - BAR0_MSIX_TABLE, data, len);
}

static void dev_bar_remap(struct pci_device *d, unsigned int bar, uint64_t old_addr,
			  uint64_t new_addr)
{
	check(d == &dev);
	check(bar_size(bar) != 0);
	check(old_addr != new_addr);
	check(new_addr % bar_size(bar) == 0);
}

static void dev_config_write(struct pci_device *d, unsigned int offset, unsigned int len)
{
	check(d == &dev);
	check(len >= 1 && len <= 8 && offset < PCI_CONFIG_SIZE && len <= PCI_CONFIG_SIZE - offset);
	if (offset < msix_cap + MSIX_CAP_SIZE && offset + len > msix_cap)
		msix_config_written(&msix, &d->config[msix_cap]);
}

static const struct pci_device_ops dev_ops = {
	.bar_remap = dev_bar_remap,
	.config_write = dev_config_write,
	.bar_read = dev_bar_read,
	.bar_write = dev_bar_write,
};

static void msix_vector_changed(void *ctx, unsigned int vec, uint64_t addr, uint32_t data,
				bool masked)
{
	(void)ctx, (void)addr, (void)data, (void)masked;
	check(vec < nvec);
}

static bool vector_masked(unsigned int vec)
{
	return !msix.enabled || msix.fmask || (msix.table[vec].ctrl & MSIX_ENTRY_CTRL_MASKED);
}

/* Called with the msix mutex held, so its fields can be read directly. */
static void msix_fire(void *ctx, unsigned int vec)
{
	(void)ctx;
	check(vec < nvec);
	check(!vector_masked(vec));
}

static const struct msix_ops dev_msix_ops = {
	.vector_changed = msix_vector_changed,
	.fire = msix_fire,
};

static void set_irq(void *ctx, unsigned int gsi, bool level)
{
	(void)ctx, (void)level;
	check(gsi >= PLATFORM_PCI_INTX_GSI_BASE && gsi < PLATFORM_PCI_INTX_GSI_BASE + 4);
}

static bool setup(uint8_t cfg)
{
	uint8_t cap[MSIX_CAP_SIZE], wmask[MSIX_CAP_SIZE];
	int ret;

	nvec = 1 + ((cfg >> 1) & 7) * 5;
	mmio64_base = (cfg & 1) ? pci_mmio64_base(1ull << 30) : 0;
	bus_init(&pio, "pio");
	bus_init(&mmio, "mmio");
	/* count unhandled accesses from the start: only the first is logged, once per input */
	pio.unhandled = mmio.unhandled = 1;
	pci_bus_init(&pbus, mmio64_base, set_irq, NULL);
	pci_device_init(&dev, DEV_VENDOR, DEV_DEVICE, DEV_CLASS, DEV_SUBSYS_VENDOR, DEV_SUBSYS_ID,
			DEV_REVISION, &dev_ops, NULL);
	if (pci_device_add_bar(&dev, 0, BAR0_SIZE, PCI_BAR_MEM64) ||
	    pci_device_add_bar(&dev, 2, BAR2_SIZE, PCI_BAR_MEM32 | PCI_BAR_PREFETCH) ||
	    pci_device_add_bar(&dev, 4, BAR4_SIZE, PCI_BAR_IO))
		return false;
	if (msix_init(&msix, nvec, 0, BAR0_MSIX_TABLE, BAR0_MSIX_PBA, &dev_msix_ops, NULL))
		return false;
	msix_capability(&msix, cap, wmask);
	ret = pci_device_add_capability(&dev, cap, MSIX_CAP_SIZE, wmask);
	if (ret < 0)
		return false;
	msix_cap = (unsigned int)ret;
	if (pci_bus_add_device(&pbus, &dev) < 0)
		return false;
	return pci_bus_register(&pbus, &pio, &mmio) == 0;
}

static void check_ids(const struct pci_device *d, uint16_t vendor, uint16_t device,
		      uint32_t class_code, uint8_t revision)
{
	check(pci_device_config_get(d, PCI_CFG_VENDOR_ID, 2) == vendor);
	check(pci_device_config_get(d, PCI_CFG_DEVICE_ID, 2) == device);
	check(pci_device_config_get(d, PCI_CFG_CLASS, 2) == (class_code & 0xffff));
	check(pci_device_config_get(d, PCI_CFG_CLASS + 2, 1) == class_code >> 16);
	check(pci_device_config_get(d, PCI_CFG_REVISION, 1) == revision);
	check((pci_device_config_get(d, PCI_CFG_HEADER_TYPE, 1) & 0x7f) == 0);
}

static void check_state(bool deep)
{
	uint32_t ctrl, id;

	pci_device_lock(&dev);
	check_ids(&pbus.host_bridge, PCI_HOST_BRIDGE_VENDOR, PCI_HOST_BRIDGE_DEVICE,
		  PCI_CLASS_HOST_BRIDGE, pbus.host_bridge.config[PCI_CFG_REVISION]);
	check_ids(&dev, DEV_VENDOR, DEV_DEVICE, DEV_CLASS, DEV_REVISION);
	check(pci_device_config_get(&dev, PCI_CFG_SUBSYS_VENDOR_ID, 2) == DEV_SUBSYS_VENDOR);
	check(pci_device_config_get(&dev, PCI_CFG_SUBSYS_ID, 2) == DEV_SUBSYS_ID);
	check(pci_device_config_get(&dev, PCI_CFG_STATUS, 2) & PCI_STS_CAP_LIST);
	check(pci_device_find_capability(&dev, PCI_CAPID_MSIX, PCI_CFG_CAP_START) == msix_cap);

	id = pci_device_config_get(&dev, msix_cap, 1);
	check(id == MSIX_CAP_ID);
	ctrl = pci_device_config_get(&dev, msix_cap + MSIX_CAP_CTRL, 2);
	check((ctrl & MSIX_CTRL_TABLE_SIZE) == nvec - 1);
	check((ctrl & 0x3800) == 0);
	check(pci_device_config_get(&dev, msix_cap + MSIX_CAP_TABLE, 4) == BAR0_MSIX_TABLE);
	check(pci_device_config_get(&dev, msix_cap + MSIX_CAP_PBA, 4) == BAR0_MSIX_PBA);
	check(msix_enabled(&msix) == !!(ctrl & MSIX_CTRL_ENABLE));

	for (unsigned int w = 0; w < MSIX_MAX_VECTORS / 64; w++) {
		uint64_t pba;

		msix_pba_read(&msix, w * 8, &pba, 8);
		for (unsigned int vec = w * 64; pba && vec < (w + 1) * 64; vec++)
			check(!((pba >> (vec % 64)) & 1) || (vec < nvec && vector_masked(vec)));
	}
	for (unsigned int vec = 0; deep && vec < nvec; vec++) {
		uint32_t ent[4];

		msix_table_read(&msix, (uint64_t)vec * MSIX_ENTRY_SIZE, ent, 8);
		msix_table_read(&msix, (uint64_t)vec * MSIX_ENTRY_SIZE + 8, ent + 2, 8);
		check((ent[0] & 3) == 0 && (ent[3] & ~(uint32_t)MSIX_ENTRY_CTRL_MASKED) == 0);
	}
	pci_device_unlock(&dev);

	for (unsigned int bar = 0; bar < PCI_NUM_BARS; bar++) {
		uint64_t addr, size = bar_size(bar);
		uint8_t buf[4];

		pci_device_lock(&dev);
		addr = pci_device_bar_addr(&dev, bar);
		pci_device_unlock(&dev);
		if (!deep || !addr || !size)
			continue;
		/* BARs may overlap (the guest's choice): then one of them answers */
		last_read_bar = -1;
		bus_read(bar == 4 ? &pio : &mmio, addr, buf, 1);
		check(last_read_bar >= 0);
		pci_device_lock(&dev);
		check(pci_device_bar_addr(&dev, (unsigned int)last_read_bar) + last_read_offset ==
		      addr);
		pci_device_unlock(&dev);
	}
	pci_device_lock(&dev);
	for (unsigned int bar = 0; bar < PCI_NUM_BARS; bar++) {
		uint64_t addr = pci_device_bar_addr(&dev, bar), size = bar_size(bar);

		if (!size) {
			check(addr == 0);
			continue;
		}
		if (!addr)
			continue;
		check(addr % size == 0);
		if (bar == 4)
			check(addr >= PLATFORM_PCI_IO_START &&
			      addr + size - 1 <= PLATFORM_PCI_IO_END);
		else if (addr < PLATFORM_4G)
			check(addr >= PLATFORM_PCI_MMIO32_START &&
			      addr + size <= PLATFORM_PCI_MMIO32_START + PLATFORM_PCI_MMIO32_SIZE);
		else
			check(bar == 0 && mmio64_base && addr >= mmio64_base &&
			      addr - mmio64_base + size <= PLATFORM_PCI_MMIO64_SIZE);
	}
	pci_device_unlock(&dev);
}

static void do_access(struct bus *b, uint64_t addr, bool write, uint32_t value, unsigned int len)
{
	uint8_t buf[8];
	uint64_t v = value | (uint64_t)value << 32;

	memcpy(buf, &v, sizeof(buf));
	if (write)
		bus_write(b, addr, buf, len);
	else
		bus_read(b, addr, buf, len);
}

/* One config dword of our device, through CF8/CFC or ECAM. */
static uint32_t cfg_access(bool ecam, unsigned int reg, bool write, uint32_t v)
{
	if (ecam) {
		uint64_t at = PLATFORM_PCI_ECAM_START + ((uint64_t)dev.slot << 15) + reg;

		do_access(&mmio, at, write, v, 4);
		if (!write)
			bus_read(&mmio, at, &v, 4);
		return v;
	}
	do_access(&pio, PLATFORM_PCI_CONFIG_ADDRESS_PORT, true, 0x80000000u | dev.slot << 11 | reg,
		  4);
	if (write)
		do_access(&pio, PLATFORM_PCI_CONFIG_DATA_PORT, true, v, 4);
	else
		bus_read(&pio, PLATFORM_PCI_CONFIG_DATA_PORT, &v, 4);
	return v;
}

/* What firmware does to learn a BAR's size: all-ones, read back, restore. */
static void sizing_probe(unsigned int bar, bool ecam)
{
	unsigned int reg = PCI_CFG_BAR0 + 4 * bar;
	uint64_t size = bar_size(bar), before, mask;
	uint32_t old_lo, old_hi = 0, lo, hi = 0, type;
	bool is64 = bar == 0;

	pci_device_lock(&dev);
	before = pci_device_bar_addr(&dev, bar);
	pci_device_unlock(&dev);
	old_lo = cfg_access(ecam, reg, false, 0);
	if (is64)
		old_hi = cfg_access(ecam, reg + 4, false, 0);
	cfg_access(ecam, reg, true, 0xffffffffu);
	if (is64)
		cfg_access(ecam, reg + 4, true, 0xffffffffu);
	lo = cfg_access(ecam, reg, false, 0);
	if (is64)
		hi = cfg_access(ecam, reg + 4, false, 0);
	type = bar == 4 ? 0x1 : bar == 2 ? 0x8 : 0x4;
	mask = ~(size - 1) & (bar == 4 ? 0xfffffffcull : ~0xfull);
	check(lo == ((uint32_t)mask | type));
	if (is64)
		check(hi == 0xffffffffu);
	pci_device_lock(&dev);
	check(pci_device_bar_addr(&dev, bar) == 0);
	pci_device_unlock(&dev);
	cfg_access(ecam, reg, true, old_lo);
	if (is64)
		cfg_access(ecam, reg + 4, true, old_hi);
	check(cfg_access(ecam, reg, false, 0) == old_lo);
	pci_device_lock(&dev);
	check(pci_device_bar_addr(&dev, bar) == before);
	pci_device_unlock(&dev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t nrec;

	if (size < 1)
		return 0;
	memset(&pbus, 0, sizeof(pbus));
	check(setup(data[0]));
	check_state(true);
	data++, size--;
	nrec = size / RECORD_SIZE;
	if (nrec > MAX_RECORDS)
		nrec = MAX_RECORDS;

	for (size_t i = 0; i < nrec; i++) {
		const uint8_t *r = data + i * RECORD_SIZE;
		unsigned int op = r[0] % 8, len = 1u << (r[1] & 3);
		bool write = r[1] & 4;
		uint16_t off = get16(r + 2);
		uint32_t value = get32(r + 4);

		switch (op) {
		case 0: /* the latch only takes 32-bit accesses; let others through to see */
			do_access(&pio, PLATFORM_PCI_CONFIG_ADDRESS_PORT, true, value, len);
			break;
		case 1:
			do_access(&pio, PLATFORM_PCI_CONFIG_DATA_PORT + (off & 3), write, value,
				  len);
			break;
		case 2: {
			uint64_t ecam = (uint64_t)(value & 0xff) << 12 | (off & 0xfff);

			if (value & 0x100) /* beyond bus 0's function table, still in ECAM */
				ecam |= (uint64_t)(off >> 12) << 16;
			do_access(&mmio, PLATFORM_PCI_ECAM_START + ecam % PLATFORM_PCI_ECAM_SIZE,
				  write, value, len);
			break;
		}
		case 3: {
			unsigned int bar = ((r[1] >> 4) & 3) * 2;
			uint64_t base, size_b;

			if (bar == 6)
				bar = 0;
			size_b = bar_size(bar);
			pci_device_lock(&dev);
			base = pci_device_bar_addr(&dev, bar);
			pci_device_unlock(&dev);
			if (!base) /* not decoded: aim at where firmware put it */
				base = bar == 4 ? PLATFORM_PCI_IO_START : PLATFORM_PCI_MMIO32_START;
			/* mostly inside, sometimes straddling the end */
			do_access(bar == 4 ? &pio : &mmio, base + off % (size_b + 8), write, value,
				  len);
			break;
		}
		case 4:
			do_access(&pio, (uint64_t)off | (uint64_t)(value & 0xffff) << 16, write,
				  value, len);
			break;
		case 5:
			do_access(&mmio, (uint64_t)off << 32 | value, write, value, len);
			break;
		case 6: {
			uint64_t pba_before[MSIX_MAX_VECTORS / 64];
			unsigned int vec = value % 64;

			memcpy(pba_before, msix.pba, sizeof(pba_before));
			if (!msix_notify(&msix, vec))
				check(!msix.enabled);
			else if (vec < nvec && vector_masked(vec))
				check(msix.pba[vec / 64] & 1ull << (vec % 64));
			else
				check(!memcmp(pba_before, msix.pba, sizeof(pba_before)));
			break;
		}
		default: {
			unsigned int bar = ((r[1] >> 4) & 3) * 2;

			sizing_probe(bar == 6 ? 0 : bar, write);
			break;
		}
		}
		/* the table and BAR routing checks cost the most: every 8th record and the last */
		check_state(i % 8 == 7 || i + 1 == nrec);
	}
	msix_destroy(&msix);
	return 0;
}
