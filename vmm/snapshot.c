// SPDX-License-Identifier: MIT
/* Saving a paused VM into a directory, and building one back from it (vmm/snapshot.h). */
#include "vmm/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/kvm.h>

#include "devices/platform.h"
#include "vmm/pause.h"
#include "vmm/vcpu.h"
#include "vmm/x86/kvm_state.h"
#include "vmm/x86/vmgenid.h"

#define PAGE 4096u
#define TMP_SUFFIX ".tmp"

int snapshot_prepare(struct vm *vm)
{
	return kvm_state_init(vm->kvm.sys_fd, vm->kvm.vm_fd);
}

void snapshot_seccomp_fds(struct vm *vm, struct vmm_seccomp_fds *fds)
{
	for (unsigned int i = 0; i < vm->ncpus; i++)
		vmm_seccomp_fds_add(fds, VMM_SECCOMP_FD_VCPU, vm->vcpus[i].fd);
}

/* The machine's shape, as saved and as a restore's command line describes it. */
static void machine_meta(struct vm *vm, uint64_t memory, unsigned int ncpus, struct snap_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->memory_size = memory;
	m->ncpus = ncpus;
	m->ndevices = vm->ndevices < SNAP_MAX_DEVICES ? vm->ndevices : SNAP_MAX_DEVICES;
	for (unsigned int i = 0; i < m->ndevices; i++)
		snprintf(m->devices[i], SNAP_KIND_LEN, "%s", vm->devices[i].kind->name);
}

/* ---- saving ---- */

/*
 * A device the guest's driver has started can be saved only if its kind can be held
 * still (virtio_kind.snapshot_live): checked before anything is paused.
 */
static int check_devices(struct vm *vm, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < vm->ndevices; i++) {
		struct virtio_slot *s = &vm->devices[i];
		const char *why;

		if (!virtio_pci_live(&s->pci))
			continue;
		if (!s->kind->snapshot_live) {
			snprintf(err, errlen,
				 "%s is in use by the guest's driver, and saving a live %s is not "
				 "supported yet",
				 s->name, s->kind->name);
			return -EBUSY;
		}
		why = s->kind->snapshot_refusal ? s->kind->snapshot_refusal(s) : NULL;
		if (why) {
			snprintf(err, errlen,
				 "%s is in use by the guest's driver, and it cannot be saved live: "
				 "%s",
				 s->name, why);
			return -EBUSY;
		}
	}
	return 0;
}

/* Every device's threads stopped with their requests complete; the ones stopped in held. */
static void quiesce_devices(struct vm *vm, bool *held)
{
	for (unsigned int i = 0; i < vm->ndevices; i++)
		held[i] = virtio_pci_quiesce(&vm->devices[i].pci);
}

static void unquiesce_devices(struct vm *vm, const bool *held)
{
	for (unsigned int i = 0; i < vm->ndevices; i++)
		if (held[i])
			virtio_pci_unquiesce(&vm->devices[i].pci);
}

static int save_devices(struct vm *vm, struct snap_writer *w)
{
	struct uart_state uart;
	struct power_state power;
	int ret;

	uart_save(&vm->com1, &uart);
	power_save(&vm->power, &power);
	ret = snap_section(w, SNAP_UART, 0, &uart, sizeof(uart))
		      ?: snap_section(w, SNAP_POWER, 0, &power, sizeof(power));
	for (unsigned int i = 0; i < vm->ndevices && !ret; i++) {
		struct virtio_slot *s = &vm->devices[i];

		ret = virtio_pci_save(&s->pci, w, i);
		if (!ret && s->kind->save)
			ret = s->kind->save(s, w, i);
		else if (!ret)
			ret = snap_section(w, SNAP_DEVICE, i, NULL, 0);
	}
	return ret;
}

/* Everything but RAM, into w. The vCPUs are parked and the clock was read at the pause. */
static int build_state(struct vm *vm, struct snap_writer *w)
{
	struct snap_meta meta;
	int ret;

	machine_meta(vm, vm->mem.size, vm->ncpus, &meta);
	ret = snap_section(w, SNAP_META, 0, &meta, sizeof(meta)) ?:
		      snap_section(w, SNAP_VM_CLOCK, 0, &vm->pause.clock, sizeof(vm->pause.clock)) ?:
		      kvm_state_save_vm(vm->kvm.vm_fd, w);
	for (unsigned int i = 0; i < vm->ncpus && !ret; i++)
		ret = kvm_state_save_vcpu(vm->vcpus[i].fd, i, w);
	if (!ret)
		ret = save_devices(vm, w);
	return ret ?: snap_finish(w);
}

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *q = (const uint64_t *)p;

	for (unsigned int i = 0; i < PAGE / sizeof(*q); i++)
		if (q[i])
			return false;
	return true;
}

static int write_all(int fd, const uint8_t *p, size_t len, off_t at)
{
	while (len) {
		ssize_t n = pwrite(fd, p, len, at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
		at += n;
	}
	return 0;
}

/*
 * RAM, regions back to back. The file is sized first, so pages never written stay
 * holes: only runs of non-zero pages are written, each with one pwrite.
 */
static int write_memory(struct vm *vm, int fd)
{
	off_t base = 0;

	if (ftruncate(fd, (off_t)vm->mem.size) < 0)
		return -errno;
	for (unsigned int i = 0; i < vm->mem.count; i++) {
		const struct guest_region *r = &vm->mem.regions[i];
		uint64_t at = 0;

		while (at < r->size) {
			uint64_t end;
			int ret;

			if (page_is_zero(r->host + at)) {
				at += PAGE;
				continue;
			}
			for (end = at + PAGE; end < r->size && !page_is_zero(r->host + end);)
				end += PAGE;
			ret = write_all(fd, r->host + at, end - at, base + (off_t)at);
			if (ret)
				return ret;
			at = end;
		}
		base += (off_t)r->size;
	}
	return 0;
}

/*
 * A new file of our own: whatever had the name goes first, and O_EXCL makes sure the file
 * opened is the one just created, never a FIFO (whose open would block the main thread),
 * a device or a link that someone left there. Returns the descriptor or -errno.
 */
static int create_file(int dir, const char *name)
{
	int fd;

	if (unlinkat(dir, name, 0) < 0 && errno != ENOENT)
		return -errno;
	fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	return fd < 0 ? -errno : fd;
}

/* name + TMP_SUFFIX in dir, written by fill, synced, then renamed to name. */
static int write_file(int dir, const char *name, int (*fill)(int fd, void *ctx), void *ctx)
{
	char tmp[64];
	int fd, ret;

	snprintf(tmp, sizeof(tmp), "%s%s", name, TMP_SUFFIX);
	fd = create_file(dir, tmp);
	if (fd < 0)
		return fd;
	ret = fill(fd, ctx);
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	close(fd);
	/* rename, not truncate in place: a VM restored from this file maps it (MAP_PRIVATE) */
	if (!ret && renameat(dir, tmp, dir, name) < 0)
		ret = -errno;
	if (ret)
		unlinkat(dir, tmp, 0);
	return ret;
}

static int fill_memory(int fd, void *ctx)
{
	return write_memory(ctx, fd);
}

static int fill_state(int fd, void *ctx)
{
	struct snap_writer *w = ctx;

	return write_all(fd, w->buf, w->len, 0);
}

/* The directory, opened and proven writable before the VM is touched. */
static int open_dir(const char *url, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int dir, fd, ret;

	ret = snap_parse_url(url, path, sizeof(path), err, errlen);
	if (ret)
		return ret;
	/* openat, not open: the filter allows only the former, and musl's open() is the latter */
	dir = openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	fd = create_file(dir, SNAPSHOT_STATE_FILE TMP_SUFFIX);
	if (fd < 0) {
		ret = fd;
		snprintf(err, errlen, "%s: cannot write there: %s", path, strerror(-ret));
		close(dir);
		return ret;
	}
	close(fd);
	unlinkat(dir, SNAPSHOT_STATE_FILE TMP_SUFFIX, 0);
	return dir;
}

int snapshot_save(struct vm *vm, const char *url, char *err, size_t errlen)
{
	int dir, ret;

	if (vm_is_stopping(vm)) {
		snprintf(err, errlen, "the VM is stopping");
		return -ECANCELED;
	}
	dir = open_dir(url, err, errlen);
	if (dir < 0)
		return dir;
	ret = snapshot_save_dir(vm, dir, err, errlen);
	close(dir);
	return ret;
}

int snapshot_save_dir(struct vm *vm, int dir, char *err, size_t errlen)
{
	struct snap_writer w;
	bool was_paused = vm_is_paused(vm);
	bool held[VM_MAX_DEVICES];
	int ret;

	if (vm_is_stopping(vm)) {
		snprintf(err, errlen, "the VM is stopping");
		return -ECANCELED;
	}
	ret = check_devices(vm, err, errlen);
	if (!ret && !was_paused) {
		ret = vm_pause(vm);
		if (ret)
			snprintf(err, errlen, "cannot pause the VM: %s", strerror(-ret));
		/* a driver may have started a device between the check and the pause */
		else if ((ret = check_devices(vm, err, errlen)))
			vm_resume(vm);
	}
	if (ret)
		return ret;
	quiesce_devices(vm, held);
	snap_writer_init(&w);
	ret = build_state(vm, &w);
	if (ret)
		snprintf(err, errlen, "cannot read the VM's state: %s", strerror(-ret));
	/* memory first: a state file is there only once its memory file is complete */
	if (!ret && (ret = write_file(dir, SNAPSHOT_MEMORY_FILE, fill_memory, vm)))
		snprintf(err, errlen, "cannot write %s: %s", SNAPSHOT_MEMORY_FILE, strerror(-ret));
	if (!ret && (ret = write_file(dir, SNAPSHOT_STATE_FILE, fill_state, &w)))
		snprintf(err, errlen, "cannot write %s: %s", SNAPSHOT_STATE_FILE, strerror(-ret));
	if (!ret && fsync(dir) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot sync the directory: %s", strerror(-ret));
	}
	snap_writer_free(&w);
	/* the vCPUs stay parked; the devices finish what the driver had queued */
	unquiesce_devices(vm, held);
	/* a failed snapshot leaves the VM as it found it */
	if (ret && !was_paused)
		vm_resume(vm);
	return ret;
}

/* ---- restoring ---- */

static int read_state(struct snapshot_source *src, int fd, char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s/%s: not a regular file", src->dir, SNAPSHOT_STATE_FILE);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > SNAP_MAX_STATE) {
		snprintf(err, errlen, "%s/%s: %lld bytes, too big for a state file", src->dir,
			 SNAPSHOT_STATE_FILE, (long long)st.st_size);
		return -EINVAL;
	}
	src->state = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!src->state)
		return -ENOMEM;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, src->state + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	src->state_len = got;
	return 0;
}

int snapshot_open(struct snapshot_source *src, const char *url, char *err, size_t errlen)
{
	char why[200];
	int fd, ret;

	memset(src, 0, sizeof(*src));
	src->memory_fd = -1;
	ret = snap_parse_url(url, src->dir, sizeof(src->dir), why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "--restore source_url=%s", why);
		return ret;
	}
	fd = openat(AT_FDCWD, src->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		int dir = fd;

		/* O_NONBLOCK: a FIFO in their place is refused as no regular file, not waited on */
		fd = openat(dir, SNAPSHOT_STATE_FILE, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0)
			src->memory_fd = openat(dir, SNAPSHOT_MEMORY_FILE,
						O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0 && src->memory_fd < 0) {
			close(fd);
			fd = -1;
		}
		close(dir);
	}
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "--restore %s: no snapshot there: %s", src->dir,
			 strerror(-ret));
		return ret;
	}
	ret = read_state(src, fd, err, errlen);
	close(fd);
	if (ret)
		return ret;
	ret = snap_reader_open(&src->reader, src->state, src->state_len, why, sizeof(why));
	if (!ret && snap_get(&src->reader, SNAP_META, 0, &src->meta, sizeof(src->meta))) {
		snprintf(why, sizeof(why), "no machine description in it");
		ret = -EINVAL;
	}
	if (ret)
		snprintf(err, errlen, "--restore %s/%s: %s", src->dir, SNAPSHOT_STATE_FILE, why);
	return ret;
}

int snapshot_check(struct snapshot_source *src, struct vm *vm, uint64_t memory, unsigned int ncpus,
		   char *err, size_t errlen)
{
	struct snap_meta wanted;
	struct stat st;
	char why[300];

	machine_meta(vm, memory, ncpus, &wanted);
	if (snap_meta_check(&src->meta, &wanted, why, sizeof(why))) {
		snprintf(err, errlen, "--restore %s: not this machine: %s", src->dir, why);
		return -EINVAL;
	}
	if (fstat(src->memory_fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size != src->meta.memory_size) {
		snprintf(err, errlen,
			 "--restore %s/%s: %lld bytes, the state says %llu (truncated?)", src->dir,
			 SNAPSHOT_MEMORY_FILE, (long long)st.st_size,
			 (unsigned long long)src->meta.memory_size);
		return -EINVAL;
	}
	return 0;
}

int snapshot_map_memory(struct snapshot_source *src, struct guest_mem *mem, char *err,
			size_t errlen)
{
	int ret = guest_mem_map_file(mem, src->meta.memory_size, src->memory_fd);

	if (ret)
		snprintf(err, errlen, "--restore %s/%s: cannot map it: %s", src->dir,
			 SNAPSHOT_MEMORY_FILE, strerror(-ret));
	return ret;
}

int snapshot_restore_devices(struct snapshot_source *src, struct vm *vm, char *err, size_t errlen)
{
	const struct snap_reader *r = &src->reader;
	struct uart_state uart;
	struct power_state power;
	int ret = kvm_state_restore_vm(vm->kvm.vm_fd, r, err, errlen);

	if (ret)
		return ret;
	if (snap_get(r, SNAP_UART, 0, &uart, sizeof(uart)) || uart_restore(&vm->com1, &uart) ||
	    snap_get(r, SNAP_POWER, 0, &power, sizeof(power))) {
		snprintf(err, errlen, "--restore %s: the serial port's or ACPI's state is bad",
			 src->dir);
		return -EINVAL;
	}
	power_restore(&vm->power, &power);
	for (unsigned int i = 0; i < vm->ndevices; i++) {
		struct virtio_slot *s = &vm->devices[i];
		const void *data;
		size_t len;

		if (snap_find(r, SNAP_DEVICE, i, &data, &len)) {
			snprintf(err, errlen, "--restore %s: %s's state is missing", src->dir,
				 s->name);
			return -EINVAL;
		}
		if (s->kind->restore)
			ret = s->kind->restore(s, data, len, err, errlen);
		else if (len)
			snprintf(err, errlen, "--restore %s: %s's state is not its kind's",
				 src->dir, s->name);
		if (ret || (!s->kind->restore && len))
			return ret ?: -EINVAL;
		/* after the kind's own check: this starts the queues the driver had started */
		ret = virtio_pci_restore(&s->pci, r, i, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

int snapshot_restore_vcpu(struct snapshot_source *src, struct vcpu *vcpu, char *err, size_t errlen)
{
	return kvm_state_restore_vcpu(vcpu->fd, vcpu->index, &src->reader, err, errlen);
}

int snapshot_restore_clock(struct snapshot_source *src, struct vm *vm, char *err, size_t errlen)
{
	struct kvm_clock_data saved, clock = { 0 };

	if (snap_get(&src->reader, SNAP_VM_CLOCK, 0, &saved, sizeof(saved))) {
		snprintf(err, errlen, "--restore %s: the clock's state is missing", src->dir);
		return -EINVAL;
	}
	/* the value only, as vm.resume does: the guest's time goes on from the snapshot */
	clock.clock = saved.clock;
	if (ioctl(vm->kvm.vm_fd, KVM_SET_CLOCK, &clock) < 0) {
		snprintf(err, errlen, "KVM refused the saved clock: %s", strerror(errno));
		return -errno;
	}
	return snapshot_identity_changed(vm, err, errlen);
}

/*
 * Each device hears it was restored (virtio_kind.restored: a NIC asks its guest to announce
 * itself), then a new VM generation ID, and its GPE: the vCPUs have not run yet, so the SCI is
 * pending when they start and the guest's driver reads the new ID at once. A snapshot of a VM
 * booted with --vmgenid off has no such device in its DSDT, and its GPE is not enabled:
 * the ID lands in reserved memory nobody reads, and the event stays pending, unseen.
 */
int snapshot_identity_changed(struct vm *vm, char *err, size_t errlen)
{
	int ret;

	/* the devices first: their interrupts, like the GPE, wait for the vCPUs */
	for (unsigned int i = 0; i < vm->ndevices; i++)
		if (vm->devices[i].kind->restored)
			vm->devices[i].kind->restored(&vm->devices[i]);
	if (!vm->vmgenid)
		return 0;
	ret = vmgenid_write(&vm->mem);
	if (ret) {
		snprintf(err, errlen, "cannot write a new VM generation ID: %s", strerror(-ret));
		return ret;
	}
	power_gpe_raise(&vm->power, PLATFORM_ACPI_GPE_VMGENID);
	return 0;
}

void snapshot_close(struct snapshot_source *src)
{
	free(src->state);
	src->state = NULL;
	if (src->memory_fd >= 0)
		close(src->memory_fd);
	src->memory_fd = -1;
}
