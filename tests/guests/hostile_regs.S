/*
 * Writes garbage to every register the VMM emulates: the platform's I/O ports (UART,
 * i8042, POST, ACPI PM1 and reset, PCI CF8/CFC) in every width, the whole configuration
 * space of every PCI function through CF8/CFC and through ECAM, and all of both
 * virtio-blk devices' BAR 0 (common configuration, ISR, device configuration,
 * notifications, MSI-X table, PBA). The only values it leaves out are the few that
 * would legitimately end the run (ACPI S5, the reset value, i8042 pulse-reset) or hurt
 * the guest rather than the VMM (UART output outside loopback, MSI-X messages other than
 * fixed interrupts, virtqueues inside its own RAM). Then it checks that the UART still
 * prints, that identity registers and disk capacities are unchanged, that a reset
 * brings each device back and that each still reads its first sector right.
 */
#include "guest.inc"
#include "virtio.inc"

#define PM1A_EVT 0x600
#define RESET_PORT 0x608
#define I8042_CMD 0x64
#define MSIX_DATA_DELIVERY 0x700 /* delivery mode: fixed (0) is all a garbage vector gets */

/* xorshift32 in %r13d; the new value also in %eax */
.macro rand
	mov %r13d, %eax
	shl $13, %eax
	xor %eax, %r13d
	mov %r13d, %eax
	shr $17, %eax
	xor %eax, %r13d
	mov %r13d, %eax
	shl $5, %eax
	xor %eax, %r13d
	mov %r13d, %eax
.endm

	.code64
	.globl _start
_start:
	mov $0x2545f491, %r13d
	print msg_start

	/* ---- platform ports: 16 garbage values per port and width, reads in between ---- */
	mov $(COM1 + 4), %dx
	mov $0x13, %al /* loopback first: garbage for the THR must not reach the console */
	out %al, %dx
	lea ports(%rip), %r14
1:	movzwl (%r14), %edx
	test %edx, %edx
	jz 5f
	mov $16, %r15d
2:	rand
	call fix_value
	out %al, %dx
	in %dx, %al
	rand
	call fix_value
	out %ax, %dx
	in %dx, %ax
	rand
	call fix_value
	out %eax, %dx
	in %dx, %eax
	dec %r15d
	jnz 2b
	add $2, %r14
	jmp 1b
5:	/* string I/O: garbage through the UART's (looped back) THR, reads from RBR */
	mov $0x3fc, %dx
	mov $0x13, %al /* loopback on */
	out %al, %dx
	lea garbage(%rip), %rsi
	mov $COM1, %dx
	mov $64, %ecx
	rep outsb
	lea scratch(%rip), %rdi
	mov $16, %ecx
	rep insb
	/* sleep requests the DSDT does not offer are ignored: S3 with SLP_EN */
	mov $PM1A_CNT, %dx
	mov $(0x2000 | 3 << 10), %ax
	out %ax, %dx
	/* the boot-marker port, many times: the VMM logs only so many */
	mov $1000, %ecx
	mov $BOOT_MARKER, %dx
6:	mov %cl, %al
	out %al, %dx
	dec %ecx
	jnz 6b
	/* a UART a driver would set up: 8N1, FIFOs cleared, no loopback, no interrupts */
	mov $(COM1 + 3), %dx
	mov $0x03, %al
	out %al, %dx
	mov $(COM1 + 1), %dx
	xor %al, %al
	out %al, %dx
	mov $(COM1 + 2), %dx
	mov $0x07, %al
	out %al, %dx
	mov $(COM1 + 4), %dx
	mov $0x03, %al
	out %al, %dx
	print msg_ports

	/* ---- configuration space: every register of every function, CF8/CFC ---- */
	xor %r14d, %r14d /* bus 0, device, function, register: bits 15-2 of the CF8 address */
1:	mov %r14d, %edi
	or $0x80000000, %edi
	rand
	mov %eax, %esi
	call cfg_write
	add $4, %r14d
	cmp $0x10000, %r14d
	jb 1b
	/* sub-dword accesses at CFD-CFF, and CF8 values that select no function on bus 0 */
	mov $CF8_ADDR(1, 0x40), %edi
	call cfg_read
	rand
	mov $(CFC + 1), %dx
	out %al, %dx
	mov $(CFC + 2), %dx
	out %ax, %dx
	mov $(CFC + 3), %dx
	out %al, %dx
	mov $0x80ff0000, %edi /* bus 255 */
	rand
	mov %eax, %esi
	call cfg_write
	mov $0x00000810, %edi /* enable bit clear */
	rand
	mov %eax, %esi
	call cfg_write
	print msg_cf8

	/* ---- the same through ECAM, plus extended space and 8-byte writes ---- */
	mov $ECAM, %r14d
1:	rand
	mov %eax, (%r14)
	add $4, %r14d
	mov %r14d, %eax
	and $0xfff, %eax
	cmp $0x100, %eax
	jb 1b
	rand
	mov %eax, 0x100 - 0x100(%r14) /* first extended register */
	rand
	mov %eax, 0xffc - 0x100(%r14)
	rand
	mov %rax, 0x48 - 0x100(%r14)
	add $0xf00, %r14d /* next function */
	cmp $(ECAM + 0x100000), %r14d
	jb 1b
	print msg_ecam

	/* ---- identities survived; nothing answers where nothing is ---- */
	mov $CF8_ADDR(0, 0), %edi
	call cfg_read
	cmp $0x29c08086, %eax
	jne fail
	mov $CF8_ADDR(1, 0), %edi
	call cfg_read
	cmp $0x10421af4, %eax
	jne fail
	mov $CF8_ADDR(2, 8), %edi /* class: mass storage, revision 1 */
	call cfg_read
	cmp $0x01800001, %eax
	jne fail
	mov $(CF8_ADDR(1, 0) | 1 << 8), %edi /* function 1 */
	call cfg_read
	cmp $0xffffffff, %eax
	jne fail
	mov $(ECAM + (2 << 15)), %eax
	cmpl $0x10421af4, (%rax)
	jne fail
	mov $(ECAM + (9 << 15)), %eax
	cmpl $0xffffffff, (%rax)
	jne fail
	print msg_ids

	/* ---- BAR 0 of both devices ---- */
	mov $1, %r12d
7:	mov %r12d, %edi
	call bar_setup
	mov %r12d, %ebx
	shl $16, %ebx
	add $0xc0000000, %ebx
	cmpq $2048, BAR_DEVCFG(%rbx) /* capacity: 1 MiB images */
	jne fail
	xor %r14d, %r14d
1:	rand
	mov %r14d, %ecx
	/* queue addresses: the high halves keep them above the guest's 16 MiB */
	cmp $(CC_QDESC + 4), %ecx
	je 2f
	cmp $(CC_QAVAIL + 4), %ecx
	je 2f
	cmp $(CC_QUSED + 4), %ecx
	jne 3f
2:	or $0x80000000, %eax
3:	cmp $BAR_MSIX, %ecx
	jb 4f
	cmp $BAR_PBA, %ecx
	jae 4f
	and $0xc, %ecx
	cmp $8, %ecx
	jne 4f
	and $~MSIX_DATA_DELIVERY, %eax
4:	mov %eax, (%rbx, %r14)
	add $4, %r14d
	cmp $BAR_SIZE, %r14d
	jb 1b
	/* 16-bit writes over the common configuration, same rule for the high halves */
	xor %r14d, %r14d
1:	rand
	cmp $(CC_QDESC + 4), %r14d
	je 2f
	cmp $(CC_QAVAIL + 4), %r14d
	je 2f
	cmp $(CC_QUSED + 4), %r14d
	jne 3f
2:	or $0x8000, %eax
3:	mov %ax, (%rbx, %r14)
	movw (%rbx, %r14), %ax
	add $2, %r14d
	cmp $0x40, %r14d
	jb 1b
	/* reads of what a driver reads */
	movb BAR_ISR(%rbx), %al
	mov BAR_PBA(%rbx), %rax
	mov BAR_MSIX(%rbx), %rax
	/* the device configuration is read-only; a reset brings the device back */
	cmpq $2048, BAR_DEVCFG(%rbx)
	jne fail
	call vdev_reset
	jnz fail
	cmpw $1, CC_NUMQ(%rbx)
	jne fail
	inc %r12d
	cmp $3, %r12d
	jb 7b
	print msg_bars

	/* ---- both devices still do their job ---- */
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
	print msg_ok
	poweroff
fail:
	print msg_fail
	poweroff

/* %dx = port, %eax = garbage: steer clear of the writes that end the run */
fix_value:
	cmp $(COM1 + 4), %dx
	jne 1f
	or $0x10, %al /* MCR: loopback stays on, nothing reaches the console */
1:	cmp $PM1A_CNT, %dx
	jne 2f
	and $~0x2000, %eax /* no SLP_EN */
2:	cmp $RESET_PORT, %dx
	jne 3f
	and $~1, %eax /* never the reset value 1 */
3:	cmp $I8042_CMD, %dx
	jne 4f
	cmp $0xfe, %al
	jne 4f
	mov $0xfd, %al /* not pulse-reset */
4:	ret

	define_puts
	define_cfg
	define_virtio

	.balign 2
ports:	/* UART, PM1 event and control, gaps, reset, i8042, POST, PCI, an empty I/O BAR window */
	.word 0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff
	.word 0x600, 0x601, 0x602, 0x603, 0x604, 0x605, 0x606, 0x607, 0x608
	.word 0x60, 0x61, 0x64, 0x80
	.word 0xcf8, 0xcf9, 0xcfa, 0xcfb, 0xcfc, 0xcfd, 0xcfe, 0xcff
	.word 0x1000, 0xfffc, 0
garbage:	.ascii "\x01\xfe\x7f\x80\x00\xff\x55\xaa\x13\x37\xde\xad\xbe\xef\x0d\x0a"
	.ascii "\x1b[2J\x1b[H\x07\x08\x7f\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	.ascii "0123456789abcdef0123456789abcdef"
scratch:	.fill 16, 1, 0
msg_start:	.asciz "hostile-regs: start\n"
msg_ports:	.asciz "hostile-regs: injected garbage into every platform port in widths 1, 2, 4 and string I/O; the UART still prints\n"
msg_cf8:	.asciz "hostile-regs: injected garbage into all 256 registers of every function through CF8/CFC\n"
msg_ecam:	.asciz "hostile-regs: injected garbage into every function through ECAM, extended space and 8-byte writes included\n"
msg_ids:	.asciz "hostile-regs: checked: host bridge and virtio identities intact, empty functions read all-ones\n"
msg_bars:	.asciz "hostile-regs: injected garbage into all 32 KiB of both virtio BARs; capacities intact, both reset to status 0\n"
msg_ok:	.asciz "hostile-regs: OK: both disks read their first sector right after all that\n"
msg_fail:	.asciz "hostile-regs: FAIL\n"
pattern_a:	.ascii "tiny-disk-A-0042"
pattern_b:	.ascii "tiny-disk-B-0042"
