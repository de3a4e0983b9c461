// SPDX-License-Identifier: MIT
/*
 * The steps main() takes to build a VM, one function each, in the order vmm/main.c calls
 * them: load the guest (memory, firmware tables, kernel), open /dev/kvm, drop privileges,
 * create the VM, its platform devices and PCI bus, start the vCPUs, and name the
 * descriptors each thread's seccomp list allows. Errors go into err; main() prints them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/platform.h"
#include "devices/pci.h"
#include "firmware/smbios.h"
#include "vmm/arch.h"
#include "vmm/console.h"
#include "vmm/devices.h"
#include "vmm/exit_codes.h"
#include "vmm/jail.h"
#include "vmm/main_loop.h"
#include "vmm/options.h"
#include "vmm/seccomp.h"
#include "vmm/snapshot.h"
#include "vmm/run/boot_cache.h"
#include "vmm/run/run.h"
#include "vmm/run/stdin.h"
#include "vmm/startup.h"
#include "vmm/test_hooks.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

/* The init at its boot point: --boot-cache may hold it there while the boot is saved. */
static bool on_run_boot_point(void *ctx)
{
	(void)ctx;
	return boot_cache_boot_point(&run_boot_cache);
}

static uint8_t *run_guest_bytes(void *ctx, uint64_t gpa, size_t len)
{
	struct vm *vm = ctx;

	return guest_mem_ptr(&vm->mem, gpa, len);
}

/* The status is the init's last word: the rest of its power-off only costs time. */
static void on_run_status(void *ctx)
{
	vm_request_stop(ctx, VMM_EXIT_POWEROFF);
}

/* Guest memory, firmware tables and the kernel: every input file is checked here. */
int load_guest(struct vm *vm, const struct vmm_options *opts, const struct run_image *img,
	       struct boot_entry *entry, char uuid_text[SMBIOS_UUID_TEXT_LEN + 1],
	       struct kernel_unpack_result *unpacked, char *err, size_t errlen)
{
	int ret = guest_mem_alloc(&vm->mem, opts->memory);

	if (ret) {
		snprintf(err, errlen, "--memory: cannot map %llu MiB: %s",
			 (unsigned long long)(opts->memory >> 20), strerror(-ret));
		return VMM_EXIT_USAGE;
	}
	if (img) {
		struct arch_built_initrd built = { img->cmdline, img->initramfs.buf,
						   img->initramfs.len };

		return arch_load_guest(vm, opts, &built, entry, uuid_text, unpacked, err, errlen);
	}
	return arch_load_guest(vm, opts, NULL, entry, uuid_text, unpacked, err, errlen);
}

static void pci_set_irq(void *ctx, unsigned int gsi, bool level)
{
	irq_line(ctx, gsi, level);
}

/* The PCI bus and a virtio-pci function for each device, wired to KVM's interrupt router. */
int create_pci_devices(struct vm *vm, char *err, size_t errlen)
{
	int ret = irq_router_init(&vm->irq, vm->kvm.vm_fd);

	if (ret) {
		snprintf(err, errlen, "cannot set up interrupt routing: %s", strerror(-ret));
		return ret;
	}
	pci_bus_init(&vm->pci, pci_mmio64_base(vm->mem.size), pci_set_irq, &vm->irq);
	ret = devices_attach_pci(vm, err, errlen);
	if (ret)
		return ret;
	ret = pci_bus_register(&vm->pci, &vm->pio, &vm->mmio);
	if (ret)
		snprintf(err, errlen, "cannot claim the PCI ports and windows: %s", strerror(-ret));
	return ret;
}

/* /dev/kvm is often open to root or one group only: opened before the privileges go. */
int open_kvm(struct vm *vm, const struct vmm_options *opts, char *err, size_t errlen)
{
	int ret = kvm_open(&vm->kvm, opts->kvm_path, err, errlen);

	if (ret)
		return VMM_EXIT_ERROR;
	if ((int)opts->cpus > vm->kvm.max_vcpus) {
		snprintf(err, errlen, "--cpus %u: KVM on this host allows at most %d", opts->cpus,
			 vm->kvm.max_vcpus);
		return VMM_EXIT_USAGE;
	}
	return 0;
}

/*
 * After the privileges are gone: KVM_CREATE_VM may start kernel workers of its own
 * that copy the caller's credentials.
 */
int create_vm(struct vm *vm, char *err, size_t errlen)
{
	int ret;

	if (kvm_create_vm(&vm->kvm, err, errlen))
		return VMM_EXIT_ERROR;
	ret = arch_create_irqchip(vm, err, errlen);
	if (ret)
		return ret;
	ret = guest_mem_register(&vm->mem, vm->kvm.vm_fd);
	if (ret) {
		snprintf(err, errlen, "cannot give guest memory to KVM: %s", strerror(-ret));
		return VMM_EXIT_ERROR;
	}
	return 0;
}

int create_devices(struct vm *vm, struct console *con, const struct vmm_options *opts)
{
	int ret = 0;

	bus_init(&vm->pio, "port I/O");
	bus_init(&vm->mmio, "MMIO");
	/* --stats still counts them */
	vm->pio.quiet = vm->mmio.quiet = opts->run && !opts->verbose;
	enum console_mode mode = opts->console;

	if (opts->run) {
		struct cmdport_host host = {
			.output = run_output,
			.status = on_run_status,
			.guest_bytes = run_guest_bytes,
			.ctx = vm,
			.input = run_stdin_take,
			.input_ctx = &run_stdin_main,
			.winsize = run_stdin_winsize,
			.boot_point = on_run_boot_point,
			.config = run_config_read,
		};

		/* the command's output is ours; the guest's console only on request */
		mode = opts->verbose ? CONSOLE_LOG : CONSOLE_NONE;
		uint64_t base;
		struct bus *bus = arch_cmdport_bus(vm, &base);

		cmdport_init(&vm->cmdport, &host);
		ret = cmdport_register(&vm->cmdport, bus, base);
	}
	if (!ret)
		ret = console_init(con, vm, mode);
	if (!ret)
		ret = arch_register_devices(vm);
	if (!ret)
		ret = test_hooks_register(vm);
	return ret;
}

/*
 * Every vCPU, before the devices: an arm64 GIC is initialised only once all vCPUs exist,
 * and KVM takes no irqfd (which the virtio-pci devices bind) before that.
 */
int create_vcpus(struct vm *vm, char *err, size_t errlen)
{
	struct arch_vcpu_template *t = arch_vcpu_template_new(vm);
	int ret = 0;

	if (!t) {
		snprintf(err, errlen, "cannot read the vCPU set-up from KVM: %s", strerror(errno));
		return -errno;
	}
	for (unsigned int i = 0; i < vm->ncpus && !ret; i++) {
		ret = vcpu_create(vm, &vm->vcpus[i], i, t);
		if (ret)
			snprintf(err, errlen, "cannot create vCPU %u: %s", i, strerror(-ret));
	}
	arch_vcpu_template_free(t);
	if (!ret)
		ret = arch_vcpus_created(vm, err, errlen);
	return ret;
}

int start_vcpus(struct vm *vm, const struct boot_entry *entry, struct snapshot_source *src,
		char *err, size_t errlen)
{
	int ret = 0;

	/* a restore: every vCPU as saved, then the clock, the last thing before they run */
	for (unsigned int i = 0; src && i < vm->ncpus && !ret; i++)
		ret = snapshot_restore_vcpu(src, &vm->vcpus[i], err, errlen);
	if (src && !ret)
		ret = snapshot_restore_clock(src, vm, err, errlen);
	/* a boot: only the boot vCPU gets a state; the others wait for the guest to start them */
	if (!src && !ret && (ret = arch_vcpu_setup_boot(&vm->vcpus[0], entry)))
		snprintf(err, errlen, "cannot set the boot vCPU's registers: %s", strerror(-ret));
	if (!ret)
		vm_mark_phase(vm, VM_PHASE_VCPUS);
	for (unsigned int i = 0; i < vm->ncpus && !ret; i++) {
		ret = vcpu_start(&vm->vcpus[i]);
		if (ret)
			snprintf(err, errlen, "cannot start vCPU %u: %s", i, strerror(-ret));
	}
	/*
	 * Each loads its list before its first KVM_RUN. Wait for that here, so that none is
	 * ever seen unfenced once the main thread loads its own (a failed one has said why
	 * and asked the VM to stop; the main loop ends it).
	 */
	for (unsigned int i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i].started)
			vcpu_wait_fenced(&vm->vcpus[i]);
	return ret;
}

/*
 * The sandbox, part one, while the main thread is still the only thread: capabilities
 * (and with --user, root itself) go, and no-new-privs is set. Both are per thread, and a
 * thread made later inherits them. Then the SIGSYS handler, for the lists each thread
 * loads for itself from here on.
 */
int drop_privileges(const struct vmm_options *opts, char *err, size_t errlen)
{
	int code = vmm_drop_privileges(opts->has_user, opts->uid, opts->gid);

	if (code == -EBUSY)
		snprintf(err, errlen, "cannot drop privileges: a thread already runs");
	else if (code && opts->has_user)
		snprintf(err, errlen, "--user %u:%u: cannot switch to it: %s (needs root)",
			 opts->uid, opts->gid, strerror(-code));
	else if (code)
		snprintf(err, errlen, "cannot drop capabilities: %s", strerror(-code));
	else if ((code = vmm_seccomp_init(opts->seccomp, console_restore)))
		snprintf(err, errlen, "cannot prepare seccomp: %s", strerror(-code));
	if (!code && opts->has_user)
		jail_after_user_switch();
	return code;
}

void stop_vcpus(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->ncpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (unsigned int i = 0; i < vm->ncpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
}

/* What the devices behind vCPU exits write: the console's output, `vmm run`'s output. */
void vcpu_host_fds(struct vm *vm, const struct console *con, const struct vmm_options *opts)
{
	struct vmm_seccomp_fds *fds = &vm->vcpu_host_fds;

	if (con->mode != CONSOLE_NONE)
		vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_OUTPUT, con->out_fd);
	vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_EVENT, con->rx_ready_fd);
	if (opts->run) {
		vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_OUTPUT, STDOUT_FILENO);
		vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_OUTPUT, STDERR_FILENO);
		boot_cache_vcpu_fds(&run_boot_cache, fds);
	}
}

/*
 * The event loop's own descriptors: signals, the stop request, the console's input, and
 * every device's eventfds (the teardown resets them; user networking's back ends are
 * served here). At exit it writes `vmm run`'s last output, --status-file, --stats-json.
 */
void main_seccomp_fds(struct vmm_seccomp_fds *fds, struct vm *vm, const struct main_loop *watch,
		      const struct console *con, const struct vmm_options *opts, FILE *stats_json)
{
	vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_VM, vm->kvm.vm_fd);
	vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_EVENT, main_loop_signal_fd(watch));
	vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_EVENT, con->rx_ready_fd);
	devices_seccomp_fds(vm, fds);
	if (con->in_pollable)
		vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_INPUT, con->in_fd);
	if (opts->run) {
		vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_OUTPUT, STDOUT_FILENO);
		vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_OUTPUT, STDERR_FILENO);
	}
	vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_OUTPUT, run_status_file_fd());
	boot_cache_main_fds(&run_boot_cache, fds);
	if (stats_json)
		vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_OUTPUT, fileno(stats_json));
}

/* libslirp runs in the event loop: with --net user, the main thread needs its sockets. */
enum vmm_seccomp_role main_role(struct vm *vm)
{
	return devices_use_main_loop(vm) ? VMM_SECCOMP_MAIN_USER_NET : VMM_SECCOMP_MAIN;
}
