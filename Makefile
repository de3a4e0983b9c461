# Build, test and run the VMM. `make run` and `make test` install what is missing first.

CC ?= gcc
BUILD ?= build
CFLAGS ?= -O2 -g
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -I. -D_GNU_SOURCE -pthread
LDLIBS := -pthread -luring
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt)

# Every .c under these directories is part of the VMM; vmm/main.c holds main().
LIB_SRCS := $(sort $(wildcard devices/*.c firmware/*.c virtio/*.c vmm/*.c))
LIB_SRCS := $(filter-out vmm/main.c,$(LIB_SRCS))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_SRCS := $(sort $(wildcard tests/unit/*/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/unit/%)
# The `vmm run` guest init: a static program linked into the VMM itself (guest/init-blob.S).
INIT_BLOB := $(BUILD)/obj/guest/init-blob.o
GUEST_SRCS := $(sort $(wildcard tests/guests/*.S))
GUEST_BINS := $(GUEST_SRCS:tests/guests/%.S=$(BUILD)/guests/%.bin)

.PHONY: all vmm static sanitize unit guests test run deps clean format format-check bench fuzz
all: $(BUILD)/vmm

vmm: $(BUILD)/vmm

$(BUILD)/vmm: $(BUILD)/obj/vmm/main.o $(INIT_BLOB) $(BUILD)/libvmm.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/guest/init: guest/init.c devices/run.h devices/platform.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -static -s -o $@ $<
$(INIT_BLOB): guest/init-blob.S $(BUILD)/guest/init
	@mkdir -p $(@D)
	$(CC) -c -DGUEST_INIT_PATH='"$(BUILD)/guest/init"' -o $@ $<

$(BUILD)/libvmm.a: $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# A fully static binary: what the nested test harness copies into its outer host.
static: $(BUILD)/vmm-static
$(BUILD)/vmm-static: $(BUILD)/obj/vmm/main.o $(INIT_BLOB) $(BUILD)/libvmm.a
	$(CC) $(CFLAGS) -static -o $@ $^ $(LDLIBS)

# Unit tests: one Check binary per tests/unit/<module>/test_<name>.c.
unit: $(UNIT_BINS)
$(BUILD)/unit/%: tests/unit/%.c tests/unit/check_main.c tests/unit/check_main.h tests/unit/bytes.h \
		$(BUILD)/libvmm.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) -Itests/unit -o $@ $< tests/unit/check_main.c \
		$(BUILD)/libvmm.a $(LDLIBS) $(CHECK_LIBS)

# Tiny guests: flat binaries assembled from tests/guests/*.S, run directly on /dev/kvm.
guests: $(GUEST_BINS)
$(BUILD)/guests/%.bin: tests/guests/%.S tests/guests/guest.ld tests/guests/guest.inc
	@mkdir -p $(@D)
	$(CC) -nostdlib -static -Wl,-T,tests/guests/guest.ld -Wl,--oformat=binary \
		-Wl,--build-id=none -o $@ $<

# ASan + UBSan build of the unit tests, in a tree of its own.
sanitize:
	$(MAKE) BUILD=build/sanitize CFLAGS="-O1 -g -fsanitize=address,undefined \
		-fno-omit-frame-pointer -fno-sanitize-recover=all" unit
	tests/run-unit.sh build/sanitize

# libFuzzer targets (clang only); see tests/fuzz/README.md. FUZZ_SECONDS bounds each run.
FUZZ_CC ?= clang
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -I. -D_GNU_SOURCE
FUZZ_SECONDS ?= 60
fuzz: $(BUILD)/fuzz/fuzz_virtqueue $(BUILD)/fuzz/fuzz_uart $(BUILD)/fuzz/fuzz_pci_config \
		$(BUILD)/fuzz/fuzz_bzimage $(BUILD)/fuzz/fuzz_options $(BUILD)/fuzz/fuzz_fs \
		$(BUILD)/fuzz/fuzz_json
	tests/fuzz/run.sh $(BUILD)/fuzz $(FUZZ_SECONDS)
$(BUILD)/fuzz/fuzz_virtqueue: tests/fuzz/fuzz_virtqueue.c virtio/virtqueue.c virtio/virtqueue.h \
		vmm/memory.c vmm/memory.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) tests/fuzz/fuzz_virtqueue.c virtio/virtqueue.c vmm/memory.c -o $@
$(BUILD)/fuzz/fuzz_uart: tests/fuzz/fuzz_uart.c devices/uart.c devices/uart.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) tests/fuzz/fuzz_uart.c devices/uart.c -o $@ -pthread
$(BUILD)/fuzz/fuzz_pci_config: tests/fuzz/fuzz_pci_config.c devices/pci.c devices/pci.h \
		devices/bus.c devices/bus.h devices/msix.c devices/msix.h devices/platform.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) tests/fuzz/fuzz_pci_config.c devices/pci.c devices/bus.c \
		devices/msix.c -o $@ -pthread
$(BUILD)/fuzz/fuzz_bzimage: tests/fuzz/fuzz_bzimage.c vmm/bzimage.c vmm/bzimage.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) tests/fuzz/fuzz_bzimage.c vmm/bzimage.c -o $@
$(BUILD)/fuzz/fuzz_options: tests/fuzz/fuzz_options.c vmm/options.c vmm/options.h \
		virtio/disk.c virtio/disk.h firmware/smbios.c firmware/smbios.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) tests/fuzz/fuzz_options.c vmm/options.c virtio/disk.c \
		firmware/smbios.c -o $@ -pthread -luring

$(BUILD)/fuzz/fuzz_json: tests/fuzz/fuzz_json.c vmm/json.c vmm/json.h vmm/config.c vmm/config.h \
		vmm/options.c vmm/options.h virtio/disk.c virtio/disk.h firmware/smbios.c \
		firmware/smbios.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) tests/fuzz/fuzz_json.c vmm/json.c vmm/config.c vmm/options.c \
		virtio/disk.c firmware/smbios.c -o $@ -pthread -luring
$(BUILD)/fuzz/fuzz_fs: tests/fuzz/fuzz_fs.c virtio/fs.c virtio/fs.h virtio/virtqueue.c \
		virtio/virtqueue.h virtio/device.h vmm/memory.c vmm/memory.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) tests/fuzz/fuzz_fs.c virtio/fs.c virtio/virtqueue.c vmm/memory.c \
		-o $@ -pthread

deps:
	tests/deps.sh

test: deps
	$(MAKE) all static unit guests
	tests/run-all.sh

run: deps
	$(MAKE) all static
	tests/harness/run-default.sh

bench: deps
	$(MAKE) all static guests
	bench/run.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')
format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
