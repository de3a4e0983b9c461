#!/bin/sh
# L2 /init of the snapshot benchmark (bench/snapshot.sh, bench/l1/snapshot.sh): the same
# image under our VMM and QEMU. It prints "tick N" on its console every 20 ms, forever,
# from the moment init runs: the first line after a cold boot is "init reached", the
# first line after a restore is "the restored guest runs again", both timed from outside
# (bench/tools/vmclock.c). The interval bounds what a restore's figure can owe to the
# guest's own timer: a snapshot taken between two ticks comes back with the rest of that
# 20 ms sleep still to run (the guest's clock goes on from where it was saved), the same
# amount in every restore of that snapshot.
. /lib/harness/prologue.sh # boot marker, busybox applets, /dev /proc /sys
n=0
while :; do
    echo "tick $n"
    n=$((n + 1))
    usleep 20000
done
