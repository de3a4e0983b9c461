/* SPDX-License-Identifier: MIT */
/*
 * `vmm run`: the host side of a throw-away VM that runs one command. Before boot it
 * writes the initramfs (our init, its config, the kernel modules the devices need and,
 * with --rootfs, a copy of a directory tree) and the kernel command line; after the
 * guest has stopped it turns what happened into our exit status.
 *
 * Exit status: the command's own (0-255), 128+N when a signal N killed it, and
 *   VMM_EXIT_TIMEOUT (124)   --timeout expired
 *   VMM_EXIT_NO_STATUS (125) the guest stopped without reporting a status (a panic,
 *                            a crash, a failed init)
 * plus the VMM's own 1 and 2 before the guest starts. A command that exits with one of
 * these numbers itself looks the same; --status-file tells them apart.
 */
#ifndef VMM_RUN_H
#define VMM_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/console.h"
#include "vmm/run/cpio.h"
#include "vmm/options.h"
#include "vmm/vm.h"

#define RUN_INIT_DIR "/.vmm-run"
#define RUN_ROOT_TAG "vmm-run-root" /* the virtio-fs tag of the host's / */
#define RUN_CMDLINE_MAX 2048

struct run_image {
	struct cpio initramfs;
	char cmdline[RUN_CMDLINE_MAX];
};

/*
 * No command: on a terminal (stdin and stdout), the guest's /bin/sh with a terminal of
 * its own (opts->run_tty); otherwise VMM_EXIT_USAGE with one line in err.
 */
int run_check_command(struct vmm_options *opts, char *err, size_t errlen);
/*
 * --kernel naming a kernel build tree (or its vmlinux): boot the tree's kernel and take the
 * modules from the tree (vmm/run/kernel_tree.h). Returns 0 (also for an ordinary kernel
 * file), or VMM_EXIT_USAGE with one line in err.
 */
int run_find_kernel_tree(struct vmm_options *opts, char *err, size_t errlen);
/*
 * Without --rootfs, share the host's / read-only as the guest's root: one more --share.
 * Returns 0, or VMM_EXIT_USAGE with one line in err.
 */
int run_add_root_share(struct vmm_options *opts, char *err, size_t errlen);
/*
 * Build the initramfs and command line for opts; init is the static init program.
 * Returns 0, or VMM_EXIT_USAGE / VMM_EXIT_ERROR with one line in err.
 */
int run_prepare(struct run_image *img, const struct vmm_options *opts, const uint8_t *init,
		size_t init_len, char *err, size_t errlen);
void run_image_free(struct run_image *img);
/*
 * The command port's configuration callback (struct cmdport_host.config): the run's
 * configuration, which run_prepare() built, from offset on; the host's current time goes
 * into it as the init starts reading. A vCPU calls it.
 */
size_t run_config_read(void *ctx, uint64_t offset, uint8_t *dst, size_t max, bool *end);
/*
 * The command port's output callback: guest bytes to our stdout or stderr; ctx is the
 * struct vm, stopped with 128 + SIGPIPE when the reader of either has gone.
 */
void run_output(void *ctx, enum cmdport_stream stream, const uint8_t *buf, size_t len);
/*
 * Turn the VMM's stop code (vm_exit_code) and the command port's status into our exit
 * status; explain a guest failure on stderr and write --status-file.
 */
/* Create --status-file now, while files may still be opened; -errno with err. */
int run_open_status_file(const struct vmm_options *opts, char *err, size_t errlen);
/* Its descriptor, which run_finish() writes (the main thread's list names it), or -1. */
int run_status_file_fd(void);
int run_finish(struct vm *vm, const struct vmm_options *opts, const struct console *con,
	       int stop_code);
/* Append one environment entry, replacing one of the same name. Returns false when full. */
bool run_env_set(const char **env, unsigned int *n, unsigned int max, const char *entry);

#endif
