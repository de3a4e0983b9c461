/* SPDX-License-Identifier: MIT */
/* gdb's amd64 register layout from and to KVM's structures (see gdb_regs.h). */
#include "vmm/x86/gdb_regs.h"

#include <errno.h>
#include <string.h>

static uint8_t *put(uint8_t *p, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return p + bytes;
}

static uint64_t get(const uint8_t *p, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/*
 * FXSAVE keeps one bit per register (1: in use); gdb shows the x87 tag word, two bits
 * per register. Empty is 11; anything in use is shown as valid (00), as the tag word
 * itself would need the register's value classified.
 */
static uint16_t full_tag(uint8_t abridged)
{
	uint16_t tag = 0;

	for (unsigned int i = 0; i < 8; i++)
		if (!(abridged & (1u << i)))
			tag |= (uint16_t)(3u << (2 * i));
	return tag;
}

void x86_gdb_regs_read(const struct kvm_regs *r, const struct kvm_sregs *s, const struct kvm_fpu *f,
		       uint8_t out[X86_GDB_REGS_SIZE])
{
	const uint64_t gprs[] = { r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi,
				  r->rbp, r->rsp, r->r8,  r->r9,  r->r10, r->r11,
				  r->r12, r->r13, r->r14, r->r15, r->rip };
	const struct kvm_segment *segs[] = { &s->cs, &s->ss, &s->ds, &s->es, &s->fs, &s->gs };
	uint8_t *p = out;

	for (unsigned int i = 0; i < sizeof(gprs) / sizeof(gprs[0]); i++)
		p = put(p, gprs[i], 8);
	p = put(p, r->rflags, 4);
	for (unsigned int i = 0; i < 6; i++)
		p = put(p, segs[i]->selector, 4);
	for (unsigned int i = 0; i < 8; i++) {
		memcpy(p, f->fpr[i], 10);
		p += 10;
	}
	p = put(p, f->fcw, 4);
	p = put(p, f->fsw, 4);
	p = put(p, full_tag(f->ftwx), 4);
	p = put(p, 0, 4); /* fiseg: 64-bit mode keeps no segment, last_ip is linear */
	p = put(p, (uint32_t)f->last_ip, 4);
	p = put(p, 0, 4); /* foseg */
	p = put(p, (uint32_t)f->last_dp, 4);
	p = put(p, f->last_opcode, 4);
	for (unsigned int i = 0; i < 16; i++) {
		memcpy(p, f->xmm[i], 16);
		p += 16;
	}
	put(p, f->mxcsr, 4);
}

int x86_gdb_regs_write(struct kvm_regs *r, const uint8_t *in, size_t len)
{
	__u64 *gprs[] = { &r->rax, &r->rbx, &r->rcx, &r->rdx, &r->rsi, &r->rdi,
			  &r->rbp, &r->rsp, &r->r8,  &r->r9,  &r->r10, &r->r11,
			  &r->r12, &r->r13, &r->r14, &r->r15, &r->rip };

	if (len < 17 * 8 + 4)
		return -EINVAL;
	for (unsigned int i = 0; i < 17; i++)
		*gprs[i] = get(in + 8 * i, 8);
	/* the upper half of RFLAGS is reserved, and bit 1 always reads as one */
	r->rflags = (r->rflags & ~0xffffffffull) | get(in + 17 * 8, 4) | 2;
	return 0;
}
