/* SPDX-License-Identifier: MIT */
/*
 * Conventional PCI, bus 0 only, one function per slot: the configuration space of each
 * device (with write masks, BARs and a capability list), the two ways a guest reaches it
 * (configuration mechanism #1 at ports 0xCF8/0xCFC, and ECAM), firmware-style BAR
 * assignment, INTx routing and the routing of BAR accesses to the device that decodes them.
 *
 * A device model embeds (or points to) a struct pci_device, describes it with
 * pci_device_init(), pci_device_add_bar() and pci_device_add_capability(), then hands it
 * to pci_bus_add_device(), which assigns its BARs as a BIOS would and leaves decoding off.
 *
 * BAR accesses: pci_bus_register() claims the whole I/O window and both memory windows on
 * the buses and forwards each access to ops->bar_read/bar_write of the device whose BAR
 * decodes it. Devices must NOT register their BAR ranges on the buses themselves: a
 * config write reached through ECAM runs inside bus_write() on the MMIO bus, with that
 * bus's lock held for reading, so registering on it from ops->bar_remap would deadlock.
 * Nor may any pci_device_ops callback call bus_register() or bus_unregister() on any
 * bus: a BAR access on another vCPU holds that bus's lock while it waits for the PCI
 * mutex. Use bar_remap for what is not on the buses (ioeventfds, for example).
 *
 * Locking: one mutex per bus guards every config space on it, the CF8 latch and the BAR
 * decode state. ops->bar_remap and ops->config_write are called with it held; they may
 * call pci_device_config_get/set(), pci_device_bar_addr() and pci_device_set_intx(), and
 * must not call pci_device_lock() or any pci_bus_*() function. ops->bar_read/bar_write
 * are called with no PCI lock held. A second mutex guards the INTx state; the bus's
 * set_irq() callback is called with it held (and possibly with the bus mutex too).
 */
#ifndef DEVICES_PCI_H
#define DEVICES_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/bus.h"

#define PCI_SLOTS 32
#define PCI_NUM_BARS 6
#define PCI_CONFIG_SIZE 256   /* what each function implements */
#define PCI_ECAM_FN_SIZE 4096 /* what ECAM maps per function; the rest reads as zero */

/* Type 0 configuration header (PCI Local Bus 3.0, section 6.1). */
#define PCI_CFG_VENDOR_ID 0x00
#define PCI_CFG_DEVICE_ID 0x02
#define PCI_CFG_COMMAND 0x04
#define PCI_CFG_STATUS 0x06
#define PCI_CFG_REVISION 0x08
#define PCI_CFG_CLASS 0x09 /* 3 bytes: programming interface, subclass, base class */
#define PCI_CFG_CACHE_LINE_SIZE 0x0c
#define PCI_CFG_HEADER_TYPE 0x0e
#define PCI_CFG_BAR0 0x10 /* BAR n at PCI_CFG_BAR0 + 4 * n */
#define PCI_CFG_SUBSYS_VENDOR_ID 0x2c
#define PCI_CFG_SUBSYS_ID 0x2e
#define PCI_CFG_ROM 0x30
#define PCI_CFG_CAP_PTR 0x34
#define PCI_CFG_INTERRUPT_LINE 0x3c
#define PCI_CFG_INTERRUPT_PIN 0x3d
#define PCI_CFG_CAP_START 0x40 /* the first capability goes here */

#define PCI_CMD_IO 0x0001
#define PCI_CMD_MEM 0x0002
#define PCI_CMD_BUS_MASTER 0x0004
#define PCI_CMD_INTX_DISABLE 0x0400

#define PCI_STS_INTX 0x0008	/* the device asserts INTx (even if INTX_DISABLE is set) */
#define PCI_STS_CAP_LIST 0x0010 /* PCI_CFG_CAP_PTR is valid */

#define PCI_CAPID_VNDR 0x09 /* vendor-specific (virtio's capabilities) */
#define PCI_CAPID_MSIX 0x11

/* pci_device_add_bar() flags: exactly one type, PCI_BAR_PREFETCH only with memory. */
#define PCI_BAR_IO (1u << 0)
#define PCI_BAR_MEM32 (1u << 1)
#define PCI_BAR_MEM64 (1u << 2) /* takes index and index + 1 */
#define PCI_BAR_PREFETCH (1u << 3)

/* The smallest BARs the PCI specification allows, and the largest I/O BAR. */
#define PCI_BAR_MEM_MIN_SIZE 16
#define PCI_BAR_IO_MIN_SIZE 4
#define PCI_BAR_IO_MAX_SIZE 256

struct pci_device;
struct pci_bus;

/* Every callback is optional. bar is the BAR index (the lower one for a 64-bit BAR). */
struct pci_device_ops {
	/*
	 * What BAR bar decodes changed: old_addr -> new_addr, 0 meaning "not decoded". A BAR
	 * decodes when the command register enables its space, its address lies wholly in
	 * the matching host-bridge window, and it does not hold the all-ones sizing pattern.
	 * Called with the bus mutex held.
	 */
	void (*bar_remap)(struct pci_device *dev, unsigned int bar, uint64_t old_addr,
			  uint64_t new_addr);
	/*
	 * The guest wrote config bytes [offset, offset + len) (within the first 256); the
	 * new values are in place. For capability owners (MSI-X). Called with the bus mutex
	 * held, after any bar_remap calls caused by the same write.
	 */
	void (*config_write)(struct pci_device *dev, unsigned int offset, unsigned int len);
	/*
	 * A guest access to [offset, offset + len) of BAR bar (len 1, 2, 4 or 8); data is in
	 * guest (little-endian) byte order and reads start out as all-ones. Called with no
	 * PCI lock held.
	 */
	void (*bar_read)(struct pci_device *dev, unsigned int bar, uint64_t offset, void *data,
			 unsigned int len);
	void (*bar_write)(struct pci_device *dev, unsigned int bar, uint64_t offset,
			  const void *data, unsigned int len);
};

struct pci_bar {
	uint64_t size;	    /* 0: not implemented */
	unsigned int flags; /* PCI_BAR_*; 0 also for the upper half of a 64-bit BAR */
	uint64_t decoded;   /* the address it decodes now, 0 when none (bus mutex) */
};

struct pci_device {
	uint8_t config[PCI_CONFIG_SIZE];
	uint8_t wmask[PCI_CONFIG_SIZE]; /* bits the guest may change */
	struct pci_bar bars[PCI_NUM_BARS];
	const struct pci_device_ops *ops;
	void *opaque;	     /* for the device model; the PCI code never touches it */
	struct pci_bus *bus; /* set by pci_bus_add_device() */
	unsigned int slot;
	unsigned int gsi;      /* INTA# of this slot (PLATFORM_PCI_INTX_GSI_BASE + ...) */
	unsigned int cap_end;  /* where the next capability may go */
	unsigned int cap_last; /* offset of the last capability, 0 when none */
	bool intx_level;       /* what the device asserts (read atomically) */
	bool intx_disabled;    /* command.INTX_DISABLE, mirrored under the INTx mutex */
	bool intx_driven;      /* what this device adds to its GSI: level && !disabled */
};

/* The host-bridge windows, each claimed on a bus so that BAR accesses reach the PCI code. */
enum pci_window_index { PCI_WINDOW_IO, PCI_WINDOW_MMIO32, PCI_WINDOW_MMIO64, PCI_NR_WINDOWS };

struct pci_window {
	struct pci_bus *bus;
	uint64_t base;
	bool io;
};

struct pci_bus {
	pthread_mutex_t lock;	   /* config spaces, the CF8 latch, BAR decode state */
	pthread_mutex_t intx_lock; /* INTx levels and the per-GSI counts */
	struct pci_device *slots[PCI_SLOTS];
	struct pci_device host_bridge;		    /* 00:00.0 */
	uint32_t config_address;		    /* the CF8 latch */
	uint64_t mmio64_base;			    /* 0: no 64-bit window */
	uint64_t next_io, next_mmio32, next_mmio64; /* firmware-style assignment cursors */
	void (*set_irq)(void *ctx, unsigned int gsi, bool level);
	void *irq_ctx;
	unsigned int gsi_users[4]; /* devices asserting each INTx GSI (shared, level) */
	struct pci_window windows[PCI_NR_WINDOWS];
};

/* The host bridge's identity: Intel's q35 memory controller hub, class host bridge. */
#define PCI_HOST_BRIDGE_VENDOR 0x8086
#define PCI_HOST_BRIDGE_DEVICE 0x29c0
#define PCI_CLASS_HOST_BRIDGE 0x060000

/*
 * Start a device: identity registers filled in, everything else zero, command register 0.
 * class_code is 24 bits: base class << 16 | subclass << 8 | programming interface.
 */
void pci_device_init(struct pci_device *dev, uint16_t vendor, uint16_t device, uint32_t class_code,
		     uint16_t subsys_vendor, uint16_t subsys_id, uint8_t revision,
		     const struct pci_device_ops *ops, void *opaque);

/*
 * Implement BAR index (0-5) of size bytes. Returns 0; -EINVAL for a bad index, a taken
 * index (or index + 1 for PCI_BAR_MEM64), bad flags, or a size that is not a power of two
 * within [16, 2 GiB] (32-bit memory), [16, 2^63] (64-bit memory) or [4, 256] (I/O);
 * -EBUSY once the device is on a bus.
 */
int pci_device_add_bar(struct pci_device *dev, unsigned int index, uint64_t size,
		       unsigned int flags);

/*
 * Append a capability: cap[0] is its ID, cap[1] (the next pointer) is filled in here.
 * wmask (len bytes, or NULL for read-only) says which bits the guest may write; those of
 * the first two bytes are ignored. Returns the capability's offset (4-byte aligned, the
 * first at 0x40), -ENOSPC when it does not fit below 256, -EINVAL for len < 2 or no cap,
 * -EBUSY once the device is on a bus.
 */
int pci_device_add_capability(struct pci_device *dev, const void *cap, size_t len,
			      const void *wmask);

/* Offset of the first capability with this ID at or after offset from, or 0. */
unsigned int pci_device_find_capability(const struct pci_device *dev, uint8_t id,
					unsigned int from);

/*
 * Raw access to config bytes [offset, offset + len), len 1, 2 or 4, little-endian, no
 * write mask, no callbacks. Out-of-range bytes read as 0 and are not written. Call before
 * the device is added, from a pci_device_ops config callback, or under pci_device_lock().
 */
uint32_t pci_device_config_get(const struct pci_device *dev, unsigned int offset, unsigned int len);
void pci_device_config_set(struct pci_device *dev, unsigned int offset, uint32_t value,
			   unsigned int len);

/* The address BAR bar decodes now (0: none); same rules as pci_device_config_get(). */
uint64_t pci_device_bar_addr(const struct pci_device *dev, unsigned int bar);

/* Take the bus mutex of the device's bus (nothing when it is on none). */
void pci_device_lock(struct pci_device *dev);
void pci_device_unlock(struct pci_device *dev);

/*
 * Set the level of the device's INTA#. It shows in status bit 3 and, unless the guest set
 * INTX_DISABLE, drives the slot's GSI through the bus's set_irq (level true = asserted).
 * Devices on one GSI share it: the line is high while any of them asserts. Callable from
 * any thread, including from inside every pci_device_ops callback.
 */
void pci_device_set_intx(struct pci_device *dev, bool level);

/*
 * An empty bus 0 with the host bridge at 00:00.0. mmio64_base is where the 64-bit window
 * starts (see pci_mmio64_base()), 0 for none: then 64-bit BARs are assigned below 4 GiB.
 * set_irq (may be NULL) raises or lowers an IOAPIC input.
 */
void pci_bus_init(struct pci_bus *bus, uint64_t mmio64_base,
		  void (*set_irq)(void *ctx, unsigned int gsi, bool level), void *ctx);

/*
 * Put dev in the next free slot and assign its BARs as firmware would: each naturally
 * aligned, I/O from PLATFORM_PCI_IO_START, 32-bit memory from PLATFORM_PCI_MMIO32_START,
 * 64-bit memory from the 64-bit window. Interrupt pin INTA, interrupt line = its GSI,
 * command register 0 (decoding off). Returns the slot; -ENOSPC when the slots or a window
 * are full (the device is then not added); -EINVAL for a NULL device, -EBUSY for one that
 * is already on a bus. Call before pci_bus_register() or while no vCPU runs.
 */
int pci_bus_add_device(struct pci_bus *bus, struct pci_device *dev);

/*
 * Claim, on pio: CF8 (4 bytes, 32-bit accesses only), CFC-CFF and the I/O window
 * [PLATFORM_PCI_IO_START, PLATFORM_PCI_IO_END]; on mmio: ECAM and both memory windows.
 * Either bus may be NULL. Returns 0 or bus_register()'s error (then nothing is claimed).
 */
int pci_bus_register(struct pci_bus *bus, struct bus *pio, struct bus *mmio);

/*
 * Snapshots: dev's config space as the guest left it (save), and back as a guest would
 * write it (restore): through the write mask, BARs first, then the capabilities and the
 * rest, the command register last, so that what dev decodes, its INTx disable and its
 * capabilities' hooks (MSI-X enable) follow as after the guest's own writes. Bits the
 * guest cannot write keep this VMM's values, whatever the saved bytes say.
 */
void pci_bus_save_config(struct pci_bus *bus, struct pci_device *dev,
			 uint8_t config[PCI_CONFIG_SIZE]);
void pci_bus_restore_config(struct pci_bus *bus, struct pci_device *dev,
			    const uint8_t config[PCI_CONFIG_SIZE]);

/*
 * Where the 64-bit window starts for a guest with mem_size bytes of RAM: after the RAM
 * that continues at 4 GiB, rounded up to 1 GiB. It is PLATFORM_PCI_MMIO64_SIZE long.
 * Returns 0 when the window would not fit below 2^64.
 */
uint64_t pci_mmio64_base(uint64_t mem_size);

#endif
