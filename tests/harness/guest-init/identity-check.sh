#!/bin/sh
# L2 /init for the identity scenario (tests/harness/scenarios/identity.sh):
# reports what the guest knows about the machine it runs on, from the SMBIOS
# tables (as Linux shows them in /sys/class/dmi/id) and from CPUID (the
# "hypervisor" flag in /proc/cpuinfo), as GUEST key=value lines, then powers
# off through ACPI. The judging is done in L1 by the scenario.
. /lib/harness/prologue.sh # boot marker, busybox applets, /dev /proc /sys
# Kernel messages on the console could split the GUEST lines: errors only.
echo 3 >/proc/sys/kernel/printk

dmi=/sys/class/dmi/id
# dmi KEY: one attribute of /sys/class/dmi/id as a GUEST line ("" if absent).
dmi() {
    echo "GUEST $1=$(cat "$dmi/$1" 2>/dev/null)"
}
[ -d "$dmi" ] && echo "GUEST dmi=1" || echo "GUEST dmi=0"
dmi product_uuid
dmi sys_vendor
dmi product_name
dmi product_serial
dmi product_family
dmi chassis_type
dmi bios_vendor
if grep -qw hypervisor /proc/cpuinfo; then
    echo "GUEST hypervisor_flag=1"
else
    echo "GUEST hypervisor_flag=0"
fi
# The kernel's own words: "SMBIOS 3.0.0 present." and the "DMI:" summary line.
dmesg | grep -E 'SMBIOS|DMI' | head -n 5 | sed 's/^/GUEST dmesg: /'
sync
poweroff -f
# Only reached when poweroff fails (no ACPI?): panic=-1 turns this into a reboot.
echo "GUEST poweroff failed"
exit 1
