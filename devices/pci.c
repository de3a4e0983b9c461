/* SPDX-License-Identifier: MIT */
/*
 * One PCI function's configuration space (PCI Local Bus 3.0, chapter 6): the bytes and
 * their write masks, BARs as the device declares them, the capability list, and INTx
 * sharing. What the guest's config accesses and BAR accesses do is devices/pci_bus.c.
 * Every offset is checked, so nothing here can reach outside a device's 256 bytes.
 */
#include <errno.h>
#include <string.h>

#include "devices/pci.h"
#include "devices/pci_internal.h"
#include "devices/platform.h"

#define PCI_BAR_IO_SPACE 0x1u
#define PCI_BAR_MEM_TYPE_64 0x4u
#define PCI_BAR_MEM_PREFETCH 0x8u

#define PCI_CAP_WALK_MAX ((PCI_CONFIG_SIZE - PCI_CFG_CAP_START) / 4)

/* ---- raw config bytes ---- */

uint32_t pci_get(const struct pci_device *dev, unsigned int offset, unsigned int len)
{
	uint32_t v = 0;

	for (unsigned int i = 0; i < len && offset < PCI_CONFIG_SIZE - i; i++)
		v |= (uint32_t)dev->config[offset + i] << (8 * i);
	return v;
}

void pci_set(uint8_t *bytes, unsigned int offset, uint32_t v, unsigned int len)
{
	for (unsigned int i = 0; i < len && offset < PCI_CONFIG_SIZE - i; i++)
		bytes[offset + i] = v >> (8 * i);
}

/* One byte as the guest sees it: status bit 3 follows the INTx level. */
uint8_t pci_guest_byte(const struct pci_device *dev, unsigned int offset)
{
	uint8_t v = dev->config[offset];

	if (offset == PCI_CFG_STATUS && __atomic_load_n(&dev->intx_level, __ATOMIC_RELAXED))
		v |= PCI_STS_INTX;
	return v;
}

uint32_t pci_device_config_get(const struct pci_device *dev, unsigned int offset, unsigned int len)
{
	uint32_t v = 0;

	if (!dev || (len != 1 && len != 2 && len != 4))
		return 0;
	for (unsigned int i = 0; i < len && offset < PCI_CONFIG_SIZE - i; i++)
		v |= (uint32_t)pci_guest_byte(dev, offset + i) << (8 * i);
	return v;
}

void pci_device_config_set(struct pci_device *dev, unsigned int offset, uint32_t value,
			   unsigned int len)
{
	if (!dev || (len != 1 && len != 2 && len != 4) || offset >= PCI_CONFIG_SIZE)
		return;
	pci_set(dev->config, offset, value, len);
}

/* ---- device set-up ---- */

void pci_device_init(struct pci_device *dev, uint16_t vendor, uint16_t device, uint32_t class_code,
		     uint16_t subsys_vendor, uint16_t subsys_id, uint8_t revision,
		     const struct pci_device_ops *ops, void *opaque)
{
	memset(dev, 0, sizeof(*dev));
	pci_set(dev->config, PCI_CFG_VENDOR_ID, vendor, 2);
	pci_set(dev->config, PCI_CFG_DEVICE_ID, device, 2);
	pci_set(dev->config, PCI_CFG_REVISION, revision, 1);
	pci_set(dev->config, PCI_CFG_CLASS, class_code & 0xffffff, 3);
	pci_set(dev->config, PCI_CFG_SUBSYS_VENDOR_ID, subsys_vendor, 2);
	pci_set(dev->config, PCI_CFG_SUBSYS_ID, subsys_id, 2);
	/* Header type 0, single function; no expansion ROM; no capabilities yet. */
	pci_set(dev->wmask, PCI_CFG_COMMAND,
		PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_BUS_MASTER | PCI_CMD_INTX_DISABLE, 2);
	pci_set(dev->wmask, PCI_CFG_CACHE_LINE_SIZE, 0xff, 1);
	pci_set(dev->wmask, PCI_CFG_INTERRUPT_LINE, 0xff, 1);
	dev->ops = ops;
	dev->opaque = opaque;
	dev->cap_end = PCI_CFG_CAP_START;
}

static bool pci_is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static bool pci_bar_upper_half(const struct pci_device *dev, unsigned int index)
{
	return index > 0 && (dev->bars[index - 1].flags & PCI_BAR_MEM64);
}

static bool pci_bar_taken(const struct pci_device *dev, unsigned int index)
{
	return dev->bars[index].size || pci_bar_upper_half(dev, index);
}

static int pci_bar_check(const struct pci_device *dev, unsigned int index, uint64_t size,
			 unsigned int flags)
{
	unsigned int type = flags & (PCI_BAR_IO | PCI_BAR_MEM32 | PCI_BAR_MEM64);

	if (flags & ~(PCI_BAR_IO | PCI_BAR_MEM32 | PCI_BAR_MEM64 | PCI_BAR_PREFETCH))
		return -EINVAL;
	if (!pci_is_pow2(type) || ((flags & PCI_BAR_PREFETCH) && type == PCI_BAR_IO))
		return -EINVAL;
	if (index >= PCI_NUM_BARS || (type == PCI_BAR_MEM64 && index + 1 >= PCI_NUM_BARS))
		return -EINVAL;
	if (pci_bar_taken(dev, index) || (type == PCI_BAR_MEM64 && pci_bar_taken(dev, index + 1)))
		return -EINVAL;
	if (!pci_is_pow2(size))
		return -EINVAL;
	switch (type) {
	case PCI_BAR_IO:
		return size >= PCI_BAR_IO_MIN_SIZE && size <= PCI_BAR_IO_MAX_SIZE ? 0 : -EINVAL;
	case PCI_BAR_MEM32:
		return size >= PCI_BAR_MEM_MIN_SIZE && size <= (1ull << 31) ? 0 : -EINVAL;
	default:
		return size >= PCI_BAR_MEM_MIN_SIZE && size <= (1ull << 63) ? 0 : -EINVAL;
	}
}

int pci_device_add_bar(struct pci_device *dev, unsigned int index, uint64_t size,
		       unsigned int flags)
{
	unsigned int reg = PCI_CFG_BAR0 + 4 * index;
	uint32_t low_bits;
	uint64_t mask;
	int err;

	if (!dev)
		return -EINVAL;
	if (dev->bus)
		return -EBUSY;
	err = pci_bar_check(dev, index, size, flags);
	if (err)
		return err;
	dev->bars[index] = (struct pci_bar){ .size = size, .flags = flags };
	if (flags & PCI_BAR_IO) {
		low_bits = PCI_BAR_IO_SPACE;
		mask = ~(size - 1) & PCI_BAR_IO_ADDR_MASK;
	} else {
		low_bits = (flags & PCI_BAR_MEM64 ? PCI_BAR_MEM_TYPE_64 : 0) |
			   (flags & PCI_BAR_PREFETCH ? PCI_BAR_MEM_PREFETCH : 0);
		mask = ~(size - 1) & PCI_BAR_MEM_ADDR_MASK;
	}
	/* The low bits say what the BAR is; the bits below its size read back as zero. */
	pci_set(dev->config, reg, low_bits, 4);
	pci_set(dev->wmask, reg, (uint32_t)mask, 4);
	if (flags & PCI_BAR_MEM64) {
		pci_set(dev->config, reg + 4, 0, 4);
		pci_set(dev->wmask, reg + 4, mask >> 32, 4);
	}
	return 0;
}

int pci_device_add_capability(struct pci_device *dev, const void *cap, size_t len,
			      const void *wmask)
{
	unsigned int off;

	if (!dev || !cap || len < 2)
		return -EINVAL;
	if (dev->bus)
		return -EBUSY;
	off = dev->cap_end;
	if (off > PCI_CONFIG_SIZE || len > PCI_CONFIG_SIZE - off)
		return -ENOSPC;
	memcpy(dev->config + off, cap, len);
	dev->config[off + 1] = 0; /* the end of the list, for now */
	if (wmask)
		memcpy(dev->wmask + off, wmask, len);
	dev->wmask[off] = 0;
	dev->wmask[off + 1] = 0;
	if (dev->cap_last) {
		dev->config[dev->cap_last + 1] = off;
	} else {
		dev->config[PCI_CFG_CAP_PTR] = off;
		dev->config[PCI_CFG_STATUS] |= PCI_STS_CAP_LIST;
	}
	dev->cap_last = off;
	dev->cap_end = (off + len + 3) & ~3u;
	return off;
}

unsigned int pci_device_find_capability(const struct pci_device *dev, uint8_t id, unsigned int from)
{
	unsigned int off;

	if (!dev || !(dev->config[PCI_CFG_STATUS] & PCI_STS_CAP_LIST))
		return 0;
	off = dev->config[PCI_CFG_CAP_PTR];
	/* Bounded, so even a list a bug made circular ends. */
	for (unsigned int n = 0; off && n < PCI_CAP_WALK_MAX; n++) {
		off &= ~3u;
		if (off < PCI_CFG_CAP_START)
			return 0;
		if (off >= from && dev->config[off] == id)
			return off;
		off = dev->config[off + 1];
	}
	return 0;
}

uint64_t pci_device_bar_addr(const struct pci_device *dev, unsigned int bar)
{
	return dev && bar < PCI_NUM_BARS ? dev->bars[bar].decoded : 0;
}

void pci_device_lock(struct pci_device *dev)
{
	if (dev && dev->bus)
		pthread_mutex_lock(&dev->bus->lock);
}

void pci_device_unlock(struct pci_device *dev)
{
	if (dev && dev->bus)
		pthread_mutex_unlock(&dev->bus->lock);
}

/* ---- INTx ---- */

/* Bring what the device adds to its GSI in line with its level. Call with intx_lock held. */
void pci_intx_sync(struct pci_bus *bus, struct pci_device *dev)
{
	bool drive = dev->intx_level && !dev->intx_disabled &&
		     dev->config[PCI_CFG_INTERRUPT_PIN] == PCI_INTX_PIN_A;
	unsigned int *users = &bus->gsi_users[dev->slot % PCI_INTX_GSIS];

	if (drive == dev->intx_driven)
		return;
	dev->intx_driven = drive;
	if (drive ? (*users)++ == 0 : --(*users) == 0) {
		if (bus->set_irq)
			bus->set_irq(bus->irq_ctx, dev->gsi, drive);
	}
}

void pci_device_set_intx(struct pci_device *dev, bool level)
{
	struct pci_bus *bus;

	if (!dev)
		return;
	bus = dev->bus;
	if (!bus) {
		__atomic_store_n(&dev->intx_level, level, __ATOMIC_RELAXED);
		return;
	}
	pthread_mutex_lock(&bus->intx_lock);
	__atomic_store_n(&dev->intx_level, level, __ATOMIC_RELAXED);
	pci_intx_sync(bus, dev);
	pthread_mutex_unlock(&bus->intx_lock);
}

/* The guest may have flipped INTX_DISABLE. Call with the bus mutex held. */
void pci_intx_command_changed(struct pci_bus *bus, struct pci_device *dev)
{
	bool disabled = pci_get(dev, PCI_CFG_COMMAND, 2) & PCI_CMD_INTX_DISABLE;

	pthread_mutex_lock(&bus->intx_lock);
	dev->intx_disabled = disabled;
	pci_intx_sync(bus, dev);
	pthread_mutex_unlock(&bus->intx_lock);
}
