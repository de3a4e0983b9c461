/* SPDX-License-Identifier: MIT */
/*
 * SMBIOS tables following DMTF DSP0134 version 3.0: the 64-bit entry point (5.2.2) and
 * the structures of the required list (6.2) that mean something in a VM: BIOS (type 0),
 * system (type 1), enclosure (type 3), processors (type 4), physical memory array
 * (type 16), memory device (type 17), memory array mapped address (type 19) and system
 * boot (type 32), then end-of-table (type 127). Caches (type 7) and system slots (type 9)
 * are left out: CPUID describes the caches, and there are no physical slots. Every
 * structure is a formatted area (header first, then fixed fields, where a string field
 * holds a 1-based number into the string set) followed by its string set: NUL-terminated
 * strings and one more NUL, or two NULs when there are no strings.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "devices/platform.h"
#include "firmware/checksum.h"
#include "firmware/smbios.h"

#define SMBIOS_MAJOR 3
#define SMBIOS_MINOR 0
#define SMBIOS_DOCREV 0
#define SMBIOS_EP_REVISION 1	 /* the 3.0 entry point structure */
#define SMBIOS_TABLE_OFFSET 0x20 /* the structure table follows the entry point in buf */

#define SMBIOS_MANUFACTURER "minivmm"
#define SMBIOS_BIOS_VERSION "1.0"
#define SMBIOS_BIOS_DATE "11/23/2026" /* mm/dd/yyyy */
#define SMBIOS_BIOS_MAJOR 1
#define SMBIOS_BIOS_MINOR 0
#define SMBIOS_PRODUCT_VERSION "1.0"
#define SMBIOS_FAMILY "Virtual Machine"

#define SMBIOS_TYPE_BIOS 0
#define SMBIOS_TYPE_SYSTEM 1
#define SMBIOS_TYPE_ENCLOSURE 3
#define SMBIOS_TYPE_PROCESSOR 4
#define SMBIOS_TYPE_MEMORY_ARRAY 16
#define SMBIOS_TYPE_MEMORY_DEVICE 17
#define SMBIOS_TYPE_MEMORY_ARRAY_MAPPED 19
#define SMBIOS_TYPE_SYSTEM_BOOT 32
#define SMBIOS_TYPE_END 127

#define SMBIOS_NO_HANDLE 0xffff		  /* no such structure (processor caches) */
#define SMBIOS_HANDLE_NOT_PROVIDED 0xfffe /* memory error information: not provided */

#define KiB 1024ull
#define MiB (1024ull * KiB)

struct smbios3_entry_point {
	char anchor[5];	  /* "_SM3_" */
	uint8_t checksum; /* the entry point's bytes add up to 0 */
	uint8_t length;
	uint8_t major;
	uint8_t minor;
	uint8_t docrev;
	uint8_t revision;
	uint8_t reserved;
	uint32_t table_max_size;
	uint64_t table_address;
} __attribute__((packed));

struct smbios_header {
	uint8_t type;
	uint8_t length; /* of the formatted area, header included; not of the strings */
	uint16_t handle;
} __attribute__((packed));

struct smbios_bios {
	struct smbios_header h;
	uint8_t vendor;
	uint8_t version;
	uint16_t start_segment;
	uint8_t release_date;
	uint8_t rom_size; /* 64 KiB * (n + 1) */
	uint64_t characteristics;
	uint8_t characteristics_ext[2];
	uint8_t major_release;
	uint8_t minor_release;
	uint8_t ec_major_release;
	uint8_t ec_minor_release;
} __attribute__((packed));

#define SMBIOS_BIOS_PCI (1ull << 7)
#define SMBIOS_BIOS_EXT1_ACPI (1u << 0)
#define SMBIOS_BIOS_EXT2_VM (1u << 4)	 /* "SMBIOS table describes a virtual machine" */
#define SMBIOS_BIOS_START_SEGMENT 0xe000 /* the BIOS area: 0xe0000-0xfffff */
#define SMBIOS_BIOS_ROM_SIZE 1		 /* 128 KiB, the same area */
#define SMBIOS_NO_EC 0xff

struct smbios_system {
	struct smbios_header h;
	uint8_t manufacturer;
	uint8_t product;
	uint8_t version;
	uint8_t serial;
	uint8_t uuid[SMBIOS_UUID_LEN];
	uint8_t wakeup_type;
	uint8_t sku;
	uint8_t family;
} __attribute__((packed));

#define SMBIOS_WAKEUP_POWER_SWITCH 0x06

struct smbios_enclosure {
	struct smbios_header h;
	uint8_t manufacturer;
	uint8_t type;
	uint8_t version;
	uint8_t serial;
	uint8_t asset_tag;
	uint8_t bootup_state;
	uint8_t power_supply_state;
	uint8_t thermal_state;
	uint8_t security_status;
	uint32_t oem_defined;
	uint8_t height;
	uint8_t power_cords;
	uint8_t element_count; /* no contained elements, so the SKU follows directly */
	uint8_t element_length;
	uint8_t sku;
} __attribute__((packed));

#define SMBIOS_ENCLOSURE_OTHER 0x01
#define SMBIOS_STATE_SAFE 0x03
#define SMBIOS_SECURITY_NONE 0x03

struct smbios_processor {
	struct smbios_header h;
	uint8_t socket;
	uint8_t type;
	uint8_t family;
	uint8_t manufacturer;
	uint64_t id;
	uint8_t version;
	uint8_t voltage;
	uint16_t external_clock;
	uint16_t max_speed;
	uint16_t current_speed;
	uint8_t status;
	uint8_t upgrade;
	uint16_t l1_cache;
	uint16_t l2_cache;
	uint16_t l3_cache;
	uint8_t serial;
	uint8_t asset_tag;
	uint8_t part_number;
	uint8_t core_count;
	uint8_t core_enabled;
	uint8_t thread_count;
	uint16_t characteristics;
	uint16_t family2;
	uint16_t core_count2;
	uint16_t core_enabled2;
	uint16_t thread_count2;
} __attribute__((packed));

#define SMBIOS_PROCESSOR_CENTRAL 0x03
#define SMBIOS_PROCESSOR_FAMILY_OTHER 0x01
#define SMBIOS_PROCESSOR_POPULATED (1u << 6)
#define SMBIOS_PROCESSOR_ENABLED 0x01
#define SMBIOS_PROCESSOR_UPGRADE_OTHER 0x01
#define SMBIOS_PROCESSOR_64BIT (1u << 2)

struct smbios_memory_array {
	struct smbios_header h;
	uint8_t location;
	uint8_t use;
	uint8_t error_correction;
	uint32_t max_capacity; /* KiB; SMBIOS_CAPACITY_EXTENDED: see ext_max_capacity */
	uint16_t error_handle;
	uint16_t devices;
	uint64_t ext_max_capacity; /* bytes */
} __attribute__((packed));

#define SMBIOS_ARRAY_SYSTEM_BOARD 0x03
#define SMBIOS_ARRAY_SYSTEM_MEMORY 0x03
#define SMBIOS_ARRAY_ECC_NONE 0x03
#define SMBIOS_CAPACITY_EXTENDED 0x80000000u

struct smbios_memory_device {
	struct smbios_header h;
	uint16_t array_handle;
	uint16_t error_handle;
	uint16_t total_width;
	uint16_t data_width;
	uint16_t size; /* MiB (bit 15 clear); SMBIOS_SIZE_EXTENDED: see ext_size */
	uint8_t form_factor;
	uint8_t device_set;
	uint8_t device_locator;
	uint8_t bank_locator;
	uint8_t memory_type;
	uint16_t type_detail;
	uint16_t speed;
	uint8_t manufacturer;
	uint8_t serial;
	uint8_t asset_tag;
	uint8_t part_number;
	uint8_t attributes;
	uint32_t ext_size; /* MiB, bits 0-30 */
	uint16_t configured_speed;
	uint16_t min_voltage;
	uint16_t max_voltage;
	uint16_t configured_voltage;
} __attribute__((packed));

#define SMBIOS_WIDTH_UNKNOWN 0xffff
#define SMBIOS_SIZE_EXTENDED 0x7fff
#define SMBIOS_EXT_SIZE_MAX 0x7fffffffull
#define SMBIOS_FORM_FACTOR_OTHER 0x01
#define SMBIOS_MEMORY_TYPE_RAM 0x07
#define SMBIOS_TYPE_DETAIL_OTHER (1u << 1)

struct smbios_memory_mapped {
	struct smbios_header h;
	uint32_t start; /* KiB; SMBIOS_ADDRESS_EXTENDED (with end): see ext_start */
	uint32_t end;	/* KiB: the address of the last KiB of the range */
	uint16_t array_handle;
	uint8_t partition_width;
	uint64_t ext_start; /* bytes */
	uint64_t ext_end;   /* bytes: the address of the last byte of the range */
} __attribute__((packed));

#define SMBIOS_ADDRESS_EXTENDED 0xffffffffu

struct smbios_system_boot {
	struct smbios_header h;
	uint8_t reserved[6];
	uint8_t status;
} __attribute__((packed));

#define SMBIOS_BOOT_NO_ERRORS 0x00

_Static_assert(sizeof(struct smbios3_entry_point) == 0x18, "SMBIOS 3.0 entry point");
_Static_assert(sizeof(struct smbios_header) == 4, "structure header");
_Static_assert(sizeof(struct smbios_bios) == 0x18, "type 0, SMBIOS 2.4+");
_Static_assert(sizeof(struct smbios_system) == 0x1b, "type 1, SMBIOS 2.4+");
_Static_assert(sizeof(struct smbios_enclosure) == 0x16, "type 3 without elements, 2.7+");
_Static_assert(sizeof(struct smbios_processor) == 0x30, "type 4, SMBIOS 3.0");
_Static_assert(sizeof(struct smbios_memory_array) == 0x17, "type 16, SMBIOS 2.7+");
_Static_assert(sizeof(struct smbios_memory_device) == 0x28, "type 17, SMBIOS 2.8+");
_Static_assert(sizeof(struct smbios_memory_mapped) == 0x1f, "type 19, SMBIOS 2.7+");
_Static_assert(sizeof(struct smbios_system_boot) == 0x0b, "type 32");
_Static_assert(SMBIOS_TABLE_OFFSET >= sizeof(struct smbios3_entry_point), "entry point room");

struct smbios_builder {
	uint8_t *buf;
	size_t size;
	size_t used;
	uint16_t next_handle;
	unsigned int nstrings; /* in the string set of the structure being written */
	bool full;	       /* something did not fit: the build ends with -ENOSPC */
};

/*
 * Start a structure: len zeroed bytes of formatted area with its header filled in and
 * the next handle. NULL when it does not fit.
 */
static void *smbios_begin(struct smbios_builder *b, uint8_t type, size_t len)
{
	struct smbios_header *h;

	if (b->full || len > b->size - b->used) {
		b->full = true;
		return NULL;
	}
	h = (struct smbios_header *)(b->buf + b->used);
	memset(h, 0, len);
	h->type = type;
	h->length = len;
	h->handle = b->next_handle++;
	b->used += len;
	b->nstrings = 0;
	return h;
}

/*
 * Add s to the string set of the structure begun last; returns the number its string
 * fields take, or 0 (no string) for "" or when it does not fit.
 */
static uint8_t smbios_string(struct smbios_builder *b, const char *s)
{
	size_t len = strlen(s) + 1;

	if (b->full || len == 1)
		return 0;
	if (len > b->size - b->used) {
		b->full = true;
		return 0;
	}
	memcpy(b->buf + b->used, s, len);
	b->used += len;
	return ++b->nstrings;
}

/* End the string set: one more NUL after the last string, or two NULs for none. */
static int smbios_end(struct smbios_builder *b)
{
	size_t nuls = b->nstrings ? 1 : 2;

	if (b->full || nuls > b->size - b->used) {
		b->full = true;
		return -ENOSPC;
	}
	memset(b->buf + b->used, 0, nuls);
	b->used += nuls;
	return 0;
}

static int smbios_build_bios(struct smbios_builder *b)
{
	struct smbios_bios *t = smbios_begin(b, SMBIOS_TYPE_BIOS, sizeof(*t));

	if (!t)
		return -ENOSPC;
	t->vendor = smbios_string(b, SMBIOS_MANUFACTURER);
	t->version = smbios_string(b, SMBIOS_BIOS_VERSION);
	t->start_segment = SMBIOS_BIOS_START_SEGMENT;
	t->release_date = smbios_string(b, SMBIOS_BIOS_DATE);
	t->rom_size = SMBIOS_BIOS_ROM_SIZE;
	t->characteristics = SMBIOS_BIOS_PCI;
	t->characteristics_ext[0] = SMBIOS_BIOS_EXT1_ACPI;
	t->characteristics_ext[1] = SMBIOS_BIOS_EXT2_VM;
	t->major_release = SMBIOS_BIOS_MAJOR;
	t->minor_release = SMBIOS_BIOS_MINOR;
	t->ec_major_release = SMBIOS_NO_EC;
	t->ec_minor_release = SMBIOS_NO_EC;
	return smbios_end(b);
}

/*
 * The UUID field in the byte order of SMBIOS 2.6 and later: time_low, time_mid and
 * time_hi_and_version little-endian, the rest (clock_seq, node) as in RFC 4122.
 */
static void smbios_uuid_to_wire(const uint8_t uuid[SMBIOS_UUID_LEN], uint8_t out[SMBIOS_UUID_LEN])
{
	static const uint8_t order[SMBIOS_UUID_LEN] = { 3, 2, 1,  0,  5,  4,  7,  6,
							8, 9, 10, 11, 12, 13, 14, 15 };

	for (unsigned int i = 0; i < SMBIOS_UUID_LEN; i++)
		out[i] = uuid[order[i]];
}

static int smbios_build_system(struct smbios_builder *b, const struct smbios_config *cfg)
{
	struct smbios_system *t = smbios_begin(b, SMBIOS_TYPE_SYSTEM, sizeof(*t));
	char uuid[SMBIOS_UUID_TEXT_LEN + 1];

	if (!t)
		return -ENOSPC;
	smbios_uuid_format(cfg->uuid, uuid);
	t->manufacturer = smbios_string(b, SMBIOS_MANUFACTURER);
	t->product = smbios_string(b, cfg->name && *cfg->name ? cfg->name : SMBIOS_DEFAULT_NAME);
	t->version = smbios_string(b, SMBIOS_PRODUCT_VERSION);
	t->serial = smbios_string(b, uuid);
	smbios_uuid_to_wire(cfg->uuid, t->uuid);
	t->wakeup_type = SMBIOS_WAKEUP_POWER_SWITCH;
	t->sku = smbios_string(b, SMBIOS_DEFAULT_NAME);
	t->family = smbios_string(b, SMBIOS_FAMILY);
	return smbios_end(b);
}

static int smbios_build_enclosure(struct smbios_builder *b)
{
	struct smbios_enclosure *t = smbios_begin(b, SMBIOS_TYPE_ENCLOSURE, sizeof(*t));

	if (!t)
		return -ENOSPC;
	t->manufacturer = smbios_string(b, SMBIOS_MANUFACTURER);
	t->type = SMBIOS_ENCLOSURE_OTHER; /* bit 7 clear: no chassis lock */
	t->bootup_state = SMBIOS_STATE_SAFE;
	t->power_supply_state = SMBIOS_STATE_SAFE;
	t->thermal_state = SMBIOS_STATE_SAFE;
	t->security_status = SMBIOS_SECURITY_NONE;
	return smbios_end(b);
}

/* One socket per vCPU, each with one core of one thread, as the CPUID topology says. */
static int smbios_build_processor(struct smbios_builder *b, unsigned int cpu)
{
	struct smbios_processor *t = smbios_begin(b, SMBIOS_TYPE_PROCESSOR, sizeof(*t));
	char socket[16];

	if (!t)
		return -ENOSPC;
	snprintf(socket, sizeof(socket), "CPU %u", cpu);
	t->socket = smbios_string(b, socket);
	t->type = SMBIOS_PROCESSOR_CENTRAL;
	t->family = SMBIOS_PROCESSOR_FAMILY_OTHER;
	t->status = SMBIOS_PROCESSOR_POPULATED | SMBIOS_PROCESSOR_ENABLED;
	t->upgrade = SMBIOS_PROCESSOR_UPGRADE_OTHER;
	t->l1_cache = SMBIOS_NO_HANDLE;
	t->l2_cache = SMBIOS_NO_HANDLE;
	t->l3_cache = SMBIOS_NO_HANDLE;
	t->core_count = 1;
	t->core_enabled = 1;
	t->thread_count = 1;
	t->characteristics = SMBIOS_PROCESSOR_64BIT;
	t->family2 = SMBIOS_PROCESSOR_FAMILY_OTHER;
	t->core_count2 = 1;
	t->core_enabled2 = 1;
	t->thread_count2 = 1;
	return smbios_end(b);
}

/* All of guest RAM is one array of one device; returns the array's handle in *handle. */
static int smbios_build_memory_array(struct smbios_builder *b, uint64_t mem_size, uint16_t *handle)
{
	struct smbios_memory_array *t = smbios_begin(b, SMBIOS_TYPE_MEMORY_ARRAY, sizeof(*t));

	if (!t)
		return -ENOSPC;
	*handle = t->h.handle;
	t->location = SMBIOS_ARRAY_SYSTEM_BOARD;
	t->use = SMBIOS_ARRAY_SYSTEM_MEMORY;
	t->error_correction = SMBIOS_ARRAY_ECC_NONE;
	if (mem_size / KiB < SMBIOS_CAPACITY_EXTENDED) {
		t->max_capacity = mem_size / KiB;
	} else {
		t->max_capacity = SMBIOS_CAPACITY_EXTENDED;
		t->ext_max_capacity = mem_size;
	}
	t->error_handle = SMBIOS_HANDLE_NOT_PROVIDED;
	t->devices = 1;
	return smbios_end(b);
}

static int smbios_build_memory_device(struct smbios_builder *b, uint64_t mem_size, uint16_t array)
{
	struct smbios_memory_device *t = smbios_begin(b, SMBIOS_TYPE_MEMORY_DEVICE, sizeof(*t));
	uint64_t mib = mem_size / MiB;

	if (!t)
		return -ENOSPC;
	t->array_handle = array;
	t->error_handle = SMBIOS_HANDLE_NOT_PROVIDED;
	t->total_width = SMBIOS_WIDTH_UNKNOWN;
	t->data_width = SMBIOS_WIDTH_UNKNOWN;
	/* 0x7fff MiB and up (32 GiB - 1 MiB) only fit in the extended field. */
	if (mib < SMBIOS_SIZE_EXTENDED) {
		t->size = mib;
	} else {
		t->size = SMBIOS_SIZE_EXTENDED;
		t->ext_size = mib;
	}
	t->form_factor = SMBIOS_FORM_FACTOR_OTHER;
	t->device_locator = smbios_string(b, "DIMM 0");
	t->memory_type = SMBIOS_MEMORY_TYPE_RAM;
	t->type_detail = SMBIOS_TYPE_DETAIL_OTHER;
	t->manufacturer = smbios_string(b, SMBIOS_MANUFACTURER);
	return smbios_end(b);
}

/* Guest addresses start .. end - 1 are RAM of the array. */
static int smbios_build_memory_mapped(struct smbios_builder *b, uint64_t start, uint64_t end,
				      uint16_t array)
{
	struct smbios_memory_mapped *t =
		smbios_begin(b, SMBIOS_TYPE_MEMORY_ARRAY_MAPPED, sizeof(*t));

	if (!t)
		return -ENOSPC;
	/* The KiB fields reach 4 TiB; past that both say "see the extended fields". */
	if ((end - 1) / KiB < SMBIOS_ADDRESS_EXTENDED) {
		t->start = start / KiB;
		t->end = (end - 1) / KiB;
	} else {
		t->start = SMBIOS_ADDRESS_EXTENDED;
		t->end = SMBIOS_ADDRESS_EXTENDED;
		t->ext_start = start;
		t->ext_end = end - 1;
	}
	t->array_handle = array;
	t->partition_width = 1;
	return smbios_end(b);
}

/* RAM as devices/platform.h lays it out: below the PCI hole, and the rest from 4 GiB. */
static int smbios_build_memory(struct smbios_builder *b, uint64_t mem_size)
{
	uint64_t low = mem_size < PLATFORM_PCI_HOLE_START ? mem_size : PLATFORM_PCI_HOLE_START;
	uint16_t array;
	int err;

	err = smbios_build_memory_array(b, mem_size, &array);
	err = err ?: smbios_build_memory_device(b, mem_size, array);
	err = err ?: smbios_build_memory_mapped(b, 0, low, array);
	if (!err && mem_size > low)
		err = smbios_build_memory_mapped(b, PLATFORM_4G, PLATFORM_4G + (mem_size - low),
						 array);
	return err;
}

static int smbios_build_system_boot(struct smbios_builder *b)
{
	struct smbios_system_boot *t = smbios_begin(b, SMBIOS_TYPE_SYSTEM_BOOT, sizeof(*t));

	if (!t)
		return -ENOSPC;
	t->status = SMBIOS_BOOT_NO_ERRORS;
	return smbios_end(b);
}

static int smbios_build_end(struct smbios_builder *b)
{
	struct smbios_header *t = smbios_begin(b, SMBIOS_TYPE_END, sizeof(*t));

	if (!t)
		return -ENOSPC;
	return smbios_end(b);
}

static void smbios_fill_entry_point(struct smbios3_entry_point *ep, uint64_t table,
				    uint32_t table_size)
{
	memset(ep, 0, sizeof(*ep));
	memcpy(ep->anchor, "_SM3_", sizeof(ep->anchor));
	ep->length = sizeof(*ep);
	ep->major = SMBIOS_MAJOR;
	ep->minor = SMBIOS_MINOR;
	ep->docrev = SMBIOS_DOCREV;
	ep->revision = SMBIOS_EP_REVISION;
	ep->table_max_size = table_size;
	ep->table_address = table;
	ep->checksum = firmware_checksum(ep, sizeof(*ep));
}

static bool smbios_config_valid(const struct smbios_config *cfg)
{
	return cfg->ncpus && cfg->ncpus <= SMBIOS_MAX_CPUS && cfg->mem_size >= MiB &&
	       cfg->mem_size / MiB <= SMBIOS_EXT_SIZE_MAX && smbios_name_valid(cfg->name);
}

ssize_t smbios_build(void *buf, size_t size, uint64_t gpa, const struct smbios_config *cfg)
{
	struct smbios_builder b = { .buf = buf, .size = size, .used = SMBIOS_TABLE_OFFSET };
	int err;

	/* The entry point is found by a scan of 16-byte boundaries. */
	if (!buf || !cfg || !smbios_config_valid(cfg) || gpa % 16 ||
	    gpa > UINT64_MAX - SMBIOS_TABLE_OFFSET)
		return -EINVAL;
	/* The table's length must fit the entry point's 32-bit maximum size. */
	if (b.size > SMBIOS_TABLE_OFFSET + (size_t)UINT32_MAX)
		b.size = SMBIOS_TABLE_OFFSET + (size_t)UINT32_MAX;
	if (b.size < SMBIOS_TABLE_OFFSET)
		return -ENOSPC;
	err = smbios_build_bios(&b);
	err = err ?: smbios_build_system(&b, cfg);
	err = err ?: smbios_build_enclosure(&b);
	for (unsigned int cpu = 0; cpu < cfg->ncpus; cpu++)
		err = err ?: smbios_build_processor(&b, cpu);
	err = err ?: smbios_build_memory(&b, cfg->mem_size);
	err = err ?: smbios_build_system_boot(&b);
	err = err ?: smbios_build_end(&b);
	if (err)
		return err;
	memset(b.buf, 0, SMBIOS_TABLE_OFFSET);
	smbios_fill_entry_point((struct smbios3_entry_point *)b.buf, gpa + SMBIOS_TABLE_OFFSET,
				b.used - SMBIOS_TABLE_OFFSET);
	return b.used;
}
