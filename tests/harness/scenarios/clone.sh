#!/bin/sh
# Scenario "clone" (runs inside L1): two VMs restored from one snapshot at the same
# time, each with its own copy of the disk, with and without the ACPI VM generation
# ID (docs/snapshot.md). The guest (guest-init/clone-check.sh, 1 vCPU, 256M) runs
# Debian's generic kernel, which has the vmgenid driver built in; run.sh puts it and
# the image built with its modules in /guest/clone (else SKIP). One vCPU, so that
# the two copies' reads come from the same per-CPU RNG state.
# Lines, one PASS/FAIL each:
#   "clone boot"     the guest boots, the vmgenid driver is bound to our device,
#                    vm.snapshot saves it while it waits for its disk's word
#   "clone vmgenid"  two restores (default --vmgenid on): each copy's kernel logs
#                    the reseed, the generation IDs differ from each other and from
#                    the snapshot's, the 32 bytes each reads from /dev/urandom
#                    differ; each writes them to its own disk copy, which holds them
#                    afterwards; both power off with status 0
#   "clone without vmgenid"  the problem the device solves: the same two restores
#                    with --vmgenid off keep the snapshot's generation ID, and the
#                    line shows whether they read the same 32 bytes (they do unless
#                    the kernel's own once-a-minute reseed falls just after restore)
# Env (set by host-init.sh): VMM LOG_DIR HARNESS_TIMEOUT HARNESS_VERBOSE
. /lib/harness/scenario.sh
name=clone
limit=${HARNESS_TIMEOUT:-120}
kernel=/guest/clone/vmlinuz
initrd=/guest/clone/clone-check.cpio.gz
sock=/tmp/clone.sock
img=/tmp/clone.img
dir=/tmp/clone.d
failed=0
if [ ! -f "$kernel" ] || [ ! -f "$initrd" ]; then
    echo "SKIP: $name: no generic Debian kernel in L1 (run.sh fetches linux-image-<version>-amd64; the cloud kernel has no CONFIG_VMGENID): $(cat /guest/clone/why 2>/dev/null)"
    exit 0
fi
rm -rf "$img" "$dir" "$sock" /tmp/clone-*.img
truncate -s 1M "$img"
mkdir -p "$dir"

vmm_start "$name-boot" --kernel "$kernel" --initrd "$initrd" \
    --cmdline "console=ttyS0 panic=-1 reboot=k" --cpus 1 --memory 256M \
    --disk "path=$img,serial=clone" --api-socket "$sock"
console_wait '^GUEST waiting' "$limit" || check false "the guest never reached 'GUEST waiting'"
sleep 1 # into its polling loop
tr -d '\r' <"$out" >"$out.txt"
origin=$(guest_value genid)
driver=$(guest_value vmgenid_driver)
check '[ -n "$driver" ]' "the vmgenid driver is bound to no device"
"$VMM" ctl "$sock" snapshot "$dir" >/tmp/clone.out 2>&1
c_rc=$?
check '[ "$c_rc" = 0 ]' "snapshot: $(cat /tmp/clone.out)"
kill -9 "$vmm_pid"
vmm_wait 10
finish "$name boot" "vmgenid bound to ${driver% }, ID $origin" || failed=1

# restore_two MODE WORD: restore the snapshot twice at once, --vmgenid MODE, each with
# its own copy of the disk, whose block 0 holds WORD; sets rc_X, rnd_X, gen_X, res_X,
# disk_X and back_X (what the copy's block 1 holds afterwards) for X in a and b
restore_two() {
    for c in a b; do
        cp "$img" "/tmp/clone-$c.img"
        printf '%s\n' "$2" | dd of="/tmp/clone-$c.img" bs=512 count=1 conv=sync,notrunc 2>/dev/null
    done
    vmm_start "$name-$1-a" --restore "source_url=file://$dir" --cpus 1 --memory 256M \
        --disk "path=/tmp/clone-a.img,serial=clone" --vmgenid "$1"
    pid_a=$vmm_pid out_a=$out err_a=$err t0_a=$vmm_t0
    vmm_start "$name-$1-b" --restore "source_url=file://$dir" --cpus 1 --memory 256M \
        --disk "path=/tmp/clone-b.img,serial=clone" --vmgenid "$1"
    pid_b=$vmm_pid out_b=$out err_b=$err t0_b=$vmm_t0
    for c in a b; do
        eval "vmm_pid=\$pid_$c out=\$out_$c err=\$err_$c vmm_t0=\$t0_$c"
        run=$name-$1-$c
        vmm_wait "$limit"
        eval "rc_$c=\$rc rnd_$c=\$(guest_value urandom) gen_$c=\$(guest_value genid)"
        eval "res_$c=\$(guest_value reseeded) disk_$c=\$(guest_value disk)"
        eval "back_$c=\$(dd if=/tmp/clone-$c.img bs=512 skip=1 count=1 2>/dev/null | tr -d '\\000' | head -n 1)"
        tr -d '\r' <"$out" | sed -n 's/^GUEST /  '"$c"': /p'
    done
}

# the checks both rounds make: status 0, a read each, each disk copy holds its own
both_ran() {
    check '[ "$rc_a" = 0 ] && [ "$rc_b" = 0 ]' "VMM exit statuses $rc_a and $rc_b (want 0)"
    check '[ ${#rnd_a} = 64 ] && [ ${#rnd_b} = 64 ]' "no urandom line from a copy ('$rnd_a', '$rnd_b')"
    check '[ "$disk_a" = ok ] && [ "$disk_b" = ok ]' "disk checks: $disk_a, $disk_b"
    check '[ "$back_a" = "clone $rnd_a" ] && [ "$back_b" = "clone $rnd_b" ]' \
        "the disk copies hold '$back_a' and '$back_b'"
}

why=
restore_two on "go wait"
both_ran
check '[ "$rnd_a" != "$rnd_b" ]' "both copies read the same bytes $rnd_a"
check '[ "$res_a" = yes ] && [ "$res_b" = yes ]' "the kernel's reseed: $res_a, $res_b (want yes)"
check '[ "$gen_a" != "$gen_b" ] && [ "$gen_a" != "$origin" ] && [ "$gen_b" != "$origin" ]' \
    "generation IDs $origin (snapshot), $gen_a, $gen_b: not all different"
finish "$name vmgenid" "urandom $(echo "$rnd_a" | cut -c1-16)... and $(echo "$rnd_b" | cut -c1-16)..." || failed=1

why=
restore_two off "go now"
both_ran
# Shown, not judged: Linux also reseeds on its own once a minute has passed since the
# last reseed, and a copy restored just after that point reads fresh bytes without the
# device. Judged: the generation ID stays the snapshot's.
if [ "$rnd_a" = "$rnd_b" ]; then
    seen="both copies read the same bytes $(echo "$rnd_a" | cut -c1-16)...: the problem the device solves"
else
    seen="the copies read different bytes ($(echo "$rnd_a" | cut -c1-16)..., $(echo "$rnd_b" | cut -c1-16)...): the kernel's own timed reseed came first this time"
fi
check '[ "$gen_a" = "$origin" ] && [ "$gen_b" = "$origin" ]' \
    "generation IDs $gen_a, $gen_b changed from the snapshot's $origin"
finish "$name without vmgenid" "$seen" || failed=1
exit "$failed"
