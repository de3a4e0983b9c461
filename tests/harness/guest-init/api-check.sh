#!/bin/sh
# L2 /init for the api scenario (tests/harness/scenarios/api.sh): prints
# "tick N UPTIME" every 0.2 s until it is stopped from outside, so that the
# scenario can see a pause on the console (no new ticks) and on the guest's
# clock (UPTIME, from /proc/uptime, barely moves across it). If the kernel
# registered the ACPI fixed power button and has its event device, a watcher
# powers the guest off on the first event from it (the press vm.power-button
# makes); GUEST power_button=... says which.
. /lib/harness/prologue.sh # boot marker, busybox applets, /dev /proc /sys

button=
for dir in /sys/class/input/input*; do
    [ "$(cat "$dir/name" 2>/dev/null)" = "Power Button" ] || continue
    for ev in "$dir"/event*; do
        [ -e "/dev/${ev##*/}" ] && button=/dev/${ev##*/}
    done
done
if [ -n "$button" ]; then
    echo "GUEST power_button=$button"
    (head -c 1 "$button" >/dev/null && echo "GUEST power button pressed" && poweroff -f) &
else
    echo "GUEST power_button=none ($(dmesg | grep -c 'Power Button') kernel lines name it)"
fi

echo "GUEST ready"
i=0
while :; do
    i=$((i + 1))
    echo "tick $i $(cut -d' ' -f1 /proc/uptime)"
    sleep 0.2
done
