#!/bin/sh
# L2 /init for the hostile-pci scenario (tests/harness/scenarios/hostile-pci.sh):
# a root guest turns on the VMM's virtio-pci transport. Two disks, found by
# serial: "other" stays with the guest's virtio-blk driver throughout; "victim"
# is unbound from virtio-pci and driven by /bin/hostile-pci (see
# tests/harness/hostile-pci.c), which plays the status game against its
# running queue. Before and after, the guest reads all of "other" through its
# normal driver (O_DIRECT, caches dropped) and reports the sha256; then it
# powers off. Reports as GUEST key=value lines; L1 judges.
# harness-modules: virtio_pci virtio_blk
# harness-tools: hostile-pci
. /lib/harness/prologue.sh # boot marker, busybox applets, /dev /proc /sys
for m in $(cat /lib/modules/load-order); do
    insmod "/lib/modules/$m.ko" || echo "GUEST insmod $m failed"
done
wait_disks victim other
victim=$(find_disk victim)
other=$(find_disk other)
echo "GUEST victim_dev=${victim:-none} other_dev=${other:-none}"
if [ ! -x /bin/hostile-pci ]; then
    echo "GUEST hostile_tool=missing"
    poweroff -f
fi
if [ -z "$victim" ] || [ -z "$other" ]; then
    poweroff -f
fi

other_sha() {
    echo 3 >/proc/sys/vm/drop_caches
    dd if="/dev/$other" bs=65536 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1
}
echo "GUEST other_sha_before=$(other_sha)"

# the PCI function under the victim's virtio device
bdf=$(basename "$(readlink -f "/sys/block/$victim/device/..")")
echo "GUEST victim_bdf=$bdf ids=$(cat "/sys/bus/pci/devices/$bdf/vendor"):$(cat "/sys/bus/pci/devices/$bdf/device")"
echo "$bdf" >/sys/bus/pci/drivers/virtio-pci/unbind
if [ -e "/sys/bus/pci/devices/$bdf/driver" ]; then
    echo "GUEST unbind=failed"
else
    echo "GUEST unbind=ok"
fi
/bin/hostile-pci "$bdf"
echo "GUEST hostile_rc=$?"

echo "GUEST other_sha_after=$(other_sha)"
echo "GUEST done=1"
poweroff -f
