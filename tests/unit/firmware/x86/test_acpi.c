/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the ACPI tables: they are parsed back the way an OS would, from the RSDP
 * through the XSDT, using the field offsets of ACPI 6.x chapter 5.2.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "check_main.h"
#include "devices/platform.h"
#include "firmware/x86/acpi.h"

#define GPA PLATFORM_ACPI_START
#define AREA (PLATFORM_ACPI_END - PLATFORM_ACPI_START)
#define GUARD 0x5a
#define HDR_LEN 36

static uint8_t area[AREA];
static ssize_t used;

/* A 64-bit PCI window as main() sets it up for a guest with 1 GiB of RAM. */
#define MMIO64_BASE 0x100000000ull
#define MMIO64_SIZE PLATFORM_PCI_MMIO64_SIZE

static void build_cfg(const struct acpi_config *cfg)
{
	memset(area, GUARD, sizeof(area));
	used = acpi_build(area, sizeof(area), GPA, cfg);
	ck_assert_int_gt(used, 0);
	ck_assert_int_le(used, AREA);
}

static void build(unsigned int ncpus)
{
	struct acpi_config cfg = {
		.ncpus = ncpus,
		.pci_mmio64_base = MMIO64_BASE,
		.pci_mmio64_size = MMIO64_SIZE,
	};

	build_cfg(&cfg);
}

/* The table at guest address addr: inside what acpi_build() wrote, and whole. */
static const uint8_t *table_at(uint64_t addr, size_t min_len)
{
	const uint8_t *t;

	ck_assert_uint_ge(addr, GPA);
	ck_assert_uint_le(addr + min_len, GPA + (uint64_t)used);
	t = area + (addr - GPA);
	ck_assert_uint_le(addr + rd32(t + 4), GPA + (uint64_t)used);
	return t;
}

static const uint8_t *rsdp(void)
{
	return area;
}

static const uint8_t *xsdt(void)
{
	return table_at(rd64(rsdp() + 24), HDR_LEN);
}

static unsigned int xsdt_count(void)
{
	return (rd32(xsdt() + 4) - HDR_LEN) / 8;
}

static const uint8_t *xsdt_entry(unsigned int i)
{
	return table_at(rd64(xsdt() + HDR_LEN + 8 * i), HDR_LEN);
}

/* The one table the XSDT lists with this signature. */
static const uint8_t *find_table(const char *sig)
{
	const uint8_t *found = NULL;

	for (unsigned int i = 0; i < xsdt_count(); i++) {
		if (!memcmp(xsdt_entry(i), sig, 4)) {
			ck_assert_msg(!found, "two %s tables", sig);
			found = xsdt_entry(i);
		}
	}
	ck_assert_msg(found, "no %s table", sig);
	return found;
}

static const uint8_t *fadt(void)
{
	return find_table("FACP");
}

static const uint8_t *madt(void)
{
	return find_table("APIC");
}

static const uint8_t *dsdt(void)
{
	return table_at(rd64(fadt() + 140), HDR_LEN);
}

static void check_table(const uint8_t *t, const char *sig)
{
	uint32_t len = rd32(t + 4);

	ck_assert_mem_eq(t, sig, 4);
	ck_assert_uint_ge(len, HDR_LEN);
	ck_assert_msg(sum(t, len) == 0, "%.4s checksum", sig);
	ck_assert_uint_eq((t - area) % 8, 0);
}

START_TEST(test_rsdp)
{
	build(1);
	ck_assert_mem_eq(rsdp(), "RSD PTR ", 8);
	ck_assert_uint_eq(rsdp()[15], 2);	  /* revision: has an XSDT */
	ck_assert_uint_eq(sum(rsdp(), 20), 0);	  /* ACPI 1.0 checksum */
	ck_assert_uint_eq(rd32(rsdp() + 20), 36); /* length */
	ck_assert_uint_eq(sum(rsdp(), 36), 0);	  /* extended checksum */
	ck_assert_uint_ne(rd64(rsdp() + 24), 0);
}
END_TEST

START_TEST(test_every_checksum)
{
	const uint8_t *facs;

	build(_i);
	check_table(xsdt(), "XSDT");
	for (unsigned int i = 0; i < xsdt_count(); i++)
		check_table(xsdt_entry(i), (const char *)xsdt_entry(i));
	check_table(dsdt(), "DSDT");
	ck_assert_uint_eq(rd32(fadt() + 40), rd64(fadt() + 140)); /* DSDT == X_DSDT */
	facs = table_at(rd64(fadt() + 132), 64);
	ck_assert_mem_eq(facs, "FACS", 4);
	ck_assert_uint_eq(rd32(facs + 4), 64);
	ck_assert_uint_eq(rd64(fadt() + 132) % 64, 0);
	ck_assert_uint_eq(rd32(fadt() + 36), rd64(fadt() + 132)); /* FIRMWARE_CTRL */
}
END_TEST

START_TEST(test_xsdt_lists_fadt_madt_mcfg)
{
	build(2);
	ck_assert_uint_eq((rd32(xsdt() + 4) - HDR_LEN) % 8, 0);
	ck_assert_uint_ge(xsdt_count(), 3);
	find_table("FACP");
	find_table("APIC");
	find_table("MCFG");
}
END_TEST

static void check_io_gas(const uint8_t *gas, uint16_t port, unsigned int bytes)
{
	ck_assert_uint_eq(gas[0], 1); /* System I/O */
	ck_assert_uint_eq(gas[1], bytes * 8);
	ck_assert_uint_eq(gas[2], 0);
	ck_assert_uint_eq(rd64(gas + 4), port);
}

START_TEST(test_fadt_fixed_hardware)
{
	const uint8_t *f;
	uint32_t flags;

	build(1);
	f = fadt();
	ck_assert_uint_eq(rd32(f + 4), 276);
	ck_assert_uint_eq(f[8], 6);
	ck_assert_uint_eq(rd16(f + 46), PLATFORM_ACPI_SCI_IRQ);
	ck_assert_uint_eq(rd32(f + 48), 0); /* SMI_CMD: always in ACPI mode */
	ck_assert_uint_eq(rd32(f + 56), PLATFORM_ACPI_PM1A_EVT_PORT);
	ck_assert_uint_eq(rd32(f + 60), 0);
	ck_assert_uint_eq(rd32(f + 64), PLATFORM_ACPI_PM1A_CNT_PORT);
	ck_assert_uint_eq(rd32(f + 68), 0);
	ck_assert_uint_eq(f[88], PLATFORM_ACPI_PM1A_EVT_LEN);
	ck_assert_uint_eq(f[89], PLATFORM_ACPI_PM1A_CNT_LEN);
	ck_assert_uint_eq(f[91], 0); /* no PM timer */
	ck_assert_uint_eq(rd32(f + 80), PLATFORM_ACPI_GPE0_PORT);
	ck_assert_uint_eq(rd32(f + 84), 0);
	ck_assert_uint_eq(f[92], PLATFORM_ACPI_GPE0_LEN); /* GPE0: status and enable bytes */
	ck_assert_uint_eq(f[93], 0);			  /* no GPE1 */
	/* legacy devices, but no 8042 (so Linux does not probe one), no VGA, no CMOS RTC */
	ck_assert_uint_eq(rd16(f + 109), 0x25);

	flags = rd32(f + 112);
	ck_assert_uint_eq(flags & (1u << 20), 0); /* not hardware-reduced */
	ck_assert_uint_ne(flags & (1u << 10), 0); /* RESET_REG supported */
	ck_assert_uint_eq(flags & (1u << 4), 0);  /* a fixed power button */
	ck_assert_uint_ne(flags & (1u << 5), 0);  /* no fixed sleep button */

	check_io_gas(f + 116, PLATFORM_ACPI_RESET_PORT, 1);
	ck_assert_uint_eq(f[128], PLATFORM_ACPI_RESET_VALUE);
	check_io_gas(f + 148, PLATFORM_ACPI_PM1A_EVT_PORT, PLATFORM_ACPI_PM1A_EVT_LEN);
	check_io_gas(f + 172, PLATFORM_ACPI_PM1A_CNT_PORT, PLATFORM_ACPI_PM1A_CNT_LEN);
	ck_assert_uint_eq(rd64(f + 208 + 4), 0); /* X_PM_TMR_BLK */
	check_io_gas(f + 220, PLATFORM_ACPI_GPE0_PORT, PLATFORM_ACPI_GPE0_LEN);
	ck_assert_uint_eq(rd64(f + 232 + 4), 0); /* X_GPE1_BLK */
}
END_TEST

struct madt_seen {
	unsigned int lapics;
	uint8_t apic_ids[256];
	unsigned int ioapics;
	unsigned int nmis;
	int gsi_of_irq0, gsi_of_irq9;
	uint16_t flags_irq0, flags_irq9;
};

static void madt_entry(struct madt_seen *s, const uint8_t *e)
{
	switch (e[0]) {
	case 0: /* Processor Local APIC */
		ck_assert_uint_eq(e[1], 8);
		ck_assert_uint_eq(rd32(e + 4) & 1, 1);
		s->apic_ids[e[3]]++;
		s->lapics++;
		break;
	case 1: /* I/O APIC */
		ck_assert_uint_eq(e[1], 12);
		ck_assert_uint_eq(e[2], PLATFORM_IOAPIC_ID);
		ck_assert_uint_eq(rd32(e + 4), PLATFORM_IOAPIC_ADDR);
		ck_assert_uint_eq(rd32(e + 8), 0);
		s->ioapics++;
		break;
	case 2: /* Interrupt Source Override */
		ck_assert_uint_eq(e[1], 10);
		ck_assert_uint_eq(e[2], 0); /* ISA */
		if (e[3] == 0) {
			s->gsi_of_irq0 = rd32(e + 4);
			s->flags_irq0 = rd16(e + 8);
		} else if (e[3] == 9) {
			s->gsi_of_irq9 = rd32(e + 4);
			s->flags_irq9 = rd16(e + 8);
		}
		break;
	case 4: /* Local APIC NMI */
		ck_assert_uint_eq(e[1], 6);
		ck_assert_uint_eq(e[2], 0xff);
		ck_assert_uint_eq(e[5], 1); /* LINT1 */
		s->nmis++;
		break;
	default:
		ck_abort_msg("unexpected MADT entry type %u", e[0]);
	}
}

static void check_madt(unsigned int ncpus)
{
	struct madt_seen s = { .gsi_of_irq0 = -1, .gsi_of_irq9 = -1 };
	const uint8_t *m, *e, *end;

	build(ncpus);
	m = madt();
	ck_assert_uint_eq(rd32(m + 36), PLATFORM_LAPIC_ADDR);
	ck_assert_uint_eq(rd32(m + 40) & 1, 1); /* PCAT_COMPAT: there are 8259s to mask */
	end = m + rd32(m + 4);
	for (e = m + 44; e < end; e += e[1]) {
		ck_assert_uint_ge(e[1], 2);
		ck_assert(e + e[1] <= end);
		madt_entry(&s, e);
	}
	ck_assert_ptr_eq(e, end);
	ck_assert_uint_eq(s.lapics, ncpus);
	for (unsigned int i = 0; i < 256; i++)
		ck_assert_uint_eq(s.apic_ids[i], i < ncpus);
	ck_assert_uint_eq(s.ioapics, 1);
	ck_assert_uint_eq(s.nmis, 1);
	ck_assert_int_eq(s.gsi_of_irq0, 2);
	ck_assert_uint_eq(s.flags_irq0, 0);
	ck_assert_int_eq(s.gsi_of_irq9, 9);
	ck_assert_uint_eq(s.flags_irq9, 0xd); /* active high, level-triggered */
}

START_TEST(test_madt)
{
	static const unsigned int counts[] = { 1, 2, 3, 4, 8, 64, 254, 255 };

	check_madt(counts[_i]);
}
END_TEST

static const uint8_t *find_bytes(const uint8_t *hay, size_t len, const uint8_t *needle, size_t nlen)
{
	return memmem(hay, len, needle, nlen);
}

/* Decode a PkgLength; returns its value and sets *n to its byte count. */
static size_t pkglength(const uint8_t *p, size_t *n)
{
	size_t v;

	*n = (p[0] >> 6) + 1;
	if (*n == 1)
		return p[0] & 0x3f;
	v = p[0] & 0x0f;
	for (size_t i = 1; i < *n; i++)
		v |= (size_t)p[i] << (4 + 8 * (i - 1));
	return v;
}

#define S5 PLATFORM_ACPI_S5_SLP_TYP
#define COM1_LO (PLATFORM_COM1_PORT & 0xff)
#define COM1_HI (PLATFORM_COM1_PORT >> 8)
#define IRQ_MASK (1 << PLATFORM_COM1_IRQ)

START_TEST(test_dsdt_s5_and_com1)
{
	/* Name (\_S5, Package (0x04) { SLP_TYP, SLP_TYP, Zero, Zero }) */
	static const uint8_t s5[] = { 0x08, '\\', '_', 'S',  '5', '_',	0x12, 0x08,
				      0x04, 0x0a, S5,  0x0a, S5,  0x00, 0x00 };
	static const uint8_t hid[] = { 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x05, 0x01 };
	static const uint8_t sta[] = { 0x08, '_', 'S', 'T', 'A', 0x0a, 0x0f };
	/* IO (Decode16, COM1, COM1, 1, 8), IRQNoFlags () { COM1_IRQ }, End Tag */
	static const uint8_t crs[] = { 0x47, 0x01, COM1_LO,  COM1_HI, COM1_LO, COM1_HI, 0x01,
				       0x08, 0x22, IRQ_MASK, 0x00,    0x79,    0x00 };
	static const uint8_t dev[] = { 0x5b, 0x82 };
	const uint8_t *d, *aml, *com1, *p;
	size_t len, n, v;

	_Static_assert(PLATFORM_ACPI_S5_SLP_TYP > 1 && PLATFORM_ACPI_S5_SLP_TYP < 8, "SLP_TYP");
	_Static_assert(PLATFORM_COM1_IRQ < 8, "IRQ mask in the low byte");
	build(1);
	d = dsdt();
	ck_assert_uint_eq(d[8], 2); /* 64-bit AML integers */
	len = rd32(d + 4) - HDR_LEN;
	aml = d + HDR_LEN;

	/* The first term is \_S5, then a Scope whose PkgLength ends exactly at the table end. */
	ck_assert_mem_eq(aml, s5, sizeof(s5));
	ck_assert_uint_eq(aml[sizeof(s5)], 0x10);
	v = pkglength(aml + sizeof(s5) + 1, &n);
	ck_assert_uint_eq(sizeof(s5) + 1 + v, len);

	p = find_bytes(aml, len, dev, sizeof(dev));
	ck_assert_ptr_nonnull(p);
	v = pkglength(p + 2, &n);
	com1 = p + 2 + n;
	ck_assert_mem_eq(com1, "COM1", 4);
	ck_assert(p + 2 + v <= aml + len);
	ck_assert_ptr_nonnull(find_bytes(com1, v, hid, sizeof(hid)));
	ck_assert_ptr_nonnull(find_bytes(com1, v, sta, sizeof(sta)));
	ck_assert_ptr_nonnull(find_bytes(com1, v, crs, sizeof(crs)));
}
END_TEST

START_TEST(test_mcfg)
{
	const uint8_t *m;

	build(1);
	m = find_table("MCFG");
	ck_assert_uint_eq(rd32(m + 4), 44 + 16); /* header, reserved, one allocation */
	ck_assert_uint_eq(m[8], 1);
	ck_assert_uint_eq(sum(m, rd32(m + 4)), 0);
	ck_assert_uint_eq(rd64(m + 36), 0);			  /* reserved */
	ck_assert_uint_eq(rd64(m + 44), PLATFORM_PCI_ECAM_START); /* base address */
	ck_assert_uint_eq(rd16(m + 52), 0);			  /* segment */
	ck_assert_uint_eq(m[54], 0);				  /* start bus */
	ck_assert_uint_eq(m[55], 0);				  /* end bus: 1 MiB of ECAM */
	ck_assert_uint_eq(rd32(m + 56), 0);
	ck_assert_uint_eq(PLATFORM_PCI_ECAM_SIZE, 1u << 20);
}
END_TEST

/* The body of Device (name) directly under \_SB, and its length. */
static const uint8_t *dsdt_device(const char *name, size_t *body_len)
{
	const uint8_t *d = dsdt(), *aml = d + HDR_LEN, *end = d + rd32(d + 4), *found = NULL;
	size_t n, v;

	for (const uint8_t *p = aml; p + 7 <= end; p++) {
		if (p[0] != 0x5b || p[1] != 0x82)
			continue;
		v = pkglength(p + 2, &n);
		if (p + 2 + n + 4 > end || memcmp(p + 2 + n, name, 4))
			continue;
		ck_assert_msg(!found, "two devices %s", name);
		ck_assert(p + 2 + v <= end);
		found = p + 2 + n + 4;
		*body_len = v - n - 4;
	}
	ck_assert_msg(found, "no device %s", name);
	return found;
}

/* What Name (name, ...) in this body names: a pointer to the data object. */
static const uint8_t *named(const uint8_t *body, size_t len, const char *name)
{
	const uint8_t hdr[5] = { 0x08, name[0], name[1], name[2], name[3] };
	const uint8_t *p = find_bytes(body, len, hdr, sizeof(hdr));

	ck_assert_msg(p, "no Name %s", name);
	ck_assert_ptr_null(find_bytes(p + 1, body + len - p - 1, hdr, sizeof(hdr)));
	return p + sizeof(hdr);
}

/* Decode an AML integer (Zero, One, Byte/Word/DWord/QWord constant); advances *p. */
static uint64_t aml_int(const uint8_t **p)
{
	const uint8_t *q = *p;
	unsigned int n;
	uint64_t v = 0;

	switch (q[0]) {
	case 0x00:
	case 0x01:
		*p = q + 1;
		return q[0];
	case 0x0a:
		n = 1;
		break;
	case 0x0b:
		n = 2;
		break;
	case 0x0c:
		n = 4;
		break;
	case 0x0e:
		n = 8;
		break;
	default:
		ck_abort_msg("not an integer: opcode 0x%02x", q[0]);
	}
	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)q[1 + i] << (8 * i);
	*p = q + 1 + n;
	return v;
}

/* The bytes of a Buffer (a ResourceTemplate) at p. */
static const uint8_t *buffer_bytes(const uint8_t *p, size_t *len)
{
	size_t n, v;
	const uint8_t *q;

	ck_assert_uint_eq(p[0], 0x11);
	v = pkglength(p + 1, &n);
	q = p + 1 + n;
	*len = aml_int(&q);
	ck_assert_uint_eq((size_t)(q - (p + 1)) + *len, v);
	return q;
}

static size_t put_le(uint8_t *p, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		p[i] = v >> (8 * i);
	return n;
}

/* An address space descriptor (ACPI 6.4.3.5), width 2, 4 or 8 bytes per field. */
static size_t addr_desc(uint8_t *p, unsigned int width, uint8_t type, uint8_t flags,
			uint8_t type_flags, uint64_t min, uint64_t max)
{
	static const uint8_t tags[9] = { [2] = 0x88, [4] = 0x87, [8] = 0x8a };
	size_t n = 0;

	p[n++] = tags[width];
	n += put_le(p + n, 3 + 5 * width, 2);
	p[n++] = type;
	p[n++] = flags;
	p[n++] = type_flags;
	n += put_le(p + n, 0, width); /* granularity */
	n += put_le(p + n, min, width);
	n += put_le(p + n, max, width);
	n += put_le(p + n, 0, width); /* translation */
	n += put_le(p + n, max - min + 1, width);
	return n;
}

#define FIXED 0x0c    /* MinFixed, MaxFixed, ResourceProducer, PosDecode */
#define CONSUMER 0x01 /* ResourceConsumer */

/* The root bridge's _CRS, written out from the ACPI specification's descriptor layouts. */
static size_t expected_pci0_crs(uint8_t *p, bool window64)
{
	size_t n = 0;

	n += addr_desc(p + n, 2, 2, FIXED, 0, 0, 0); /* WordBusNumber 0-0 */
	p[n++] = 0x47;				     /* IO (Decode16, 0xCF8, 0xCF8, 1, 8) */
	p[n++] = 0x01;
	n += put_le(p + n, 0xcf8, 2);
	n += put_le(p + n, 0xcf8, 2);
	p[n++] = 1;
	p[n++] = 8;
	n += addr_desc(p + n, 2, 1, FIXED, 3, 0x0000, 0x0cf7); /* WordIO, EntireRange */
	n += addr_desc(p + n, 2, 1, FIXED, 3, 0x0d00, 0xffff);
	/* DWordMemory, ReadWrite, NonCacheable */
	n += addr_desc(p + n, 4, 0, FIXED, 1, PLATFORM_PCI_MMIO32_START,
		       PLATFORM_PCI_MMIO32_START + PLATFORM_PCI_MMIO32_SIZE - 1);
	if (window64)
		n += addr_desc(p + n, 8, 0, FIXED, 1, MMIO64_BASE, MMIO64_BASE + MMIO64_SIZE - 1);
	p[n++] = 0x79; /* End Tag */
	p[n++] = 0x00;
	return n;
}

static void check_pci0_ids(const uint8_t *body, size_t len)
{
	static const uint8_t pnp0a08[] = { 0x0c, 0x41, 0xd0, 0x0a, 0x08 };
	static const uint8_t pnp0a03[] = { 0x0c, 0x41, 0xd0, 0x0a, 0x03 };

	ck_assert_mem_eq(named(body, len, "_HID"), pnp0a08, sizeof(pnp0a08));
	ck_assert_mem_eq(named(body, len, "_CID"), pnp0a03, sizeof(pnp0a03));
	ck_assert_uint_eq(named(body, len, "_SEG")[0], 0x00); /* Zero */
	ck_assert_uint_eq(named(body, len, "_BBN")[0], 0x00);
	ck_assert_uint_eq(named(body, len, "_UID")[0], 0x00);
}

START_TEST(test_dsdt_pci0)
{
	struct acpi_config cfg = { .ncpus = 1 };
	uint8_t want[256];
	const uint8_t *body, *crs;
	size_t len, crs_len, want_len;

	for (int window64 = 0; window64 <= 1; window64++) {
		cfg.pci_mmio64_base = window64 ? MMIO64_BASE : 0x123456789000ull;
		cfg.pci_mmio64_size = window64 ? MMIO64_SIZE : 0;
		build_cfg(&cfg);
		body = dsdt_device("PCI0", &len);
		check_pci0_ids(body, len);
		crs = buffer_bytes(named(body, len, "_CRS"), &crs_len);
		want_len = expected_pci0_crs(want, window64);
		ck_assert_uint_eq(crs_len, want_len);
		ck_assert_mem_eq(crs, want, want_len);
	}
}
END_TEST

/* Every slot and pin, in order: { slot << 16 | 0xFFFF, pin, Zero, 16 + (slot + pin) % 4 }. */
START_TEST(test_dsdt_pci0_prt)
{
	const uint8_t *body, *p, *end, *entry_end;
	size_t len, n, v;

	build(2);
	body = dsdt_device("PCI0", &len);
	p = named(body, len, "_PRT");
	ck_assert_uint_eq(p[0], 0x12); /* Package */
	v = pkglength(p + 1, &n);
	end = p + 1 + v;
	ck_assert(end <= body + len);
	p += 1 + n;
	ck_assert_uint_eq(*p++, 128); /* NumElements: 32 slots x 4 pins */
	for (unsigned int slot = 0; slot < 32; slot++) {
		for (unsigned int pin = 0; pin < 4; pin++) {
			ck_assert_uint_eq(p[0], 0x12);
			v = pkglength(p + 1, &n);
			entry_end = p + 1 + v;
			p += 1 + n;
			ck_assert_uint_eq(*p++, 4);
			ck_assert_uint_eq(aml_int(&p), (uint64_t)slot << 16 | 0xffff);
			ck_assert_uint_eq(aml_int(&p), pin);
			ck_assert_uint_eq(*p++, 0x00); /* Zero: a GSI, not a link device */
			ck_assert_uint_eq(aml_int(&p),
					  PLATFORM_PCI_INTX_GSI_BASE + (slot + pin) % 4);
			ck_assert_ptr_eq(p, entry_end);
		}
	}
	ck_assert_ptr_eq(p, end);
	/* The IOAPIC has the inputs: GSIs 16-19 exist on its 24 pins. */
	ck_assert_uint_le(PLATFORM_PCI_INTX_GSI_BASE + 4, 24);
}
END_TEST

/* The ECAM is reserved as a motherboard resource, so Linux trusts the MCFG. */
START_TEST(test_dsdt_ecam_reserved)
{
	static const uint8_t pnp0c02[] = { 0x0c, 0x41, 0xd0, 0x0c, 0x02 };
	uint8_t want[64];
	const uint8_t *body, *crs;
	size_t len, crs_len, want_len = 0;

	build(1);
	body = dsdt_device("MRES", &len);
	ck_assert_mem_eq(named(body, len, "_HID"), pnp0c02, sizeof(pnp0c02));
	crs = buffer_bytes(named(body, len, "_CRS"), &crs_len);
	/* DWordMemory (ResourceConsumer, PosDecode, MinFixed, MaxFixed, NonCacheable, RW) */
	want_len += addr_desc(want, 4, 0, FIXED | CONSUMER, 1, PLATFORM_PCI_ECAM_START,
			      PLATFORM_PCI_ECAM_START + PLATFORM_PCI_ECAM_SIZE - 1);
	want[want_len++] = 0x79;
	want[want_len++] = 0x00;
	ck_assert_uint_eq(crs_len, want_len);
	ck_assert_mem_eq(crs, want, want_len);
}
END_TEST

static void build_vmgenid(uint64_t addr)
{
	struct acpi_config cfg = {
		.ncpus = 2,
		.pci_mmio64_base = MMIO64_BASE,
		.pci_mmio64_size = MMIO64_SIZE,
		.vmgenid_addr = addr,
	};

	build_cfg(&cfg);
}

/* A String data object: StringPrefix, the characters, NUL. */
static void check_string(const uint8_t *p, const char *want)
{
	ck_assert_uint_eq(p[0], 0x0d);
	ck_assert_str_eq((const char *)p + 1, want);
}

/*
 * Device (VGEN) under \_SB, as Linux 6.1's vmgenid driver reads it: the compatible ID
 * VM_GEN_COUNTER, and ADDR, a Package of two Integers, the low and high 32 bits.
 */
START_TEST(test_dsdt_vmgenid)
{
	static const uint64_t addrs[] = { PLATFORM_VMGENID_ADDR, 0x123456000ull };
	const uint8_t *body, *p;
	size_t len, n, v;

	for (unsigned int i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		build_vmgenid(addrs[i]);
		body = dsdt_device("VGEN", &len);
		check_string(named(body, len, "_HID"), "MVMMVGID");
		check_string(named(body, len, "_CID"), "VM_GEN_COUNTER");
		check_string(named(body, len, "_DDN"), "VM_GEN_COUNTER");
		ck_assert_uint_eq(named(body, len, "_STA")[1], 0x0f);
		p = named(body, len, "ADDR");
		ck_assert_uint_eq(p[0], 0x12); /* Package */
		v = pkglength(p + 1, &n);
		ck_assert_uint_eq(p[1 + n], 2); /* NumElements */
		p += 2 + n;
		ck_assert_uint_eq(aml_int(&p), addrs[i] & 0xffffffffu);
		ck_assert_uint_eq(aml_int(&p), addrs[i] >> 32);
		(void)v;
	}
}
END_TEST

/*
 * The event that tells the driver: Scope (\_GPE) { Method (_E00) { Notify (\_SB.VGEN,
 * 0x80) } }, the last thing in the DSDT, byte for byte.
 */
START_TEST(test_dsdt_gpe_notifies_vmgenid)
{
	static const uint8_t want[] = {
		0x10, 0x1a, '\\', '_', 'G', 'P', 'E',			   /* Scope (\_GPE) */
		0x14, 0x13, '_',  'E', '0', '0', 0x00,			   /* Method (_E00, 0) */
		0x86, '\\', 0x2e, '_', 'S', 'B', '_',  'V', 'G', 'E', 'N', /* Notify */
		0x0a, 0x80,
	};
	const uint8_t *d;
	size_t len;

	_Static_assert(PLATFORM_ACPI_GPE_VMGENID == 0, "the method's name is _E00");
	build_vmgenid(PLATFORM_VMGENID_ADDR);
	d = dsdt();
	len = rd32(d + 4);
	ck_assert_uint_ge(len, HDR_LEN + sizeof(want));
	ck_assert_mem_eq(d + len - sizeof(want), want, sizeof(want));
}
END_TEST

/* --vmgenid off: neither the device nor the GPE method. */
START_TEST(test_dsdt_without_vmgenid)
{
	const uint8_t *d;

	build(2);
	d = dsdt();
	ck_assert_ptr_null(find_bytes(d, rd32(d + 4), (const uint8_t *)"VGEN", 4));
	ck_assert_ptr_null(find_bytes(d, rd32(d + 4), (const uint8_t *)"_GPE", 4));
}
END_TEST

/* The tables' area ends where the generation ID's page begins; SMBIOS follows it. */
START_TEST(test_vmgenid_page_apart)
{
	_Static_assert(PLATFORM_ACPI_END <= PLATFORM_VMGENID_ADDR, "tables below the ID");
	_Static_assert(PLATFORM_VMGENID_ADDR + PLATFORM_VMGENID_LEN <= PLATFORM_SMBIOS_START,
		       "the ID below SMBIOS");
	_Static_assert(PLATFORM_VMGENID_ADDR % 8 == 0, "the spec asks for 8-byte alignment");
	build_vmgenid(PLATFORM_VMGENID_ADDR);
	ck_assert_uint_le(GPA + used, PLATFORM_VMGENID_ADDR);
}
END_TEST

START_TEST(test_too_small_buffer)
{
	struct acpi_config cfg = {
		.ncpus = 4,
		.pci_mmio64_base = MMIO64_BASE,
		.pci_mmio64_size = MMIO64_SIZE,
	};
	ssize_t full, got;
	size_t i;

	build_cfg(&cfg);
	full = used;
	for (size_t size = 0; size < (size_t)full; size++) {
		memset(area, GUARD, full + 64);
		got = acpi_build(area, size, GPA, &cfg);
		ck_assert_int_eq(got, -ENOSPC);
		for (i = size; i < (size_t)full + 64 && area[i] == GUARD; i++)
			;
		ck_assert_msg(i == (size_t)full + 64, "size %zu: byte %zu written", size, i);
	}
	ck_assert_int_eq(acpi_build(area, full, GPA, &cfg), full);
}
END_TEST

START_TEST(test_bad_config)
{
	struct acpi_config cfg = { .ncpus = 0 };

	ck_assert_int_eq(acpi_build(area, sizeof(area), GPA, &cfg), -EINVAL);
	cfg.ncpus = 256;
	ck_assert_int_eq(acpi_build(area, sizeof(area), GPA, &cfg), -EINVAL);
	ck_assert_int_eq(acpi_build(area, sizeof(area), GPA, NULL), -EINVAL);
	cfg.ncpus = 1;
	ck_assert_int_eq(acpi_build(area, sizeof(area), GPA + 4, &cfg), -EINVAL);
	/* A 64-bit PCI window that wraps around the top of the address space. */
	cfg.pci_mmio64_base = UINT64_MAX - 0xfff;
	cfg.pci_mmio64_size = 0x2000;
	ck_assert_int_eq(acpi_build(area, sizeof(area), GPA, &cfg), -EINVAL);
	cfg.pci_mmio64_size = 0x1000; /* ends exactly at the top: fine */
	ck_assert_int_gt(acpi_build(area, sizeof(area), GPA, &cfg), 0);
	ck_assert_int_eq(acpi_build(area, sizeof(area), 1ull << 32, &cfg), -EINVAL);
}
END_TEST

/* Pointers between tables are guest-physical: built elsewhere, they move with gpa. */
START_TEST(test_addresses_follow_gpa)
{
	struct acpi_config cfg = {
		.ncpus = 2,
		.pci_mmio64_base = MMIO64_BASE,
		.pci_mmio64_size = MMIO64_SIZE,
	};
	uint8_t *other = malloc(AREA);
	uint64_t gpa = 0x80000;

	ck_assert_ptr_nonnull(other);
	build(2);
	ck_assert_int_eq(acpi_build(other, AREA, gpa, &cfg), used);
	ck_assert_uint_eq(rd64(other + 24) - gpa, rd64(rsdp() + 24) - GPA);
	ck_assert_uint_eq(sum(other, 36), 0);
	free(other);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("acpi");
	TCase *tc = tcase_create("tables");

	tcase_add_test(tc, test_rsdp);
	tcase_add_loop_test(tc, test_every_checksum, 1, 9);
	tcase_add_test(tc, test_xsdt_lists_fadt_madt_mcfg);
	tcase_add_test(tc, test_fadt_fixed_hardware);
	tcase_add_loop_test(tc, test_madt, 0, 8);
	tcase_add_test(tc, test_dsdt_s5_and_com1);
	tcase_add_test(tc, test_mcfg);
	tcase_add_test(tc, test_dsdt_pci0);
	tcase_add_test(tc, test_dsdt_pci0_prt);
	tcase_add_test(tc, test_dsdt_ecam_reserved);
	tcase_add_test(tc, test_dsdt_vmgenid);
	tcase_add_test(tc, test_dsdt_gpe_notifies_vmgenid);
	tcase_add_test(tc, test_dsdt_without_vmgenid);
	tcase_add_test(tc, test_vmgenid_page_apart);
	tcase_add_test(tc, test_too_small_buffer);
	tcase_add_test(tc, test_bad_config);
	tcase_add_test(tc, test_addresses_follow_gpa);
	suite_add_tcase(s, tc);
	return s;
}
