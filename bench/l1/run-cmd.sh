#!/bin/sh
# L1 half of the run-cmd benchmark (bench/run-cmd.sh puts it in the L1 image
# as /scenarios/bench-run-cmd.sh). Busybox sh. Measures, per round, the time
# from starting the VMM to the first line the command prints, for
#   ours:          /vmm run --kernel K --rootfs DIR -- echo run-cmd-marker
#                  (DIR: busybox, the same tree the peer's initramfs has)
#   ours-cached:   /vmm run --kernel K --rootfs DIR --boot-cache C -- echo
#                  run-cmd-marker (C filled by one uncounted run before the
#                  first round: every counted run restores the saved boot)
#   ours-hostroot: /vmm run --kernel K -- echo run-cmd-marker
#                  (the default: L1's / over virtio-fs, modules loaded)
#   kvmtool:       lkvm run --nodefaults --console serial -m 512 -c 1
#                  -k K -i run-cmd.cpio -p "console=ttyS0 reboot=k panic=-1
#                  quiet loglevel=1" (the command line `vmm run` gives its
#                  guest; the uncompressed initramfs runs the same echo and
#                  reboots, which is how lkvm's guest exits)
# and prints "BENCH-RUN round=R vmm=V status=ok|failed exit=RC
# first_output_s=S" (RC: the VMM's exit status, 124 if the time limit
# stopped it). This stands in for `lkvm sandbox -- echo ...`, which cannot
# run here: sandbox shares the root over 9p, and the Debian cloud kernel is
# built without 9p (CONFIG_NET_9P is off).
# L1 command line: bench.rounds=N, bench.stream_rounds=N (default: bench.rounds).
name=bench-run-cmd
limit=${HARNESS_TIMEOUT:-120}
rounds=3
stream_rounds=
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    bench.rounds=*) rounds=${arg#bench.rounds=} ;;
    bench.stream_rounds=*) stream_rounds=${arg#bench.stream_rounds=} ;;
    esac
done
lkvm=/usr/bin/lkvm
root=/tmp/run-cmd-root
mkdir -p "$root/bin"
cp /bin/busybox "$root/bin/busybox"
ln -sf busybox "$root/bin/sh"
ln -sf busybox "$root/bin/echo"
ln -sf busybox "$root/bin/cat"
export HOME=/tmp # kvmtool keeps its sockets under $HOME/.lkvm
cache=/tmp/run-cmd-boot-cache
rm -rf "$cache"
mkdir -p "$cache"

# first_output NAME CMD...: seconds (L1 uptime) from start to the marker
# line; the run's output is kept in $LOG_DIR/bench-NAME.{out,err}, its exit
# status in $LOG_DIR/bench-NAME.rc.
first_output() {
    n=$1
    shift
    rm -f "$LOG_DIR/bench-$n.rc"
    t0=$(cut -d' ' -f1 /proc/uptime)
    t1=$({
        timeout -k 5 "$limit" "$@" 2>"$LOG_DIR/bench-$n.err" </dev/null
        echo "$?" >"$LOG_DIR/bench-$n.rc"
    } | tee "$LOG_DIR/bench-$n.out" | {
        while IFS= read -r line; do
            case "$line" in
            *run-cmd-marker*)
                cut -d' ' -f1 /proc/uptime
                break
                ;;
            esac
        done
        cat >/dev/null
    })
    [ -n "$t1" ] || return 1
    awk "BEGIN { printf \"%.3f\", $t1 - $t0 }"
}

have_lkvm=
if [ -x "$lkvm" ] && "$lkvm" version >/dev/null 2>&1; then
    have_lkvm=1
else
    echo "BENCH-PEER unavailable: no lkvm in the L1 image"
fi
failed=0
# the cache's first entry: a cold run that saves the boot, not counted (echo: the root
# has only sh and echo)
timeout -k 5 "$limit" "$VMM" run --kernel "$GUEST_KERNEL" --rootfs "$root" --boot-cache "$cache" \
    -- echo filled >/dev/null 2>"$LOG_DIR/bench-cache-fill.err" </dev/null ||
    echo "BENCH-CACHE fill failed: $(tail -c 300 "$LOG_DIR/bench-cache-fill.err" | tr '\n' ' ')"
r=1
while [ "$r" -le "$rounds" ]; do
    for v in ours ours-cached ours-hostroot kvmtool; do
        case "$v" in
        ours) s=$(first_output "$v" "$VMM" run --kernel "$GUEST_KERNEL" --rootfs "$root" -- echo run-cmd-marker) ;;
        ours-cached) s=$(first_output "$v" "$VMM" run --kernel "$GUEST_KERNEL" --rootfs "$root" --boot-cache "$cache" -- echo run-cmd-marker) ;;
        ours-hostroot) s=$(first_output "$v" "$VMM" run --kernel "$GUEST_KERNEL" -- echo run-cmd-marker) ;;
        kvmtool)
            [ -n "$have_lkvm" ] || continue
            s=$(first_output "$v" "$lkvm" run --nodefaults --console serial -m 512 -c 1 \
                -k "$GUEST_KERNEL" -i "$GUEST_INITRD_DIR/run-cmd.cpio" \
                -p "console=ttyS0 reboot=k panic=-1 quiet loglevel=1")
            ;;
        esac
        rc=$(cat "$LOG_DIR/bench-$v.rc" 2>/dev/null || echo '?')
        if [ -n "$s" ]; then
            echo "BENCH-RUN round=$r vmm=$v status=ok exit=$rc first_output_s=$s"
        else
            echo "BENCH-RUN round=$r vmm=$v status=failed exit=$rc"
            for f in out err; do
                tail -c 800 "$LOG_DIR/bench-$v.$f" | sed "s/[^[:print:]]/./g; s/^/| $v $f: /"
            done
            [ "$v" = kvmtool ] || failed=1
        fi
    done
    r=$((r + 1))
done

# The command's stdout as a byte stream: `vmm run -- cat /dev/zero | head -c N`. It
# travels through the command port, one exit per chunk of up to 4 KiB (devices/cmdport.h).
# Two sizes, so that the boot cancels out: MiB/s = (big - small) / (t_big - t_small).
# Each pipeline also shows that the VMM ends when its reader goes away.
stream() {
    t0=$(cut -d' ' -f1 /proc/uptime)
    got=$(timeout -k 5 "$limit" "$VMM" run --kernel "$GUEST_KERNEL" --rootfs "$root" -- \
        cat /dev/zero 2>"$LOG_DIR/bench-stream.err" </dev/null | head -c "$1" | wc -c)
    t1=$(cut -d' ' -f1 /proc/uptime)
    echo "$got $(awk "BEGIN { printf \"%.3f\", $t1 - $t0 }")"
}
small=1048576
big=67108864
r=1
while [ "$r" -le "${stream_rounds:-$rounds}" ]; do
    set -- $(stream $small) $(stream $big)
    if [ "$1" = $small ] && [ "$3" = $big ]; then
        echo "BENCH-STREAM round=$r status=ok small_s=$2 big_s=$4" \
            "mib_per_s=$(awk "BEGIN { d = $4 - $2; printf \"%.1f\", (d > 0 ? ($big - $small) / 1048576 / d : 0) }")"
    else
        echo "BENCH-STREAM round=$r status=failed bytes=$1,$3"
        tail -c 400 "$LOG_DIR/bench-stream.err" | sed 's/[^[:print:]]/./g; s/^/| stream err: /'
        failed=1
    fi
    r=$((r + 1))
done

if [ "$failed" = 0 ]; then
    echo "PASS: $name"
else
    echo "FAIL: $name: our VMM gave no output in some round"
fi
