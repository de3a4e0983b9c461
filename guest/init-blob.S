/* SPDX-License-Identifier: MIT */
/* The static guest init (guest/init.c), as bytes inside the VMM: `vmm run` needs no file. */
	.section .rodata
	.balign 16
	.globl guest_init_start
	.globl guest_init_end
guest_init_start:
	.incbin GUEST_INIT_PATH
guest_init_end:
	.section .note.GNU-stack,"",@progbits
