/* SPDX-License-Identifier: MIT */
/* ACPI PM1 and GPE0 / reset register, i8042 reset, POST and boot-marker ports, through the bus. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "devices/bus.h"
#include "devices/platform.h"
#include "devices/x86/power.h"

#define SLP_TYP(x) ((uint16_t)((x) << 10))
#define SLP_EN ((uint16_t)(1u << 13))
#define SCI_EN 0x0001

static struct bus pio;
static struct power_devices power;
static unsigned int poweroffs, resets, sci_changes;
static int sci_level;
static void *last_ctx;
static int ctx_token;

static void on_poweroff(void *ctx)
{
	poweroffs++;
	last_ctx = ctx;
}

static void on_reset(void *ctx)
{
	resets++;
	last_ctx = ctx;
}

static void on_sci(void *ctx, int level)
{
	sci_changes++;
	sci_level = level;
	last_ctx = ctx;
}

static void setup(void)
{
	struct power_events events = {
		.poweroff = on_poweroff, .reset = on_reset, .sci = on_sci, .ctx = &ctx_token
	};
	struct timespec start;

	poweroffs = resets = sci_changes = 0;
	sci_level = 0;
	last_ctx = NULL;
	clock_gettime(CLOCK_MONOTONIC, &start);
	bus_init(&pio, "pio");
	power_init(&power, &events, &start);
	ck_assert_int_eq(power_register(&power, &pio), 0);
}

static void write16(uint64_t port, uint16_t v)
{
	ck_assert(bus_write(&pio, port, &v, 2));
}

static void write8(uint64_t port, uint8_t v)
{
	ck_assert(bus_write(&pio, port, &v, 1));
}

static uint16_t read16(uint64_t port)
{
	uint16_t v;

	ck_assert(bus_read(&pio, port, &v, 2));
	return v;
}

static uint8_t read8(uint64_t port)
{
	uint8_t v;

	ck_assert(bus_read(&pio, port, &v, 1));
	return v;
}

START_TEST(test_s5_powers_off)
{
	write16(PLATFORM_ACPI_PM1A_CNT_PORT, SLP_TYP(5) | SLP_EN);
	ck_assert_uint_eq(poweroffs, 1);
	ck_assert_uint_eq(resets, 0);
	ck_assert_ptr_eq(last_ctx, &ctx_token);
}
END_TEST

START_TEST(test_other_sleep_states_ignored)
{
	for (unsigned int typ = 0; typ < 8; typ++) {
		if (typ == PLATFORM_ACPI_S5_SLP_TYP)
			continue;
		write16(PLATFORM_ACPI_PM1A_CNT_PORT, SLP_TYP(typ) | SLP_EN);
	}
	/* S5 without SLP_EN only sets the type */
	write16(PLATFORM_ACPI_PM1A_CNT_PORT, SLP_TYP(5));
	ck_assert_uint_eq(poweroffs, 0);
	ck_assert_uint_eq(resets, 0);

	/* a byte write of the high half cannot carry the whole request */
	write8(PLATFORM_ACPI_PM1A_CNT_PORT + 1, (SLP_TYP(5) | SLP_EN) >> 8);
	ck_assert_uint_eq(poweroffs, 0);
}
END_TEST

START_TEST(test_pm1_control_reads_sci_en)
{
	ck_assert_uint_ne(read16(PLATFORM_ACPI_PM1A_CNT_PORT) & SCI_EN, 0);
	ck_assert_uint_ne(read8(PLATFORM_ACPI_PM1A_CNT_PORT) & SCI_EN, 0);

	/* the guest clearing SCI_EN does not leave ACPI mode; SLP_EN never reads back */
	write16(PLATFORM_ACPI_PM1A_CNT_PORT, SLP_TYP(3) | SLP_EN);
	ck_assert_uint_eq(read16(PLATFORM_ACPI_PM1A_CNT_PORT), SLP_TYP(3) | SCI_EN);
	ck_assert_uint_eq(read8(PLATFORM_ACPI_PM1A_CNT_PORT + 1), SLP_TYP(3) >> 8);
	ck_assert_uint_eq(poweroffs, 0);
}
END_TEST

START_TEST(test_reset_register)
{
	write8(PLATFORM_ACPI_RESET_PORT, 0x00);
	write8(PLATFORM_ACPI_RESET_PORT, 0x06);
	ck_assert_uint_eq(resets, 0);
	write8(PLATFORM_ACPI_RESET_PORT, PLATFORM_ACPI_RESET_VALUE);
	ck_assert_uint_eq(resets, 1);
	ck_assert_uint_eq(poweroffs, 0);
	ck_assert_ptr_eq(last_ctx, &ctx_token);
	ck_assert_uint_eq(read8(PLATFORM_ACPI_RESET_PORT), 0);
}
END_TEST

START_TEST(test_i8042_reset)
{
	/* reboot=k waits for the input buffer to be empty, then sends 0xfe */
	ck_assert_uint_eq(read8(PLATFORM_I8042_CMD_PORT), 0);
	ck_assert_uint_eq(read8(PLATFORM_I8042_DATA_PORT), 0);
	write8(PLATFORM_I8042_CMD_PORT, 0xad);
	write8(PLATFORM_I8042_DATA_PORT, 0xfe); /* data, not a command */
	ck_assert_uint_eq(resets, 0);
	write8(PLATFORM_I8042_CMD_PORT, 0xfe);
	ck_assert_uint_eq(resets, 1);
	ck_assert_uint_eq(poweroffs, 0);
	ck_assert_ptr_eq(last_ctx, &ctx_token);
}
END_TEST

START_TEST(test_pm1_status_write_one_to_clear)
{
	uint32_t both;

	power.pm1_status = 0x8101; /* as if wake, power-button and timer events were latched */
	ck_assert_uint_eq(read16(PLATFORM_ACPI_PM1A_EVT_PORT), 0x8101);

	/* writing 0 changes nothing; writing 1 clears only that bit */
	write16(PLATFORM_ACPI_PM1A_EVT_PORT, 0);
	ck_assert_uint_eq(read16(PLATFORM_ACPI_PM1A_EVT_PORT), 0x8101);
	write16(PLATFORM_ACPI_PM1A_EVT_PORT, 0x0100);
	ck_assert_uint_eq(read16(PLATFORM_ACPI_PM1A_EVT_PORT), 0x8001);
	write8(PLATFORM_ACPI_PM1A_EVT_PORT + 1, 0x80);
	ck_assert_uint_eq(read16(PLATFORM_ACPI_PM1A_EVT_PORT), 0x0001);

	/* the enable register beside it is plain read/write */
	write16(PLATFORM_ACPI_PM1A_EVT_PORT + 2, 0x0120);
	ck_assert_uint_eq(read16(PLATFORM_ACPI_PM1A_EVT_PORT + 2), 0x0120);
	ck_assert_uint_eq(read16(PLATFORM_ACPI_PM1A_EVT_PORT), 0x0001);

	/* one 32-bit access covers both */
	ck_assert(bus_read(&pio, PLATFORM_ACPI_PM1A_EVT_PORT, &both, 4));
	ck_assert_uint_eq(both, 0x01200001);
	both = 0x00410001;
	ck_assert(bus_write(&pio, PLATFORM_ACPI_PM1A_EVT_PORT, &both, 4));
	ck_assert_uint_eq(read16(PLATFORM_ACPI_PM1A_EVT_PORT), 0);
	ck_assert_uint_eq(read16(PLATFORM_ACPI_PM1A_EVT_PORT + 2), 0x0041);
	ck_assert_uint_eq(poweroffs + resets, 0);
}
END_TEST

/* vm.power-button: PWRBTN_STS latches; the SCI is high while it is set and enabled */
START_TEST(test_power_button)
{
	/* not enabled yet: the status latches, the line stays low */
	power_button_press(&power);
	ck_assert_uint_eq(read16(PLATFORM_ACPI_PM1A_EVT_PORT) & 0x0100, 0x0100);
	ck_assert_uint_eq(sci_changes, 0);
	/* the guest enables PWRBTN_EN: the pending press raises the SCI at once */
	write16(PLATFORM_ACPI_PM1A_EVT_PORT + 2, 0x0100);
	ck_assert_uint_eq(sci_changes, 1);
	ck_assert_int_eq(sci_level, 1);
	ck_assert_ptr_eq(last_ctx, &ctx_token);
	/* its handler clears the status: the line drops */
	write16(PLATFORM_ACPI_PM1A_EVT_PORT, 0x0100);
	ck_assert_uint_eq(read16(PLATFORM_ACPI_PM1A_EVT_PORT) & 0x0100, 0);
	ck_assert_int_eq(sci_level, 0);
	/* a second press raises it again; a press while it is high changes nothing */
	power_button_press(&power);
	power_button_press(&power);
	ck_assert_int_eq(sci_level, 1);
	ck_assert_uint_eq(sci_changes, 3);
	ck_assert_uint_eq(poweroffs + resets, 0);
}
END_TEST

#define GPE0_STS PLATFORM_ACPI_GPE0_PORT
#define GPE0_EN (PLATFORM_ACPI_GPE0_PORT + PLATFORM_ACPI_GPE0_LEN / 2)
#define GPE_BIT(n) ((uint8_t)(1u << (n)))

/* What the VM generation ID's restore does: a GPE, seen once the guest enabled it. */
START_TEST(test_gpe_raises_sci)
{
	_Static_assert(PLATFORM_ACPI_GPE0_LEN == 2, "one status byte, one enable byte");
	power_gpe_raise(&power, PLATFORM_ACPI_GPE_VMGENID);
	ck_assert_uint_eq(read8(GPE0_STS), GPE_BIT(PLATFORM_ACPI_GPE_VMGENID));
	ck_assert_uint_eq(sci_changes, 0);
	/* the OS enables it (a byte write, as ACPICA does): the pending event raises the SCI */
	write8(GPE0_EN, GPE_BIT(PLATFORM_ACPI_GPE_VMGENID));
	ck_assert_uint_eq(read8(GPE0_EN), GPE_BIT(PLATFORM_ACPI_GPE_VMGENID));
	ck_assert_int_eq(sci_level, 1);
	ck_assert_uint_eq(sci_changes, 1);
	/* writing 0 changes nothing; writing 1 clears the status and drops the line */
	write8(GPE0_STS, 0);
	ck_assert_int_eq(sci_level, 1);
	write8(GPE0_STS, GPE_BIT(PLATFORM_ACPI_GPE_VMGENID));
	ck_assert_uint_eq(read8(GPE0_STS), 0);
	ck_assert_int_eq(sci_level, 0);
	/* a 16-bit access covers both bytes */
	power_gpe_raise(&power, 3);
	ck_assert_int_eq(sci_level, 0); /* GPE 3 is not enabled */
	ck_assert_uint_eq(read16(GPE0_STS), (uint16_t)(GPE_BIT(3) | GPE_BIT(0) << 8));
	write16(GPE0_STS, (uint16_t)(GPE_BIT(3) | GPE_BIT(3) << 8));
	ck_assert_uint_eq(read16(GPE0_STS), (uint16_t)(GPE_BIT(3) << 8));
	ck_assert_int_eq(sci_level, 0);
	/* a GPE past the block is ignored */
	power_gpe_raise(&power, 8);
	ck_assert_uint_eq(read8(GPE0_STS), 0);
	ck_assert_uint_eq(poweroffs + resets, 0);
}
END_TEST

/* PM1 and GPE0 go through a snapshot; the SCI follows from what was restored. */
START_TEST(test_save_restore_gpe)
{
	struct power_state st;
	struct power_devices other;
	struct power_events events = { .poweroff = on_poweroff, .reset = on_reset, .sci = on_sci };
	struct timespec start = { 0 };

	write8(GPE0_EN, GPE_BIT(0));
	write16(PLATFORM_ACPI_PM1A_EVT_PORT + 2, 0x0100);
	power_save(&power, &st);
	ck_assert_uint_eq(st.gpe0_enable, GPE_BIT(0));
	ck_assert_uint_eq(st.gpe0_status, 0);
	ck_assert_uint_eq(st.pm1_enable, 0x0100);
	ck_assert_uint_eq(sizeof(st), 8); /* the section's size did not change */

	power_init(&other, &events, &start);
	sci_changes = 0;
	power_restore(&other, &st);
	ck_assert_uint_eq(other.gpe0_enable, GPE_BIT(0));
	ck_assert_uint_eq(sci_changes, 0);
	/* a restored VM's new generation ID: the line rises at once */
	power_gpe_raise(&other, PLATFORM_ACPI_GPE_VMGENID);
	ck_assert_int_eq(sci_level, 1);
	/* a snapshot that had the event pending and enabled restores with the line high */
	st.gpe0_status = GPE_BIT(0);
	sci_level = 0;
	power_init(&other, &events, &start);
	power_restore(&other, &st);
	ck_assert_int_eq(sci_level, 1);
}
END_TEST

START_TEST(test_boot_marker_and_post)
{
	FILE *log = tmpfile();
	char line[128] = "";

	/* markers are logged to stderr: catch it in a file */
	ck_assert_ptr_nonnull(log);
	fflush(stderr);
	ck_assert_int_eq(dup2(fileno(log), STDERR_FILENO), STDERR_FILENO);
	write8(PLATFORM_BOOT_MARKER_PORT, 0x2a);
	fflush(stderr);
	rewind(log);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), log));
	ck_assert_msg(strstr(line, "0x2a") != NULL, "marker log line: %s", line);
	ck_assert_uint_eq(power.markers_logged, 1);

	for (unsigned int i = 0; i < 100; i++)
		write8(PLATFORM_BOOT_MARKER_PORT, (uint8_t)i);
	ck_assert_uint_le(power.markers_logged, 64); /* a spinning guest cannot flood the log */
	ck_assert_uint_gt(power.markers_logged, 0);
	ck_assert_uint_eq(read8(PLATFORM_BOOT_MARKER_PORT), 0);

	write8(PLATFORM_POST_PORT, 0x42);
	write8(PLATFORM_POST_PORT, 0x43);
	ck_assert_uint_eq(power.post_writes, 2);
	ck_assert_uint_eq(read8(PLATFORM_POST_PORT), 0x43);
	ck_assert_uint_eq(poweroffs + resets, 0);
	fclose(log);
}
END_TEST

START_TEST(test_ports_claimed)
{
	/* a second registration on the same bus collides with the first */
	struct power_devices other;
	struct power_events events = { .poweroff = on_poweroff, .reset = on_reset };
	struct timespec start = { 0 };

	power_init(&other, &events, &start);
	ck_assert_int_ne(power_register(&other, &pio), 0);
	ck_assert_uint_eq(pio.unhandled, 0);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("power");
	TCase *tc = tcase_create("ports");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_s5_powers_off);
	tcase_add_test(tc, test_other_sleep_states_ignored);
	tcase_add_test(tc, test_pm1_control_reads_sci_en);
	tcase_add_test(tc, test_reset_register);
	tcase_add_test(tc, test_i8042_reset);
	tcase_add_test(tc, test_pm1_status_write_one_to_clear);
	tcase_add_test(tc, test_power_button);
	tcase_add_test(tc, test_gpe_raises_sci);
	tcase_add_test(tc, test_save_restore_gpe);
	tcase_add_test(tc, test_boot_marker_and_post);
	tcase_add_test(tc, test_ports_claimed);
	suite_add_tcase(s, tc);
	return s;
}
