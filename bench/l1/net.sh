#!/bin/sh
# L1 half of the network benchmark (bench/net.sh puts it in the L1 image as
# /scenarios/bench-net.sh; tests/harness/host-init.sh runs it). Busybox sh.
#
# Makes a TAP vmmtap0 (10.0.2.1/24) with iperf3 -s behind it and boots the same
# iperf3 guest (/guest/initrd/iperf.cpio, bench/guest-init/iperf.sh) on it
# under four configurations, in turn, for bench.rounds rounds:
#   ours        /vmm ... --net tap=vmmtap0,mac=M
#   ours-vhost  /vmm ... --net tap=vmmtap0,mac=M,vhost=on
#   qemu        qemu-system-x86_64 -accel kvm -cpu host -M q35 ... -netdev
#               tap,id=n0,ifname=vmmtap0,script=no,downscript=no,vhost=off
#               -device virtio-net-pci,netdev=n0,mac=M,disable-legacy=on,romfile=
#               (no option ROM: -kernel needs no PXE, and it is not in the image)
#   qemu-vhost  the same with vhost=on
# with the same vCPUs, memory, kernel and command line. For each run it prints
#   BENCH-RUN round=R vmm=WHO status=ok|failed secs=S g2h_Mbps=X h2g_Mbps=X
# and at the end "PASS: bench-net" (our VMM gave numbers in every round, with
# and without vhost) or "FAIL: bench-net: why". A QEMU that cannot start says
#   BENCH-PEER unavailable: why
# and the rounds go on with ours alone.
# L1 command line (bench/net.sh sets it): bench.rounds=N bench.cpus=N
#   bench.memory=MiB bench.peer=qemu|none, and bench.runtime= bench.omit=
#   which go on to the guest's command line as they are.
# Env (host-init.sh): VMM GUEST_KERNEL GUEST_INITRD_DIR LOG_DIR HARNESS_TIMEOUT
#   (seconds per VM run) HARNESS_VERBOSE.
name=bench-net
limit=${HARNESS_TIMEOUT:-120}
rounds=3 cpus=2 memory=512 peer=qemu guest_args=
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    bench.rounds=*) rounds=${arg#bench.rounds=} ;;
    bench.cpus=*) cpus=${arg#bench.cpus=} ;;
    bench.memory=*) memory=${arg#bench.memory=} ;;
    bench.peer=*) peer=${arg#bench.peer=} ;;
    bench.runtime=* | bench.omit=*) guest_args="$guest_args $arg" ;;
    esac
done
initrd=$GUEST_INITRD_DIR/iperf.cpio
qemu=/usr/bin/qemu-system-x86_64
firmware=/usr/share/qemu
tap=vmmtap0
mac=02:00:00:00:be:01
cmdline="console=ttyS0 panic=-1 reboot=k quiet bench.mac=$mac bench.addr=10.0.2.15 bench.server=10.0.2.1$guest_args"

[ -f "$initrd" ] || { echo "FAIL: $name: no $initrd in the L1 image"; exit 1; }
[ -c /dev/net/tun ] || { echo "FAIL: $name: L1 has no /dev/net/tun (tun module)"; exit 1; }
[ -c /dev/vhost-net ] || { echo "FAIL: $name: L1 has no /dev/vhost-net (vhost_net module)"; exit 1; }
command -v iperf3 >/dev/null || { echo "FAIL: $name: no iperf3 in the L1 image"; exit 1; }
ip link set lo up
tunctl -t "$tap" >/dev/null || { echo "FAIL: $name: tunctl -t $tap failed"; exit 1; }
ip addr add 10.0.2.1/24 dev "$tap"
ip link set "$tap" up
iperf3 -s -D --logfile "$LOG_DIR/$name.iperf3-server" ||
    { echo "FAIL: $name: iperf3 -s did not start"; exit 1; }
echo "$name: L1: $(grep -c ^processor /proc/cpuinfo) vCPU(s), $(awk '/^MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MiB; $tap 10.0.2.1/24, iperf3 $(iperf3 --version | head -n1 | cut -d' ' -f2); L2: $cpus vCPUs, ${memory} MiB; $rounds rounds"

peer_why=
if [ "$peer" = none ]; then
    peer_why="bench.peer=none"
elif [ ! -x "$qemu" ]; then
    peer_why="no $qemu in the L1 image"
elif ! v=$("$qemu" --version 2>&1); then
    peer_why="$qemu does not start: $(echo "$v" | head -n2 | tr '\n' ' ')"
else
    echo "$name: peer: $(echo "$v" | head -n1), -M q35"
fi

# run_vm ROUND WHO: one boot of the iperf3 guest; prints BENCH-RUN.
# Returns 0 when the guest gave both numbers.
run_vm() {
    r=$1 who=$2
    run=$name-$who-$r
    out=$LOG_DIR/$run.console
    err=$LOG_DIR/$run.err
    t0=$(cut -d' ' -f1 /proc/uptime)
    case "$who" in
    ours | ours-vhost)
        vhost=
        [ "$who" = ours-vhost ] && vhost=,vhost=on
        timeout -k 5 "$limit" "$VMM" --kernel "$GUEST_KERNEL" --initrd "$initrd" \
            --cmdline "$cmdline" --cpus "$cpus" --memory "${memory}M" \
            --net "tap=$tap,mac=$mac$vhost" \
            >"$out" 2>"$err" </dev/null
        rc=$?
        ;;
    qemu | qemu-vhost)
        vhost=off
        [ "$who" = qemu-vhost ] && vhost=on
        timeout -k 5 "$limit" "$qemu" -L "$firmware" -nodefaults -no-user-config \
            -accel kvm -cpu host -M q35 -m "$memory" -smp "$cpus" \
            -display none -monitor none -serial "file:$out" -no-reboot \
            -kernel "$GUEST_KERNEL" -initrd "$initrd" -append "$cmdline" \
            -netdev "tap,id=n0,ifname=$tap,script=no,downscript=no,vhost=$vhost" \
            -device "virtio-net-pci,netdev=n0,mac=$mac,disable-legacy=on,romfile=" \
            >"$err" 2>&1 </dev/null
        rc=$?
        ;;
    esac
    t1=$(cut -d' ' -f1 /proc/uptime)
    secs=$(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }")
    tr -d '\r' <"$out" >"$out.txt"
    value() { sed -n "s/^BENCH $1=//p" "$out.txt" | head -n1; }
    g2h=$(value g2h_Mbps) h2g=$(value h2g_Mbps)
    status=ok
    why=
    [ "$rc" = 0 ] || why="$why; exit status $rc$([ "$rc" = 124 ] && echo " (timed out after ${limit}s)")"
    [ "$(value "done")" = 1 ] || why="$why; the guest did not finish"
    [ -n "$g2h" ] && [ -n "$h2g" ] || why="$why; missing numbers"
    errs=$(grep '^BENCH error=' "$out.txt" | sed 's/^BENCH error=//' | tr '\n' ';')
    [ -z "$errs" ] || why="$why; guest: $errs"
    [ -z "$why" ] || status=failed
    if [ "$r" = 1 ] || [ "$status" != ok ] || [ "${HARNESS_VERBOSE:-0}" = 1 ]; then
        grep -E '^BENCH nic=' "$out.txt" | sed "s/^BENCH /$run: /"
    fi
    echo "BENCH-RUN round=$r vmm=$who status=$status secs=$secs g2h_Mbps=${g2h:--} h2g_Mbps=${h2g:--}"
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
    run_vm "$r" ours || failed="$failed round $r ours;"
    run_vm "$r" ours-vhost || failed="$failed round $r ours-vhost;"
    if [ -z "$peer_why" ]; then
        run_vm "$r" qemu
        q=$?
        run_vm "$r" qemu-vhost
        qv=$?
        if [ "$q" != 0 ] && [ "$qv" != 0 ] && [ "$r" = 1 ]; then
            peer_why="QEMU failed in round 1, with and without vhost (logs above)"
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
