/* SPDX-License-Identifier: MIT */
/*
 * The snapshot state file (docs/snapshot.md): one header, then sections. Everything a
 * restore needs except guest RAM (which is a file of its own, see vmm/snapshot.h) is in
 * here, so this is the one place a student reads to know the format.
 *
 *   header   struct snap_header (88 bytes): magic "VMMSNAP\0", format version, the
 *            VMM's version, the payload's size and the file's SHA-256
 *   payload  sections, back to back: struct snap_section (16 bytes: id, instance, size),
 *            then size bytes, then zeros up to the next multiple of 8
 *
 * Numbers are in the host's byte order: x86-64 only, so little-endian. A section's
 * payload is usually a KVM structure from <linux/kvm.h> as the kernel gave it (a stable
 * ABI), or one of the small structures a device module declares for itself.
 *
 * A reader checks, in this order: the length covers a header (else "truncated"), the
 * magic, the format version, that the payload is exactly as long as the header says
 * (else "truncated"), the checksum (else "corrupted"), and that every section lies inside
 * the payload. Only then may anything be looked up: a restore never acts on a file that
 * failed any check. Pure code: no KVM, no files, so the unit tests cover all of it.
 */
#ifndef VMM_SNAPSHOT_FORMAT_H
#define VMM_SNAPSHOT_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/sha256.h"

#define SNAP_MAGIC "VMMSNAP" /* and its NUL: 8 bytes */
#define SNAP_MAGIC_LEN 8
/* Bump on any change a reader of the old version would misread. */
#define SNAP_FORMAT_VERSION 1
#define SNAP_VERSION_LEN 32
/* A state file is small (KVM structures, device registers); refuse anything absurd. */
#define SNAP_MAX_STATE (64u << 20)

struct snap_header {
	char magic[SNAP_MAGIC_LEN];
	uint32_t format_version;
	uint32_t header_size;		    /* sizeof(struct snap_header) */
	uint64_t payload_size;		    /* bytes after the header */
	char vmm_version[SNAP_VERSION_LEN]; /* who wrote it (NUL-padded), for the user */
	uint8_t sha256[SHA256_BYTES];	    /* of the whole file, these 32 bytes as zeros */
};

struct snap_section {
	uint32_t id;	   /* enum snap_section_id */
	uint32_t instance; /* vCPU index, device slot, ... ; 0 when there is one */
	uint64_t size;	   /* bytes of payload, without the padding */
};

_Static_assert(sizeof(struct snap_header) == 88, "the header is 88 bytes");
_Static_assert(sizeof(struct snap_section) == 16, "a section header is 16 bytes");

/*
 * What the sections hold. New ids go at the end; a reader ignores ids it does not ask
 * for, so adding one needs no new format version, changing one does.
 */
enum snap_section_id {
	SNAP_META = 1,	    /* struct snap_meta: the machine's shape, checked first */
	SNAP_VM_CLOCK,	    /* struct kvm_clock_data (kvmclock) */
	SNAP_VM_PIC_MASTER, /* struct kvm_irqchip, chip_id 0 */
	SNAP_VM_PIC_SLAVE,  /* struct kvm_irqchip, chip_id 1 */
	SNAP_VM_IOAPIC,	    /* struct kvm_irqchip, chip_id 2 */
	SNAP_VM_PIT,	    /* struct kvm_pit_state2 */
	SNAP_VCPU_MP_STATE, /* the vCPU sections: instance is the vCPU's index */
	SNAP_VCPU_REGS,
	SNAP_VCPU_SREGS,
	SNAP_VCPU_XSAVE, /* struct kvm_xsave, or larger (KVM_CAP_XSAVE2) */
	SNAP_VCPU_FPU,	 /* struct kvm_fpu, where KVM has no XSAVE */
	SNAP_VCPU_XCRS,
	SNAP_VCPU_DEBUGREGS,
	SNAP_VCPU_LAPIC,
	SNAP_VCPU_MSRS,	  /* struct kvm_msr_entry[] */
	SNAP_VCPU_EVENTS, /* struct kvm_vcpu_events */
	SNAP_UART,	  /* struct uart_state (devices/uart.h) */
	SNAP_POWER,	  /* struct power_state (devices/x86/power.h) */
	SNAP_PCI_CONFIG,  /* a function's config space; instance: its PCI slot */
	SNAP_MSIX,	  /* struct msix_entry[]: instance: the device slot in struct vm */
	SNAP_VIRTIO,	  /* struct virtio_pci_state (virtio/pci.h); instance: device slot */
	SNAP_DEVICE,	  /* the kind's own save hook (virtio/registry.h); instance: slot */
};

/* SNAP_META: what the command line of a restore must agree with. */
#define SNAP_MAX_DEVICES 32
#define SNAP_KIND_LEN 16
struct snap_meta {
	uint64_t memory_size; /* guest RAM in bytes: also the memory file's size */
	uint32_t ncpus;
	uint32_t ndevices;
	char devices[SNAP_MAX_DEVICES][SNAP_KIND_LEN]; /* kind names, in slot order */
};

/* ---- writing ---- */

struct snap_writer {
	uint8_t *buf; /* header room first, then the payload */
	size_t len, cap;
	size_t open; /* offset of the open section's header; 0: none open */
	int error;   /* the first failure (-ENOMEM, -EINVAL); every later call does nothing */
};

void snap_writer_init(struct snap_writer *w);
void snap_writer_free(struct snap_writer *w);
/* A whole section at once. Returns 0 or the writer's error. */
int snap_section(struct snap_writer *w, uint32_t id, uint32_t instance, const void *data,
		 size_t len);
/* A section in pieces: begin, any number of puts, end. Returns 0 or the writer's error. */
int snap_begin(struct snap_writer *w, uint32_t id, uint32_t instance);
int snap_put(struct snap_writer *w, const void *data, size_t len);
int snap_end(struct snap_writer *w);
/*
 * Fill in the header (version, size, checksum): w->buf[0 .. w->len) is then the file.
 * Returns 0, or the writer's error (also -EINVAL for a section left open).
 */
int snap_finish(struct snap_writer *w);

/* ---- reading ---- */

struct snap_reader {
	const uint8_t *buf;
	size_t len;
	struct snap_header header;
};

/*
 * Check buf[0 .. len) as described at the top. Returns 0, or -EINVAL with one line in err:
 * what is wrong, in words a user can act on ("truncated", "corrupted (checksum)",
 * "format version 2; this VMM reads version 1"). buf must outlive the reader; it is
 * written to while the checksum is computed (the checksum's own bytes count as zeros) and
 * left as it was.
 */
int snap_reader_open(struct snap_reader *r, uint8_t *buf, size_t len, char *err, size_t errlen);
/* The payload of section (id, instance): 0 with *data and *len set, or -ENOENT. */
int snap_find(const struct snap_reader *r, uint32_t id, uint32_t instance, const void **data,
	      size_t *len);
/* The same, for a section that must be exactly len bytes: 0, -ENOENT or -EBADMSG. */
int snap_get(const struct snap_reader *r, uint32_t id, uint32_t instance, void *out, size_t len);

/*
 * Whether the machine a restore builds (wanted, from its command line) is the one that
 * was saved. Returns 0, or -EINVAL with one line in err naming the first difference.
 */
int snap_meta_check(const struct snap_meta *saved, const struct snap_meta *wanted, char *err,
		    size_t errlen);

/*
 * A snapshot's place, as the API and --restore take it: "file:///DIR" (an absolute path;
 * no host part). Writes DIR into path. Returns 0, or -EINVAL with one line in err.
 */
int snap_parse_url(const char *url, char *path, size_t cap, char *err, size_t errlen);

#endif
