/*
 * Counts for ever, printing "count N" (N in hex, 8 digits) about every 50 ms: for the
 * snapshot test, which saves it, kills the VMM and restores it, and then expects the
 * numbers to go on from where they were instead of starting at 0 again. The count lives
 * in guest memory and a copy in r12: both must come back.
 */
#include "guest.inc"
	.code64
	.globl _start
_start:
	xor %r12, %r12
	movq $0, count(%rip)
1:	incq count(%rip)
	inc %r12
	cmp count(%rip), %r12
	jne broken
	mov %r12, %rax
	lea digits(%rip), %rdi
	call hex32
	print msg
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	mov %rdx, %rcx
	add $(1 << 27), %rcx	/* when the next count is due */
3:	pause
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	cmp %rcx, %rdx
	jb 3b
	jmp 1b
broken:
	print bad
	poweroff
	define_puts
	define_hex32
msg:	.ascii "count "
digits:	.asciz "00000000\n"
bad:	.asciz "counter: memory and register disagree\n"
	.balign 8
count:	.quad 0
