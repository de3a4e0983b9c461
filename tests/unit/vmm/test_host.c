/* SPDX-License-Identifier: MIT */
/*
 * Telling a host with VT-x/AMD-V from one whose KVM runs guests in its instruction
 * emulator (the start-up hint), from stand-in /proc/cpuinfo files; and the rule that
 * repeats the hint once after ten seconds without guest output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "vmm/host.h"

static char path[64];

/* Write text to a fresh temporary file standing in for /proc/cpuinfo. */
static const char *cpuinfo(const char *text)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_host.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void teardown(void)
{
	if (path[0])
		unlink(path);
	path[0] = '\0';
}

/* Two processors of an Intel host, cut short; recent kernels add a "vmx flags" line. */
static const char intel[] = "processor\t: 0\n"
			    "vendor_id\t: GenuineIntel\n"
			    "model name\t: Intel(R) Xeon(R) CPU\n"
			    "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic vmx smx est tm2\n"
			    "vmx flags\t: vnmi preemption_timer invvpid ept_x_only ept_ad\n"
			    "\n"
			    "processor\t: 1\n"
			    "vendor_id\t: GenuineIntel\n"
			    "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic vmx smx est tm2\n";

START_TEST(test_intel_vmx)
{
	ck_assert_int_eq(host_virt_from_cpuinfo(cpuinfo(intel)), HOST_VIRT_HW);
}
END_TEST

START_TEST(test_amd_svm_last_word)
{
	const char *amd = "processor\t: 0\n"
			  "vendor_id\t: AuthenticAMD\n"
			  "flags\t\t: fpu vme de pse tsc msr pae lahf_lm cmp_legacy svm\n";

	ck_assert_int_eq(host_virt_from_cpuinfo(cpuinfo(amd)), HOST_VIRT_HW);
}
END_TEST

/* What a PVM host shows: a complete flag list with "hypervisor", no vmx or svm. */
START_TEST(test_pvm_host_none)
{
	const char *pvm = "processor\t: 0\n"
			  "vendor_id\t: GenuineIntel\n"
			  "flags\t\t: fpu vme de pse tsc msr pae cx8 apic sep pge cmov pat "
			  "clflush mmx fxsr sse sse2 ss syscall nx pdpe1gb rdtscp lm constant_tsc "
			  "rep_good nopl xtopology cpuid pni pclmulqdq ssse3 fma cx16 pcid sse4_1 "
			  "sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand hypervisor "
			  "lahf_lm abm 3dnowprefetch fsgsbase bmi1 avx2 smep bmi2 erms invpcid\n"
			  "bugs\t\t: spectre_v1 spectre_v2\n";

	ck_assert_int_eq(host_virt_from_cpuinfo(cpuinfo(pvm)), HOST_VIRT_NONE);
}
END_TEST

/* Only whole words in the "flags" line count. */
START_TEST(test_words_and_keys)
{
	ck_assert_int_eq(host_virt_from_cpuinfo(cpuinfo("flags\t\t: fpu svm_lock nvmx\n")),
			 HOST_VIRT_NONE);
	teardown();
	ck_assert_int_eq(host_virt_from_cpuinfo(cpuinfo("vmx flags\t: vnmi\nflags\t\t: fpu\n")),
			 HOST_VIRT_NONE);
	teardown();
	ck_assert_int_eq(host_virt_from_cpuinfo(cpuinfo("flags : svm\n")), HOST_VIRT_HW);
	teardown();
	ck_assert_int_eq(host_virt_from_cpuinfo(cpuinfo("flags\t: vmx\tsse\n")), HOST_VIRT_HW);
}
END_TEST

/* Nothing to go on: no hint, rather than a wrong one. */
START_TEST(test_unknown)
{
	ck_assert_int_eq(host_virt_from_cpuinfo("/nonexistent/cpuinfo"), HOST_VIRT_UNKNOWN);
	ck_assert_int_eq(host_virt_from_cpuinfo(cpuinfo("")), HOST_VIRT_UNKNOWN);
	teardown();
	ck_assert_int_eq(host_virt_from_cpuinfo(cpuinfo("processor\t: 0\nmodel name : x\n")),
			 HOST_VIRT_UNKNOWN);
}
END_TEST

START_TEST(test_silence_once_after_ten_seconds)
{
	struct host_silence s = { 0 };

	ck_assert(!host_silence_due(&s, 0, 5000));
	ck_assert(!host_silence_due(&s, 0, 14999));
	ck_assert(host_silence_due(&s, 0, 15000));
	/* said twice in all: never again, output or not */
	ck_assert(!host_silence_due(&s, 0, 30000));
	ck_assert(!host_silence_due(&s, 0, 90000));
	ck_assert(!host_silence_due(&s, 7, 100000));
	ck_assert(!host_silence_due(&s, 7, 200000));
}
END_TEST

START_TEST(test_output_restarts_the_count)
{
	struct host_silence s = { 0 };

	ck_assert(!host_silence_due(&s, 3, 0));
	ck_assert(!host_silence_due(&s, 9, 9000)); /* the guest spoke at 9 s */
	ck_assert(!host_silence_due(&s, 9, 18999));
	ck_assert(!host_silence_due(&s, 12, 19000)); /* and at 19 s */
	ck_assert(!host_silence_due(&s, 12, 28000));
	ck_assert(host_silence_due(&s, 12, 29000));
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("host");
	TCase *tc = tcase_create("cpuinfo");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_intel_vmx);
	tcase_add_test(tc, test_amd_svm_last_word);
	tcase_add_test(tc, test_pvm_host_none);
	tcase_add_test(tc, test_words_and_keys);
	tcase_add_test(tc, test_unknown);
	suite_add_tcase(s, tc);
	tc = tcase_create("silence");
	tcase_add_test(tc, test_silence_once_after_ten_seconds);
	tcase_add_test(tc, test_output_restarts_the_count);
	suite_add_tcase(s, tc);
	return s;
}
