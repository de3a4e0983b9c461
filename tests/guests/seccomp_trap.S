/*
 * Writes to the test-hook port 0x441: a test build of the VMM (make static-test) then
 * makes a forbidden system call on this vCPU's thread and, with --seccomp on, dies of
 * SIGSYS before the greeting below. Other builds ignore the port and power off.
 */
#include "guest.inc"
	.code64
	.globl _start
_start:
	mov $TEST_HOOK, %dx
	mov $1, %al
	out %al, %dx
	print msg
	poweroff
define_puts
msg:	.asciz "seccomp_trap: still running\n"
