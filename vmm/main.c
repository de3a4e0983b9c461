// SPDX-License-Identifier: MIT
/*
 * The VMM from start to finish, in the order it happens: read the command line, build
 * guest memory with the kernel and firmware tables in it, create the VM and its devices,
 * start one thread per vCPU, then wait for the guest to power off (or for a signal).
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>

#include "firmware/smbios.h"
#include "vmm/run/config.h"
#include "vmm/api.h"
#include "vmm/arch.h"
#include "vmm/gdb/stub.h"
#include "vmm/console.h"
#include "vmm/ctl.h"
#include "vmm/devices.h"
#include "vmm/event_loop.h"
#include "vmm/exit_codes.h"
#include "vmm/host.h"
#include "vmm/hostfile.h"
#include "vmm/jail.h"
#include "vmm/main_loop.h"
#include "vmm/notify.h"
#include "vmm/options.h"
#include "vmm/pause.h"
#include "vmm/seccomp.h"
#include "vmm/snapshot.h"
#include "vmm/run/boot_cache.h"
#include "vmm/run/run.h"
#include "vmm/run/stdin.h"
#include "vmm/startup.h"
#include "vmm/stats.h"
#include "vmm/vcpu.h"
#include "vmm/version.h"
#include "vmm/vm.h"

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

int main(int argc, char **argv)
{
	static struct vm vm;
	struct event_loop *loop;
	struct main_loop watch;
	struct api_server *api = NULL;
	struct gdb_stub *gdb = NULL;
	FILE *stats_json = NULL;
	struct vmm_seccomp_fds main_fds = { 0 };
	static struct vmm_options opts; /* in .bss: its unused path slots stay untouched */
	static struct snapshot_source restore = { .memory_fd = -1 }; /* --restore */
	struct boot_entry entry;
	struct kernel_unpack_result unpacked = { .fd = -1 };
	struct console con;
	struct run_image img;
	struct virtio_host host;
	struct options_prescan pre;
	struct config_args cfg = { 0 };
	char uuid_text[SMBIOS_UUID_TEXT_LEN + 1];
	const char *restore_url; /* --restore, or a --boot-cache hit */
	char err[512];
	int code;

	clock_gettime(CLOCK_MONOTONIC, &vm.start);
	/*
	 * One heap for all threads: no hot path allocates, so per-thread arenas buy no speed,
	 * and each one a thread opens keeps its own touched pages (a vCPU's was 76 KiB).
	 * glibc's knob; musl's allocator has one heap already.
	 */
#ifdef __GLIBC__
	mallopt(M_ARENA_MAX, 1);
#endif
	if (argc > 1 && !strcmp(argv[1], "ctl")) /* the API's client, vmm/ctl.h */
		return ctl_main(argc - 1, argv + 1, argv[0]);
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
			 run_find_kernel_tree(&opts, err, sizeof(err)) ||
			 run_add_root_share(&opts, err, sizeof(err)) ||
			 boot_cache_open(&run_boot_cache, &opts, err, sizeof(err))))
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
	if (opts.api_socket && api_open(&api, opts.api_socket, err, sizeof(err)))
		return usage_error(err);
	if (opts.gdb && gdb_stub_open(&gdb, opts.gdb, err, sizeof(err)))
		return usage_error(err);
	vm_pause_init(&vm.pause);

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
	vm.vmgenid = !opts.vmgenid_off;
	if (opts.run)
		boot_cache_lookup(&run_boot_cache, &vm, &opts, &img);
	restore_url = opts.restore ?: run_boot_cache.hit ? run_boot_cache.url : NULL;
	code = 0;
	if (restore_url) /* RAM, kernel and firmware tables all come from the snapshot */
		code = snapshot_open(&restore, restore_url, err, sizeof(err)) ||
				       snapshot_check(&restore, &vm, opts.memory, opts.cpus, err,
						      sizeof(err)) ||
				       snapshot_map_memory(&restore, &vm.mem, err, sizeof(err))
			       ? VMM_EXIT_USAGE
			       : 0;
	if (code && run_boot_cache.hit) { /* a cache entry gone bad costs a cold boot */
		snapshot_close(&restore);
		boot_cache_unusable(&run_boot_cache, err);
		restore_url = NULL;
		code = 0;
	}
	if (!restore_url)
		code = load_guest(&vm, &opts, opts.run ? &img : NULL, &entry, uuid_text, &unpacked,
				  err, sizeof(err));
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
	code = create_vm(&vm, err, sizeof(err));
	if (code)
		return code == VMM_EXIT_USAGE ? usage_error(err) : host_error(err);
	/*
	 * Only once every input is accepted, KVM's limits included (--cpus against the
	 * interrupt controller the VM got): a rejected start prints just its error.
	 */
	if (opts.restore) {
		fprintf(stderr, "vmm: restoring the snapshot in %s\n", restore.dir);
		devices_log_opened(&vm);
	} else if (restore_url) { /* a boot cache hit; the lookup said so with --verbose */
		if (opts.verbose)
			devices_log_opened(&vm);
	} else if (!opts.run || opts.verbose) {
		fprintf(stderr, "vmm: uuid %s\n", uuid_text);
		devices_log_opened(&vm);
		if (arch_kernel_note(&unpacked, err, sizeof(err)))
			fprintf(stderr, "vmm: %s\n", err);
	}
	/* what KVM can save, asked now while the sandbox allows it (vm.snapshot, --restore) */
	if ((opts.api_socket || restore_url || boot_cache_enabled(&run_boot_cache)) &&
	    (code = snapshot_prepare(&vm)))
		fprintf(stderr, "vmm: snapshots will fail: cannot ask KVM what to save: %s\n",
			strerror(-code));
	vm.ncpus = opts.cpus;
	vm_mark_phase(&vm, VM_PHASE_VM_CREATED);
	if (create_vcpus(&vm, err, sizeof(err)))
		return host_error(err);
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
		       ?: host_check(loop, &vm, con.mode == CONSOLE_SERIAL)
		       ?: api_watch(api, loop, &vm, &opts)
		       ?: gdb_stub_watch(gdb, loop, &vm, opts.gdb_wait);
	if (!code && opts.run) /* a miss: the boot point saves the entry (a failure warns) */
		boot_cache_watch(&run_boot_cache, loop, &vm);
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
	if (restore_url && snapshot_restore_devices(&restore, &vm, err, sizeof(err))) {
		console_restore();
		return usage_error(err);
	}
	/* every device is on its bus: vCPUs look ranges up without a lock from here on */
	bus_seal(&vm.pio);
	bus_seal(&vm.mmio);
	vcpu_host_fds(&vm, &con, &opts);
	run_stdin_init(&run_stdin_main, run_stdin_fd());
	if (opts.run && run_stdin_start(&run_stdin_main))
		fprintf(stderr, "vmm: run: cannot start the stdin reader; the command gets none\n");
	if (opts.run_tty)
		run_stdin_terminal();
	code = start_vcpus(&vm, &entry, restore_url ? &restore : NULL, err, sizeof(err));
	snapshot_close(&restore);
	if (code) {
		vm_request_stop(&vm, VMM_EXIT_ERROR);
		stop_vcpus(&vm);
		console_restore();
		return host_error(err);
	}
	/* a systemd unit of Type=notify is "started" from here on */
	if (notify_send("READY=1", err, sizeof(err)))
		fprintf(stderr, "vmm: %s (the service manager was not told we are ready)\n", err);
	main_seccomp_fds(&main_fds, &vm, &watch, &con, &opts, stats_json);
	api_seccomp_fds(api, &main_fds);
	if (api)
		snapshot_seccomp_fds(&vm, &main_fds);
	gdb_stub_seccomp_fds(gdb, &main_fds);
	if (vmm_seccomp_install(main_role(&vm), &main_fds, err, sizeof(err))) {
		fprintf(stderr, "vmm: %s\n", err);
		vm_request_stop(&vm, VMM_EXIT_ERROR);
	}

	code = main_loop_run(&watch);
	boot_cache_close(&run_boot_cache);
	api_close(api);
	gdb_stub_close(gdb);
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
