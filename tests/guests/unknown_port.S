/*
 * Reads a port and an MMIO address where no device lives, writes to both, and reports
 * whether the reads gave all-ones; the VMM must survive and keep going.
 */
#include "guest.inc"
	.code64
	.globl _start
_start:
	mov $0x1234, %dx
	mov $0x5a, %al
	out %al, %dx
	in %dx, %al
	cmp $0xff, %al
	jne bad
	mov $0x1236, %dx
	in %dx, %eax
	cmp $0xffffffff, %eax
	jne bad
	mov $0xd0000000, %rbx
	movl $0x12345678, (%rbx)
	mov (%rbx), %eax
	cmp $0xffffffff, %eax
	jne bad
	print ok
	poweroff
bad:
	print fail
	poweroff
	define_puts
ok:	.asciz "unknown-port: reads gave all-ones\n"
fail:	.asciz "unknown-port: WRONG value\n"
