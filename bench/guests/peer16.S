/*
 * The benchmark guests for VMMs that start a raw image in real mode: QEMU (a 64 KiB
 * -bios image, run from the reset vector at its end) and kvmtool (a flat binary, run from
 * its first byte). Built once per variant: -DSTARTUP, -DEXIT_PIO or -DEXIT_MMIO. The
 * instructions match the 64-bit guests: the same first exit, the same loop bodies.
 */
#include "bench.inc"
	.code16
	.globl _start
_start:
#if defined(STARTUP)
	com1_byte BENCH_FIRST
#elif defined(EXIT_PIO)
	com1_byte BENCH_START
	mov $POST_PORT, %dx
	mov $BENCH_LOOPS, %ecx
1:	out %al, %dx
	dec %ecx
	jnz 1b
	com1_byte BENCH_END
#elif defined(EXIT_MMIO)
	/*
	 * QEMU maps this very image read-only at 0xf0000 as well (the ISA BIOS window): KVM
	 * hands a store there to QEMU as an MMIO exit, which drops it.
	 */
	mov $0xf000, %bx
	mov %bx, %ds
	mov $BENCH_LOOPS, %ecx
	com1_byte BENCH_START
1:	movw %ax, 0x8000
	dec %ecx
	jnz 1b
	com1_byte BENCH_END
#endif
2:	cli
	hlt
	jmp 2b

	/* the reset vector: 16 bytes below 4 GiB, the image's last 16 bytes */
	.org 0xfff0
	jmp _start
	.org 0xffff
	.byte 0
