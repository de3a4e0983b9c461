#!/bin/sh
# L2 /init for the disk scenario (tests/harness/scenarios/disk.sh): loads the
# virtio-pci and virtio-blk drivers, finds the two disks by serial (never by
# vda/vdb order) and reports as GUEST key=value lines:
#   data1 (read-write): its PCI ids, the interrupt chip its virtio interrupts
#     use (PCI-MSI with MSI-X, IO-APIC with pci=nomsi), mounts its ext4,
#     checks payload.bin against disk.sha256, writes written-MODE.txt and
#     copy-MODE.bin (the host reads them back out of the image), syncs,
#     re-reads them after dropping the caches, unmounts;
#   data2 (readonly=on): its ro flag, that a raw write and a file write both
#     fail, that its payload.bin still reads back right (disk.ro_sha256).
# then powers off. The judging is done in L1 by the scenario.
# Kernel command line: disk.mode=msix|intx disk.token=T disk.sha256=H
#   disk.ro_sha256=H (with pci=nomsi for the INTx run).
# harness-modules: virtio_pci virtio_blk
. /lib/harness/prologue.sh # boot marker, busybox applets, /dev /proc /sys
mkdir -p /tmp /mnt/data1 /mnt/data2

mode=unknown token=none sha=none ro_sha=none
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    disk.mode=*) mode=${arg#disk.mode=} ;;
    disk.token=*) token=${arg#disk.token=} ;;
    disk.sha256=*) sha=${arg#disk.sha256=} ;;
    disk.ro_sha256=*) ro_sha=${arg#disk.ro_sha256=} ;;
    esac
done
echo "GUEST mode=$mode"

# Modules, dependencies first (virtio_ring, virtio_pci_modern_dev,
# virtio_pci_legacy_dev, virtio, virtio_pci, virtio_blk): mkinitrd-guest.sh
# wrote the order.
bad=
for m in $(cat /lib/modules/load-order); do
    if ! msg=$(insmod "/lib/modules/$m.ko" 2>&1); then
        bad="$bad,$m"
        echo "GUEST insmod $m: $msg"
    fi
done
if [ -z "$bad" ]; then
    echo "GUEST modules=ok"
else
    echo "GUEST modules=failed:${bad#,}"
fi

# Every PCI function, for the record: slot=vendor:device.
pci=
for d in /sys/bus/pci/devices/*; do
    [ -e "$d" ] && pci="$pci ${d##*/}=$(cat "$d/vendor"):$(cat "$d/device")"
done
echo "GUEST pci_devices=${pci# }"

wait_disks data1 data2
all=
for b in /sys/block/vd*; do
    [ -e "$b" ] && all="$all ${b##*/}:$(cat "$b/serial" 2>/dev/null || echo '?')"
done
echo "GUEST disks=${all# }"
d1=$(find_disk data1)
d2=$(find_disk data2)
echo "GUEST data1_dev=${d1:-none}"
echo "GUEST data2_dev=${d2:-none}"
# The drivers' probe messages are on the console by now. From here on only
# errors: kernel lines printed by another CPU can land in the middle of a
# GUEST line; the rest of the log is repeated at the end ("guest dmesg:").
dmesg -n 4

# pci_of vdX: the PCI function under the virtio device of a disk.
pci_of() { dirname "$(readlink -f "/sys/block/$1/device")"; }
# virtio_of vdX: its virtio device name (virtio0, ...), as /proc/interrupts names it.
virtio_of() { basename "$(readlink -f "/sys/block/$1/device")"; }
# irq_info virtioN: "CHIPS COUNT": the interrupt chips (PCI-MSI, IO-APIC, ...)
# of its /proc/interrupts lines and their interrupt count over all CPUs.
irq_info() {
    awk -v v="$1" '
        NR == 1 { ncpu = NF; next }
        {
            hit = 0
            for (i = ncpu + 2; i <= NF; i++)
                if ($i ~ ("^" v "([-,]|$)")) hit = 1
            if (!hit) next
            for (i = 2; i <= ncpu + 1; i++) total += $i
            chip[$(ncpu + 2)] = 1
        }
        END {
            s = ""
            for (c in chip) s = s (s == "" ? "" : ",") c
            printf "%s %d\n", (s == "" ? "none" : s), total
        }' /proc/interrupts
}
report_pci() { # NAME vdX
    p=$(pci_of "$2")
    echo "GUEST $1_pci_slot=${p##*/}"
    echo "GUEST $1_pci_id=$(cat "$p/vendor" 2>/dev/null):$(cat "$p/device" 2>/dev/null)"
    echo "GUEST $1_virtio=$(virtio_of "$2")"
    echo "GUEST $1_size_sectors=$(cat "/sys/block/$2/size")"
    echo "GUEST $1_queues=$(ls "/sys/block/$2/mq" | wc -l)"
}
drop_caches() { sync && echo 3 >/proc/sys/vm/drop_caches; }

if [ -n "$d1" ]; then
    report_pci data1 "$d1"
    echo "GUEST data1_ro=$(cat "/sys/block/$d1/ro")"
    if msg=$(mount -t ext4 "/dev/$d1" /mnt/data1 2>&1); then
        echo "GUEST data1_mount=$(awk '$2 == "/mnt/data1" { split($4, o, ","); print o[1] }' /proc/mounts)"
        echo "GUEST data1_files=$(ls /mnt/data1 | tr '\n' ' ')"
        got=$(sha256sum /mnt/data1/payload.bin 2>&1 | cut -d' ' -f1)
        echo "GUEST data1_sha256=$got"
        [ "$got" = "$sha" ] && echo "GUEST data1_sha256_ok=1" || echo "GUEST data1_sha256_ok=0"
        # A small file and a 1 MiB copy (multi-segment requests), then sync.
        text="minivmm disk test token=$token mode=$mode"
        if echo "$text" >"/mnt/data1/written-$mode.txt" &&
            cp /mnt/data1/payload.bin "/mnt/data1/copy-$mode.bin" && sync; then
            echo "GUEST data1_write=ok"
        else
            echo "GUEST data1_write=failed"
        fi
        # Read both back from the device, not from the page cache.
        drop_caches
        if [ "$(cat "/mnt/data1/written-$mode.txt" 2>&1)" = "$text" ] &&
            [ "$(sha256sum "/mnt/data1/copy-$mode.bin" 2>&1 | cut -d' ' -f1)" = "$sha" ]; then
            echo "GUEST data1_readback=ok"
        else
            echo "GUEST data1_readback=failed"
        fi
        if msg=$(umount /mnt/data1 2>&1); then
            echo "GUEST data1_umount=ok"
        else
            echo "GUEST data1_umount=failed: $msg"
        fi
    else
        echo "GUEST data1_mount=failed: $msg"
    fi
fi

if [ -n "$d2" ]; then
    report_pci data2 "$d2"
    echo "GUEST data2_serial=$(cat "/sys/block/$d2/serial")"
    echo "GUEST data2_ro=$(cat "/sys/block/$d2/ro")"
    # A raw write straight to the device must fail ...
    if msg=$(dd if=/dev/zero of="/dev/$d2" bs=4096 count=1 oflag=direct conv=notrunc 2>&1); then
        echo "GUEST data2_dd_write=ok"
    else
        echo "GUEST data2_dd_write=failed: $(echo "$msg" | head -n1)"
    fi
    # ... a read-write mount must not end up writable (busybox mount falls
    # back to read-only on a write-protected device; if it fails instead,
    # mount read-only) ...
    if msg=$(mount -t ext4 -o rw "/dev/$d2" /mnt/data2 2>&1); then
        echo "GUEST data2_mount=$(awk '$2 == "/mnt/data2" { split($4, o, ","); print o[1] }' /proc/mounts)"
    else
        echo "GUEST data2_mount=failed: $(echo "$msg" | head -n1)"
        mount -t ext4 -o ro "/dev/$d2" /mnt/data2 2>&1 | sed 's/^/GUEST data2 ro mount: /'
    fi
    if grep -q ' /mnt/data2 ' /proc/mounts; then
        # ... so must a file write ...
        if msg=$(touch /mnt/data2/new-file 2>&1); then
            echo "GUEST data2_file_write=ok"
        else
            echo "GUEST data2_file_write=failed: $msg"
        fi
        # ... and the data must still read back (from the device, not the cache).
        drop_caches
        got=$(sha256sum /mnt/data2/payload.bin 2>&1 | cut -d' ' -f1)
        echo "GUEST data2_sha256=$got"
        [ "$got" = "$ro_sha" ] && echo "GUEST data2_sha256_ok=1" || echo "GUEST data2_sha256_ok=0"
        umount /mnt/data2 2>/dev/null
    fi
fi

# Interrupts last, after all the I/O.
for n in 1 2; do
    eval "d=\$d$n"
    [ -n "$d" ] || continue
    irq=$(irq_info "$(virtio_of "$d")")
    echo "GUEST data${n}_irq_chip=${irq% *}"
    echo "GUEST data${n}_irqs=${irq##* }"
done
grep -E 'virtio' /proc/interrupts | sed 's/^ */GUEST interrupts: /'
dmesg | grep -iE 'virtio|vd[a-z]|EXT4|I/O error|blk_|msi|ioapic' | tail -n 40 | sed 's/^/guest dmesg: /'
echo "GUEST io_errors=$(dmesg | grep -ciE 'I/O error|blk_update_request|EXT4-fs error|virtio.*(error|fail)')"
echo "GUEST uptime=$(cut -d' ' -f1 /proc/uptime)"
echo "GUEST done=1"
sync
poweroff -f
echo "GUEST poweroff failed"
exit 1
