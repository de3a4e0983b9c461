/*
 * Floods the virtio-blk notification registers: queue 0 of a running device through its
 * ioeventfd, queue indexes that do not exist, widths no ioeventfd matches, and a device
 * that has not been started. Then both devices must still serve a read. Needs two
 * --disk images whose first sector starts with the patterns below.
 */
#include "guest.inc"
#include "virtio.inc"

#ifndef VALID_KICKS
#define VALID_KICKS 100000
#endif
#ifndef INVALID_KICKS
#define INVALID_KICKS 100000
#endif

	.code64
	.globl _start
_start:
	print msg_start
	mov $1, %edi
	call bar_setup
	mov $2, %edi
	call bar_setup

	/* device 1: a proper queue with nothing in it, so every kick finds no work */
	mov $VIRTIO_BAR(1), %ebx
	xor %esi, %esi
	call vdev_negotiate
	jz fail
	mov $RING(1), %edi
	call ring_clear
	lea 0x1000(%rdi), %rsi
	lea 0x2000(%rdi), %rdx
	call vq_config
	call vdev_driver_ok
	test $S_NEEDS_RESET, %eax
	jnz fail

	marker 1
	mov $VALID_KICKS, %ecx
1:	movw %cx, BAR_NOTIFY(%rbx)
	dec %ecx
	jnz 1b
	marker 2
	print msg_valid

	/* queue indexes 1-1023: no such queue, and no ioeventfd, so each is a VMM exit */
	mov $INVALID_KICKS, %ecx
2:	mov %ecx, %eax
	and $0x3ff, %eax
	jz 3f
	movw %cx, BAR_NOTIFY(%rbx, %rax, 4)
3:	dec %ecx
	jnz 2b
	marker 3
	/* a 32-bit write to queue 0's register misses the (16-bit) ioeventfd */
	mov $(INVALID_KICKS / 4), %ecx
4:	movl %ecx, BAR_NOTIFY(%rbx)
	dec %ecx
	jnz 4b
	marker 4
	/* device 2 has no queue running yet */
	mov $VIRTIO_BAR(2), %ebx
	mov $(INVALID_KICKS / 4), %ecx
5:	movw $0, BAR_NOTIFY(%rbx)
	dec %ecx
	jnz 5b
	marker 5
	print msg_invalid

	mov $VIRTIO_BAR(1), %ebx
	mov $1, %edi
	lea pattern_a(%rip), %rsi
	call blk_read0
	jz fail
	mov $VIRTIO_BAR(2), %ebx
	mov $2, %edi
	lea pattern_b(%rip), %rsi
	call blk_read0
	jz fail
	marker 6
	print msg_ok
	poweroff
fail:
	print msg_fail
	poweroff

	define_puts
	define_cfg
	define_virtio

#define STR(x) #x
#define XSTR(x) STR(x)
msg_start:	.asciz "hostile-notify: start\n"
msg_valid:	.asciz "hostile-notify: injected " XSTR(VALID_KICKS) " notifications of a running queue (ioeventfd)\n"
msg_invalid:	.asciz "hostile-notify: injected notifications of queues 1-1023, 32-bit ones and ones to a device not started\n"
msg_ok:	.asciz "hostile-notify: OK: both disks still read their first sector right\n"
msg_fail:	.asciz "hostile-notify: FAIL\n"
pattern_a:	.ascii "tiny-disk-A-0042"
pattern_b:	.ascii "tiny-disk-B-0042"
