#!/bin/sh
# Scenario "kill9" (runs inside L1): kill -9 of the VMM after the guest synced.
# The disk-writer guest (writer.mode=sync) writes records 1..8 to a 64 MiB
# image in L1's /tmp without flushing, runs `sync`, prints "synced 8", and
# goes on writing records that are never synced, with O_DIRECT writes beside
# them. Half a second after "synced 8" L1 kills the VMM with SIGKILL: no
# clean-up code of ours runs. "kill9" passes when the VMM died of the signal
# (137) and records 1..8 are in the image, intact. What the host kernel had
# been given survives the process; the guest's sync made sure that was all of
# it before it said "synced".
# Env (set by host-init.sh): VMM GUEST_KERNEL GUEST_INITRD_DIR LOG_DIR
#   HARNESS_TIMEOUT HARNESS_VERBOSE
. /lib/harness/scenario.sh
name=kill9
# the whole VMM limit: a loaded host took the guest 35 s to its init and over 60 s to
# its sixth record, and the wait ends as soon as the line is there
limit=${HARNESS_TIMEOUT:-120}
img=/tmp/$name.img
token=$(rand_token)
rm -f "$img"
truncate -s 64M "$img"

vmm_start "$name" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD_DIR/disk-writer.cpio.gz" \
    --cmdline "console=ttyS0 panic=-1 reboot=k writer.mode=sync writer.serial=rec writer.token=$token" \
    --cpus 1 --memory 256M --disk "path=$img,serial=rec"
sent=
if console_wait '^synced [0-9]+' "$limit"; then
    sleep 0.5
    kill -9 "$vmm_pid"
    sent=1
    echo "$name: injected: SIGKILL to the VMM 0.5 s after 'synced' on the console, $(vmm_age) s after its start"
fi
vmm_wait 30
synced=$(sed -n 's/^synced \([0-9]*\)$/\1/p' "$out.txt" | tail -n1)
check '[ -n "$sent" ]' "the guest never printed 'synced' (last GUEST line: $(grep '^GUEST ' "$out.txt" | tail -n1))"
check '[ "$rc" = 137 ]' "VMM exit status $rc (want 137, killed by SIGKILL)"
check '[ -z "$(guest_value writer_done)" ]' "the guest wrote every record before the kill"
if [ -n "$synced" ]; then
    records_check "$img" "$token" 1 "$synced"
    echo "$name: records 1..$synced synced: $records_bad bad; $records_after unsynced records made it too"
    check '[ "$records_bad" = 0 ]' "synced records missing or damaged: $records_bad_list"
fi
finish "$name"
failed=$?
rm -f "$img"
exit "$failed"
