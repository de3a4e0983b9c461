#!/bin/sh
# L2 /init for the snapshot scenario (tests/harness/scenarios/snapshot.sh): one
# process that keeps state a snapshot must carry across a kill of the VMM:
#   - a 32 KiB buffer of random bytes (as hex, in a shell variable: the
#     process's memory) and its SHA-256, taken once at the start;
#   - the disk with serial "snap", open on descriptor 3 for the whole run: every
#     tick writes record N ("rec N SUM", one 512-byte block) at the descriptor's
#     own offset, which only the guest kernel's open file knows.
# Every 0.3 s it checks both: the buffer still hashes to SUM, and after `sync`
# and dropping the caches the disk holds exactly records 1..N, read back from
# the device; then it prints "tick N ok UPTIME" (or "tick N BAD what").
# harness-modules: virtio_pci virtio_blk
. /lib/harness/prologue.sh # boot marker, busybox applets, /dev /proc /sys
for m in $(cat /lib/modules/load-order); do
    insmod "/lib/modules/$m.ko" || echo "GUEST insmod $m failed"
done
wait_disks snap
dev=$(find_disk snap)
echo "GUEST snap_dev=${dev:-none}"
[ -n "$dev" ] || poweroff -f
dmesg -n 1 # kernel lines must not split the tick lines

buf=$(head -c 32768 /dev/urandom | od -An -tx1 | tr -d ' \n')
sum=$(printf %s "$buf" | sha256sum | cut -c1-64)
echo "GUEST buffer_sha256=$sum"
exec 3<>"/dev/$dev"
i=0
while :; do
    i=$((i + 1))
    printf 'rec %d %s\n' "$i" "$sum" | dd bs=512 count=1 conv=sync >&3 2>/dev/null
    bad=
    [ "$(printf %s "$buf" | sha256sum | cut -c1-64)" = "$sum" ] || bad="$bad buffer"
    sync
    echo 3 >/proc/sys/vm/drop_caches
    good=$(dd if="/dev/$dev" bs=512 count="$i" 2>/dev/null | tr -d '\000' |
        grep -c "^rec [0-9]* $sum\$")
    last=$(dd if="/dev/$dev" bs=512 skip=$((i - 1)) count=1 2>/dev/null | tr -d '\000')
    [ "$good" = "$i" ] && [ "$last" = "rec $i $sum" ] || bad="$bad disk($good of $i)"
    echo "tick $i ${bad:+BAD$bad}${bad:-ok} $(cut -d' ' -f1 /proc/uptime)"
    sleep 0.3
done
