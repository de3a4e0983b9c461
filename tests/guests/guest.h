/*
 * Shared macros for the tiny guests. The VMM starts them in 64-bit mode at 1 MiB with
 * the first 4 GiB identity-mapped and a stack below 512 KiB (see vmm/boot.c).
 */
#define COM1 0x3f8
#define COM1_LSR (COM1 + 5)
#define PM1A_CNT 0x604
#define S5_SLEEP 0x3400 /* SLP_TYP 5 << 10 | SLP_EN */
#define BOOT_MARKER 0x440

/* print the NUL-terminated string at label \msg on COM1, polling THRE like a driver */
.macro print msg
	lea \msg(%rip), %rsi
	call puts
.endm

/* ACPI S5: the VMM exits 0 */
.macro poweroff
	mov $S5_SLEEP, %ax
	mov $PM1A_CNT, %dx
	out %ax, %dx
1:	hlt
	jmp 1b
.endm

.macro define_puts
puts:
	mov $COM1_LSR, %dx
2:	in %dx, %al
	test $0x20, %al
	jz 2b
	lodsb
	test %al, %al
	jz 3f
	mov $COM1, %dx
	out %al, %dx
	jmp puts
3:	ret
.endm
