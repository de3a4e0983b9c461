// SPDX-License-Identifier: MIT
/* Guest RAM: layout around the PCI hole, allocation, KVM memory slots, bounds-checked access. */
#include "vmm/memory.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kvm.h>

#include "devices/platform.h"

void guest_mem_layout(struct guest_mem *mem, uint64_t size)
{
	uint64_t low = size < PLATFORM_PCI_HOLE_START ? size : PLATFORM_PCI_HOLE_START;

	memset(mem, 0, sizeof(*mem));
	mem->size = size;
	mem->regions[mem->count++] = (struct guest_region){ .gpa = 0, .size = low };
	if (size > low)
		mem->regions[mem->count++] =
			(struct guest_region){ .gpa = PLATFORM_4G, .size = size - low };
}

int guest_mem_alloc(struct guest_mem *mem, uint64_t size)
{
	guest_mem_layout(mem, size);
	for (unsigned int i = 0; i < mem->count; i++) {
		struct guest_region *r = &mem->regions[i];
		/*
		 * MAP_NORESERVE: the guest touches pages lazily, so an idle 512 MiB guest costs
		 * only what it uses; the host does not need to promise it all up front.
		 */
		void *p = mmap(NULL, r->size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED) {
			int err = -errno;
			guest_mem_free(mem);
			return err;
		}
		/* transparent huge pages cut EPT/NPT walks and page-fault exits on big guests */
		madvise(p, r->size, MADV_HUGEPAGE);
		r->host = p;
	}
	return 0;
}

int guest_mem_map_file(struct guest_mem *mem, uint64_t size, int fd)
{
	uint64_t offset = 0;

	guest_mem_layout(mem, size);
	for (unsigned int i = 0; i < mem->count; i++) {
		struct guest_region *r = &mem->regions[i];
		void *p = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE,
			       fd, (off_t)offset);

		if (p == MAP_FAILED) {
			int err = -errno;
			guest_mem_free(mem);
			return err;
		}
		r->host = p;
		offset += r->size;
	}
	return 0;
}

int guest_mem_register(const struct guest_mem *mem, int vm_fd)
{
	for (unsigned int i = 0; i < mem->count; i++) {
		const struct guest_region *r = &mem->regions[i];
		struct kvm_userspace_memory_region slot = {
			.slot = i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uintptr_t)r->host,
		};
		if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
			return -errno;
	}
	return 0;
}

void guest_mem_free(struct guest_mem *mem)
{
	for (unsigned int i = 0; i < mem->count; i++) {
		if (mem->regions[i].host)
			munmap(mem->regions[i].host, mem->regions[i].size);
		mem->regions[i].host = NULL;
	}
}

void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < mem->count; i++) {
		const struct guest_region *r = &mem->regions[i];
		/* written so that no sum can overflow, whatever gpa and len the guest chose */
		if (gpa >= r->gpa && gpa - r->gpa <= r->size && len <= r->size - (gpa - r->gpa))
			return r->host ? r->host + (gpa - r->gpa) : NULL;
	}
	return NULL;
}
