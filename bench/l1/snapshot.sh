#!/bin/sh
# L1 half of the snapshot benchmark (bench/snapshot.sh puts it in the L1 image as
# /scenarios/bench-snapshot.sh; tests/harness/host-init.sh runs it). Busybox sh.
#
# The guest: Debian's kernel and bench/guest-init/tick.sh ("tick N" every 20 ms), 1 vCPU.
# For each memory size (bench.sizes, MiB), once, not timed by vmclock, into a tmpfs:
#   ours  boots it with --api-socket, and at "tick 5" takes a snapshot (vmm ctl SOCKET
#         snapshot DIR); QEMU -M q35 boots it with its monitor on a pipe, and at "tick 5"
#         stops it and saves it with `migrate "exec:cat > FILE"` (QEMU 7.2 has no
#         `migrate file:`).
#         A save whose console does not end in a whole line is resumed for a moment and
#         taken again, so that every restored console starts with a whole "tick" line.
#         Each prints
#           BENCH-SNAP vmm=V mem=MIB save_ms=... (sizes: apparent and on disk, du -k)
# Then per round, per size, in turn:
#   restore  ours: vmm --restore source_url=file:///DIR; QEMU: the same command line as
#            its boot plus -incoming "exec:cat FILE"
#   boot     a cold boot of the same guest by the same VMM
# each timed by /bench/vmclock (bench/tools/vmclock.c) from just before the fork to the
# first "tick " on the console, and killed there, after its resident memory was read
# (vmclock -m: rss_kb, guest_kb, overhead_kb). Before round 1, one restore of each VMM
# that is not counted (the first start in a fresh L1 pays for cold caches).
# Each run prints
#   BENCH-RUN round=R part=restoreMIB|bootMIB vmm=ours|q35 status=ok|failed tick_ms=...
#       first_tick=N rss_kb=... guest_kb=... overhead_kb=...
# (first_tick: the number on that line: 0 after a boot, the saved count + 1 after a
# restore) and at the end PASS: bench-snapshot, or FAIL: bench-snapshot: why (ours
# failed somewhere). Timing never decides.
# L1 command line (bench/snapshot.sh sets it): bench.rounds=N bench.sizes=256,2048
# Env (host-init.sh): VMM GUEST_KERNEL GUEST_INITRD_DIR LOG_DIR HARNESS_TIMEOUT.
name=bench-snapshot
limit=${HARNESS_TIMEOUT:-120}
rounds=3 sizes=256,2048
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    bench.rounds=*) rounds=${arg#bench.rounds=} ;;
    bench.sizes=*) sizes=${arg#bench.sizes=} ;;
    esac
done
sizes=$(echo "$sizes" | tr ',' ' ')
clock=/bench/vmclock
initrd=$GUEST_INITRD_DIR/tick.cpio.gz
qemu=/usr/bin/qemu-system-x86_64
cmdline="console=ttyS0 panic=-1 reboot=k quiet"
snaps=/bench-snapshot

[ -x "$clock" ] || { echo "FAIL: $name: no $clock in the L1 image"; exit 1; }
[ -f "$initrd" ] || { echo "FAIL: $name: no $initrd in the L1 image"; exit 1; }
echo "$name: L1: $(grep -c ^processor /proc/cpuinfo) vCPU(s), $(awk '/^MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MiB; $rounds rounds; sizes (MiB): $sizes"

vmms=ours
if [ -x "$qemu" ] && v=$("$qemu" --version 2>&1); then
    vmms="$vmms q35"
    echo "$name: peer: $(echo "$v" | head -n1)"
else
    echo "BENCH-PEER qemu unavailable: $qemu missing or does not start"
fi
# L1's /tmp is a tmpfs of 256 MiB (host-init.sh), too small for the saves (about 90 MiB
# each, both VMMs at both sizes): they get a tmpfs of their own
mkdir -p "$snaps" "$LOG_DIR"
mount -t tmpfs -o size=1536m tmpfs "$snaps" || { echo "FAIL: $name: cannot mount a tmpfs on $snaps"; exit 1; }

l1_ms() { awk '{ printf "%.0f", $1 * 1000 }' /proc/uptime; }

# console_has FILE TEXT SECS: true once FILE holds TEXT (fixed string), within SECS.
console_has() {
    i=0
    while ! grep -qF "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -le $(($3 * 20)) ] || return 1
        usleep 50000
    done
}

# whole_line FILE: true when FILE ends with a newline (no line cut by the pause).
whole_line() { [ "$(tail -c 1 "$1" | od -An -tx1 | tr -d ' ')" = 0a ]; }

# qemu_args MIB: what every QEMU run of the guest shares (the restore adds -incoming).
qemu_args() {
    echo "$qemu -L /usr/share/qemu -nodefaults -no-user-config -accel kvm -cpu host -M q35 -m $1 -smp 1 -display none -no-reboot -kernel $GUEST_KERNEL -initrd $initrd"
}

# save_ours MIB: boot ours with an API socket, snapshot it into $snaps/ours-MIB at tick 5.
save_ours() {
    mem=$1 dir=$snaps/ours-$1 sock=/tmp/bench-snapshot.sock log=$LOG_DIR/$name-save-ours-$1
    mkdir -p "$dir"
    rm -f "$sock"
    "$VMM" --kernel "$GUEST_KERNEL" --initrd "$initrd" --cmdline "$cmdline" --memory "${mem}M" \
        --cpus 1 --api-socket "$sock" >"$log.out" 2>"$log.err" </dev/null &
    pid=$!
    ok=0
    if console_has "$log.out" "tick 5" "$limit"; then
        try=1
        while [ "$try" -le 5 ]; do
            t0=$(l1_ms)
            "$VMM" ctl "$sock" snapshot "$dir" >"$log.ctl" 2>&1 || break
            t1=$(l1_ms)
            if whole_line "$log.out"; then
                ok=1
                break
            fi
            "$VMM" ctl "$sock" resume >/dev/null 2>&1
            usleep 30000
            try=$((try + 1))
        done
    fi
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if [ "$ok" != 1 ] || [ ! -f "$dir/state" ]; then
        echo "FAIL: $name: ours could not be saved at $mem MiB; its console, stderr and vmm ctl said:"
        tail -n 5 "$log.out" | tr -d '\r' | sed 's/^/| /'
        tail -n 10 "$log.err" "$log.ctl" 2>/dev/null | sed 's/^/| /'
        return 1
    fi
    echo "BENCH-SNAP vmm=ours mem=$mem save_ms=$((t1 - t0)) saved_tick=$(last_tick "$log.out") memory_kb=$(($(stat -c %s "$dir/memory") / 1024)) memory_disk_kb=$(du -k "$dir/memory" | cut -f1) state_bytes=$(stat -c %s "$dir/state")"
}

last_tick() { tr -d '\r' <"$1" | sed -n 's/^tick \([0-9]*\)$/\1/p' | tail -n 1; }

# save_q35 MIB: boot QEMU with its monitor on a pipe; at tick 5 `stop` it, and
# `migrate "exec:cat > $snaps/q35-MIB"`. The source runs with
# migration.store-global-state=off: by default QEMU saves its run state too, and a VM
# that was stopped when it was saved stays stopped after -incoming.
save_q35() {
    mem=$1 file=$snaps/q35-$1 fifo=/tmp/bench-snapshot.mon log=$LOG_DIR/$name-save-q35-$1
    rm -f "$fifo" "$file"
    # appended to (O_APPEND), so that emptying it between tries leaves no hole
    : >"$log.mon"
    mkfifo "$fifo"
    # shellcheck disable=SC2046 # the shared arguments are a word list
    $(qemu_args "$mem") -append "$cmdline" -global migration.store-global-state=off \
        -serial "file:$log.out" -monitor stdio <"$fifo" >>"$log.mon" 2>"$log.err" &
    pid=$!
    exec 5>"$fifo"
    ok=0
    if console_has "$log.out" "tick 5" "$limit"; then
        try=1
        while [ "$try" -le 5 ]; do
            : >"$log.mon"
            t0=$(l1_ms)
            echo stop >&5
            # the monitor answers in order: once it answered this, the stop is done
            echo "info status" >&5
            console_has "$log.mon" "VM status: paused" 10 || break
            if whole_line "$log.out"; then
                ok=1
                break
            fi
            echo cont >&5
            usleep 30000
            try=$((try + 1))
        done
    fi
    if [ "$ok" = 1 ]; then
        ok=0
        echo "migrate \"exec:cat > $file\"" >&5
        i=0
        while [ "$i" -lt $((limit * 10)) ]; do
            echo "info migrate" >&5
            usleep 100000
            grep -qE 'Migration status: (completed|failed)' "$log.mon" && break
            i=$((i + 1))
        done
        t1=$(l1_ms)
        ! grep -q 'Migration status: completed' "$log.mon" || ok=1
    fi
    echo quit >&5
    exec 5>&-
    # QEMU and the cat that wrote the file have both finished before the file counts
    i=0
    while kill -0 "$pid" 2>/dev/null || pidof cat >/dev/null; do
        i=$((i + 1))
        [ "$i" -le 100 ] || break
        usleep 100000
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rm -f "$fifo"
    if [ "$ok" != 1 ]; then
        echo "BENCH-PEER q35 could not be saved at $mem MiB; its console, monitor and stderr said:"
        tail -n 5 "$log.out" | tr -d '\r' | sed 's/^/| /'
        grep -a 'Migration status\|rror' "$log.mon" | tail -n 5 | sed 's/^/| monitor: /'
        tail -n 5 "$log.err" | sed 's/^/| stderr: /'
        return 1
    fi
    echo "BENCH-SNAP vmm=q35 mem=$mem save_ms=$((t1 - t0)) saved_tick=$(last_tick "$log.out") state_bytes=$(stat -c %s "$file") state_disk_kb=$(du -k "$file" | cut -f1)"
}

# run ROUND PART VMM MIB: one run under vmclock, to the first tick; prints BENCH-RUN.
# Returns 1 if it failed.
run() {
    r=$1 part=$2 who=$3 mem=$4
    log=$LOG_DIR/$name-$part$mem-$who-$r
    # -w: 200 ms more before the kill, so that the first line is whole (its number)
    set -- "$clock" -t $((limit * 1000)) -k -w 200 -m "$mem" -p "tick=tick " -o "$log.out" \
        -e "$log.err" --
    # shellcheck disable=SC2046 # qemu_args is a word list
    case "$who:$part" in
    ours:restore)
        set -- "$@" "$VMM" --restore "source_url=file://$snaps/ours-$mem" --memory "${mem}M" --cpus 1
        ;;
    ours:boot)
        set -- "$@" "$VMM" --kernel "$GUEST_KERNEL" --initrd "$initrd" --memory "${mem}M" --cpus 1 \
            --cmdline "$cmdline"
        ;;
    q35:restore) set -- "$@" $(qemu_args "$mem") -serial stdio -monitor none -append "$cmdline" \
        -incoming "exec:cat $snaps/q35-$mem" ;;
    q35:boot) set -- "$@" $(qemu_args "$mem") -serial stdio -monitor none -append "$cmdline" ;;
    esac
    "$@" >"$log.clock" </dev/null
    rc=$?
    status=ok
    [ "$rc" = 0 ] || status=failed
    v() { sed -n "s/^$1=//p" "$log.clock" | head -n1; }
    first=$(tr -d '\r' <"$log.out" | sed -n 's/.*tick \([0-9]*\).*/\1/p' | head -n1)
    echo "BENCH-RUN round=$r part=$part$mem vmm=$who status=$status tick_ms=$(v tick) first_tick=${first:--} rss_kb=$(v rss_kb) guest_kb=$(v guest_kb) overhead_kb=$(v overhead_kb)"
    if [ "$status" != ok ]; then
        echo "--- $part$mem $who round $r: vmclock said: $(tr '\n' ' ' <"$log.clock")"
        echo "--- last lines of its console and stderr:"
        tail -n 15 "$log.out" | tr -d '\r' | cat -v | sed 's/^/| /'
        tail -n 15 "$log.err" | cat -v | sed 's/^/| stderr: /'
        return 1
    fi
    return 0
}

failed=
saved=
for mem in $sizes; do
    for who in $vmms; do
        if "save_$who" "$mem"; then
            saved="$saved $who-$mem"
        elif [ "$who" = ours ]; then
            failed="$failed save$mem"
        fi
    done
done

has() { case " $saved " in *" $1-$2 "*) return 0 ;; esac; return 1; }

# The warm-up: one restore of each VMM, not counted.
warm=${sizes%% *}
for who in $vmms; do
    ! has "$who" "$warm" || run 0 restore "$who" "$warm" >/dev/null
done

r=1
while [ "$r" -le "$rounds" ]; do
    for mem in $sizes; do
        for part in restore boot; do
            for who in $vmms; do
                [ "$part" = boot ] || has "$who" "$mem" || continue
                if ! run "$r" "$part" "$who" "$mem" && [ "$who" = ours ]; then
                    failed="$failed $part$mem/$r"
                fi
            done
        done
    done
    r=$((r + 1))
done
if [ -n "$failed" ]; then
    echo "FAIL: $name: our VMM failed in:$failed"
    exit 1
fi
echo "PASS: $name"
