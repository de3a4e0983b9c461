#!/bin/sh
# Scenario "run" (runs inside L1): `vmm run` boots the guest kernel, runs one
# command and exits with its status. Most runs use a root file system copied
# from a small busybox tree (--rootfs); "hostroot" uses the default, L1's own
# / shared read-only over virtio-fs (modules from L1's /lib/modules/RELEASE),
# plus a read-write --share, and checks that / is read-only with --overlay=off
# (run-io.sh checks the default overlay), /tmp writable,
# the working directory is L1's and the share's file arrives in L1. Checks: the command's stdout is the
# guest kernel's release and its exit status 7 comes back; `true` gives 0;
# a command killed by SIGKILL gives 137; stdout and stderr stay apart and
# the kernel's messages stay out of both; a missing program gives 127;
# --timeout on `sleep 1000` gives 124; a guest kernel panic gives 125 with
# the panic on stderr; --status-file says what happened. It also pushes
# 16 MiB through the command's stdout and reports the rate and the exits.
# "user": an ordinary user (uid 1000, /dev/kvm through its group) runs it with
# the default root (a virtio-fs share of L1's /) and a --share of its own; the
# file the guest writes there arrives owned by uid 1000.
# Env (set by host-init.sh): VMM GUEST_KERNEL LOG_DIR HARNESS_TIMEOUT HARNESS_VERBOSE
. /lib/harness/scenario.sh # as_kvm_user
name=run
limit=${HARNESS_TIMEOUT:-120}
root=/tmp/run-rootfs
why=

mkdir -p "$root/bin"
cp /bin/busybox "$root/bin/busybox"
for applet in sh uname sleep true echo cat dd; do
    ln -sf busybox "$root/bin/$applet"
done

# vmmrun NAME ARGS...: run the VMM, stdout and stderr to $LOG_DIR/run-NAME.{out,err};
# sets rc and secs.
vmmrun() {
    n=$1
    shift
    t0=$(cut -d' ' -f1 /proc/uptime)
    # shellcheck disable=SC2086 # $root_args is empty or two words
    timeout -k 5 "$limit" "$VMM" run --kernel "$GUEST_KERNEL" $root_args "$@" \
        >"$LOG_DIR/run-$n.out" 2>"$LOG_DIR/run-$n.err" </dev/null
    rc=$?
    t1=$(cut -d' ' -f1 /proc/uptime)
    secs=$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }")
    echo "run-$n: VMM exited with status $rc after $secs s (L1 time)"
    if [ "${HARNESS_VERBOSE:-0}" = 1 ]; then
        # the first 4 KiB of each: the bulk run's 16 MiB of zeros would flood the log
        head -c 4096 "$LOG_DIR/run-$n.out" | sed "s/[^[:print:]]/./g; s/^/| run-$n stdout: /"
        head -c 4096 "$LOG_DIR/run-$n.err" | sed "s/[^[:print:]]/./g; s/^/| run-$n stderr: /"
    fi
}
# expect_rc NAME WANT: record a failure unless rc is WANT, with the logs
expect_rc() {
    if [ "$rc" != "$2" ]; then
        why="$why; $1: status $rc (want $2)"
        # at most 600 printable bytes of each: a failed bulk run must not flood the log
        tail -c 600 "$LOG_DIR/run-$1.out" | sed "s/[^[:print:]]/./g; s/^/| run-$1 stdout: /"
        tail -c 600 "$LOG_DIR/run-$1.err" | sed "s/[^[:print:]]/./g; s/^/| run-$1 stderr: /"
    fi
}

root_args="--rootfs $root"
vmmrun uname -- sh -c 'uname -r; exit 7'
expect_rc uname 7
release=$(cat "$LOG_DIR/run-uname.out")
[ "$release" = "$(uname -r)" ] || why="$why; uname: stdout '$release' (want '$(uname -r)')"
[ ! -s "$LOG_DIR/run-uname.err" ] || why="$why; uname: stderr not empty"

vmmrun true -- true
expect_rc true 0
true_secs=$secs
[ ! -s "$LOG_DIR/run-true.out" ] || why="$why; true: stdout not empty"

vmmrun kill --status-file "$LOG_DIR/run-kill.status" -- sh -c 'kill -9 $$'
expect_rc kill 137
[ "$(cat "$LOG_DIR/run-kill.status" 2>/dev/null)" = "signal 9" ] ||
    why="$why; kill: status file '$(cat "$LOG_DIR/run-kill.status" 2>/dev/null)' (want 'signal 9')"

vmmrun streams --env GREETING=hello -- sh -c 'echo "out $GREETING"; echo err >&2; echo out2'
expect_rc streams 0
[ "$(cat "$LOG_DIR/run-streams.out")" = "$(printf 'out hello\nout2')" ] ||
    why="$why; streams: stdout '$(cat "$LOG_DIR/run-streams.out")'"
[ "$(cat "$LOG_DIR/run-streams.err")" = "err" ] ||
    why="$why; streams: stderr '$(cat "$LOG_DIR/run-streams.err")'"

vmmrun missing -- /no/such/program
expect_rc missing 127
grep -q 'no/such/program' "$LOG_DIR/run-missing.err" || why="$why; missing: no message on stderr"

vmmrun panic --status-file "$LOG_DIR/run-panic.status" -- sh -c 'echo c >/proc/sysrq-trigger'
expect_rc panic 125
[ "$(cat "$LOG_DIR/run-panic.status" 2>/dev/null)" = "no-status 3" ] ||
    why="$why; panic: status file '$(cat "$LOG_DIR/run-panic.status" 2>/dev/null)' (want 'no-status 3')"
if ! grep -q 'Kernel panic' "$LOG_DIR/run-panic.err"; then
    why="$why; panic: no 'Kernel panic' on stderr"
    tail -c 1200 "$LOG_DIR/run-panic.err" | sed 's/[^[:print:]]/./g; s/^/| run-panic stderr: /'
fi

# Throughput of the channel: 16 MiB through stdout, against `true` for the boot.
vmmrun bulk --stats-json "$LOG_DIR/run-bulk.json" -- dd if=/dev/zero bs=65536 count=256
expect_rc bulk 0
bytes=$(wc -c <"$LOG_DIR/run-bulk.out")
[ "$bytes" = 16777216 ] || why="$why; bulk: $bytes bytes on stdout (want 16777216)"
io_exits=$(sed -n 's/^ *"io": \([0-9]*\).*/\1/p' "$LOG_DIR/run-bulk.json" | head -n1)
echo "run-bulk: 16 MiB in $secs s against $true_secs s for true: $(awk "BEGIN { d = $secs - $true_secs; if (d > 0) printf \"%.1f MiB/s\", 16 / d; else print \"n/a\" }"), ${io_exits:-?} port I/O exits in all"

# A reader that goes away ends the run the way SIGPIPE ends a producer: status 141.
{
    timeout -k 5 "$limit" "$VMM" run --kernel "$GUEST_KERNEL" $root_args \
        --status-file "$LOG_DIR/run-pipe.status" -- sh -c 'while :; do echo y; done' \
        2>"$LOG_DIR/run-pipe.err" </dev/null
    echo $? >"$LOG_DIR/run-pipe.rc"
} | head -n 3 >"$LOG_DIR/run-pipe.out"
rc=$(cat "$LOG_DIR/run-pipe.rc")
echo "run-pipe: vmm run -- (endless echo) | head -n 3: status $rc, $(wc -l <"$LOG_DIR/run-pipe.out") lines, status file '$(cat "$LOG_DIR/run-pipe.status" 2>/dev/null)'"
[ "$rc" = 141 ] || why="$why; pipe: status $rc when the reader went away (want 141)"
[ "$(cat "$LOG_DIR/run-pipe.status" 2>/dev/null)" = "vmm-signal 13" ] ||
    why="$why; pipe: status file '$(cat "$LOG_DIR/run-pipe.status" 2>/dev/null)'"

share=/tmp/run-share
rm -rf "$share"
mkdir -p "$share"
root_args=
vmmrun hostroot --overlay=off --share "$share" -- sh -c "if echo x >/.vmm-run-write-test 2>/dev/null; then echo root-writable; else echo root-readonly; fi; echo tmp-ok >/tmp/t && cat /tmp/t; echo from-guest >$share/from-guest; pwd"
expect_rc hostroot 0
want=$(printf 'root-readonly\ntmp-ok\n%s' "$(pwd)")
[ "$(cat "$LOG_DIR/run-hostroot.out")" = "$want" ] ||
    why="$why; hostroot: stdout '$(cat "$LOG_DIR/run-hostroot.out" | tr '\n' '|')' (want '$(echo "$want" | tr '\n' '|')')"
[ "$(cat "$share/from-guest" 2>/dev/null)" = from-guest ] || why="$why; hostroot: the share's file did not arrive"
[ ! -e /.vmm-run-write-test ] || why="$why; hostroot: the guest wrote to L1's /"
root_args="--rootfs $root"

# Not root: the file server's threads must load their filters all the same.
ushare=/tmp/run-user-share
rm -rf "$ushare"
mkdir -p "$ushare"
chown 1000:1000 "$ushare"
t0=$(cut -d' ' -f1 /proc/uptime)
as_kvm_user "cd / && exec timeout -k 5 $limit $VMM run --kernel $GUEST_KERNEL --share $ushare -- \
    sh -c 'id -u; test -x /bin/busybox && echo root-share-ok; echo from-user >$ushare/from-user'" \
    >"$LOG_DIR/run-user.out" 2>"$LOG_DIR/run-user.err" </dev/null
echo "run-user: VMM as uid 1000 exited with status $rc after $(awk "BEGIN { printf \"%.2f\", $(cut -d' ' -f1 /proc/uptime) - $t0 }") s (L1 time)"
expect_rc user 0
[ "$(cat "$LOG_DIR/run-user.out")" = "$(printf '0\nroot-share-ok')" ] ||
    why="$why; user: stdout '$(tr '\n' '|' <"$LOG_DIR/run-user.out")' (want '0|root-share-ok|')"
[ "$(cat "$ushare/from-user" 2>/dev/null)" = from-user ] || why="$why; user: the share's file did not arrive"
[ "$(stat -c %u "$ushare/from-user" 2>/dev/null)" = 1000 ] ||
    why="$why; user: the share's file is owned by uid '$(stat -c %u "$ushare/from-user" 2>/dev/null)' (want 1000)"

vmmrun timeout --timeout 20 --status-file "$LOG_DIR/run-timeout.status" -- sleep 1000
expect_rc timeout 124
[ "$(cat "$LOG_DIR/run-timeout.status" 2>/dev/null)" = "timeout 20" ] ||
    why="$why; timeout: status file '$(cat "$LOG_DIR/run-timeout.status" 2>/dev/null)'"

if [ -n "$why" ]; then
    echo "FAIL: $name: ${why#; }"
    exit 1
fi
echo "PASS: $name"
