#!/bin/sh
# L1 half of the disk benchmark (bench/disk.sh puts it in the L1 image as
# /scenarios/bench-disk.sh; tests/harness/host-init.sh runs it). Busybox sh.
#
# Finds the scratch disk bench/disk.sh attached to L1 (virtio serial "bench";
# never one of the test images) and boots the same fio guest
# (/guest/initrd/fio.cpio, bench/guest-init/fio.sh) on it, alternately under
#   ours: /vmm ... --disk path=/dev/vdX,serial=bench,cache=none
#   qemu: qemu-system-x86_64 -accel kvm -cpu host -M q35 ... -drive
#         file=/dev/vdX,if=none,format=raw,cache=none,aio=native
#         -device virtio-blk-pci,serial=bench,disable-legacy=on
# with the same vCPUs, memory, kernel and command line: ours, QEMU, ours,
# QEMU, ... for bench.rounds rounds. For each run it prints
#   BENCH-RUN round=R vmm=ours|qemu status=ok|failed secs=S seqwrite_MBps=X seqread_MBps=X randread_iops=X
# and at the end "PASS: bench-disk" (our VMM gave numbers in every round) or
# "FAIL: bench-disk: why". A peer that cannot run says
#   BENCH-PEER unavailable: why
# If QEMU's q35 machine fails in round 1, -M microvm,pcie=on (qboot, the same
# virtio-blk-pci) is tried; if that fails too, the rounds go on with ours only.
# L1 command line (bench/disk.sh sets it): bench.rounds=N bench.cpus=N
#   bench.memory=MiB bench.peer=q35|microvm|none, and bench.runtime=
#   bench.ramp= bench.seq_iodepth= bench.rand_iodepth= bench.jobs= which go
#   on to the guest's command line as they are.
# Env (host-init.sh): VMM GUEST_KERNEL GUEST_INITRD_DIR LOG_DIR HARNESS_TIMEOUT
#   (seconds per VM run) HARNESS_VERBOSE.
name=bench-disk
limit=${HARNESS_TIMEOUT:-120}
rounds=2 cpus=2 memory=512 peer=q35 guest_args=
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    bench.rounds=*) rounds=${arg#bench.rounds=} ;;
    bench.cpus=*) cpus=${arg#bench.cpus=} ;;
    bench.memory=*) memory=${arg#bench.memory=} ;;
    bench.peer=*) peer=${arg#bench.peer=} ;;
    bench.runtime=* | bench.ramp=* | bench.seq_iodepth=* | bench.rand_iodepth=* | bench.jobs=*)
        guest_args="$guest_args $arg" ;;
    esac
done
initrd=$GUEST_INITRD_DIR/fio.cpio
qemu=/usr/bin/qemu-system-x86_64
firmware=/usr/share/qemu
cmdline="console=ttyS0 panic=-1 reboot=k quiet bench.serial=bench$guest_args"

[ -f "$initrd" ] || { echo "FAIL: $name: no $initrd in the L1 image"; exit 1; }

find_disk() {
    for b in /sys/block/vd*; do
        if [ -f "$b/serial" ] && [ "$(cat "$b/serial" 2>/dev/null)" = "$1" ]; then
            echo "/dev/${b##*/}"
            return 0
        fi
    done
    return 1
}
i=0
while ! find_disk bench >/dev/null && [ "$i" -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
done
dev=$(find_disk bench)
if [ -z "$dev" ]; then
    echo "FAIL: $name: L1 has no virtio disk with serial bench ($(ls /sys/block | tr '\n' ' '))"
    exit 1
fi
echo "$name: scratch disk $dev, $(($(cat "/sys/block/${dev#/dev/}/size") / 2048)) MiB; L2: $cpus vCPUs, ${memory} MiB; $rounds rounds"
echo "$name: L1: $(grep -c ^processor /proc/cpuinfo) vCPU(s), $(awk '/^MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MiB, $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"

# The peer: does the copied QEMU start at all?
peer_why=
if [ "$peer" = none ]; then
    peer_why="bench.peer=none"
elif [ ! -x "$qemu" ]; then
    peer_why="no $qemu in the L1 image"
elif ! v=$("$qemu" --version 2>&1); then
    peer_why="$qemu does not start: $(echo "$v" | head -n2 | tr '\n' ' ')"
else
    echo "$name: peer: $(echo "$v" | head -n1), -M $peer"
fi

# run_vm ROUND VMM MACHINE: one boot of the fio guest; prints BENCH-RUN.
# Returns 0 when the guest gave every number.
run_vm() {
    r=$1 who=$2 machine=$3
    run=$name-$who-$r
    out=$LOG_DIR/$run.console
    err=$LOG_DIR/$run.err
    t0=$(cut -d' ' -f1 /proc/uptime)
    if [ "$who" = ours ]; then
        timeout -k 5 "$limit" "$VMM" --kernel "$GUEST_KERNEL" --initrd "$initrd" \
            --cmdline "$cmdline" --cpus "$cpus" --memory "${memory}M" \
            --disk "path=$dev,serial=bench,cache=none" \
            >"$out" 2>"$err" </dev/null
        rc=$?
    else
        case "$machine" in
        q35) m=q35 ;;
        microvm) m=microvm,pcie=on ;;
        esac
        timeout -k 5 "$limit" "$qemu" -L "$firmware" -nodefaults -no-user-config \
            -accel kvm -cpu host -M "$m" -m "$memory" -smp "$cpus" \
            -display none -monitor none -serial "file:$out" -no-reboot \
            -kernel "$GUEST_KERNEL" -initrd "$initrd" -append "$cmdline" \
            -drive "file=$dev,if=none,id=bench,format=raw,cache=none,aio=native" \
            -device virtio-blk-pci,drive=bench,serial=bench,disable-legacy=on,disable-modern=off \
            >"$err" 2>&1 </dev/null
        rc=$?
    fi
    t1=$(cut -d' ' -f1 /proc/uptime)
    secs=$(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }")
    tr -d '\r' <"$out" >"$out.txt"
    value() { sed -n "s/^BENCH $1=//p" "$out.txt" | head -n1; }
    sw=$(value seqwrite_MBps) sr=$(value seqread_MBps) rr=$(value randread_iops)
    status=ok
    why=
    [ "$rc" = 0 ] || why="$why; exit status $rc$([ "$rc" = 124 ] && echo " (timed out after ${limit}s)")"
    [ "$(value "done")" = 1 ] || why="$why; the guest did not finish"
    [ -n "$sw" ] && [ -n "$sr" ] && [ -n "$rr" ] || why="$why; missing numbers"
    errs=$(grep '^BENCH error=' "$out.txt" | sed 's/^BENCH error=//' | tr '\n' ';')
    [ -z "$errs" ] || why="$why; guest: $errs"
    [ -z "$why" ] || status=failed
    # The guest's own description of the disk and fio, once per VMM.
    if [ "$r" = 1 ] || [ "$status" != ok ] || [ "${HARNESS_VERBOSE:-0}" = 1 ]; then
        grep -E '^BENCH (disk|fio|clocksource)=' "$out.txt" | sed "s/^BENCH /$run: /"
    fi
    echo "BENCH-RUN round=$r vmm=$who machine=$machine status=$status secs=$secs seqwrite_MBps=${sw:--} seqread_MBps=${sr:--} randread_iops=${rr:--}"
    if [ "$status" != ok ]; then
        echo "$run: ${why#; }"
        echo "--- $run: last 30 lines of the guest console"
        tail -n 30 "$out.txt" | sed 's/^/| /'
        echo "--- $run: last 20 lines of the VMM's stderr"
        tail -n 20 "$err" | sed 's/^/| /'
        return 1
    fi
    if [ "${HARNESS_VERBOSE:-0}" = 1 ]; then
        sed 's/^/| /' "$out.txt"
        sed 's/^/| stderr: /' "$err"
    fi
    return 0
}

failed=
r=1
while [ "$r" -le "$rounds" ]; do
    run_vm "$r" ours - || failed="$failed round $r;"
    if [ -z "$peer_why" ]; then
        if ! run_vm "$r" qemu "$peer"; then
            if [ "$r" = 1 ] && [ "$peer" = q35 ]; then
                echo "$name: QEMU -M q35 failed in round 1; trying -M microvm,pcie=on"
                peer=microvm
                run_vm "$r" qemu "$peer" || peer_why="QEMU failed in round 1 with -M q35 and with -M microvm,pcie=on (logs above)"
            elif [ "$r" = 1 ]; then
                peer_why="QEMU -M $peer failed in round 1 (log above)"
            fi
        fi
    fi
    r=$((r + 1))
done
[ -z "$peer_why" ] || echo "BENCH-PEER unavailable: $peer_why"
if [ -n "$failed" ]; then
    echo "FAIL: $name: our VMM gave no numbers in${failed%;}"
    exit 1
fi
echo "PASS: $name"
