#!/bin/sh
# L2 /init for the rootdisk scenario (tests/harness/scenarios/rootdisk.sh):
# the initramfs of a disk-rooted guest. Loads virtio-pci and virtio-blk,
# finds the root disk by its serial (rootdisk.serial=, default rootfs; the
# root= device only when no disk has it), mounts its ext4 (ro unless the
# command line says rw), moves /dev, /proc and /sys into it and switch_roots
# there, to Debian's own /bin/sh (dash) as PID 1, which reports as GUEST
# lines what it finds (the Debian version, the root device, dpkg) and
# powers off with sysrq (a minbase tree has no init system and no poweroff;
# the kernel then powers off through ACPI). The judging is done in L1.
# Kernel command line: root=/dev/vda (the kernel leaves it to us: we have an
#   /init) ro|rw rootdisk.serial=S
# harness-modules: virtio_pci virtio_blk
. /lib/harness/prologue.sh # boot marker, busybox applets, /dev /proc /sys

root='' serial=rootfs rwmode=ro
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    root=*) root=${arg#root=} ;;
    rootdisk.serial=*) serial=${arg#rootdisk.serial=} ;;
    ro | rw) rwmode=$arg ;;
    esac
done
echo "GUEST cmdline_root=${root:-none}"

fail() {
    echo "GUEST error=$*"
    poweroff -f
    exit 1
}

bad=
for m in $(cat /lib/modules/load-order); do
    insmod "/lib/modules/$m.ko" || bad="$bad,$m"
done
[ -z "$bad" ] || echo "GUEST insmod_failed=${bad#,}"

wait_disks "$serial"
dev=$(find_disk "$serial")
if [ -n "$dev" ]; then
    dev=/dev/$dev
elif [ -n "$root" ] && [ -b "$root" ]; then
    echo "GUEST note=no disk with serial $serial, using root=$root"
    dev=$root
else
    fail "no disk with serial $serial and no block device root=${root:-none} ($(ls /sys/block | tr '\n' ' '))"
fi
echo "GUEST disk=$dev serial=$(cat "/sys/block/${dev#/dev/}/serial" 2>/dev/null) ro=$(cat "/sys/block/${dev#/dev/}/ro" 2>/dev/null)"
# Kernel messages from here on would only split GUEST lines.
dmesg -n 4

mkdir -p /newroot
msg=$(mount -t ext4 -o "$rwmode" "$dev" /newroot 2>&1) || fail "mount -o $rwmode $dev: $msg"
[ -x /newroot/bin/sh ] || fail "$dev has no /bin/sh"
for d in dev proc sys; do
    mount --move "/$d" "/newroot/$d" || fail "mount --move /$d"
done
echo "GUEST initramfs_uptime=$(cut -d' ' -f1 /newroot/proc/uptime)"

# Everything below runs in the Debian root, in Debian's own shell and tools.
# shellcheck disable=SC2016 # expanded by that shell
exec switch_root /newroot /bin/sh -c '
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
echo "GUEST pid=$$ shell=$(readlink /proc/$$/exe)"
echo "GUEST debian_version=$(cat /etc/debian_version)"
. /etc/os-release && echo "GUEST os=$PRETTY_NAME"
while read -r dev mnt fstype opts rest; do
    [ "$mnt" = / ] && echo "GUEST root_dev=$dev root_fstype=$fstype root_opts=${opts%%,*}"
done </proc/mounts
echo "GUEST dpkg=$(dpkg --version | head -n1)"
echo "GUEST apt=$(apt --version 2>&1 | head -n1)"
echo "GUEST packages=$(dpkg-query -W -f "\${Package}\n" | wc -l)"
echo "GUEST uptime=$(cut -d" " -f1 /proc/uptime)"
echo "GUEST done=1"
echo o >/proc/sysrq-trigger
sleep 30
echo "GUEST poweroff failed"
'
echo "GUEST switch_root failed"
poweroff -f
