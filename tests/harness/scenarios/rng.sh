#!/bin/sh
# Scenario "rng" (runs inside L1): virtio-rng. Boots the rng-check guest with
# --rng (1 MiB/s, the default) and --stats, and checks that the guest's
# hardware RNG core picked the device (rng_current names virtio_rng), that two
# reads of /dev/hwrng with `dd bs=1k count=64` each returned 65536 bytes, not
# all zero and not the same twice, that the VMM's statistics count the
# device's requests, and that the power-off ends the VMM with status 0.
# Env (set by host-init.sh): VMM GUEST_KERNEL GUEST_INITRD_DIR LOG_DIR
#   HARNESS_TIMEOUT (seconds, default 120) HARNESS_VERBOSE (1: print full logs)
. /lib/harness/scenario.sh # vmm_status_why
name=rng
out=$LOG_DIR/$name.console # guest serial (VMM stdout)
err=$LOG_DIR/$name.vmm     # VMM's own log (stderr)
limit=${HARNESS_TIMEOUT:-120}

t0=$(cut -d' ' -f1 /proc/uptime)
timeout -k 5 "$limit" "$VMM" --kernel "$GUEST_KERNEL" \
    --initrd "$GUEST_INITRD_DIR/rng-check.cpio.gz" \
    --cmdline "console=ttyS0 panic=-1 reboot=k" --cpus 1 --memory 256M \
    --rng --stats >"$out" 2>"$err" </dev/null
rc=$?
t1=$(cut -d' ' -f1 /proc/uptime)
secs=$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }")
tr -d '\r' <"$out" >"$out.txt"

grep -E '^GUEST ' "$out.txt"
grep -E '^vmm: |virtio-rng' "$err"
echo "$name: VMM exited with status $rc after $secs s (L1 time)"

value() { sed -n "s/^GUEST $1=//p" "$out.txt" | head -n1; }
why=$(vmm_status_why "$rc" "$limit")
[ "$(value "done")" = 1 ] || why="$why; the guest did not finish its checks"
[ "$(value modules)" = ok ] || why="$why; modules=$(value modules)"
case "$(value rng_current)" in
virtio_rng*) ;;
*) why="$why; rng_current is '$(value rng_current)', not virtio_rng" ;;
esac
[ "$(value bytes)" = 65536 ] || why="$why; the first read gave $(value bytes) bytes, not 65536"
[ "$(value bytes2)" = 65536 ] || why="$why; the second read gave $(value bytes2) bytes, not 65536"
# random bytes: about 1 in 256 is zero
nonzero=$(value nonzero)
[ "${nonzero:-0}" -gt 64000 ] || why="$why; only ${nonzero:-0} of 65536 bytes were not zero"
[ "$(value differ)" = yes ] || why="$why; the two reads were the same"
# its row in the statistics: name, PCI address, kicks, requests (a 64-byte buffer each in
# Linux 6.1; 16 allows buffers of up to 8 KiB)
requests=$(sed -n 's/^ *virtio-rng0 (00:[0-9a-f]*\.0) *[0-9]* *\([0-9]*\) .*/\1/p' "$err")
[ "${requests:-0}" -ge 16 ] || why="$why; --stats counts ${requests:-no} virtio-rng0 requests"

run=$name # finish's headings
finish "$name" "65536 bytes twice in $(value read_seconds) s; $requests requests" || exit 1
