// SPDX-License-Identifier: MIT
/*
 * The arm64 machine behind vmm/arch.h: a device tree instead of ACPI (firmware/arm64/fdt.c),
 * the kernel Image boot protocol (vmm/arm64/image.c, Documentation/arm64/booting.rst), a
 * virtual GICv3 (vmm/arm64/chipset.c), vCPUs that KVM itself powers on and off through PSCI,
 * and the 16550 UART on MMIO. Power-off and reset need no device: the guest's PSCI
 * SYSTEM_OFF and SYSTEM_RESET reach vmm/vcpu.c as KVM_EXIT_SYSTEM_EVENT.
 */
#include "vmm/arch.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "devices/pci.h"
#include "firmware/arm64/fdt.h"
#include "vmm/arm64/image.h"
#include "vmm/exit_codes.h"
#include "vmm/hostfile.h"
#include "vmm/kernel_release.h"
#include "vmm/vcpu.h"

#define SZ_2M 0x200000ull
#define PAGE 0x1000ull

/* KVM_{GET,SET}_ONE_REG's name for a core register: its offset in struct kvm_regs. */
#define CORE_REG(field)                                                                            \
	(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE |                                     \
	 (offsetof(struct kvm_regs, field) / sizeof(uint32_t)))

bool arch_kernel_note(const struct kernel_unpack_result *unpacked, char *out, size_t outlen)
{
	(void)unpacked;
	(void)out;
	(void)outlen;
	return false; /* an Image is loaded as it is: nothing to say */
}

/* An Image is the kernel uncompressed: its banner is in the file as it is. */
int arch_kernel_release(const char *kernel, char *out, size_t outlen)
{
	const char *why;
	struct stat st;
	int fd = hostfile_open(kernel, O_RDONLY, 0, HOSTFILE_REGULAR, &st, &why), ret;

	if (fd < 0)
		return fd; /* the loader names the problem later */
	ret = kernel_release_from_fd(fd, (uint64_t)st.st_size, out, outlen);
	close(fd);
	return ret;
}

/* The initrd, from its file or from `vmm run`'s memory, at gpa; len has been checked. */
static int place_initrd(const struct guest_mem *mem, const char *path, int fd, uint64_t gpa,
			size_t len, char *err, size_t errlen)
{
	uint8_t *dst = guest_mem_ptr(mem, gpa, len);
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, dst + done, len - done, (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "--initrd %s: read failed: %s", path,
				 n < 0 ? strerror(errno) : "the file shrank");
			return n < 0 ? -errno : -EIO;
		}
		done += (size_t)n;
	}
	return 0;
}

/*
 * The device tree as load_linux() wrote it, for arch_create_irqchip() to write again when
 * the GIC turns out to be a GICv2 (which only KVM_CREATE_DEVICE tells, on a VM that does
 * not exist yet when the guest is loaded). One VM per process, as in chipset.c.
 */
static struct devtree_config tree;
static char *tree_cmdline; /* a copy: `vmm run`'s command line is freed after loading */
static uint64_t tree_gpa;

static int write_tree(const struct guest_mem *mem, char *err, size_t errlen)
{
	ssize_t size = devtree_build(guest_mem_ptr(mem, tree_gpa, ARM64_FDT_MAX_SIZE),
				     ARM64_FDT_MAX_SIZE, &tree);

	if (size < 0) {
		snprintf(err, errlen, "cannot build the device tree: %s", strerror((int)-size));
		return (int)size;
	}
	return 0;
}

/*
 * Low RAM, top down: the device tree in the last whole 2 MiB block, the initrd below it,
 * the kernel from ARM64_KERNEL_ADDR up; they must not meet.
 */
static int load_linux(struct vm *vm, const struct vmm_options *opts,
		      const struct arch_built_initrd *img, struct boot_entry *entry, char *err,
		      size_t errlen)
{
	const struct guest_mem *mem = &vm->mem;
	uint64_t low_end = mem->regions[0].gpa + mem->regions[0].size;
	uint64_t kernel_end, initrd_gpa = 0, initrd_len = 0;
	struct devtree_config dt = { .ncpus = opts->cpus, .cmdline = opts->cmdline };
	int fd = -1, ret;

	ret = image_load(mem, opts->kernel, ARM64_KERNEL_ADDR, &entry->pc, &kernel_end, err,
			 errlen);
	if (ret)
		return ret;
	entry->dtb = (low_end & ~(SZ_2M - 1)) - SZ_2M;
	if (img) {
		dt.cmdline = img->cmdline;
		initrd_len = img->len;
	} else if (opts->initrd) {
		const char *why;
		struct stat st;

		fd = hostfile_open(opts->initrd, O_RDONLY, 0, HOSTFILE_REGULAR, &st, &why);
		if (fd < 0) {
			snprintf(err, errlen, "--initrd %s: %s", opts->initrd, why);
			return fd;
		}
		initrd_len = (uint64_t)st.st_size;
	}
	initrd_gpa = ((entry->dtb - initrd_len) & ~(PAGE - 1));
	if (entry->dtb < kernel_end || initrd_len > entry->dtb - kernel_end ||
	    initrd_gpa < kernel_end) {
		snprintf(err, errlen,
			 "--memory %s: too small for the kernel, initrd and device tree",
			 opts->memory_text);
		ret = -EFBIG;
	} else if (img) {
		memcpy(guest_mem_ptr(mem, initrd_gpa, initrd_len), img->data, initrd_len);
	} else if (fd >= 0) {
		ret = place_initrd(mem, opts->initrd, fd, initrd_gpa, initrd_len, err, errlen);
	}
	if (fd >= 0)
		close(fd);
	if (ret)
		return ret;
	if (initrd_len) {
		dt.initrd_start = initrd_gpa;
		dt.initrd_size = initrd_len;
	}
	for (unsigned int i = 0; i < mem->count; i++) {
		dt.mem[i].gpa = mem->regions[i].gpa;
		dt.mem[i].size = mem->regions[i].size;
	}
	dt.nmem = mem->count;
	dt.pci_mmio64_base = pci_mmio64_base(mem->size);
	if (dt.cmdline && !(tree_cmdline = strdup(dt.cmdline))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	dt.cmdline = tree_cmdline;
	tree = dt;
	tree_gpa = entry->dtb;
	return write_tree(mem, err, errlen);
}

int arch_load_guest(struct vm *vm, const struct vmm_options *opts,
		    const struct arch_built_initrd *img, struct boot_entry *entry,
		    char uuid_text[SMBIOS_UUID_TEXT_LEN + 1], struct kernel_unpack_result *unpacked,
		    char *err, size_t errlen)
{
	uint8_t uuid[16];

	(void)unpacked;
	if (opts->has_uuid)
		memcpy(uuid, opts->uuid, sizeof(uuid));
	else if (smbios_uuid_generate(uuid)) {
		snprintf(err, errlen, "cannot generate the VM's UUID");
		return VMM_EXIT_ERROR;
	}
	smbios_uuid_format(uuid, uuid_text);
	if (opts->flat) {
		snprintf(err, errlen, "--flat %s: the flat test guests are x86 code", opts->flat);
		return VMM_EXIT_USAGE;
	}
	if (opts->cpus > ARM64_MAX_CPUS) {
		snprintf(err, errlen, "--cpus %u: this machine's GIC has room for %u", opts->cpus,
			 ARM64_MAX_CPUS);
		return VMM_EXIT_USAGE;
	}
	return load_linux(vm, opts, img, entry, err, errlen) ? VMM_EXIT_USAGE : 0;
}

/*
 * A GICv3, or a GICv2 where KVM has none: then the device tree says so instead. Too many
 * vCPUs for a GICv2 is the user's --cpus against this host, a usage error like --cpus over
 * KVM's own limit; it can only be told here, once KVM has said which GIC it makes.
 */
int arch_create_irqchip(struct vm *vm, char *err, size_t errlen)
{
	if (chipset_create(vm->kvm.sys_fd, vm->kvm.vm_fd, err, errlen))
		return VMM_EXIT_ERROR;
	if (chipset_gic_version() != 2)
		return 0;
	if (tree.ncpus > ARM64_GICV2_MAX_CPUS) {
		snprintf(err, errlen,
			 "--cpus %u: this host gives only a GICv2, which serves at most %u",
			 tree.ncpus, ARM64_GICV2_MAX_CPUS);
		return VMM_EXIT_USAGE;
	}
	tree.gicv2 = true;
	return write_tree(&vm->mem, err, errlen) ? VMM_EXIT_ERROR : 0;
}

/* The CPU model KVM prefers on this host (the host's own, as a generic ARMv8 target). */
struct arch_vcpu_template *arch_vcpu_template_new(struct vm *vm)
{
	struct kvm_vcpu_init *init = calloc(1, sizeof(*init));

	if (!init)
		return NULL;
	if (ioctl(vm->kvm.vm_fd, KVM_ARM_PREFERRED_TARGET, init) < 0) {
		int saved = errno;

		free(init);
		errno = saved;
		return NULL;
	}
	return (struct arch_vcpu_template *)init;
}

void arch_vcpu_template_free(struct arch_vcpu_template *t)
{
	free(t);
}

/* PSCI 0.2+ in KVM; every vCPU but the boot one starts off until the guest's CPU_ON. */
int arch_vcpu_init(struct vcpu *vcpu, const struct arch_vcpu_template *t)
{
	struct kvm_vcpu_init init = *(const struct kvm_vcpu_init *)t;

	init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
	if (vcpu->index > 0)
		init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF;
	return ioctl(vcpu->fd, KVM_ARM_VCPU_INIT, &init) < 0 ? -errno : 0;
}

int arch_vcpus_created(struct vm *vm, char *err, size_t errlen)
{
	(void)vm;
	return chipset_finish(err, errlen);
}

static int set_core_reg(struct vcpu *vcpu, uint64_t id, uint64_t value)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uint64_t)(uintptr_t)&value };

	return ioctl(vcpu->fd, KVM_SET_ONE_REG, &reg) < 0 ? -errno : 0;
}

static int get_core_reg(struct vcpu *vcpu, uint64_t id, uint64_t *value)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uint64_t)(uintptr_t)value };

	return ioctl(vcpu->fd, KVM_GET_ONE_REG, &reg) < 0 ? -errno : 0;
}

/*
 * KVM_ARM_VCPU_INIT left the vCPU at EL1 with interrupts masked and the MMU off, as the
 * boot protocol wants; x1-x3 are zero. Only x0 (the device tree) and the PC remain.
 */
int arch_vcpu_setup_boot(struct vcpu *vcpu, const struct boot_entry *entry)
{
	int ret = set_core_reg(vcpu, CORE_REG(regs.regs[0]), entry->dtb);

	return ret ?: set_core_reg(vcpu, CORE_REG(regs.pc), entry->pc);
}

void arch_vcpu_dump(struct vcpu *vcpu)
{
	uint64_t pc, pstate, sp, x[4], lr;

	if (get_core_reg(vcpu, CORE_REG(regs.pc), &pc) ||
	    get_core_reg(vcpu, CORE_REG(regs.pstate), &pstate) ||
	    get_core_reg(vcpu, CORE_REG(sp_el1), &sp) ||
	    get_core_reg(vcpu, CORE_REG(regs.regs[30]), &lr)) {
		fprintf(stderr, "vmm: vCPU %u: registers unavailable: %s\n", vcpu->index,
			strerror(errno));
		return;
	}
	for (unsigned int i = 0; i < 4; i++)
		if (get_core_reg(vcpu, CORE_REG(regs.regs[i]), &x[i]))
			x[i] = 0;
	fprintf(stderr,
		"vmm: vCPU %u registers:\n"
		"  pc=%016llx pstate=%016llx sp_el1=%016llx lr=%016llx\n"
		"  x0=%016llx x1=%016llx x2=%016llx x3=%016llx\n",
		vcpu->index, (unsigned long long)pc, (unsigned long long)pstate,
		(unsigned long long)sp, (unsigned long long)lr, (unsigned long long)x[0],
		(unsigned long long)x[1], (unsigned long long)x[2], (unsigned long long)x[3]);
}

struct bus *arch_cmdport_bus(struct vm *vm, uint64_t *base)
{
	*base = ARM64_CMDPORT_ADDR;
	return &vm->mmio;
}

/* The UART on the MMIO bus; its interrupt goes out through the console (ARCH_SERIAL_IRQ). */
int arch_register_devices(struct vm *vm)
{
	return uart_register(&vm->com1, &vm->mmio, ARM64_UART_ADDR, "uart");
}

/* A button would be a GPIO key the device tree describes: not there yet. */
int arch_power_button(struct vm *vm)
{
	(void)vm;
	return -EOPNOTSUPP;
}
