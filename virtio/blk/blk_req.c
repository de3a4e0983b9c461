// SPDX-License-Identifier: MIT
/*
 * virtio-blk: turn descriptor chains into disk I/O (VIRTIO 1.2 section 5.2.6).
 *
 * A request is a 16-byte header (type, reserved/ioprio, sector) in the first readable
 * bytes, then data, then one status byte: the last writable byte. Header and data may be
 * split across descriptors in any way, and the status byte may share a descriptor with
 * data; the parser below works on byte counts, not on descriptor boundaries.
 */
#include "virtio/blk/blk_internal.h"
#include "virtio/iov.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

_Static_assert(sizeof(struct virtio_blk_outhdr) == 16, "virtio_blk_outhdr");
_Static_assert(sizeof(struct virtio_blk_discard_write_zeroes) == 16, "discard segment");

/* ------------------------------------------------------------------------------------ */
/* Requests */

static void log_io_error(struct blk_queue *q, struct blk_req *r)
{
	struct blk *b = q->blk;

	if (__atomic_exchange_n(&b->io_error_logged, true, __ATOMIC_RELAXED))
		return;
	fprintf(stderr,
		"vmm: %s: %s: request type %u at byte %llu failed: %s "
		"(further errors not logged)\n",
		b->vdev.name, b->disk.path, r->type, (unsigned long long)r->io.offset,
		strerror(-r->io.result));
}

void blk_req_free(struct blk_queue *q, struct blk_req *r)
{
	r->next_free = q->free;
	q->free = r;
	q->inflight--;
}

static void req_complete(struct blk_queue *q, struct blk_req *r, uint8_t status)
{
	struct virtio_device *vdev = &q->blk->vdev;

	*(volatile uint8_t *)r->status = status;
	/* virtq_push publishes used->idx with release semantics: the status byte goes first */
	virtq_push(&vdev->queues[q->index], r->chain.head,
		   status == VIRTIO_BLK_S_OK ? r->used_len : 1);
	q->pushed = true;
	blk_req_free(q, r);
}

/* Copy len bytes out of the segments starting at *iov, consuming them (edits the iovecs). */
static int iov_take(struct iovec **iov, unsigned int *cnt, void *dst, size_t len)
{
	int r = iov_to_buf(*iov, *cnt, 0, dst, len);

	return r < 0 ? r : iov_pull(iov, cnt, len);
}

/* [sector, sector + bytes/512) inside the capacity, without overflowing */
static bool range_ok(const struct blk *b, uint64_t sector, uint64_t bytes)
{
	uint64_t cap = b->disk.sectors;

	return sector <= cap && bytes / DISK_SECTOR_SIZE <= cap - sector;
}

static void req_submit(struct blk_queue *q, struct blk_req *r, enum disk_io_op op, uint64_t offset,
		       uint64_t len, struct iovec *iov, unsigned int iovcnt)
{
	struct disk_io *io = &r->io;

	io->op = op;
	io->unmap = false;
	io->offset = offset;
	io->len = len;
	io->iov = iov;
	io->iovcnt = iovcnt;
	io->priv = r;
	disk_engine_submit(&q->engine, io);
}

static void start_range(struct blk_queue *q, struct blk_req *r)
{
	const struct blk_range *rg = &r->ranges[r->range];
	struct disk_io *io = &r->io;

	io->op = r->type == VIRTIO_BLK_T_DISCARD ? DISK_IO_DISCARD : DISK_IO_WRITE_ZEROES;
	io->unmap = r->type == VIRTIO_BLK_T_WRITE_ZEROES &&
		    (rg->flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	io->offset = rg->sector * DISK_SECTOR_SIZE;
	io->len = (uint64_t)rg->num_sectors * DISK_SECTOR_SIZE;
	io->iov = NULL;
	io->iovcnt = 0;
	io->priv = r;
	disk_engine_submit(&q->engine, io);
}

/* DISCARD and WRITE_ZEROES: copy and check every segment before touching the file. */
static int start_dwz(struct blk_queue *q, struct blk_req *r, struct iovec *rd, unsigned int rdcnt,
		     uint64_t rd_bytes, uint64_t wr_bytes)
{
	struct blk *b = q->blk;
	bool discard = r->type == VIRTIO_BLK_T_DISCARD;
	unsigned int feature = discard ? VIRTIO_BLK_F_DISCARD : VIRTIO_BLK_F_WRITE_ZEROES;

	if (!virtio_has_feature(&b->vdev, feature))
		return VIRTIO_BLK_S_UNSUPP;
	if (b->disk.readonly)
		return VIRTIO_BLK_S_IOERR;
	if (wr_bytes || rd_bytes == 0 || rd_bytes % sizeof(struct virtio_blk_discard_write_zeroes))
		return VIRTIO_BLK_S_IOERR;
	r->nranges = (unsigned int)(rd_bytes / sizeof(struct virtio_blk_discard_write_zeroes));
	if (rd_bytes / sizeof(struct virtio_blk_discard_write_zeroes) > BLK_DWZ_SEG_MAX)
		return VIRTIO_BLK_S_IOERR;
	for (unsigned int i = 0; i < r->nranges; i++) {
		struct virtio_blk_discard_write_zeroes seg;
		struct blk_range *rg = &r->ranges[i];

		if (iov_take(&rd, &rdcnt, &seg, sizeof(seg)) < 0)
			return VIRTIO_BLK_S_IOERR;
		rg->sector = le64toh(seg.sector);
		rg->num_sectors = le32toh(seg.num_sectors);
		rg->flags = le32toh(seg.flags);
		if (rg->flags & ~(uint32_t)VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)
			return VIRTIO_BLK_S_UNSUPP; /* unknown flag */
		if (discard && (rg->flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP))
			return VIRTIO_BLK_S_UNSUPP;
		if (rg->num_sectors > BLK_DWZ_SECTORS_MAX)
			return VIRTIO_BLK_S_IOERR;
		if (!range_ok(b, rg->sector, (uint64_t)rg->num_sectors * DISK_SECTOR_SIZE))
			return VIRTIO_BLK_S_IOERR;
	}
	r->range = 0;
	r->used_len = 1;
	start_range(q, r);
	return -1;
}

/*
 * Parse and start one chain. Returns false if the chain has no writable byte for the
 * status: nothing can be reported, so the driver broke the rules (NEEDS_RESET).
 */
bool blk_req_start(struct blk_queue *q, struct blk_req *r)
{
	struct blk *b = q->blk;
	struct virtq_chain *c = &r->chain;
	struct virtio_blk_outhdr hdr;
	unsigned int wr_first = c->nreadable, wr_end = c->nreadable + c->nwritable;
	struct iovec *rd = c->iov, *last;
	unsigned int rdcnt = c->nreadable, wrcnt;
	uint64_t rd_bytes, wr_bytes, sector;
	int status;

	/* the status byte: the last byte of the last non-empty writable segment */
	while (wr_end > wr_first && c->iov[wr_end - 1].iov_len == 0)
		wr_end--;
	if (wr_end == wr_first)
		return false;
	last = &c->iov[wr_end - 1];
	last->iov_len--;
	r->status = (uint8_t *)last->iov_base + last->iov_len;
	wrcnt = wr_end - wr_first;
	wr_bytes = (uint64_t)c->writable_bytes - 1;
	r->used_len = 1;
	r->type = UINT32_MAX;

	if (iov_take(&rd, &rdcnt, &hdr, sizeof(hdr)) < 0) {
		req_complete(q, r, VIRTIO_BLK_S_IOERR);
		return true;
	}
	rd_bytes = c->readable_bytes - sizeof(hdr);
	r->type = le32toh(hdr.type);
	sector = le64toh(hdr.sector);

	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		if (rd_bytes || wr_bytes % DISK_SECTOR_SIZE || !range_ok(b, sector, wr_bytes)) {
			status = VIRTIO_BLK_S_IOERR;
			break;
		}
		r->used_len = (uint32_t)wr_bytes + 1;
		req_submit(q, r, DISK_IO_READ, sector * DISK_SECTOR_SIZE, wr_bytes,
			   &c->iov[wr_first], wrcnt);
		return true;
	case VIRTIO_BLK_T_OUT:
		if (b->disk.readonly || wr_bytes || rd_bytes % DISK_SECTOR_SIZE ||
		    !range_ok(b, sector, rd_bytes)) {
			status = VIRTIO_BLK_S_IOERR;
			break;
		}
		req_submit(q, r, DISK_IO_WRITE, sector * DISK_SECTOR_SIZE, rd_bytes, rd, rdcnt);
		return true;
	case VIRTIO_BLK_T_FLUSH:
		if (b->disk.readonly) {
			status = VIRTIO_BLK_S_OK;
			break;
		}
		req_submit(q, r, DISK_IO_FLUSH, 0, 0, NULL, 0);
		return true;
	case VIRTIO_BLK_T_GET_ID: {
		size_t n = wr_bytes < sizeof(b->serial) ? wr_bytes : sizeof(b->serial);

		/* the serial is cut to the room the driver gave, as the spec allows */
		if (rd_bytes || iov_from_buf(&c->iov[wr_first], wrcnt, 0, b->serial, n) < 0) {
			status = VIRTIO_BLK_S_IOERR;
			break;
		}
		r->used_len = (uint32_t)n + 1;
		status = VIRTIO_BLK_S_OK;
		break;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		status = start_dwz(q, r, rd, rdcnt, rd_bytes, wr_bytes);
		if (status < 0)
			return true;
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
	req_complete(q, r, (uint8_t)status);
	return true;
}

/* The engine finished r->io. */
void blk_io_done(struct disk_io *io, void *opaque)
{
	struct blk_queue *q = opaque;
	struct blk_req *r = io->priv;

	switch (r->type) {
	case VIRTIO_BLK_T_OUT:
		if (io->result == 0 && io->op == DISK_IO_WRITE && q->writethrough) {
			req_submit(q, r, DISK_IO_FLUSH, 0, 0, NULL, 0);
			return;
		}
		break;
	case VIRTIO_BLK_T_DISCARD:
		/* discarding is a hint (the device MAY deallocate): no hole punching is fine */
		if (io->result == -EOPNOTSUPP)
			io->result = 0;
		/* fall through */
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (io->result == 0 && ++r->range < r->nranges) {
			start_range(q, r);
			return;
		}
		break;
	}
	if (io->result)
		log_io_error(q, r);
	req_complete(q, r, io->result ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
}
