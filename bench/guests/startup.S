/*
 * Start-up benchmark, our VMM: the very first instruction group writes BENCH_FIRST to COM1 (the
 * exit whose arrival is timed), then the guest powers off so --stats is printed.
 */
#include "../../tests/guests/guest.inc"
#include "bench.inc"
	.code64
	.globl _start
_start:
	com1_byte BENCH_FIRST
	poweroff
