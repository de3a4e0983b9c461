#!/bin/sh
# L2 /init for the full-disk scenario (tests/harness/scenarios/full-disk.sh):
# the disk with serial "full" is an image on a host file system with less free
# space than the disk's size. The guest writes 1 MiB of a pattern at the start
# and flushes it (that fits), then writes zeros with O_DIRECT from 1 MiB on
# until a write fails, then checks the device still works: the pattern reads
# back from the device, not the page cache. Reports as GUEST key=value lines
# and powers off; L1 judges.
# harness-modules: virtio_pci virtio_blk
. /lib/harness/prologue.sh # boot marker, busybox applets, /dev /proc /sys
mkdir -p /tmp
for m in $(cat /lib/modules/load-order); do
    insmod "/lib/modules/$m.ko" || echo "GUEST insmod $m failed"
done
wait_disks full
dev=$(find_disk full)
echo "GUEST full_dev=${dev:-none}"
if [ -z "$dev" ]; then
    poweroff -f
fi
# the I/O errors below are expected: keep them off the console, count them at the end
dmesg -n 1

yes "minivmm full-disk pattern" | head -c 1048576 >/tmp/pattern
if dd if=/tmp/pattern of="/dev/$dev" bs=65536 conv=notrunc,fsync 2>/dev/null; then
    echo "GUEST full_pattern_write=ok"
else
    echo "GUEST full_pattern_write=failed"
fi

# No count: without errors this would run to the end of the disk.
msg=$(dd if=/dev/zero of="/dev/$dev" bs=1048576 seek=1 oflag=direct 2>&1)
echo "GUEST full_fill_rc=$?"
echo "GUEST full_fill_error=$(echo "$msg" | grep -m1 'error' || echo none)"
echo "GUEST full_fill_out=$(echo "$msg" | grep -m1 'records out')"

echo 3 >/proc/sys/vm/drop_caches
if dd if="/dev/$dev" bs=65536 count=16 iflag=direct 2>/dev/null | cmp -s - /tmp/pattern; then
    echo "GUEST full_readback=ok"
else
    echo "GUEST full_readback=failed"
fi
echo "GUEST full_io_error_lines=$(dmesg | grep -c 'I/O error')"
echo "GUEST full_first_io_error=$(dmesg | grep -m1 'I/O error' | sed 's/^\[[^]]*\] //')"
echo "GUEST done=1"
poweroff -f
