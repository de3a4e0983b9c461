/*
 * Loads an empty IDT and raises an exception: no handler for it, none for the double
 * fault, so the CPU shuts down (triple fault). The VMM must exit with its triple-fault
 * status and print the registers.
 */
#include "guest.inc"
	.code64
	.globl _start
_start:
	print msg
	lidt idt_empty(%rip)
	mov $0x7a7a7a7a, %rbx /* recognisable in the register dump */
	int3
	hlt
	define_puts
msg:	.asciz "triple-fault: about to fault\n"
	.balign 8
idt_empty:
	.word 0
	.quad 0
