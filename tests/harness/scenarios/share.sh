#!/bin/sh
# Scenario "share" (runs inside L1): virtio-fs. L1 makes three directories
# in its tmpfs:
#   rw/       shared read-write (--share rw:share.rw): seed.txt, and symlinks
#             link-rel -> ../outside/secret.txt, link-abs -> <abs path of the
#             secret>, link-dir -> ../outside, all pointing out of the share
#   ro/       shared read-only (--share ro:share.ro,readonly=on): seed.txt
#   outside/  not shared: secret.txt, a line with a random token
# and boots the share-check guest, which mounts both tags, writes into rw,
# tries to change ro, and tries to reach outside/secret.txt through ../.. and
# through the symlinks (see guest-init/share-check.sh).
# Results:
#   "share rw": VMM exit 0, both mounts, the seed read right, the guest's
#     from-guest.txt on L1 has the exact line and the sha256 the guest
#     printed, from-guest.bin (192 KiB) the sha256 of the data the guest
#     wrote, mkdir/rename/symlink/hard link/truncate/chmod/rm worked, and
#     after unmounting, a second mount (a new FUSE session) reads it back;
#   "share readonly": create, append, mkdir, rm and touch in ro all failed
#     in the guest and ro/ is byte for byte what L1 made;
#   "share fifo": the guest's mkfifo made a FIFO; 100 O_CREAT opens raced L1
#     making and removing a FIFO of that name (CREATE of a FIFO used to block
#     the file server for ever); the share still answers and poweroff gives 0.
#     The guest's kernel sends LOOKUP before CREATE under the directory's lock,
#     so the race reaches the server rarely (the "enxio" count says how often);
#     tests/unit/virtio/test_fs.c sends that CREATE directly;
#   "share escape": every attempt is printed; none printed the secret,
#     secret.txt is unchanged, outside/ holds nothing new, and the mknod of
#     a device node failed.
# Env (set by host-init.sh): VMM GUEST_KERNEL GUEST_INITRD_DIR LOG_DIR
#   HARNESS_TIMEOUT (seconds, default 120)
#   HARNESS_VERBOSE (1: print full logs)
. /lib/harness/scenario.sh # vmm_status_why
name=share
limit=${HARNESS_TIMEOUT:-120}
out=$LOG_DIR/$name.console # guest serial (VMM stdout)
err=$LOG_DIR/$name.vmm     # VMM's own log (stderr)

base=/tmp/share-test
rm -rf "$base"
mkdir -p "$base/rw" "$base/ro/sub" "$base/outside"
token=$(cut -c1-8 /proc/sys/kernel/random/uuid)
secret_text="L1 secret, outside every share: $(cat /proc/sys/kernel/random/uuid)"
echo "$secret_text" >"$base/outside/secret.txt"
echo "rw seed $token" >"$base/rw/seed.txt"
echo "ro seed $token" >"$base/ro/seed.txt"
echo "ro inner" >"$base/ro/sub/inner.txt"
ln -s ../outside/secret.txt "$base/rw/link-rel"
ln -s "$base/outside/secret.txt" "$base/rw/link-abs"
ln -s ../outside "$base/rw/link-dir"
secret_sha=$(sha256sum "$base/outside/secret.txt" | cut -d' ' -f1)
ro_before=$(cd "$base/ro" && find . | sort | while read -r f; do
    [ -f "$f" ] && echo "$f $(sha256sum "$f" | cut -d' ' -f1)" || echo "$f"
done)
echo "$name: L1 made $base/{rw,ro,outside}; secret.txt sha256 $secret_sha; symlinks in rw:" \
    "$(cd "$base/rw" && for l in link-*; do printf '%s->%s ' "$l" "$(readlink "$l")"; done)"

# the FIFO race (see guest-init/share-check.sh), from the guest's race-go to its race-stop.
# L1 has one vCPU: a loop spinning through the guest's boot would take its time from the
# guest, and once made the boot slow enough to hit the limit.
(
    end=$(($(cut -d. -f1 /proc/uptime) + limit))
    while [ ! -e "$base/rw/race-go" ] && [ "$(cut -d. -f1 /proc/uptime)" -lt "$end" ]; do
        sleep 0.2
    done
    while [ ! -e "$base/rw/race-stop" ] && [ "$(cut -d. -f1 /proc/uptime)" -lt "$end" ]; do
        mkfifo "$base/rw/race" 2>/dev/null
        rm -f "$base/rw/race"
    done
) &
racer=$!

t0=$(cut -d' ' -f1 /proc/uptime)
timeout -k 5 "$limit" "$VMM" --kernel "$GUEST_KERNEL" \
    --initrd "$GUEST_INITRD_DIR/share-check.cpio.gz" \
    --cmdline "console=ttyS0 panic=-1 reboot=k share.token=$token share.secret=$base/outside/secret.txt" \
    --cpus 1 --memory 512M \
    --share "$base/rw:share.rw" --share "$base/ro:share.ro,readonly=on" \
    >"$out" 2>"$err" </dev/null
rc=$?
kill "$racer" 2>/dev/null
wait "$racer" 2>/dev/null
rm -f "$base/rw/race"
t1=$(cut -d' ' -f1 /proc/uptime)
secs=$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }")
tr -d '\r' <"$out" >"$out.txt"

grep -E '^GUEST ' "$out.txt"
grep -E '^vmm: ' "$err"
echo "$name: VMM exited with status $rc after $secs s (L1 time)"

value() { sed -n "s/^GUEST $1=//p" "$out.txt" | head -n1; }
why=$(vmm_status_why "$rc" "$limit")
if [ "$(value "done")" != 1 ]; then
    last=$(grep -E '^GUEST ' "$out.txt" | tail -n1)
    why="$why; the guest did not finish its checks (last: ${last:-no GUEST line at all})"
fi
[ "$(value modules)" = ok ] || why="$why; modules=$(value modules)"
[ "$(value rw_mount)" = ok ] || why="$why; rw mount: $(value rw_mount)"
[ "$(value ro_mount)" = ok ] || why="$why; ro mount: $(value ro_mount)"

# ---- rw
rwhy=
[ "$(value rw_seed)" = "rw seed $token" ] || rwhy="$rwhy; seed read as '$(value rw_seed)'"
[ "$(value rw_write)" = ok ] || rwhy="$rwhy; write: $(value rw_write)"
host_txt=$(cat "$base/rw/from-guest.txt" 2>&1)
[ "$host_txt" = "minivmm share test token=$token" ] ||
    rwhy="$rwhy; L1 reads from-guest.txt as '$host_txt'"
host_txt_sha=$(sha256sum "$base/rw/from-guest.txt" 2>/dev/null | cut -d' ' -f1)
[ -n "$host_txt_sha" ] && [ "$host_txt_sha" = "$(value rw_txt_sha256)" ] ||
    rwhy="$rwhy; from-guest.txt sha256 on L1 ${host_txt_sha:-none}, guest $(value rw_txt_sha256)"
host_bin_sha=$(sha256sum "$base/rw/from-guest.bin" 2>/dev/null | cut -d' ' -f1)
host_bin_size=$(stat -c %s "$base/rw/from-guest.bin" 2>/dev/null)
[ -n "$host_bin_sha" ] && [ "$host_bin_sha" = "$(value rw_bin_sha256)" ] ||
    rwhy="$rwhy; from-guest.bin sha256 on L1 ${host_bin_sha:-none}, guest wrote $(value rw_bin_sha256)"
[ "$(value rw_bin_readback_sha256)" = "$(value rw_bin_sha256)" ] ||
    rwhy="$rwhy; guest read from-guest.bin back as $(value rw_bin_readback_sha256)"
[ "${host_bin_size:-0}" = 196608 ] || rwhy="$rwhy; from-guest.bin is ${host_bin_size:-no} bytes on L1"
[ "$(value rw_ops)" = ok ] || rwhy="$rwhy; file operations: $(value rw_ops)"
[ ! -e "$base/rw/dir" ] || rwhy="$rwhy; rw/dir left behind on L1"
[ "$(value umount)" = ok ] || rwhy="$rwhy; umount: $(value umount)"
[ "$(value remount)" = ok ] || rwhy="$rwhy; mounting rw a second time: $(value remount)"
echo "$name: L1 checked rw/from-guest.txt ('$host_txt', sha256 $host_txt_sha) and" \
    "rw/from-guest.bin ($host_bin_size bytes, sha256 $host_bin_sha) against the guest's"

# ---- ro
owhy=
[ "$(value ro_seed)" = "ro seed $token" ] || owhy="$owhy; seed read as '$(value ro_seed)'"
for op in create append mkdir rm touch; do
    case "$(value ro_$op)" in
    failed*) ;;
    *) owhy="$owhy; $op: $(value ro_$op)" ;;
    esac
done
[ "$(value ro_seed_after)" = "ro seed $token" ] || owhy="$owhy; seed afterwards '$(value ro_seed_after)'"
ro_after=$(cd "$base/ro" && find . | sort | while read -r f; do
    [ -f "$f" ] && echo "$f $(sha256sum "$f" | cut -d' ' -f1)" || echo "$f"
done)
[ "$ro_before" = "$ro_after" ] || owhy="$owhy; ro/ changed on L1: $(echo "$ro_after" | tr '\n' ' ')"
echo "$name: L1 checked ro/ unchanged: $(echo "$ro_after" | wc -l) entries, same names and sha256s"

# ---- escapes
ewhy=
[ "$(grep -c '^GUEST escape: ' "$out.txt")" -ge 11 ] || ewhy="$ewhy; not every escape attempt reported"
if grep -qF "$secret_text" "$out.txt"; then
    ewhy="$ewhy; the guest printed the secret"
fi
[ "$(sha256sum "$base/outside/secret.txt" | cut -d' ' -f1)" = "$secret_sha" ] ||
    ewhy="$ewhy; secret.txt changed: $(cat "$base/outside/secret.txt")"
[ "$(ls -A "$base/outside")" = secret.txt ] || ewhy="$ewhy; outside/ now holds: $(ls -A "$base/outside" | tr '\n' ' ')"
grep -q '^GUEST escape: mknod .* -> failed' "$out.txt" || ewhy="$ewhy; mknod of a device node did not fail"
[ ! -e "$base/rw/null" ] || ewhy="$ewhy; rw/null exists on L1"
for l in link-rel link-abs link-dir; do
    [ -L "$base/rw/$l" ] || ewhy="$ewhy; rw/$l is no longer a symlink"
done
# ---- FIFOs
fwhy=
[ "$(value fifo_mkfifo)" = ok ] || fwhy="$fwhy; mkfifo: $(value fifo_mkfifo)"
[ "$(value fifo_type)" = fifo ] || fwhy="$fwhy; stat says '$(value fifo_type)'"
[ "$(value fifo_race_opens)" = 100 ] || fwhy="$fwhy; only $(value fifo_race_opens) opens during the race"
case "$(value fifo_race)" in
*other:none*) ;;
*) fwhy="$fwhy; unexpected answers in the race: $(value fifo_race)" ;;
esac
[ "$(value fifo_after)" = ok ] || fwhy="$fwhy; the share after the FIFOs: $(value fifo_after)"
[ "$rc" = 0 ] || fwhy="$fwhy; VMM status $rc"
echo "$name: FIFOs: the guest's open of its own FIFO ended with $(value fifo_guest_open) (124/143: its" \
    "timeout, in the guest); $(value fifo_race_opens) O_CREAT opens raced L1's mkfifo:" \
    "$(value fifo_race) (enxio: the server refused a FIFO that used to block it)"

echo "$name: L1 checked outside/secret.txt (sha256 unchanged, never printed), outside/ holds only it, rw/null absent"

if [ "${HARNESS_VERBOSE:-0}" = 1 ]; then
    echo "--- $name: guest console"
    sed 's/^/| /' "$out.txt"
    echo "--- $name: VMM log"
    sed 's/^/| /' "$err"
fi
failed=0
[ -z "$why" ] || { echo "FAIL: $name: ${why#; }"; failed=1; }
if [ -n "$why" ] || [ -n "$rwhy" ]; then
    [ -z "$rwhy" ] || echo "FAIL: $name rw: ${rwhy#; }"
    failed=1
else
    echo "PASS: $name rw"
fi
if [ -n "$why" ] || [ -n "$owhy" ]; then
    [ -z "$owhy" ] || echo "FAIL: $name readonly: ${owhy#; }"
    failed=1
else
    echo "PASS: $name readonly"
fi
if [ -n "$why" ] || [ -n "$fwhy" ]; then
    [ -z "$fwhy" ] || echo "FAIL: $name fifo: ${fwhy#; }"
    failed=1
else
    echo "PASS: $name fifo"
fi
if [ -n "$ewhy" ]; then
    echo "FAIL: $name escape: ${ewhy#; }"
    failed=1
else
    echo "PASS: $name escape"
fi
if [ "$failed" = 1 ] && [ "${HARNESS_VERBOSE:-0}" != 1 ]; then
    echo "--- $name: guest kernel lines about virtio/fuse"
    grep -iE 'virtio|fuse|virtiofs' "$out.txt" | grep -v '^GUEST ' | tail -n 40 | sed 's/^/| /'
    echo "--- $name: last 40 lines of the guest console"
    tail -n 40 "$out.txt" | sed 's/^/| /'
    echo "--- $name: last 40 lines of the VMM log"
    tail -n 40 "$err" | sed 's/^/| /'
fi
exit "$failed"
