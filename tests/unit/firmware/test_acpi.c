/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the ACPI tables: they are parsed back the way an OS would, from the RSDP
 * through the XSDT, using the field offsets of ACPI 6.x chapter 5.2.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "devices/platform.h"
#include "firmware/acpi.h"

#define GPA PLATFORM_ACPI_START
#define AREA (PLATFORM_ACPI_END - PLATFORM_ACPI_START)
#define GUARD 0x5a
#define HDR_LEN 36

static uint8_t area[AREA];
static ssize_t used;

static uint16_t rd16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static uint32_t rd32(const uint8_t *p)
{
	return rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

static void build(unsigned int ncpus)
{
	struct acpi_config cfg = { .ncpus = ncpus };

	memset(area, GUARD, sizeof(area));
	used = acpi_build(area, sizeof(area), GPA, &cfg);
	ck_assert_int_gt(used, 0);
	ck_assert_int_le(used, AREA);
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

START_TEST(test_xsdt_lists_fadt_and_madt)
{
	build(2);
	ck_assert_uint_eq((rd32(xsdt() + 4) - HDR_LEN) % 8, 0);
	ck_assert_uint_ge(xsdt_count(), 2);
	find_table("FACP");
	find_table("APIC");
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
	ck_assert_uint_eq(f[92], 0); /* no GPE blocks */
	ck_assert_uint_eq(f[93], 0);
	/* legacy devices, but no 8042 (so Linux does not probe one), no VGA, no CMOS RTC */
	ck_assert_uint_eq(rd16(f + 109), 0x25);

	flags = rd32(f + 112);
	ck_assert_uint_eq(flags & (1u << 20), 0); /* not hardware-reduced */
	ck_assert_uint_ne(flags & (1u << 10), 0); /* RESET_REG supported */
	ck_assert_uint_ne(flags & (1u << 4), 0);  /* no fixed power button */
	ck_assert_uint_ne(flags & (1u << 5), 0);  /* no fixed sleep button */

	check_io_gas(f + 116, PLATFORM_ACPI_RESET_PORT, 1);
	ck_assert_uint_eq(f[128], PLATFORM_ACPI_RESET_VALUE);
	check_io_gas(f + 148, PLATFORM_ACPI_PM1A_EVT_PORT, PLATFORM_ACPI_PM1A_EVT_LEN);
	check_io_gas(f + 172, PLATFORM_ACPI_PM1A_CNT_PORT, PLATFORM_ACPI_PM1A_CNT_LEN);
	ck_assert_uint_eq(rd64(f + 208 + 4), 0); /* X_PM_TMR_BLK */
	ck_assert_uint_eq(rd64(f + 220 + 4), 0); /* X_GPE0_BLK */
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

START_TEST(test_too_small_buffer)
{
	struct acpi_config cfg = { .ncpus = 4 };
	ssize_t full, got;

	build(4);
	full = used;
	for (size_t size = 0; size < (size_t)full; size++) {
		memset(area, GUARD, sizeof(area));
		got = acpi_build(area, size, GPA, &cfg);
		ck_assert_int_eq(got, -ENOSPC);
		for (size_t i = size; i < (size_t)full + 64; i++)
			ck_assert_uint_eq(area[i], GUARD);
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
	ck_assert_int_eq(acpi_build(area, sizeof(area), 1ull << 32, &cfg), -EINVAL);
}
END_TEST

/* Pointers between tables are guest-physical: built elsewhere, they move with gpa. */
START_TEST(test_addresses_follow_gpa)
{
	struct acpi_config cfg = { .ncpus = 2 };
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
	tcase_add_test(tc, test_xsdt_lists_fadt_and_madt);
	tcase_add_test(tc, test_fadt_fixed_hardware);
	tcase_add_loop_test(tc, test_madt, 0, 8);
	tcase_add_test(tc, test_dsdt_s5_and_com1);
	tcase_add_test(tc, test_too_small_buffer);
	tcase_add_test(tc, test_bad_config);
	tcase_add_test(tc, test_addresses_follow_gpa);
	suite_add_tcase(s, tc);
	return s;
}
