// SPDX-License-Identifier: MIT
/*
 * Split virtqueue, device side: validate what the driver wrote, turn descriptor chains into
 * host iovecs, publish used entries and decide about notifications in both directions.
 *
 * Guest memory is shared with a running guest, so every read of it goes through the
 * helpers below: one volatile access per field (the compiler may neither repeat nor split
 * it), copied into a local before anything is checked. Alignment: the ring areas are
 * checked by virtq_enable(); an indirect table has no alignment rule, so descriptor reads
 * tolerate any address.
 */
#include "virtio/virtqueue.h"

#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

/* Unaligned-safe, single-access views of guest memory. */
struct vq_le16 {
	uint16_t v;
} __attribute__((packed, may_alias));
struct vq_le32 {
	uint32_t v;
} __attribute__((packed, may_alias));
struct vq_le64 {
	uint64_t v;
} __attribute__((packed, may_alias));

static inline uint16_t guest_read16(const void *p)
{
	return le16toh(((const volatile struct vq_le16 *)p)->v);
}

static inline uint32_t guest_read32(const void *p)
{
	return le32toh(((const volatile struct vq_le32 *)p)->v);
}

static inline uint64_t guest_read64(const void *p)
{
	return le64toh(((const volatile struct vq_le64 *)p)->v);
}

static inline void guest_write16(void *p, uint16_t v)
{
	((volatile struct vq_le16 *)p)->v = htole16(v);
}

static inline void guest_write32(void *p, uint32_t v)
{
	((volatile struct vq_le32 *)p)->v = htole32(v);
}

/* The ring indices: naturally aligned (virtq_enable() checked), so real atomics work. */
static inline uint16_t guest_load_acquire16(const uint16_t *p)
{
	return le16toh(__atomic_load_n(p, __ATOMIC_ACQUIRE));
}

static inline void guest_store_release16(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, htole16(v), __ATOMIC_RELEASE);
}

/* avail ring: flags, idx, ring[size], then used_event. */
static inline void *used_event_ptr(const struct virtq *vq)
{
	return (uint8_t *)vq->avail + offsetof(struct vring_avail, ring) + 2 * (size_t)vq->num;
}

/* used ring: flags, idx, ring[size] of 8-byte elements, then avail_event. */
static inline void *avail_event_ptr(const struct virtq *vq)
{
	return (uint8_t *)vq->used + offsetof(struct vring_used, ring) +
	       sizeof(struct vring_used_elem) * (size_t)vq->num;
}

static bool is_aligned(const void *p, uint64_t gpa, unsigned int align)
{
	return gpa % align == 0 && (uintptr_t)p % align == 0;
}

int virtq_enable(struct virtq *vq, const struct guest_mem *mem)
{
	unsigned int n = vq->size;
	void *desc, *avail, *used;

	vq->enabled = false;
	if (n == 0 || n > VIRTQ_MAX_SIZE || (n & (n - 1)) != 0)
		return -EINVAL;
	desc = guest_mem_ptr(mem, vq->desc_gpa, 16ull * n);
	avail = guest_mem_ptr(mem, vq->avail_gpa, 6ull + 2ull * n);
	used = guest_mem_ptr(mem, vq->used_gpa, 6ull + 8ull * n);
	if (!desc || !avail || !used)
		return -EINVAL;
	if (!is_aligned(desc, vq->desc_gpa, 16) || !is_aligned(avail, vq->avail_gpa, 2) ||
	    !is_aligned(used, vq->used_gpa, 4))
		return -EINVAL;

	vq->num = n;
	vq->mask = (uint16_t)(n - 1);
	vq->mem = mem;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->last_avail_idx = 0;
	vq->used_idx = 0;
	vq->signalled_used = 0;
	vq->signalled_used_valid = true;
	vq->used_flags = 0;
	vq->error = 0;
	vq->enabled = true;
	return 0;
}

void virtq_reset(struct virtq *vq)
{
	memset(vq, 0, sizeof(*vq));
}

/* One descriptor, read once. */
struct desc_copy {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

static struct desc_copy read_desc(const uint8_t *table, unsigned int i)
{
	const uint8_t *p = table + sizeof(struct vring_desc) * (size_t)i;

	return (struct desc_copy){
		.addr = guest_read64(p + offsetof(struct vring_desc, addr)),
		.len = guest_read32(p + offsetof(struct vring_desc, len)),
		.flags = guest_read16(p + offsetof(struct vring_desc, flags)),
		.next = guest_read16(p + offsetof(struct vring_desc, next)),
	};
}

/*
 * Follow the chain that starts at head. limit is how many entries the current table has
 * (queue size, or the indirect table's length); a chain that visits more descriptors than
 * that must revisit one, so counting catches every loop without trusting any index.
 */
static int walk_chain(struct virtq *vq, uint16_t head, struct virtq_chain *c)
{
	const uint8_t *table = (const uint8_t *)vq->desc;
	unsigned int limit = vq->num;
	unsigned int seen = 0;
	unsigned int idx = head;
	bool indirect = false;
	uint64_t total = 0;

	c->head = head;
	c->nreadable = 0;
	c->nwritable = 0;
	c->readable_bytes = 0;
	c->writable_bytes = 0;

	for (;;) {
		struct desc_copy d;
		unsigned int n = c->nreadable + c->nwritable;
		void *p;

		if (seen++ == limit)
			return -ELOOP;
		d = read_desc(table, idx);

		if (d.flags & VRING_DESC_F_INDIRECT) {
			/* the table ends the chain; its WRITE flag is ignored (2.7.5.3) */
			if (!vq->indirect_desc || indirect || (d.flags & VRING_DESC_F_NEXT))
				return -EINVAL;
			if (d.len == 0 || d.len % sizeof(struct vring_desc) != 0 ||
			    d.len / sizeof(struct vring_desc) > VIRTQ_MAX_INDIRECT)
				return -EINVAL;
			table = guest_mem_ptr(vq->mem, d.addr, d.len);
			if (!table)
				return -EFAULT;
			limit = d.len / sizeof(struct vring_desc);
			seen = 0;
			idx = 0;
			indirect = true;
			continue;
		}

		/* len 0 still needs its address in RAM; the pointer is never dereferenced here */
		p = guest_mem_ptr(vq->mem, d.addr, d.len);
		if (!p)
			return -EFAULT;
		if (n == VIRTQ_MAX_SEGMENTS)
			return -E2BIG;
		total += d.len;
		if (total > UINT32_MAX)
			return -EOVERFLOW;
		if (d.flags & VRING_DESC_F_WRITE) {
			c->nwritable++;
			c->writable_bytes += d.len;
		} else {
			if (c->nwritable)
				return -EINVAL; /* readable after writable (2.7.4.2) */
			c->nreadable++;
			c->readable_bytes += d.len;
		}
		c->iov[n].iov_base = p;
		c->iov[n].iov_len = d.len;

		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		idx = d.next;
		if (idx >= limit)
			return -ERANGE;
	}
}

static int fail(struct virtq *vq, int err)
{
	vq->error = err;
	return err;
}

int virtq_pop(struct virtq *vq, struct virtq_chain *chain)
{
	uint16_t avail_idx, pending, head;
	int r;

	if (!vq->enabled)
		return 0;
	if (vq->error)
		return vq->error;

	/* acquire: the driver fills ring entries and descriptors, then bumps idx */
	avail_idx = guest_load_acquire16(&vq->avail->idx);
	pending = (uint16_t)(avail_idx - vq->last_avail_idx);
	if (pending == 0)
		return 0;
	if (pending > vq->num)
		return fail(vq, -EPROTO);

	head = guest_read16(&vq->avail->ring[vq->last_avail_idx & vq->mask]);
	if (head >= vq->num)
		return fail(vq, -ERANGE);
	r = walk_chain(vq, head, chain);
	if (r < 0)
		return fail(vq, r);
	vq->last_avail_idx++;
	return 1;
}

int virtq_pop_or_rearm(struct virtq *vq, struct virtq_chain *chain)
{
	int r = virtq_pop(vq, chain);

	if (r != 0)
		return r;
	/*
	 * The driver may have added a chain after the pop looked and before it sees
	 * notifications on: it would not kick, so look once more after turning them on.
	 */
	virtq_set_notify(vq, true);
	if (!virtq_has_work(vq))
		return 0;
	virtq_set_notify(vq, false);
	return virtq_pop(vq, chain);
}

void virtq_unpop(struct virtq *vq, uint16_t n)
{
	vq->last_avail_idx = (uint16_t)(vq->last_avail_idx - n);
}

void virtq_push(struct virtq *vq, uint16_t head, uint32_t written)
{
	struct vring_used_elem *elem;

	if (!vq->enabled)
		return;
	elem = &vq->used->ring[vq->used_idx & vq->mask];
	guest_write32(&elem->id, head);
	guest_write32(&elem->len, written);
	vq->used_idx++;
	/* 65536 pushes without a decision: the old index says nothing any more */
	if (vq->used_idx == vq->signalled_used)
		vq->signalled_used_valid = false;
	/* release: the element must be visible before the index that covers it */
	guest_store_release16(&vq->used->idx, vq->used_idx);
}

bool virtq_needs_interrupt(struct virtq *vq)
{
	uint16_t old = vq->signalled_used, now = vq->used_idx;
	bool valid = vq->signalled_used_valid;

	if (!vq->enabled)
		return false;
	vq->signalled_used = now;
	vq->signalled_used_valid = true;
	if (valid && now == old)
		return false;

	/*
	 * Full barrier (store-load), not just acquire/release: the driver re-enables interrupts
	 * by writing used_event (or clearing NO_INTERRUPT), issuing a full barrier and then
	 * reading used->idx to catch entries it missed. We do the mirror image: store used->idx
	 * (virtq_push), then load its flag. Without a barrier on our side the CPU may perform
	 * our load before our store is visible (x86 allows store-load reordering), so both
	 * sides could read the other's old value: we skip the interrupt and the driver goes to
	 * sleep with an entry in the used ring.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	if (vq->event_idx) {
		if (!valid)
			return true;
		return vring_need_event(guest_read16(used_event_ptr(vq)), now, old);
	}
	return !(guest_read16(&vq->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
}

void virtq_set_notify(struct virtq *vq, bool enable)
{
	if (!vq->enabled)
		return;
	if (vq->event_idx) {
		/*
		 * Kick us once avail->idx moves past last_avail_idx. There is no way to say
		 * "never" with event indices; leaving the old value behind (disable) means the
		 * driver does not kick again until it laps it, which is what we want.
		 */
		if (enable)
			guest_write16(avail_event_ptr(vq), vq->last_avail_idx);
	} else {
		if (enable)
			vq->used_flags &= (uint16_t)~VRING_USED_F_NO_NOTIFY;
		else
			vq->used_flags |= VRING_USED_F_NO_NOTIFY;
		guest_write16(&vq->used->flags, vq->used_flags);
	}
	/*
	 * Same pattern as in virtq_needs_interrupt(), the other way round: the driver stores
	 * avail->idx, issues a full barrier and reads our flag; we store the flag and then
	 * re-read avail->idx (virtq_has_work). Without this barrier both could miss the other.
	 */
	if (enable)
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

bool virtq_has_work(struct virtq *vq)
{
	if (!vq->enabled || vq->error)
		return false;
	return guest_load_acquire16(&vq->avail->idx) != vq->last_avail_idx;
}

uint16_t virtq_avail_pending(struct virtq *vq)
{
	if (!vq->enabled)
		return 0;
	return (uint16_t)(guest_load_acquire16(&vq->avail->idx) - vq->last_avail_idx);
}

void virtq_save_indices(const struct virtq *vq, struct virtq_indices *ix)
{
	*ix = (struct virtq_indices){
		.last_avail_idx = vq->last_avail_idx,
		.used_idx = vq->used_idx,
		.signalled_used = vq->signalled_used,
		.used_flags = vq->used_flags,
		.signalled_used_valid = vq->signalled_used_valid,
	};
}

void virtq_restore_indices(struct virtq *vq, const struct virtq_indices *ix)
{
	vq->last_avail_idx = ix->last_avail_idx;
	vq->used_idx = ix->used_idx;
	vq->signalled_used = ix->signalled_used;
	vq->used_flags = ix->used_flags & VRING_USED_F_NO_NOTIFY;
	vq->signalled_used_valid = ix->signalled_used_valid;
}
