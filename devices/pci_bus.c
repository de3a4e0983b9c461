/* SPDX-License-Identifier: MIT */
/*
 * PCI bus 0 as the guest sees it: configuration mechanism #1 (CF8/CFC, PCI Local Bus 3.0
 * section 3.2.2.3.2) and ECAM (PCI Express Base, section 7.2.2), BAR sizing and decoding,
 * routing BAR accesses to their device, and the bus's own set-up and BAR assignment.
 * Every value the guest writes is masked before it is stored (devices/pci.c holds the
 * bytes and masks), so no sequence of config accesses can reach outside a device's 256 bytes.
 */
#include <errno.h>
#include <string.h>

#include "devices/pci.h"
#include "devices/pci_internal.h"
#include "devices/platform.h"

#define PCI_CF8_ENABLE 0x80000000u
#define PCI_CF8_MASK 0x80fffffcu /* enable, bus, device, function, dword register */

#define GiB (1ull << 30)

/* ---- BAR decoding ---- */

static bool pci_fits(uint64_t addr, uint64_t size, uint64_t start, uint64_t len)
{
	return addr >= start && size <= len && addr - start <= len - size;
}

static uint32_t pci_wmask32(const struct pci_device *dev, unsigned int offset)
{
	uint32_t v = 0;

	for (unsigned int i = 0; i < 4; i++)
		v |= (uint32_t)dev->wmask[offset + i] << (8 * i);
	return v;
}

/* The BAR holds the all-ones pattern of a sizing probe in either of its halves. */
static bool pci_bar_sizing(const struct pci_device *dev, unsigned int index)
{
	unsigned int reg = PCI_CFG_BAR0 + 4 * index;
	uint32_t mask = pci_wmask32(dev, reg);

	if (mask && (pci_get(dev, reg, 4) & mask) == mask)
		return true;
	if (!(dev->bars[index].flags & PCI_BAR_MEM64))
		return false;
	mask = pci_wmask32(dev, reg + 4);
	return mask && (pci_get(dev, reg + 4, 4) & mask) == mask;
}

static bool pci_in_window(const struct pci_bus *bus, unsigned int flags, uint64_t addr,
			  uint64_t size)
{
	if (flags & PCI_BAR_IO)
		return pci_fits(addr, size, PLATFORM_PCI_IO_START,
				PLATFORM_PCI_IO_END + 1 - PLATFORM_PCI_IO_START);
	if (pci_fits(addr, size, PLATFORM_PCI_MMIO32_START, PLATFORM_PCI_MMIO32_SIZE))
		return true;
	return (flags & PCI_BAR_MEM64) && bus->mmio64_base &&
	       pci_fits(addr, size, bus->mmio64_base, PLATFORM_PCI_MMIO64_SIZE);
}

/* What BAR index decodes under the current command register, or 0. */
static uint64_t pci_bar_decode(const struct pci_bus *bus, const struct pci_device *dev,
			       unsigned int index)
{
	const struct pci_bar *bar = &dev->bars[index];
	unsigned int reg = PCI_CFG_BAR0 + 4 * index;
	uint16_t cmd = pci_get(dev, PCI_CFG_COMMAND, 2);
	uint64_t addr = pci_get(dev, reg, 4);

	if (!bar->size)
		return 0;
	if (bar->flags & PCI_BAR_IO) {
		if (!(cmd & PCI_CMD_IO))
			return 0;
		addr &= PCI_BAR_IO_ADDR_MASK;
	} else {
		if (!(cmd & PCI_CMD_MEM))
			return 0;
		if (bar->flags & PCI_BAR_MEM64)
			addr |= (uint64_t)pci_get(dev, reg + 4, 4) << 32;
		addr &= PCI_BAR_MEM_ADDR_MASK;
	}
	if (!addr || pci_bar_sizing(dev, index) || !pci_in_window(bus, bar->flags, addr, bar->size))
		return 0;
	return addr;
}

/* Recompute what every BAR decodes and report each change. Call with the bus mutex held. */
static void pci_update_decode(struct pci_bus *bus, struct pci_device *dev)
{
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		uint64_t old = dev->bars[i].decoded;
		uint64_t now = pci_bar_decode(bus, dev, i);

		if (now == old)
			continue;
		dev->bars[i].decoded = now;
		if (dev->ops && dev->ops->bar_remap)
			dev->ops->bar_remap(dev, i, old, now);
	}
}

/* ---- config accesses from the guest ---- */

static struct pci_device *pci_bus_device(struct pci_bus *bus, unsigned int slot, unsigned int fn)
{
	return fn == 0 && slot < PCI_SLOTS ? bus->slots[slot] : NULL;
}

/* reg + len <= PCI_ECAM_FN_SIZE; call with the bus mutex held. */
static void pci_config_read(struct pci_device *dev, unsigned int reg, uint8_t *data,
			    unsigned int len)
{
	for (unsigned int i = 0; i < len; i++)
		data[i] = reg + i < PCI_CONFIG_SIZE ? pci_guest_byte(dev, reg + i) : 0;
}

static void pci_config_write(struct pci_bus *bus, struct pci_device *dev, unsigned int reg,
			     const uint8_t *data, unsigned int len)
{
	unsigned int end = reg + len;

	if (reg >= PCI_CONFIG_SIZE)
		return; /* extended config space: nothing there */
	if (end > PCI_CONFIG_SIZE)
		end = PCI_CONFIG_SIZE;
	for (unsigned int i = reg; i < end; i++)
		dev->config[i] =
			(dev->config[i] & ~dev->wmask[i]) | (data[i - reg] & dev->wmask[i]);
	if (reg <= PCI_CFG_COMMAND + 1 && end > PCI_CFG_COMMAND)
		pci_intx_command_changed(bus, dev);
	pci_update_decode(bus, dev);
	if (dev->ops && dev->ops->config_write)
		dev->ops->config_write(dev, reg, end - reg);
}

/* One config access to bus 0; anything that reaches no device reads as all-ones. */
static void pci_config_access_locked(struct pci_bus *bus, unsigned int slot, unsigned int fn,
				     unsigned int reg, void *data, unsigned int len, bool write)
{
	struct pci_device *dev = pci_bus_device(bus, slot, fn);

	if (!dev || len > 8 || reg >= PCI_ECAM_FN_SIZE || len > PCI_ECAM_FN_SIZE - reg) {
		if (!write)
			memset(data, 0xff, len);
		return;
	}
	if (write)
		pci_config_write(bus, dev, reg, data, len);
	else
		pci_config_read(dev, reg, data, len);
}

static void pci_cf8_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct pci_bus *bus = opaque;
	uint32_t v;

	/* Only a dword access at 0xCF8 is the address register; bytes stay all-ones. */
	if (offset != 0 || len != 4)
		return;
	pthread_mutex_lock(&bus->lock);
	v = bus->config_address;
	pthread_mutex_unlock(&bus->lock);
	memcpy(data, &v, 4);
}

static void pci_cf8_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct pci_bus *bus = opaque;
	uint32_t v;

	if (offset != 0 || len != 4)
		return;
	memcpy(&v, data, 4);
	pthread_mutex_lock(&bus->lock);
	bus->config_address = v & PCI_CF8_MASK;
	pthread_mutex_unlock(&bus->lock);
}

static void pci_cfc_access(struct pci_bus *bus, uint64_t offset, void *data, unsigned int len,
			   bool write)
{
	uint32_t addr;

	pthread_mutex_lock(&bus->lock);
	addr = bus->config_address;
	if ((addr & PCI_CF8_ENABLE) && !((addr >> 16) & 0xff) && offset < 4 && len <= 4 - offset)
		pci_config_access_locked(bus, (addr >> 11) & 0x1f, (addr >> 8) & 0x7,
					 (addr & 0xfc) + offset, data, len, write);
	else if (!write)
		memset(data, 0xff, len);
	pthread_mutex_unlock(&bus->lock);
}

static void pci_cfc_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	pci_cfc_access(opaque, offset, data, len, false);
}

static void pci_cfc_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	pci_cfc_access(opaque, offset, (void *)data, len, true);
}

/* ECAM for bus 0: offset bits 19-15 the device, 14-12 the function, 11-0 the register. */
static void pci_ecam_access(struct pci_bus *bus, uint64_t offset, void *data, unsigned int len,
			    bool write)
{
	if (offset >= PLATFORM_PCI_ECAM_SIZE) {
		if (!write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&bus->lock);
	pci_config_access_locked(bus, (offset >> 15) & 0x1f, (offset >> 12) & 0x7, offset & 0xfff,
				 data, len, write);
	pthread_mutex_unlock(&bus->lock);
}

static void pci_ecam_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	pci_ecam_access(opaque, offset, data, len, false);
}

static void pci_ecam_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	pci_ecam_access(opaque, offset, (void *)data, len, true);
}

static const struct bus_device_ops pci_cf8_ops = { .read = pci_cf8_read, .write = pci_cf8_write };
static const struct bus_device_ops pci_cfc_ops = { .read = pci_cfc_read, .write = pci_cfc_write };
static const struct bus_device_ops pci_ecam_ops = { .read = pci_ecam_read,
						    .write = pci_ecam_write };

/* ---- BAR accesses ---- */

/* Find the BAR that decodes [addr, addr + len) of the given space. */
static struct pci_device *pci_bar_lookup(struct pci_bus *bus, bool io, uint64_t addr,
					 unsigned int len, unsigned int *bar, uint64_t *offset)
{
	struct pci_device *found = NULL;

	pthread_mutex_lock(&bus->lock);
	for (unsigned int s = 0; s < PCI_SLOTS && !found; s++) {
		struct pci_device *dev = bus->slots[s];

		for (unsigned int i = 0; dev && i < PCI_NUM_BARS; i++) {
			const struct pci_bar *b = &dev->bars[i];

			if (!b->decoded || !(b->flags & PCI_BAR_IO) != !io ||
			    !pci_fits(addr, len, b->decoded, b->size))
				continue;
			found = dev;
			*bar = i;
			*offset = addr - b->decoded;
			break;
		}
	}
	pthread_mutex_unlock(&bus->lock);
	return found;
}

static void pci_window_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct pci_window *w = opaque;
	struct pci_device *dev;
	unsigned int bar;
	uint64_t off;

	dev = pci_bar_lookup(w->bus, w->io, w->base + offset, len, &bar, &off);
	if (dev && dev->ops && dev->ops->bar_read)
		dev->ops->bar_read(dev, bar, off, data, len);
}

static void pci_window_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct pci_window *w = opaque;
	struct pci_device *dev;
	unsigned int bar;
	uint64_t off;

	dev = pci_bar_lookup(w->bus, w->io, w->base + offset, len, &bar, &off);
	if (dev && dev->ops && dev->ops->bar_write)
		dev->ops->bar_write(dev, bar, off, data, len);
}

static const struct bus_device_ops pci_window_ops = { .read = pci_window_read,
						      .write = pci_window_write };

/* ---- the bus ---- */

void pci_bus_init(struct pci_bus *bus, uint64_t mmio64_base,
		  void (*set_irq)(void *ctx, unsigned int gsi, bool level), void *ctx)
{
	memset(bus, 0, sizeof(*bus));
	pthread_mutex_init(&bus->lock, NULL);
	pthread_mutex_init(&bus->intx_lock, NULL);
	/* A window that would wrap around the top of the address space is no window. */
	if (mmio64_base > UINT64_MAX - PLATFORM_PCI_MMIO64_SIZE + 1)
		mmio64_base = 0;
	bus->mmio64_base = mmio64_base;
	bus->next_io = PLATFORM_PCI_IO_START;
	bus->next_mmio32 = PLATFORM_PCI_MMIO32_START;
	bus->next_mmio64 = mmio64_base;
	bus->set_irq = set_irq;
	bus->irq_ctx = ctx;
	bus->windows[PCI_WINDOW_IO] = (struct pci_window){ bus, PLATFORM_PCI_IO_START, true };
	bus->windows[PCI_WINDOW_MMIO32] =
		(struct pci_window){ bus, PLATFORM_PCI_MMIO32_START, false };
	bus->windows[PCI_WINDOW_MMIO64] = (struct pci_window){ bus, mmio64_base, false };

	pci_device_init(&bus->host_bridge, PCI_HOST_BRIDGE_VENDOR, PCI_HOST_BRIDGE_DEVICE,
			PCI_CLASS_HOST_BRIDGE, 0, 0, 0, NULL, NULL);
	bus->host_bridge.bus = bus;
	bus->slots[0] = &bus->host_bridge;
}

/* Take a naturally aligned range of size bytes from [*next, start + len). */
static int pci_alloc(uint64_t *next, uint64_t size, uint64_t start, uint64_t len, uint64_t *addr)
{
	uint64_t at;

	if (*next > UINT64_MAX - (size - 1))
		return -ENOSPC;
	at = (*next + size - 1) & ~(size - 1);
	if (!pci_fits(at, size, start, len))
		return -ENOSPC;
	*addr = at;
	*next = at + size;
	return 0;
}

static int pci_assign_bar(struct pci_bus *bus, const struct pci_bar *bar, uint64_t *next,
			  uint64_t *addr)
{
	if (bar->flags & PCI_BAR_IO)
		return pci_alloc(&next[PCI_WINDOW_IO], bar->size, PLATFORM_PCI_IO_START,
				 PLATFORM_PCI_IO_END + 1 - PLATFORM_PCI_IO_START, addr);
	if ((bar->flags & PCI_BAR_MEM64) && bus->mmio64_base)
		return pci_alloc(&next[PCI_WINDOW_MMIO64], bar->size, bus->mmio64_base,
				 PLATFORM_PCI_MMIO64_SIZE, addr);
	return pci_alloc(&next[PCI_WINDOW_MMIO32], bar->size, PLATFORM_PCI_MMIO32_START,
			 PLATFORM_PCI_MMIO32_SIZE, addr);
}

/* Give every BAR an address, or none when one does not fit. Call with the bus mutex held. */
static int pci_assign_bars(struct pci_bus *bus, struct pci_device *dev)
{
	uint64_t next[PCI_NR_WINDOWS] = {
		[PCI_WINDOW_IO] = bus->next_io,
		[PCI_WINDOW_MMIO32] = bus->next_mmio32,
		[PCI_WINDOW_MMIO64] = bus->next_mmio64,
	};
	uint64_t addr[PCI_NUM_BARS] = { 0 };
	int err;

	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		if (!dev->bars[i].size)
			continue;
		err = pci_assign_bar(bus, &dev->bars[i], next, &addr[i]);
		if (err)
			return err;
	}
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		unsigned int reg = PCI_CFG_BAR0 + 4 * i;

		if (!dev->bars[i].size)
			continue;
		pci_set(dev->config, reg,
			(pci_get(dev, reg, 4) & ~pci_wmask32(dev, reg)) | (uint32_t)addr[i], 4);
		if (dev->bars[i].flags & PCI_BAR_MEM64)
			pci_set(dev->config, reg + 4, addr[i] >> 32, 4);
	}
	bus->next_io = next[PCI_WINDOW_IO];
	bus->next_mmio32 = next[PCI_WINDOW_MMIO32];
	bus->next_mmio64 = next[PCI_WINDOW_MMIO64];
	return 0;
}

int pci_bus_add_device(struct pci_bus *bus, struct pci_device *dev)
{
	unsigned int slot;
	int err;

	if (!bus || !dev)
		return -EINVAL;
	if (dev->bus)
		return -EBUSY;
	pthread_mutex_lock(&bus->lock);
	for (slot = 1; slot < PCI_SLOTS && bus->slots[slot]; slot++)
		;
	err = slot < PCI_SLOTS ? pci_assign_bars(bus, dev) : -ENOSPC;
	if (!err) {
		dev->slot = slot;
		dev->gsi = PLATFORM_PCI_INTX_GSI_BASE + slot % PCI_INTX_GSIS;
		pci_set(dev->config, PCI_CFG_COMMAND, 0, 2);
		dev->config[PCI_CFG_INTERRUPT_PIN] = PCI_INTX_PIN_A;
		dev->config[PCI_CFG_INTERRUPT_LINE] = dev->gsi;
		dev->intx_disabled = false;
		dev->intx_driven = false;
		for (unsigned int i = 0; i < PCI_NUM_BARS; i++)
			dev->bars[i].decoded = 0;
		dev->bus = bus;
		bus->slots[slot] = dev;
	}
	pthread_mutex_unlock(&bus->lock);
	if (err)
		return err;
	/* A level set before the device was on the bus takes effect now. */
	pthread_mutex_lock(&bus->intx_lock);
	pci_intx_sync(bus, dev);
	pthread_mutex_unlock(&bus->intx_lock);
	return slot;
}

struct pci_claim {
	struct bus *bus;
	uint64_t base, len;
	const struct bus_device_ops *ops;
	void *opaque;
	const char *name;
};

int pci_bus_register(struct pci_bus *bus, struct bus *pio, struct bus *mmio)
{
	const struct pci_claim claims[] = {
		{ pio, PLATFORM_PCI_CONFIG_ADDRESS_PORT, 4, &pci_cf8_ops, bus, "pci-cf8" },
		{ pio, PLATFORM_PCI_CONFIG_DATA_PORT, 4, &pci_cfc_ops, bus, "pci-cfc" },
		{ pio, PLATFORM_PCI_IO_START, PLATFORM_PCI_IO_END + 1 - PLATFORM_PCI_IO_START,
		  &pci_window_ops, &bus->windows[PCI_WINDOW_IO], "pci-io" },
		{ mmio, PLATFORM_PCI_ECAM_START, PLATFORM_PCI_ECAM_SIZE, &pci_ecam_ops, bus,
		  "pci-ecam" },
		{ mmio, PLATFORM_PCI_MMIO32_START, PLATFORM_PCI_MMIO32_SIZE, &pci_window_ops,
		  &bus->windows[PCI_WINDOW_MMIO32], "pci-mmio32" },
		{ bus->mmio64_base ? mmio : NULL, bus->mmio64_base, PLATFORM_PCI_MMIO64_SIZE,
		  &pci_window_ops, &bus->windows[PCI_WINDOW_MMIO64], "pci-mmio64" },
	};
	size_t n = sizeof(claims) / sizeof(claims[0]), i;
	int err = 0;

	for (i = 0; i < n && !err; i++) {
		if (claims[i].bus)
			err = bus_register(claims[i].bus, claims[i].base, claims[i].len,
					   claims[i].ops, claims[i].opaque, claims[i].name);
	}
	if (!err)
		return 0;
	/* claims[i - 1] failed: give back the ones before it. */
	for (i--; i-- > 0;) {
		if (claims[i].bus)
			bus_unregister(claims[i].bus, claims[i].base);
	}
	return err;
}

uint64_t pci_mmio64_base(uint64_t mem_size)
{
	uint64_t end = PLATFORM_4G, above;

	if (mem_size > PLATFORM_PCI_HOLE_START) {
		above = mem_size - PLATFORM_PCI_HOLE_START;
		if (above > UINT64_MAX - PLATFORM_4G)
			return 0;
		end += above;
	}
	if (end > UINT64_MAX - (GiB - 1))
		return 0;
	end = (end + GiB - 1) & ~(GiB - 1);
	if (end > UINT64_MAX - PLATFORM_PCI_MMIO64_SIZE + 1)
		return 0;
	return end;
}

void pci_bus_save_config(struct pci_bus *bus, struct pci_device *dev,
			 uint8_t config[PCI_CONFIG_SIZE])
{
	pthread_mutex_lock(&bus->lock);
	memcpy(config, dev->config, PCI_CONFIG_SIZE);
	pthread_mutex_unlock(&bus->lock);
}

void pci_bus_restore_config(struct pci_bus *bus, struct pci_device *dev,
			    const uint8_t config[PCI_CONFIG_SIZE])
{
	static const struct {
		unsigned int start, end;
	} order[] = {
		{ PCI_CFG_BAR0, PCI_CFG_SUBSYS_VENDOR_ID }, /* the BARs */
		{ PCI_CFG_CAP_START, PCI_CONFIG_SIZE },	    /* the capabilities */
		{ PCI_CFG_REVISION, PCI_CFG_BAR0 },	    /* and the rest of the header */
		{ PCI_CFG_SUBSYS_VENDOR_ID, PCI_CFG_CAP_START },
		{ PCI_CFG_COMMAND, PCI_CFG_STATUS }, /* decoding on last */
	};

	pthread_mutex_lock(&bus->lock);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		for (unsigned int at = order[i].start; at < order[i].end; at += 2)
			pci_config_write(bus, dev, at, config + at, 2);
	pthread_mutex_unlock(&bus->lock);
}
