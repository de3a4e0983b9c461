/* SPDX-License-Identifier: MIT */
/*
 * `vmm run --kernel DIR` with DIR a kernel build tree (where `make` left its results):
 * the kernel is DIR/arch/x86/boot/bzImage, or DIR/vmlinux when that is the path given,
 * and the modules come from the tree itself, as the build left them, without
 * `make modules_install` or depmod. The tree says its release in
 * include/config/kernel.release and its modules in modules.order; a module's own
 * .modinfo section says what it depends on ("depends=fuse,virtio").
 */
#ifndef VMM_RUN_KERNEL_TREE_H
#define VMM_RUN_KERNEL_TREE_H

#include <stddef.h>

#define KERNEL_TREE_PATH_MAX 4096

struct kernel_tree {
	char dir[KERNEL_TREE_PATH_MAX];
	char image[KERNEL_TREE_PATH_MAX + 32];
	char release[128];
};

/*
 * Is path a build tree (a directory with include/config/kernel.release) or the vmlinux
 * at the top of one? 1 and *t filled when it is, 0 when it is not (an ordinary kernel
 * file), -EINVAL with one line in err for a tree without a kernel built in it.
 */
int kernel_tree_find(const char *path, struct kernel_tree *t, char *err, size_t errlen);

/*
 * The lines of a modules.dep ("path: dependency paths", relative to the tree) for the
 * modules named in wanted[0..n) and everything they need, from modules.order and each
 * module's .modinfo. *text is malloc'ed. A wanted module the tree does not list is left
 * out (built in). Returns 0, or -errno with one line in err.
 */
int kernel_tree_modules_dep(const struct kernel_tree *t, const char *const *wanted, unsigned int n,
			    char **text, char *err, size_t errlen);

/* The "depends=" value in a module's .modinfo (an ELF64 relocatable), or -ENOENT. */
int kernel_tree_modinfo_depends(const void *ko, size_t len, char *out, size_t outlen);

#endif
