/* Exit cost: BENCH_LOOPS port writes to 0x80 (our VMM's POST-code register) between markers. */
#include "../../tests/guests/guest.inc"
#include "bench.inc"
	.code64
	.globl _start
_start:
	com1_byte BENCH_START
	mov $POST_PORT, %dx
	mov $BENCH_LOOPS, %ecx
1:	out %al, %dx
	dec %ecx
	jnz 1b
	com1_byte BENCH_END
	poweroff
