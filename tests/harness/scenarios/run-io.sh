#!/bin/sh
# Scenario "run-io" (runs inside L1): what `vmm run` does with our stdin and with
# writes. stdin: `printf 'a\nb\n' | vmm run -- wc -l` prints 2; 16 MiB of random
# bytes go through `vmm run -- cat` and come back with the same sha256 (and the
# rate is reported); a FIFO's lines arrive; /dev/null and a closed stdin are an
# empty one (cat exits 0 at once). Writes, with L1's / as the root: the default
# --overlay lets the guest change a file in /etc while L1's copy stays as it was;
# --rwdir DIR's file arrives in L1. A terminal: `vmm run` with no command under
# ptyrun (a 33x97 pseudo-terminal) gives L1's /bin/sh on a terminal of the
# guest's: `echo hi; stty size` prints the host's size, Ctrl-C typed during
# `sleep 100` stops the sleep but not the shell or the VMM (the shell, as an
# interactive one does, drops the rest of that line and prompts again; `$?` is
# then 130), `exit 3` ends the run with 3, and the terminal's settings are
# restored.
# Env (set by host-init.sh): VMM GUEST_KERNEL LOG_DIR HARNESS_TIMEOUT HARNESS_VERBOSE
name=run-io
limit=${HARNESS_TIMEOUT:-120}
root=/tmp/run-io-rootfs
why=

mkdir -p "$root/bin"
cp /bin/busybox "$root/bin/busybox"
for applet in sh cat wc true; do
    ln -sf busybox "$root/bin/$applet"
done

# vmmrun NAME STDIN ARGS...: run the VMM with STDIN (a file, or - for closed), stdout and
# stderr to $LOG_DIR/run-io-NAME.{out,err}; sets rc and secs.
vmmrun() {
    n=$1 in=$2
    shift 2
    t0=$(cut -d' ' -f1 /proc/uptime)
    if [ "$in" = - ]; then
        timeout -k 5 "$limit" "$VMM" run --kernel "$GUEST_KERNEL" "$@" \
            >"$LOG_DIR/run-io-$n.out" 2>"$LOG_DIR/run-io-$n.err" <&-
    else
        timeout -k 5 "$limit" "$VMM" run --kernel "$GUEST_KERNEL" "$@" \
            >"$LOG_DIR/run-io-$n.out" 2>"$LOG_DIR/run-io-$n.err" <"$in"
    fi
    rc=$?
    t1=$(cut -d' ' -f1 /proc/uptime)
    secs=$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }")
    echo "run-io-$n: VMM exited with status $rc after $secs s (L1 time)"
}
# check NAME WANT_RC WANT_STDOUT: record a failure, with the logs, unless both match
check() {
    out=$(cat "$LOG_DIR/run-io-$1.out")
    if [ "$rc" != "$2" ] || [ "$out" != "$3" ]; then
        why="$why; $1: status $rc, stdout '$(echo "$out" | head -c 200 | tr '\n' '|')' (want $2, '$(echo "$3" | tr '\n' '|')')"
        tail -c 600 "$LOG_DIR/run-io-$1.err" | sed "s/[^[:print:]]/./g; s/^/| run-io-$1 stderr: /"
    fi
}

printf 'a\nb\n' >/tmp/run-io-ab
vmmrun lines /tmp/run-io-ab --rootfs "$root" -- wc -l
check lines 0 2

vmmrun true /tmp/run-io-ab --rootfs "$root" -- true
true_secs=$secs

head -c 16777216 /dev/urandom >/tmp/run-io-bin
vmmrun bulk /tmp/run-io-bin --rootfs "$root" -- cat
want=$(sha256sum </tmp/run-io-bin | cut -d' ' -f1)
got=$(sha256sum <"$LOG_DIR/run-io-bulk.out" | cut -d' ' -f1)
[ "$rc" = 0 ] && [ "$got" = "$want" ] ||
    why="$why; bulk: status $rc, $(wc -c <"$LOG_DIR/run-io-bulk.out") bytes back, sha256 $got (want 0, $want)"
echo "run-io-bulk: 16 MiB in and out in $secs s against $true_secs s for true: $(awk "BEGIN { d = $secs - $true_secs; if (d > 0) printf \"%.1f MiB/s\", 16 / d; else print \"n/a\" }")"
rm -f "$LOG_DIR/run-io-bulk.out"

rm -f /tmp/run-io-fifo
mkfifo /tmp/run-io-fifo
# the writer opens the FIFO as the VMM does; it ends when the lines are read
(printf 'x\ny\nz\n' >/tmp/run-io-fifo) >/dev/null 2>&1 &
vmmrun fifo /tmp/run-io-fifo --rootfs "$root" -- wc -l
check fifo 0 3

vmmrun null /dev/null --rootfs "$root" -- cat
check null 0 ""
vmmrun closed - --rootfs "$root" -- cat
check closed 0 ""

# L1's / as the root: the overlay takes the writes, --rwdir passes them on.
printf 'l1\n' >/etc/run-io-probe
rwdir=/tmp/run-io-rw
rm -rf "$rwdir"
mkdir -p "$rwdir"
vmmrun overlay /dev/null --rwdir "$rwdir" -- sh -c \
    "echo guest >>/etc/run-io-probe && cat /etc/run-io-probe; echo new >/etc/run-io-new && cat /etc/run-io-new; echo kept >$rwdir/from-guest"
check overlay 0 "$(printf 'l1\nguest\nnew')"
[ "$(cat /etc/run-io-probe)" = l1 ] || why="$why; overlay: L1's /etc/run-io-probe changed to '$(cat /etc/run-io-probe)'"
[ ! -e /etc/run-io-new ] || why="$why; overlay: the guest's new file reached L1's /etc"
[ "$(cat "$rwdir/from-guest" 2>/dev/null)" = kept ] || why="$why; rwdir: the guest's file did not arrive in L1"
rm -f /etc/run-io-probe /etc/run-io-new

ptyrun=/tiny/ptyrun
if [ -x "$ptyrun" ]; then
    # each step waits for text, then types, 2 s later. The Ctrl-C waits for a line
    # the sleeping job itself printed (not the echo of what was typed: the quotes
    # differ), so the shell has made it the foreground job by then; `aft""er`
    # likewise tells the output from the echo.
    t0=$(cut -d' ' -f1 /proc/uptime)
    timeout -k 5 "$limit" "$ptyrun" -t "$limit" -z 33x97 -d 2 \
        -w '# ' -s "$(printf 'echo hi-$((6*7)); stty size\r')" \
        -w '33 97' -s "$(printf 'sh -c "echo sl\"\"eeping-now; exec sleep 100"\r')" \
        -w 'sleeping-now' -s "$(printf '\003')" \
        -w '# ' -s "$(printf 'echo aft""er-$?\r')" \
        -w 'after-' -s "$(printf 'exit 3\r')" \
        "$VMM" run --kernel "$GUEST_KERNEL" \
        >"$LOG_DIR/run-io-tty.out" 2>"$LOG_DIR/run-io-tty.err" </dev/null
    rc=$?
    t1=$(cut -d' ' -f1 /proc/uptime)
    echo "run-io-tty: ptyrun exited with status $rc after $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") s (L1 time)"
    out=$(tr -d '\r' <"$LOG_DIR/run-io-tty.out")
    tty_why=
    [ "$rc" = 3 ] || tty_why="$tty_why; status $rc (want 3)"
    echo "$out" | grep -q '^hi-42$' || tty_why="$tty_why; no hi-42"
    echo "$out" | grep -q '^33 97$' || tty_why="$tty_why; stty size did not say 33 97"
    echo "$out" | grep -q '^after-130$' || tty_why="$tty_why; Ctrl-C did not end sleep with 130 (no after-130)"
    grep -q 'ptyrun: terminal restored' "$LOG_DIR/run-io-tty.err" || tty_why="$tty_why; terminal not restored"
    if [ -n "$tty_why" ]; then
        why="$why; tty:${tty_why#;}"
        tail -c 1200 "$LOG_DIR/run-io-tty.out" | od -c | sed 's/^/| run-io-tty out: /'
        sed 's/^/| run-io-tty err: /' "$LOG_DIR/run-io-tty.err" | tail -n 20
    fi
else
    echo "SKIP: $name-tty: $ptyrun is missing (make guests builds it)"
fi
if [ -n "$why" ]; then
    echo "FAIL: $name: ${why#; }"
else
    echo "PASS: $name"
fi
