#!/bin/sh
# Scenario "full-disk" (runs inside L1): a host file system fills up under the
# guest. L1 mounts an 8 MiB tmpfs holding a sparse 64 MiB image and boots the
# disk-full guest on it, once per disk engine (VMM_DISK_ENGINE=io_uring, which
# forbids the fallback, and =thread). The guest fills the disk until a write
# fails. Each run passes ("full-disk io_uring", "full-disk thread") when:
#   - the guest's write failed with an I/O error (the host's ENOSPC reaches
#     it as VIRTIO_BLK_S_IOERR) and its kernel logged "I/O error" lines;
#   - the device still worked afterwards (the pattern written first reads
#     back from the device) and the guest powered off: VMM status 0;
#   - the VMM logged the host error exactly once (not once per request),
#     naming the image and "No space left on device", and nothing else broke
#     (no "needs reset", no engine failure).
# Env (set by host-init.sh): VMM GUEST_KERNEL GUEST_INITRD_DIR LOG_DIR
#   HARNESS_TIMEOUT HARNESS_VERBOSE
. /lib/harness/scenario.sh
name=full-disk
limit=${HARNESS_TIMEOUT:-120}
[ "$limit" -le 60 ] || limit=60
fs=/tmp/full-disk
failed=0

for engine in io_uring thread; do
    mkdir -p "$fs"
    if ! mount -t tmpfs -o size=8m tmpfs "$fs"; then
        echo "FAIL: $name $engine: cannot mount an 8 MiB tmpfs on $fs"
        failed=1
        continue
    fi
    img=$fs/disk.img
    truncate -s 64M "$img"
    echo "$name $engine: injected: $img is a sparse 64 MiB image on an 8 MiB tmpfs"
    export VMM_DISK_ENGINE="$engine"
    vmm_start "$name-$engine" --kernel "$GUEST_KERNEL" \
        --initrd "$GUEST_INITRD_DIR/disk-full.cpio.gz" \
        --cmdline "console=ttyS0 panic=-1 reboot=k" --cpus 1 --memory 256M \
        --disk "path=$img,serial=full"
    vmm_wait "$limit"
    unset VMM_DISK_ENGINE
    grep -E '^GUEST ' "$out.txt"
    grep -E '^vmm: ' "$err" | grep -v '^vmm: uuid'
    echo "$name $engine: the image holds $(du -k "$img" | cut -f1) KiB when the guest is done"

    check '[ "$rc" = 0 ]' "VMM exit status $rc (want 0: the guest powers off after the errors)"
    check '[ "$(guest_value done)" = 1 ]' "the guest did not finish (last: $(grep '^GUEST ' "$out.txt" | tail -n1))"
    check '[ "$(guest_value full_pattern_write)" = ok ]' "the first 1 MiB could not be written"
    check '[ "$(guest_value full_fill_rc)" != 0 ]' "filling the disk never failed"
    check 'guest_value full_fill_error | grep -q "Input/output error"' \
        "the failed write said '$(guest_value full_fill_error)' (want an I/O error)"
    check '[ "$(guest_value full_io_error_lines)" -gt 0 ] 2>/dev/null' \
        "no 'I/O error' in the guest's kernel log"
    check '[ "$(guest_value full_readback)" = ok ]' "the pattern did not read back after the errors"
    nlog=$(grep -c 'failed: No space left on device' "$err")
    check '[ "$nlog" = 1 ]' "the VMM logged $nlog 'No space left on device' lines (want 1)"
    check 'grep "failed: No space left on device" "$err" | grep -qF "$img"' "the VMM's error line does not name $img"
    check '[ "$(grep -c " failed: " "$err")" = 1 ]' "more than one failed-request line in the VMM log"
    check '! grep -qE "needs reset|engine failed|io_uring unavailable" "$err"' \
        "$(grep -m1 -E 'needs reset|engine failed|io_uring unavailable' "$err")"
    finish "$name $engine" || failed=1
    umount "$fs"
done
exit "$failed"
