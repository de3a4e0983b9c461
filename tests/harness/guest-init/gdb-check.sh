#!/bin/sh
# L2 /init for the gdb scenario (tests/harness/scenarios/gdb.sh): says it is ready,
# gives the debugger time to attach and set its breakpoint (until L1 creates... nothing
# can reach it: so a fixed 8 s, counted in the guest's own time, which stops while gdb
# holds it), then powers off through the reboot system call, where gdb breaks.
. /lib/harness/prologue.sh # boot marker, busybox applets, /dev /proc /sys

echo "GUEST ready"
sleep 8
echo "GUEST powering off"
poweroff -f
echo "GUEST poweroff failed"
exit 1
