#!/bin/sh
# L2 /init for the sigterm and kill9 scenarios: writes numbered records to the
# disk with serial writer.serial, record N being 64 KiB of the line
# "rec N TOKEN" repeated, at byte N * 64 KiB (N = 1..480, the first 30 MiB),
# and says on the console what is durable:
#   writer.mode=flush   each record is written and flushed (dd conv=fsync: the
#                       page cache is written back and a FLUSH request sent),
#                       then "flushed N" is printed;
#   writer.mode=sync    records 1..8 are written without flushing, then `sync`,
#                       then "synced 8"; later records are never synced.
# Meanwhile a background loop keeps 256 KiB O_DIRECT writes of zeros going to
# the disk from 32 MiB on, so requests are in flight whenever L1 strikes.
# L1 stops the VMM mid-stream (SIGTERM or kill -9) and reads the records back
# out of the image. Reaching the last record prints "GUEST writer_done=N".
# Kernel command line: writer.mode=flush|sync writer.serial=S writer.token=T
# harness-modules: virtio_pci virtio_blk
. /lib/harness/prologue.sh # boot marker, busybox applets, /dev /proc /sys
mkdir -p /tmp
for m in $(cat /lib/modules/load-order); do
    insmod "/lib/modules/$m.ko" || echo "GUEST insmod $m failed"
done
mode=flush serial=rec token=none
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    writer.mode=*) mode=${arg#writer.mode=} ;;
    writer.serial=*) serial=${arg#writer.serial=} ;;
    writer.token=*) token=${arg#writer.token=} ;;
    esac
done
wait_disks "$serial"
dev=$(find_disk "$serial")
echo "GUEST writer_dev=${dev:-none}"
[ -n "$dev" ] || poweroff -f
# kernel lines must not split the progress lines L1 is waiting for
dmesg -n 1

hammer() {
    while :; do
        dd if=/dev/zero of="/dev/$dev" bs=262144 seek=128 count=8 oflag=direct 2>/dev/null
    done
}
hammer &

# put N [FLAGS]: record N to the disk; dd fails on a write or flush error
put() {
    yes "rec $1 $token" | head -c 65536 >/tmp/rec
    dd if=/tmp/rec of="/dev/$dev" bs=65536 seek="$1" count=1 conv="notrunc$2" 2>/dev/null
}

n=1
while [ "$n" -le 480 ]; do
    if [ "$mode" = flush ]; then
        put "$n" ,fsync || { echo "GUEST writer_failed=$n"; break; }
        echo "flushed $n"
    else
        put "$n" || { echo "GUEST writer_failed=$n"; break; }
        if [ "$n" = 8 ]; then
            sync
            echo "synced $n"
        fi
    fi
    n=$((n + 1))
done
echo "GUEST writer_done=$((n - 1))"
poweroff -f
