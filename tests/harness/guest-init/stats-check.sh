#!/bin/sh
# L2 /init for the stats scenario (tests/harness/scenarios/stats.sh): the same
# 10 KiB (10240 bytes 'x') written once to the serial port and once to a
# virtio disk, so that the VMM's --stats tables can be compared. Both runs
# boot alike (same modules, same disk attached, same GUEST lines); only the
# workload differs:
#   stats.mode=serial  the bytes go to /dev/ttyS0 (the 8250 driver: an `out`
#                      to the UART's data register per byte)
#   stats.mode=disk    the bytes go to the disk with serial "stats", in one
#                      O_DIRECT write (dd oflag=direct: no page cache, so the
#                      request reaches the device at once)
# then the guest powers off. With stats.pause=N it first prints
# "GUEST ready" and sleeps N seconds (the scenario sends SIGUSR1 meanwhile, so
# the VMM prints the counters as they are just before the write).
# harness-modules: virtio_pci virtio_blk
. /lib/harness/prologue.sh # boot marker, busybox applets, /dev /proc /sys
mkdir -p /tmp

mode=unknown pause=0
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    stats.mode=*) mode=${arg#stats.mode=} ;;
    stats.pause=*) pause=${arg#stats.pause=} ;;
    esac
done
echo "GUEST mode=$mode"

bad=
for m in $(cat /lib/modules/load-order); do
    insmod "/lib/modules/$m.ko" >/dev/null 2>&1 || bad="$bad,$m"
done
if [ -z "$bad" ]; then
    echo "GUEST modules=ok"
else
    echo "GUEST modules=failed:${bad#,}"
fi

wait_disks stats
dev=$(find_disk stats)
echo "GUEST disk=${dev:-none}"
# How this guest knows it is a VM: the CPUID hypervisor bit (a /proc/cpuinfo
# flag), the kernel's reading of CPUID leaf 0x40000000, and SMBIOS (DMI).
if grep -qw hypervisor /proc/cpuinfo; then
    echo "GUEST cpuid_hypervisor_flag=1"
else
    echo "GUEST cpuid_hypervisor_flag=0"
fi
dmesg | grep -m1 'Hypervisor detected' | sed 's/^\[[^]]*\] */GUEST dmesg: /'
if [ -d /sys/class/dmi/id ]; then
    echo "GUEST dmi=1"
    for f in sys_vendor product_name; do
        echo "GUEST dmi_$f=$(cat "/sys/class/dmi/id/$f" 2>/dev/null)"
    done
else
    echo "GUEST dmi=0"
fi
dmesg -n 1 # from here on, only our own bytes on the serial port

head -c 10240 /dev/zero | tr '\0' x >/tmp/payload
echo "GUEST payload_bytes=$(wc -c </tmp/payload)"
if [ "$pause" != 0 ]; then
    echo "GUEST ready"
    sleep "$pause"
fi
case "$mode" in
serial) dd if=/tmp/payload of=/dev/ttyS0 bs=10240 count=1 2>/dev/null ;;
disk) [ -n "$dev" ] && dd if=/tmp/payload of="/dev/$dev" bs=10240 count=1 oflag=direct conv=notrunc 2>/dev/null ;;
*) false ;;
esac
status=$?
echo # ends the line of x (and prints the same bytes in both modes)
[ "$status" = 0 ] && echo "GUEST write=ok" || echo "GUEST write=failed ($mode)"
# The interrupts the guest took since it booted: the UART's (IRQ 4, ttyS0)
# and the disk's (MSI-X: a line per vector).
grep -E 'ttyS|virtio' /proc/interrupts | sed 's/^ */GUEST interrupts: /; s/  */ /g'
echo "GUEST done=1"
poweroff -f
echo "GUEST poweroff failed"
exit 1
