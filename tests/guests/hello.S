/* Prints a line on the serial console and powers off: output and exit status 0. */
#include "guest.inc"
	.code64
	.globl _start
_start:
	print msg
	poweroff
	define_puts
msg:	.asciz "hello from a tiny guest\n"
