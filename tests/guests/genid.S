/*
 * Prints "genid ID gpe SS" about every 50 ms: ID the 16 bytes of the VM generation ID
 * (devices/platform.h: PLATFORM_VMGENID_ADDR) in hex, in memory order, and SS the GPE0
 * status byte. It never enables the GPE, so an event the VMM raised stays visible there.
 * For the generation ID tests: a boot writes a random ID, a restore a new one and the
 * GPE; --vmgenid off neither.
 */
#include "guest.inc"
#define VMGENID_ADDR 0xef000
#define GPE0_STS 0x60c
	.code64
	.globl _start
_start:
1:	lea id(%rip), %rdi
	mov $VMGENID_ADDR, %rsi
	mov $16, %ecx
2:	movzbl (%rsi), %eax
	call byte_hex
	inc %rsi
	dec %ecx
	jnz 2b
	lea gpe(%rip), %rdi
	mov $GPE0_STS, %dx
	in %dx, %al
	movzbl %al, %eax
	call byte_hex
	print msg
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	mov %rdx, %rcx
	add $(1 << 27), %rcx
3:	pause
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	cmp %rcx, %rdx
	jb 3b
	jmp 1b
/* the byte in %eax as two hex digits at (%rdi), which moves on by two */
byte_hex:
	mov %eax, %edx
	shr $4, %edx
	movzbl hex(%rdx), %edx
	mov %dl, (%rdi)
	and $0xf, %eax
	movzbl hex(%rax), %eax
	mov %al, 1(%rdi)
	add $2, %rdi
	ret
	define_puts
hex:	.ascii "0123456789abcdef"
msg:	.ascii "genid "
id:	.ascii "00000000000000000000000000000000"
	.ascii " gpe "
gpe:	.asciz "00\n"
