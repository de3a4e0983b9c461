#!/bin/sh
# L2 /init for the gdb scenario (tests/harness/scenarios/gdb.sh): says it is ready,
# gives the debugger 8 s to attach (counted in the guest's own time, which stops while
# gdb holds the VM), then powers off.
. /lib/harness/prologue.sh # boot marker, busybox applets, /dev /proc /sys

echo "GUEST ready"
sleep 8
echo "GUEST powering off"
poweroff -f
echo "GUEST poweroff failed"
exit 1
