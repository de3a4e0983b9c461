/* SPDX-License-Identifier: MIT */
/*
 * A small writer of ACPI Machine Language (ACPI 6.x, chapter 20 "ACPI Machine Language
 * (AML) Specification") and of resource descriptors (section 6.4 "Resource Data Types"), used
 * to build the DSDT.
 *
 * Output goes into a caller-supplied buffer. Objects with a PkgLength (Scope, Device,
 * Method, Package, Buffer) are opened with aml_*_begin() and closed with aml_end(); they
 * nest, and the PkgLength (plus a Package's element count and a Buffer's size) is filled
 * in when the object is closed. Errors are sticky: after the first one every call does
 * nothing, and aml_finish() reports it. The writer never writes past the buffer.
 *
 * A Name is written as aml_name() followed by the one data object it names:
 *
 *	aml_name(a, "_UID");
 *	aml_integer(a, 1);
 */
#ifndef FIRMWARE_AML_H
#define FIRMWARE_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define AML_MAX_DEPTH 16

/* The largest value a 4-byte PkgLength can hold (28 bits). */
#define AML_PKGLEN_MAX 0x0fffffffu

enum aml_frame_kind {
	AML_FRAME_SCOPE,
	AML_FRAME_DEVICE,
	AML_FRAME_METHOD,
	AML_FRAME_PACKAGE,
	AML_FRAME_BUFFER,
};

struct aml_frame {
	enum aml_frame_kind kind;
	size_t start;	    /* just after the opcode: where the PkgLength goes */
	size_t reserved;    /* bytes held there for the header; the content follows */
	unsigned int count; /* elements so far, for a Package */
};

struct aml {
	uint8_t *buf;
	size_t size;
	size_t len;
	int err; /* 0, or the first -errno */
	unsigned int depth;
	struct aml_frame frames[AML_MAX_DEPTH];
};

/* Resource descriptor fields (ACPI 6.4.3.5 "Address Space Resource Descriptors"). */
#define AML_RES_TYPE_MEMORY 0
#define AML_RES_TYPE_IO 1
#define AML_RES_TYPE_BUS 2

#define AML_RES_CONSUMER (1u << 0) /* clear: the device produces it (a bridge window) */
#define AML_RES_SUB_DECODE (1u << 1)
#define AML_RES_MIN_FIXED (1u << 2)
#define AML_RES_MAX_FIXED (1u << 3)

#define AML_RES_MEM_RW (1u << 0)
#define AML_RES_MEM_NONCACHEABLE (0u << 1)
#define AML_RES_MEM_CACHEABLE (1u << 1)
#define AML_RES_MEM_WRITE_COMBINING (2u << 1)
#define AML_RES_MEM_PREFETCHABLE (3u << 1)

#define AML_RES_IO_ENTIRE_RANGE 3u

struct aml_addr_space {
	uint8_t type;	    /* AML_RES_TYPE_* */
	uint8_t flags;	    /* AML_RES_CONSUMER, _SUB_DECODE, _MIN_FIXED, _MAX_FIXED */
	uint8_t type_flags; /* AML_RES_MEM_* or AML_RES_IO_* */
	uint64_t granularity;
	uint64_t min;
	uint64_t max;
	uint64_t translation;
	uint64_t len;
};

void aml_init(struct aml *a, void *buf, size_t size);

/* The bytes written, or the first error (-ENOSPC, -EINVAL); also -EINVAL if left open. */
ssize_t aml_finish(struct aml *a);

/*
 * Encode the PkgLength of an object whose body (what follows the PkgLength) is body_len
 * bytes; the encoded value counts the PkgLength bytes themselves. Returns the number of
 * bytes written to out (1 to 4), or 0 when body_len is too large.
 */
size_t aml_pkglength(uint8_t out[4], size_t body_len);

/* Compress a 7-character EISA id such as "PNP0501" into its 32-bit form. */
int aml_eisaid_value(const char *id, uint32_t *out);

/* Raw bytes, for anything the helpers below do not cover. */
void aml_bytes(struct aml *a, const void *p, size_t n);

/* Data objects; inside a Package each one counts as an element. */
void aml_integer(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);
void aml_eisaid(struct aml *a, const char *id);
void aml_name_ref(struct aml *a, const char *path);

/* Named objects and statements. */
void aml_name(struct aml *a, const char *path);
void aml_return(struct aml *a);
/* Notify(path, value): tell the OS's driver of the device at path of event value. */
void aml_notify(struct aml *a, const char *path, uint64_t value);

/* Nested objects: each begin is closed by aml_end(). */
void aml_scope_begin(struct aml *a, const char *path);
void aml_device_begin(struct aml *a, const char *path);
void aml_method_begin(struct aml *a, const char *path, unsigned int nargs, bool serialized);
void aml_package_begin(struct aml *a);
void aml_buffer_begin(struct aml *a);
void aml_end(struct aml *a);

/* A ResourceTemplate: a Buffer whose end adds the End Tag. */
void aml_resources_begin(struct aml *a);
void aml_resources_end(struct aml *a);

/* Resource descriptors; only valid inside a Buffer. */
void aml_res_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align, uint8_t len);
void aml_res_irq_noflags(struct aml *a, unsigned int irq);
void aml_res_word(struct aml *a, const struct aml_addr_space *r);
void aml_res_dword(struct aml *a, const struct aml_addr_space *r);
void aml_res_qword(struct aml *a, const struct aml_addr_space *r);
void aml_res_end_tag(struct aml *a);

/* Shorthands for the common address-space descriptors of a host bridge's _CRS. */
void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max);
void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max);
void aml_res_dword_memory(struct aml *a, uint32_t min, uint32_t max, bool prefetchable);
void aml_res_qword_memory(struct aml *a, uint64_t min, uint64_t max, bool prefetchable);

#endif
