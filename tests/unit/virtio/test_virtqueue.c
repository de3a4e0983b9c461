/* SPDX-License-Identifier: MIT */
/* Split virtqueue: what a driver can lay out in guest RAM, good and bad, and what we answer. */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "check_main.h"
#include "virtio/virtqueue.h"

#define MiB (1ull << 20)

/* Where the driver in these tests puts things (guest-physical). */
#define RAM_SIZE (16 * MiB)
#define DESC_GPA 0x100000ull /* room for 32768 descriptors */
#define AVAIL_GPA 0x180000ull
#define USED_GPA 0x1a0000ull
#define BUF_GPA 0x200000ull
#define TABLE_GPA 0x300000ull /* indirect tables */

static struct guest_mem mem;
static struct virtq vq;
static struct virtq_chain chain;
static uint16_t drv_avail_idx; /* the driver's copy of avail->idx */

static void *gpa_ptr(uint64_t gpa)
{
	void *p = guest_mem_ptr(&mem, gpa, 1);

	ck_assert_ptr_nonnull(p);
	return p;
}

static struct vring_avail *avail(void)
{
	return gpa_ptr(AVAIL_GPA);
}

static struct vring_used *used(void)
{
	return gpa_ptr(USED_GPA);
}

static uint16_t *used_event(void)
{
	return &avail()->ring[vq.size];
}

static uint16_t *avail_event(void)
{
	return (uint16_t *)&used()->ring[vq.size];
}

static void put_desc(uint64_t table, unsigned int i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	struct vring_desc *d = gpa_ptr(table + 16ull * i);

	d->addr = htole64(addr);
	d->len = htole32(len);
	d->flags = htole16(flags);
	d->next = htole16(next);
}

/* Publish head as the next available chain. */
static void offer(uint16_t head)
{
	avail()->ring[drv_avail_idx & (vq.size - 1)] = htole16(head);
	drv_avail_idx++;
	avail()->idx = htole16(drv_avail_idx);
}

static void start(unsigned int size, bool event_idx, bool indirect)
{
	virtq_reset(&vq);
	vq.size = size;
	vq.desc_gpa = DESC_GPA;
	vq.avail_gpa = AVAIL_GPA;
	vq.used_gpa = USED_GPA;
	vq.event_idx = event_idx;
	vq.indirect_desc = indirect;
	ck_assert_int_eq(virtq_enable(&vq, &mem), 0);
	/* a fresh queue, as a driver sets it up: both indices 0 */
	drv_avail_idx = 0;
	avail()->idx = 0;
	used()->idx = 0;
}

/* Move both sides' avail and used indices to idx, as if that many chains had gone by. */
static void start_at(uint16_t idx)
{
	vq.last_avail_idx = idx;
	vq.used_idx = idx;
	vq.signalled_used = idx;
	drv_avail_idx = idx;
	avail()->idx = htole16(idx);
	used()->idx = htole16(idx);
}

static void setup(void)
{
	ck_assert_int_eq(guest_mem_alloc(&mem, RAM_SIZE), 0);
	memset(&chain, 0, sizeof(chain));
	start(8, false, false);
}

static void teardown(void)
{
	guest_mem_free(&mem);
}

/* --- enable ----------------------------------------------------------------------------- */

START_TEST(test_enable_checks_size)
{
	static const unsigned int bad[] = { 0, 3, 6, 100, 65536, 65536 + 8, 1u << 31 };
	static const unsigned int good[] = { 1, 2, 256, 32768 };

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		vq.size = bad[i];
		ck_assert_int_eq(virtq_enable(&vq, &mem), -EINVAL);
		ck_assert(!vq.enabled);
	}
	for (unsigned int i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		vq.size = good[i];
		ck_assert_int_eq(virtq_enable(&vq, &mem), 0);
		ck_assert(vq.enabled);
	}
}
END_TEST

START_TEST(test_enable_checks_alignment)
{
	vq.desc_gpa = DESC_GPA + 8;
	ck_assert_int_eq(virtq_enable(&vq, &mem), -EINVAL);
	vq.desc_gpa = DESC_GPA;
	vq.avail_gpa = AVAIL_GPA + 1;
	ck_assert_int_eq(virtq_enable(&vq, &mem), -EINVAL);
	vq.avail_gpa = AVAIL_GPA + 2;
	vq.used_gpa = USED_GPA + 2;
	ck_assert_int_eq(virtq_enable(&vq, &mem), -EINVAL);
	vq.used_gpa = USED_GPA + 4;
	ck_assert_int_eq(virtq_enable(&vq, &mem), 0);
}
END_TEST

START_TEST(test_enable_checks_ram)
{
	/* each area must fit entirely: 16*8, 6+2*8 and 6+8*8 bytes */
	vq.desc_gpa = RAM_SIZE - 16 * 8;
	ck_assert_int_eq(virtq_enable(&vq, &mem), 0);
	vq.desc_gpa = RAM_SIZE - 16 * 7;
	ck_assert_int_eq(virtq_enable(&vq, &mem), -EINVAL);
	vq.desc_gpa = DESC_GPA;

	vq.avail_gpa = RAM_SIZE - 22;
	ck_assert_int_eq(virtq_enable(&vq, &mem), 0);
	vq.avail_gpa = RAM_SIZE - 20;
	ck_assert_int_eq(virtq_enable(&vq, &mem), -EINVAL);
	vq.avail_gpa = AVAIL_GPA;

	vq.used_gpa = RAM_SIZE - 72; /* 70 bytes needed, 4-aligned */
	ck_assert_int_eq(virtq_enable(&vq, &mem), 0);
	vq.used_gpa = RAM_SIZE - 68;
	ck_assert_int_eq(virtq_enable(&vq, &mem), -EINVAL);
	vq.used_gpa = UINT64_MAX - 3;
	ck_assert_int_eq(virtq_enable(&vq, &mem), -EINVAL);
	vq.used_gpa = USED_GPA;

	/* a failed enable leaves the queue disabled: nothing to pop */
	ck_assert(!vq.enabled);
	offer(0);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 0);
	ck_assert(!virtq_has_work(&vq));
}
END_TEST

START_TEST(test_reset_clears)
{
	put_desc(DESC_GPA, 0, BUF_GPA, 4, 0, 0);
	offer(0);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	virtq_reset(&vq);
	ck_assert(!vq.enabled);
	ck_assert_uint_eq(vq.size, 0);
	ck_assert_uint_eq(vq.last_avail_idx, 0);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 0);
	virtq_push(&vq, 0, 0); /* ignored, must not crash */
	ck_assert(!virtq_needs_interrupt(&vq));
	ck_assert_uint_eq(virtq_avail_pending(&vq), 0);
}
END_TEST

/*
 * The transport keeps writing the configuration fields of a started queue if a hostile
 * driver makes it; the queue must go on with what enable checked. Here: size 1 with the
 * used ring in the last bytes of RAM, then the size grows to the maximum without a new
 * enable. Pushes must stay inside the one-entry ring, and a head index that the old size
 * forbids must still be refused.
 */
START_TEST(test_live_size_is_the_checked_one)
{
	uint8_t *ram_end = (uint8_t *)gpa_ptr(RAM_SIZE - 1) + 1;
	uint64_t used_at = RAM_SIZE - 16; /* 6 + 8 * 1 bytes, 4-aligned */

	virtq_reset(&vq);
	vq.size = 1;
	vq.desc_gpa = DESC_GPA;
	vq.avail_gpa = AVAIL_GPA;
	vq.used_gpa = used_at;
	ck_assert_int_eq(virtq_enable(&vq, &mem), 0);
	drv_avail_idx = 0;
	avail()->idx = 0;
	memset(ram_end - 16, 0, 16);

	vq.size = VIRTQ_MAX_SIZE; /* what a driver wrote after enable */
	for (uint16_t i = 0; i < 100; i++)
		virtq_push(&vq, 0, i); /* all into ring[0]: 8 bytes at used_at + 4 */
	ck_assert_uint_eq(le16toh(*(uint16_t *)(ram_end - 14)), 100); /* used->idx */
	ck_assert_uint_eq(le32toh(*(uint32_t *)(ram_end - 8)), 99);   /* ring[0].len */
	ck_assert_uint_eq(*(uint16_t *)(ram_end - 4), 0);	      /* avail_event */

	avail()->ring[0] = htole16(5); /* in range for the new size only */
	avail()->idx = htole16(1);
	ck_assert_int_eq(virtq_pop(&vq, &chain), -ERANGE);
}
END_TEST

/* --- pop: good chains ------------------------------------------------------------------- */

START_TEST(test_empty_ring)
{
	ck_assert_int_eq(virtq_pop(&vq, &chain), 0);
	ck_assert(!virtq_has_work(&vq));
	ck_assert_uint_eq(virtq_avail_pending(&vq), 0);
}
END_TEST

START_TEST(test_simple_chain)
{
	uint8_t *buf = gpa_ptr(BUF_GPA);

	put_desc(DESC_GPA, 3, BUF_GPA, 16, VRING_DESC_F_NEXT, 5);
	put_desc(DESC_GPA, 5, BUF_GPA + 0x1000, 100, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	put_desc(DESC_GPA, 1, BUF_GPA + 0x2000, 1, VRING_DESC_F_WRITE, 0);
	offer(3);
	ck_assert(virtq_has_work(&vq));
	ck_assert_uint_eq(virtq_avail_pending(&vq), 1);

	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_uint_eq(chain.head, 3);
	ck_assert_uint_eq(chain.nreadable, 1);
	ck_assert_uint_eq(chain.nwritable, 2);
	ck_assert_uint_eq(chain.readable_bytes, 16);
	ck_assert_uint_eq(chain.writable_bytes, 101);
	ck_assert_ptr_eq(chain.iov[0].iov_base, buf);
	ck_assert_uint_eq(chain.iov[0].iov_len, 16);
	ck_assert_ptr_eq(chain.iov[1].iov_base, buf + 0x1000);
	ck_assert_uint_eq(chain.iov[1].iov_len, 100);
	ck_assert_ptr_eq(chain.iov[2].iov_base, buf + 0x2000);
	ck_assert_uint_eq(chain.iov[2].iov_len, 1);
	ck_assert_ptr_eq(virtq_chain_writable(&chain), &chain.iov[1]);
	ck_assert_uint_eq(vq.last_avail_idx, 1);

	ck_assert_int_eq(virtq_pop(&vq, &chain), 0);
	ck_assert(!virtq_has_work(&vq));
}
END_TEST

START_TEST(test_only_readable_or_writable)
{
	put_desc(DESC_GPA, 0, BUF_GPA, 10, 0, 0);
	put_desc(DESC_GPA, 1, BUF_GPA, 20, VRING_DESC_F_WRITE, 0);
	offer(0);
	offer(1);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_uint_eq(chain.nreadable, 1);
	ck_assert_uint_eq(chain.nwritable, 0);
	ck_assert_uint_eq(chain.readable_bytes, 10);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_uint_eq(chain.head, 1);
	ck_assert_uint_eq(chain.nreadable, 0);
	ck_assert_uint_eq(chain.nwritable, 1);
	ck_assert_uint_eq(chain.writable_bytes, 20);
	ck_assert_ptr_eq(virtq_chain_writable(&chain), &chain.iov[0]);
}
END_TEST

START_TEST(test_zero_length_allowed)
{
	/* in RAM, even at its very end: fine, and never dereferenced */
	put_desc(DESC_GPA, 0, RAM_SIZE, 0, VRING_DESC_F_NEXT, 1);
	put_desc(DESC_GPA, 1, BUF_GPA, 0, VRING_DESC_F_WRITE, 0);
	offer(0);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_uint_eq(chain.nreadable, 1);
	ck_assert_uint_eq(chain.nwritable, 1);
	ck_assert_uint_eq(chain.readable_bytes + chain.writable_bytes, 0);
}
END_TEST

START_TEST(test_full_ring_and_longest_chain)
{
	/* exactly size chains outstanding is allowed; a chain of exactly size descriptors too */
	for (unsigned int i = 0; i < 8; i++)
		put_desc(DESC_GPA, i, BUF_GPA + i, 1, i < 7 ? VRING_DESC_F_NEXT : 0, i + 1);
	for (unsigned int i = 0; i < 8; i++)
		offer(0);
	ck_assert_uint_eq(virtq_avail_pending(&vq), 8);
	for (unsigned int i = 0; i < 8; i++) {
		ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
		ck_assert_uint_eq(chain.nreadable, 8);
		ck_assert_uint_eq(chain.readable_bytes, 8);
	}
	ck_assert_int_eq(virtq_pop(&vq, &chain), 0);
}
END_TEST

START_TEST(test_index_wrap)
{
	uint16_t idx;

	start_at(65534);
	for (unsigned int i = 0; i < 4; i++)
		put_desc(DESC_GPA, i, BUF_GPA + 64 * i, 64, VRING_DESC_F_WRITE, 0);
	for (unsigned int i = 0; i < 4; i++)
		offer(i);
	ck_assert_uint_eq(le16toh(avail()->idx), 2);
	ck_assert_uint_eq(virtq_avail_pending(&vq), 4);

	for (unsigned int i = 0; i < 4; i++) {
		ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
		ck_assert_uint_eq(chain.head, i);
		virtq_push(&vq, chain.head, 64 - i);
	}
	ck_assert_int_eq(virtq_pop(&vq, &chain), 0);
	ck_assert_uint_eq(vq.last_avail_idx, 2);
	ck_assert_uint_eq(le16toh(used()->idx), 2);
	/* used entries 65534, 65535, 0, 1 land in slots 6, 7, 0, 1 */
	idx = 65534;
	for (unsigned int i = 0; i < 4; i++, idx++) {
		ck_assert_uint_eq(le32toh(used()->ring[idx % 8].id), i);
		ck_assert_uint_eq(le32toh(used()->ring[idx % 8].len), 64 - i);
	}
}
END_TEST

START_TEST(test_indirect_valid)
{
	uint8_t *buf = gpa_ptr(BUF_GPA);

	start(8, false, true);
	put_desc(TABLE_GPA, 0, BUF_GPA, 12, VRING_DESC_F_NEXT, 2);
	put_desc(TABLE_GPA, 2, BUF_GPA + 100, 30, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	put_desc(TABLE_GPA, 1, BUF_GPA + 200, 40, VRING_DESC_F_WRITE, 0);
	/* WRITE on the descriptor that points at the table is ignored */
	put_desc(DESC_GPA, 6, TABLE_GPA, 3 * 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE, 0);
	offer(6);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_uint_eq(chain.head, 6);
	ck_assert_uint_eq(chain.nreadable, 1);
	ck_assert_uint_eq(chain.nwritable, 2);
	ck_assert_uint_eq(chain.readable_bytes, 12);
	ck_assert_uint_eq(chain.writable_bytes, 70);
	ck_assert_ptr_eq(chain.iov[0].iov_base, buf);
	ck_assert_ptr_eq(chain.iov[1].iov_base, buf + 100);
	ck_assert_ptr_eq(chain.iov[2].iov_base, buf + 200);
}
END_TEST

START_TEST(test_indirect_after_direct)
{
	/* a direct readable header, then a table with the rest; and a table longer than size */
	start(2, false, true);
	for (unsigned int i = 0; i < 20; i++)
		put_desc(TABLE_GPA, i, BUF_GPA + i, 1, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
			 i + 1);
	put_desc(TABLE_GPA, 20, BUF_GPA, 1, VRING_DESC_F_WRITE, 0);
	put_desc(DESC_GPA, 1, BUF_GPA, 8, VRING_DESC_F_NEXT, 0);
	put_desc(DESC_GPA, 0, TABLE_GPA, 21 * 16, VRING_DESC_F_INDIRECT, 0);
	offer(1);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_uint_eq(chain.nreadable, 1);
	ck_assert_uint_eq(chain.nwritable, 21);
	ck_assert_uint_eq(chain.writable_bytes, 21);
}
END_TEST

/* --- pop: broken drivers ---------------------------------------------------------------- */

/* The error comes back, stays until the queue is enabled again, and has_work says no. */
static void expect_error(int err)
{
	ck_assert_int_eq(virtq_pop(&vq, &chain), err);
	ck_assert_int_eq(virtq_pop(&vq, &chain), err);
	ck_assert(!virtq_has_work(&vq));
	ck_assert_uint_eq(vq.last_avail_idx, (uint16_t)(drv_avail_idx - 1));
}

START_TEST(test_loop_self)
{
	put_desc(DESC_GPA, 4, BUF_GPA, 8, VRING_DESC_F_NEXT, 4);
	offer(4);
	expect_error(-ELOOP);
}
END_TEST

START_TEST(test_loop_back)
{
	put_desc(DESC_GPA, 0, BUF_GPA, 8, VRING_DESC_F_NEXT, 1);
	put_desc(DESC_GPA, 1, BUF_GPA, 8, VRING_DESC_F_NEXT, 2);
	put_desc(DESC_GPA, 2, BUF_GPA, 8, VRING_DESC_F_NEXT, 1);
	offer(0);
	expect_error(-ELOOP);
}
END_TEST

START_TEST(test_loop_big_queue)
{
	/* 32768 entries, every one pointing to the next and the last back to 0 */
	start(32768, false, false);
	for (unsigned int i = 0; i < 32768; i++)
		put_desc(DESC_GPA, i, BUF_GPA, 0, VRING_DESC_F_NEXT, (i + 1) % 32768);
	offer(0);
	/* more than VIRTQ_MAX_SEGMENTS comes first here; either way: an error, no hang */
	expect_error(-E2BIG);
}
END_TEST

START_TEST(test_loop_over_ring_after_reenable)
{
	/* the error is sticky until enable; after that the queue starts clean */
	put_desc(DESC_GPA, 0, BUF_GPA, 8, VRING_DESC_F_NEXT, 0);
	offer(0);
	expect_error(-ELOOP);
	ck_assert_int_eq(virtq_enable(&vq, &mem), 0);
	drv_avail_idx = 0;
	put_desc(DESC_GPA, 0, BUF_GPA, 8, 0, 0);
	offer(0);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
}
END_TEST

START_TEST(test_next_out_of_range)
{
	put_desc(DESC_GPA, 0, BUF_GPA, 8, VRING_DESC_F_NEXT, 8);
	offer(0);
	expect_error(-ERANGE);
}
END_TEST

START_TEST(test_head_out_of_range)
{
	offer(8);
	expect_error(-ERANGE);
	start(8, false, false);
	offer(0xffff);
	expect_error(-ERANGE);
}
END_TEST

START_TEST(test_avail_idx_jumps)
{
	put_desc(DESC_GPA, 0, BUF_GPA, 8, 0, 0);
	avail()->idx = htole16(9);
	drv_avail_idx = 1; /* for expect_error: nothing consumed */
	expect_error(-EPROTO);

	/* "behind" is the same as far ahead: 65535 entries pending */
	start(8, false, false);
	start_at(100);
	avail()->idx = htole16(99);
	drv_avail_idx = 101;
	expect_error(-EPROTO);
}
END_TEST

START_TEST(test_buffer_outside_ram)
{
	put_desc(DESC_GPA, 0, RAM_SIZE - 4, 8, 0, 0);
	offer(0);
	expect_error(-EFAULT);

	start(8, false, false);
	put_desc(DESC_GPA, 0, BUF_GPA, 8, VRING_DESC_F_NEXT, 1);
	put_desc(DESC_GPA, 1, 0xfee00000, 4, VRING_DESC_F_WRITE, 0);
	offer(0);
	expect_error(-EFAULT);
}
END_TEST

START_TEST(test_buffer_wraps_address_space)
{
	put_desc(DESC_GPA, 0, UINT64_MAX - 10, 100, 0, 0);
	offer(0);
	expect_error(-EFAULT);

	/* an address that wraps to inside RAM when the length is added */
	start(8, false, false);
	put_desc(DESC_GPA, 0, UINT64_MAX - 0xfff, 0x2000, 0, 0);
	offer(0);
	expect_error(-EFAULT);
}
END_TEST

START_TEST(test_zero_length_outside_ram)
{
	put_desc(DESC_GPA, 0, RAM_SIZE + 1, 0, 0, 0);
	offer(0);
	expect_error(-EFAULT);
}
END_TEST

START_TEST(test_total_overflows_32_bits)
{
	/* descriptors may overlap: 256 covering all 16 MiB of RAM add up to 2^32 bytes */
	start(512, false, false);
	for (unsigned int i = 0; i < 256; i++)
		put_desc(DESC_GPA, i, 0, RAM_SIZE, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, i + 1);
	put_desc(DESC_GPA, 256, 0, 0, VRING_DESC_F_WRITE, 0);
	offer(0);
	expect_error(-EOVERFLOW);

	/* one byte less is exactly UINT32_MAX: fits */
	start(512, false, false);
	put_desc(DESC_GPA, 255, 0, RAM_SIZE - 1, VRING_DESC_F_WRITE, 0);
	offer(0);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_uint_eq(chain.nwritable, 256);
	ck_assert_uint_eq(chain.writable_bytes, UINT32_MAX);
}
END_TEST

START_TEST(test_writable_before_readable)
{
	put_desc(DESC_GPA, 0, BUF_GPA, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	put_desc(DESC_GPA, 1, BUF_GPA, 8, 0, 0);
	offer(0);
	expect_error(-EINVAL);
}
END_TEST

START_TEST(test_too_many_segments)
{
	/* VIRTQ_MAX_SEGMENTS is fine, one more is not */
	start(2048, false, false);
	for (unsigned int i = 0; i < VIRTQ_MAX_SEGMENTS; i++)
		put_desc(DESC_GPA, i, BUF_GPA, 1, VRING_DESC_F_NEXT, i + 1);
	put_desc(DESC_GPA, VIRTQ_MAX_SEGMENTS - 1, BUF_GPA, 1, 0, 0);
	offer(0);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_uint_eq(chain.nreadable, VIRTQ_MAX_SEGMENTS);

	put_desc(DESC_GPA, VIRTQ_MAX_SEGMENTS - 1, BUF_GPA, 1, VRING_DESC_F_NEXT,
		 VIRTQ_MAX_SEGMENTS);
	put_desc(DESC_GPA, VIRTQ_MAX_SEGMENTS, BUF_GPA, 1, 0, 0);
	offer(0);
	expect_error(-E2BIG);
}
END_TEST

START_TEST(test_too_many_segments_indirect)
{
	start(8, false, true);
	for (unsigned int i = 0; i <= VIRTQ_MAX_SEGMENTS; i++)
		put_desc(TABLE_GPA, i, BUF_GPA, 1, VRING_DESC_F_NEXT, i + 1);
	put_desc(TABLE_GPA, VIRTQ_MAX_SEGMENTS, BUF_GPA, 1, 0, 0);
	put_desc(DESC_GPA, 0, TABLE_GPA, 16 * (VIRTQ_MAX_SEGMENTS + 1), VRING_DESC_F_INDIRECT, 0);
	offer(0);
	expect_error(-E2BIG);
}
END_TEST

START_TEST(test_indirect_not_negotiated)
{
	put_desc(TABLE_GPA, 0, BUF_GPA, 8, 0, 0);
	put_desc(DESC_GPA, 0, TABLE_GPA, 16, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	expect_error(-EINVAL);
}
END_TEST

START_TEST(test_indirect_nested)
{
	start(8, false, true);
	put_desc(TABLE_GPA + 0x100, 0, BUF_GPA, 8, 0, 0);
	put_desc(TABLE_GPA, 0, BUF_GPA, 8, VRING_DESC_F_NEXT, 1);
	put_desc(TABLE_GPA, 1, TABLE_GPA + 0x100, 16, VRING_DESC_F_INDIRECT, 0);
	put_desc(DESC_GPA, 0, TABLE_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	expect_error(-EINVAL);
}
END_TEST

START_TEST(test_indirect_with_next)
{
	start(8, false, true);
	put_desc(TABLE_GPA, 0, BUF_GPA, 8, 0, 0);
	put_desc(DESC_GPA, 0, TABLE_GPA, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	put_desc(DESC_GPA, 1, BUF_GPA, 8, 0, 0);
	offer(0);
	expect_error(-EINVAL);
}
END_TEST

START_TEST(test_indirect_bad_length)
{
	static const uint32_t bad[] = { 0, 8, 24, 17, (VIRTQ_MAX_INDIRECT + 1) * 16 };

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		start(8, false, true);
		put_desc(DESC_GPA, 0, TABLE_GPA, bad[i], VRING_DESC_F_INDIRECT, 0);
		offer(0);
		expect_error(-EINVAL);
	}
}
END_TEST

START_TEST(test_indirect_table_outside_ram)
{
	start(8, false, true);
	put_desc(DESC_GPA, 0, RAM_SIZE - 16, 32, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	expect_error(-EFAULT);
}
END_TEST

START_TEST(test_indirect_loop_and_range)
{
	start(8, false, true);
	put_desc(TABLE_GPA, 0, BUF_GPA, 8, VRING_DESC_F_NEXT, 1);
	put_desc(TABLE_GPA, 1, BUF_GPA, 8, VRING_DESC_F_NEXT, 0);
	put_desc(DESC_GPA, 0, TABLE_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	expect_error(-ELOOP);

	/* next must stay within the table, even where the queue is bigger */
	start(8, false, true);
	put_desc(TABLE_GPA, 1, BUF_GPA, 8, VRING_DESC_F_NEXT, 2);
	offer(0);
	expect_error(-ERANGE);
}
END_TEST

START_TEST(test_indirect_writable_order)
{
	/* the readable-first rule spans the direct part and the table */
	start(8, false, true);
	put_desc(TABLE_GPA, 0, BUF_GPA, 8, 0, 0);
	put_desc(DESC_GPA, 0, BUF_GPA, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	put_desc(DESC_GPA, 1, TABLE_GPA, 16, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	expect_error(-EINVAL);
}
END_TEST

/* The guest rewrites a descriptor after we read it: we must use what we read, once. */
START_TEST(test_descriptor_read_once)
{
	put_desc(DESC_GPA, 0, BUF_GPA, 8, 0, 0);
	offer(0);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	put_desc(DESC_GPA, 0, UINT64_MAX, UINT32_MAX, VRING_DESC_F_NEXT, 0xffff);
	ck_assert_ptr_eq(chain.iov[0].iov_base, gpa_ptr(BUF_GPA));
	ck_assert_uint_eq(chain.iov[0].iov_len, 8);
}
END_TEST

/* --- push and interrupts ---------------------------------------------------------------- */

START_TEST(test_push_writes_used)
{
	virtq_push(&vq, 5, 1234);
	ck_assert_uint_eq(le16toh(used()->idx), 1);
	ck_assert_uint_eq(le32toh(used()->ring[0].id), 5);
	ck_assert_uint_eq(le32toh(used()->ring[0].len), 1234);
	for (unsigned int i = 1; i < 20; i++)
		virtq_push(&vq, i % 8, i);
	ck_assert_uint_eq(le16toh(used()->idx), 20);
	/* slot 19 % 8 = 3 holds the last one; nothing past the ring's 8 entries was touched */
	ck_assert_uint_eq(le32toh(used()->ring[3].len), 19);
	ck_assert_uint_eq(*avail_event(), 0);
}
END_TEST

START_TEST(test_interrupt_plain)
{
	ck_assert(!virtq_needs_interrupt(&vq)); /* nothing pushed */
	virtq_push(&vq, 0, 0);
	ck_assert(virtq_needs_interrupt(&vq));
	ck_assert(!virtq_needs_interrupt(&vq)); /* already decided */

	avail()->flags = htole16(VRING_AVAIL_F_NO_INTERRUPT);
	virtq_push(&vq, 1, 0);
	virtq_push(&vq, 2, 0);
	ck_assert(!virtq_needs_interrupt(&vq));

	avail()->flags = 0;
	virtq_push(&vq, 3, 0);
	ck_assert(virtq_needs_interrupt(&vq));
}
END_TEST

START_TEST(test_interrupt_event_idx)
{
	start(8, true, false);
	/* the flag means nothing with event indices */
	avail()->flags = htole16(VRING_AVAIL_F_NO_INTERRUPT);

	*used_event() = htole16(0); /* interrupt once used entry 0 is there */
	virtq_push(&vq, 0, 0);
	ck_assert(virtq_needs_interrupt(&vq));

	/* the driver has not moved used_event: it is still busy, no new interrupt */
	virtq_push(&vq, 1, 0);
	ck_assert(!virtq_needs_interrupt(&vq));

	/* it wants to hear when entry 3 is used: a batch of 2 crossing it */
	*used_event() = htole16(3);
	virtq_push(&vq, 2, 0);
	ck_assert(!virtq_needs_interrupt(&vq));
	virtq_push(&vq, 3, 0);
	virtq_push(&vq, 4, 0);
	ck_assert(virtq_needs_interrupt(&vq));

	/* suppression: used_event far ahead */
	*used_event() = htole16(100);
	for (unsigned int i = 0; i < 5; i++)
		virtq_push(&vq, i, 0);
	ck_assert(!virtq_needs_interrupt(&vq));
}
END_TEST

START_TEST(test_interrupt_event_idx_wrap)
{
	start(8, true, false);
	start_at(65533);
	*used_event() = htole16(65535);
	virtq_push(&vq, 0, 0);
	ck_assert(!virtq_needs_interrupt(&vq));
	virtq_push(&vq, 1, 0); /* 65534 */
	virtq_push(&vq, 2, 0); /* 65535: crosses */
	virtq_push(&vq, 3, 0); /* 0 */
	ck_assert(virtq_needs_interrupt(&vq));
	ck_assert_uint_eq(le16toh(used()->idx), 1);
}
END_TEST

START_TEST(test_interrupt_after_65536_pushes)
{
	/* a full lap of the 16-bit index without asking: cannot tell, so interrupt */
	start(8, true, false);
	*used_event() = htole16(40000);
	for (unsigned int i = 0; i < 65536; i++)
		virtq_push(&vq, 0, 0);
	ck_assert(virtq_needs_interrupt(&vq));
}
END_TEST

START_TEST(test_set_notify_flags)
{
	used()->flags = htole16(0x8000); /* whatever was there: we own this field */
	virtq_set_notify(&vq, false);
	ck_assert_uint_eq(le16toh(used()->flags), VRING_USED_F_NO_NOTIFY);
	virtq_set_notify(&vq, true);
	ck_assert_uint_eq(le16toh(used()->flags), 0);
	ck_assert_uint_eq(*avail_event(), 0);
}
END_TEST

START_TEST(test_set_notify_event_idx)
{
	start(8, true, false);
	put_desc(DESC_GPA, 0, BUF_GPA, 8, 0, 0);
	offer(0);
	offer(0);
	offer(0);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);

	*avail_event() = htole16(0x5555);
	virtq_set_notify(&vq, false); /* leaves avail_event behind */
	ck_assert_uint_eq(le16toh(*avail_event()), 0x5555);
	virtq_set_notify(&vq, true);
	ck_assert_uint_eq(le16toh(*avail_event()), 2);
	ck_assert_uint_eq(le16toh(used()->flags), 0); /* flags untouched with event indices */
	ck_assert(virtq_has_work(&vq));		      /* the re-check finds the third one */
	ck_assert_uint_eq(virtq_avail_pending(&vq), 1);
}
END_TEST

START_TEST(test_pop_or_rearm_empty_turns_notify_on)
{
	put_desc(DESC_GPA, 0, BUF_GPA, 8, 0, 0);
	offer(0);
	virtq_set_notify(&vq, false);
	ck_assert_int_eq(virtq_pop_or_rearm(&vq, &chain), 1);
	ck_assert_uint_eq(le16toh(used()->flags), VRING_USED_F_NO_NOTIFY); /* still off */
	ck_assert_int_eq(virtq_pop_or_rearm(&vq, &chain), 0);
	ck_assert_uint_eq(le16toh(used()->flags), 0);

	start(8, true, false);
	put_desc(DESC_GPA, 0, BUF_GPA, 8, 0, 0);
	offer(0);
	ck_assert_int_eq(virtq_pop_or_rearm(&vq, &chain), 1);
	ck_assert_int_eq(virtq_pop_or_rearm(&vq, &chain), 0);
	ck_assert_uint_eq(le16toh(*avail_event()), 1);
}
END_TEST

START_TEST(test_pop_or_rearm_reports_errors)
{
	avail()->idx = htole16(9); /* more than a ring ahead */
	ck_assert_int_eq(virtq_pop_or_rearm(&vq, &chain), -EPROTO);
	ck_assert_int_eq(virtq_pop_or_rearm(&vq, &chain), -EPROTO);
}
END_TEST

/*
 * The race virtq_pop_or_rearm() closes: the driver publishes a chain, then kicks only if
 * it sees notifications on. A device that turned them on after its empty pop without
 * looking again would miss a chain published in between and wait forever. A driver
 * thread offers one chain at a time; the device thread waits for a kick only when
 * virtq_pop_or_rearm() says 0, and a wait that times out is a lost wake-up. The window is
 * a few instructions wide: this is a stress check that fails only when the two threads
 * meet in it, not a proof.
 */
#define RACE_ROUNDS 20000

static sem_t race_kick;
static bool race_lost;

static void *race_driver(void *arg)
{
	(void)arg;
	for (unsigned int i = 0; i < RACE_ROUNDS && !__atomic_load_n(&race_lost, __ATOMIC_ACQUIRE);
	     i++) {
		/* publish at a different moment each round, to sweep the device's window */
		for (volatile unsigned int spin = 0; spin < (i * 7) % 97; spin++)
			;
		avail()->ring[drv_avail_idx & (vq.size - 1)] = 0;
		drv_avail_idx++;
		__atomic_store_n(&avail()->idx, htole16(drv_avail_idx), __ATOMIC_RELEASE);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (!(le16toh(__atomic_load_n(&used()->flags, __ATOMIC_ACQUIRE)) &
		      VRING_USED_F_NO_NOTIFY))
			sem_post(&race_kick);
		/* one chain at a time: wait until the device gave it back */
		while (le16toh(__atomic_load_n(&used()->idx, __ATOMIC_ACQUIRE)) != drv_avail_idx &&
		       !__atomic_load_n(&race_lost, __ATOMIC_ACQUIRE))
			;
	}
	return NULL;
}

START_TEST(test_pop_or_rearm_race)
{
	unsigned int served = 0;
	pthread_t driver;
	int r;

	put_desc(DESC_GPA, 0, BUF_GPA, 8, 0, 0);
	ck_assert_int_eq(sem_init(&race_kick, 0, 0), 0);
	race_lost = false;
	ck_assert_int_eq(pthread_create(&driver, NULL, race_driver, NULL), 0);
	virtq_set_notify(&vq, true);
	while (served < RACE_ROUNDS) {
		struct timespec deadline;

		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += 5;
		if (sem_timedwait(&race_kick, &deadline) != 0) {
			__atomic_store_n(&race_lost, true, __ATOMIC_RELEASE);
			break;
		}
		virtq_set_notify(&vq, false);
		while ((r = virtq_pop_or_rearm(&vq, &chain)) > 0) {
			virtq_push(&vq, chain.head, 0);
			served++;
		}
		ck_assert_int_eq(r, 0);
	}
	pthread_join(driver, NULL);
	sem_destroy(&race_kick);
	ck_assert_msg(!race_lost, "lost wake-up after %u chains", served);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("virtqueue");
	TCase *tc_enable = tcase_create("enable");
	TCase *tc_pop = tcase_create("pop");
	TCase *tc_bad = tcase_create("broken driver");
	TCase *tc_used = tcase_create("used ring and notifications");

	tcase_add_checked_fixture(tc_enable, setup, teardown);
	tcase_add_test(tc_enable, test_enable_checks_size);
	tcase_add_test(tc_enable, test_enable_checks_alignment);
	tcase_add_test(tc_enable, test_enable_checks_ram);
	tcase_add_test(tc_enable, test_reset_clears);
	tcase_add_test(tc_enable, test_live_size_is_the_checked_one);
	suite_add_tcase(s, tc_enable);

	tcase_add_checked_fixture(tc_pop, setup, teardown);
	tcase_add_test(tc_pop, test_empty_ring);
	tcase_add_test(tc_pop, test_simple_chain);
	tcase_add_test(tc_pop, test_only_readable_or_writable);
	tcase_add_test(tc_pop, test_zero_length_allowed);
	tcase_add_test(tc_pop, test_full_ring_and_longest_chain);
	tcase_add_test(tc_pop, test_index_wrap);
	tcase_add_test(tc_pop, test_indirect_valid);
	tcase_add_test(tc_pop, test_indirect_after_direct);
	tcase_add_test(tc_pop, test_descriptor_read_once);
	suite_add_tcase(s, tc_pop);

	tcase_add_checked_fixture(tc_bad, setup, teardown);
	tcase_add_test(tc_bad, test_loop_self);
	tcase_add_test(tc_bad, test_loop_back);
	tcase_add_test(tc_bad, test_loop_big_queue);
	tcase_add_test(tc_bad, test_loop_over_ring_after_reenable);
	tcase_add_test(tc_bad, test_next_out_of_range);
	tcase_add_test(tc_bad, test_head_out_of_range);
	tcase_add_test(tc_bad, test_avail_idx_jumps);
	tcase_add_test(tc_bad, test_buffer_outside_ram);
	tcase_add_test(tc_bad, test_buffer_wraps_address_space);
	tcase_add_test(tc_bad, test_zero_length_outside_ram);
	tcase_add_test(tc_bad, test_total_overflows_32_bits);
	tcase_add_test(tc_bad, test_writable_before_readable);
	tcase_add_test(tc_bad, test_too_many_segments);
	tcase_add_test(tc_bad, test_too_many_segments_indirect);
	tcase_add_test(tc_bad, test_indirect_not_negotiated);
	tcase_add_test(tc_bad, test_indirect_nested);
	tcase_add_test(tc_bad, test_indirect_with_next);
	tcase_add_test(tc_bad, test_indirect_bad_length);
	tcase_add_test(tc_bad, test_indirect_table_outside_ram);
	tcase_add_test(tc_bad, test_indirect_loop_and_range);
	tcase_add_test(tc_bad, test_indirect_writable_order);
	suite_add_tcase(s, tc_bad);

	tcase_add_checked_fixture(tc_used, setup, teardown);
	tcase_add_test(tc_used, test_push_writes_used);
	tcase_add_test(tc_used, test_interrupt_plain);
	tcase_add_test(tc_used, test_interrupt_event_idx);
	tcase_add_test(tc_used, test_interrupt_event_idx_wrap);
	tcase_add_test(tc_used, test_interrupt_after_65536_pushes);
	tcase_add_test(tc_used, test_set_notify_flags);
	tcase_add_test(tc_used, test_set_notify_event_idx);
	tcase_add_test(tc_used, test_pop_or_rearm_empty_turns_notify_on);
	tcase_add_test(tc_used, test_pop_or_rearm_reports_errors);
	tcase_add_test(tc_used, test_pop_or_rearm_race);
	suite_add_tcase(s, tc_used);
	return s;
}
