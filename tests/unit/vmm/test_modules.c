/* SPDX-License-Identifier: MIT */
/* modules.dep: names, dependency order, duplicates, built-in modules, cycles. */
#include <errno.h>
#include <string.h>

#include "check_main.h"
#include "vmm/run/modules.h"

static const char dep[] =
	"kernel/drivers/virtio/virtio.ko:\n"
	"kernel/drivers/virtio/virtio_ring.ko: kernel/drivers/virtio/virtio.ko\n"
	"kernel/drivers/virtio/virtio_pci_modern_dev.ko:\n"
	"kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_modern_dev.ko "
	"kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko\n"
	"kernel/fs/fuse/fuse.ko.xz:\n"
	"kernel/fs/fuse/virtiofs.ko.xz: kernel/fs/fuse/fuse.ko.xz "
	"kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko\n"
	"kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio_ring.ko "
	"kernel/drivers/virtio/virtio.ko";

static int position(const struct module_list *l, const char *suffix)
{
	for (unsigned int i = 0; i < l->count; i++) {
		size_t a = strlen(l->paths[i]), b = strlen(suffix);

		if (a >= b && !strcmp(l->paths[i] + a - b, suffix))
			return (int)i;
	}
	return -1;
}

START_TEST(test_name)
{
	char name[64];

	modules_name("kernel/fs/fuse/virtiofs.ko.xz", name, sizeof(name));
	ck_assert_str_eq(name, "virtiofs");
	modules_name("kernel/x/kvm-amd.ko", name, sizeof(name));
	ck_assert_str_eq(name, "kvm_amd");
	modules_name("virtio-pci", name, sizeof(name));
	ck_assert_str_eq(name, "virtio_pci");
}
END_TEST

START_TEST(test_dependencies_first)
{
	const char *wanted[] = { "virtio_pci", "virtiofs", "virtio-blk" };
	struct module_list l = { 0 };

	ck_assert_int_eq(modules_resolve(dep, wanted, 3, &l), 0);
	ck_assert_uint_eq(l.count, 7);
	ck_assert_int_lt(position(&l, "/virtio.ko"), position(&l, "/virtio_ring.ko"));
	ck_assert_int_lt(position(&l, "/virtio_ring.ko"), position(&l, "/virtio_pci.ko"));
	ck_assert_int_lt(position(&l, "/virtio_pci_modern_dev.ko"), position(&l, "/virtio_pci.ko"));
	ck_assert_int_lt(position(&l, "/fuse.ko.xz"), position(&l, "/virtiofs.ko.xz"));
	ck_assert_int_eq(position(&l, "/virtio_blk.ko"), 6);
	modules_free(&l);
}
END_TEST

START_TEST(test_builtin_skipped)
{
	const char *wanted[] = { "ext4", "virtio" };
	struct module_list l = { 0 };

	ck_assert_int_eq(modules_resolve(dep, wanted, 2, &l), 0);
	ck_assert_uint_eq(l.count, 1);
	ck_assert_str_eq(l.paths[0], "kernel/drivers/virtio/virtio.ko");
	modules_free(&l);
}
END_TEST

START_TEST(test_cycle)
{
	const char *wanted[] = { "a" };
	struct module_list l = { 0 };

	ck_assert_int_eq(modules_resolve("a.ko: b.ko\nb.ko: a.ko\n", wanted, 1, &l), -ELOOP);
	modules_free(&l);
}
END_TEST

START_TEST(test_malformed_lines)
{
	const char *wanted[] = { "a" };
	struct module_list l = { 0 };

	ck_assert_int_eq(modules_resolve("no colon here\n\n:\na.ko:   \t \n", wanted, 1, &l), 0);
	ck_assert_uint_eq(l.count, 1);
	modules_free(&l);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("modules");
	TCase *tc = tcase_create("modules.dep");

	tcase_add_test(tc, test_name);
	tcase_add_test(tc, test_dependencies_first);
	tcase_add_test(tc, test_builtin_skipped);
	tcase_add_test(tc, test_cycle);
	tcase_add_test(tc, test_malformed_lines);
	suite_add_tcase(s, tc);
	return s;
}
