#!/bin/sh
# Scenario "disk" (runs inside L1): virtio-blk on PCI. run.sh attaches two
# disk images to L1 as QEMU virtio drives with serials data1 and data2
# (tests/harness/disk-images.sh builds them); L1 never mounts them. This
# finds them by serial and boots the disk-check guest twice with
#   --disk path=<data1 dev>,serial=data1
#   --disk path=<data2 dev>,readonly=on,serial=data2
# once with MSI-X on 2 vCPUs ("disk msix") and once with pci=nomsi, INTx, on
# 1 vCPU ("disk intx").
# Each run must end with VMM exit status 0 after the guest saw both disks as
# 1af4:1042 with their serials, got its interrupts through the expected chip
# (PCI-MSI / IO-APIC), read the payload on data1 right, wrote and re-read two
# files there, and unmounted. "disk readonly" (both runs): data2 is ro in the
# guest, a raw write and a file write both fail, its payload still reads
# right, and the VMM carries on. Afterwards run.sh has the host read the
# written files out of data1.img with debugfs and check data2.img is unchanged
# ("disk host ..." lines); the lines "disk-MODE: guest wrote to data1" tell it
# which runs wrote.
# L1 kernel command line (from run.sh): harness.disk.token=T
#   harness.disk.sha256=H harness.disk.ro_sha256=H
# Env (set by host-init.sh): VMM GUEST_KERNEL GUEST_INITRD_DIR LOG_DIR
#   HARNESS_TIMEOUT (seconds, default 120; each run here gets at most 90)
#   HARNESS_VERBOSE (1: print full logs)
. /lib/harness/scenario.sh # vmm_status_why
name=disk
limit=${HARNESS_TIMEOUT:-120}
[ "$limit" -le 90 ] || limit=90

token='' sha='' ro_sha=''
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    harness.disk.token=*) token=${arg#harness.disk.token=} ;;
    harness.disk.sha256=*) sha=${arg#harness.disk.sha256=} ;;
    harness.disk.ro_sha256=*) ro_sha=${arg#harness.disk.ro_sha256=} ;;
    esac
done
if [ -z "$token" ] || [ -z "$sha" ] || [ -z "$ro_sha" ]; then
    echo "SKIP: $name: L1 has no test disks (tests/harness/run.sh attaches them)"
    exit 0
fi

# find_disk SERIAL: /dev/vdX in L1 whose virtio-blk serial is SERIAL.
find_disk() {
    for b in /sys/block/vd*; do
        if [ -f "$b/serial" ] && [ "$(cat "$b/serial" 2>/dev/null)" = "$1" ]; then
            echo "/dev/${b##*/}"
            return 0
        fi
    done
    return 1
}
i=0
while { ! find_disk data1 >/dev/null || ! find_disk data2 >/dev/null; } && [ "$i" -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
done
dev1=$(find_disk data1)
dev2=$(find_disk data2)
if [ -z "$dev1" ] || [ -z "$dev2" ]; then
    echo "FAIL: $name: L1 has no virtio disks with serials data1 and data2 ($(ls /sys/block | tr '\n' ' '))"
    dmesg | grep -iE 'virtio|vd[a-z]' | tail -n 20 | sed 's/^/| /'
    exit 1
fi
echo "$name: L1 disks: data1=$dev1 data2=$dev2"

ro_why=
failed=0
bulky='^GUEST (interrupts:|pci_devices=|data[12]_(pci_slot|virtio|size_sectors|files|sha256)=)'

for mode in msix intx; do
    run=$name-$mode
    out=$LOG_DIR/$run.console # guest serial (VMM stdout)
    err=$LOG_DIR/$run.vmm     # VMM's own log (stderr)
    # MSI-X on 2 vCPUs: two request queues (one per vCPU), a vector each.
    # INTx on 1 vCPU: one shared line per device; saves ~5 s.
    # The MSI-X run also uses a non-default queue size (--disk queue-size=).
    extra='' cpus=2 qsize=,queue-size=1024
    [ "$mode" = intx ] && extra=" pci=nomsi" cpus=1 qsize=
    t0=$(cut -d' ' -f1 /proc/uptime)
    timeout -k 5 "$limit" "$VMM" --kernel "$GUEST_KERNEL" \
        --initrd "$GUEST_INITRD_DIR/disk-check.cpio.gz" \
        --cmdline "console=ttyS0 panic=-1 reboot=k$extra disk.mode=$mode disk.token=$token disk.sha256=$sha disk.ro_sha256=$ro_sha" \
        --cpus "$cpus" --memory 512M \
        --disk "path=$dev1,serial=data1$qsize" \
        --disk "path=$dev2,readonly=on,serial=data2" \
        >"$out" 2>"$err" </dev/null
    rc=$?
    sync # the VMM's buffered writes, out of L1's page cache to QEMU's image
    t1=$(cut -d' ' -f1 /proc/uptime)
    secs=$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }")
    tr -d '\r' <"$out" >"$out.txt"

    # The guest's findings (the bulkier ones only with -v or on a failure, below).
    grep -E '^GUEST ' "$out.txt" | grep -vE "$bulky"
    grep -E '^vmm: ' "$err"
    echo "$run: VMM exited with status $rc after $secs s (L1 time)"

    value() { sed -n "s/^GUEST $1=//p" "$out.txt" | head -n1; }
    why=$(vmm_status_why "$rc" "$limit")
    rwhy=
    if [ "$(value "done")" != 1 ]; then
        last=$(grep -E '^GUEST ' "$out.txt" | tail -n1)
        why="$why; the guest did not finish its checks (last: ${last:-no GUEST line at all})"
        rwhy="; not reached"
    else
        [ "$(value modules)" = ok ] || why="$why; modules=$(value modules)"
        for d in data1 data2; do
            [ "$(value ${d}_dev)" != none ] || { why="$why; no disk with serial $d (disks: $(value disks))"; continue; }
            id=$(value ${d}_pci_id)
            [ "$id" = 0x1af4:0x1042 ] || why="$why; $d PCI id ${id:-missing} (want 0x1af4:0x1042)"
            chip=$(value ${d}_irq_chip)
            case "$mode:$chip" in
            msix:*PCI-MSI*) ;;
            intx:*IO-APIC*) ;;
            *) why="$why; $d interrupts via ${chip:-?} (want $([ "$mode" = msix ] && echo PCI-MSI || echo IO-APIC))" ;;
            esac
            n=$(value ${d}_irqs)
            [ "${n:-0}" -gt 0 ] || why="$why; $d got no interrupts"
        done
        [ "$(value data1_ro)" = 0 ] || why="$why; data1_ro=$(value data1_ro) (want 0)"
        [ "$(value data1_mount)" = rw ] || why="$why; data1 mount: $(value data1_mount)"
        [ "$(value data1_sha256_ok)" = 1 ] || why="$why; data1 payload sha256 $(value data1_sha256) (want $sha)"
        [ "$(value data1_write)" = ok ] || why="$why; data1 write: $(value data1_write)"
        [ "$(value data1_readback)" = ok ] || why="$why; data1 read-back: $(value data1_readback)"
        [ "$(value data1_umount)" = ok ] || why="$why; data1 umount: $(value data1_umount)"
        [ "$(value io_errors)" = 0 ] || why="$why; io_errors=$(value io_errors)"
        if [ "$(value data1_write)" = ok ]; then
            echo "$run: guest wrote to data1"
        fi

        # readonly: judged over both runs.
        [ "$(value data2_serial)" = data2 ] || rwhy="$rwhy; serial '$(value data2_serial)'"
        [ "$(value data2_ro)" = 1 ] || rwhy="$rwhy; /sys/block/<dev>/ro=$(value data2_ro)"
        case "$(value data2_dd_write)" in
        failed*) ;;
        *) rwhy="$rwhy; dd write: $(value data2_dd_write)" ;;
        esac
        case "$(value data2_mount)" in
        ro | failed*) ;;
        *) rwhy="$rwhy; rw mount gave '$(value data2_mount)'" ;;
        esac
        case "$(value data2_file_write)" in
        failed*) ;;
        *) rwhy="$rwhy; file write: $(value data2_file_write)" ;;
        esac
        [ "$(value data2_sha256_ok)" = 1 ] || rwhy="$rwhy; payload sha256 $(value data2_sha256) (want $ro_sha)"
        [ "$rc" = 0 ] || rwhy="$rwhy; VMM exit status $rc"
    fi
    [ -z "$rwhy" ] || ro_why="$ro_why; $mode: ${rwhy#; }"
    if [ "${HARNESS_VERBOSE:-0}" = 1 ]; then
        echo "--- $run: guest console"
        sed 's/^/| /' "$out.txt"
        echo "--- $run: VMM log"
        sed 's/^/| /' "$err"
    fi
    if [ -n "$why" ] || [ -n "$rwhy" ]; then
        [ -z "$why" ] || echo "FAIL: $name $mode: ${why#; }"
        failed=1
        if [ "${HARNESS_VERBOSE:-0}" != 1 ]; then
            # The guest's kernel lines about PCI, virtio and the disks (boot
            # messages plus its closing "guest dmesg:" dump), then the tails.
            echo "--- $run: the rest of the guest's findings"
            grep -E "$bulky" "$out.txt" | sed 's/^/| /'
            echo "--- $run: guest kernel lines about PCI/virtio/disks"
            grep -iE 'pci|virtio|msi|ioapic|io-apic|vd[a-z]|EXT4|I/O error|blk_' "$out.txt" | grep -v '^GUEST ' |
                tail -n 80 | sed 's/^/| /'
            echo "--- $run: last 40 lines of the guest console"
            tail -n 40 "$out.txt" | sed 's/^/| /'
            echo "--- $run: last 40 lines of the VMM log"
            tail -n 40 "$err" | sed 's/^/| /'
        fi
    fi
    [ -n "$why" ] || echo "PASS: $name $mode"
done
if [ -n "$ro_why" ]; then
    echo "FAIL: $name readonly: ${ro_why#; }"
else
    echo "PASS: $name readonly"
fi
exit "$failed"
