#!/bin/sh
# L2 /init of the boot and memory benchmarks (bench/vm.sh, bench/l1/vm.sh): the same
# image under our VMM, QEMU and kvmtool. Its very first action writes byte 0x02 to the
# console (ttyS0, COM1: the shell's builtin printf, one write), which every one of those
# VMMs copies to its console output at once: that byte's arrival is "init reached",
# timed from outside (bench/tools/vmclock.c). Not `outb 0x3f8 2`: that helper's ioperm
# + out died with SIGSEGV under QEMU -M q35 (not under the others), so the console's
# own driver does it for all. Then the guest's own view: how long after its clock started
# the kernel ran /init (the printk time of "Run /init"), and /proc/uptime. Then it
# prints BENCH-READY and idles, for the memory measurement, until the VMM is killed.
printf '\002'
. /lib/harness/prologue.sh # boot marker, busybox applets, /dev /proc /sys
run_init=$(dmesg | sed -n 's/^\[ *\([0-9.]*\)\] Run \/init as init process.*/\1/p' | head -n1)
echo "BENCH-GUEST kernel_to_init_s=${run_init:--} uptime_s=$(cut -d' ' -f1 /proc/uptime) cpus=$(nproc) mem_kb=$(awk '/^MemTotal/ { print $2 }' /proc/meminfo)"
echo "BENCH-READY"
while :; do
    sleep 3600
done
