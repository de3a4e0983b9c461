/* Says it is ready, then spins forever: for tests that stop the VMM from outside. */
#include "guest.inc"
	.code64
	.globl _start
_start:
	print msg
1:	pause
	jmp 1b
	define_puts
msg:	.asciz "spin: ready\n"
