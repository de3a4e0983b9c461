/* Writes milestone 0x2a to the boot-marker port, then powers off. */
#include "guest.inc"
	.code64
	.globl _start
_start:
	mov $BOOT_MARKER, %dx
	mov $0x2a, %al
	out %al, %dx
	poweroff
