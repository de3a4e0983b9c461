/* SPDX-License-Identifier: MIT */
/*
 * What devices/pci.c (a function's configuration space) and devices/pci_bus.c (the bus
 * the guest reaches it through) share. Private to those two files.
 */
#ifndef DEVICES_PCI_INTERNAL_H
#define DEVICES_PCI_INTERNAL_H

#include <stdint.h>

#include "devices/pci.h"

#define PCI_BAR_IO_ADDR_MASK (~0x3ull)
#define PCI_BAR_MEM_ADDR_MASK (~0xfull)

#define PCI_INTX_PIN_A 1
#define PCI_INTX_GSIS 4 /* slots share GSIs 16-19 for INTA# */

/* Raw little-endian config bytes; any part past the 256 bytes is skipped. */
uint32_t pci_get(const struct pci_device *dev, unsigned int offset, unsigned int len);
void pci_set(uint8_t *bytes, unsigned int offset, uint32_t v, unsigned int len);
/* One byte as the guest sees it: status bit 3 follows the INTx level. */
uint8_t pci_guest_byte(const struct pci_device *dev, unsigned int offset);

/* Bring what the device adds to its GSI in line with its level. Call with intx_lock held. */
void pci_intx_sync(struct pci_bus *bus, struct pci_device *dev);
/* The guest may have flipped INTX_DISABLE. Call with the bus mutex held. */
void pci_intx_command_changed(struct pci_bus *bus, struct pci_device *dev);

#endif
