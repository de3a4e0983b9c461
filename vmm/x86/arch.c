// SPDX-License-Identifier: MIT
/*
 * The x86 machine behind vmm/arch.h: ACPI and SMBIOS tables and the Linux x86 boot protocol
 * (vmm/x86/boot.c), the PC chipset (vmm/x86/chipset.c), each vCPU's CPUID, MSRs, FPU and
 * local APIC wiring, the boot vCPU in 64-bit mode, and the PC's port devices.
 */
#include "vmm/arch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "devices/platform.h"
#include "firmware/x86/acpi.h"
#include "vmm/exit_codes.h"
#include "vmm/hostfile.h"
#include "vmm/kernel_release.h"
#include "vmm/vcpu.h"
#include "vmm/x86/bzimage.h"
#include "vmm/x86/chipset.h"
#include "vmm/x86/cpuid.h"
#include "vmm/x86/elf.h"
#include "vmm/x86/vmgenid.h"

static void on_poweroff(void *ctx)
{
	vm_request_stop(ctx, VMM_EXIT_POWEROFF);
}

static void on_sci(void *ctx, int level)
{
	struct vm *vm = ctx;

	kvm_irq_line(&vm->kvm, PLATFORM_ACPI_SCI_IRQ, level);
}

static void on_reset(void *ctx)
{
	vm_request_stop(ctx, VMM_EXIT_REBOOT);
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
int arch_load_guest(struct vm *vm, const struct vmm_options *opts,
		    const struct arch_built_initrd *img, struct boot_entry *entry,
		    char uuid_text[SMBIOS_UUID_TEXT_LEN + 1], struct kernel_unpack_result *unpacked,
		    char *err, size_t errlen)
{
	struct acpi_config acpi = {
		.ncpus = opts->cpus,
		.pci_mmio64_base = pci_mmio64_base(opts->memory),
		.pci_mmio64_size = PLATFORM_PCI_MMIO64_SIZE,
		.vmgenid_addr = vm->vmgenid ? PLATFORM_VMGENID_ADDR : 0,
	};
	size_t acpi_size = PLATFORM_ACPI_END - PLATFORM_ACPI_START;
	ssize_t used;
	int ret;

	used = acpi_build(guest_mem_ptr(&vm->mem, PLATFORM_ACPI_START, acpi_size), acpi_size,
			  PLATFORM_ACPI_START, &acpi);
	if (used < 0 || boot_setup_long_mode(&vm->mem) || build_smbios(vm, opts, uuid_text) ||
	    (vm->vmgenid && vmgenid_write(&vm->mem))) {
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
			linux_cfg.initrd_data = img->data;
			linux_cfg.initrd_len = img->len;
		}
		ret = boot_load_linux(&vm->mem, &linux_cfg, entry, err, errlen);
	}
	return ret ? VMM_EXIT_USAGE : 0;
}

bool arch_kernel_note(const struct kernel_unpack_result *unpacked, char *out, size_t outlen)
{
	if (unpacked->format == UNPACK_UNKNOWN) /* not a bzImage */
		return false;
	kernel_unpack_describe(unpacked, out, outlen);
	return true;
}

/*
 * A bzImage names its release in the setup header; a vmlinux only in its banner, somewhere
 * in its read-only data, so the whole file is mapped and searched (page cache, no copy).
 */
int arch_kernel_release(const char *kernel, char *out, size_t outlen)
{
	uint8_t head[64 * 1024];
	const char *why;
	struct stat st;
	int fd = hostfile_open(kernel, O_RDONLY, 0, HOSTFILE_REGULAR, &st, &why), ret;
	ssize_t n;

	if (fd < 0)
		return fd; /* the loader names the problem later */
	n = read(fd, head, sizeof(head));
	if (n <= 0)
		ret = -EIO;
	else if (!elf_is_elf(head, (size_t)n))
		ret = bzimage_kernel_version(head, (size_t)n, out, outlen);
	else
		ret = kernel_release_from_fd(fd, (uint64_t)st.st_size, out, outlen);
	close(fd);
	return ret;
}

int arch_create_irqchip(struct vm *vm, char *err, size_t errlen)
{
	return chipset_create(vm->kvm.sys_fd, vm->kvm.vm_fd, err, errlen) ? VMM_EXIT_ERROR : 0;
}

/* KVM's supported CPUID, which each vCPU's own table starts from. */
struct arch_vcpu_template *arch_vcpu_template_new(struct vm *vm)
{
	struct kvm_cpuid2 *supported = cpuid_supported(vm->kvm.sys_fd);

	if (supported && vm->kvm.tsc_deadline)
		cpuid_set_tsc_deadline(supported);
	return (struct arch_vcpu_template *)supported;
}

void arch_vcpu_template_free(struct arch_vcpu_template *t)
{
	free(t);
}

#define X86_CR0_PE 0x1ull
#define X86_CR0_ET 0x10ull
#define X86_CR0_PG 0x80000000ull
#define X86_CR4_PAE 0x20ull
#define EFER_LME 0x100ull
#define EFER_LMA 0x400ull
#define RFLAGS_RESERVED 0x2ull

#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MISC_ENABLE_FAST_STRING 0x1ull
#define MTRR_ENABLE_WRITEBACK ((1ull << 11) | 6) /* MTRRs on, default type write-back */

#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_MODE_NMI 0x400
#define APIC_MODE_EXTINT 0x700

static int set_msrs(struct vcpu *vcpu)
{
	static const struct {
		uint32_t index;
		uint64_t value;
	} initial[] = {
		{ MSR_IA32_SYSENTER_CS, 0 },
		{ MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 },
		{ MSR_STAR, 0 },
		{ MSR_LSTAR, 0 },
		{ MSR_CSTAR, 0 },
		{ MSR_SYSCALL_MASK, 0 },
		{ MSR_KERNEL_GS_BASE, 0 },
		{ MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING },
		{ MSR_MTRR_DEF_TYPE, MTRR_ENABLE_WRITEBACK },
	};
	const unsigned int n = sizeof(initial) / sizeof(initial[0]);
	struct {
		struct kvm_msrs header;
		struct kvm_msr_entry entries[sizeof(initial) / sizeof(initial[0])];
	} msrs = { .header.nmsrs = n };
	int ret;

	for (unsigned int i = 0; i < n; i++) {
		msrs.entries[i].index = initial[i].index;
		msrs.entries[i].data = initial[i].value;
	}
	ret = ioctl(vcpu->fd, KVM_SET_MSRS, &msrs);
	if (ret < 0)
		return -errno;
	/* KVM stops at the first MSR it refuses; all of these are architectural */
	return ret == (int)n ? 0 : -EINVAL;
}

/* Wire LINT0 to the legacy PIC (virtual-wire mode) and LINT1 to NMI, as firmware would. */
static int set_lapic_lint(struct vcpu *vcpu)
{
	struct kvm_lapic_state lapic;
	uint32_t lint0 = APIC_MODE_EXTINT, lint1 = APIC_MODE_NMI;

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic) < 0)
		return -errno;
	memcpy(&lapic.regs[APIC_LVT_LINT0], &lint0, sizeof(lint0));
	memcpy(&lapic.regs[APIC_LVT_LINT1], &lint1, sizeof(lint1));
	return ioctl(vcpu->fd, KVM_SET_LAPIC, &lapic) < 0 ? -errno : 0;
}

static int set_fpu(struct vcpu *vcpu)
{
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 }; /* the values after FNINIT */

	return ioctl(vcpu->fd, KVM_SET_FPU, &fpu) < 0 ? -errno : 0;
}

int arch_vcpu_init(struct vcpu *vcpu, const struct arch_vcpu_template *t)
{
	const struct kvm_cpuid2 *supported = (const struct kvm_cpuid2 *)t;
	size_t cpuid_size = sizeof(*supported) + supported->nent * sizeof(supported->entries[0]);
	struct kvm_cpuid2 *cpuid;
	int ret;

	cpuid = malloc(cpuid_size);
	if (!cpuid)
		return -ENOMEM;
	memcpy(cpuid, supported, cpuid_size);
	cpuid_for_vcpu(cpuid, vcpu->index, vcpu->vm->ncpus);
	ret = ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid) < 0 ? -errno : 0;
	free(cpuid);
	if (ret)
		return ret;
	ret = set_msrs(vcpu);
	if (!ret)
		ret = set_fpu(vcpu);
	if (!ret)
		ret = set_lapic_lint(vcpu);
	return ret;
}

/* The local APICs start the other vCPUs when the guest sends INIT/SIPI: nothing to finish. */
int arch_vcpus_created(struct vm *vm, char *err, size_t errlen)
{
	(void)vm;
	(void)err;
	(void)errlen;
	return 0;
}

static void long_mode_segment(struct kvm_segment *s, uint16_t selector, uint8_t type, bool code)
{
	*s = (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = selector,
		.type = type,
		.present = 1,
		.s = 1,
		.l = code,
		.db = !code,
		.g = 1,
	};
}

int arch_vcpu_setup_boot(struct vcpu *vcpu, const struct boot_entry *entry)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = {
		.rflags = RFLAGS_RESERVED,
		.rip = entry->rip,
		.rsi = entry->rsi,
		.rsp = entry->rsp,
	};

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	long_mode_segment(&sregs.cs, BOOT_GDT_CODE, 0xb, true);	 /* execute/read, accessed */
	long_mode_segment(&sregs.ds, BOOT_GDT_DATA, 0x3, false); /* read/write, accessed */
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.tr = (struct kvm_segment){
		.selector = BOOT_GDT_TSS, .limit = 0x67, .type = 0xb, .present = 1
	};
	sregs.gdt.base = PLATFORM_GDT_ADDR;
	sregs.gdt.limit = BOOT_GDT_ENTRIES * 8 - 1;
	sregs.cr3 = PLATFORM_PML4_ADDR;
	sregs.cr4 = X86_CR4_PAE;
	sregs.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_PG;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	return ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0 ? -errno : 0;
}

static void dump_segment(const char *name, const struct kvm_segment *s)
{
	fprintf(stderr, "  %-3s sel=%04x base=%016llx limit=%08x type=%x l=%u db=%u\n", name,
		s->selector, (unsigned long long)s->base, s->limit, s->type, s->l, s->db);
}

void arch_vcpu_dump(struct vcpu *vcpu)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 || ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0) {
		fprintf(stderr, "vmm: vCPU %u: registers unavailable: %s\n", vcpu->index,
			strerror(errno));
		return;
	}
	fprintf(stderr,
		"vmm: vCPU %u registers:\n"
		"  rip=%016llx rsp=%016llx rflags=%016llx\n"
		"  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n"
		"  rsi=%016llx rdi=%016llx rbp=%016llx\n"
		"  r8 =%016llx r9 =%016llx r10=%016llx r11=%016llx\n"
		"  r12=%016llx r13=%016llx r14=%016llx r15=%016llx\n"
		"  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%016llx\n",
		vcpu->index, r.rip, r.rsp, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi,
		r.rbp, r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, s.cr0, s.cr2, s.cr3,
		s.cr4, s.efer);
	if (r.rip == 0xfff0 && s.cs.selector == 0xf000)
		fprintf(stderr, "  (the CPU is in its reset state: on AMD hosts KVM resets a vCPU "
				"when it reports a triple fault, so the faulting state is lost)\n");
	dump_segment("cs", &s.cs);
	dump_segment("ss", &s.ss);
	dump_segment("ds", &s.ds);
	dump_segment("tr", &s.tr);
	fprintf(stderr, "  gdt base=%016llx limit=%04x idt base=%016llx limit=%04x\n",
		(unsigned long long)s.gdt.base, s.gdt.limit, (unsigned long long)s.idt.base,
		s.idt.limit);
}

struct bus *arch_cmdport_bus(struct vm *vm, uint64_t *base)
{
	*base = PLATFORM_CMDPORT_PORT;
	return &vm->pio;
}

/* ACPI PM1 and reset registers, the i8042's reset, POST and boot-marker ports; COM1. */
int arch_register_devices(struct vm *vm)
{
	struct power_events events = { on_poweroff, on_reset, on_sci, vm };
	int ret;

	power_init(&vm->power, &events, &vm->start);
	ret = power_register(&vm->power, &vm->pio);
	if (!ret)
		ret = uart_register(&vm->com1, &vm->pio, PLATFORM_COM1_PORT, "com1");
	return ret;
}

/* The ACPI power button: PWRBTN_STS, and the SCI if the guest enabled it. */
int arch_power_button(struct vm *vm)
{
	power_button_press(&vm->power);
	return 0;
}
