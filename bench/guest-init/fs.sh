#!/bin/sh
# L2 /init of the file system benchmark (bench/fs.sh, bench/l1/fs.sh): the same image
# boots under our VMM (virtio-fs) and under QEMU (virtio-9p). Loads the drivers, mounts
# the share at /mnt/fs and runs the workloads of bench/guest-init/fs-work.sh on it (in
# the image as /lib/bench/fs-work.sh), then powers off. Output on the serial console:
#   BENCH mount=<its /proc/mounts line>   BENCH kernel=<uname -r>
#   the BENCH lines of fs_work, BENCH error=... on a failure, BENCH done=1 at the end.
# Kernel command line: bench.fs=virtiofs|9p (default virtiofs), bench.tag=TAG (default
#   benchfs), bench.p9cache=MODE (9p's cache= option; default: none given, the
#   kernel's default), bench.work=find,stat,git,dd
# Debian's generic kernel boots it (the cloud kernel has no 9p); git with its libraries
# and the static fstree are in the image (bench/fs.sh puts them there).
# harness-modules: virtio_pci virtiofs 9pnet_virtio 9p
# shellcheck source=../../tests/harness/guest-prologue.sh
. /lib/harness/prologue.sh # boot marker, busybox applets, /dev /proc /sys
mkdir -p /tmp /mnt/fs
mount -t tmpfs tmpfs /tmp
export HOME=/tmp TMPDIR=/tmp

fs=virtiofs tag=benchfs p9cache='' work=find,stat,git,dd
# shellcheck disable=SC2013 # the command line is words
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    bench.fs=*) fs=${arg#bench.fs=} ;;
    bench.tag=*) tag=${arg#bench.tag=} ;;
    bench.p9cache=*) p9cache=${arg#bench.p9cache=} ;;
    bench.work=*) work=${arg#bench.work=} ;;
    esac
done

finish() {
    echo "BENCH done=1"
    poweroff -f
    echo "BENCH error=poweroff failed"
    exit 1
}

# shellcheck disable=SC2013 # one module name a line
for m in $(cat /lib/modules/load-order); do
    msg=$(insmod "/lib/modules/$m.ko" 2>&1) || echo "BENCH error=insmod $m: $msg"
done
# Kernel lines from here on would split BENCH lines: errors only.
dmesg -n 4
echo "BENCH kernel=$(uname -r)"
if [ "$fs" = 9p ]; then
    set -- -t 9p -o "trans=virtio,version=9p2000.L,msize=512000${p9cache:+,cache=$p9cache}"
else
    set -- -t virtiofs
fi
# the device may still be probing: a few tries
i=0
while ! msg=$(mount "$@" "$tag" /mnt/fs 2>&1); do
    i=$((i + 1))
    if [ "$i" -ge 50 ]; then
        echo "BENCH error=mount $* $tag: $msg"
        finish
    fi
    sleep 0.1
done
echo "BENCH mount=$(grep ' /mnt/fs ' /proc/mounts)"
# shellcheck source=fs-work.sh
. /lib/bench/fs-work.sh
fs_work /mnt/fs "$work"
finish
