// SPDX-License-Identifier: MIT
/*
 * hostile-pci: a root program inside a Linux guest that drives one virtio-blk function
 * itself, as a malicious driver would, after the guest's own driver was unbound from it.
 * The harness's hostile-pci scenario puts it into the guest's initramfs.
 *
 *   hostile-pci BDF        e.g. hostile-pci 0000:00:03.0
 *
 * It reaches the device the way any root process can: BAR 0 through
 * /sys/bus/pci/devices/BDF/resource0 (mmap), the rings in pages of its own, locked, whose
 * guest-physical addresses it reads from /proc/self/pagemap. The BAR layout is the VMM's
 * (virtio/pci.c): common configuration at 0x0000, notifications at 0x3000, 4 bytes a queue.
 *
 * What it plays, after one honest read of sector 0 to show that it really drives the device:
 * write device_status 0x0b (DRIVER_OK cleared, but not a reset), shrink the running queue to
 * size 1 with its used ring in the last 16 bytes of guest RAM, set DRIVER_OK again, clear it
 * again, grow the size back, then post 8 reads and kick. A device that took those writes
 * writes its used elements past the end of guest RAM. Then it reads back what the device
 * says (status, queue fields), counts the completions in its own used ring, checks that the
 * last page of RAM still holds the pattern written there first, resets the device and reads
 * sector 0 once more.
 *
 * The last page of RAM is kept from the guest kernel with memmap=4K$ADDR on its command
 * line and reached through /dev/mem (Linux lets root map a reserved page that no driver
 * holds); without that the program says so and goes on without the check.
 *
 * Output: "GUEST hostile_KEY=VALUE" lines on stdout, each flushed before the next step, so
 * that a VMM that dies mid-way leaves the last step it reached on the console.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

#define PAGE 4096u
#define BAR_NOTIFY 0x3000
#define BAR_DEVICE 0x2000
#define QUEUE_SIZE 64u /* what the program asks for: its tables fit in one page each */
#define ATTACK_READS 8u
#define CANARY_BYTE 0xa5

/* The program's pages: three for the rings, one for headers and status bytes, the rest data. */
enum { PG_DESC, PG_AVAIL, PG_USED, PG_HDR, PG_DATA, NPAGES = PG_DATA + 4 };
#define SECTORS_PER_PAGE (PAGE / 512u)
#define MAX_REQS (QUEUE_SIZE / 3u)

static volatile uint8_t *bar;
static uint8_t *pages;
static uint64_t page_gpa[NPAGES];
static uint16_t avail_idx; /* what the program has made available so far */
static uint16_t used_seen; /* used entries the program has already looked at */
static unsigned int next_req;

static void say(const char *fmt, ...)
{
	va_list ap;

	fputs("GUEST hostile_", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static void die(const char *what)
{
	say("error=%s: %s", what, strerror(errno));
	exit(1);
}

/* ---- registers ---- */

#define COMMON(field) offsetof(struct virtio_pci_common_cfg, field)

static uint8_t rd8(size_t off)
{
	return *(volatile uint8_t *)(bar + off);
}

static uint16_t rd16(size_t off)
{
	return *(volatile uint16_t *)(bar + off);
}

static uint32_t rd32(size_t off)
{
	return *(volatile uint32_t *)(bar + off);
}

static void wr8(size_t off, uint8_t v)
{
	*(volatile uint8_t *)(bar + off) = v;
}

static void wr16(size_t off, uint16_t v)
{
	*(volatile uint16_t *)(bar + off) = v;
}

static void wr32(size_t off, uint32_t v)
{
	*(volatile uint32_t *)(bar + off) = v;
}

static void wr64(size_t lo, uint64_t v)
{
	wr32(lo, (uint32_t)v);
	wr32(lo + 4, (uint32_t)(v >> 32));
}

static uint64_t rd64(size_t lo)
{
	return rd32(lo) | (uint64_t)rd32(lo + 4) << 32;
}

static uint8_t set_status(uint8_t s)
{
	wr8(COMMON(device_status), s);
	return rd8(COMMON(device_status));
}

/* queue 0's fields as the device reports them */
static void say_queue(const char *when)
{
	wr16(COMMON(queue_select), 0);
	say("queue_%s=size %u desc 0x%" PRIx64 " avail 0x%" PRIx64 " used 0x%" PRIx64, when,
	    rd16(COMMON(queue_size)), rd64(COMMON(queue_desc_lo)), rd64(COMMON(queue_avail_lo)),
	    rd64(COMMON(queue_used_lo)));
}

/* ---- the program's own memory ---- */

static uint64_t gpa_of(const void *p)
{
	uintptr_t va = (uintptr_t)p;
	uint64_t entry;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		die("open /proc/self/pagemap");
	if (pread(fd, &entry, sizeof(entry), (off_t)(va / PAGE * sizeof(entry))) !=
	    (ssize_t)sizeof(entry))
		die("read /proc/self/pagemap");
	close(fd);
	/* bit 63: present; bits 0-54: the frame, which reads as 0 without CAP_SYS_ADMIN */
	if (!(entry & (1ull << 63)) || !(entry & ((1ull << 55) - 1))) {
		errno = EPERM;
		die("no frame number in /proc/self/pagemap (not root?)");
	}
	return (entry & ((1ull << 55) - 1)) * PAGE + va % PAGE;
}

static void *page(unsigned int n)
{
	return pages + (size_t)n * PAGE;
}

static uint64_t gpa(unsigned int n, size_t off)
{
	return page_gpa[n] + off;
}

static void alloc_pages(void)
{
	pages = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_LOCKED, -1, 0);
	if (pages == MAP_FAILED)
		die("mmap the ring pages");
	if (mlock(pages, NPAGES * PAGE))
		die("mlock the ring pages");
	memset(pages, 0, NPAGES * PAGE);
	for (unsigned int i = 0; i < NPAGES; i++)
		page_gpa[i] = gpa_of(page(i));
}

/* ---- the device ---- */

static void map_bar(const char *bdf)
{
	char path[256];
	struct stat st;
	uint16_t cmd;
	int fd;

	/* memory decoding and bus mastering: the unbound driver switched the latter off */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, O_RDWR);
	if (fd < 0 || pread(fd, &cmd, 2, 4) != 2)
		die("read the PCI command register");
	cmd |= 0x6;
	if (pwrite(fd, &cmd, 2, 4) != 2)
		die("write the PCI command register");
	close(fd);

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource0", bdf);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0 || fstat(fd, &st))
		die("open resource0");
	if (st.st_size < BAR_NOTIFY + PAGE) {
		errno = EINVAL;
		die("resource0 is too small for the notification area");
	}
	bar = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (bar == MAP_FAILED)
		die("mmap resource0 (is a driver still bound?)");
	close(fd);
}

/* Reset, negotiate VERSION_1 only, set queue 0 up on the program's pages, DRIVER_OK. */
static int start_device(uint16_t *max_out)
{
	uint8_t s;
	uint16_t max;

	if (set_status(0) != 0)
		return -1;
	set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE);
	set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr32(COMMON(guest_feature_select), 0);
	wr32(COMMON(guest_feature), 0);
	wr32(COMMON(guest_feature_select), 1);
	wr32(COMMON(guest_feature), 1u << (VIRTIO_F_VERSION_1 - 32));
	s = set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		       VIRTIO_CONFIG_S_FEATURES_OK);
	if (!(s & VIRTIO_CONFIG_S_FEATURES_OK))
		return -2;

	wr16(COMMON(queue_select), 0);
	max = rd16(COMMON(queue_size));
	if (max < QUEUE_SIZE)
		return -3;
	*max_out = max;
	memset(pages, 0, PG_DATA * PAGE);
	avail_idx = used_seen = 0;
	next_req = 0;
	wr16(COMMON(queue_size), QUEUE_SIZE);
	wr16(COMMON(queue_msix_vector), VIRTIO_MSI_NO_VECTOR);
	wr64(COMMON(queue_desc_lo), gpa(PG_DESC, 0));
	wr64(COMMON(queue_avail_lo), gpa(PG_AVAIL, 0));
	wr64(COMMON(queue_used_lo), gpa(PG_USED, 0));
	wr16(COMMON(queue_enable), 1);
	s = set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		       VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	return s & VIRTIO_CONFIG_S_NEEDS_RESET ? -4 : 0;
}

static struct vring_desc *desc_table(void)
{
	return page(PG_DESC);
}

static struct vring_avail *avail_ring(void)
{
	return page(PG_AVAIL);
}

static struct vring_used *used_ring(void)
{
	return page(PG_USED);
}

/* Post a read of one sector: header, 512-byte buffer, status byte. Returns the request. */
static unsigned int post_read(uint64_t sector)
{
	unsigned int r = next_req++ % MAX_REQS;
	unsigned int head = r * 3; /* MAX_REQS * 3 <= QUEUE_SIZE: chains never share a slot */
	struct virtio_blk_outhdr *h = (void *)((uint8_t *)page(PG_HDR) + r * 32);
	uint8_t *status = (uint8_t *)h + 16;
	struct vring_desc *d = desc_table();

	h->type = VIRTIO_BLK_T_IN;
	h->ioprio = 0;
	h->sector = sector;
	*status = 0xff;
	d[head] = (struct vring_desc){ gpa(PG_HDR, r * 32), 16, VRING_DESC_F_NEXT, head + 1 };
	d[head + 1] = (struct vring_desc){ gpa(PG_DATA + r / SECTORS_PER_PAGE,
					       (r % SECTORS_PER_PAGE) * 512),
					   512, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, head + 2 };
	d[head + 2] = (struct vring_desc){ gpa(PG_HDR, r * 32 + 16), 1, VRING_DESC_F_WRITE, 0 };
	avail_ring()->ring[avail_idx % QUEUE_SIZE] = (uint16_t)head;
	__atomic_store_n(&avail_ring()->idx, (uint16_t)(avail_idx + 1), __ATOMIC_RELEASE);
	avail_idx++;
	return r;
}

static uint8_t req_status(unsigned int r)
{
	return *((volatile uint8_t *)page(PG_HDR) + r * 32 + 16);
}

static const uint8_t *req_data(unsigned int r)
{
	return (uint8_t *)page(PG_DATA + r / SECTORS_PER_PAGE) + (r % SECTORS_PER_PAGE) * 512;
}

static void kick(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	wr16(BAR_NOTIFY + 0 * 4, 0);
}

/* How many used entries arrived, waiting up to ms for want of them. */
static unsigned int wait_used(unsigned int want, unsigned int ms)
{
	struct timespec tick = { 0, 1000000 };
	uint16_t idx = 0;

	for (unsigned int t = 0; t <= ms; t++) {
		idx = __atomic_load_n(&used_ring()->idx, __ATOMIC_ACQUIRE);
		if ((uint16_t)(idx - used_seen) >= want)
			break;
		(void)rd8(0x1000); /* ISR: acknowledge, so INTx does not stay up */
		nanosleep(&tick, NULL);
	}
	return (uint16_t)(idx - used_seen);
}

/* One read of sector 0, which the scenario filled with a known line. */
static int honest_read(const char *key)
{
	unsigned int r = post_read(0);
	unsigned int n;
	char text[33];

	kick();
	n = wait_used(1, 5000);
	used_seen += n;
	memcpy(text, req_data(r), 32);
	text[32] = 0;
	for (char *c = text; *c; c++)
		if (*c < ' ' || *c > '~')
			*c = '.';
	say("%s=%s (used %u, status %u, sector 0 starts \"%s\")", key,
	    n == 1 && req_status(r) == VIRTIO_BLK_S_OK ? "ok" : "failed", n, req_status(r), text);
	return n == 1 && req_status(r) == VIRTIO_BLK_S_OK ? 0 : -1;
}

/* ---- the end of guest RAM ---- */

/* The end of the highest "System RAM" range of the firmware's map (not the kernel's). */
static uint64_t ram_top(void)
{
	uint64_t top = 0;

	for (unsigned int i = 0; i < 256; i++) {
		char path[64], type[64] = "";
		unsigned long long end = 0;
		FILE *f;

		snprintf(path, sizeof(path), "/sys/firmware/memmap/%u/type", i);
		f = fopen(path, "r");
		if (!f)
			break;
		if (!fgets(type, sizeof(type), f))
			type[0] = 0;
		fclose(f);
		if (strncmp(type, "System RAM", 10))
			continue;
		snprintf(path, sizeof(path), "/sys/firmware/memmap/%u/end", i);
		f = fopen(path, "r");
		if (f && fscanf(f, "%llx", &end) == 1 && end + 1 > top)
			top = end + 1;
		if (f)
			fclose(f);
	}
	return top;
}

/* The last page of RAM, through /dev/mem, filled with CANARY_BYTE; NULL when Linux refuses. */
static volatile uint8_t *canary_map(uint64_t top)
{
	int fd = open("/dev/mem", O_RDWR | O_SYNC);
	void *p;

	if (fd < 0) {
		say("canary=unavailable: open /dev/mem: %s", strerror(errno));
		return NULL;
	}
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)(top - PAGE));
	close(fd);
	if (p == MAP_FAILED) {
		say("canary=unavailable: mmap /dev/mem at 0x%" PRIx64
		    ": %s (is memmap=4K$0x%" PRIx64 " on the command line?)",
		    top - PAGE, strerror(errno), top - PAGE);
		return NULL;
	}
	memset(p, CANARY_BYTE, PAGE);
	say("canary=set: the last page of RAM, 0x%" PRIx64 "-0x%" PRIx64 ", holds 0x%02x",
	    top - PAGE, top - 1, CANARY_BYTE);
	return p;
}

static void canary_check(volatile uint8_t *c)
{
	unsigned int changed = 0, first = PAGE;

	if (!c)
		return;
	for (unsigned int i = 0; i < PAGE; i++)
		if (c[i] != CANARY_BYTE) {
			changed++;
			if (first == PAGE)
				first = i;
		}
	if (changed)
		say("canary_intact=no (%u bytes changed, the first at the page's offset 0x%x)",
		    changed, first);
	else
		say("canary_intact=yes");
}

int main(int argc, char **argv)
{
	volatile uint8_t *canary;
	uint64_t top, own_used;
	uint16_t max;
	unsigned int got;
	uint8_t s;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: hostile-pci BDF\n");
		return 2;
	}
	top = ram_top();
	if (top < 16 * PAGE) {
		errno = ENOENT;
		die("no System RAM in /sys/firmware/memmap");
	}
	say("ram_top=0x%" PRIx64, top);
	alloc_pages();
	map_bar(argv[1]);
	canary = canary_map(top);

	r = start_device(&max);
	if (r) {
		say("setup=failed (step %d, status 0x%02x)", -r, rd8(COMMON(device_status)));
		return 1;
	}
	own_used = gpa(PG_USED, 0);
	say("setup=ok: VERSION_1, queue 0 size %u of %u, rings at 0x%" PRIx64 " 0x%" PRIx64
	    " 0x%" PRIx64 ", status 0x%02x",
	    QUEUE_SIZE, max, gpa(PG_DESC, 0), gpa(PG_AVAIL, 0), own_used,
	    rd8(COMMON(device_status)));
	say("capacity=%" PRIu64 " sectors", rd64(BAR_DEVICE));
	if (honest_read("first_read"))
		return 1;

	/* the attack: each step printed before it is played */
	say("inject=status 0x0b: DRIVER_OK cleared without a reset");
	s = set_status(0x0b);
	say("status_after_clear=0x%02x", s);
	say("inject=queue_size 1, used ring at 0x%" PRIx64 " (the last 16 bytes of RAM)", top - 16);
	wr16(COMMON(queue_select), 0);
	wr16(COMMON(queue_size), 1);
	wr64(COMMON(queue_used_lo), top - 16);
	say_queue("after_shrink");
	say("inject=status 0x0f: DRIVER_OK again");
	s = set_status(0x0f);
	say("status_after_driver_ok=0x%02x", s);
	say("inject=status 0x0b again, then queue_size %u", QUEUE_SIZE);
	s = set_status(0x0b);
	wr16(COMMON(queue_size), QUEUE_SIZE);
	say("status_after_second_clear=0x%02x", s);
	say_queue("after_grow");
	for (unsigned int i = 0; i < ATTACK_READS; i++)
		post_read(1 + i);
	say("inject=%u reads of sectors 1-%u posted, kicking queue 0", ATTACK_READS, ATTACK_READS);
	kick();
	got = wait_used(ATTACK_READS, 3000);
	/* still here: the VMM lives */
	say("survived=yes");
	say("completions_in_own_used_ring=%u of %u (used ring at 0x%" PRIx64 ")", got, ATTACK_READS,
	    own_used);
	used_seen += got;
	s = rd8(COMMON(device_status));
	say("status_final=0x%02x%s", s, s & VIRTIO_CONFIG_S_NEEDS_RESET ? " (NEEDS_RESET)" : "");
	say_queue("final");
	canary_check(canary);

	s = set_status(0);
	say("status_after_reset=0x%02x", s);
	r = start_device(&max);
	if (r) {
		say("restart=failed (step %d, status 0x%02x)", -r, rd8(COMMON(device_status)));
		return 1;
	}
	say("restart=ok");
	if (honest_read("read_after_reset"))
		return 1;
	set_status(0);
	say("done=1");
	return 0;
}
