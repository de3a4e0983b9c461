/* SPDX-License-Identifier: MIT */
/*
 * How the `vmm run` init reaches the command port's registers (devices/cmdport.h), the one
 * part of the init that differs between architectures. x86: the ports from
 * PLATFORM_CMDPORT_PORT, after ioperm(). arm64 has no port I/O: the same registers are MMIO
 * at ARM64_CMDPORT_ADDR, which the init maps from /dev/mem. Each access is a single load or
 * store the VMM sees as one exit; on arm64 a plain register-indirect one, because KVM can
 * decode only those (a data abort with a valid syndrome) and hands the rest back as errors.
 * Included by guest/init.c alone.
 */
#ifndef GUEST_CMDPORT_IO_H
#define GUEST_CMDPORT_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/cmdport.h"
#include "devices/platform.h"

#if defined(__x86_64__)
#include <sys/io.h>

/* Access to the registers, and whether the VMM's device answers there. */
static inline bool cmdport_io_open(void)
{
	return ioperm(PLATFORM_CMDPORT_PORT, PLATFORM_CMDPORT_LEN, 1) == 0 &&
	       inb(PLATFORM_CMDPORT_PORT + CMDPORT_REG_CONTROL) == PLATFORM_CMDPORT_MAGIC;
}

static inline void cmdport_write8(unsigned int reg, uint8_t value)
{
	outb(value, (uint16_t)(PLATFORM_CMDPORT_PORT + reg));
}

static inline void cmdport_write32(unsigned int reg, uint32_t value)
{
	outl(value, (uint16_t)(PLATFORM_CMDPORT_PORT + reg));
}

static inline uint32_t cmdport_read32(unsigned int reg)
{
	return inl((uint16_t)(PLATFORM_CMDPORT_PORT + reg));
}

/* Bytes to a byte register (the slow path, one exit per byte). */
static inline void cmdport_write_bytes(unsigned int reg, const uint8_t *p, size_t len)
{
	uint16_t port = (uint16_t)(PLATFORM_CMDPORT_PORT + reg);

	__asm__ volatile("rep outsb" : "+S"(p), "+c"(len) : "d"(port) : "memory");
}

#elif defined(__aarch64__)
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>

#include "devices/arm64/platform.h"

static volatile uint8_t *cmdport_regs;

static inline bool cmdport_io_open(void)
{
	/* O_SYNC: a device mapping, so no access is merged, repeated or done early */
	int fd = open("/dev/mem", O_RDWR | O_SYNC | O_CLOEXEC);
	void *map;
	uint32_t magic;

	if (fd < 0)
		return false;
	map = mmap(NULL, ARM64_CMDPORT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		   (off_t)ARM64_CMDPORT_ADDR);
	close(fd);
	if (map == MAP_FAILED)
		return false;
	cmdport_regs = map;
	__asm__ volatile("ldrb %w0, [%1]"
			 : "=r"(magic)
			 : "r"(cmdport_regs + CMDPORT_REG_CONTROL)
			 : "memory");
	return magic == PLATFORM_CMDPORT_MAGIC;
}

static inline void cmdport_write8(unsigned int reg, uint8_t value)
{
	__asm__ volatile("strb %w0, [%1]" : : "r"(value), "r"(cmdport_regs + reg) : "memory");
}

static inline void cmdport_write32(unsigned int reg, uint32_t value)
{
	__asm__ volatile("str %w0, [%1]" : : "r"(value), "r"(cmdport_regs + reg) : "memory");
}

static inline uint32_t cmdport_read32(unsigned int reg)
{
	uint32_t value;

	__asm__ volatile("ldr %w0, [%1]" : "=r"(value) : "r"(cmdport_regs + reg) : "memory");
	return value;
}

static inline void cmdport_write_bytes(unsigned int reg, const uint8_t *p, size_t len)
{
	while (len--)
		cmdport_write8(reg, *p++);
}

#else
#error "the vmm run init builds for x86-64 or arm64 guests"
#endif

#endif
