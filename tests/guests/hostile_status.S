/*
 * The status game against a running virtio-blk device: start queue 0 properly, write a
 * status that clears DRIVER_OK without being 0 (0x0b), shrink the queue to one entry with
 * its used ring in the last 16 bytes of RAM, set DRIVER_OK again, clear it again, grow the
 * queue back to 256 entries and kick NREQ requests. A transport that let any of those
 * writes reach the running queue has its worker write used elements past the end of guest
 * RAM, into host memory. The device must instead show NEEDS_RESET, keep the queue as it was
 * started (read-back shows it), leave the canary at the end of RAM alone, keep the second
 * disk working, and work again after a reset. Needs two --disk images whose first sectors
 * start with the patterns below, and --memory 16M.
 */
#include "guest.inc"
#include "virtio.inc"

#define RAM_END 0x1000000
#define USED_AT (RAM_END - 16) /* room for a one-entry used ring: 6 + 8 bytes, 4-aligned */
#define BIG 256		       /* the device's maximum queue size */
#define NREQ 64		       /* used elements the worker would write: 8 * NREQ bytes */
#define CANARY 0x5ca1ab1e5ca1ab1e

#define R RING(1)

	.code64
	.globl _start
_start:
	print msg_start
	mov $CF8_ADDR(1, 0), %edi
	call cfg_read
	cmp $0x10421af4, %eax
	jne fail
	mov $1, %edi
	call bar_setup
	mov $2, %edi
	call bar_setup
	mov $VIRTIO_BAR(1), %ebx

	/* a proper start of queue 0 (size QSIZE), with one read request in descriptors 0-2 */
	xor %esi, %esi
	call vdev_negotiate
	jz fail
	mov $R, %edi
	call ring_clear
	lea 0x1000(%rdi), %rsi
	lea 0x2000(%rdi), %rdx
	call vq_config
	call read_chain
	call vdev_driver_ok
	test $S_NEEDS_RESET, %eax
	jnz fail
	test $S_DRIVER_OK, %eax
	jz fail
	print msg_started

	mov $CANARY, %rax
	mov %rax, USED_AT
	mov %rax, USED_AT + 8

	/* clear DRIVER_OK; shrink; DRIVER_OK again; clear again; grow back */
	movb $(S_ACK | S_DRIVER | S_FEATURES_OK), CC_STATUS(%rbx)
	movzbl CC_STATUS(%rbx), %r12d
	movw $0, CC_QSELECT(%rbx)
	movw $1, CC_QSIZE(%rbx)
	movl $USED_AT, CC_QUSED(%rbx)
	movl $0, CC_QUSED + 4(%rbx)
	movb $(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK), CC_STATUS(%rbx)
	movb $(S_ACK | S_DRIVER | S_FEATURES_OK), CC_STATUS(%rbx)
	movw $BIG, CC_QSIZE(%rbx)
	print msg_injected

	/* NREQ copies of chain 0 (ring_clear left every avail entry 0), then one kick */
	movw $NREQ, R + 0x1002
	mfence
	movw $0, BAR_NOTIFY(%rbx)
	/* give the worker time to do whatever it will */
	mov $100, %r9d
1:	mov $20000, %ecx
2:	pause
	dec %ecx
	jnz 2b
	dec %r9d
	jnz 1b

	test $S_NEEDS_RESET, %r12d
	jz fail_status
	movzbl CC_STATUS(%rbx), %eax
	test $S_DRIVER_OK, %eax
	jz fail_status
	test $S_NEEDS_RESET, %eax
	jz fail_status
	print msg_status
	cmpw $QSIZE, CC_QSIZE(%rbx)
	jne fail_frozen
	cmpl $(R + 0x2000), CC_QUSED(%rbx)
	jne fail_frozen
	print msg_frozen
	mov $CANARY, %rax
	cmp %rax, USED_AT
	jne fail_canary
	cmp %rax, USED_AT + 8
	jne fail_canary
	print msg_canary

	/* the other disk reads right; this one too, after a reset */
	push %rbx
	mov $VIRTIO_BAR(2), %ebx
	mov $2, %edi
	lea pattern_b(%rip), %rsi
	call blk_read0
	pop %rbx
	jz fail
	print msg_other
	mov $1, %edi
	lea pattern_a(%rip), %rsi
	call blk_read0
	jz fail
	print msg_ok
	poweroff
fail_status:
	print msg_fail_status
	jmp fail
fail_frozen:
	print msg_fail_frozen
	jmp fail
fail_canary:
	print msg_fail_canary
fail:
	print msg_fail
	poweroff

/* descriptors 0-2 at R: header, 512-byte data buffer, status byte (a read of sector 0) */
read_chain:
	mov $R, %edi
	xor %esi, %esi
	lea 0x3000(%rdi), %rdx
	mov $16, %ecx
	mov $D_NEXT, %r8d
	mov $1, %r9d
	call desc_put
	mov $R, %edi
	mov $1, %esi
	lea 0x4000(%rdi), %rdx
	mov $512, %ecx
	mov $(D_NEXT | D_WRITE), %r8d
	mov $2, %r9d
	call desc_put
	mov $R, %edi
	mov $2, %esi
	lea 0x3100(%rdi), %rdx
	mov $1, %ecx
	mov $D_WRITE, %r8d
	xor %r9d, %r9d
	call desc_put
	ret

	define_puts
	define_cfg
	define_virtio

msg_start:	.asciz "hostile-status: start\n"
msg_started:	.asciz "hostile-status: queue 0 started with 8 entries\n"
msg_injected:	.asciz "hostile-status: injected: status 0x0b, queue size 1 with the used ring in the last 16 bytes of RAM, DRIVER_OK, 0x0b again, queue size 256, 64 requests and a kick\n"
msg_status:	.asciz "hostile-status: checked: DRIVER_OK stayed set and the device shows NEEDS_RESET\n"
msg_frozen:	.asciz "hostile-status: checked: queue size and used ring read back as started\n"
msg_canary:	.asciz "hostile-status: checked: the canary at the end of RAM is untouched\n"
msg_other:	.asciz "hostile-status: checked: the second disk still reads its first sector right\n"
msg_ok:	.asciz "hostile-status: OK: the attacked disk reads its first sector right after a reset\n"
msg_fail_status:	.asciz "hostile-status: device status is not DRIVER_OK with NEEDS_RESET\n"
msg_fail_frozen:	.asciz "hostile-status: the queue's fields changed while it ran\n"
msg_fail_canary:	.asciz "hostile-status: the device wrote into the last 16 bytes of RAM\n"
msg_fail:	.asciz "hostile-status: FAIL\n"
pattern_a:	.ascii "tiny-disk-A-0042"
pattern_b:	.ascii "tiny-disk-B-0042"
