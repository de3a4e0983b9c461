#!/bin/sh
# L2 /init for the rng scenario (tests/harness/scenarios/rng.sh): loads
# virtio-pci and virtio-rng, waits for the kernel's hardware RNG core to pick
# the device, reads 64 KiB from /dev/hwrng twice and reports as GUEST
# key=value lines: the current and available sources, how many bytes each read
# returned, how many of them were not zero, whether the two reads differ, and
# how long the reads took. The judging is done in L1 by the scenario.
# harness-modules: virtio_pci virtio_rng
. /lib/harness/prologue.sh # boot marker, busybox applets, /dev /proc /sys
mkdir -p /tmp

bad=
for m in $(cat /lib/modules/load-order); do
    if ! msg=$(insmod "/lib/modules/$m.ko" 2>&1); then
        bad="$bad,$m"
        echo "GUEST insmod $m: $msg"
    fi
done
echo "GUEST modules=${bad:-ok}"

# The device probes while init runs: give it up to 10 s.
cur=/sys/class/misc/hw_random/rng_current
i=0
while [ "$i" -lt 100 ] && ! grep -q virtio_rng "$cur" 2>/dev/null; do
    sleep 0.1
    i=$((i + 1))
done
echo "GUEST rng_current=$(cat "$cur" 2>/dev/null)"
echo "GUEST rng_available=$(cat /sys/class/misc/hw_random/rng_available 2>/dev/null)"

now() { cut -d' ' -f1 /proc/uptime; }
t0=$(now)
dd if=/dev/hwrng of=/tmp/a.bin bs=1k count=64 2>/dev/null
dd if=/dev/hwrng of=/tmp/b.bin bs=1k count=64 2>/dev/null
echo "GUEST read_seconds=$(awk "BEGIN { printf \"%.2f\", $(now) - $t0 }")"
echo "GUEST bytes=$(wc -c </tmp/a.bin)"
echo "GUEST bytes2=$(wc -c </tmp/b.bin)"
echo "GUEST nonzero=$(tr -d '\000' </tmp/a.bin | wc -c)"
if [ "$(sha256sum </tmp/a.bin | cut -d' ' -f1)" != "$(sha256sum </tmp/b.bin | cut -d' ' -f1)" ]; then
    echo "GUEST differ=yes"
else
    echo "GUEST differ=no"
fi
echo "GUEST done=1"
poweroff -f
