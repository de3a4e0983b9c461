/*
 * Exit cost: BENCH_LOOPS MMIO writes handled in user space: the host bridge's vendor ID in
 * ECAM (read-only, so the PCI code takes the write and drops it).
 */
#include "../../tests/guests/guest.inc"
#include "bench.inc"
#define ECAM 0xe0000000
	.code64
	.globl _start
_start:
	com1_byte BENCH_START
	mov $ECAM, %ebx
	mov $BENCH_LOOPS, %ecx
1:	movw %ax, (%rbx)
	dec %ecx
	jnz 1b
	com1_byte BENCH_END
	poweroff
