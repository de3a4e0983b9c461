/* Asks the i8042 to pulse the reset line, as Linux's reboot=k does. */
#include "guest.inc"
	.code64
	.globl _start
_start:
	mov $0x64, %dx
	mov $0xfe, %al
	out %al, %dx
1:	hlt
	jmp 1b
