# Sourced first by every L2 init (mkinitrd-guest.sh puts it in each image as
# /lib/harness/prologue.sh): mark the boot on port 0x440 as early as possible,
# install busybox's applets, and mount /dev, /proc and /sys.
/bin/outb 0x440 1 || marker_failed=1
/bin/busybox --install -s # applet links (the image holds only /bin/sh)
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# If the kernel could not open a console for us, use the one devtmpfs provides.
[ -t 1 ] || exec </dev/console >/dev/console 2>&1
[ -z "${marker_failed:-}" ] || echo "GUEST marker write failed"
mount -t proc proc /proc
mount -t sysfs sysfs /sys

# find_disk SERIAL: the vdX whose virtio-blk serial is SERIAL (disks are found by
# serial, never by vda/vdb order).
find_disk() {
    for b in /sys/block/vd*; do
        if [ -f "$b/serial" ] && [ "$(cat "$b/serial" 2>/dev/null)" = "$1" ]; then
            echo "${b##*/}"
            return 0
        fi
    done
    return 1
}

# wait_disks SERIAL...: virtio_blk probes while init runs; give the disks up to 10 s.
wait_disks() {
    i=0
    for serial_wanted in "$@"; do
        while ! find_disk "$serial_wanted" >/dev/null && [ "$i" -lt 100 ]; do
            sleep 0.1
            i=$((i + 1))
        done
    done
}
