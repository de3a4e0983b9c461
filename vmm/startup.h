/* SPDX-License-Identifier: MIT */
/*
 * The start-up steps of vmm/main.c (vmm/startup.c), in the order main() calls them. Each
 * returns 0 or an error (a VMM_EXIT_* code where it says so, else -errno) with a one-line
 * message in err; main() prints it and picks the exit code. Only main() calls these,
 * from the main thread, before and around the start of the other threads.
 */
#ifndef VMM_STARTUP_H
#define VMM_STARTUP_H

#include <stdio.h>

#include "firmware/smbios.h"
#include "vmm/seccomp.h"

struct boot_entry;
struct console;
struct kernel_unpack_result;
struct main_loop;
struct run_image;
struct snapshot_source;
struct vm;
struct vmm_options;

/*
 * Guest memory, firmware tables and the kernel (img: `vmm run`'s command line and
 * initramfs, else NULL): every input file is checked here. Returns a VMM_EXIT_* code.
 */
int load_guest(struct vm *vm, const struct vmm_options *opts, const struct run_image *img,
	       struct boot_entry *entry, char uuid_text[SMBIOS_UUID_TEXT_LEN + 1],
	       struct kernel_unpack_result *unpacked, char *err, size_t errlen);
/* /dev/kvm, before the privileges go; checks --cpus against it. Returns a VMM_EXIT_* code. */
int open_kvm(struct vm *vm, const struct vmm_options *opts, char *err, size_t errlen);
/* Capabilities (and with --user, root) go and the seccomp handler is set: no thread yet. */
int drop_privileges(const struct vmm_options *opts, char *err, size_t errlen);
/*
 * KVM_CREATE_VM, its interrupt controllers and guest memory given to it, after the
 * privileges are gone. Returns 0 or a VMM_EXIT_* code with a sentence in err.
 */
int create_vm(struct vm *vm, char *err, size_t errlen);
/* The buses, power, the guest-command port under `vmm run`, the console and COM1. */
int create_devices(struct vm *vm, struct console *con, const struct vmm_options *opts);
/* The PCI bus and a virtio-pci function for each device, wired to KVM's interrupt router. */
int create_pci_devices(struct vm *vm, char *err, size_t errlen);
/* What the devices behind vCPU exits write: the console's output, `vmm run`'s output. */
void vcpu_host_fds(struct vm *vm, const struct console *con, const struct vmm_options *opts);
/* Creates every vCPU (vm->ncpus of them), before the devices. */
int create_vcpus(struct vm *vm, char *err, size_t errlen);
/*
 * Sets the boot vCPU's registers (or, with src, every vCPU's and the clock from a
 * snapshot), then starts every vCPU's thread.
 */
int start_vcpus(struct vm *vm, const struct boot_entry *entry, struct snapshot_source *src,
		char *err, size_t errlen);
/* Kicks every vCPU out of the guest and joins its thread. */
void stop_vcpus(struct vm *vm);
/* The event loop's own descriptors, for the main thread's seccomp list. */
void main_seccomp_fds(struct vmm_seccomp_fds *fds, struct vm *vm, const struct main_loop *watch,
		      const struct console *con, const struct vmm_options *opts, FILE *stats_json);
/* The main thread's seccomp role: with --net user it serves libslirp's sockets too. */
enum vmm_seccomp_role main_role(struct vm *vm);

#endif
