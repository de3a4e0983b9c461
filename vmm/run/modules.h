/* SPDX-License-Identifier: MIT */
/*
 * Which kernel modules a `vmm run` guest needs, in load order: read from the guest
 * kernel's modules.dep (as depmod writes it) so each module comes after everything it
 * depends on. A module that modules.dep does not list is taken to be built in.
 */
#ifndef VMM_RUN_MODULES_H
#define VMM_RUN_MODULES_H

#include <stdbool.h>
#include <stddef.h>

#define MODULES_MAX 64

struct module_list {
	char *paths[MODULES_MAX]; /* relative to the modules directory, load order */
	unsigned int count;
};

/*
 * Resolve wanted[0..n) against the text of a modules.dep file: append each one and its
 * dependencies (dependencies first, no duplicates) to list. Names compare with '-' and
 * '_' alike. Returns 0, or -E2BIG when more than MODULES_MAX modules are needed, -ELOOP
 * on a dependency cycle, -ENOMEM.
 */
int modules_resolve(const char *dep_text, const char *const *wanted, unsigned int n,
		    struct module_list *list);
/* The module name of a path: "kernel/fs/fuse/virtiofs.ko.xz" -> "virtiofs". */
void modules_name(const char *path, char *name, size_t len);
void modules_free(struct module_list *list);

#endif
