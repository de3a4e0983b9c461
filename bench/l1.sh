# shellcheck shell=bash
# One run of the L1 a nested benchmark boots, and whether it finished; sourced by
# bench/{vm,disk,net,run-cmd,snapshot,fs}.sh.
#
#   bench_l1 [QEMU ARGS...]
#
# Boots QEMU TCG on an emulated AMD CPU with SVM ($smp vCPUs, $l1_memory MiB or 2048,
# $KERNEL_IMAGE, $out/host.cpio, $append, plus the arguments given) with its console in $log, for at
# most $total_limit s; with verbose=1 the console is followed live. Beside it runs
# tests/harness/l1-wake.sh, which wakes an L1 that QEMU left asleep on an undelivered
# interrupt (docs/harness.md) and says so: a round that needed it is late by up to 15 s.
# Sets rc (QEMU's exit status), start and end (date +%s.%N), load_before and load_after
# (/proc/loadavg), and leaves $log without CRs.
bench_l1() {
    local accel=tcg tail_pid= wake_pid mon=$out/monitor.sock
    [ "$smp" -gt 1 ] && accel=tcg,thread=multi
    : >"$log"
    rm -f "$mon"
    if [ "${verbose:-0}" = 1 ]; then
        tail -n +1 -F "$log" 2>/dev/null &
        tail_pid=$!
    fi
    "$top/tests/harness/l1-wake.sh" "$mon" "$log" >"$out/wakes.log" &
    wake_pid=$!
    load_before=$(cut -d' ' -f1-3 /proc/loadavg)
    start=$(date +%s.%N)
    rc=0
    timeout -k 5 "$total_limit" qemu-system-x86_64 \
        -nodefaults -no-user-config -accel "$accel" -cpu max,+svm,+npt -smp "$smp" -m "${l1_memory:-2048}" \
        -display none -monitor "unix:$mon,server=on,wait=off" -serial "file:$log" -no-reboot \
        -kernel "$KERNEL_IMAGE" -initrd "$out/host.cpio" -append "$append" "$@" \
        </dev/null 2>"$out/qemu.err" || rc=$?
    end=$(date +%s.%N)
    load_after=$(cut -d' ' -f1-3 /proc/loadavg)
    kill "$wake_pid" 2>/dev/null || true
    wait "$wake_pid" 2>/dev/null || true
    if [ -n "$tail_pid" ]; then
        sleep 0.3
        kill "$tail_pid" 2>/dev/null || true
        wait "$tail_pid" 2>/dev/null || true
    fi
    tr -d '\r' <"$log" >"$log.txt"
    mv "$log.txt" "$log"
    sed 's/^/bench: /' "$out/wakes.log"
}

# bench_l1_failed NAME: after bench_l1, whether L1 did not finish benchmark NAME ("disk",
# "vm", ...): it never wrote HARNESS-END (says why, with the console's last lines) or its
# scenario printed no "PASS: bench-NAME". Returns 0 (and sets nothing) when it finished.
bench_l1_failed() {
    local name=$1 ret=1
    if ! grep -q '^HARNESS-END' "$log"; then
        if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
            echo "FAIL: bench $name: L1 timed out after ${total_limit}s; last lines of ${log#"$top"/}:"
        else
            echo "FAIL: bench $name: HARNESS-END never appeared (QEMU exit status $rc); last lines of ${log#"$top"/}:"
        fi
        tail -n 30 "$log" | sed 's/^/| /'
        [ ! -s "$out/qemu.err" ] || sed 's/^/| qemu: /' "$out/qemu.err"
        return 0
    fi
    grep -q "^PASS: bench-$name" "$log" || ret=0
    return "$ret"
}
