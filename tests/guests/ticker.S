/*
 * Prints "tick" on the serial console about every 50 ms (2^27 TSC cycles), for ever: for
 * the API test, which pauses it and watches the console stand still.
 */
#include "guest.inc"
	.code64
	.globl _start
_start:
1:	print msg
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	mov %rdx, %rcx
	add $(1 << 27), %rcx	/* when the next tick is due */
2:	pause
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	cmp %rcx, %rdx
	jb 2b
	jmp 1b
	define_puts
msg:	.asciz "tick\n"
