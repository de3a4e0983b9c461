/* SPDX-License-Identifier: MIT */
/* MSI-X: capability bytes, vector table and PBA as a guest sees them, and the owner's view. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "check_main.h"
#include "devices/msix.h"

#define NVEC 65
#define BAR 2
#define TABLE_OFF 0x2000
#define PBA_OFF 0x3000

/* Everything the owner was told, in order. */
struct event {
	enum { CHANGED, FIRED } kind;
	unsigned int vec;
	uint64_t addr;
	uint32_t data;
	bool masked;
};

static struct {
	struct event ev[4096];
	unsigned int n;
	unsigned int fires[MSIX_MAX_VECTORS];
} owner;

static struct msix m;
static uint8_t cap[MSIX_CAP_SIZE];

static void on_changed(void *ctx, unsigned int vec, uint64_t addr, uint32_t data, bool masked)
{
	ck_assert_ptr_eq(ctx, &owner);
	ck_assert_uint_lt(owner.n, 4096);
	owner.ev[owner.n++] = (struct event){ CHANGED, vec, addr, data, masked };
}

static void on_fire(void *ctx, unsigned int vec)
{
	ck_assert_ptr_eq(ctx, &owner);
	ck_assert_uint_lt(owner.n, 4096);
	owner.ev[owner.n++] = (struct event){ .kind = FIRED, .vec = vec };
	owner.fires[vec]++;
}

static const struct msix_ops ops = { .vector_changed = on_changed, .fire = on_fire };

static void setup(void)
{
	uint8_t wmask[MSIX_CAP_SIZE];

	memset(&owner, 0, sizeof(owner));
	ck_assert_int_eq(msix_init(&m, NVEC, BAR, TABLE_OFF, PBA_OFF, &ops, &owner), 0);
	msix_capability(&m, cap, wmask);
}

static void teardown(void)
{
	msix_destroy(&m);
}

/* The guest writes Message Control; config space keeps only the writable bits. */
static void write_ctrl(uint16_t ctrl)
{
	uint16_t old = (uint16_t)(cap[2] | cap[3] << 8);
	uint16_t rw = MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK;
	uint16_t now = (uint16_t)((old & ~rw) | (ctrl & rw));

	cap[2] = (uint8_t)now;
	cap[3] = (uint8_t)(now >> 8);
	msix_config_written(&m, cap);
}

static uint32_t rd32(uint64_t off)
{
	uint32_t v;

	msix_table_read(&m, off, &v, 4);
	return v;
}

static uint64_t rd64(uint64_t off)
{
	uint64_t v;

	msix_table_read(&m, off, &v, 8);
	return v;
}

static void wr32(uint64_t off, uint32_t v)
{
	msix_table_write(&m, off, &v, 4);
}

static void wr64(uint64_t off, uint64_t v)
{
	msix_table_write(&m, off, &v, 8);
}

static uint64_t pba64(uint64_t off)
{
	uint64_t v;

	msix_pba_read(&m, off, &v, 8);
	return v;
}

/* Program vector v as Linux does: address and data, then the mask bit. */
static void program(unsigned int v, uint64_t addr, uint32_t data, bool masked)
{
	wr32(v * 16 + MSIX_ENTRY_ADDR_LO, (uint32_t)addr);
	wr32(v * 16 + MSIX_ENTRY_ADDR_HI, (uint32_t)(addr >> 32));
	wr32(v * 16 + MSIX_ENTRY_DATA, data);
	wr32(v * 16 + MSIX_ENTRY_CTRL, masked ? MSIX_ENTRY_CTRL_MASKED : 0);
}

static void check_event(unsigned int i, int kind, unsigned int vec)
{
	ck_assert_uint_lt(i, owner.n);
	ck_assert_int_eq(owner.ev[i].kind, kind);
	ck_assert_uint_eq(owner.ev[i].vec, vec);
}

START_TEST(test_capability_bytes)
{
	uint8_t c[MSIX_CAP_SIZE], w[MSIX_CAP_SIZE];
	static const uint8_t want_w[MSIX_CAP_SIZE] = { 0, 0, 0, 0xc0 };

	ck_assert_uint_eq(msix_capability(&m, c, w), 12);
	ck_assert_uint_eq(c[0], 0x11);
	ck_assert_uint_eq(c[1], 0); /* next pointer: the PCI code's */
	ck_assert_uint_eq(c[2] | c[3] << 8, NVEC - 1);
	ck_assert_uint_eq(c[4] | c[5] << 8 | c[6] << 16 | (uint32_t)c[7] << 24, TABLE_OFF | BAR);
	ck_assert_uint_eq(c[8] | c[9] << 8 | c[10] << 16 | (uint32_t)c[11] << 24, PBA_OFF | BAR);
	ck_assert_mem_eq(w, want_w, sizeof(want_w));
	ck_assert_uint_eq(msix_table_size(&m), NVEC * 16);
	ck_assert_uint_eq(msix_pba_size(&m), 16);
}
END_TEST

START_TEST(test_capability_sizes)
{
	struct msix x;
	uint8_t c[MSIX_CAP_SIZE], w[MSIX_CAP_SIZE];

	ck_assert_int_eq(msix_init(&x, 1, 0, 0, 0x800, NULL, NULL), 0);
	msix_capability(&x, c, w);
	ck_assert_uint_eq(c[2] | c[3] << 8, 0);
	ck_assert_uint_eq(c[4], 0);
	ck_assert_uint_eq(c[9], 0x08);
	ck_assert_uint_eq(msix_pba_size(&x), 8);
	msix_destroy(&x);

	ck_assert_int_eq(msix_init(&x, MSIX_MAX_VECTORS, 5, 0x1000, 0x1000 + 16 * 256, NULL, NULL),
			 0);
	msix_capability(&x, c, w);
	ck_assert_uint_eq(c[2] | c[3] << 8, MSIX_MAX_VECTORS - 1);
	ck_assert_uint_eq(c[4], 5);
	ck_assert_uint_eq(c[5], 0x10);
	ck_assert_uint_eq(msix_pba_size(&x), MSIX_MAX_VECTORS / 8);
	msix_destroy(&x);
}
END_TEST

START_TEST(test_init_rejects_bad_parameters)
{
	struct msix x;

	ck_assert_int_eq(msix_init(&x, 0, 0, 0, 0x1000, NULL, NULL), -EINVAL);
	ck_assert_int_eq(msix_init(&x, MSIX_MAX_VECTORS + 1, 0, 0, 0x1000, NULL, NULL), -EINVAL);
	ck_assert_int_eq(msix_init(&x, 4, 6, 0, 0x1000, NULL, NULL), -EINVAL);
	ck_assert_int_eq(msix_init(&x, 4, 0, 4, 0x1000, NULL, NULL), -EINVAL);
	ck_assert_int_eq(msix_init(&x, 4, 0, 0, 0x1004, NULL, NULL), -EINVAL);
}
END_TEST

START_TEST(test_reset_state)
{
	ck_assert(!msix_enabled(&m));
	for (unsigned int v = 0; v < NVEC; v++) {
		ck_assert_uint_eq(rd32(v * 16 + MSIX_ENTRY_ADDR_LO), 0);
		ck_assert_uint_eq(rd32(v * 16 + MSIX_ENTRY_ADDR_HI), 0);
		ck_assert_uint_eq(rd32(v * 16 + MSIX_ENTRY_DATA), 0);
		ck_assert_uint_eq(rd32(v * 16 + MSIX_ENTRY_CTRL), MSIX_ENTRY_CTRL_MASKED);
	}
	ck_assert_uint_eq(pba64(0), 0);
	ck_assert_uint_eq(pba64(8), 0);
	ck_assert_uint_eq(owner.n, 0); /* init tells the owner nothing */
}
END_TEST

START_TEST(test_table_fields_4_bytes)
{
	unsigned int v = 7;

	wr32(v * 16 + 0, 0xfee01003); /* bits 1:0 of the address read as 0 */
	wr32(v * 16 + 4, 0x12345678);
	wr32(v * 16 + 8, 0x4041);
	wr32(v * 16 + 12, 0xfffffffe); /* reserved bits read as 0; this unmasks */
	ck_assert_uint_eq(rd32(v * 16 + 0), 0xfee01000);
	ck_assert_uint_eq(rd32(v * 16 + 4), 0x12345678);
	ck_assert_uint_eq(rd32(v * 16 + 8), 0x4041);
	ck_assert_uint_eq(rd32(v * 16 + 12), 0);
	wr32(v * 16 + 12, 0xffffffff);
	ck_assert_uint_eq(rd32(v * 16 + 12), 1);
	/* neighbours untouched */
	ck_assert_uint_eq(rd32((v - 1) * 16 + 0), 0);
	ck_assert_uint_eq(rd32((v + 1) * 16 + 8), 0);
	ck_assert_uint_eq(rd32((v + 1) * 16 + 12), 1);
}
END_TEST

START_TEST(test_table_fields_8_bytes)
{
	unsigned int v = NVEC - 1;

	wr64(v * 16 + 0, 0x00000001fee02000ull);
	wr64(v * 16 + 8, 0x0000000000000051ull); /* data 0x51, unmasked */
	ck_assert_uint_eq(rd64(v * 16 + 0), 0x00000001fee02000ull);
	ck_assert_uint_eq(rd64(v * 16 + 8), 0x51);
	ck_assert_uint_eq(rd32(v * 16 + 4), 1);
	ck_assert_uint_eq(rd32(v * 16 + 8), 0x51);
	wr64(v * 16 + 8, 0x0000000100000052ull);
	ck_assert_uint_eq(rd64(v * 16 + 8), 0x0000000100000052ull);
	/* each 8-byte write is one change for the owner */
	ck_assert_uint_eq(owner.n, 3);
}
END_TEST

START_TEST(test_vector_changed_reports_message)
{
	write_ctrl(MSIX_CTRL_ENABLE);
	ck_assert_uint_eq(owner.n, 0); /* all entries still masked */

	program(3, 0xfee00000, 0x4025, true);
	ck_assert_uint_eq(owner.n, 2); /* address low, data; address high stays 0 */
	ck_assert(owner.ev[1].masked);
	ck_assert_uint_eq(owner.ev[1].data, 0x4025);

	wr32(3 * 16 + 12, 0); /* unmask */
	ck_assert_uint_eq(owner.n, 3);
	check_event(2, CHANGED, 3);
	ck_assert_uint_eq(owner.ev[2].addr, 0xfee00000);
	ck_assert_uint_eq(owner.ev[2].data, 0x4025);
	ck_assert(!owner.ev[2].masked);

	/* rewriting the same values is no change */
	program(3, 0xfee00000, 0x4025, false);
	ck_assert_uint_eq(owner.n, 3);

	/* a 64-bit address in one 8-byte write: one report with the whole address */
	wr64(3 * 16, 0x000000ab0fee1000ull);
	ck_assert_uint_eq(owner.n, 4);
	ck_assert_uint_eq(owner.ev[3].addr, 0x000000ab0fee1000ull);
	ck_assert(!owner.ev[3].masked);
	ck_assert_uint_eq(owner.fires[3], 0);
}
END_TEST

START_TEST(test_changes_while_disabled_report_masked)
{
	program(0, 0xfee00000, 0x30, false);
	ck_assert_uint_gt(owner.n, 0);
	for (unsigned int i = 0; i < owner.n; i++)
		ck_assert(owner.ev[i].masked);
	owner.n = 0;
	write_ctrl(MSIX_CTRL_ENABLE); /* only vector 0 is unmasked in its entry */
	ck_assert_uint_eq(owner.n, 1);
	check_event(0, CHANGED, 0);
	ck_assert(!owner.ev[0].masked);
	ck_assert_uint_eq(owner.ev[0].addr, 0xfee00000);
	ck_assert_uint_eq(owner.ev[0].data, 0x30);
	write_ctrl(0);
	ck_assert_uint_eq(owner.n, 2);
	ck_assert(owner.ev[1].masked);
}
END_TEST

START_TEST(test_masked_vector_pends_then_fires_once)
{
	write_ctrl(MSIX_CTRL_ENABLE);
	program(5, 0xfee00000, 0x41, true);
	owner.n = 0;

	ck_assert(msix_notify(&m, 5));
	ck_assert(msix_notify(&m, 5)); /* a second message folds into the same bit */
	ck_assert_uint_eq(owner.fires[5], 0);
	ck_assert_uint_eq(pba64(0), 1ull << 5);
	ck_assert_uint_eq(owner.n, 0);

	wr32(5 * 16 + 12, 0);
	ck_assert_uint_eq(owner.fires[5], 1);
	ck_assert_uint_eq(pba64(0), 0);
	/* the route is updated before the pending message goes out */
	ck_assert_uint_eq(owner.n, 2);
	check_event(0, CHANGED, 5);
	ck_assert(!owner.ev[0].masked);
	check_event(1, FIRED, 5);

	/* unmasked now: each notify fires */
	ck_assert(msix_notify(&m, 5));
	ck_assert_uint_eq(owner.fires[5], 2);
	wr32(5 * 16 + 12, 1);
	wr32(5 * 16 + 12, 0);
	ck_assert_uint_eq(owner.fires[5], 2);
}
END_TEST

START_TEST(test_pba_bits_and_halves)
{
	uint32_t half;

	write_ctrl(MSIX_CTRL_ENABLE);
	msix_notify(&m, 33);
	msix_notify(&m, 64);
	msix_notify(&m, 0);
	ck_assert_uint_eq(pba64(0), 1ull << 33 | 1);
	ck_assert_uint_eq(pba64(8), 1);
	msix_pba_read(&m, 4, &half, 4);
	ck_assert_uint_eq(half, 2);
	msix_pba_read(&m, 0, &half, 4);
	ck_assert_uint_eq(half, 1);
	msix_pba_read(&m, 8, &half, 4);
	ck_assert_uint_eq(half, 1);
	ck_assert_uint_eq(owner.n, 0);
}
END_TEST

START_TEST(test_function_mask)
{
	write_ctrl(MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK);
	program(1, 0xfee00000, 0x51, false);
	program(2, 0xfee00000, 0x52, false);
	program(3, 0xfee00000, 0x53, true);
	for (unsigned int i = 0; i < owner.n; i++)
		ck_assert(owner.ev[i].masked);

	ck_assert(msix_notify(&m, 1));
	ck_assert(msix_notify(&m, 2));
	ck_assert(msix_notify(&m, 3));
	ck_assert_uint_eq(pba64(0), 0xe);
	ck_assert_uint_eq(owner.fires[1] + owner.fires[2] + owner.fires[3], 0);

	owner.n = 0;
	write_ctrl(MSIX_CTRL_ENABLE);
	ck_assert_uint_eq(owner.fires[1], 1);
	ck_assert_uint_eq(owner.fires[2], 1);
	ck_assert_uint_eq(owner.fires[3], 0); /* its own mask bit still holds it */
	ck_assert_uint_eq(pba64(0), 0x8);
	ck_assert_uint_eq(owner.n, 4); /* changed 1, fire 1, changed 2, fire 2 */
	check_event(0, CHANGED, 1);
	check_event(1, FIRED, 1);
	check_event(2, CHANGED, 2);
	check_event(3, FIRED, 2);

	wr32(3 * 16 + 12, 0);
	ck_assert_uint_eq(owner.fires[3], 1);
	ck_assert_uint_eq(pba64(0), 0);

	/* setting the function mask again masks every vector */
	owner.n = 0;
	write_ctrl(MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK);
	ck_assert_uint_eq(owner.n, 3);
	msix_notify(&m, 2);
	ck_assert_uint_eq(owner.fires[2], 1);
	ck_assert_uint_eq(pba64(0), 0x4);
}
END_TEST

START_TEST(test_disabled_does_not_fire)
{
	program(4, 0xfee00000, 0x61, false);
	ck_assert(!msix_notify(&m, 4));
	ck_assert_uint_eq(owner.fires[4], 0);
	ck_assert_uint_eq(pba64(0), 0); /* INTx's business, not a pending message */
	write_ctrl(MSIX_CTRL_ENABLE);
	ck_assert_uint_eq(owner.fires[4], 0);
	ck_assert(msix_enabled(&m));

	/* pending while enabled, kept across disable, sent once enabled again */
	wr32(4 * 16 + 12, 1);
	ck_assert(msix_notify(&m, 4));
	write_ctrl(0);
	ck_assert(!msix_enabled(&m));
	wr32(4 * 16 + 12, 0);
	ck_assert_uint_eq(owner.fires[4], 0);
	ck_assert_uint_eq(pba64(0), 1u << 4);
	write_ctrl(MSIX_CTRL_ENABLE);
	ck_assert_uint_eq(owner.fires[4], 1);
	ck_assert_uint_eq(pba64(0), 0);
}
END_TEST

START_TEST(test_out_of_range_vector)
{
	ck_assert(!msix_notify(&m, 0xffff));
	write_ctrl(MSIX_CTRL_ENABLE);
	ck_assert(msix_notify(&m, 0xffff)); /* enabled: no INTx, and no message */
	ck_assert(msix_notify(&m, NVEC));
	ck_assert(msix_notify(&m, ~0u));
	ck_assert_uint_eq(owner.n, 0);
	ck_assert_uint_eq(pba64(0), 0);
	ck_assert_uint_eq(pba64(8), 0);
}
END_TEST

START_TEST(test_garbage_accesses)
{
	static const unsigned int lens[] = { 0, 1, 2, 3, 5, 6, 7, 16 };
	const uint64_t end = NVEC * 16;
	const uint64_t offs[] = {
		0, 1, 2, 3, 4, 6, 12, end - 4, end, end + 8, 0x10000, ~3ull, ~0ull
	};
	uint8_t junk[16], buf[16], zero[16] = { 0 };

	memset(junk, 0xff, sizeof(junk));
	write_ctrl(MSIX_CTRL_ENABLE);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (size_t j = 0; j < sizeof(offs) / sizeof(offs[0]); j++) {
			msix_table_write(&m, offs[j], junk, lens[i]);
			memset(buf, 0xaa, sizeof(buf));
			msix_table_read(&m, offs[j], buf, lens[i]);
			ck_assert_mem_eq(buf, zero, lens[i]);
			ck_assert_uint_eq(buf[lens[i] % 16], lens[i] == 16 ? 0 : 0xaa);
			memset(buf, 0xaa, sizeof(buf));
			msix_pba_read(&m, offs[j], buf, lens[i]);
			ck_assert_mem_eq(buf, zero, lens[i]);
		}
	}
	/* misaligned and out-of-range 4/8-byte accesses */
	for (size_t j = 0; j < sizeof(offs) / sizeof(offs[0]); j++) {
		bool ok4 = offs[j] % 4 == 0 && offs[j] < NVEC * 16;
		bool ok8 = offs[j] % 8 == 0 && offs[j] < NVEC * 16;

		if (!ok4) {
			msix_table_write(&m, offs[j], junk, 4);
			msix_table_read(&m, offs[j], buf, 4);
			ck_assert_mem_eq(buf, zero, 4);
		}
		if (!ok8) {
			msix_table_write(&m, offs[j], junk, 8);
			msix_table_read(&m, offs[j], buf, 8);
			ck_assert_mem_eq(buf, zero, 8);
		}
		if (offs[j] % 8 || offs[j] >= 16) {
			msix_pba_read(&m, offs[j], buf, 8);
			ck_assert_mem_eq(buf, zero, 8);
		}
	}
	msix_table_read(&m, 4, buf, 8); /* 8 bytes at a 4-byte boundary */
	ck_assert_mem_eq(buf, zero, 8);
	ck_assert_uint_eq(owner.n, 0);
	for (unsigned int v = 0; v < NVEC; v++)
		ck_assert_uint_eq(rd32(v * 16 + 12), 1);
}
END_TEST

START_TEST(test_reset)
{
	write_ctrl(MSIX_CTRL_ENABLE);
	program(9, 0xfee00000, 0x71, false);
	program(10, 0xfee00000, 0x72, true);
	msix_notify(&m, 10);
	owner.n = 0;

	msix_reset(&m);
	ck_assert(!msix_enabled(&m));
	ck_assert_uint_eq(pba64(0), 0);
	ck_assert_uint_eq(rd64(9 * 16), 0);
	ck_assert_uint_eq(rd64(9 * 16 + 8), 1ull << 32);
	ck_assert_uint_eq(owner.n, 2); /* both had a message; 9 was also unmasked */
	check_event(0, CHANGED, 9);
	ck_assert(owner.ev[0].masked);
	ck_assert_uint_eq(owner.ev[0].data, 0);
	check_event(1, CHANGED, 10);
	ck_assert_uint_eq(owner.fires[10], 0);
}
END_TEST

START_TEST(test_null_ops)
{
	struct msix x;
	uint32_t zero = 0;

	ck_assert_int_eq(msix_init(&x, 2, 0, 0, 0x100, NULL, NULL), 0);
	cap[2] = 0;
	cap[3] = MSIX_CTRL_ENABLE >> 8;
	msix_config_written(&x, cap);
	msix_table_write(&x, 12, &zero, 4);
	ck_assert(msix_notify(&x, 0));
	ck_assert(msix_notify(&x, 1));
	msix_reset(&x);
	msix_destroy(&x);
}
END_TEST

/* A device thread notifies while a vCPU thread flips the mask: each message arrives once. */
static atomic_uint delivered;

static void count_fire(void *ctx, unsigned int vec)
{
	(void)ctx;
	(void)vec;
	atomic_fetch_add(&delivered, 1);
}

static void *notifier(void *arg)
{
	struct msix *x = arg;

	for (int i = 0; i < 20000; i++)
		msix_notify(x, 0);
	return NULL;
}

START_TEST(test_concurrent_notify_and_mask)
{
	static const struct msix_ops counting = { .fire = count_fire };
	struct msix x;
	pthread_t t;
	uint64_t pba;

	atomic_store(&delivered, 0);
	ck_assert_int_eq(msix_init(&x, 1, 0, 0, 0x100, &counting, NULL), 0);
	cap[2] = 0;
	cap[3] = MSIX_CTRL_ENABLE >> 8;
	msix_config_written(&x, cap);
	ck_assert_int_eq(pthread_create(&t, NULL, notifier, &x), 0);
	for (int i = 0; i < 20000; i++) {
		uint32_t ctrl = i & 1 ? 0 : MSIX_ENTRY_CTRL_MASKED;

		msix_table_write(&x, 12, &ctrl, 4);
	}
	pthread_join(t, NULL);
	msix_pba_read(&x, 0, &pba, 8);
	ck_assert_uint_eq(pba, 0); /* last write unmasked: nothing may stay pending */
	ck_assert_uint_gt(atomic_load(&delivered), 0);
	ck_assert_uint_le(atomic_load(&delivered), 20000);
	msix_destroy(&x);
}
END_TEST

/*
 * Snapshots: a table and pending bits restored into a fresh model report each programmed
 * vector to the owner and send the message pending on a vector left unmasked, once.
 */
START_TEST(test_save_restore)
{
	struct msix_state st;

	write_ctrl(MSIX_CTRL_ENABLE);
	program(3, 0xfee00000, 0x41, false);
	program(7, 0xfee01000, 0x42, true);
	ck_assert(msix_notify(&m, 7)); /* masked: pending */
	msix_save(&m, &st);
	ck_assert_uint_eq(st.nvec, NVEC);
	ck_assert_uint_eq(st.pba[0], 1ull << 7);
	msix_destroy(&m);

	setup();
	write_ctrl(MSIX_CTRL_ENABLE); /* config space comes back first */
	st.table[7].ctrl = 0;	      /* and the saved state has vector 7 unmasked */
	ck_assert_int_eq(msix_restore(&m, &st), 0);
	ck_assert_uint_eq(rd32(3 * 16 + MSIX_ENTRY_DATA), 0x41);
	ck_assert_uint_eq(rd64(7 * 16), 0xfee01000);
	ck_assert_uint_eq(owner.fires[7], 1);
	ck_assert_uint_eq(owner.fires[3], 0);
	ck_assert_uint_eq(pba64(0), 0);
	/* vector 3 was reported with its message before anything fired */
	check_event(0, CHANGED, 3);
	ck_assert_uint_eq(owner.ev[0].addr, 0xfee00000);
	ck_assert(!owner.ev[0].masked);

	st.nvec = NVEC + 1;
	ck_assert_int_eq(msix_restore(&m, &st), -EINVAL);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("msix");
	TCase *tc = tcase_create("msix");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_capability_bytes);
	tcase_add_test(tc, test_capability_sizes);
	tcase_add_test(tc, test_init_rejects_bad_parameters);
	tcase_add_test(tc, test_reset_state);
	tcase_add_test(tc, test_table_fields_4_bytes);
	tcase_add_test(tc, test_table_fields_8_bytes);
	tcase_add_test(tc, test_vector_changed_reports_message);
	tcase_add_test(tc, test_changes_while_disabled_report_masked);
	tcase_add_test(tc, test_masked_vector_pends_then_fires_once);
	tcase_add_test(tc, test_pba_bits_and_halves);
	tcase_add_test(tc, test_function_mask);
	tcase_add_test(tc, test_disabled_does_not_fire);
	tcase_add_test(tc, test_out_of_range_vector);
	tcase_add_test(tc, test_garbage_accesses);
	tcase_add_test(tc, test_reset);
	tcase_add_test(tc, test_null_ops);
	tcase_add_test(tc, test_concurrent_notify_and_mask);
	tcase_add_test(tc, test_save_restore);
	suite_add_tcase(s, tc);
	return s;
}
