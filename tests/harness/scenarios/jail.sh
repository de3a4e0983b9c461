#!/bin/sh
# Scenario "jail" (runs inside L1): --jail DIR (docs/security.md, "Jail").
# L1 starts every VMM as root with --user 1000:1000 unless said otherwise.
#  - jail root: the spin guest, with a share and a disk, jailed; while it runs,
#    the jailed VMM (the child of the process L1 started) has its own user,
#    mount, PID, IPC, UTS and network namespaces, /proc/PID/root holds only
#    dev/kvm, proc (showing only the jail's own process) and shares/0, the
#    jail directory in L1 stays empty, every thread runs as 1000; SIGTERM to
#    the outer process still gives 143;
#  - jail threads: every thread of that VMM (the share's workers too) has no
#    capability, NoNewPrivs 1 and Seccomp 2;
#  - jail open: the test build's hook (port 0x441 with VMM_TEST_OPEN set)
#    opens a file of L1's from a vCPU thread with --seccomp off: it opens
#    without the jail and is not found inside it;
#  - jail boot: the share-check guest (guest-init/share-check.sh) boots
#    jailed, writes into its read-write share (the files are uid 1000's in
#    L1), cannot change the read-only one, and none of its escapes reaches the
#    secret outside the shares; exit status 0;
#  - jail run: `vmm run --jail` with --rootfs gives the command's status (7)
#    and stdout, and with L1's / as the guest's root it writes into a share;
#  - jail tap: the net-check guest moves 1 MiB each way over a TAP that the
#    VMM opened before entering the jail (its own network namespace), with
#    our queue thread and with vhost=on;
#  - jail user: an ordinary user (uid 1000, /dev/kvm through its group) runs
#    the hello guest jailed, the user namespace mapping only itself;
#  - jail refused: root without --user is refused with one line, status 2.
# Env (set by host-init.sh): VMM VMM_TEST TINY_DIR GUEST_KERNEL GUEST_INITRD_DIR
#   LOG_DIR HARNESS_TIMEOUT HARNESS_VERBOSE
# shellcheck disable=SC2034,SC2154 # run, vmm_pid, refusal...: scenario.sh reads or sets them
. /lib/harness/scenario.sh # vmm_start, vmm_wait, check, finish
dir=${TINY_DIR:-/tiny}
limit=${HARNESS_TIMEOUT:-120}
[ "$limit" -le 90 ] || limit=90
base=/tmp/jail-test
jail=$base/root
rm -rf "$base"
mkdir -p "$jail" "$base/ro" "$base/rw" "$base/outside"
grep -q '^vmmuser:' /etc/passwd 2>/dev/null || echo 'vmmuser:x:1000:1000::/tmp:/bin/sh' >>/etc/passwd
grep -q '^vmmuser:' /etc/group 2>/dev/null || echo 'vmmuser:x:1000:' >>/etc/group
secret_text="L1 secret, outside the jail: $(cat /proc/sys/kernel/random/uuid)"
echo "$secret_text" >"$base/outside/secret.txt"
echo "ro seed" >"$base/ro/seed.txt"
dd if=/dev/zero of="$base/disk.img" bs=1024 count=1024 2>/dev/null
show() { tail -n 20 "$@" 2>/dev/null | tr -d '\r' | sed 's/^/    | /'; }

# the jailed VMM: the outer process's child in a PID namespace of its own (the harness's
# privileges watcher, started before the VMM exec'd, is a child of that process too)
jailed_pid() {
    local c ns
    ns=$(readlink "/proc/$1/ns/pid")
    for c in $(cat "/proc/$1/task/$1/children" 2>/dev/null); do
        [ "$(readlink "/proc/$c/ns/pid")" != "$ns" ] && { echo "$c"; return; }
    done
}

# --- a running jailed VMM, seen from L1
vmm_start jail-root --flat "$dir/spin.bin" --memory 16M --cpus 2 --jail "$jail" --user 1000:1000 \
    --share "$base/ro:ro,readonly=on" --disk "path=$base/disk.img"
console_wait 'spin: ready' 30 || why="$why; the spin guest never said it was ready"
child=$(jailed_pid "$vmm_pid")
if [ -z "$child" ] || [ ! -d "/proc/$child" ]; then
    why="$why; no jailed child under $vmm_pid"
else
    for ns in user mnt pid ipc uts net; do
        [ "$(readlink "/proc/$child/ns/$ns")" != "$(readlink "/proc/self/ns/$ns")" ] ||
            why="$why; the $ns namespace is L1's"
    done
    top=$(ls -A "/proc/$child/root" | tr '\n' ' ')
    echo "jail-root: /proc/$child/root holds: $top"
    check '[ "$top" = "dev proc shares " ]' "/proc/PID/root holds '$top' (want 'dev proc shares ')"
    check '[ "$(ls -A /proc/$child/root/dev)" = kvm ]' "dev/ holds '$(ls -A "/proc/$child/root/dev" | tr '\n' ' ')'"
    check '[ "$(ls -A /proc/$child/root/shares)" = 0 ]' "shares/ holds '$(ls -A "/proc/$child/root/shares" | tr '\n' ' ')'"
    check '[ "$(cat /proc/$child/root/shares/0/seed.txt)" = "ro seed" ]' "shares/0 is not the share"
    procs=
    for p in "/proc/$child/root/proc/"[0-9]*; do
        [ -e "$p" ] && procs="$procs${p##*/} "
    done
    echo "jail-root: the jail's /proc lists processes: $procs"
    check '[ "$procs" = "1 " ]' "the jail's /proc lists processes '$procs' (want only 1, the VMM)"
    check '[ -z "$(ls -A "$jail")" ]' "the jail directory in L1 is not empty: $(ls -A "$jail" | tr '\n' ' ')"
    # the threads' own sandboxing is judged apart, as "jail threads"
    twhy=
    for st in /proc/$child/task/*/status; do
        t="thread $(basename "$(dirname "$st")") ($(cat "$(dirname "$st")/comm"))"
        ids=$(sed -n 's/^[UG]id:[[:space:]]*//p' "$st" | tr -s '\t\n' '  ' | sed 's/ $//')
        [ "$ids" = "1000 1000 1000 1000 1000 1000 1000 1000" ] || why="$why; $t: Uid/Gid $ids"
        [ "$(sed -n 's/^CapEff:[[:space:]]*//p' "$st")" = 0000000000000000 ] || twhy="$twhy; $t has capabilities"
        [ "$(sed -n 's/^NoNewPrivs:[[:space:]]*//p' "$st")" = 1 ] || twhy="$twhy; $t: NoNewPrivs not 1"
        [ "$(sed -n 's/^Seccomp:[[:space:]]*//p' "$st")" = 2 ] || twhy="$twhy; $t: Seccomp not 2"
    done
    echo "jail-root: uid_map $(tr -s ' \n' '  ' <"/proc/$child/uid_map"), limits:" \
        "$(grep -E '^Max (processes|open files|file size) ' "/proc/$child/limits" | awk '{ printf "%s=%s ", $(NF-3), $(NF-1) }')"
fi
kill -TERM "$vmm_pid" 2>/dev/null
vmm_wait 20
check '[ "$rc" = 143 ]' "exit status $rc after SIGTERM (want 143)"
check '[ -z "$(ls -A "$jail")" ]' "the jail directory in L1 is not empty afterwards"
finish "jail root"
if [ -n "$child" ]; then
    why=$twhy
    finish "jail threads"
fi

# --- what a compromised vCPU thread could open, with no seccomp list in the way
if [ ! -x "${VMM_TEST:-/vmm-test}" ]; then
    echo "SKIP: jail open: no test build of the VMM (make static-test)"
else
    for how in free jailed; do
        set -- --flat "$dir/seccomp_trap.bin" --memory 16M --seccomp off
        [ "$how" = free ] || set -- "$@" --jail "$jail" --user 1000:1000
        VMM_TEST_OPEN=$base/outside/secret.txt timeout -k 5 60 "${VMM_TEST:-/vmm-test}" "$@" \
            </dev/null >"$LOG_DIR/jail-open-$how.out" 2>"$LOG_DIR/jail-open-$how.err"
        eval "rc_$how=$?"
        grep 'test hook' "$LOG_DIR/jail-open-$how.err" | sed "s/^/jail-open ($how): /"
    done
    why=
    # shellcheck disable=SC2154 # rc_free and rc_jailed come from the eval
    check '[ "$rc_free" = 0 ] && [ "$rc_jailed" = 0 ]' "exit status $rc_free without the jail, $rc_jailed in it (want 0, 0)"
    check 'grep -q "open($base/outside/secret.txt): opened" "$LOG_DIR/jail-open-free.err"' \
        "without the jail the hook did not open the file (the hook itself is broken)"
    check 'grep -q "open($base/outside/secret.txt): No such file or directory" "$LOG_DIR/jail-open-jailed.err"' \
        "in the jail: $(grep 'test hook' "$LOG_DIR/jail-open-jailed.err")"
    run=jail-open-jailed out=$LOG_DIR/jail-open-jailed.out err=$LOG_DIR/jail-open-jailed.err
    tr -d '\r' <"$out" >"$out.txt"
    finish "jail open"
fi

# --- a Linux guest with two shares, jailed
chown 1000:1000 "$base/rw"
token=$(cut -c1-8 /proc/sys/kernel/random/uuid)
echo "rw seed $token" >"$base/rw/seed.txt"
echo "ro seed $token" >"$base/ro/seed.txt"
ro_before=$(cd "$base/ro" && ls -lAn)
vmm_start jail-boot --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD_DIR/share-check.cpio.gz" \
    --cmdline "console=ttyS0 panic=-1 reboot=k share.token=$token share.secret=$base/outside/secret.txt" \
    --cpus 1 --memory 512M --jail "$jail" --user 1000:1000 --disk "path=$base/disk.img" \
    --share "$base/rw:share.rw" --share "$base/ro:share.ro,readonly=on"
vmm_wait "$limit"
why=$(vmm_status_why "$rc" "$limit")
grep -E '^GUEST (done|rw_mount|ro_mount|rw_write|rw_ops|escape)' "$out.txt" | sed 's/^/jail-boot: /'
check '[ "$(guest_value done)" = 1 ]' "the guest did not finish its checks"
check '[ "$(guest_value rw_mount)" = ok ] && [ "$(guest_value ro_mount)" = ok ]' "mounts: rw $(guest_value rw_mount), ro $(guest_value ro_mount)"
check '[ "$(guest_value rw_write)" = ok ]' "writing into the rw share: $(guest_value rw_write)"
check '[ "$(guest_value rw_seed)" = "rw seed $token" ]' "rw seed read as '$(guest_value rw_seed)'"
check '[ "$(stat -c %u:%g "$base/rw/from-guest.txt" 2>/dev/null)" = 1000:1000 ]' \
    "from-guest.txt in L1 is owned by '$(stat -c %u:%g "$base/rw/from-guest.txt" 2>/dev/null)' (want 1000:1000)"
check '! grep -qF "$secret_text" "$out.txt"' "the guest printed the secret"
check '[ "$(cd "$base/ro" && ls -lAn)" = "$ro_before" ]' "the read-only share changed"
check '[ "$(ls -A "$base/outside")" = secret.txt ]' "outside/ now holds $(ls -A "$base/outside" | tr '\n' ' ')"
finish "jail boot"

# --- vmm run, jailed
runroot=$base/rootfs
mkdir -p "$runroot/bin" "$base/runshare"
chown 1000:1000 "$base/runshare"
cp /bin/busybox "$runroot/bin/busybox"
for applet in sh uname echo; do ln -sf busybox "$runroot/bin/$applet"; done
run=jail-run out=$LOG_DIR/jail-run.out err=$LOG_DIR/jail-run.err why=
timeout -k 5 "$limit" "$VMM" run --kernel "$GUEST_KERNEL" --rootfs "$runroot" --jail "$jail" \
    --user 1000:1000 -- sh -c 'uname -r; exit 7' >"$out" 2>"$err" </dev/null
rc=$?
echo "jail-run: rootfs: status $rc, stdout '$(cat "$out")'"
check '[ "$rc" = 7 ]' "--rootfs: status $rc (want 7)"
check '[ "$(cat "$out")" = "$(uname -r)" ]' "--rootfs: stdout '$(cat "$out")'"
timeout -k 5 "$limit" "$VMM" run --kernel "$GUEST_KERNEL" --jail "$jail" --user 1000:1000 \
    --share "$base/runshare" -- sh -c "echo from-guest >$base/runshare/f; exit 5" \
    >"$out.host" 2>"$err.host" </dev/null
rc=$?
echo "jail-run: L1's / as root: status $rc"
check '[ "$rc" = 5 ]' "L1's / as root: status $rc (want 5): $(tail -n 3 "$err.host" | tr '\n' '|')"
check '[ "$(cat "$base/runshare/f" 2>/dev/null)" = from-guest ]' "L1's / as root: the share's file did not arrive"
tr -d '\r' <"$out" >"$out.txt"
finish "jail run"

# --- a TAP, opened before the jail: the jailed VMM moves frames from its own
# network namespace (and with vhost=on, vhost-net's worker does)
tapdir=$base/net
mkdir -p "$tapdir"
if [ ! -c /dev/net/tun ]; then
    echo "SKIP: jail tap: L1 has no /dev/net/tun (tun module)"
elif ! tunctl -t vmmjail0 >/dev/null; then
    echo "FAIL: jail tap: tunctl -t vmmjail0 failed"
else
    ip addr add 10.0.9.1/24 dev vmmjail0
    ip link set vmmjail0 up
    tap_bytes=1048576
    dd if=/dev/urandom of="$tapdir/down.bin" bs=1M count=1 2>/dev/null
    down_sha=$(sha256sum "$tapdir/down.bin" | cut -d' ' -f1)
    for mode in user vhost; do
        extra=
        if [ "$mode" = vhost ]; then
            [ -c /dev/vhost-net ] || { echo "SKIP: jail tap vhost: L1 has no /dev/vhost-net"; continue; }
            extra=,vhost=on
        fi
        rm -f "$tapdir/up.bin" "$tapdir/hold" && mkfifo "$tapdir/hold"
        nc -l -p 5001 <"$tapdir/down.bin" >/dev/null 2>&1 &
        down_pid=$!
        sh -c "exec nc -l -p 5002 >'$tapdir/up.bin' <>'$tapdir/hold'" 2>/dev/null &
        up_pid=$!
        vmm_start "jail-tap-$mode" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD_DIR/net-check.cpio.gz" \
            --cmdline "console=ttyS0 panic=-1 reboot=k net.mode=$mode net.mac=02:00:00:00:09:02 net.ip=10.0.9.2 net.peer=10.0.9.1 net.bytes=$tap_bytes" \
            --cpus 1 --memory 512M --jail "$jail" --user 1000:1000 --net "tap=vmmjail0,mac=02:00:00:00:09:02$extra"
        vmm_wait "$limit"
        kill "$down_pid" "$up_pid" 2>/dev/null
        wait "$down_pid" "$up_pid" 2>/dev/null
        why=$(vmm_status_why "$rc" "$limit")
        up_sha=$(sha256sum "$tapdir/up.bin" 2>/dev/null | cut -d' ' -f1)
        echo "jail-tap-$mode: ping received $(guest_value ping_received), down $(guest_value down_bytes) bytes, up $(wc -c <"$tapdir/up.bin" 2>/dev/null) bytes"
        check '[ "$(guest_value done)" = 1 ]' "the guest did not finish"
        check '[ "$(guest_value ping_received)" -gt 0 ] 2>/dev/null' "no ping replies"
        check '[ "$(guest_value down_sha256)" = "$down_sha" ]' "L1->L2: $(guest_value down_bytes) bytes, sha256 differs"
        check '[ -n "$up_sha" ] && [ "$up_sha" = "$(guest_value up_sha256)" ]' "L2->L1: sha256 differs"
        finish "jail tap $mode"
    done
    ip link set vmmjail0 down
    tunctl -d vmmjail0 >/dev/null 2>&1
fi

# --- an ordinary user's jail: a user namespace of its own
userns=$(cat /proc/sys/kernel/unprivileged_userns_clone 2>/dev/null || echo 1)
if [ "$userns" != 1 ]; then
    echo "SKIP: jail user: this kernel allows no unprivileged user namespace"
else
    kvm_mode=$(stat -c '%a %g' /dev/kvm)
    chgrp 1000 /dev/kvm && chmod 660 /dev/kvm
    run=jail-user out=$LOG_DIR/jail-user.out err=$LOG_DIR/jail-user.err why=
    su -s /bin/sh vmmuser -c "exec timeout -k 5 60 $VMM --flat $dir/hello.bin --memory 16M --jail $jail" \
        </dev/null >"$out" 2>"$err"
    rc=$?
    chmod "${kvm_mode% *}" /dev/kvm
    chgrp "${kvm_mode#* }" /dev/kvm
    tr -d '\r' <"$out" >"$out.txt"
    check '[ "$rc" = 0 ]' "exit status $rc (want 0)"
    check 'grep -q "hello from a tiny guest" "$out.txt"' "no greeting on the console"
    finish "jail user"
fi

# --- refused
vmm_refused jail-refused --flat "$dir/hello.bin" --memory 16M --jail "$jail"
run=jail-refused out=$LOG_DIR/jail-refused.console err=$LOG_DIR/jail-refused.vmm why=
tr -d '\r' <"$out" >"$out.txt"
check '[ "$rc" = 2 ]' "root without --user: status $rc (want 2)"
check '[ "$(wc -l <"$err")" = 1 ]' "root without --user: $(wc -l <"$err") lines on stderr (want 1)"
check 'grep -q "needs --user" "$err"' "root without --user: '$refusal'"
finish "jail refused"
