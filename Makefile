# Build, test and run the VMM. `make run` and `make test` install what is missing first.

# ARCH=arm64 cross-builds the arm64 VMM into build/arm64 (docs/architecture.md, "arm64");
# without it, the x86 VMM for this host.
ARCH ?= x86
ifeq ($(ARCH),arm64)
CROSS_COMPILE ?= aarch64-linux-gnu-
CC := $(CROSS_COMPILE)gcc
BUILD ?= build/arm64
# libfdt's static library for arm64: Debian's libfdt-dev:arm64 conflicts with the host's
# libfdt-dev, so tests/harness-arm64/fetch.sh unpacks it into a directory of its own.
ARM64_SYSROOT ?= $(wildcard $(or $(VMM_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/minivmm)/arm64/root)
ARCH_LIBS := $(if $(ARM64_SYSROOT),-L$(ARM64_SYSROOT)/usr/lib/aarch64-linux-gnu) -lfdt
else ifeq ($(ARCH),x86)
CC ?= gcc
BUILD ?= build
else
$(error ARCH=$(ARCH): this VMM builds for x86 (the default) or arm64)
endif
CFLAGS ?= -O2 -g
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -I. -D_GNU_SOURCE -pthread
# The kernel payload's decompressors (vmm/unpack.c); Debian's -dev packages carry .a files.
UNPACK_LIBS := -lz -llzma -lzstd -llz4 -lbz2
LDLIBS := -pthread -luring -lseccomp $(UNPACK_LIBS) $(ARCH_LIBS)
# libslirp (user networking) exists only as a shared library on Debian: the dynamic build
# loads it with dlopen() when --net user asks for it (its headers come from libslirp-dev),
# the static one compiles virtio/net/net_slirp.c without it (see docs/architecture.md).
SLIRP_LIBS :=
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt)

# Every .c under these directories (and their folders: x86/, run/, gdb/, a virtio kind's own) is part
# of the VMM; vmm/main.c holds main().
LIB_SRCS := $(sort $(foreach d,devices firmware virtio vmm,$(wildcard $(d)/*.c $(d)/*/*.c)))
# One architecture's folders: x86/ or arm64/ (see vmm/arch.h).
OTHER_ARCH := $(if $(filter arm64,$(ARCH)),x86,arm64)
LIB_SRCS := $(filter-out $(foreach d,devices firmware vmm,$(d)/$(OTHER_ARCH)/%),$(LIB_SRCS))
# The gdb stub reads x86 registers and debug exits; arm64 has vmm/arm64/gdb_stub.c instead.
LIB_SRCS := $(filter-out $(if $(filter arm64,$(ARCH)),vmm/gdb/kvm.c vmm/gdb/stub.c),$(LIB_SRCS))
# Snapshots save x86 vCPU and chipset state; arm64 has vmm/arm64/snapshot.c, which refuses.
LIB_SRCS := $(filter-out $(if $(filter arm64,$(ARCH)),vmm/snapshot.c),$(LIB_SRCS))
LIB_SRCS := $(filter-out vmm/main.c virtio/net/net_slirp.c virtio/net/net_slirp_loop.c,$(LIB_SRCS))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
# The libslirp side: the back end and its event loop half; the static build has only the stub.
SLIRP_OBJ := $(BUILD)/obj/virtio/net/net_slirp.o $(BUILD)/obj/virtio/net/net_slirp_loop.o
NO_SLIRP_OBJ := $(BUILD)/obj/virtio/net/net_slirp-none.o
UNIT_SRCS := $(sort $(wildcard tests/unit/*/test_*.c tests/unit/*/x86/test_*.c))
# The arm64 device tree and Image header are pure data: their tests run on x86 hosts too.
ARM64_UNIT_SRCS := tests/unit/firmware/arm64/test_fdt.c tests/unit/vmm/arm64/test_image.c
UNIT_SRCS += $(if $(filter x86,$(ARCH)),$(ARM64_UNIT_SRCS))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/unit/%)
# The `vmm run` guest init: a static program linked into the VMM itself (guest/init-blob.S).
INIT_BLOB := $(BUILD)/obj/guest/init-blob.o
GUEST_SRCS := $(sort $(wildcard tests/guests/*.S))
GUEST_BINS := $(GUEST_SRCS:tests/guests/%.S=$(BUILD)/guests/%.bin)

.PHONY: all vmm static static-test musl sanitize unit guests guest-tools test run deps clean format \
	format-check bench bench-tools fuzz
all: $(BUILD)/vmm

vmm: $(BUILD)/vmm

$(BUILD)/vmm: $(BUILD)/obj/vmm/main.o $(SLIRP_OBJ) $(INIT_BLOB) $(BUILD)/libvmm.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(SLIRP_LIBS)

# Built against musl when Debian's musl-tools is there (make deps installs it): the init
# needs a few system calls, and a static glibc makes it 700 KB of the VMM's binary, musl
# under 50 KB. Without musl-gcc, the C compiler's own libc still works.
# Debian's musl-gcc builds for the host only: the arm64 init links the cross compiler's glibc.
ifeq ($(ARCH),arm64)
GUEST_CC ?= $(CC)
else
GUEST_CC ?= $(shell command -v musl-gcc 2>/dev/null || echo $(CC))
endif
$(BUILD)/guest/init: guest/init.c guest/cmdport_io.h devices/cmdport.h devices/platform.h \
		devices/arm64/platform.h
	@mkdir -p $(@D)
	$(GUEST_CC) $(CFLAGS) -static -s -o $@ $<
$(INIT_BLOB): guest/init-blob.S $(BUILD)/guest/init
	@mkdir -p $(@D)
	$(CC) -c -DGUEST_INIT_PATH='"$(BUILD)/guest/init"' -o $@ $<

$(BUILD)/libvmm.a: $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(NO_SLIRP_OBJ): virtio/net/net_slirp.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DVMM_NO_USER_NET -MMD -MP -c -o $@ $<

# A fully static binary: what the nested test harness copies into its outer host.
static: $(BUILD)/vmm-static
$(BUILD)/vmm-static: $(BUILD)/obj/vmm/main.o $(NO_SLIRP_OBJ) $(INIT_BLOB) $(BUILD)/libvmm.a
	$(CC) $(CFLAGS) $(LDFLAGS) -static -o $@ $^ $(LDLIBS)

# The static binary against musl instead of glibc, in a tree of its own: a static glibc is
# most of vmm-static's size and of its resident text. Optional, not part of `make test`.
# tests/deps-musl.sh builds the libraries with musl-gcc into the cache (once) and prints
# the prefix; musl-gcc leaves /usr/include out, so the kernel's UAPI headers come from a
# directory of links there. Those libraries have a section per function, which
# --gc-sections drops when nothing calls it (the compressors beside each decompressor).
MUSL_CC ?= musl-gcc
musl:
	@prefix=$$(tests/deps-musl.sh | sed -n 's/^MUSL_PREFIX=//p') && [ -n "$$prefix" ] && \
	$(MAKE) BUILD=$(BUILD)/musl CC=$(MUSL_CC) GUEST_CC=$(MUSL_CC) \
		CFLAGS="-O2 -g -isystem $$prefix/kernel-include -I$$prefix/include" \
		LDFLAGS="-L$$prefix/lib -Wl,--gc-sections" static
	cp $(BUILD)/musl/vmm-static $(BUILD)/vmm-musl

# The same with test-only hooks (-DVMM_TEST_HOOKS: a guest write to port 0x441 makes a vCPU
# thread call socket() or write into a disk image), in a tree of its own, for the harness's seccomp scenario. Never
# build/vmm or build/vmm-static: the hook must not reach a real user.
static-test:
	$(MAKE) BUILD=$(BUILD)/test-hooks CFLAGS="-O2 -g -DVMM_TEST_HOOKS" static
	cp $(BUILD)/test-hooks/vmm-static $(BUILD)/vmm-static-test

# Unit tests: one Check binary per tests/unit/<module>/test_<name>.c.
unit: $(UNIT_BINS)
UNIT_HEADERS := $(wildcard tests/unit/*.h tests/unit/*/*.h)
$(BUILD)/unit/%: tests/unit/%.c tests/unit/check_main.c $(UNIT_HEADERS) $(SLIRP_OBJ) \
		$(BUILD)/libvmm.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) -Itests/unit -o $@ $< tests/unit/check_main.c \
		$(SLIRP_OBJ) $(BUILD)/libvmm.a $(LDLIBS) $(SLIRP_LIBS) $(CHECK_LIBS)

$(BUILD)/unit/firmware/arm64/test_fdt: tests/unit/firmware/arm64/test_fdt.c tests/unit/check_main.c \
		firmware/arm64/fdt.c firmware/arm64/fdt.h devices/arm64/platform.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) -Itests/unit -o $@ $< tests/unit/check_main.c \
		firmware/arm64/fdt.c -lfdt $(CHECK_LIBS)

$(BUILD)/unit/vmm/arm64/test_image: tests/unit/vmm/arm64/test_image.c tests/unit/check_main.c \
		vmm/arm64/image.c vmm/arm64/image.h vmm/hostfile.c vmm/memory.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) -Itests/unit -o $@ $< tests/unit/check_main.c \
		vmm/arm64/image.c vmm/hostfile.c vmm/memory.c $(CHECK_LIBS)

# Tiny guests: flat binaries assembled from tests/guests/*.S, run directly on /dev/kvm, and
# ptyrun, which runs the VMM on a pseudo-terminal for them (static: the harness copies both).
# Beside them, static programs for harness guests (a "# harness-tools:" line, mkinitrd-guest.sh).
GUEST_TOOLS := $(BUILD)/guest-tools/hostile-pci
guests: $(GUEST_BINS) $(BUILD)/guests/ptyrun guest-tools
guest-tools: $(GUEST_TOOLS)
$(BUILD)/guest-tools/%: tests/harness/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -static -s -o $@ $<
$(BUILD)/guests/ptyrun: tests/tty/ptyrun.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -static -s -o $@ $<
$(BUILD)/guests/%.bin: tests/guests/%.S tests/guests/guest.ld tests/guests/guest.inc \
		tests/guests/virtio.inc
	@mkdir -p $(@D)
	$(CC) -nostdlib -static -Wl,-T,tests/guests/guest.ld -Wl,--oformat=binary \
		-Wl,--build-id=none -o $@ $<

# ASan + UBSan build of the unit tests, in a tree of its own.
sanitize:
	$(MAKE) BUILD=build/sanitize CFLAGS="-O1 -g -fsanitize=address,undefined \
		-fno-omit-frame-pointer -fno-sanitize-recover=all" unit
	tests/run-unit.sh build/sanitize

# libFuzzer targets (clang only); see tests/fuzz/README.md. FUZZ_SECONDS bounds each run,
# FUZZ_JOBS runs at once.
FUZZ_CC ?= clang
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -I. -D_GNU_SOURCE
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 2
# The seccomp filters: the installer and its tables.
SECCOMP_SRCS := vmm/seccomp.c vmm/seccomp_rules.c
SECCOMP_HDRS := vmm/seccomp.h vmm/seccomp_internal.h
# What a target that links a device, or the disk layer, links with it.
FUZZ_DISK := virtio/blk/disk.c virtio/blk/disk_options.c virtio/blk/disk_io.c \
	virtio/blk/disk_step.c virtio/iov.c
FUZZ_DISK_H := virtio/blk/disk.h virtio/blk/disk_internal.h
FUZZ_FS := virtio/fs/fs.c virtio/fs/fs_server.c virtio/fs/fs_nodes.c \
	virtio/fs/fs_ops_names.c virtio/fs/fs_ops_files.c virtio/iov.c
FUZZ_BLK := virtio/blk/blk.c virtio/blk/blk_req.c vmm/snapshot_format.c vmm/sha256.c
FUZZ_NET := virtio/net/net.c virtio/net/net_kind.c virtio/net/net_queues.c virtio/net/net_ctrl.c \
	virtio/net/net_vhost.c virtio/net/net_snapshot.c virtio/iov.c vmm/snapshot_format.c \
	vmm/sha256.c
fuzz: $(BUILD)/fuzz/fuzz_virtqueue $(BUILD)/fuzz/fuzz_uart $(BUILD)/fuzz/fuzz_pci_config \
		$(BUILD)/fuzz/fuzz_kernel $(BUILD)/fuzz/fuzz_options $(BUILD)/fuzz/fuzz_blk \
		$(BUILD)/fuzz/fuzz_fs $(BUILD)/fuzz/fuzz_json $(BUILD)/fuzz/fuzz_net \
		$(BUILD)/fuzz/fuzz_virtio_pci $(BUILD)/fuzz/fuzz_unpack $(BUILD)/fuzz/fuzz_rng \
		$(BUILD)/fuzz/fuzz_gdb $(BUILD)/fuzz/fuzz_api $(BUILD)/fuzz/fuzz_snapshot
	FUZZ_JOBS=$(FUZZ_JOBS) tests/fuzz/run.sh $(BUILD)/fuzz $(FUZZ_SECONDS)
$(BUILD)/fuzz/fuzz_virtqueue: tests/fuzz/fuzz_virtqueue.c virtio/virtqueue.c virtio/virtqueue.h \
		vmm/memory.c vmm/memory.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) tests/fuzz/fuzz_virtqueue.c virtio/virtqueue.c vmm/memory.c -o $@
$(BUILD)/fuzz/fuzz_uart: tests/fuzz/fuzz_uart.c devices/uart.c devices/uart.h devices/bus.c \
		devices/bus.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) tests/fuzz/fuzz_uart.c devices/uart.c devices/bus.c -o $@ -pthread
$(BUILD)/fuzz/fuzz_pci_config: tests/fuzz/fuzz_pci_config.c devices/pci.c devices/pci_bus.c \
		devices/pci.h devices/pci_internal.h \
		devices/bus.c devices/bus.h devices/msix.c devices/msix.h devices/platform.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) tests/fuzz/fuzz_pci_config.c devices/pci.c devices/pci_bus.c \
		devices/bus.c \
		devices/msix.c -o $@ -pthread
$(BUILD)/fuzz/fuzz_kernel: tests/fuzz/fuzz_kernel.c vmm/x86/bzimage.c vmm/x86/bzimage.h \
		vmm/x86/elf.c vmm/x86/elf.h tests/unit/vmm/x86/elf_image.h vmm/run/kernel_tree.c \
		vmm/run/kernel_tree.h vmm/run/modules.c vmm/run/modules.h vmm/hostfile.c vmm/hostfile.h \
		vmm/kernel_release.c vmm/kernel_release.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) tests/fuzz/fuzz_kernel.c vmm/x86/bzimage.c vmm/x86/elf.c \
		vmm/kernel_release.c vmm/run/kernel_tree.c vmm/run/modules.c vmm/hostfile.c -o $@
$(BUILD)/fuzz/fuzz_snapshot: tests/fuzz/fuzz_snapshot.c vmm/snapshot_format.c \
		vmm/snapshot_format.h vmm/sha256.c vmm/sha256.h virtio/net/net_snapshot.c \
		virtio/net/net_snapshot.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) tests/fuzz/fuzz_snapshot.c vmm/snapshot_format.c vmm/sha256.c \
		virtio/net/net_snapshot.c -o $@
$(BUILD)/fuzz/fuzz_api: tests/fuzz/fuzz_api.c vmm/api_http.c vmm/api_http.h vmm/json.c \
		vmm/json.h vmm/parse.c vmm/parse.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) tests/fuzz/fuzz_api.c vmm/api_http.c vmm/json.c vmm/parse.c -o $@
$(BUILD)/fuzz/fuzz_gdb: tests/fuzz/fuzz_gdb.c vmm/gdb/rsp.c vmm/gdb/rsp.h vmm/gdb/session.c \
		vmm/gdb/session.h vmm/parse.c vmm/parse.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) tests/fuzz/fuzz_gdb.c vmm/gdb/rsp.c vmm/gdb/session.c vmm/parse.c -o $@
$(BUILD)/fuzz/fuzz_unpack: tests/fuzz/fuzz_unpack.c vmm/unpack.c vmm/unpack.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) tests/fuzz/fuzz_unpack.c vmm/unpack.c -o $@ $(UNPACK_LIBS)
# SMBIOS tables and the --uuid/--name text they carry
SMBIOS_SRCS := firmware/smbios.c firmware/smbios_uuid.c
# the command line: the option table, its parsers and the value parsers they share
OPTIONS_SRCS := vmm/options.c vmm/options_table.c vmm/options_net.c vmm/options_share.c \
		vmm/parse.c
OPTIONS_HDRS := vmm/options.h vmm/options_net.h vmm/parse.h
$(BUILD)/fuzz/fuzz_options: tests/fuzz/fuzz_options.c $(OPTIONS_SRCS) $(OPTIONS_HDRS) \
		$(FUZZ_DISK) $(FUZZ_DISK_H) $(SMBIOS_SRCS) firmware/smbios.h $(SECCOMP_SRCS) \
		$(SECCOMP_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) tests/fuzz/fuzz_options.c $(OPTIONS_SRCS) $(FUZZ_DISK) \
		$(SMBIOS_SRCS) $(SECCOMP_SRCS) -o $@ -pthread -luring -lseccomp

$(BUILD)/fuzz/fuzz_blk: tests/fuzz/fuzz_blk.c tests/fuzz/device.h $(FUZZ_BLK) virtio/blk/blk.h \
		virtio/blk/blk_internal.h virtio/registry.c virtio/virtqueue.c \
		virtio/virtqueue.h $(FUZZ_DISK) $(FUZZ_DISK_H) virtio/device.c virtio/device.h \
		vmm/memory.c vmm/memory.h $(SECCOMP_SRCS) $(SECCOMP_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) tests/fuzz/fuzz_blk.c $(FUZZ_BLK) virtio/virtqueue.c \
		virtio/device.c virtio/registry.c $(FUZZ_DISK) vmm/memory.c $(SECCOMP_SRCS) -o $@ \
		-pthread -luring \
		-lseccomp

$(BUILD)/fuzz/fuzz_json: tests/fuzz/fuzz_json.c vmm/json.c vmm/json.h vmm/run/config.c vmm/run/config.h \
		$(OPTIONS_SRCS) $(OPTIONS_HDRS) $(FUZZ_DISK) $(FUZZ_DISK_H) $(SMBIOS_SRCS) \
		firmware/smbios.h $(SECCOMP_SRCS) $(SECCOMP_HDRS) vmm/hostfile.c vmm/hostfile.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) tests/fuzz/fuzz_json.c vmm/json.c vmm/run/config.c $(OPTIONS_SRCS) \
		$(FUZZ_DISK) $(SMBIOS_SRCS) $(SECCOMP_SRCS) vmm/hostfile.c -o $@ -pthread -luring \
		-lseccomp
$(BUILD)/fuzz/fuzz_fs: tests/fuzz/fuzz_fs.c $(FUZZ_FS) virtio/fs/fs.h virtio/fs/fs_server.h \
		virtio/fs/fs_server_internal.h virtio/registry.c virtio/virtqueue.c \
		virtio/virtqueue.h virtio/device.c virtio/device.h vmm/memory.c vmm/memory.h \
		$(SECCOMP_SRCS) $(SECCOMP_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) tests/fuzz/fuzz_fs.c $(FUZZ_FS) virtio/virtqueue.c \
		virtio/device.c virtio/registry.c vmm/memory.c $(SECCOMP_SRCS) -o $@ -pthread \
		-lseccomp

$(BUILD)/fuzz/fuzz_net: tests/fuzz/fuzz_net.c tests/fuzz/device.h $(FUZZ_NET) virtio/net/net.h \
		virtio/net/net_backend.h virtio/net/net_internal.h virtio/net/net_tap.c \
		virtio/net/net_slirp.c virtio/registry.c \
		virtio/virtqueue.c virtio/virtqueue.h virtio/device.c \
		virtio/device.h vmm/memory.c vmm/memory.h $(SECCOMP_SRCS) $(SECCOMP_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -DVMM_NO_USER_NET tests/fuzz/fuzz_net.c $(FUZZ_NET) \
		virtio/net/net_tap.c virtio/net/net_slirp.c virtio/virtqueue.c virtio/device.c \
		virtio/registry.c vmm/memory.c $(SECCOMP_SRCS) -o $@ -pthread -lseccomp

$(BUILD)/fuzz/fuzz_rng: tests/fuzz/fuzz_rng.c tests/fuzz/device.h virtio/rng/rng.c \
		virtio/rng/rng.h \
		virtio/registry.c virtio/virtqueue.c virtio/virtqueue.h virtio/device.c \
		virtio/device.h vmm/memory.c vmm/memory.h $(SECCOMP_SRCS) $(SECCOMP_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) tests/fuzz/fuzz_rng.c virtio/rng/rng.c virtio/registry.c \
		virtio/virtqueue.c virtio/device.c vmm/memory.c $(SECCOMP_SRCS) -o $@ -pthread -lseccomp

$(BUILD)/fuzz/fuzz_virtio_pci: tests/fuzz/fuzz_virtio_pci.c virtio/pci.c virtio/pci_common.c \
		virtio/pci.h virtio/pci_internal.h \
		$(FUZZ_BLK) virtio/blk/blk.h virtio/blk/blk_internal.h virtio/virtqueue.c \
		virtio/virtqueue.h \
		$(FUZZ_DISK) $(FUZZ_DISK_H) \
		virtio/device.c virtio/device.h devices/pci.c devices/pci_bus.c devices/pci.h \
		devices/pci_internal.h devices/bus.c \
		devices/bus.h devices/msix.c devices/msix.h devices/platform.h vmm/irq.c vmm/irq.h \
		vmm/x86/chipset.c vmm/x86/chipset.h vmm/memory.c vmm/memory.h $(SECCOMP_SRCS) \
		$(SECCOMP_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) tests/fuzz/fuzz_virtio_pci.c virtio/pci.c virtio/pci_common.c \
		$(FUZZ_BLK) virtio/registry.c \
		virtio/virtqueue.c $(FUZZ_DISK) virtio/device.c devices/pci.c devices/pci_bus.c \
		devices/bus.c \
		devices/msix.c vmm/irq.c vmm/x86/chipset.c vmm/memory.c $(SECCOMP_SRCS) -o $@ \
		-pthread -luring -lseccomp \
		-Wl,--wrap=pthread_sigmask -Wno-gnu-variable-sized-type-not-at-end

deps:
	tests/deps.sh

test: deps
	$(MAKE) all static static-test unit guests
	tests/run-all.sh

run: deps
	$(MAKE) all static guest-tools
	tests/harness/run-default.sh

bench: deps
	$(MAKE) all static guests bench-tools
	@# bench/arm64.sh says SKIP without it (no cross compiler or arm64 libfdt)
	-$(MAKE) ARCH=arm64 static
	bench/run.sh

# What bench/vm.sh puts into L1 besides the VMM: the timing tool and the benchmark guests,
# ours flat 64-bit binaries, the peers' (peer-*.bin) 64 KiB real-mode images; and fstree,
# the tree builder and timer of bench/fs.sh.
BENCH_GUESTS := startup exit_pio exit_mmio exit_notify
BENCH_PEER_GUESTS := startup exit_pio exit_mmio
bench-tools: $(BUILD)/bench/vmclock $(BUILD)/bench/fstree $(BENCH_GUESTS:%=$(BUILD)/bench/guests/%.bin) \
	$(BENCH_PEER_GUESTS:%=$(BUILD)/bench/guests/peer-%.bin)
$(BUILD)/bench/vmclock: bench/tools/vmclock.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -static -o $@ $<
$(BUILD)/bench/fstree: bench/tools/fstree.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -static -o $@ $<
$(BUILD)/bench/guests/peer-%.bin: bench/guests/peer16.S bench/guests/bench.inc
	@mkdir -p $(@D)
	$(CC) -D$(shell echo $* | tr a-z A-Z) -nostdlib -static -Wl,-Ttext=0 -Wl,--oformat=binary \
		-Wl,--build-id=none -o $@ $<
$(BUILD)/bench/guests/%.bin: bench/guests/%.S bench/guests/bench.inc tests/guests/guest.ld \
		tests/guests/guest.inc
	@mkdir -p $(@D)
	$(CC) -nostdlib -static -Wl,-T,tests/guests/guest.ld -Wl,--oformat=binary \
		-Wl,--build-id=none -o $@ $<

format:
	clang-format -i $$(git ls-files '*.c' '*.h')
format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
