#!/bin/sh
# L2 /init for the boot scenario (tests/harness/scenarios/boot.sh): signals the
# boot marker on port 0x440, reports what the guest sees as GUEST key=value
# lines on the serial console, then powers off through ACPI.
# Boot marker first thing: the VMM logs the time of the first write to port
# 0x440 (outb, not dd to /dev/port: this kernel has no CONFIG_DEVPORT).
/bin/outb 0x440 1 || marker_failed=1
/bin/busybox --install -s # applet links (the image holds only /bin/sh)
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# If the kernel could not open a console for us, use the one devtmpfs provides.
[ -t 1 ] || exec </dev/console >/dev/console 2>&1
[ -z "${marker_failed:-}" ] || echo "GUEST marker write failed"
mount -t proc proc /proc
mount -t sysfs sysfs /sys

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
