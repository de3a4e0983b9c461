/* SPDX-License-Identifier: MIT */
/* gdb's amd64 register packet: where each register lands, and what a 'G' may change. */
#include <errno.h>
#include <string.h>

#include "check_main.h"
#include "vmm/x86/gdb_regs.h"

static uint64_t le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

START_TEST(test_layout)
{
	struct kvm_regs r = { .rax = 0x1111,
			      .rsp = 0x7777,
			      .r15 = 0xf0f0,
			      .rip = 0xffffffff81000000,
			      .rflags = 0x246 };
	struct kvm_sregs s = { .cs = { .selector = 0x10 }, .gs = { .selector = 0x2b } };
	struct kvm_fpu f = { .fcw = 0x37f, .ftwx = 0x01, .mxcsr = 0x1f80 };
	uint8_t out[X86_GDB_REGS_SIZE];

	f.fpr[0][0] = 0xaa;
	f.fpr[7][9] = 0xbb;
	f.xmm[15][15] = 0xcc;
	memset(out, 0x5a, sizeof(out));
	x86_gdb_regs_read(&r, &s, &f, out);
	ck_assert_uint_eq(le(out + 0, 8), 0x1111);
	ck_assert_uint_eq(le(out + 7 * 8, 8), 0x7777);
	ck_assert_uint_eq(le(out + 15 * 8, 8), 0xf0f0);
	ck_assert_uint_eq(le(out + 16 * 8, 8), 0xffffffff81000000ull);
	ck_assert_uint_eq(le(out + 136, 4), 0x246);
	ck_assert_uint_eq(le(out + 140, 4), 0x10);	   /* cs */
	ck_assert_uint_eq(le(out + 140 + 5 * 4, 4), 0x2b); /* gs */
	ck_assert_uint_eq(out[164], 0xaa);		   /* st0 */
	ck_assert_uint_eq(out[164 + 7 * 10 + 9], 0xbb);	   /* st7's last byte */
	ck_assert_uint_eq(le(out + 244, 4), 0x37f);	   /* fctrl */
	ck_assert_uint_eq(le(out + 252, 4), 0xfffc);	   /* ftag: st0 in use, the rest empty */
	ck_assert_uint_eq(out[276 + 15 * 16 + 15], 0xcc);  /* xmm15's last byte */
	ck_assert_uint_eq(le(out + 532, 4), 0x1f80);	   /* mxcsr, the last 4 bytes */
}
END_TEST

START_TEST(test_write)
{
	struct kvm_regs r = { .rflags = 0xdead000000000202ull, .rbx = 5 };
	uint8_t in[X86_GDB_REGS_SIZE] = { 0 };

	in[0] = 0x42;	       /* rax */
	in[16 * 8] = 0x10;     /* rip */
	in[16 * 8 + 7] = 0xff; /* rip's top byte */
	in[17 * 8] = 0x01;     /* eflags: CF, and bit 1 missing */
	ck_assert_int_eq(x86_gdb_regs_write(&r, in, 17 * 8 + 3), -EINVAL);
	ck_assert_uint_eq(r.rbx, 5); /* a short packet changes nothing */
	ck_assert_int_eq(x86_gdb_regs_write(&r, in, sizeof(in)), 0);
	ck_assert_uint_eq(r.rax, 0x42);
	ck_assert_uint_eq(r.rbx, 0);
	ck_assert_uint_eq(r.rip, 0xff00000000000010ull);
	ck_assert_uint_eq(r.rflags, 0xdead000000000003ull);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("gdb x86 registers");
	TCase *tc = tcase_create("gdb_regs");

	tcase_add_test(tc, test_layout);
	tcase_add_test(tc, test_write);
	suite_add_tcase(s, tc);
	return s;
}
