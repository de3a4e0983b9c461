/* SPDX-License-Identifier: MIT */
/*
 * MSI-X for a PCI function (PCI Local Bus 3.0, section 6.8.2): the capability's bytes,
 * the vector table and the pending-bit array (PBA) that live in a memory BAR, and the
 * masking rules that decide whether a device's interrupt is sent now, held pending, or
 * left to INTx.
 *
 * The model knows neither PCI config space nor KVM. The PCI glue adds the bytes from
 * msix_capability() to config space and calls msix_config_written() after each guest
 * write to them; the BAR's MMIO handler forwards table and PBA accesses; the owner's
 * ops turn a vector into a KVM MSI route (vector_changed) and deliver it (fire).
 *
 * A vector is *effectively masked* when MSI-X is disabled, the function mask is set, or
 * the entry's own mask bit is set. A message for an effectively masked vector sets its
 * pending bit; when the vector becomes unmasked, the bit is cleared and the message
 * sent, once.
 *
 * Thread safety: every function takes the mutex inside struct msix, so device threads
 * may call msix_notify() while vCPU threads access the table and config space. The ops
 * are called with that mutex held: they must not call back into this msix, and must not
 * take a lock that is held elsewhere around a call into it. Lock order is therefore
 * caller's locks -> msix -> whatever the ops take (e.g. the irq router's).
 */
#ifndef DEVICES_MSIX_H
#define DEVICES_MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MSIX_MAX_VECTORS 256 /* this model's limit; the spec's is 2048 */

/* Capability layout, offsets from its start in config space. */
#define MSIX_CAP_ID 0x11
#define MSIX_CAP_SIZE 12
#define MSIX_CAP_CTRL 2		    /* Message Control, 16 bits */
#define MSIX_CAP_TABLE 4	    /* Table Offset (bits 31:3) | Table BIR (bits 2:0) */
#define MSIX_CAP_PBA 8		    /* PBA Offset (bits 31:3) | PBA BIR (bits 2:0) */
#define MSIX_CTRL_TABLE_SIZE 0x07ff /* N - 1, read-only */
#define MSIX_CTRL_FMASK 0x4000	    /* Function Mask */
#define MSIX_CTRL_ENABLE 0x8000	    /* MSI-X Enable */
#define MSIX_BIR_MASK 0x7

/* One table entry, 16 bytes. */
#define MSIX_ENTRY_SIZE 16
#define MSIX_ENTRY_ADDR_LO 0 /* bits 1:0 read as 0 */
#define MSIX_ENTRY_ADDR_HI 4
#define MSIX_ENTRY_DATA 8
#define MSIX_ENTRY_CTRL 12 /* Vector Control: bit 0 masks; others reserved, read as 0 */
#define MSIX_ENTRY_CTRL_MASKED 0x1

struct msix_ops {
	/*
	 * The vector's message address/data or its effective mask changed (also while
	 * MSI-X is disabled, with masked true). The owner points the vector's KVM route at
	 * (addr, data); updating it only when !masked is enough, because no message is sent
	 * for a masked vector. Called before the pending message, if any, is fired.
	 */
	void (*vector_changed)(void *ctx, unsigned int vec, uint64_t addr, uint32_t data,
			       bool masked);
	/* Send the vector's message now (the owner signals the vector's irqfd). */
	void (*fire)(void *ctx, unsigned int vec);
};

struct msix_entry {
	uint32_t addr_lo;
	uint32_t addr_hi;
	uint32_t data;
	uint32_t ctrl;
};

struct msix {
	pthread_mutex_t lock;
	unsigned int nvec;
	unsigned int bar; /* BIR of the BAR holding both table and PBA */
	uint32_t table_offset;
	uint32_t pba_offset;
	const struct msix_ops *ops;
	void *ctx;
	bool enabled; /* Message Control bit 15 */
	bool fmask;   /* Message Control bit 14 */
	struct msix_entry table[MSIX_MAX_VECTORS];
	uint64_t pba[MSIX_MAX_VECTORS / 64];
};

/*
 * nvec vectors (1..MSIX_MAX_VECTORS); table and PBA at the given offsets (8-byte
 * aligned) in BAR number bar (0..5). The state is the reset state: disabled, function
 * not masked, every entry masked with address and data 0, nothing pending. ops (or any
 * of its members) may be NULL. Returns 0, or -EINVAL for bad parameters.
 */
int msix_init(struct msix *m, unsigned int nvec, unsigned int bar, uint32_t table_offset,
	      uint32_t pba_offset, const struct msix_ops *ops, void *ctx);
void msix_destroy(struct msix *m);
/*
 * Back to the reset state (a PCI function reset); the PCI glue resets the capability's
 * config bytes itself. vector_changed reports every vector whose state this changes.
 */
void msix_reset(struct msix *m);

/* Bytes the table and the PBA occupy in the BAR: 16 per vector, 8 per 64 vectors. */
size_t msix_table_size(const struct msix *m);
size_t msix_pba_size(const struct msix *m);

/*
 * The capability as at reset (next pointer 0, for the PCI code to fill) and its write
 * mask: only Function Mask and MSI-X Enable are writable. Returns MSIX_CAP_SIZE.
 */
size_t msix_capability(const struct msix *m, uint8_t cap[MSIX_CAP_SIZE],
		       uint8_t wmask[MSIX_CAP_SIZE]);
/*
 * After a guest write to the capability: cap points at its first byte in config space
 * (MSIX_CAP_SIZE bytes). Picks up Enable and Function Mask from Message Control.
 */
void msix_config_written(struct msix *m, const uint8_t *cap);

/*
 * BAR accesses, offset relative to the start of the table or PBA. 4- and 8-byte accesses
 * aligned to their size are served; any other (size, alignment, range) reads as 0 and
 * writes are dropped. The PBA is read-only.
 */
void msix_table_read(struct msix *m, uint64_t offset, void *data, unsigned int len);
void msix_table_write(struct msix *m, uint64_t offset, const void *data, unsigned int len);
void msix_pba_read(struct msix *m, uint64_t offset, void *data, unsigned int len);

/*
 * The device wants to interrupt with vector vec. Returns false when MSI-X is disabled
 * (nothing done: the caller raises INTx instead). Otherwise returns true, having fired
 * the vector, set its pending bit (effectively masked), or done nothing (vec has no
 * table entry, e.g. virtio's VIRTIO_MSI_NO_VECTOR).
 */
bool msix_notify(struct msix *m, unsigned int vec);
bool msix_enabled(struct msix *m);

/*
 * Snapshots: the vector table and the pending bits. Enable and Function Mask live in
 * config space and come back with it (msix_config_written), before msix_restore. Restore
 * reports each vector to vector_changed as a table write would, and sends a message that
 * was pending on a vector the restored state leaves unmasked.
 */
struct msix_state {
	uint32_t nvec, pad;
	struct msix_entry table[MSIX_MAX_VECTORS];
	uint64_t pba[MSIX_MAX_VECTORS / 64];
};
void msix_save(struct msix *m, struct msix_state *st);
/* Returns 0, or -EINVAL when st is for another number of vectors. */
int msix_restore(struct msix *m, const struct msix_state *st);

#endif
