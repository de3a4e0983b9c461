/* SPDX-License-Identifier: MIT */
/*
 * The arm64 device tree: a tree libfdt accepts in full, with the nodes and properties an
 * arm64 kernel looks for, and dtc's decompiler agreeing when it is installed. Pure data:
 * it runs on any host.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libfdt.h>

#include "check_main.h"
#include "devices/arm64/platform.h"
#include "devices/platform.h"
#include "firmware/arm64/fdt.h"

static uint8_t tree[64 * 1024];

static const struct devtree_config two_cpus = {
	.ncpus = 2,
	.mem = { { 0, 0xc0000000ull }, { 0x100000000ull, 0x40000000ull } },
	.nmem = 2,
	.cmdline = "console=ttyS0 earlycon",
	.initrd_start = 0x8000000,
	.initrd_size = 0x123456,
	.pci_mmio64_base = 0x200000000ull,
};

static int node(const char *path)
{
	int off = fdt_path_offset(tree, path);

	ck_assert_msg(off >= 0, "no node %s: %s", path, fdt_strerror(off));
	return off;
}

static const void *prop(const char *path, const char *name, int *len)
{
	const void *p = fdt_getprop(tree, node(path), name, len);

	ck_assert_msg(p, "%s has no property %s", path, name);
	return p;
}

static uint64_t cell64(const void *p, unsigned int i)
{
	fdt64_t v;

	memcpy(&v, (const uint8_t *)p + 8 * i, sizeof(v));
	return fdt64_to_cpu(v);
}

static uint32_t cell32(const void *p, unsigned int i)
{
	fdt32_t v;

	memcpy(&v, (const uint8_t *)p + 4 * i, sizeof(v));
	return fdt32_to_cpu(v);
}

static void build(const struct devtree_config *cfg)
{
	ssize_t n = devtree_build(tree, sizeof(tree), cfg);

	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(fdt_check_full(tree, (size_t)n), 0);
}

START_TEST(test_whole_tree_is_valid)
{
	build(&two_cpus);
	ck_assert_str_eq(prop("/", "compatible", NULL), "linux,dummy-virt");
}
END_TEST

START_TEST(test_memory_lists_every_region)
{
	int len;
	const void *reg;

	build(&two_cpus);
	ck_assert_str_eq(prop("/memory@0", "device_type", NULL), "memory");
	reg = prop("/memory@0", "reg", &len);
	ck_assert_int_eq(len, 32);
	ck_assert_uint_eq(cell64(reg, 0), 0);
	ck_assert_uint_eq(cell64(reg, 1), 0xc0000000ull);
	ck_assert_uint_eq(cell64(reg, 2), 0x100000000ull);
	ck_assert_uint_eq(cell64(reg, 3), 0x40000000ull);
}
END_TEST

START_TEST(test_cpus_start_through_psci_over_hvc)
{
	build(&two_cpus);
	ck_assert_str_eq(prop("/cpus/cpu@0", "enable-method", NULL), "psci");
	ck_assert_str_eq(prop("/cpus/cpu@1", "enable-method", NULL), "psci");
	ck_assert_uint_eq(cell64(prop("/cpus/cpu@1", "reg", NULL), 0), 1);
	ck_assert_int_lt(fdt_path_offset(tree, "/cpus/cpu@2"), 0);
	ck_assert_str_eq(prop("/psci", "method", NULL), "hvc");
	ck_assert_int_eq(fdt_node_check_compatible(tree, node("/psci"), "arm,psci-0.2"), 0);
}
END_TEST

START_TEST(test_mpidr_matches_kvm)
{
	/* KVM's reset MPIDR_EL1: Aff0 counts 16 vCPUs, Aff1 the groups of 16 */
	ck_assert_uint_eq(devtree_cpu_mpidr(0), 0);
	ck_assert_uint_eq(devtree_cpu_mpidr(15), 15);
	ck_assert_uint_eq(devtree_cpu_mpidr(16), 0x100);
	ck_assert_uint_eq(devtree_cpu_mpidr(33), 0x201);
}
END_TEST

START_TEST(test_gic_covers_one_redistributor_per_cpu)
{
	const char *gic = "/interrupt-controller@f0000000";
	int len, phandle;
	const void *reg;

	build(&two_cpus);
	ck_assert_int_eq(fdt_node_check_compatible(tree, node(gic), "arm,gic-v3"), 0);
	reg = prop(gic, "reg", &len);
	ck_assert_int_eq(len, 32);
	ck_assert_uint_eq(cell64(reg, 0), ARM64_GIC_DIST_ADDR);
	ck_assert_uint_eq(cell64(reg, 2), ARM64_GIC_REDIST_ADDR);
	ck_assert_uint_eq(cell64(reg, 3), 2 * ARM64_GIC_REDIST_SIZE_PER_CPU);
	phandle = (int)fdt_get_phandle(tree, node(gic));
	ck_assert_int_gt(phandle, 0);
	ck_assert_int_eq(cell32(prop("/", "interrupt-parent", NULL), 0), phandle);
	ck_assert_uint_eq(cell32(prop("/timer", "interrupts", NULL), 4), 14); /* non-secure */
}
END_TEST

START_TEST(test_uart_is_the_console)
{
	const void *irq;

	build(&two_cpus);
	ck_assert_str_eq(prop("/chosen", "stdout-path", NULL), "/serial@f1000000");
	ck_assert_int_eq(fdt_node_check_compatible(tree, node("/serial@f1000000"), "ns16550a"), 0);
	ck_assert_uint_eq(cell64(prop("/serial@f1000000", "reg", NULL), 0), ARM64_UART_ADDR);
	irq = prop("/serial@f1000000", "interrupts", NULL);
	ck_assert_uint_eq(cell32(irq, 0), 0); /* an SPI */
	ck_assert_uint_eq(cell32(irq, 1), ARM64_UART_SPI);
}
END_TEST

START_TEST(test_chosen_has_bootargs_and_initrd)
{
	build(&two_cpus);
	ck_assert_str_eq(prop("/chosen", "bootargs", NULL), "console=ttyS0 earlycon");
	ck_assert_uint_eq(cell64(prop("/chosen", "linux,initrd-start", NULL), 0), 0x8000000);
	ck_assert_uint_eq(cell64(prop("/chosen", "linux,initrd-end", NULL), 0), 0x8123456);
}
END_TEST

START_TEST(test_no_initrd_no_initrd_properties)
{
	struct devtree_config cfg = two_cpus;

	cfg.initrd_size = 0;
	cfg.cmdline = NULL;
	build(&cfg);
	ck_assert_ptr_null(fdt_getprop(tree, node("/chosen"), "linux,initrd-start", NULL));
	ck_assert_ptr_null(fdt_getprop(tree, node("/chosen"), "bootargs", NULL));
}
END_TEST

START_TEST(test_bad_config_and_small_buffer)
{
	struct devtree_config cfg = two_cpus;

	ck_assert_int_eq(devtree_build(tree, 64, &two_cpus), -ENOSPC);
	cfg.ncpus = 0;
	ck_assert_int_eq(devtree_build(tree, sizeof(tree), &cfg), -EINVAL);
	cfg.ncpus = ARM64_MAX_CPUS + 1;
	ck_assert_int_eq(devtree_build(tree, sizeof(tree), &cfg), -EINVAL);
	cfg.ncpus = ARM64_MAX_CPUS;
	ck_assert_int_gt(devtree_build(tree, sizeof(tree), &cfg), 0);
}
END_TEST

START_TEST(test_pci_host_bridge_matches_the_bus)
{
	const char *pci = "/pci@e0000000";
	const void *reg, *ranges, *map;
	int len;

	build(&two_cpus);
	ck_assert_int_eq(fdt_node_check_compatible(tree, node(pci), "pci-host-ecam-generic"), 0);
	reg = prop(pci, "reg", NULL);
	ck_assert_uint_eq(cell64(reg, 0), PLATFORM_PCI_ECAM_START);
	ck_assert_uint_eq(cell64(reg, 1), PLATFORM_PCI_ECAM_SIZE);
	ranges = prop(pci, "ranges", &len);
	ck_assert_int_eq(len, 2 * 7 * 4); /* the 32-bit and the 64-bit window */
	ck_assert_uint_eq(cell32(ranges, 0), 0x02000000);
	ck_assert_uint_eq(cell32(ranges, 2), (uint32_t)PLATFORM_PCI_MMIO32_START);
	ck_assert_uint_eq(cell32(ranges, 7), 0x03000000);
	ck_assert_uint_eq(cell32(ranges, 8), 2); /* 0x2_0000_0000 */
	/* slot 1, INTA: the GSI devices/pci_bus.c gives it, as an SPI of the GIC */
	map = prop(pci, "interrupt-map", &len);
	ck_assert_int_eq(len, 32 * 4 * 10 * 4);
	ck_assert_uint_eq(cell32(map, 40 + 0), 1 << 11);
	ck_assert_uint_eq(cell32(map, 40 + 3), 1);
	ck_assert_uint_eq(cell32(map, 40 + 4),
			  fdt_get_phandle(tree, node("/interrupt-controller@f0000000")));
	ck_assert_uint_eq(cell32(map, 40 + 8), PLATFORM_PCI_INTX_GSI_BASE + 1);
	/* MSIs: the ITS, a child of the GIC, with requester ID = device ID */
	map = prop(pci, "msi-map", &len);
	ck_assert_int_eq(len, 16);
	ck_assert_uint_eq(cell32(map, 1),
			  fdt_get_phandle(tree, node("/interrupt-controller@f0000000/"
						     "msi-controller@f0080000")));
	ck_assert_uint_eq(cell32(map, 3), 0x10000);
	ck_assert_int_eq(fdt_node_check_compatible(
				 tree,
				 node("/interrupt-controller@f0000000/msi-controller@f0080000"),
				 "arm,gic-v3-its"),
			 0);
}
END_TEST

START_TEST(test_no_64bit_window_without_a_base)
{
	struct devtree_config cfg = two_cpus;
	int len;

	cfg.pci_mmio64_base = 0;
	build(&cfg);
	prop("/pci@e0000000", "ranges", &len);
	ck_assert_int_eq(len, 7 * 4);
}
END_TEST

/* A GICv2: its distributor and CPU interface, no ITS, so PCI has INTx and no msi-map. */
START_TEST(test_gicv2_has_no_its_and_pci_no_msi)
{
	const char *gic = "/interrupt-controller@f0000000";
	struct devtree_config cfg = two_cpus;
	const void *reg;
	int len;

	cfg.gicv2 = true;
	build(&cfg);
	ck_assert_int_eq(fdt_node_check_compatible(tree, node(gic), "arm,cortex-a15-gic"), 0);
	reg = prop(gic, "reg", &len);
	ck_assert_int_eq(len, 32);
	ck_assert_uint_eq(cell64(reg, 0), ARM64_GIC_DIST_ADDR);
	ck_assert_uint_eq(cell64(reg, 1), ARM64_GICV2_DIST_SIZE);
	ck_assert_uint_eq(cell64(reg, 2), ARM64_GICV2_CPU_ADDR);
	ck_assert_uint_eq(cell64(reg, 3), ARM64_GICV2_CPU_SIZE);
	ck_assert_int_lt(fdt_path_offset(tree, "/interrupt-controller@f0000000/"
					       "msi-controller@f0080000"),
			 0);
	ck_assert_ptr_null(fdt_getprop(tree, node("/pci@e0000000"), "msi-map", NULL));
	prop("/pci@e0000000", "interrupt-map", NULL);
	/* a GICv2 serves 8 CPUs */
	cfg.ncpus = ARM64_GICV2_MAX_CPUS + 1;
	ck_assert_int_eq(devtree_build(tree, sizeof(tree), &cfg), -EINVAL);
}
END_TEST

/* dtc decompiles it without a warning: the same verdict the kernel's own tools give. */
START_TEST(test_dtc_agrees)
{
	char path[] = "/tmp/vmm-fdt-XXXXXX", cmd[256];
	ssize_t n;
	int fd, rc;

	if (system("command -v dtc >/dev/null 2>&1") != 0) {
		printf("SKIP: dtc is not installed (Debian's device-tree-compiler)\n");
		return;
	}
	n = devtree_build(tree, sizeof(tree), &two_cpus);
	ck_assert_int_gt(n, 0);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, tree, (size_t)n), n);
	close(fd);
	snprintf(cmd, sizeof(cmd), "dtc -q -I dtb -O dts -o /dev/null %s 2>&1 | grep -q .", path);
	rc = system(cmd); /* grep finds nothing: no warnings */
	unlink(path);
	ck_assert_int_ne(rc, 0);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("arm64 device tree");
	TCase *tc = tcase_create("fdt");

	tcase_add_test(tc, test_whole_tree_is_valid);
	tcase_add_test(tc, test_memory_lists_every_region);
	tcase_add_test(tc, test_cpus_start_through_psci_over_hvc);
	tcase_add_test(tc, test_mpidr_matches_kvm);
	tcase_add_test(tc, test_gic_covers_one_redistributor_per_cpu);
	tcase_add_test(tc, test_uart_is_the_console);
	tcase_add_test(tc, test_chosen_has_bootargs_and_initrd);
	tcase_add_test(tc, test_no_initrd_no_initrd_properties);
	tcase_add_test(tc, test_bad_config_and_small_buffer);
	tcase_add_test(tc, test_pci_host_bridge_matches_the_bus);
	tcase_add_test(tc, test_no_64bit_window_without_a_base);
	tcase_add_test(tc, test_gicv2_has_no_its_and_pci_no_msi);
	tcase_add_test(tc, test_dtc_agrees);
	suite_add_tcase(s, tc);
	return s;
}
