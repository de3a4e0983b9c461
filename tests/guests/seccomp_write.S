/*
 * Writes 2 to the test-hook port 0x441: a test build of the VMM (make static-test) then
 * makes its vCPU thread write into the first disk's image, a descriptor the thread's
 * seccomp list does not name for write; with --seccomp on the VMM dies of SIGSYS before
 * the greeting below. Other builds ignore the port and power off.
 */
#include "guest.inc"
	.code64
	.globl _start
_start:
	mov $TEST_HOOK, %dx
	mov $2, %al
	out %al, %dx
	print msg
	poweroff
define_puts
msg:	.asciz "seccomp_write: still running\n"
