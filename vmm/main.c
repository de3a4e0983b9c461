// SPDX-License-Identifier: MIT
/*
 * The VMM from start to finish, in the order it happens: read the command line, build
 * guest memory with the kernel and firmware tables in it, create the VM and its devices,
 * start one thread per vCPU, then wait for the guest to power off (or for a signal).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>

#include "devices/platform.h"
#include "devices/pci.h"
#include "firmware/x86/acpi.h"
#include "firmware/smbios.h"
#include "vmm/run/config.h"
#include "vmm/console.h"
#include "vmm/devices.h"
#include "vmm/x86/boot.h"
#include "vmm/x86/cpuid.h"
#include "vmm/event_loop.h"
#include "vmm/exit_codes.h"
#include "vmm/host.h"
#include "vmm/hostfile.h"
#include "vmm/jail.h"
#include "vmm/main_loop.h"
#include "vmm/options.h"
#include "vmm/seccomp.h"
#include "vmm/run/run.h"
#include "vmm/run/stdin.h"
#include "vmm/stats.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#define VMM_VERSION "0.1"

/* The `vmm run` guest's init, linked in from guest/init-blob.S so the VMM is one file. */
extern const uint8_t guest_init_start[], guest_init_end[];

static int usage_error(const char *msg)
{
	fprintf(stderr, "vmm: %s\n", msg);
	return VMM_EXIT_USAGE;
}

static int host_error(const char *msg)
{
	fprintf(stderr, "vmm: %s\n", msg);
	return VMM_EXIT_ERROR;
}

/* Refuse a guest bigger than the host's RAM before trying to map it. */
static int check_host_memory(const struct vmm_options *opts, char *err, size_t errlen)
{
	struct sysinfo si;
	uint64_t total;

	if (sysinfo(&si) < 0)
		return 0; /* cannot tell: let the mapping decide */
	total = (uint64_t)si.totalram * si.mem_unit;
	if (opts->memory > total) {
		snprintf(err, errlen, "--memory %s: more than this host's %lluM of RAM",
			 opts->memory_text, (unsigned long long)(total >> 20));
		return -EINVAL;
	}
	return 0;
}

/* Name every unreadable input file up front, before reading any of them in earnest. */
/* A report written at exit (--stats-json), opened now without blocking on a FIFO. */
static int open_output(FILE **f, const char *option, const char *path, char *err, size_t errlen)
{
	const char *why;
	int fd = hostfile_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666, HOSTFILE_OUTPUT, NULL,
			       &why);

	if (fd < 0) {
		snprintf(err, errlen, "%s %s: %s", option, path, why);
		return fd;
	}
	*f = fdopen(fd, "w");
	if (!*f) {
		int ret = -errno;

		close(fd);
		snprintf(err, errlen, "%s %s: %s", option, path, strerror(-ret));
		return ret;
	}
	return 0;
}

static int check_input_files(const struct vmm_options *opts, char *err, size_t errlen)
{
	const struct {
		const char *option;
		const char *path;
	} files[] = { { "--kernel", opts->kernel },
		      { "--initrd", opts->initrd },
		      { "--flat", opts->flat } };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (files[i].path && access(files[i].path, R_OK) < 0) {
			snprintf(err, errlen, "%s %s: %s", files[i].option, files[i].path,
				 strerror(errno));
			return -errno;
		}
	}
	for (unsigned int i = 0; i < opts->ndisks; i++) {
		if (access(opts->disks[i].path, R_OK) < 0) {
			snprintf(err, errlen, "--disk path=%s: %s", opts->disks[i].path,
				 strerror(errno));
			return -errno;
		}
	}
	for (unsigned int i = 0; i < opts->nshares; i++) {
		const char *dir = opts->shares[i].dir;
		struct stat st;

		if (stat(dir, &st) < 0) {
			snprintf(err, errlen, "--share %s: %s", dir, strerror(errno));
			return -errno;
		}
		if (!S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "--share %s: not a directory", dir);
			return -ENOTDIR;
		}
		if (access(dir, R_OK | X_OK) < 0) {
			snprintf(err, errlen, "--share %s: %s", dir, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

#ifdef VMM_TEST_HOOKS
/*
 * Test builds only (make static-test): a guest write to this port makes the vCPU thread
 * do what a compromised device model might, so the harness can watch the sandbox stop
 * it. The byte written picks what: 1, a system call no list allows (socket); 2, a plain
 * write into the first disk's image, a descriptor the process holds but this thread's
 * list does not name for write.
 */
#include <sys/socket.h>

/* The first device's disk image: its highest VMM_SECCOMP_FD_DISK descriptor (the buffered one). */
static int test_hook_disk_fd(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->ndevices; i++) {
		static struct vmm_seccomp_fds fds;
		const struct virtio_slot *s = &vm->devices[i];

		if (!s->opened || !s->kind->seccomp_fds)
			continue;
		memset(&fds, 0, sizeof(fds));
		s->kind->seccomp_fds(s, &fds);
		for (int fd = VMM_SECCOMP_MAX_FD - 1; fd >= 0; fd--)
			if (fds.bits[VMM_SECCOMP_FD_DISK][fd / 64] & (1ull << (fd % 64)))
				return fd;
	}
	return -1;
}

static void test_hook_write_disk(struct vm *vm)
{
	static const char junk[] = "a vCPU thread wrote this";
	int fd = test_hook_disk_fd(vm);
	ssize_t n;

	if (fd < 0) {
		fprintf(stderr, "vmm: test hook: no disk to write to\n");
		return;
	}
	fprintf(stderr, "vmm: test hook: calling write() on the disk image from a vCPU thread\n");
	n = write(fd, junk, sizeof(junk));
	fprintf(stderr, "vmm: test hook: write() returned %zd; still running\n", n);
}

static void test_hook_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	(void)opaque;
	(void)offset;
	memset(data, 0xff, len);
}

/*
 * With VMM_TEST_OPEN=PATH set, any byte makes the hook open PATH instead, as a
 * compromised device model might try to: under --seccomp off only --jail stands in its way.
 */
static void test_hook_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	fprintf(stderr, "vmm: test hook: open(%s): %s\n", path,
		fd >= 0 ? "opened" : strerror(errno));
	if (fd >= 0)
		close(fd);
}

static void test_hook_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	const char *path = getenv("VMM_TEST_OPEN");
	int fd;

	(void)offset;
	(void)len;
	if (path) {
		test_hook_open(path);
		return;
	}
	if (*(const uint8_t *)data == 2) {
		test_hook_write_disk(opaque);
		return;
	}
	fprintf(stderr, "vmm: test hook: calling socket() on a vCPU thread\n");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	fprintf(stderr, "vmm: test hook: socket() returned %d; still running\n", fd);
	if (fd >= 0)
		close(fd);
}

static const struct bus_device_ops test_hook_ops = { test_hook_read, test_hook_write };

static int register_test_hooks(struct vm *vm)
{
	return bus_register(&vm->pio, PLATFORM_TEST_HOOK_PORT, 1, &test_hook_ops, vm, "test-hook");
}
#else
static int register_test_hooks(struct vm *vm)
{
	(void)vm;
	return 0;
}
#endif

static void on_poweroff(void *ctx)
{
	vm_request_stop(ctx, VMM_EXIT_POWEROFF);
}

static void on_reset(void *ctx)
{
	vm_request_stop(ctx, VMM_EXIT_REBOOT);
}

static uint8_t *run_guest_bytes(void *ctx, uint64_t gpa, size_t len)
{
	struct vm *vm = ctx;

	return guest_mem_ptr(&vm->mem, gpa, len);
}

/* `vmm run`'s stdin, which the command port hands to the guest */
static struct run_stdin run_input;

/* The status is the init's last word: the rest of its power-off only costs time. */
static void on_run_status(void *ctx)
{
	vm_request_stop(ctx, VMM_EXIT_POWEROFF);
}

/* SMBIOS: who made this machine, its UUID and name; the guest reads it as DMI data. */
static int build_smbios(struct vm *vm, const struct vmm_options *opts,
			char uuid_text[SMBIOS_UUID_TEXT_LEN + 1])
{
	struct smbios_config cfg = {
		.name = opts->name,
		.ncpus = opts->cpus,
		.mem_size = opts->memory,
	};
	size_t size = PLATFORM_SMBIOS_END - PLATFORM_SMBIOS_START;
	if (opts->has_uuid)
		memcpy(cfg.uuid, opts->uuid, sizeof(cfg.uuid));
	else if (smbios_uuid_generate(cfg.uuid))
		return -EIO;
	smbios_uuid_format(cfg.uuid, uuid_text);
	return smbios_build(guest_mem_ptr(&vm->mem, PLATFORM_SMBIOS_START, size), size,
			    PLATFORM_SMBIOS_START, &cfg) < 0
		       ? -EINVAL
		       : 0;
}

/* Guest memory, firmware tables and the kernel: every input file is checked here. */
static int load_guest(struct vm *vm, const struct vmm_options *opts, const struct run_image *img,
		      struct boot_entry *entry, char uuid_text[SMBIOS_UUID_TEXT_LEN + 1],
		      struct kernel_unpack_result *unpacked, char *err, size_t errlen)
{
	struct acpi_config acpi = {
		.ncpus = opts->cpus,
		.pci_mmio64_base = pci_mmio64_base(opts->memory),
		.pci_mmio64_size = PLATFORM_PCI_MMIO64_SIZE,
	};
	size_t acpi_size = PLATFORM_ACPI_END - PLATFORM_ACPI_START;
	ssize_t used;
	int ret;

	ret = guest_mem_alloc(&vm->mem, opts->memory);
	if (ret) {
		snprintf(err, errlen, "--memory: cannot map %llu MiB: %s",
			 (unsigned long long)(opts->memory >> 20), strerror(-ret));
		return VMM_EXIT_USAGE;
	}
	used = acpi_build(guest_mem_ptr(&vm->mem, PLATFORM_ACPI_START, acpi_size), acpi_size,
			  PLATFORM_ACPI_START, &acpi);
	if (used < 0 || boot_setup_long_mode(&vm->mem) || build_smbios(vm, opts, uuid_text)) {
		snprintf(err, errlen, "cannot build the firmware tables");
		return VMM_EXIT_ERROR;
	}
	if (opts->flat) {
		ret = boot_load_flat(&vm->mem, opts->flat, entry, err, errlen);
	} else {
		struct boot_linux_config linux_cfg = {
			.kernel_path = opts->kernel,
			.initrd_path = opts->initrd,
			.cmdline = opts->cmdline,
			.rsdp_gpa = PLATFORM_ACPI_START,
			.unpack = opts->kernel_unpack,
			.unpacked = unpacked,
		};
		if (img) {
			linux_cfg.cmdline = img->cmdline;
			linux_cfg.initrd_data = img->initramfs.buf;
			linux_cfg.initrd_len = img->initramfs.len;
		}
		ret = boot_load_linux(&vm->mem, &linux_cfg, entry, err, errlen);
	}
	return ret ? VMM_EXIT_USAGE : 0;
}

static void pci_set_irq(void *ctx, unsigned int gsi, bool level)
{
	irq_line(ctx, gsi, level);
}

/* The PCI bus and a virtio-pci function for each device, wired to KVM's interrupt router. */
static int create_pci_devices(struct vm *vm, char *err, size_t errlen)
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
static int open_kvm(struct vm *vm, const struct vmm_options *opts, char *err, size_t errlen)
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
static int create_vm(struct vm *vm, char *err, size_t errlen)
{
	int ret;

	if (kvm_create_vm(&vm->kvm, err, errlen))
		return VMM_EXIT_ERROR;
	ret = guest_mem_register(&vm->mem, vm->kvm.vm_fd);
	if (ret) {
		snprintf(err, errlen, "cannot give guest memory to KVM: %s", strerror(-ret));
		return VMM_EXIT_ERROR;
	}
	return 0;
}

static int create_devices(struct vm *vm, struct console *con, const struct vmm_options *opts)
{
	struct power_events events = { on_poweroff, on_reset, vm };
	int ret;

	bus_init(&vm->pio, "port I/O");
	bus_init(&vm->mmio, "MMIO");
	/* --stats still counts them */
	vm->pio.quiet = vm->mmio.quiet = opts->run && !opts->verbose;
	enum console_mode mode = opts->console;

	power_init(&vm->power, &events, &vm->start);
	ret = power_register(&vm->power, &vm->pio);
	if (!ret && opts->run) {
		struct cmdport_host host = {
			.output = run_output,
			.status = on_run_status,
			.guest_bytes = run_guest_bytes,
			.ctx = vm,
			.input = run_stdin_take,
			.input_ctx = &run_input,
			.winsize = run_stdin_winsize,
		};

		/* the command's output is ours; the guest's console only on request */
		mode = opts->verbose ? CONSOLE_LOG : CONSOLE_NONE;
		cmdport_init(&vm->cmdport, &host);
		ret = cmdport_register(&vm->cmdport, &vm->pio);
	}
	if (!ret)
		ret = console_init(con, vm, mode);
	if (!ret)
		ret = uart_register(&vm->com1, &vm->pio, PLATFORM_COM1_PORT, "com1");
	if (!ret)
		ret = register_test_hooks(vm);
	return ret;
}

static int start_vcpus(struct vm *vm, const struct boot_entry *entry, char *err, size_t errlen)
{
	struct kvm_cpuid2 *supported = cpuid_supported(vm->kvm.sys_fd);
	int ret = 0;

	if (!supported) {
		snprintf(err, errlen, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		return -errno;
	}
	if (vm->kvm.tsc_deadline)
		cpuid_set_tsc_deadline(supported);
	for (unsigned int i = 0; i < vm->ncpus && !ret; i++) {
		ret = vcpu_create(vm, &vm->vcpus[i], i, supported);
		if (ret)
			snprintf(err, errlen, "cannot create vCPU %u: %s", i, strerror(-ret));
	}
	free(supported);
	/* only the boot vCPU gets a state; the others wait for the guest's INIT/SIPI */
	if (!ret && (ret = vcpu_setup_boot(&vm->vcpus[0], entry)))
		snprintf(err, errlen, "cannot set the boot vCPU's registers: %s", strerror(-ret));
	if (!ret)
		vm_mark_phase(vm, VM_PHASE_VCPUS);
	for (unsigned int i = 0; i < vm->ncpus && !ret; i++) {
		ret = vcpu_start(&vm->vcpus[i]);
		if (ret)
			snprintf(err, errlen, "cannot start vCPU %u: %s", i, strerror(-ret));
	}
	return ret;
}

/*
 * The sandbox, part one, while the main thread is still the only thread: capabilities
 * (and with --user, root itself) go, and no-new-privs is set. Both are per thread, and a
 * thread made later inherits them. Then the SIGSYS handler, for the lists each thread
 * loads for itself from here on.
 */
static int drop_privileges(const struct vmm_options *opts, char *err, size_t errlen)
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

static void stop_vcpus(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->ncpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (unsigned int i = 0; i < vm->ncpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
}

/* What the devices behind vCPU exits write: the console's output, `vmm run`'s output. */
static void vcpu_host_fds(struct vm *vm, const struct console *con, const struct vmm_options *opts)
{
	struct vmm_seccomp_fds *fds = &vm->vcpu_host_fds;

	if (con->mode != CONSOLE_NONE)
		vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_OUTPUT, con->out_fd);
	vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_EVENT, con->rx_ready_fd);
	if (opts->run) {
		vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_OUTPUT, STDOUT_FILENO);
		vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_OUTPUT, STDERR_FILENO);
	}
}

/*
 * The event loop's own descriptors: signals, the stop request, the console's input, and
 * every device's eventfds (the teardown resets them; user networking's back ends are
 * served here). At exit it writes `vmm run`'s last output, --status-file, --stats-json.
 */
static void main_seccomp_fds(struct vmm_seccomp_fds *fds, struct vm *vm,
			     const struct main_loop *watch, const struct console *con,
			     const struct vmm_options *opts, FILE *stats_json)
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
	if (stats_json)
		vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_OUTPUT, fileno(stats_json));
}

/* libslirp runs in the event loop: with --net user, the main thread needs its sockets. */
static enum vmm_seccomp_role main_role(struct vm *vm)
{
	return devices_use_main_loop(vm) ? VMM_SECCOMP_MAIN_USER_NET : VMM_SECCOMP_MAIN;
}

int main(int argc, char **argv)
{
	static struct vm vm;
	struct event_loop *loop;
	struct main_loop watch;
	FILE *stats_json = NULL;
	struct vmm_seccomp_fds main_fds = { 0 };
	static struct vmm_options opts; /* in .bss: its unused path slots stay untouched */
	struct boot_entry entry;
	struct kernel_unpack_result unpacked = { .fd = -1 };
	struct console con;
	struct run_image img;
	struct virtio_host host;
	struct options_prescan pre;
	struct config_args cfg = { 0 };
	char uuid_text[SMBIOS_UUID_TEXT_LEN + 1];
	char err[512];
	int code;

	clock_gettime(CLOCK_MONOTONIC, &vm.start);
	run_stdin_probe(); /* before we open anything that could take a closed fd 0 */
	options_prescan(argc, argv, &pre);
	if (pre.config) {
		/* the file's options go first, so the command line's win */
		if (config_load(&pre, &cfg, err, sizeof(err)))
			return usage_error(err);
		argv = config_merge(argc, argv, &pre, &cfg, &argc);
		if (!argv)
			return host_error("out of memory");
	}
	if (options_parse(&opts, argc, argv, err, sizeof(err)))
		return usage_error(err);
	if (opts.help) {
		if (opts.run)
			options_usage_run(stdout, argv[0]);
		else
			options_usage(stdout, argv[0]);
		return 0;
	}
	if (opts.version) {
		printf("vmm %s\n", VMM_VERSION);
		return 0;
	}
	if (opts.run && (run_check_command(&opts, err, sizeof(err)) ||
			 run_add_root_share(&opts, err, sizeof(err))))
		return usage_error(err);
	if (check_input_files(&opts, err, sizeof(err)) ||
	    check_host_memory(&opts, err, sizeof(err)))
		return usage_error(err);
	/* --jail: from here on, a child in its own PID namespace (vmm/jail.h) */
	code = jail_begin(&opts, err, sizeof(err));
	if (code)
		return code == VMM_EXIT_USAGE ? usage_error(err) : host_error(err);
	/* an output file too: the seccomp lists allow no open once the guest runs */
	if (opts.stats_json &&
	    open_output(&stats_json, "--stats-json", opts.stats_json, err, sizeof(err)))
		return usage_error(err);
	if (opts.run && run_open_status_file(&opts, err, sizeof(err)))
		return usage_error(err);

	/* user networking registers with the loop as it opens */
	loop = event_loop_new();
	if (!loop)
		return host_error("cannot create the event loop");
	host = (struct virtio_host){ &vm.mem, opts.cpus, loop };
	if (devices_plan(&vm, &opts))
		return usage_error("too many devices");
	/* before the kernel: an inherited tap-fd is named even when the kernel is bad too */
	if (devices_open(&vm, VIRTIO_OPEN_FIRST, &host, err, sizeof(err)))
		return usage_error(err);
	if (opts.run) {
		code = run_prepare(&img, &opts, guest_init_start,
				   (size_t)(guest_init_end - guest_init_start), err, sizeof(err));
		if (code)
			return code == VMM_EXIT_USAGE ? usage_error(err) : host_error(err);
	}
	code = load_guest(&vm, &opts, opts.run ? &img : NULL, &entry, uuid_text, &unpacked, err,
			  sizeof(err));
	if (opts.run)
		run_image_free(&img);
	if (code)
		return code == VMM_EXIT_USAGE ? usage_error(err) : host_error(err);
	vm_mark_phase(&vm, VM_PHASE_GUEST_LOADED);
	if (devices_open(&vm, VIRTIO_OPEN_HOST, &host, err, sizeof(err)))
		return usage_error(err);
	/* the TAPs, kernel and disks are open; the shares start threads; then /dev/kvm */
	if (jail_enter(&opts, err, sizeof(err)))
		return host_error(err);
	if (devices_open(&vm, VIRTIO_OPEN_JAILED, &host, err, sizeof(err)))
		return usage_error(err);
	vm_mark_phase(&vm, VM_PHASE_DISKS_OPENED);
	/* only once every input is accepted: a rejected start prints just its error */
	if (!opts.run || opts.verbose) {
		fprintf(stderr, "vmm: uuid %s\n", uuid_text);
		devices_log_opened(&vm);
		if (unpacked.format != UNPACK_UNKNOWN) { /* a bzImage: who unpacks it, and how */
			kernel_unpack_describe(&unpacked, err, sizeof(err));
			fprintf(stderr, "vmm: %s\n", err);
		}
	}

	vm.stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vm.vcpus = calloc(opts.cpus, sizeof(*vm.vcpus));
	if (vm.stop_fd < 0 || !vm.vcpus)
		return host_error("out of memory or file descriptors");
	code = open_kvm(&vm, &opts, err, sizeof(err));
	if (code)
		return code == VMM_EXIT_USAGE ? usage_error(err) : host_error(err);

	/*
	 * Everything that needs root is open: images, shares, TAPs, /dev/kvm. No thread
	 * exists yet, so what is dropped here is dropped for every thread to come
	 * (docs/security.md, "Start-up order").
	 */
	if (drop_privileges(&opts, err, sizeof(err)))
		return host_error(err);
	if (create_vm(&vm, err, sizeof(err)))
		return host_error(err);
	vm.ncpus = opts.cpus;
	vm_mark_phase(&vm, VM_PHASE_VM_CREATED);
	if (devices_connect(&vm, err, sizeof(err)))
		return usage_error(err);

	if (create_devices(&vm, &con, &opts))
		return host_error("cannot set up the platform devices");
	if (create_pci_devices(&vm, err, sizeof(err))) {
		console_restore();
		return host_error(err);
	}
	vm_mark_phase(&vm, VM_PHASE_DEVICES);
	if (main_loop_block_signals())
		return host_error("cannot block signals");
	code = main_loop_watch(&watch, loop, &vm, &con, opts.timeout)
		       ?: host_check(loop, &vm, con.mode == CONSOLE_SERIAL);
	if (code) {
		snprintf(err, sizeof(err), "cannot set up the event loop: %s", strerror(-code));
		console_restore();
		return host_error(err);
	}
	/* the first threads: each loads its own list before the guest runs */
	code = devices_start(&vm, err, sizeof(err));
	if (code) {
		console_restore();
		return code < 0 ? usage_error(err) : host_error(err);
	}
	/* every device is on its bus: vCPUs look ranges up without a lock from here on */
	bus_seal(&vm.pio);
	bus_seal(&vm.mmio);
	vcpu_host_fds(&vm, &con, &opts);
	run_stdin_init(&run_input, run_stdin_fd());
	if (opts.run && run_stdin_start(&run_input))
		fprintf(stderr, "vmm: run: cannot start the stdin reader; the command gets none\n");
	if (opts.run_tty)
		run_stdin_terminal();
	if (start_vcpus(&vm, &entry, err, sizeof(err))) {
		vm_request_stop(&vm, VMM_EXIT_ERROR);
		stop_vcpus(&vm);
		console_restore();
		return host_error(err);
	}
	main_seccomp_fds(&main_fds, &vm, &watch, &con, &opts, stats_json);
	if (vmm_seccomp_install(main_role(&vm), &main_fds, err, sizeof(err))) {
		fprintf(stderr, "vmm: %s\n", err);
		vm_request_stop(&vm, VMM_EXIT_ERROR);
	}

	code = main_loop_run(&watch);
	stop_vcpus(&vm);
	/* device threads stop before guest memory goes away; their counters stay */
	devices_stop(&vm);
	console_restore();
	if (opts.run)
		code = run_finish(&vm, &opts, &con, code);
	/* every vCPU and queue thread has stopped: the counters are final */
	if (opts.stats)
		stats_print(stderr, &vm);
	if (stats_json) {
		int ret = stats_write_json_file(stats_json, &vm);

		if (ret)
			fprintf(stderr, "vmm: --stats-json %s: %s\n", opts.stats_json,
				strerror(-ret));
	}
	/* after the back ends: user networking unregisters from the loop as it closes */
	devices_destroy(&vm);
	event_loop_free(loop);
	kvm_close(&vm.kvm);
	guest_mem_free(&vm.mem);
	return code;
}
