/* SPDX-License-Identifier: MIT */
/*
 * vmm run --kernel DIR: finding a kernel build tree, and its modules' dependencies from
 * modules.order and each module's .modinfo, on a tree made here with small ELF files.
 */
#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "vmm/run/kernel_tree.h"
#include "vmm/run/modules.h"

static char base[PATH_MAX];
static char err[512];

static void put_file(const char *rel, const void *data, size_t len)
{
	char path[PATH_MAX + 64], dir[PATH_MAX + 64], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	for (slash = strchr(dir + strlen(base) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = 0;
		mkdir(dir, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* An ELF64 file with a .modinfo section holding the given NUL-separated strings. */
static size_t make_ko(uint8_t *out, size_t cap, const char *modinfo, size_t modinfo_len)
{
	static const char shstrtab[] = "\0.modinfo\0.shstrtab";
	Elf64_Ehdr eh = { .e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB,
				       EV_CURRENT },
			  .e_type = ET_REL,
			  .e_machine = EM_X86_64,
			  .e_version = EV_CURRENT,
			  .e_ehsize = sizeof(Elf64_Ehdr),
			  .e_shentsize = sizeof(Elf64_Shdr),
			  .e_shnum = 3,
			  .e_shstrndx = 2 };
	Elf64_Shdr sh[3] = { 0 };
	size_t off = sizeof(eh);

	sh[1] = (Elf64_Shdr){
		.sh_name = 1, .sh_type = SHT_PROGBITS, .sh_offset = off, .sh_size = modinfo_len
	};
	off += modinfo_len;
	sh[2] = (Elf64_Shdr){
		.sh_name = 10, .sh_type = SHT_STRTAB, .sh_offset = off, .sh_size = sizeof(shstrtab)
	};
	off += sizeof(shstrtab);
	eh.e_shoff = off;
	ck_assert_uint_le(off + sizeof(sh), cap);
	memcpy(out, &eh, sizeof(eh));
	memcpy(out + sizeof(eh), modinfo, modinfo_len);
	memcpy(out + sizeof(eh) + modinfo_len, shstrtab, sizeof(shstrtab));
	memcpy(out + off, sh, sizeof(sh));
	return off + sizeof(sh);
}

static void put_ko(const char *rel, const char *depends)
{
	char info[256];
	uint8_t ko[1024];
	int n = snprintf(info, sizeof(info), "license=GPL%cdepends=%s%cname=x", 0, depends, 0);

	put_file(rel, ko, make_ko(ko, sizeof(ko), info, (size_t)n + 1));
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(base, sizeof(base), "%s/vmm-tree-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(base));
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_find)
{
	struct kernel_tree t;
	char path[PATH_MAX + 32];

	/* an ordinary file is not a tree */
	put_file("bzImage", "x", 1);
	snprintf(path, sizeof(path), "%s/bzImage", base);
	ck_assert_int_eq(kernel_tree_find(path, &t, err, sizeof(err)), 0);
	/* a directory that is not a tree is a user error */
	ck_assert_int_eq(kernel_tree_find(base, &t, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not a kernel build tree"));
	put_file("include/config/kernel.release", "6.1.99-test\n", 12);
	ck_assert_int_eq(kernel_tree_find(base, &t, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "arch/x86/boot/bzImage (run make)"));
	put_file("arch/x86/boot/bzImage", "x", 1);
	ck_assert_int_eq(kernel_tree_find(base, &t, err, sizeof(err)), 1);
	ck_assert_str_eq(t.release, "6.1.99-test");
	ck_assert_str_eq(t.dir, base);
	snprintf(path, sizeof(path), "%s/arch/x86/boot/bzImage", base);
	ck_assert_str_eq(t.image, path);
	/* the tree's vmlinux, when that is what is asked for */
	put_file("vmlinux", "x", 1);
	snprintf(path, sizeof(path), "%s/vmlinux", base);
	ck_assert_int_eq(kernel_tree_find(path, &t, err, sizeof(err)), 1);
	ck_assert_str_eq(t.image, path);
}
END_TEST

START_TEST(test_modules_from_the_tree)
{
	static const char order[] = "fs/fuse/fuse.ko\nfs/fuse/virtiofs.o\n"
				    "drivers/virtio/virtio_ring.ko\nfs/overlayfs/overlay.ko\n";
	const char *wanted[] = { "virtiofs", "virtio_blk", "overlay" };
	struct module_list list = { 0 };
	struct kernel_tree t;
	char *text;

	put_file("include/config/kernel.release", "6.1.99-test\n", 12);
	put_file("arch/x86/boot/bzImage", "x", 1);
	put_file("modules.order", order, sizeof(order) - 1);
	put_ko("fs/fuse/fuse.ko", "");
	put_ko("fs/fuse/virtiofs.ko", "fuse,virtio_ring");
	put_ko("drivers/virtio/virtio_ring.ko", "");
	put_ko("fs/overlayfs/overlay.ko", "");
	ck_assert_int_eq(kernel_tree_find(base, &t, err, sizeof(err)), 1);
	ck_assert_int_eq(kernel_tree_modules_dep(&t, wanted, 3, &text, err, sizeof(err)), 0);
	/* virtio_blk is not in modules.order: built in, and not listed */
	ck_assert_ptr_null(strstr(text, "virtio_blk"));
	ck_assert_ptr_nonnull(strstr(text, "fs/fuse/virtiofs.ko: fs/fuse/fuse.ko "
					   "drivers/virtio/virtio_ring.ko\n"));
	ck_assert_int_eq(modules_resolve(text, wanted, 3, &list), 0);
	ck_assert_uint_eq(list.count, 4);
	ck_assert_str_eq(list.paths[0], "fs/fuse/fuse.ko"); /* dependencies first */
	ck_assert_str_eq(list.paths[1], "drivers/virtio/virtio_ring.ko");
	ck_assert_str_eq(list.paths[2], "fs/fuse/virtiofs.ko");
	ck_assert_str_eq(list.paths[3], "fs/overlayfs/overlay.ko");
	modules_free(&list);
	free(text);
	/* a module file that is not one is named */
	put_file("fs/overlayfs/overlay.ko", "not elf", 7);
	ck_assert_int_eq(kernel_tree_modules_dep(&t, wanted, 3, &text, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "overlay.ko: not a kernel module"));
}
END_TEST

START_TEST(test_modinfo_is_checked)
{
	uint8_t ko[1024];
	char out[64];
	size_t n = make_ko(ko, sizeof(ko), "depends=a,b", 12);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)ko;

	ck_assert_int_eq(kernel_tree_modinfo_depends(ko, n, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "a,b");
	ck_assert_int_eq(kernel_tree_modinfo_depends(ko, n, out, 3), -E2BIG);
	/* the last string without its NUL still ends at the section's end */
	n = make_ko(ko, sizeof(ko), "depends=ab", 10);
	ck_assert_int_eq(kernel_tree_modinfo_depends(ko, n, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "ab");
	n = make_ko(ko, sizeof(ko), "name=x", 7);
	ck_assert_int_eq(kernel_tree_modinfo_depends(ko, n, out, sizeof(out)), -ENOENT);
	for (size_t cut = 0; cut < n; cut += 7) /* truncated anywhere: refused or not found */
		ck_assert_int_ne(kernel_tree_modinfo_depends(ko, cut, out, sizeof(out)), 0);
	eh->e_shoff = ~0ull;
	ck_assert_int_eq(kernel_tree_modinfo_depends(ko, n, out, sizeof(out)), -EINVAL);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("kernel build tree");
	TCase *tc = tcase_create("kernel_tree");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_find);
	tcase_add_test(tc, test_modules_from_the_tree);
	tcase_add_test(tc, test_modinfo_is_checked);
	suite_add_tcase(s, tc);
	return s;
}
