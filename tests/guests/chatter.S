/*
 * Prints "line N" (N in hex, 8 digits) for ever, without a pause: almost every instruction
 * it runs is a port access that exits to the VMM, so a snapshot taken at any moment stops
 * it in the middle of one. For the snapshot test that checks the access was finished
 * before the vCPU's state was read: the restored guest must go on from the next byte, with
 * no byte written twice and none lost where the two outputs meet.
 */
#include "guest.inc"
	.code64
	.globl _start
_start:
	xor %r12, %r12
1:	inc %r12
	mov %r12, %rax
	lea digits(%rip), %rdi
	call hex32
	print msg
	jmp 1b
	define_puts
	define_hex32
msg:	.ascii "line "
digits:	.asciz "00000000\n"
