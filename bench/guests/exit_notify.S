/*
 * Exit cost: BENCH_LOOPS virtio queue notifications that KVM turns into an eventfd signal
 * (ioeventfd) without leaving the kernel. Our VMM binds the ioeventfd only for a queue
 * the driver has started, so the guest first does what a virtio driver would, minimally:
 * place the first virtio-pci function's BAR 0 (slot 1, a --disk) in the 32-bit window,
 * negotiate VIRTIO_F_VERSION_1, give queue 0 empty rings and set DRIVER_OK. The queue
 * thread wakes per notification and finds nothing new in the ring.
 */
#include "../../tests/guests/guest.inc"
#include "bench.inc"
#define ECAM_SLOT1 0xe0008000
#define BAR0 0xc0000000
#define PCI_COMMAND 0x04
#define PCI_BAR0 0x10
#define CMD_MEM_MASTER 0x6
/* virtio_pci_common_cfg at the start of BAR 0 (VIRTIO 1.2, 4.1.4.3) */
#define COMMON_DRIVER_FEATURE_SELECT 0x08
#define COMMON_DRIVER_FEATURE 0x0c
#define COMMON_STATUS 0x14
#define COMMON_QUEUE_SELECT 0x16
#define COMMON_QUEUE_ENABLE 0x1c
#define COMMON_QUEUE_DESC 0x20
#define COMMON_QUEUE_DRIVER 0x28
#define COMMON_QUEUE_DEVICE 0x30
#define NOTIFY_QUEUE0 0x3000 /* virtio/pci.c: notify area, queue 0 */
#define STATUS_ACK_DRIVER 0x3
#define STATUS_FEATURES_OK 0xb
#define STATUS_DRIVER_OK 0xf
/* rings for 256 entries, in RAM the VMM leaves alone (zeroed: an empty queue) */
#define RING_DESC 0x200000
#define RING_AVAIL 0x201000
#define RING_USED 0x202000
	.code64
	.globl _start
_start:
	mov $ECAM_SLOT1, %rbx
	movl $BAR0, PCI_BAR0(%rbx)
	movl $0, PCI_BAR0 + 4(%rbx)
	movw $CMD_MEM_MASTER, PCI_COMMAND(%rbx)
	mov $BAR0, %rbx
	movb $STATUS_ACK_DRIVER, COMMON_STATUS(%rbx)
	movl $1, COMMON_DRIVER_FEATURE_SELECT(%rbx)
	movl $1, COMMON_DRIVER_FEATURE(%rbx) /* bit 32: VIRTIO_F_VERSION_1 */
	movb $STATUS_FEATURES_OK, COMMON_STATUS(%rbx)
	movw $0, COMMON_QUEUE_SELECT(%rbx)
	movl $RING_DESC, COMMON_QUEUE_DESC(%rbx)
	movl $0, COMMON_QUEUE_DESC + 4(%rbx)
	movl $RING_AVAIL, COMMON_QUEUE_DRIVER(%rbx)
	movl $0, COMMON_QUEUE_DRIVER + 4(%rbx)
	movl $RING_USED, COMMON_QUEUE_DEVICE(%rbx)
	movl $0, COMMON_QUEUE_DEVICE + 4(%rbx)
	movw $1, COMMON_QUEUE_ENABLE(%rbx)
	movb $STATUS_DRIVER_OK, COMMON_STATUS(%rbx)
	cmpb $STATUS_DRIVER_OK, COMMON_STATUS(%rbx)
	jne broken
	lea NOTIFY_QUEUE0(%rbx), %rbx
	xor %eax, %eax
	com1_byte BENCH_START
	mov $BENCH_LOOPS, %ecx
1:	movw %ax, (%rbx) /* queue index 0 */
	dec %ecx
	jnz 1b
	com1_byte BENCH_END
	poweroff
broken:	/* the device refused the set-up: say so instead of timing MMIO exits */
	com1_byte 'X' /* never BENCH_START: the run then times out and says so */
	poweroff
