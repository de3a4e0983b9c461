/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the virtio-pci transport (virtio/pci.c) in front of a real
 * virtio-blk device (virtio/blk/blk.c, virtio/virtqueue.c, virtio/blk/disk.c) whose queue threads
 * run while the input pokes at the registers: what a hostile driver can do to a device
 * that is busy. The device is built as the VMM builds a disk: blk_init() on an image file
 * (64 KiB, 128 sectors, in /dev/shm or /tmp, unlinked at once), two queues, then
 * virtio_pci_init() on a PCI bus registered on a port bus and an MMIO bus, with the
 * interrupt router's ioctl replaced and no KVM VM at all (vm_fd -1): no ioeventfd can be
 * bound, so a notify write reaches the device through the BAR write path, which signals
 * the queue's kick eventfd; MSI-X messages go to the vectors' irqfds, INTx to a stub.
 *
 * Guest RAM is RAM_SIZE bytes at guest-physical 0, in a mapping with GUARD_SIZE bytes of
 * PROT_NONE pages on each side: a device thread that reads or writes past either end of
 * guest RAM faults at once, also where ASan would see nothing (RAM is not heap memory).
 *
 * Input: 8-byte records (a short tail is ignored), at most MAX_RECORDS of them:
 *   0  u8   op % OP_COUNT, below
 *   1  u8   arg: bits 0-1 access length 1 << n (most ops), the rest per op
 *   2  u16  off
 *   4  u32  val
 * BAR 0 accesses go to where BAR 0 decodes now (where it was set up when it decodes
 * nowhere, so they then reach nothing). An 8-byte write's value is val in its low half and
 * arg bits 4-7 in its high half (15 meaning 0xffffffff).
 *   OP_BAR_READ     read BAR 0 at off % 0x8000
 *   OP_BAR_WRITE    write BAR 0 at off % 0x8000
 *   OP_COMMON       write the common configuration at off % 0x40
 *   OP_NOTIFY       notify queue arg bits 4-7 % (queues + 1), the value written being
 *                   that index, or val when arg bit 2 is set
 *   OP_CONFIG       a PCI configuration access to register off: bit 2 of arg writes val,
 *                   bit 3 goes through ECAM (registers up to 0xfff) instead of ports
 *                   0xCF8/0xCFC (up to 0xff), bit 4 addresses the host bridge instead
 *   OP_MEM_STORE    store val (length from arg) into guest RAM at off
 *   OP_MEM_COPY     copy the val % 1024 input bytes after this record into RAM at off
 *   OP_WAIT         let the queue threads run: until they look idle, at most
 *                   (val % 64 + 1) * 50 us, and at most WAIT_BUDGET_US per input
 *   OP_SETUP        a driver's usual bring-up through BAR 0 (reset, ACKNOWLEDGE, DRIVER,
 *                   features, FEATURES_OK, both queues, DRIVER_OK): arg bit 0 EVENT_IDX,
 *                   bit 1 INDIRECT_DESC, bit 2 FLUSH, bit 3 DISCARD and WRITE_ZEROES,
 *                   bit 4 MSI-X on (config vector 0, queue q vector q + 1, every entry
 *                   unmasked), bit 5 stop before DRIVER_OK; val bits 0-3 and 4-7 are log2
 *                   of the sizes of queues 0 and 1 (at most 8); rings at QUEUE_RINGS(q)
 *                   when off is 0, else packed from off (16-aligned) up: queue 0's
 *                   descriptors, available and used ring, then queue 1's
 *   OP_SUBMIT       a driver adds one virtio-blk request to queue arg bit 2 as the queue
 *                   is configured now (read back through BAR 0): head off, type val % 8
 *                   (IN, OUT, FLUSH, GET_ID, DISCARD, WRITE_ZEROES, an unknown type, IN
 *                   through an indirect table), sector val bits 8-15, data length val
 *                   bits 16-28 % 4097; headers, data and status bytes at fixed places
 *                   below RAM_SIZE; arg bit 3 kicks the queue afterwards
 *   OP_FIELD        write one common-configuration register, picked by arg bits 4-7 from
 *                   fields[], with its own width: val, and off as the high half of the
 *                   64-bit ring addresses
 *
 * Each input starts from the same state: the device reset, RAM zero, the disk holding its
 * pattern, MSI-X reset and off, BAR 0 where it was set up, no kick pending. It ends with
 * BAR 0 and the command register restored and a device reset written to device_status,
 * which returns only once the queue threads are gone. Checked then: the device reads back
 * as reset (status 0, no queue enabled), no queue thread is left (none running for the
 * device, none listed in /proc/self/task), the process has as many descriptors as before
 * the input, and the image kept its size.
 *
 * Built with -DVIRTIO_PCI_FUZZ_MAKE_SEEDS (and without -fsanitize=fuzzer) this file is
 * instead a program that writes the seed corpus into the directory named on its command
 * line. VIRTIO_PCI_FUZZ_VERBOSE=1 in the environment prints, before each input's reset,
 * the device status and each queue's size, used index and counters.
 */
#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

#define RAM_SIZE 0x10000u
#define GUARD_SIZE 0x100000u
#define DISK_SIZE 0x10000u
#define NQUEUES 2u
#define RECORD_SIZE 8u
#define MAX_RECORDS 512u
#define WAIT_BUDGET_US 20000u

/* BAR 0 layout (virtio/pci.c) */
#define BAR_SIZE 0x8000u
#define BAR_COMMON_SIZE 0x40u
#define BAR_ISR 0x1000u
#define BAR_DEVICE 0x2000u
#define BAR_NOTIFY 0x3000u
#define NOTIFY_MULTIPLIER 4u
#define BAR_MSIX_TABLE 0x4000u
#define COMMON(field) offsetof(struct virtio_pci_common_cfg, field)

/* Guest RAM as OP_SETUP and OP_SUBMIT lay it out; the rest is the input's. */
#define QUEUE_RINGS(q) (0x2000u * (q))			   /* desc; avail +0x1000, used +0x1400 */
#define HEADERS_GPA 0x4000u				   /* 16 bytes per head (256 heads) */
#define STATUS_GPA 0x5000u				   /* 1 byte per head */
#define INDIRECT_GPA 0x6000u				   /* 48 bytes per head % 64 */
#define DATA_GPA(head) (0x8000u + 0x1000u * ((head) % 8u)) /* 4 KiB per head % 8 */

enum {
	OP_BAR_READ,
	OP_BAR_WRITE,
	OP_COMMON,
	OP_NOTIFY,
	OP_CONFIG,
	OP_MEM_STORE,
	OP_MEM_COPY,
	OP_WAIT,
	OP_SETUP,
	OP_SUBMIT,
	OP_FIELD,
	OP_COUNT
};

#define SETUP_EVENT_IDX 0x01
#define SETUP_INDIRECT 0x02
#define SETUP_FLUSH 0x04
#define SETUP_DISCARD 0x08
#define SETUP_MSIX 0x10
#define SETUP_NO_DRIVER_OK 0x20

#define CONFIG_WRITE 0x04
#define CONFIG_ECAM 0x08
#define CONFIG_HOST_BRIDGE 0x10

#define SUBMIT_QUEUE1 0x04
#define SUBMIT_KICK 0x08
#define NOTIFY_VALUE 0x04

#ifndef VIRTIO_PCI_FUZZ_MAKE_SEEDS

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "devices/bus.h"
#include "devices/pci.h"
#include "devices/platform.h"
#include "virtio/blk/blk.h"
#include "virtio/pci.h"
#include "vmm/irq.h"

static uint8_t *ram;
static struct guest_mem mem;
static struct blk blk;
static struct virtio_pci vp;
static struct pci_bus pbus;
static struct bus pio, mmio;
static struct irq_router router;
static int disk_fd;
static uint8_t pattern[DISK_SIZE];
static uint64_t home_bar;		  /* where BAR 0 was put at set-up */
static uint32_t home_bar_lo, home_bar_hi; /* its config-space words */
static unsigned int wait_left_us;

static void check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

/*
 * The queue threads start with every signal blocked, and a fault with SIGSEGV blocked kills
 * the process outright: no ASan report, no crash input saved. The build links
 * pthread_sigmask through here (-Wl,--wrap=pthread_sigmask), which leaves the fault
 * signals deliverable.
 */
int __real_pthread_sigmask(int how, const sigset_t *set, sigset_t *old);
int __wrap_pthread_sigmask(int how, const sigset_t *set, sigset_t *old);
int __wrap_pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	static const int faults[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGABRT };
	sigset_t mine;

	if (!set || how == SIG_UNBLOCK)
		return __real_pthread_sigmask(how, set, old);
	mine = *set;
	for (unsigned int i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		sigdelset(&mine, faults[i]);
	return __real_pthread_sigmask(how, &mine, old);
}

static int fake_ioctl(int fd, unsigned long request, void *arg)
{
	(void)fd;
	(void)arg;
	return request == KVM_CHECK_EXTENSION ? IRQ_MAX_ROUTES : 0;
}

static void set_irq(void *ctx, unsigned int gsi, bool level)
{
	(void)ctx;
	check(gsi >= PLATFORM_PCI_INTX_GSI_BASE && gsi < PLATFORM_PCI_INTX_GSI_BASE + 4);
	(void)level;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

/* ---- the driver's side: BAR 0, configuration space, guest RAM ---- */

static uint64_t bar_base(void)
{
	uint64_t at = pci_device_bar_addr(&vp.pci, 0);

	return at ? at : home_bar;
}

static uint64_t bar_read(uint64_t offset, unsigned int len)
{
	uint64_t v = 0;

	bus_read(&mmio, bar_base() + offset, &v, len);
	return le64toh(v);
}

static void bar_write(uint64_t offset, uint64_t v, unsigned int len)
{
	v = htole64(v);
	bus_write(&mmio, bar_base() + offset, &v, len);
}

static uint64_t ecam_addr(unsigned int slot, unsigned int reg)
{
	return PLATFORM_PCI_ECAM_START + ((uint64_t)slot << 15) + reg;
}

static void ecam_write(unsigned int reg, uint32_t v, unsigned int len)
{
	v = htole32(v);
	check(bus_write(&mmio, ecam_addr(vp.pci.slot, reg), &v, len));
}

static void config_access(uint8_t arg, uint16_t off, uint32_t val)
{
	unsigned int len = 1u << (arg & 3), slot = arg & CONFIG_HOST_BRIDGE ? 0 : vp.pci.slot;
	uint32_t v = htole32(val);

	if (len == 8)
		len = 4;
	if (arg & CONFIG_ECAM) {
		uint64_t at = ecam_addr(slot, (off & 0xfffu) & ~(len - 1));

		if (arg & CONFIG_WRITE)
			bus_write(&mmio, at, &v, len);
		else
			bus_read(&mmio, at, &v, len);
	} else {
		uint32_t cf8 = htole32(0x80000000u | slot << 11 | (off & 0xfcu));
		uint64_t port = PLATFORM_PCI_CONFIG_DATA_PORT + ((off & 3u) & ~(len - 1));

		bus_write(&pio, PLATFORM_PCI_CONFIG_ADDRESS_PORT, &cf8, 4);
		if (arg & CONFIG_WRITE)
			bus_write(&pio, port, &v, len);
		else
			bus_read(&pio, port, &v, len);
	}
}

/* Guest RAM as the driver sees it: whatever falls outside RAM is dropped. */
static void ram_write(uint64_t gpa, const void *src, size_t len)
{
	if (gpa >= RAM_SIZE)
		return;
	if (len > RAM_SIZE - gpa)
		len = RAM_SIZE - gpa;
	memcpy(ram + gpa, src, len);
}

static void ram_put16(uint64_t gpa, uint16_t v)
{
	v = htole16(v);
	ram_write(gpa, &v, 2);
}

static uint16_t ram_get16(uint64_t gpa)
{
	uint16_t v = 0;

	if (gpa <= RAM_SIZE - 2)
		memcpy(&v, ram + gpa, 2);
	return le16toh(v);
}

static void ram_put_desc(uint64_t gpa, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc d = {
		.addr = htole64(addr),
		.len = htole32(len),
		.flags = htole16(flags),
		.next = htole16(next),
	};

	ram_write(gpa, &d, sizeof(d));
}

static void setup_device(uint8_t arg, uint16_t off, uint32_t val)
{
	uint64_t want = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_BLK_F_SEG_MAX) |
			(1ull << VIRTIO_BLK_F_BLK_SIZE) | (1ull << VIRTIO_BLK_F_MQ);
	uint64_t offered;
	uint8_t status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	if (arg & SETUP_EVENT_IDX)
		want |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	if (arg & SETUP_INDIRECT)
		want |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	if (arg & SETUP_FLUSH)
		want |= 1ull << VIRTIO_BLK_F_FLUSH;
	if (arg & SETUP_DISCARD)
		want |= (1ull << VIRTIO_BLK_F_DISCARD) | (1ull << VIRTIO_BLK_F_WRITE_ZEROES);

	bar_write(COMMON(device_status), 0, 1);
	bar_write(COMMON(device_status), status, 1);
	bar_write(COMMON(device_feature_select), 0, 4);
	offered = bar_read(COMMON(device_feature), 4);
	bar_write(COMMON(device_feature_select), 1, 4);
	offered |= bar_read(COMMON(device_feature), 4) << 32;
	want &= offered;
	for (unsigned int i = 0; i < 2; i++) {
		bar_write(COMMON(guest_feature_select), i, 4);
		bar_write(COMMON(guest_feature), (uint32_t)(want >> (32 * i)), 4);
	}
	status |= VIRTIO_CONFIG_S_FEATURES_OK;
	bar_write(COMMON(device_status), status, 1);
	if (arg & SETUP_MSIX) {
		unsigned int cap = pci_device_find_capability(&vp.pci, PCI_CAPID_MSIX, 0);

		for (unsigned int v = 0; v <= NQUEUES; v++) {
			uint64_t e = BAR_MSIX_TABLE + 16u * v;

			bar_write(e + 0, 0xfee00000u, 4);
			bar_write(e + 4, 0, 4);
			bar_write(e + 8, 0x40 + v, 4);
			bar_write(e + 12, 0, 4);
		}
		ecam_write(cap + 2, 0x8000u, 2); /* MSI-X Enable */
		bar_write(COMMON(msix_config), 0, 2);
	}
	for (unsigned int q = 0, at = off & ~15u; q < NQUEUES; q++) {
		unsigned int lg = (val >> (4 * q)) & 0xf, n = 1u << (lg > 8 ? 8 : lg);
		uint64_t desc = QUEUE_RINGS(q), avail = desc + 0x1000, used = desc + 0x1400;

		if (off) {
			desc = at;
			avail = desc + 16u * n;
			used = (avail + 6 + 2u * n + 3) & ~3ull;
			at = (unsigned int)(used + 6 + 8u * n + 15) & ~15u;
		}
		bar_write(COMMON(queue_select), q, 2);
		bar_write(COMMON(queue_size), n, 2);
		bar_write(COMMON(queue_desc_lo), desc, 8);
		bar_write(COMMON(queue_avail_lo), avail, 8);
		bar_write(COMMON(queue_used_lo), used, 8);
		if (arg & SETUP_MSIX)
			bar_write(COMMON(queue_msix_vector), q + 1, 2);
		bar_write(COMMON(queue_enable), 1, 2);
	}
	if (!(arg & SETUP_NO_DRIVER_OK))
		bar_write(COMMON(device_status), status | VIRTIO_CONFIG_S_DRIVER_OK, 1);
}

/* One request, laid out from what the device's registers say about the queue now. */
static void submit(uint8_t arg, uint16_t off, uint32_t val)
{
	static const uint32_t types[8] = {
		VIRTIO_BLK_T_IN,
		VIRTIO_BLK_T_OUT,
		VIRTIO_BLK_T_FLUSH,
		VIRTIO_BLK_T_GET_ID,
		VIRTIO_BLK_T_DISCARD,
		VIRTIO_BLK_T_WRITE_ZEROES,
		0x7f,
		VIRTIO_BLK_T_IN,
	};
	unsigned int q = arg & SUBMIT_QUEUE1 ? 1 : 0, kind = val % 8;
	uint16_t saved = (uint16_t)bar_read(COMMON(queue_select), 2), size, idx, h;
	uint64_t desc, avail, hdr, status, data;
	uint32_t len = ((val >> 16) & 0x1fff) % 4097;
	bool in = kind == 0 || kind == 3 || kind == 7;
	struct virtio_blk_outhdr oh;

	bar_write(COMMON(queue_select), q, 2);
	size = (uint16_t)bar_read(COMMON(queue_size), 2);
	desc = bar_read(COMMON(queue_desc_lo), 4) | bar_read(COMMON(queue_desc_hi), 4) << 32;
	avail = bar_read(COMMON(queue_avail_lo), 4) | bar_read(COMMON(queue_avail_hi), 4) << 32;
	bar_write(COMMON(queue_select), saved, 2);
	if (!size || (size & (size - 1)))
		return;

	h = off & (size - 1);
	hdr = HEADERS_GPA + 16u * (h % 256);
	status = STATUS_GPA + h % 256;
	data = DATA_GPA(h);
	oh = (struct virtio_blk_outhdr){
		.type = htole32(types[kind]),
		.sector = htole64((val >> 8) & 0xff),
	};
	ram_write(hdr, &oh, sizeof(oh));
	if (kind == 4 || kind == 5) {
		struct virtio_blk_discard_write_zeroes seg = {
			.sector = htole64((val >> 8) & 0x7f),
			.num_sectors = htole32(len / 512 + 1),
		};

		ram_write(data, &seg, sizeof(seg));
		len = sizeof(seg);
	}
	if (kind == 7) {
		uint64_t table = INDIRECT_GPA + 48u * (h % 64);

		ram_put_desc(table, hdr, 16, VRING_DESC_F_NEXT, 1);
		ram_put_desc(table + 16, data, len, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
		ram_put_desc(table + 32, status, 1, VRING_DESC_F_WRITE, 0);
		ram_put_desc(desc + 16u * h, table, 48, VRING_DESC_F_INDIRECT, 0);
	} else {
		uint16_t n1 = (h + 1) & (size - 1), n2 = (h + 2) & (size - 1);

		if (len) {
			ram_put_desc(desc + 16u * h, hdr, 16, VRING_DESC_F_NEXT, n1);
			ram_put_desc(desc + 16u * n1, data, len,
				     VRING_DESC_F_NEXT | (in ? VRING_DESC_F_WRITE : 0), n2);
			ram_put_desc(desc + 16u * n2, status, 1, VRING_DESC_F_WRITE, 0);
		} else {
			ram_put_desc(desc + 16u * h, hdr, 16, VRING_DESC_F_NEXT, n1);
			ram_put_desc(desc + 16u * n1, status, 1, VRING_DESC_F_WRITE, 0);
		}
	}
	/* the entry, then the index that publishes it (the thread may be reading) */
	idx = ram_get16(avail + 2);
	ram_put16(avail + 4 + 2u * (idx & (size - 1)), h);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	ram_put16(avail + 2, (uint16_t)(idx + 1));
	if (arg & SUBMIT_KICK)
		bar_write(BAR_NOTIFY + NOTIFY_MULTIPLIER * q, q, 2);
}

/* The driver-writable registers of the common configuration, for OP_FIELD. */
static const struct field {
	uint8_t offset;
	uint8_t len;
} fields[] = {
	{ COMMON(device_feature_select), 4 },
	{ COMMON(guest_feature_select), 4 },
	{ COMMON(guest_feature), 4 },
	{ COMMON(msix_config), 2 },
	{ COMMON(device_status), 1 },
	{ COMMON(queue_select), 2 },
	{ COMMON(queue_size), 2 },
	{ COMMON(queue_msix_vector), 2 },
	{ COMMON(queue_enable), 2 },
	{ COMMON(queue_desc_lo), 8 },
	{ COMMON(queue_avail_lo), 8 },
	{ COMMON(queue_used_lo), 8 },
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* ---- the harness ---- */

static unsigned int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned int n = 0;

	check(d != NULL);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Threads of ours that are still listed: the queue threads name themselves blk-q<N>. */
static unsigned int count_queue_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	unsigned int n = 0;

	check(d != NULL);
	while ((e = readdir(d))) {
		char path[64], name[16] = "";
		int fd;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue; /* gone meanwhile */
		if (read(fd, name, sizeof(name) - 1) > 0 && !strncmp(name, "blk-q", 5))
			n++;
		close(fd);
	}
	closedir(d);
	return n;
}

/*
 * A joined thread stays listed in /proc for a moment after pthread_join() returns (the
 * kernel reaps it after it woke the joiner), so give it up to a second to go.
 */
static void check_no_queue_threads(void)
{
	struct timespec step = { .tv_nsec = 100000 };

	for (unsigned int i = 0; count_queue_threads(); i++) {
		check(i < 10000);
		nanosleep(&step, NULL);
	}
}

static bool queues_idle(void)
{
	for (unsigned int q = 0; q < NQUEUES; q++) {
		struct pollfd p = { .fd = vp.kick_fd[q], .events = POLLIN };

		if (!blk.queues[q].running)
			continue;
		if (poll(&p, 1, 0) > 0 ||
		    __atomic_load_n(&blk.queues[q].inflight, __ATOMIC_RELAXED))
			return false;
	}
	return true;
}

static void wait_for_queues(uint32_t val)
{
	unsigned int limit = (val % 64 + 1) * 50;
	struct timespec step = { .tv_nsec = 20000 };

	if (limit > wait_left_us)
		limit = wait_left_us;
	for (unsigned int waited = 0; waited < limit; waited += 20) {
		nanosleep(&step, NULL);
		if (waited >= 40 && queues_idle())
			break;
	}
	wait_left_us -= limit;
}

static void setup(void)
{
	const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	struct disk_options o = { .serial = "fuzz-virtio-pci" };
	struct virtio_device *vdev;
	char err[512];
	uint8_t *map;

	for (unsigned int i = 0; i < DISK_SIZE; i++)
		pattern[i] = (uint8_t)(i / 512 * 13 + i);
	map = mmap(NULL, GUARD_SIZE + RAM_SIZE + GUARD_SIZE, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	check(map != MAP_FAILED);
	ram = map + GUARD_SIZE;
	check(mprotect(ram, RAM_SIZE, PROT_READ | PROT_WRITE) == 0);
	mem.regions[0] = (struct guest_region){ .gpa = 0, .size = RAM_SIZE, .host = ram };
	mem.count = 1;
	mem.size = RAM_SIZE;

	snprintf(o.path, sizeof(o.path), "%s/fuzz_virtio_pci.XXXXXX", dir);
	disk_fd = mkstemp(o.path);
	check(disk_fd >= 0);
	check(pwrite(disk_fd, pattern, DISK_SIZE, 0) == DISK_SIZE);
	if (blk_init(&blk, &vdev, &o, NQUEUES, &mem, err, sizeof(err))) {
		fprintf(stderr, "fuzz_virtio_pci: %s\n", err);
		abort();
	}
	unlink(o.path);
	vdev->name = "virtio-blk0";

	bus_init(&pio, "port I/O");
	bus_init(&mmio, "MMIO");
	pio.quiet = mmio.quiet = true;
	check(irq_router_init_with(&router, -1, fake_ioctl) == 0);
	pci_bus_init(&pbus, pci_mmio64_base(RAM_SIZE), set_irq, NULL);
	check(virtio_pci_init(&vp, vdev, &pbus, &router, -1) == 0);
	check(pci_bus_register(&pbus, &pio, &mmio) == 0);
	ecam_write(PCI_CFG_COMMAND, PCI_CMD_MEM | PCI_CMD_BUS_MASTER, 2);
	home_bar = pci_device_bar_addr(&vp.pci, 0);
	check(home_bar != 0);
	home_bar_lo = pci_device_config_get(&vp.pci, PCI_CFG_BAR0, 4);
	home_bar_hi = pci_device_config_get(&vp.pci, PCI_CFG_BAR0 + 4, 4);
}

/* Back to the state every input starts from (the device itself was reset already). */
static void start_input(void)
{
	unsigned int cap = pci_device_find_capability(&vp.pci, PCI_CAPID_MSIX, 0);
	uint64_t v;

	memset(ram, 0, RAM_SIZE);
	check(ftruncate(disk_fd, DISK_SIZE) == 0);
	check(pwrite(disk_fd, pattern, DISK_SIZE, 0) == DISK_SIZE);
	ecam_write(cap + 2, 0, 2);
	msix_reset(&vp.msix);
	for (unsigned int q = 0; q < NQUEUES; q++)
		while (read(vp.kick_fd[q], &v, sizeof(v)) > 0)
			;
	wait_left_us = WAIT_BUDGET_US;
}

/* What the device did with the input, for VIRTIO_PCI_FUZZ_VERBOSE=1. */
static void report(void)
{
	fprintf(stderr, "status %#04x\n", (unsigned int)bar_read(COMMON(device_status), 1));
	for (unsigned int q = 0; q < NQUEUES; q++) {
		uint64_t used;

		bar_write(COMMON(queue_select), q, 2);
		used = bar_read(COMMON(queue_used_lo), 4) | bar_read(COMMON(queue_used_hi), 4)
								    << 32;
		fprintf(stderr, "queue %u: size %u, used idx %u, %llu kicks, %llu requests\n", q,
			(unsigned int)bar_read(COMMON(queue_size), 2), ram_get16(used + 2),
			(unsigned long long)__atomic_load_n(&blk.queues[q].kicks, __ATOMIC_RELAXED),
			(unsigned long long)__atomic_load_n(&blk.queues[q].requests,
							    __ATOMIC_RELAXED));
	}
}

/* Decode BAR 0 where it started, then reset the device: it waits for the queue threads. */
static void end_input(void)
{
	static int verbose = -1;
	struct stat st;

	ecam_write(PCI_CFG_COMMAND, PCI_CMD_MEM | PCI_CMD_BUS_MASTER, 2);
	ecam_write(PCI_CFG_BAR0, home_bar_lo, 4);
	ecam_write(PCI_CFG_BAR0 + 4, home_bar_hi, 4);
	check(pci_device_bar_addr(&vp.pci, 0) == home_bar);
	if (verbose < 0)
		verbose = getenv("VIRTIO_PCI_FUZZ_VERBOSE") != NULL;
	if (verbose)
		report();
	bar_write(COMMON(device_status), 0, 1);
	check(bar_read(COMMON(device_status), 1) == 0);
	for (unsigned int q = 0; q < NQUEUES; q++) {
		bar_write(COMMON(queue_select), q, 2);
		check(bar_read(COMMON(queue_enable), 2) == 0);
		check(!blk.queues[q].running);
	}
	check(fstat(disk_fd, &st) == 0 && st.st_size == DISK_SIZE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int fds, records = 0;
	size_t at = 0;

	if (!ram)
		setup();
	start_input();
	fds = count_fds();

	while (size - at >= RECORD_SIZE && records++ < MAX_RECORDS) {
		const uint8_t *r = data + at;
		uint8_t op = r[0] % OP_COUNT, arg = r[1];
		uint16_t off = get16(r + 2);
		uint32_t val = get32(r + 4);
		unsigned int len = 1u << (arg & 3);
		uint64_t wide = val;

		at += RECORD_SIZE;
		if (len == 8)
			wide |= (uint64_t)((arg >> 4) == 15 ? 0xffffffffu : arg >> 4) << 32;
		switch (op) {
		case OP_BAR_READ:
			(void)bar_read(off % BAR_SIZE, len);
			break;
		case OP_BAR_WRITE:
			bar_write(off % BAR_SIZE, wide, len);
			break;
		case OP_COMMON:
			bar_write(off % BAR_COMMON_SIZE, wide, len);
			break;
		case OP_NOTIFY: {
			unsigned int q = (arg >> 4) % (NQUEUES + 1);

			bar_write(BAR_NOTIFY + NOTIFY_MULTIPLIER * q, arg & NOTIFY_VALUE ? val : q,
				  2);
			break;
		}
		case OP_CONFIG:
			config_access(arg, off, val);
			break;
		case OP_MEM_STORE:
			val = htole32(val);
			ram_write(off, &val, len > 4 ? 4 : len);
			break;
		case OP_MEM_COPY: {
			size_t n = val % 1024;

			if (n > size - at)
				n = size - at;
			ram_write(off, data + at, n);
			at += n;
			break;
		}
		case OP_WAIT:
			wait_for_queues(val);
			break;
		case OP_SETUP:
			setup_device(arg, off, val);
			break;
		case OP_SUBMIT:
			submit(arg, off, val);
			break;
		case OP_FIELD: {
			const struct field *f = &fields[(arg >> 4) % NFIELDS];

			bar_write(f->offset, val | (uint64_t)off << 32, f->len);
			break;
		}
		}
	}

	end_input();
	check_no_queue_threads();
	check(count_fds() == fds);
	return 0;
}

#else /* VIRTIO_PCI_FUZZ_MAKE_SEEDS */

#include "devices/pci.h"
#include "tests/fuzz/seed.h"

static uint8_t buf[MAX_RECORDS * RECORD_SIZE];
static size_t len;

static void rec(uint8_t op, uint8_t arg, uint16_t off, uint32_t val)
{
	uint8_t *r = buf + len;

	r[0] = op;
	r[1] = arg;
	r[2] = (uint8_t)off;
	r[3] = (uint8_t)(off >> 8);
	for (unsigned int i = 0; i < 4; i++)
		r[4 + i] = (uint8_t)(val >> (8 * i));
	len += RECORD_SIZE;
}

/* Access length codes for arg bits 0-1. */
#define L1 0
#define L2 1
#define L4 2
#define L8 3

static void status(uint8_t s)
{
	rec(OP_COMMON, L1, COMMON(device_status), s);
}

static void wait_long(void)
{
	rec(OP_WAIT, 0, 0, 63);
}

static int save(const char *dir, const char *name)
{
	int ret = seed_save(buf, len, dir, name);

	len = 0;
	return ret;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";
	const uint8_t run = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			    VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK;
	const uint8_t set_up = run & ~VIRTIO_CONFIG_S_DRIVER_OK;
	int fails = 0;

	/* reads and writes on both queues, with interrupts through INTx; ISR acknowledges */
	rec(OP_SETUP, SETUP_FLUSH, 0, 0x88);
	for (uint16_t h = 0; h < 12; h += 3) {
		rec(OP_SUBMIT, SUBMIT_KICK, h, 0x00000300u | (512u << 16) | (h % 2));
		rec(OP_SUBMIT, SUBMIT_QUEUE1 | SUBMIT_KICK, h, 0x00000500u | (1024u << 16) | 1);
	}
	rec(OP_SUBMIT, SUBMIT_KICK, 30, 2);
	rec(OP_SUBMIT, SUBMIT_KICK, 33, 3 | (20u << 16));
	wait_long();
	rec(OP_BAR_READ, L1, BAR_ISR, 0);
	rec(OP_BAR_READ, L8, BAR_DEVICE, 0);
	rec(OP_BAR_READ, L4, BAR_DEVICE + 0x14, 0);
	fails |= save(dir, "read-write-intx");

	/* MSI-X on, EVENT_IDX and INDIRECT_DESC, discard and write-zeroes, an unknown type */
	rec(OP_SETUP, SETUP_MSIX | SETUP_EVENT_IDX | SETUP_INDIRECT | SETUP_DISCARD, 0, 0x47);
	for (uint16_t h = 0; h < 8; h++)
		rec(OP_SUBMIT, (h & 1 ? SUBMIT_QUEUE1 : 0) | SUBMIT_KICK, (uint16_t)(h * 3),
		    (uint32_t)(h % 8) | (uint32_t)h << 8 | 700u << 16);
	wait_long();
	rec(OP_BAR_READ, L4, BAR_MSIX_TABLE + 16, 0);
	rec(OP_BAR_READ, L8, 0x6000, 0);
	rec(OP_BAR_WRITE, L4, BAR_MSIX_TABLE + 16 + 12, 1); /* mask vector 1, then fire it */
	rec(OP_SUBMIT, SUBMIT_KICK, 40, 0);
	wait_long();
	rec(OP_BAR_WRITE, L4, BAR_MSIX_TABLE + 16 + 12, 0);
	fails |= save(dir, "msix-event-idx-indirect");

	/* BAR 0 moved and its decoding switched off and on while the queues run */
	rec(OP_SETUP, 0, 0, 0x55);
	rec(OP_SUBMIT, SUBMIT_KICK, 0, 0 | 512u << 16);
	rec(OP_CONFIG, CONFIG_ECAM | CONFIG_WRITE | L4, PCI_CFG_BAR0, 0xffffffffu);
	rec(OP_CONFIG, CONFIG_ECAM | L4, PCI_CFG_BAR0, 0);
	rec(OP_CONFIG, CONFIG_ECAM | CONFIG_WRITE | L4, PCI_CFG_BAR0, 0xd0000000u);
	rec(OP_CONFIG, CONFIG_ECAM | CONFIG_WRITE | L4, PCI_CFG_BAR0 + 4, 0);
	rec(OP_SUBMIT, SUBMIT_KICK, 3, 1 | 512u << 16);
	rec(OP_CONFIG, CONFIG_WRITE | L2, PCI_CFG_COMMAND, 0);
	rec(OP_SUBMIT, SUBMIT_KICK, 6, 0 | 512u << 16);
	rec(OP_CONFIG, CONFIG_WRITE | L2, PCI_CFG_COMMAND, PCI_CMD_MEM | PCI_CMD_BUS_MASTER);
	rec(OP_NOTIFY, 0x00, 0, 0);
	wait_long();
	fails |= save(dir, "bar-move");

	/* rings packed from 0x100 up, queue sizes 4 and 8, the heads wrapping */
	rec(OP_SETUP, SETUP_EVENT_IDX, 0x100, 0x32);
	for (uint16_t h = 0; h < 24; h += 3)
		rec(OP_SUBMIT, (h & 1 ? SUBMIT_QUEUE1 : 0) | SUBMIT_KICK, h, 1 | 512u << 16);
	wait_long();
	fails |= save(dir, "packed-rings");

	/* a bring-up register by register (OP_FIELD), one request on each queue */
	{
		static const struct {
			uint8_t field;
			uint16_t hi;
			uint32_t val;
		} steps[] = {
			{ 4, 0, 0 },	   { 4, 0, 3 },	      { 1, 0, 1 },	 { 2, 0, 1 },
			{ 4, 0, set_up },  { 5, 0, 0 },	      { 6, 0, 16 },	 { 9, 0, 0x3000 },
			{ 10, 0, 0x3100 }, { 11, 0, 0x3200 }, { 8, 0, 1 },	 { 5, 0, 1 },
			{ 6, 0, 2 },	   { 9, 0, 0x3400 },  { 10, 0, 0x3420 }, { 11, 0, 0x3440 },
			{ 8, 0, 1 },	   { 4, 0, run },
		};

		for (unsigned int i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
			rec(OP_FIELD, (uint8_t)(steps[i].field << 4), steps[i].hi, steps[i].val);
		rec(OP_SUBMIT, SUBMIT_KICK, 0, 0 | 512u << 16);
		rec(OP_SUBMIT, SUBMIT_QUEUE1 | SUBMIT_KICK, 0, 1 | 512u << 16);
		wait_long();
		fails |= save(dir, "fields");
	}

	/* a reset while requests are in flight, then a second bring-up */
	rec(OP_SETUP, 0, 0, 0x88);
	for (uint16_t h = 0; h < 60; h += 3)
		rec(OP_SUBMIT, (h & 1 ? SUBMIT_QUEUE1 : 0) | SUBMIT_KICK, h, 1 | 4096u << 16);
	status(0);
	for (unsigned int q = 0; q < 2; q++) /* a new driver starts its rings from 0 */
		rec(OP_MEM_STORE, L4, (uint16_t)(QUEUE_RINGS(q) + 0x1000), 0);
	rec(OP_SETUP, SETUP_FLUSH, 0, 0x33);
	rec(OP_SUBMIT, SUBMIT_KICK, 0, 2);
	wait_long();
	fails |= save(dir, "reset-in-flight");

	/* features not offered, DRIVER_OK without FEATURES_OK, rings outside RAM */
	status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	rec(OP_COMMON, L4, COMMON(guest_feature_select), 1);
	rec(OP_COMMON, L4, COMMON(guest_feature), 0xffffffffu);
	status(set_up);
	rec(OP_BAR_READ, L1, COMMON(device_status), 0);
	status(run);
	status(0);
	status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	rec(OP_COMMON, L4, COMMON(guest_feature_select), 1);
	rec(OP_COMMON, L4, COMMON(guest_feature), 1); /* VIRTIO_F_VERSION_1 */
	status(set_up);
	rec(OP_COMMON, L2, COMMON(queue_select), 0);
	rec(OP_COMMON, L8, COMMON(queue_desc_lo), 0);
	rec(OP_COMMON, L8, COMMON(queue_avail_lo), 0x1000);
	rec(OP_COMMON, L8 | 0xf0, COMMON(queue_used_lo), 0xfffff000u);
	rec(OP_COMMON, L2, COMMON(queue_enable), 1);
	status(run);
	rec(OP_BAR_READ, L1, COMMON(device_status), 0);
	fails |= save(dir, "bad-negotiation");

	/*
	 * The status game: clear DRIVER_OK without a reset, shrink queue 0 to one entry with
	 * its used ring in the last 16 bytes of RAM, start it again (checked for one entry),
	 * stop, grow it back to 256 and give its running thread work.
	 */
	rec(OP_SETUP, 0, 0, 0x88);
	rec(OP_SUBMIT, SUBMIT_KICK, 0, 0);
	wait_long();
	status(set_up);
	rec(OP_COMMON, L2, COMMON(queue_select), 0);
	rec(OP_COMMON, L2, COMMON(queue_size), 1);
	rec(OP_COMMON, L4, COMMON(queue_used_lo), RAM_SIZE - 16);
	rec(OP_COMMON, L4, COMMON(queue_used_hi), 0);
	status(run);
	status(set_up);
	rec(OP_COMMON, L2, COMMON(queue_size), 256);
	for (uint16_t h = 3; h < 30; h += 3)
		rec(OP_SUBMIT, SUBMIT_KICK, h, 0);
	wait_long();
	fails |= save(dir, "status-game-used");

	/* the same with the descriptor table: the thread reads past RAM as descriptors */
	rec(OP_SETUP, 0, 0, 0x88);
	status(set_up);
	rec(OP_COMMON, L2, COMMON(queue_select), 0);
	rec(OP_COMMON, L2, COMMON(queue_size), 1);
	rec(OP_COMMON, L4, COMMON(queue_desc_lo), RAM_SIZE - 16);
	status(run);
	status(set_up);
	rec(OP_COMMON, L2, COMMON(queue_size), 256);
	rec(OP_MEM_STORE, L2, QUEUE_RINGS(0) + 0x1000 + 4, 200); /* avail ring[0] = head 200 */
	rec(OP_MEM_STORE, L2, QUEUE_RINGS(0) + 0x1000 + 2, 1);	 /* avail idx = 1 */
	rec(OP_NOTIFY, 0x00, 0, 0);
	wait_long();
	fails |= save(dir, "status-game-desc");

	/* with EVENT_IDX, the thread writes avail_event after the used ring's last entry */
	rec(OP_SETUP, SETUP_EVENT_IDX, 0, 0x88);
	status(set_up);
	rec(OP_COMMON, L2, COMMON(queue_select), 0);
	rec(OP_COMMON, L2, COMMON(queue_size), 1);
	rec(OP_COMMON, L4, COMMON(queue_used_lo), RAM_SIZE - 16);
	status(run);
	status(set_up);
	rec(OP_COMMON, L2, COMMON(queue_size), 256);
	rec(OP_SUBMIT, SUBMIT_KICK, 0, 0);
	wait_long();
	fails |= save(dir, "status-game-event-idx");

	return fails;
}

#endif
