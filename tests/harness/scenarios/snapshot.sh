#!/bin/sh
# Scenario "snapshot" (runs inside L1): vm.snapshot and --restore on a Linux
# guest (guest-init/snapshot-check.sh, 2 vCPUs, 256M, one virtio-blk disk in a
# file in L1's /tmp). Its process holds a checksummed buffer in memory and the
# disk open on a descriptor, writing one record per tick and checking both.
# After tick 5 the scenario takes a snapshot (the VM stays paused), kills the
# VMM with SIGKILL, and starts a new one with --restore and the same disk.
# Lines, one PASS/FAIL each:
#   "snapshot save"     vm.snapshot answers 200 and leaves the VM paused; the
#                       console does not grow after it; DIR has memory (sparse:
#                       less on disk than the guest's 256M) and state
#   "snapshot restore"  the restored guest's first tick is the one after the
#                       last before the snapshot, then five more, every one
#                       "ok" (buffer and disk verified, the descriptor's offset
#                       carried on); vm.shutdown ends it with status 0
# Env (set by host-init.sh): VMM GUEST_KERNEL GUEST_INITRD_DIR LOG_DIR
#   HARNESS_TIMEOUT HARNESS_VERBOSE
. /lib/harness/scenario.sh
name=snapshot
limit=${HARNESS_TIMEOUT:-120}
sock=/tmp/snapshot.sock
img=/tmp/snapshot.img
dir=/tmp/snapshot.d
failed=0
rm -rf "$img" "$dir" "$sock"
truncate -s 16M "$img"
mkdir -p "$dir"

ctl() { "$VMM" ctl "$sock" "$@" >/tmp/snapshot.out 2>/tmp/snapshot.err; }
last_tick() { tr -d '\r' <"$out" | sed -n 's/^tick \([0-9]*\) .*/\1/p' | tail -n 1; }
first_tick() { tr -d '\r' <"$out" | sed -n 's/^tick \([0-9]*\) .*/\1/p' | head -n 1; }

vmm_start "$name-save" --kernel "$GUEST_KERNEL" \
    --initrd "$GUEST_INITRD_DIR/snapshot-check.cpio.gz" \
    --cmdline "console=ttyS0 panic=-1 reboot=k" --cpus 2 --memory 256M \
    --disk "path=$img,serial=snap" --api-socket "$sock"
if ! console_wait '^tick 5 ok' "$limit"; then
    vmm_wait 10
    check false "the guest never reached 'tick 5 ok'"
    finish "$name save"
    exit 1
fi
t0=$(l1_now)
ctl snapshot "$dir"
c_rc=$?
t1=$(l1_now)
check '[ "$c_rc" = 0 ]' "snapshot: $(cat /tmp/snapshot.out /tmp/snapshot.err)"
check 'grep -q "\"state\": \"paused\"" /tmp/snapshot.out' "snapshot answered $(cat /tmp/snapshot.out)"
saved=$(last_tick)
size1=$(wc -c <"$out")
sleep 2
size2=$(wc -c <"$out")
check '[ "$size1" = "$size2" ]' "the console grew by $((size2 - size1)) bytes after the snapshot"
check '[ -f "$dir/state" ] && [ -f "$dir/memory" ]' "DIR holds $(ls "$dir" | tr '\n' ' ')"
used_kb=$(du -k "$dir/memory" | cut -f1)
check '[ "$used_kb" -lt 262144 ]' "the memory file takes ${used_kb}K on disk, not sparse"
kill -9 "$vmm_pid"
vmm_wait 10
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
finish "$name save" "at tick $saved, ${secs} s, memory ${used_kb}K on disk" || failed=1

why=
rm -f "$sock"
vmm_start "$name-restore" --restore "source_url=file://$dir" --cpus 2 --memory 256M \
    --disk "path=$img,serial=snap" --api-socket "$sock"
want=$((${saved:-0} + 6))
console_wait "^tick $want " "$limit" || check false "no tick $want after the restore"
first=$(first_tick)
check '[ "$first" = $((${saved:-0} + 1)) ]' "the restored guest's first tick is ${first:-none} (want $((${saved:-0} + 1)))"
bad=$(tr -d '\r' <"$out" | grep '^tick ' | grep -v ' ok ' | head -n 3)
check '[ -z "$bad" ]' "ticks that are not ok: $bad"
ctl shutdown
vmm_wait 30
check '[ "$rc" = 0 ]' "VMM exit status $rc after vm.shutdown (want 0)"
finish "$name restore" "ticks $first..$(last_tick) ok" || failed=1
exit "$failed"
