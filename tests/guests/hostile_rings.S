/*
 * Breaks the first virtio-blk device's queue every way the split ring allows a driver
 * to: rings outside guest RAM or straddling its end, a descriptor chain that loops, an
 * indirect table that points to itself, a loop inside an indirect table; then the same
 * faults ROUNDS times more with a reset between them. Each time the device must report
 * DEVICE_NEEDS_RESET, a reset must bring it back, and the second device must keep
 * serving reads all along. Needs two --disk images whose first sectors start with the
 * patterns below.
 */
#include "guest.inc"
#include "virtio.inc"

#ifndef ROUNDS
#define ROUNDS 50
#endif
#define OUTSIDE_RAM 0x1000000000 /* 64 GiB: the guest has 16 MiB */
#define RAM_END 0x1000000

#define R RING(1)

/* desc_put with constant arguments: table, index, addr, len, flags, next */
.macro desc table, i, addr, len, flags, next
	mov $\table, %edi
	mov $\i, %esi
	mov $\addr, %edx
	mov $\len, %ecx
	mov $\flags, %r8d
	mov $\next, %r9d
	call desc_put
.endm

	.code64
	.globl _start
_start:
	print msg_start
	mov $CF8_ADDR(1, 0), %edi
	call cfg_read
	cmp $0x10421af4, %eax
	jne fail
	mov $CF8_ADDR(2, 0), %edi
	call cfg_read
	cmp $0x10421af4, %eax
	jne fail
	mov $1, %edi
	call bar_setup
	mov $2, %edi
	call bar_setup
	mov $VIRTIO_BAR(1), %ebx

	call rings_outside
	jz fail
	print msg_outside
	call vdev_reset
	jnz fail
	call rings_straddle
	jz fail
	print msg_straddle
	call vdev_reset
	jnz fail
	print msg_reset

	call chain_loop
	jz fail
	print msg_loop
	call other_disk
	jz fail

	call indirect_self
	jz fail
	print msg_indirect_self
	call indirect_loop
	jz fail
	print msg_indirect_loop
	call other_disk
	jz fail

	mov $ROUNDS, %r12d
1:	call rings_outside
	jz fail
	call chain_loop
	jz fail
	call indirect_self
	jz fail
	dec %r12d
	jnz 1b
	print msg_rounds
	call other_disk
	jz fail

	/* the device that was broken all along serves a read after a reset */
	mov $1, %edi
	lea pattern_a(%rip), %rsi
	call blk_read0
	jz fail
	print msg_ok
	poweroff
fail:
	print msg_fail
	poweroff

/* The second device reads its first sector right; ZF clear if so. */
other_disk:
	push %rbx
	mov $VIRTIO_BAR(2), %ebx
	mov $2, %edi
	lea pattern_b(%rip), %rsi
	call blk_read0
	pop %rbx
	jz 1f
	push %rbx
	print msg_other
	pop %rbx
	or $1, %eax
1:	ret

/* Queue 0 with its descriptor table outside RAM, then DRIVER_OK: ZF clear on NEEDS_RESET. */
rings_outside:
	xor %esi, %esi
	call vdev_negotiate
	jz 1f
	mov $OUTSIDE_RAM, %rdi
	mov $(R + 0x1000), %esi
	mov $(R + 0x2000), %edx
	call vq_config
	call vdev_driver_ok
	test $S_NEEDS_RESET, %eax
1:	ret

/* The used ring's last bytes past the end of RAM. */
rings_straddle:
	xor %esi, %esi
	call vdev_negotiate
	jz 1f
	mov $R, %edi
	mov $(R + 0x1000), %esi
	mov $(RAM_END - 32), %edx
	call vq_config
	call vdev_driver_ok
	test $S_NEEDS_RESET, %eax
1:	ret

/* Set up queue 0 in the ring area with features %esi; the chain is the caller's. */
good_rings:
	call vdev_negotiate
	jz 1f
	mov $R, %edi
	call ring_clear
	lea 0x1000(%rdi), %rsi
	lea 0x2000(%rdi), %rdx
	call vq_config
	or $1, %eax
1:	ret

/* Make chain 0 available, notify, and wait for NEEDS_RESET (ZF clear when it came). */
start_and_wait:
	call vdev_driver_ok
	test $S_NEEDS_RESET, %eax
	jnz 1f /* refused before any notification: not what this test wants */
	mov $R, %edi
	call offer0_notify
	call wait_needs_reset
	ret
1:	xor %eax, %eax
	ret

/* descriptor 0 -> 1 -> 0 -> ... */
chain_loop:
	xor %esi, %esi
	call good_rings
	jz 1f
	desc R, 0, R + 0x3000, 16, D_NEXT, 1
	desc R, 1, R + 0x3000, 16, D_NEXT, 0
	call start_and_wait
1:	ret

/* descriptor 0 is an indirect table whose first entry is the same table, indirect again */
indirect_self:
	mov $F_INDIRECT, %esi
	call good_rings
	jz 1f
	desc R, 0, R + 0x5000, 32, D_INDIRECT, 0
	desc R + 0x5000, 0, R + 0x5000, 32, D_INDIRECT, 0
	desc R + 0x5000, 1, R + 0x3000, 16, 0, 0
	call start_and_wait
1:	ret

/* an indirect table whose entries form a loop */
indirect_loop:
	mov $F_INDIRECT, %esi
	call good_rings
	jz 1f
	desc R, 0, R + 0x5000, 32, D_INDIRECT, 0
	desc R + 0x5000, 0, R + 0x3000, 16, D_NEXT, 1
	desc R + 0x5000, 1, R + 0x3000, 16, D_NEXT, 0
	call start_and_wait
1:	ret

	define_puts
	define_cfg
	define_virtio

#define STR(x) #x
#define XSTR(x) STR(x)
msg_start:	.asciz "hostile-rings: start\n"
msg_outside:	.asciz "hostile-rings: injected a descriptor table outside RAM: NEEDS_RESET at DRIVER_OK\n"
msg_straddle:	.asciz "hostile-rings: injected a used ring straddling the end of RAM: NEEDS_RESET at DRIVER_OK\n"
msg_reset:	.asciz "hostile-rings: checked: a reset clears the status to 0\n"
msg_loop:	.asciz "hostile-rings: injected a descriptor loop: NEEDS_RESET after the notification\n"
msg_indirect_self:	.asciz "hostile-rings: injected an indirect table pointing to itself: NEEDS_RESET\n"
msg_indirect_loop:	.asciz "hostile-rings: injected a loop inside an indirect table: NEEDS_RESET\n"
msg_other:	.asciz "hostile-rings: checked: the second disk still reads its first sector right\n"
msg_rounds:	.asciz "hostile-rings: injected " XSTR(ROUNDS) " more rounds of reset and: rings outside RAM, descriptor loop, self-pointing indirect table\n"
msg_ok:	.asciz "hostile-rings: OK: the broken disk reads its first sector right after a reset\n"
msg_fail:	.asciz "hostile-rings: FAIL\n"
pattern_a:	.ascii "tiny-disk-A-0042"
pattern_b:	.ascii "tiny-disk-B-0042"
