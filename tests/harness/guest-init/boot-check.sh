#!/bin/sh
# L2 /init for the boot scenario (tests/harness/scenarios/boot.sh): signals the
# boot marker on port 0x440, reports what the guest sees as GUEST key=value
# lines on the serial console, then powers off through ACPI.
# Boot marker first thing: the VMM logs the time of the first write to port
# 0x440 (outb, not dd to /dev/port: this kernel has no CONFIG_DEVPORT).
. /lib/harness/prologue.sh # boot marker, busybox applets, /dev /proc /sys

echo "GUEST nproc=$(nproc)"
echo "GUEST memtotal_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
echo "GUEST acpi_errors=$(dmesg | grep -ciE 'ACPI.*error')"
dmesg | grep -iE 'ACPI.*error' | sed 's/^/GUEST acpi_error: /'
echo "GUEST uptime=$(cut -d' ' -f1 /proc/uptime)"
sync
poweroff -f
# Only reached when poweroff fails (no ACPI?): panic=-1 turns this into a reboot.
echo "GUEST poweroff failed"
exit 1
