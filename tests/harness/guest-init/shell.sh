#!/bin/sh
# L2 /init for the interactive guest of `make run`: mounts, boot marker, a
# banner, then a busybox shell with job control on the serial console.
# Leaving the shell powers the guest off.
# Boot marker first thing: the VMM logs the time of the first write to port
# 0x440 (outb, not dd to /dev/port: this kernel has no CONFIG_DEVPORT).
. /lib/harness/prologue.sh # boot marker, busybox applets, /dev /proc /sys
export HOME=/root TERM=${TERM:-vt100}
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts 2>/dev/null
hostname minivmm-guest

cat <<BANNER

minivmm guest: $(nproc) CPUs, $(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo) MiB, kernel $(uname -r)
Leave with 'poweroff -f' (or 'exit'), or press Ctrl-A then X to quit the VMM.

BANNER
# cttyhack makes the console the controlling tty, so Ctrl-C and jobs work.
setsid cttyhack sh -l
poweroff -f
