/*
 * Reads the first sector of its disk (PCI slot 1) about every 50 ms through one live
 * virtio-blk queue, for ever, printing "blk N" after the N-th good read: for the snapshot
 * test, which saves it with the queue running, restores it, and expects the reads to go on
 * from N+1 through the same queue. That needs the BAR the guest moved, the queue's set-up
 * and the device's ring indices back. The disk's first sector starts with the pattern below.
 */
#include "guest.inc"
#include "virtio.inc"

	.code64
	.globl _start
_start:
	mov $1, %edi
	call bar_setup
	mov $VIRTIO_BAR(1), %ebx
	mov $1, %edi
	lea pattern(%rip), %rsi
	call blk_read0
	jz fail
	mov $1, %r12		/* reads done; the next one is avail entry r12 */
	mov $RING(1), %r10
next:
	mov %r12, %rax
	call print_count
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	mov %rdx, %rcx
	add $(1 << 27), %rcx
1:	pause
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	cmp %rcx, %rdx
	jb 1b
	/* chain 0 again, as avail entry r12: fresh status and data */
	movb $0xff, 0x3100(%r10)
	movq $0, 0x4000(%r10)
	movq $0, 0x4008(%r10)
	mov %r12d, %eax
	and $(QSIZE - 1), %eax
	movw $0, 0x1004(%r10, %rax, 2)
	inc %r12
	mfence
	movw %r12w, 0x1002(%r10)
	mfence
	movw $0, BAR_NOTIFY(%rbx)
	mov $400000000, %ecx
2:	cmpw %r12w, 0x2002(%r10)
	je 3f
	pause
	dec %ecx
	jnz 2b
	jmp fail
3:	cmpb $0, 0x3100(%r10)
	jne fail
	lea 0x4000(%r10), %rdi
	lea pattern(%rip), %rsi
	mov $16, %ecx
	repe cmpsb
	jne fail
	jmp next
fail:
	print msg_fail
	poweroff

/* "blk " and %eax as 8 hex digits */
print_count:
	lea digits(%rip), %rdi
	call hex32
	print msg
	ret

	define_puts
	define_cfg
	define_virtio
	define_hex32

msg:	.ascii "blk "
digits:	.asciz "00000000\n"
msg_fail:	.asciz "blkcount: FAIL: a read did not complete or read wrong data\n"
pattern:	.ascii "tiny-disk-A-0042"
