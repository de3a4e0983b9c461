/* SPDX-License-Identifier: MIT */
/*
 * ACPI tables for a legacy (not hardware-reduced) PC platform, following ACPI 6.x
 * chapter 5.2: RSDP (5.2.5), XSDT (5.2.8), FADT (5.2.9), FACS (5.2.10), DSDT (5.2.11.1)
 * and MADT (5.2.12), plus the MCFG of the PCI Firmware Specification 3.x (4.1.2). The
 * fixed hardware they describe is in devices/platform.h.
 */
#include <errno.h>
#include <string.h>

#include "devices/platform.h"
#include "firmware/x86/acpi.h"
#include "firmware/x86/acpi_internal.h"
#include "firmware/aml.h"
#include "firmware/checksum.h"

#define ACPI_OEM_ID "MINVMM"
#define ACPI_OEM_TABLE_ID "MINVMM  "
#define ACPI_OEM_REVISION 1
#define ACPI_CREATOR_ID "MVMM"
#define ACPI_CREATOR_REVISION 1

#define ACPI_MAX_CPUS 255 /* APIC IDs fit in a byte and 0xff is the broadcast ID */
#define ACPI_XSDT_MAX 16
#define ACPI_TABLE_ALIGN 16
#define ACPI_FACS_ALIGN 64

struct acpi_table_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum; /* over the first 20 bytes, the ACPI 1.0 structure */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum; /* over the whole structure */
	uint8_t reserved[3];
} __attribute__((packed));

#define ACPI_RSDP_V1_LEN 20

struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __attribute__((packed));

#define ACPI_GAS_SYSTEM_IO 1
#define ACPI_GAS_ACCESS_BYTE 1
#define ACPI_GAS_ACCESS_WORD 2

struct acpi_fadt {
	struct acpi_table_header header;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	uint64_t hypervisor_vendor_id;
} __attribute__((packed));

#define ACPI_FADT_REVISION 6
#define ACPI_FADT_MINOR_VERSION 0

#define ACPI_FADT_WBINVD (1u << 0)
#define ACPI_FADT_PROC_C1 (1u << 2)
#define ACPI_FADT_PWR_BUTTON (1u << 4) /* set: no fixed power button */
#define ACPI_FADT_SLP_BUTTON (1u << 5) /* set: no fixed sleep button */
#define ACPI_FADT_FIX_RTC (1u << 6)    /* set: no RTC wake status in PM1 */
#define ACPI_FADT_RESET_REG_SUP (1u << 10)

#define ACPI_BOOT_LEGACY_DEVICES (1u << 0)
#define ACPI_BOOT_NO_VGA (1u << 2)
#define ACPI_BOOT_NO_CMOS_RTC (1u << 5)

struct acpi_facs {
	char signature[4];
	uint32_t length;
	uint32_t hardware_signature;
	uint32_t firmware_waking_vector;
	uint32_t global_lock;
	uint32_t flags;
	uint64_t x_firmware_waking_vector;
	uint8_t version;
	uint8_t reserved0[3];
	uint32_t ospm_flags;
	uint8_t reserved1[24];
} __attribute__((packed));

#define ACPI_FACS_VERSION 2

struct acpi_madt {
	struct acpi_table_header header;
	uint32_t lapic_address;
	uint32_t flags;
} __attribute__((packed));

#define ACPI_MADT_REVISION 4
#define ACPI_MADT_PCAT_COMPAT (1u << 0)

struct acpi_madt_lapic {
	uint8_t type;
	uint8_t length;
	uint8_t processor_uid;
	uint8_t apic_id;
	uint32_t flags;
} __attribute__((packed));

struct acpi_madt_ioapic {
	uint8_t type;
	uint8_t length;
	uint8_t ioapic_id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;
} __attribute__((packed));

struct acpi_madt_irq_override {
	uint8_t type;
	uint8_t length;
	uint8_t bus;
	uint8_t source;
	uint32_t gsi;
	uint16_t flags;
} __attribute__((packed));

struct acpi_madt_lapic_nmi {
	uint8_t type;
	uint8_t length;
	uint8_t processor_uid;
	uint16_t flags;
	uint8_t lint;
} __attribute__((packed));

#define ACPI_MADT_TYPE_LAPIC 0
#define ACPI_MADT_TYPE_IOAPIC 1
#define ACPI_MADT_TYPE_IRQ_OVERRIDE 2
#define ACPI_MADT_TYPE_LAPIC_NMI 4
#define ACPI_MADT_LAPIC_ENABLED (1u << 0)
#define ACPI_MADT_ALL_PROCESSORS 0xff
#define ACPI_MPS_ACTIVE_HIGH 0x1
#define ACPI_MPS_LEVEL 0xc
#define ACPI_ISA_TIMER_IRQ 0
#define ACPI_ISA_TIMER_GSI 2

struct acpi_mcfg {
	struct acpi_table_header header;
	uint8_t reserved[8];
} __attribute__((packed));

/* One ECAM region: the configuration space of buses start_bus..end_bus of a segment. */
struct acpi_mcfg_allocation {
	uint64_t address;
	uint16_t segment;
	uint8_t start_bus;
	uint8_t end_bus;
	uint32_t reserved;
} __attribute__((packed));

#define ACPI_MCFG_REVISION 1

_Static_assert(sizeof(struct acpi_table_header) == 36, "ACPI table header");
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP");
_Static_assert(sizeof(struct acpi_gas) == 12, "generic address structure");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT revision 6");
_Static_assert(sizeof(struct acpi_facs) == 64, "FACS");
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT");
_Static_assert(sizeof(struct acpi_mcfg) == 44, "MCFG");
_Static_assert(sizeof(struct acpi_mcfg_allocation) == 16, "MCFG allocation");

struct acpi_builder {
	uint8_t *buf;
	size_t size;
	size_t used;
	uint64_t gpa;
	uint64_t facs;
	uint64_t dsdt;
	uint64_t xsdt;
	uint64_t xsdt_entries[ACPI_XSDT_MAX];
	unsigned int nr_xsdt_entries;
};

/* Take len zeroed bytes at the next guest address aligned to align; NULL if they do not fit. */
static void *acpi_alloc(struct acpi_builder *b, size_t len, size_t align, uint64_t *addr)
{
	uint64_t at = (b->gpa + b->used + align - 1) & ~(uint64_t)(align - 1);
	size_t off = at - b->gpa;

	if (off > b->size || len > b->size - off)
		return NULL;
	memset(b->buf + off, 0, len);
	b->used = off + len;
	*addr = at;
	return b->buf + off;
}

/* Fill in the header of a table whose body is complete, then checksum the whole table. */
static void acpi_seal(void *table, const char *signature, uint32_t len, uint8_t revision)
{
	struct acpi_table_header *h = table;

	memcpy(h->signature, signature, sizeof(h->signature));
	h->length = len;
	h->revision = revision;
	memcpy(h->oem_id, ACPI_OEM_ID, sizeof(h->oem_id));
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, sizeof(h->oem_table_id));
	h->oem_revision = ACPI_OEM_REVISION;
	memcpy(h->creator_id, ACPI_CREATOR_ID, sizeof(h->creator_id));
	h->creator_revision = ACPI_CREATOR_REVISION;
	h->checksum = 0;
	h->checksum = firmware_checksum(table, len);
}

static int acpi_xsdt_add(struct acpi_builder *b, uint64_t addr)
{
	if (b->nr_xsdt_entries == ACPI_XSDT_MAX)
		return -ENOSPC;
	b->xsdt_entries[b->nr_xsdt_entries++] = addr;
	return 0;
}

static int acpi_build_facs(struct acpi_builder *b)
{
	struct acpi_facs *facs = acpi_alloc(b, sizeof(*facs), ACPI_FACS_ALIGN, &b->facs);

	if (!facs)
		return -ENOSPC;
	memcpy(facs->signature, "FACS", 4);
	facs->length = sizeof(*facs);
	facs->version = ACPI_FACS_VERSION;
	return 0;
}

static int acpi_build_dsdt(struct acpi_builder *b, const struct acpi_config *cfg)
{
	struct acpi_table_header *dsdt = acpi_alloc(b, sizeof(*dsdt), ACPI_TABLE_ALIGN, &b->dsdt);
	struct aml aml;
	ssize_t len;

	if (!dsdt)
		return -ENOSPC;
	aml_init(&aml, b->buf + b->used, b->size - b->used);
	acpi_dsdt_body(&aml, cfg);
	len = aml_finish(&aml);
	if (len < 0)
		return len;
	b->used += len;
	/* Revision 2: AML integers are 64 bits wide. */
	acpi_seal(dsdt, "DSDT", sizeof(*dsdt) + len, 2);
	return 0;
}

static struct acpi_gas acpi_gas_io(uint16_t port, unsigned int len, uint8_t access_size)
{
	return (struct acpi_gas){
		.space_id = ACPI_GAS_SYSTEM_IO,
		.bit_width = len * 8,
		.access_size = access_size,
		.address = port,
	};
}

static void acpi_fadt_pm_blocks(struct acpi_fadt *f)
{
	f->pm1a_evt_blk = PLATFORM_ACPI_PM1A_EVT_PORT;
	f->pm1_evt_len = PLATFORM_ACPI_PM1A_EVT_LEN;
	f->x_pm1a_evt_blk = acpi_gas_io(PLATFORM_ACPI_PM1A_EVT_PORT, PLATFORM_ACPI_PM1A_EVT_LEN,
					ACPI_GAS_ACCESS_WORD);
	f->pm1a_cnt_blk = PLATFORM_ACPI_PM1A_CNT_PORT;
	f->pm1_cnt_len = PLATFORM_ACPI_PM1A_CNT_LEN;
	f->x_pm1a_cnt_blk = acpi_gas_io(PLATFORM_ACPI_PM1A_CNT_PORT, PLATFORM_ACPI_PM1A_CNT_LEN,
					ACPI_GAS_ACCESS_WORD);
	/* GPE0: status bytes, then as many enable bytes; Linux reads it a byte at a time */
	f->gpe0_blk = PLATFORM_ACPI_GPE0_PORT;
	f->gpe0_blk_len = PLATFORM_ACPI_GPE0_LEN;
	f->x_gpe0_blk =
		acpi_gas_io(PLATFORM_ACPI_GPE0_PORT, PLATFORM_ACPI_GPE0_LEN, ACPI_GAS_ACCESS_BYTE);
	f->reset_reg = acpi_gas_io(PLATFORM_ACPI_RESET_PORT, 1, ACPI_GAS_ACCESS_BYTE);
	f->reset_value = PLATFORM_ACPI_RESET_VALUE;
}

static int acpi_build_fadt(struct acpi_builder *b, const struct acpi_config *cfg)
{
	uint64_t addr;
	struct acpi_fadt *f = acpi_alloc(b, sizeof(*f), ACPI_TABLE_ALIGN, &addr);

	(void)cfg;
	if (!f)
		return -ENOSPC;
	f->firmware_ctrl = b->facs;
	f->x_firmware_ctrl = b->facs;
	f->dsdt = b->dsdt;
	f->x_dsdt = b->dsdt;
	/* SMI_CMD 0: the platform is always in ACPI mode, so there is nothing to switch. */
	f->sci_int = PLATFORM_ACPI_SCI_IRQ;
	acpi_fadt_pm_blocks(f);
	/*
	 * No 8042: Linux then skips probing a keyboard controller we do not have (reboot=k
	 * still reaches our i8042 reset). No VGA, no CMOS RTC: kvmclock gives the wall clock.
	 */
	f->iapc_boot_arch = ACPI_BOOT_LEGACY_DEVICES | ACPI_BOOT_NO_VGA | ACPI_BOOT_NO_CMOS_RTC;
	/* a fixed power button (PM1 PWRBTN_STS, vm.power-button); no sleep button */
	f->flags = ACPI_FADT_WBINVD | ACPI_FADT_PROC_C1 | ACPI_FADT_SLP_BUTTON | ACPI_FADT_FIX_RTC |
		   ACPI_FADT_RESET_REG_SUP;
	f->minor_version = ACPI_FADT_MINOR_VERSION;
	acpi_seal(f, "FACP", sizeof(*f), ACPI_FADT_REVISION);
	return acpi_xsdt_add(b, addr);
}

static uint8_t *acpi_put(uint8_t *p, const void *entry, size_t len)
{
	memcpy(p, entry, len);
	return p + len;
}

static uint8_t *acpi_madt_cpus(uint8_t *p, unsigned int ncpus)
{
	for (unsigned int i = 0; i < ncpus; i++) {
		struct acpi_madt_lapic lapic = {
			.type = ACPI_MADT_TYPE_LAPIC,
			.length = sizeof(lapic),
			.processor_uid = i,
			.apic_id = i,
			.flags = ACPI_MADT_LAPIC_ENABLED,
		};

		p = acpi_put(p, &lapic, sizeof(lapic));
	}
	return p;
}

static uint8_t *acpi_madt_irq_override(uint8_t *p, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	struct acpi_madt_irq_override o = {
		.type = ACPI_MADT_TYPE_IRQ_OVERRIDE,
		.length = sizeof(o),
		.bus = 0, /* ISA */
		.source = irq,
		.gsi = gsi,
		.flags = flags,
	};

	return acpi_put(p, &o, sizeof(o));
}

static uint8_t *acpi_madt_ioapic(uint8_t *p)
{
	struct acpi_madt_ioapic io = {
		.type = ACPI_MADT_TYPE_IOAPIC,
		.length = sizeof(io),
		.ioapic_id = PLATFORM_IOAPIC_ID,
		.address = PLATFORM_IOAPIC_ADDR,
		.gsi_base = 0,
	};

	return acpi_put(p, &io, sizeof(io));
}

static uint8_t *acpi_madt_nmi(uint8_t *p)
{
	/* LINT1 of every local APIC is wired to NMI, as on a PC. */
	struct acpi_madt_lapic_nmi nmi = {
		.type = ACPI_MADT_TYPE_LAPIC_NMI,
		.length = sizeof(nmi),
		.processor_uid = ACPI_MADT_ALL_PROCESSORS,
		.flags = 0,
		.lint = 1,
	};

	return acpi_put(p, &nmi, sizeof(nmi));
}

static int acpi_build_madt(struct acpi_builder *b, const struct acpi_config *cfg)
{
	size_t len = sizeof(struct acpi_madt) + cfg->ncpus * sizeof(struct acpi_madt_lapic) +
		     sizeof(struct acpi_madt_ioapic) + 2 * sizeof(struct acpi_madt_irq_override) +
		     sizeof(struct acpi_madt_lapic_nmi);
	uint64_t addr;
	struct acpi_madt *madt = acpi_alloc(b, len, ACPI_TABLE_ALIGN, &addr);
	uint8_t *p;

	if (!madt)
		return -ENOSPC;
	madt->lapic_address = PLATFORM_LAPIC_ADDR;
	madt->flags = ACPI_MADT_PCAT_COMPAT;
	p = acpi_madt_cpus((uint8_t *)(madt + 1), cfg->ncpus);
	p = acpi_madt_ioapic(p);
	/* The PIT is wired to IOAPIC pin 2; the SCI is level-triggered, active high. */
	p = acpi_madt_irq_override(p, ACPI_ISA_TIMER_IRQ, ACPI_ISA_TIMER_GSI, 0);
	p = acpi_madt_irq_override(p, PLATFORM_ACPI_SCI_IRQ, PLATFORM_ACPI_SCI_IRQ,
				   ACPI_MPS_ACTIVE_HIGH | ACPI_MPS_LEVEL);
	acpi_madt_nmi(p);
	acpi_seal(madt, "APIC", len, ACPI_MADT_REVISION);
	return acpi_xsdt_add(b, addr);
}

/* ECAM for segment 0, bus 0 only. */
static int acpi_build_mcfg(struct acpi_builder *b, const struct acpi_config *cfg)
{
	size_t len = sizeof(struct acpi_mcfg) + sizeof(struct acpi_mcfg_allocation);
	uint64_t addr;
	struct acpi_mcfg *mcfg = acpi_alloc(b, len, ACPI_TABLE_ALIGN, &addr);
	struct acpi_mcfg_allocation *alloc;

	(void)cfg;
	if (!mcfg)
		return -ENOSPC;
	alloc = (struct acpi_mcfg_allocation *)(mcfg + 1);
	alloc->address = PLATFORM_PCI_ECAM_START;
	alloc->segment = 0;
	alloc->start_bus = 0;
	alloc->end_bus = 0;
	acpi_seal(mcfg, "MCFG", len, ACPI_MCFG_REVISION);
	return acpi_xsdt_add(b, addr);
}

static int acpi_build_xsdt(struct acpi_builder *b)
{
	size_t entries = b->nr_xsdt_entries * sizeof(uint64_t);
	struct acpi_table_header *xsdt;

	xsdt = acpi_alloc(b, sizeof(*xsdt) + entries, ACPI_TABLE_ALIGN, &b->xsdt);
	if (!xsdt)
		return -ENOSPC;
	memcpy(xsdt + 1, b->xsdt_entries, entries);
	acpi_seal(xsdt, "XSDT", sizeof(*xsdt) + entries, 1);
	return 0;
}

static void acpi_fill_rsdp(struct acpi_rsdp *rsdp, uint64_t xsdt)
{
	memcpy(rsdp->signature, "RSD PTR ", sizeof(rsdp->signature));
	memcpy(rsdp->oem_id, ACPI_OEM_ID, sizeof(rsdp->oem_id));
	rsdp->revision = 2;
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt_address = xsdt;
	rsdp->checksum = firmware_checksum(rsdp, ACPI_RSDP_V1_LEN);
	rsdp->extended_checksum = firmware_checksum(rsdp, sizeof(*rsdp));
}

/* The tables the XSDT lists, in order; the FACS and DSDT are reached through the FADT. */
static int (*const acpi_xsdt_tables[])(struct acpi_builder *b, const struct acpi_config *cfg) = {
	acpi_build_fadt,
	acpi_build_madt,
	acpi_build_mcfg,
};

ssize_t acpi_build(void *buf, size_t size, uint64_t gpa, const struct acpi_config *cfg)
{
	struct acpi_builder b = { .buf = buf, .size = size, .gpa = gpa };
	struct acpi_rsdp *rsdp;
	uint64_t rsdp_addr;
	int err;

	if (!buf || !cfg || !cfg->ncpus || cfg->ncpus > ACPI_MAX_CPUS)
		return -EINVAL;
	if (cfg->pci_mmio64_size && cfg->pci_mmio64_base > UINT64_MAX - (cfg->pci_mmio64_size - 1))
		return -EINVAL;
	/* The RSDP is found by a scan of 16-byte boundaries; the FADT has 32-bit pointers. */
	if (gpa % 16 || gpa > UINT32_MAX)
		return -EINVAL;
	if (b.size > (1ull << 32) - gpa)
		b.size = (1ull << 32) - gpa;
	rsdp = acpi_alloc(&b, sizeof(*rsdp), ACPI_TABLE_ALIGN, &rsdp_addr);
	if (!rsdp)
		return -ENOSPC;
	err = acpi_build_facs(&b);
	err = err ?: acpi_build_dsdt(&b, cfg);
	for (size_t i = 0; i < sizeof(acpi_xsdt_tables) / sizeof(acpi_xsdt_tables[0]); i++)
		err = err ?: acpi_xsdt_tables[i](&b, cfg);
	err = err ?: acpi_build_xsdt(&b);
	if (err)
		return err;
	acpi_fill_rsdp(rsdp, b.xsdt);
	return b.used;
}
