/* SPDX-License-Identifier: MIT */
/*
 * What the shared start-up code (vmm/startup.c, vmm/vcpu.c) asks of the architecture it is
 * built for: the machine's firmware description and boot protocol, the set-up of each vCPU,
 * the platform devices and where the serial port's interrupt goes. vmm/x86/arch.c and
 * vmm/arm64/arch.c implement it; the Makefile compiles one of the two folders (ARCH=).
 * The architecture's own header (struct boot_entry, ARCH_SERIAL_IRQ) comes in from here.
 */
#ifndef VMM_ARCH_H
#define VMM_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/smbios.h"

#if defined(__x86_64__)
#include "vmm/x86/arch_types.h"
#elif defined(__aarch64__)
#include "vmm/arm64/arch_types.h"
#else
#error "this VMM builds for x86-64 or arm64 hosts"
#endif

struct bus;
struct console;
struct kernel_unpack_result;

/* `vmm run`'s guest: a command line and an initramfs the VMM built in memory. */
struct arch_built_initrd {
	const char *cmdline;
	const uint8_t *data;
	size_t len;
};
struct vcpu;
struct vm;
struct vmm_options;

/*
 * In guest memory that is already mapped: the firmware tables (x86: ACPI, SMBIOS; arm64: a
 * device tree) and the kernel with its initrd and command line (img, when not NULL, replaces
 * the options' initrd and command line), or a flat test binary. Fills
 * the boot vCPU's entry state and the VM's UUID. Returns 0 or a VMM_EXIT_* code, with a
 * sentence in err.
 */
int arch_load_guest(struct vm *vm, const struct vmm_options *opts,
		    const struct arch_built_initrd *img, struct boot_entry *entry,
		    char uuid_text[SMBIOS_UUID_TEXT_LEN + 1], struct kernel_unpack_result *unpacked,
		    char *err, size_t errlen);

/* A line on how the kernel was loaded, if worth saying (x86: who unpacks a bzImage, how). */
bool arch_kernel_note(const struct kernel_unpack_result *unpacked, char *out, size_t outlen);

/*
 * The release a kernel file names ("6.1.0-57-cloud-amd64"), for `vmm run --kernel DIR`'s
 * modules; 0 or -errno.
 */
int arch_kernel_release(const char *kernel, char *out, size_t outlen);

/*
 * After KVM_CREATE_VM: the in-kernel interrupt controllers. Returns 0 or a VMM_EXIT_* code
 * with a sentence in err: VMM_EXIT_USAGE where the options ask for more than the controller
 * KVM gave can serve (arm64: more vCPUs than a GICv2 has room for), else VMM_EXIT_ERROR.
 */
int arch_create_irqchip(struct vm *vm, char *err, size_t errlen);

/*
 * What every vCPU is set up from, read from KVM once (x86: its supported CPUID; arm64: the
 * preferred target). NULL (errno set) when KVM would not say.
 */
struct arch_vcpu_template *arch_vcpu_template_new(struct vm *vm);
void arch_vcpu_template_free(struct arch_vcpu_template *t);
/* A vCPU KVM has just created: its registers, features and interrupt wiring. 0 or -errno. */
int arch_vcpu_init(struct vcpu *vcpu, const struct arch_vcpu_template *t);
/* Once every vCPU exists, before any runs (arm64: the GIC's final set-up). 0 or -errno. */
int arch_vcpus_created(struct vm *vm, char *err, size_t errlen);
/* The boot vCPU at the kernel's entry point, as the boot protocol says. 0 or -errno. */
int arch_vcpu_setup_boot(struct vcpu *vcpu, const struct boot_entry *entry);
/* Print the registers of a vCPU that failed, for the user's bug report. */
void arch_vcpu_dump(struct vcpu *vcpu);

/* Press the power button (any thread): 0, or -EOPNOTSUPP on a machine without one. */
int arch_power_button(struct vm *vm);

/*
 * Where `vmm run`'s command port (devices/cmdport.h) sits: its bus (x86: port I/O; arm64,
 * which has none: MMIO), with its base address in *base.
 */
struct bus *arch_cmdport_bus(struct vm *vm, uint64_t *base);

/* The platform devices on their buses: power and reset, and the serial port. 0 or -errno. */
int arch_register_devices(struct vm *vm);

#endif
