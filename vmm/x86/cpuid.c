// SPDX-License-Identifier: MIT
/* CPUID leaves per vCPU (Intel SDM vol. 2A "CPUID"; AMD APM vol. 3 appendix E). */
#include "vmm/x86/cpuid.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_HTT (1u << 28)
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define TOPOLOGY_LEVEL_SMT 1
#define TOPOLOGY_LEVEL_CORE 2

struct kvm_cpuid2 *cpuid_supported(int kvm_sys_fd)
{
	/* the kernel says E2BIG until the buffer is big enough; grow until it fits */
	for (unsigned int n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return NULL;
		c->nent = n;
		if (ioctl(kvm_sys_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG)
			return NULL;
	}
	errno = E2BIG;
	return NULL;
}

/* Bits of the APIC ID that number the CPUs in a package: ceil(log2(ncpus)). */
static unsigned int core_id_bits(unsigned int ncpus)
{
	unsigned int bits = 0;

	while ((1u << bits) < ncpus)
		bits++;
	return bits;
}

/* Leaves 0xB and 0x1F: one thread per core, all vCPUs cores of one package. */
static void topology_leaf(struct kvm_cpuid_entry2 *e, unsigned int apic_id, unsigned int ncpus)
{
	e->edx = apic_id;
	switch (e->index) {
	case 0:
		e->eax = 0;
		e->ebx = 1;
		e->ecx = (TOPOLOGY_LEVEL_SMT << 8) | e->index;
		break;
	case 1:
		e->eax = core_id_bits(ncpus);
		e->ebx = ncpus;
		e->ecx = (TOPOLOGY_LEVEL_CORE << 8) | e->index;
		break;
	default: /* no further levels */
		e->eax = e->ebx = 0;
		e->ecx = e->index;
		break;
	}
}

void cpuid_for_vcpu(struct kvm_cpuid2 *cpuid, unsigned int apic_id, unsigned int ncpus)
{
	for (unsigned int i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0xffff) | (apic_id << 24) | ((ncpus & 0xff) << 16);
			e->ecx |= CPUID_1_ECX_HYPERVISOR;
			if (ncpus > 1)
				e->edx |= CPUID_1_EDX_HTT;
			else
				e->edx &= ~CPUID_1_EDX_HTT;
			break;
		case 4: /* Intel: cores per package minus one (6 bits), in every cache subleaf */
			if (e->eax & 0x1f)
				e->eax = (e->eax & 0x03ffffff) |
					 ((ncpus - 1 < 63 ? ncpus - 1 : 63) << 26);
			break;
		case 0xb:
		case 0x1f:
			topology_leaf(e, apic_id, ncpus);
			break;
		case 0x80000008: /* AMD: core count and APIC-ID bits per package */
			e->ecx = (e->ecx & ~0xf0ffu) | (core_id_bits(ncpus) << 12) | (ncpus - 1);
			break;
		case 0x8000001e: /* AMD topology extension: extended APIC ID, core ID */
			e->eax = apic_id;
			e->ebx = apic_id & 0xff;
			e->ecx = 0;
			break;
		}
	}
}

void cpuid_set_tsc_deadline(struct kvm_cpuid2 *cpuid)
{
	for (unsigned int i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == 1)
			cpuid->entries[i].ecx |= CPUID_1_ECX_TSC_DEADLINE;
}
