// SPDX-License-Identifier: MIT
/*
 * The arm64 machine's device tree, written node by node with libfdt's sequential writer.
 * Bindings followed (Linux, Documentation/devicetree/bindings/): arm/cpus.yaml, arm/psci.yaml,
 * timer/arm,arch_timer.yaml, interrupt-controller/arm,gic-v3.yaml, serial/8250.yaml,
 * pci/host-generic-pci.yaml, and chosen.yaml. Every address comes from
 * devices/arm64/platform.h, and the PCI windows from devices/platform.h, as devices/pci_bus.c
 * decodes them.
 */
#include "firmware/arm64/fdt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <libfdt.h>

#include "devices/arm64/platform.h"
#include "devices/platform.h"

/* The GIC binding's interrupt specifier: <type number flags>. */
#define GIC_FDT_SPI 0
#define GIC_FDT_PPI 1
#define IRQ_TYPE_LEVEL_HIGH 4
#define IRQ_TYPE_LEVEL_LOW 8

#define PHANDLE_GIC 1
#define PHANDLE_ITS 2

/* PCI: the first cell of a child address says which space (PCI Bus Binding, 2.2.1.1). */
#define PCI_SPACE_MEM32 0x02000000u
#define PCI_SPACE_MEM64 0x03000000u
#define PCI_SLOTS 32
/* INTA-INTD: slot S pin P (1-4) is wired to GSI base + (S + P - 1) % 4, as on x86's _PRT. */
#define PCI_PINS 4

uint64_t devtree_cpu_mpidr(unsigned int index)
{
	return ((uint64_t)(index >> 4) << 8) | (index & 0xf);
}

/* A reg or range property of 64-bit cells, as #address-cells = #size-cells = 2 asks. */
static int prop_u64s(void *fdt, const char *name, const uint64_t *v, unsigned int n)
{
	fdt64_t cells[2 * DEVTREE_MAX_MEM_REGIONS + 2];

	if (n > sizeof(cells) / sizeof(cells[0]))
		return -FDT_ERR_INTERNAL;
	for (unsigned int i = 0; i < n; i++)
		cells[i] = cpu_to_fdt64(v[i]);
	return fdt_property(fdt, name, cells, n * sizeof(cells[0]));
}

static int prop_u32s(void *fdt, const char *name, const uint32_t *v, unsigned int n)
{
	fdt32_t cells[14];

	if (n > sizeof(cells) / sizeof(cells[0]))
		return -FDT_ERR_INTERNAL;
	for (unsigned int i = 0; i < n; i++)
		cells[i] = cpu_to_fdt32(v[i]);
	return fdt_property(fdt, name, cells, n * sizeof(cells[0]));
}

static int add_memory(void *fdt, const struct devtree_config *cfg)
{
	uint64_t reg[2 * DEVTREE_MAX_MEM_REGIONS];
	char name[32];
	int ret;

	for (unsigned int i = 0; i < cfg->nmem; i++) {
		reg[2 * i] = cfg->mem[i].gpa;
		reg[2 * i + 1] = cfg->mem[i].size;
	}
	snprintf(name, sizeof(name), "memory@%llx", (unsigned long long)cfg->mem[0].gpa);
	ret = fdt_begin_node(fdt, name);
	if (!ret)
		ret = fdt_property_string(fdt, "device_type", "memory");
	if (!ret)
		ret = prop_u64s(fdt, "reg", reg, 2 * cfg->nmem);
	return ret ?: fdt_end_node(fdt);
}

/* One node per vCPU; all but the boot vCPU wait powered off for the guest's PSCI CPU_ON. */
static int add_cpus(void *fdt, const struct devtree_config *cfg)
{
	int ret = fdt_begin_node(fdt, "cpus");

	if (!ret)
		ret = fdt_property_u32(fdt, "#address-cells", 2);
	if (!ret)
		ret = fdt_property_u32(fdt, "#size-cells", 0);
	for (unsigned int i = 0; i < cfg->ncpus && !ret; i++) {
		uint64_t mpidr = devtree_cpu_mpidr(i);
		char name[32];

		snprintf(name, sizeof(name), "cpu@%llx", (unsigned long long)mpidr);
		ret = fdt_begin_node(fdt, name);
		if (!ret)
			ret = fdt_property_string(fdt, "device_type", "cpu");
		if (!ret)
			ret = fdt_property_string(fdt, "compatible", "arm,armv8");
		if (!ret)
			ret = fdt_property_string(fdt, "enable-method", "psci");
		if (!ret)
			ret = prop_u64s(fdt, "reg", &mpidr, 1);
		if (!ret)
			ret = fdt_end_node(fdt);
	}
	return ret ?: fdt_end_node(fdt);
}

/* KVM implements PSCI itself (KVM_ARM_VCPU_PSCI_0_2): calls go to the hypervisor, hvc. */
static int add_psci(void *fdt)
{
	static const char compatible[] = "arm,psci-1.0\0arm,psci-0.2";
	int ret = fdt_begin_node(fdt, "psci");

	if (!ret)
		ret = fdt_property(fdt, "compatible", compatible, sizeof(compatible));
	if (!ret)
		ret = fdt_property_string(fdt, "method", "hvc");
	return ret ?: fdt_end_node(fdt);
}

/* The four per-CPU timer interrupts, in the order the binding lists them. */
static int add_timer(void *fdt)
{
	const uint32_t ppis[] = { ARM64_TIMER_PPI_SECURE, ARM64_TIMER_PPI_NONSECURE,
				  ARM64_TIMER_PPI_VIRTUAL, ARM64_TIMER_PPI_HYP };
	uint32_t irqs[3 * 4];
	int ret = fdt_begin_node(fdt, "timer");

	for (unsigned int i = 0; i < 4; i++) {
		irqs[3 * i] = GIC_FDT_PPI;
		irqs[3 * i + 1] = ppis[i];
		irqs[3 * i + 2] = IRQ_TYPE_LEVEL_LOW;
	}
	if (!ret)
		ret = fdt_property_string(fdt, "compatible", "arm,armv8-timer");
	if (!ret)
		ret = prop_u32s(fdt, "interrupts", irqs, 3 * 4);
	if (!ret)
		ret = fdt_property(fdt, "always-on", NULL, 0);
	return ret ?: fdt_end_node(fdt);
}

/* The ITS, a child of the GIC: where PCI devices send their MSIs (#msi-cells: device ID). */
static int add_its(void *fdt)
{
	const uint64_t reg[] = { ARM64_GIC_ITS_ADDR, ARM64_GIC_ITS_SIZE };
	char name[48];
	int ret;

	snprintf(name, sizeof(name), "msi-controller@%llx", (unsigned long long)ARM64_GIC_ITS_ADDR);
	ret = fdt_begin_node(fdt, name);
	if (!ret)
		ret = fdt_property_string(fdt, "compatible", "arm,gic-v3-its");
	if (!ret)
		ret = fdt_property(fdt, "msi-controller", NULL, 0);
	if (!ret)
		ret = fdt_property_u32(fdt, "#msi-cells", 1);
	if (!ret)
		ret = prop_u64s(fdt, "reg", reg, 2);
	if (!ret)
		ret = fdt_property_u32(fdt, "phandle", PHANDLE_ITS);
	return ret ?: fdt_end_node(fdt);
}

static int add_gic(void *fdt, const struct devtree_config *cfg)
{
	const uint64_t reg[] = { ARM64_GIC_DIST_ADDR, ARM64_GIC_DIST_SIZE, ARM64_GIC_REDIST_ADDR,
				 ARM64_GIC_REDIST_SIZE_PER_CPU * cfg->ncpus };
	/* interrupt-controller/arm,gic.yaml: the distributor, then the CPU interface */
	const uint64_t reg_v2[] = { ARM64_GIC_DIST_ADDR, ARM64_GICV2_DIST_SIZE,
				    ARM64_GICV2_CPU_ADDR, ARM64_GICV2_CPU_SIZE };
	char name[48];
	int ret;

	snprintf(name, sizeof(name), "interrupt-controller@%llx",
		 (unsigned long long)ARM64_GIC_DIST_ADDR);
	ret = fdt_begin_node(fdt, name);
	if (!ret)
		ret = fdt_property_string(fdt, "compatible",
					  cfg->gicv2 ? "arm,cortex-a15-gic" : "arm,gic-v3");
	if (!ret)
		ret = fdt_property_u32(fdt, "#interrupt-cells", 3);
	if (!ret)
		ret = fdt_property(fdt, "interrupt-controller", NULL, 0);
	if (!ret)
		ret = prop_u64s(fdt, "reg", cfg->gicv2 ? reg_v2 : reg, 4);
	/* room for child nodes' addresses (an ITS one day), and the size of interrupt-map's */
	if (!ret)
		ret = fdt_property_u32(fdt, "#address-cells", 2);
	if (!ret)
		ret = fdt_property_u32(fdt, "#size-cells", 2);
	if (!ret)
		ret = fdt_property(fdt, "ranges", NULL, 0);
	if (!ret)
		ret = fdt_property_u32(fdt, "phandle", PHANDLE_GIC);
	if (!ret && !cfg->gicv2)
		ret = add_its(fdt);
	return ret ?: fdt_end_node(fdt);
}

/* The 16550A of devices/uart.c: one byte per register, clocked so any baud rate divides. */
static int add_uart(void *fdt, char *path, size_t pathlen)
{
	const uint64_t reg[] = { ARM64_UART_ADDR, ARM64_UART_SIZE };
	const uint32_t irq[] = { GIC_FDT_SPI, ARM64_UART_SPI, IRQ_TYPE_LEVEL_HIGH };
	int ret;

	snprintf(path, pathlen, "/serial@%llx", (unsigned long long)ARM64_UART_ADDR);
	ret = fdt_begin_node(fdt, path + 1);
	if (!ret)
		ret = fdt_property_string(fdt, "compatible", "ns16550a");
	if (!ret)
		ret = prop_u64s(fdt, "reg", reg, 2);
	if (!ret)
		ret = prop_u32s(fdt, "interrupts", irq, 3);
	if (!ret)
		ret = fdt_property_u32(fdt, "clock-frequency", 1843200);
	return ret ?: fdt_end_node(fdt);
}

/* A ranges entry: child (3 cells), parent (2), size (2), the same address on both sides. */
static void pci_range(uint32_t *r, uint32_t space, uint64_t base, uint64_t size)
{
	const uint32_t cells[] = { space,	   (uint32_t)(base >> 32),
				   (uint32_t)base, (uint32_t)(base >> 32),
				   (uint32_t)base, (uint32_t)(size >> 32),
				   (uint32_t)size };

	memcpy(r, cells, sizeof(cells));
}

/* Every slot's four pins: <slot 0 0 pin> to <gic 0 0 SPI gsi level-high>. */
static int pci_interrupt_map(void *fdt)
{
	static fdt32_t map[PCI_SLOTS * PCI_PINS * 10];
	const uint32_t mask[] = { 0x1f << 11, 0, 0, 7 };
	unsigned int n = 0;
	int ret;

	for (uint32_t slot = 0; slot < PCI_SLOTS; slot++) {
		for (uint32_t pin = 1; pin <= PCI_PINS; pin++) {
			const uint32_t entry[] = {
				slot << 11,
				0,
				0,
				pin,
				PHANDLE_GIC,
				0,
				0,
				GIC_FDT_SPI,
				PLATFORM_PCI_INTX_GSI_BASE + (slot + pin - 1) % PCI_PINS,
				IRQ_TYPE_LEVEL_HIGH,
			};

			for (unsigned int i = 0; i < 10; i++)
				map[n++] = cpu_to_fdt32(entry[i]);
		}
	}
	ret = prop_u32s(fdt, "interrupt-map-mask", mask, 4);
	return ret ?: fdt_property(fdt, "interrupt-map", map, n * sizeof(map[0]));
}

/* Bus 0 behind ECAM, and the memory windows its BARs are placed in. */
static int add_pci(void *fdt, const struct devtree_config *cfg)
{
	const uint64_t reg[] = { PLATFORM_PCI_ECAM_START, PLATFORM_PCI_ECAM_SIZE };
	const uint32_t bus_range[] = { 0, 0 };
	const uint32_t msi_map[] = { 0, PHANDLE_ITS, 0, 0x10000 };
	uint32_t ranges[2 * 7];
	unsigned int nranges = 7;
	char name[32];
	int ret;

	pci_range(ranges, PCI_SPACE_MEM32, PLATFORM_PCI_MMIO32_START, PLATFORM_PCI_MMIO32_SIZE);
	if (cfg->pci_mmio64_base) {
		pci_range(ranges + 7, PCI_SPACE_MEM64, cfg->pci_mmio64_base,
			  PLATFORM_PCI_MMIO64_SIZE);
		nranges += 7;
	}
	snprintf(name, sizeof(name), "pci@%llx", (unsigned long long)PLATFORM_PCI_ECAM_START);
	ret = fdt_begin_node(fdt, name);
	if (!ret)
		ret = fdt_property_string(fdt, "compatible", "pci-host-ecam-generic");
	if (!ret)
		ret = fdt_property_string(fdt, "device_type", "pci");
	if (!ret)
		ret = fdt_property_u32(fdt, "#address-cells", 3);
	if (!ret)
		ret = fdt_property_u32(fdt, "#size-cells", 2);
	if (!ret)
		ret = fdt_property_u32(fdt, "#interrupt-cells", 1);
	if (!ret)
		ret = prop_u32s(fdt, "bus-range", bus_range, 2);
	if (!ret)
		ret = prop_u64s(fdt, "reg", reg, 2);
	if (!ret)
		ret = prop_u32s(fdt, "ranges", ranges, nranges);
	if (!ret)
		ret = fdt_property(fdt, "dma-coherent", NULL, 0);
	if (!ret)
		ret = pci_interrupt_map(fdt);
	/* every requester ID is its own device ID at the ITS; a GICv2 has none: INTx only */
	if (!ret && !cfg->gicv2)
		ret = prop_u32s(fdt, "msi-map", msi_map, 4);
	return ret ?: fdt_end_node(fdt);
}

static int add_chosen(void *fdt, const struct devtree_config *cfg, const char *stdout_path)
{
	int ret = fdt_begin_node(fdt, "chosen");

	if (!ret && cfg->cmdline)
		ret = fdt_property_string(fdt, "bootargs", cfg->cmdline);
	if (!ret)
		ret = fdt_property_string(fdt, "stdout-path", stdout_path);
	if (!ret && cfg->initrd_size) {
		ret = fdt_property_u64(fdt, "linux,initrd-start", cfg->initrd_start);
		if (!ret)
			ret = fdt_property_u64(fdt, "linux,initrd-end",
					       cfg->initrd_start + cfg->initrd_size);
	}
	return ret ?: fdt_end_node(fdt);
}

static int build(void *fdt, size_t size, const struct devtree_config *cfg)
{
	char uart_path[48];
	int ret = fdt_create(fdt, (int)size);

	if (!ret)
		ret = fdt_finish_reservemap(fdt);
	if (!ret)
		ret = fdt_begin_node(fdt, "");
	if (!ret)
		ret = fdt_property_string(fdt, "compatible", "linux,dummy-virt");
	if (!ret)
		ret = fdt_property_u32(fdt, "#address-cells", 2);
	if (!ret)
		ret = fdt_property_u32(fdt, "#size-cells", 2);
	if (!ret)
		ret = fdt_property_u32(fdt, "interrupt-parent", PHANDLE_GIC);
	if (!ret)
		ret = add_memory(fdt, cfg);
	if (!ret)
		ret = add_cpus(fdt, cfg);
	if (!ret)
		ret = add_psci(fdt);
	if (!ret)
		ret = add_timer(fdt);
	if (!ret)
		ret = add_gic(fdt, cfg);
	if (!ret)
		ret = add_uart(fdt, uart_path, sizeof(uart_path));
	if (!ret)
		ret = add_pci(fdt, cfg);
	if (!ret)
		ret = add_chosen(fdt, cfg, uart_path);
	if (!ret)
		ret = fdt_end_node(fdt);
	if (!ret)
		ret = fdt_finish(fdt);
	return ret;
}

ssize_t devtree_build(void *buf, size_t size, const struct devtree_config *cfg)
{
	int ret;

	if (cfg->ncpus < 1 || cfg->ncpus > (cfg->gicv2 ? ARM64_GICV2_MAX_CPUS : ARM64_MAX_CPUS) ||
	    cfg->nmem < 1 || cfg->nmem > DEVTREE_MAX_MEM_REGIONS || size > ARM64_FDT_MAX_SIZE)
		return -EINVAL;
	ret = build(buf, size, cfg);
	if (ret == -FDT_ERR_NOSPACE)
		return -ENOSPC;
	if (ret)
		return -EINVAL;
	return fdt_totalsize(buf);
}
