#!/bin/sh
# L2 /init for the clone scenario (tests/harness/scenarios/clone.sh). Booted once,
# snapshotted while it waits, then restored twice from that one snapshot: each copy
# must read the kernel's random numbers only once it is a copy. So it waits for the
# host's word, which comes through the disk: block 0 of the disk with serial
# "clone" holds "go" only in the copies the host prepared for the restores (it polls
# with the page cache dropped, so it reads the device, not what it read before).
# Then it prints:
#   GUEST genid=HEX          the 16 bytes at the VM generation ID's address (/dev/mem;
#                            "none" when unreadable), at boot and again after "go"
#   GUEST reseeded=yes|no    the kernel logged "crng reseeded due to virtual machine
#                            fork" (vmgenid's notification reached the RNG)
#   GUEST urandom=HEX        32 bytes of /dev/urandom
#   GUEST disk=ok|bad        it wrote "clone HEX" to block 1 of its disk and read it back
# and powers off. The word is "go wait": wait up to 5 s for the reseed first (the
# device is on); "go now": read at once (the device is off, and a later read could
# meet the RNG's own periodic reseed, which would hide what this shows).
# The generic Debian kernel runs it (the cloud kernel has no CONFIG_VMGENID).
# harness-modules: virtio_pci virtio_blk
. /lib/harness/prologue.sh # boot marker, busybox applets, /dev /proc /sys
for m in $(cat /lib/modules/load-order); do
    insmod "/lib/modules/$m.ko" || echo "GUEST insmod $m failed"
done
dmesg -n 1 # kernel lines must not split ours
wait_disks clone
dev=$(find_disk clone)
echo "GUEST clone_dev=${dev:-none}"
[ -n "$dev" ] || poweroff -f

genid() {
    v=$(dd if=/dev/mem bs=16 skip=$((0xef000 / 16)) count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')
    echo "${v:-none}"
}
echo "GUEST genid=$(genid)"
echo "GUEST vmgenid_driver=$(ls /sys/bus/acpi/drivers/vmgenid 2>/dev/null | grep ':' | tr '\n' ' ')"
echo "GUEST waiting"
while :; do
    echo 3 >/proc/sys/vm/drop_caches
    word=$(dd if="/dev/$dev" bs=512 count=1 2>/dev/null | tr -d '\000' | head -n 1)
    case "$word" in go*) break ;; esac
    sleep 0.2
done
if [ "$word" = "go wait" ]; then
    i=0
    while ! dmesg | grep -q 'reseeded due to virtual machine fork' && [ "$i" -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
fi
rnd=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
if dmesg | grep -q 'reseeded due to virtual machine fork'; then r=yes; else r=no; fi
echo "GUEST genid=$(genid)"
echo "GUEST reseeded=$r"
echo "GUEST urandom=$rnd"
printf 'clone %s\n' "$rnd" | dd of="/dev/$dev" bs=512 seek=1 count=1 conv=sync,notrunc 2>/dev/null
sync
echo 3 >/proc/sys/vm/drop_caches
back=$(dd if="/dev/$dev" bs=512 skip=1 count=1 2>/dev/null | tr -d '\000' | head -n 1)
if [ "$back" = "clone $rnd" ]; then echo "GUEST disk=ok"; else echo "GUEST disk=bad"; fi
poweroff -f
