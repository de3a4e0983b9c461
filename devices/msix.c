// SPDX-License-Identifier: MIT
/* MSI-X capability, vector table and pending bits (PCI Local Bus 3.0, 6.8.2). */
#include "devices/msix.h"
#include "devices/bus.h"

#include <errno.h>
#include <string.h>

/* What the owner has been told about a vector. */
struct vstate {
	uint64_t addr;
	uint32_t data;
	bool masked;
};

static void put32(uint8_t *p, uint32_t v)
{
	bus_store_le(p, 4, v);
}

/* A 4- or 8-byte access aligned to its size, wholly inside [0, size). */
static bool access_ok(uint64_t offset, unsigned int len, size_t size)
{
	return (len == 4 || len == 8) && offset % len == 0 && offset < size && len <= size - offset;
}

static bool pending(const struct msix *m, unsigned int v)
{
	return m->pba[v / 64] & (1ull << (v % 64));
}

static void set_pending(struct msix *m, unsigned int v, bool on)
{
	if (on)
		m->pba[v / 64] |= 1ull << (v % 64);
	else
		m->pba[v / 64] &= ~(1ull << (v % 64));
}

static struct vstate vstate_with(const struct msix *m, unsigned int v, bool enabled, bool fmask)
{
	const struct msix_entry *e = &m->table[v];

	return (struct vstate){
		.addr = (uint64_t)e->addr_hi << 32 | e->addr_lo,
		.data = e->data,
		.masked = !enabled || fmask || (e->ctrl & MSIX_ENTRY_CTRL_MASKED),
	};
}

static struct vstate vstate(const struct msix *m, unsigned int v)
{
	return vstate_with(m, v, m->enabled, m->fmask);
}

static void fire(struct msix *m, unsigned int v)
{
	if (m->ops && m->ops->fire)
		m->ops->fire(m->ctx, v);
}

/*
 * Vector v was `before` and may have changed: tell the owner, then send a pending
 * message if v is now unmasked.
 */
static void vector_update(struct msix *m, unsigned int v, struct vstate before)
{
	struct vstate now = vstate(m, v);

	if ((now.addr != before.addr || now.data != before.data || now.masked != before.masked) &&
	    m->ops && m->ops->vector_changed)
		m->ops->vector_changed(m->ctx, v, now.addr, now.data, now.masked);
	if (!now.masked && pending(m, v)) {
		set_pending(m, v, false);
		fire(m, v);
	}
}

static void reset_locked(struct msix *m)
{
	bool was_enabled = m->enabled, was_fmask = m->fmask;

	m->enabled = false;
	m->fmask = false;
	memset(m->pba, 0, sizeof(m->pba));
	for (unsigned int v = 0; v < m->nvec; v++) {
		struct vstate before = vstate_with(m, v, was_enabled, was_fmask);

		m->table[v] = (struct msix_entry){ .ctrl = MSIX_ENTRY_CTRL_MASKED };
		vector_update(m, v, before);
	}
}

int msix_init(struct msix *m, unsigned int nvec, unsigned int bar, uint32_t table_offset,
	      uint32_t pba_offset, const struct msix_ops *ops, void *ctx)
{
	int ret;

	if (nvec == 0 || nvec > MSIX_MAX_VECTORS || bar > 5 || table_offset % 8 || pba_offset % 8)
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	ret = pthread_mutex_init(&m->lock, NULL);
	if (ret)
		return -ret;
	m->nvec = nvec;
	m->bar = bar;
	m->table_offset = table_offset;
	m->pba_offset = pba_offset;
	for (unsigned int v = 0; v < nvec; v++)
		m->table[v].ctrl = MSIX_ENTRY_CTRL_MASKED; /* the mask bit's reset state is 1 */
	m->ops = ops;					   /* set last: init reports nothing */
	m->ctx = ctx;
	return 0;
}

void msix_destroy(struct msix *m)
{
	pthread_mutex_destroy(&m->lock);
}

void msix_reset(struct msix *m)
{
	pthread_mutex_lock(&m->lock);
	reset_locked(m);
	pthread_mutex_unlock(&m->lock);
}

size_t msix_table_size(const struct msix *m)
{
	return (size_t)m->nvec * MSIX_ENTRY_SIZE;
}

size_t msix_pba_size(const struct msix *m)
{
	return (m->nvec + 63) / 64 * 8;
}

size_t msix_capability(const struct msix *m, uint8_t cap[MSIX_CAP_SIZE],
		       uint8_t wmask[MSIX_CAP_SIZE])
{
	uint16_t ctrl = (uint16_t)((m->nvec - 1) & MSIX_CTRL_TABLE_SIZE);

	memset(cap, 0, MSIX_CAP_SIZE);
	cap[0] = MSIX_CAP_ID;
	cap[MSIX_CAP_CTRL] = (uint8_t)ctrl;
	cap[MSIX_CAP_CTRL + 1] = (uint8_t)(ctrl >> 8);
	put32(cap + MSIX_CAP_TABLE, m->table_offset | m->bar);
	put32(cap + MSIX_CAP_PBA, m->pba_offset | m->bar);

	memset(wmask, 0, MSIX_CAP_SIZE);
	wmask[MSIX_CAP_CTRL] = (uint8_t)(MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK);
	wmask[MSIX_CAP_CTRL + 1] = (uint8_t)((MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK) >> 8);
	return MSIX_CAP_SIZE;
}

void msix_config_written(struct msix *m, const uint8_t *cap)
{
	uint16_t ctrl = (uint16_t)bus_load_le(cap + MSIX_CAP_CTRL, 2);
	bool enabled = ctrl & MSIX_CTRL_ENABLE, fmask = ctrl & MSIX_CTRL_FMASK;
	bool was_enabled, was_fmask;

	pthread_mutex_lock(&m->lock);
	was_enabled = m->enabled;
	was_fmask = m->fmask;
	if (enabled != was_enabled || fmask != was_fmask) {
		m->enabled = enabled;
		m->fmask = fmask;
		for (unsigned int v = 0; v < m->nvec; v++)
			vector_update(m, v, vstate_with(m, v, was_enabled, was_fmask));
	}
	pthread_mutex_unlock(&m->lock);
}

void msix_table_read(struct msix *m, uint64_t offset, void *data, unsigned int len)
{
	const struct msix_entry *e;
	uint32_t words[4];
	unsigned int w;
	uint64_t v;

	if (!access_ok(offset, len, msix_table_size(m))) {
		memset(data, 0, len);
		return;
	}
	pthread_mutex_lock(&m->lock);
	e = &m->table[offset / MSIX_ENTRY_SIZE];
	words[0] = e->addr_lo;
	words[1] = e->addr_hi;
	words[2] = e->data;
	words[3] = e->ctrl;
	pthread_mutex_unlock(&m->lock);
	w = offset % MSIX_ENTRY_SIZE / 4;
	v = words[w];
	if (len == 8)
		v |= (uint64_t)words[w + 1] << 32;
	bus_store_le(data, len, v);
}

void msix_table_write(struct msix *m, uint64_t offset, const void *data, unsigned int len)
{
	struct msix_entry *e;
	struct vstate before;
	unsigned int vec, w;
	uint64_t val;

	if (!access_ok(offset, len, msix_table_size(m)))
		return;
	pthread_mutex_lock(&m->lock);
	vec = (unsigned int)(offset / MSIX_ENTRY_SIZE);
	e = &m->table[vec];
	before = vstate(m, vec);
	val = bus_load_le(data, len);
	for (w = offset % MSIX_ENTRY_SIZE / 4; len; len -= 4, w++, val >>= 32) {
		switch (w) {
		case MSIX_ENTRY_ADDR_LO / 4:
			e->addr_lo = (uint32_t)val & ~3u;
			break;
		case MSIX_ENTRY_ADDR_HI / 4:
			e->addr_hi = (uint32_t)val;
			break;
		case MSIX_ENTRY_DATA / 4:
			e->data = (uint32_t)val;
			break;
		default:
			e->ctrl = (uint32_t)val & MSIX_ENTRY_CTRL_MASKED;
			break;
		}
	}
	vector_update(m, vec, before);
	pthread_mutex_unlock(&m->lock);
}

void msix_pba_read(struct msix *m, uint64_t offset, void *data, unsigned int len)
{
	uint64_t v;

	if (!access_ok(offset, len, msix_pba_size(m))) {
		memset(data, 0, len);
		return;
	}
	pthread_mutex_lock(&m->lock);
	v = m->pba[offset / 8];
	pthread_mutex_unlock(&m->lock);
	if (offset % 8)
		v >>= 32;
	bus_store_le(data, len, v);
}

bool msix_notify(struct msix *m, unsigned int vec)
{
	bool enabled;

	pthread_mutex_lock(&m->lock);
	enabled = m->enabled;
	if (enabled && vec < m->nvec) {
		if (vstate(m, vec).masked)
			set_pending(m, vec, true);
		else
			fire(m, vec);
	}
	pthread_mutex_unlock(&m->lock);
	return enabled;
}

bool msix_enabled(struct msix *m)
{
	bool enabled;

	pthread_mutex_lock(&m->lock);
	enabled = m->enabled;
	pthread_mutex_unlock(&m->lock);
	return enabled;
}

void msix_save(struct msix *m, struct msix_state *st)
{
	pthread_mutex_lock(&m->lock);
	memset(st, 0, sizeof(*st));
	st->nvec = m->nvec;
	memcpy(st->table, m->table, m->nvec * sizeof(m->table[0]));
	memcpy(st->pba, m->pba, sizeof(st->pba));
	pthread_mutex_unlock(&m->lock);
}

int msix_restore(struct msix *m, const struct msix_state *st)
{
	if (st->nvec != m->nvec)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	for (unsigned int v = 0; v < m->nvec; v++) {
		struct vstate before = vstate(m, v);
		const struct msix_entry *e = &st->table[v];

		/* as msix_table_write() would store them */
		m->table[v] = (struct msix_entry){ e->addr_lo & ~3u, e->addr_hi, e->data,
						   e->ctrl & MSIX_ENTRY_CTRL_MASKED };
		set_pending(m, v, st->pba[v / 64] & (1ull << (v % 64)));
		vector_update(m, v, before);
	}
	pthread_mutex_unlock(&m->lock);
	return 0;
}
