/*
 * Says it is ready, then halts with interrupts off and says nothing more: a silent guest
 * that costs the host no CPU, for tests of what the VMM does when the console goes quiet.
 */
#include "guest.inc"
	.code64
	.globl _start
_start:
	print msg
	cli
1:	hlt
	jmp 1b
	define_puts
msg:	.asciz "silent: ready\n"
