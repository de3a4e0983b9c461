#!/bin/sh
# Scenario "net-tap" (runs inside L1): virtio-net on a TAP interface, three
# times: "net-tap user" with our own queue thread moving the frames, "net-tap
# vhost" with vhost=on, the kernel's vhost-net moving them, and "net-tap mq":
# 2 vCPUs and queues=2 on a multi-queue TAP that the VMM creates itself (L1
# gives it its address once it appears), 8 MiB each way; the guest must be
# using both queue pairs (VQ_PAIRS_SET over the control queue). Last "net-tap
# intx": vhost=on under pci=nomsi, 2 MiB each way: vhost has no irqfd to
# signal without MSI-X, so the VMM must say so and move the frames itself,
# with the guest's interrupts through the IO-APIC.
#   L1: tunctl makes TAP vmmtap0 (persistent), 10.0.2.1/24, up; 16 MiB of
#       random bytes in /tmp; nc -l on 5001 serves them, nc -l on 5002
#       stores what comes in.
#   /vmm --net tap=vmmtap0,mac=02:00:00:00:00:0N[,vhost=on] (attaches to the
#       existing TAP, IFF_VNET_HDR, offloads negotiated with the guest)
#   L2 (guest-init/net-check.sh): finds the NIC by MAC, 10.0.2.15/24, pings
#       10.0.2.1, fetches the 16 MiB from port 5001, sends 16 MiB of its own
#       random bytes to port 5002, reports sizes, hashes and seconds.
# PASS when the VMM exited 0, the guest got ping replies, and each transfer
# arrived whole: the sha256 L2 computed of what it received equals L1's of
# what it sent, and L1's sha256 of what it received equals L2's of what it sent.
# SKIP when L1 has no /dev/net/tun (or, for the vhost run, no /dev/vhost-net).
# Env (set by host-init.sh): VMM GUEST_KERNEL GUEST_INITRD_DIR LOG_DIR
#   HARNESS_TIMEOUT (seconds, default 120; each run here gets at least 300)
#   HARNESS_VERBOSE (1: print full logs)
# Env: NET_BYTES (default 16777216, a multiple of 1 MiB)
. /lib/harness/scenario.sh # vmm_status_why
name='net-tap'
limit=${HARNESS_TIMEOUT:-120}
[ "$limit" -ge 300 ] || limit=300
# 16 MiB: the guest's upload runs at a few hundred KB/s under TCG, so 64 MiB took
# 160 to 220 s of the guest's 200 s limit for nc on a busy machine.
bytes=${NET_BYTES:-16777216}
tap=vmmtap0
dir=/tmp/net
mkdir -p "$dir"

if [ ! -c /dev/net/tun ]; then
    echo "SKIP: $name: L1 has no /dev/net/tun (tun module)"
    exit 0
fi
if ! tunctl -t "$tap" >/dev/null; then
    echo "FAIL: $name: tunctl -t $tap failed"
    exit 1
fi
ip addr add 10.0.2.1/24 dev "$tap"
ip link set "$tap" up
dd if=/dev/urandom of="$dir/down.bin" bs=1M count=$((bytes / 1048576)) 2>/dev/null
down_sha=$(sha256sum "$dir/down.bin" | cut -d' ' -f1)
echo "$name: L1 $tap 10.0.2.1/24; payload L1->L2: $(wc -c <"$dir/down.bin") bytes, sha256 $down_sha"

# mq: the VMM creates vmmtap1 (multi_queue); give it its address when it shows
mq_bytes=8388608
head -c "$mq_bytes" "$dir/down.bin" >"$dir/down-mq.bin"
mq_sha=$(sha256sum "$dir/down-mq.bin" | cut -d' ' -f1)
intx_bytes=2097152
head -c "$intx_bytes" "$dir/down.bin" >"$dir/down-intx.bin"
intx_sha=$(sha256sum "$dir/down-intx.bin" | cut -d' ' -f1)
configure_when_up() {
    i=0
    while [ ! -d "/sys/class/net/$1" ] && [ "$i" -lt 600 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    ip addr add 10.0.2.1/24 dev "$1" && ip link set "$1" up
}

# syscall_gap CONSOLE: the guest died of a double fault at entry_SYSCALL_64+0,
# the one instruction after SYSCALL, where RFLAGS.IF is already clear and RSP
# still the user's, so any event delivered there pushes onto the user stack and
# faults again. Seen twice in about ten runs of 64 MiB, both in net-tap user; the
# same workload with QEMU as the VMM in the same harness ran clean 20 times of 20,
# and ours 22 times since (docs/harness.md). Nothing shows it to be the nested
# layer's, so it gets no second run: it fails like any other fault, and says what
# is known about it.
syscall_gap() {
    grep -q 'double fault:' "$1" && grep -q 'RIP: 0010:entry_SYSCALL_64+0x0/' "$1"
}

failed=0
for mode in user vhost mq intx; do
    run=$name-$mode
    out=$LOG_DIR/$run.console
    err=$LOG_DIR/$run.vmm
    mac=02:00:00:00:00:01 extra='' cpus=1 net=$tap payload=$dir/down.bin want=$bytes sha=$down_sha
    nomsi=
    if [ "$mode" = vhost ]; then
        mac=02:00:00:00:00:02 extra=,vhost=on
        if [ ! -c /dev/vhost-net ]; then
            echo "SKIP: $name vhost: L1 has no /dev/vhost-net (vhost_net module)"
            continue
        fi
    elif [ "$mode" = mq ]; then
        # the other TAP leaves, so 10.0.2.0/24 has one route again
        ip link set "$tap" down
        mac=02:00:00:00:00:03 extra=,queues=2 cpus=2 net=vmmtap1
        payload=$dir/down-mq.bin want=$mq_bytes sha=$mq_sha
    elif [ "$mode" = intx ]; then
        ip link set vmmtap1 down 2>/dev/null
        ip link set "$tap" up
        mac=02:00:00:00:00:04 extra=,vhost=on nomsi=" pci=nomsi"
        [ -c /dev/vhost-net ] || extra=''
        payload=$dir/down-intx.bin want=$intx_bytes sha=$intx_sha
    fi
    [ "$mode" != mq ] || configure_when_up "$net" &
    rm -f "$dir/up.bin"
    # servers first; the guest connects to them. Each serves one connection.
    nc -l -p 5001 <"$payload" >/dev/null 2>"$dir/nc-down.err" &
    down_pid=$!
    rm -f "$dir/hold" && mkfifo "$dir/hold"
    sh -c "exec nc -l -p 5002 >'$dir/up.bin' <>'$dir/hold'" 2>"$dir/nc-up.err" &
    up_pid=$!

    t0=$(cut -d' ' -f1 /proc/uptime)
    echo "$run: starting at $t0 s (L1 uptime), at most ${limit}s"
    # A run may be silent longer than run.sh's stall limit (a slow upload under TCG
    # takes minutes): say every 60 s that L1 is alive, so only a wedged L1 is quiet.
    (while sleep 60; do echo "$run: still moving data at $(cut -d' ' -f1 /proc/uptime) s"; done) &
    beat_pid=$!
    timeout -k 5 "$limit" "$VMM" --kernel "$GUEST_KERNEL" \
        --initrd "$GUEST_INITRD_DIR/net-check.cpio.gz" \
        --cmdline "console=ttyS0 panic=-1 reboot=k$nomsi net.mode=$mode net.mac=$mac net.ip=10.0.2.15 net.peer=10.0.2.1 net.bytes=$want" \
        --cpus "$cpus" --memory 512M --stats \
        --net "tap=$net,mac=$mac$extra" \
        >"$out" 2>"$err" </dev/null
    rc=$?
    t1=$(cut -d' ' -f1 /proc/uptime)
    secs=$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }")
    # The receiving nc leaves by itself once the guest's nc closed its side and the
    # last byte is written; give it a moment, so a slow L1 is not cut short.
    i=0
    while kill -0 "$up_pid" 2>/dev/null && [ "$i" -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    kill "$down_pid" "$up_pid" "$beat_pid" 2>/dev/null
    wait "$down_pid" "$up_pid" "$beat_pid" 2>/dev/null
    tr -d '\r' <"$out" >"$out.txt"

    grep -E '^GUEST ' "$out.txt" | grep -vE '^GUEST interrupts:'
    grep -E '^vmm: ' "$err"
    sed -n '/^virtio-net /,$p' "$err"
    echo "$run: VMM exited with status $rc after $secs s (L1 time)"

    value() { sed -n "s/^GUEST $1=//p" "$out.txt" | head -n1; }
    up_sha=$(sha256sum "$dir/up.bin" 2>/dev/null | cut -d' ' -f1)
    up_size=$(wc -c <"$dir/up.bin" 2>/dev/null)
    echo "$run: L1->L2 $want bytes: L1 sent sha256 $sha, L2 got $(value down_bytes) bytes sha256 $(value down_sha256) in $(value down_seconds) s"
    echo "$run: L2->L1 $(value up_bytes) bytes: L2 sent sha256 $(value up_sha256), L1 got ${up_size:-0} bytes sha256 $up_sha in $(value up_seconds) s"
    why=$(vmm_status_why "$rc" "$limit")
    if [ "$(value "done")" != 1 ]; then
        last=$(grep -E '^GUEST ' "$out.txt" | tail -n1)
        why="$why; the guest did not finish (last: ${last:-no GUEST line at all})"
    else
        [ "$(value modules)" = ok ] || why="$why; modules=$(value modules)"
        [ "$(value dev)" != none ] || why="$why; no NIC with MAC $mac"
        [ "$(value pci_id)" = 0x1af4:0x1041 ] || why="$why; PCI id $(value pci_id) (want 0x1af4:0x1041)"
        n=$(value ping_received)
        [ "${n:-0}" -gt 0 ] || why="$why; no ping replies"
        for dir_rc in "L1->L2 $(value down_rc)" "L2->L1 $(value up_rc)"; do
            case ${dir_rc#* } in
            0) ;;
            124) why="$why; the guest's nc for ${dir_rc% *} ran out of its 200 s" ;;
            *) why="$why; the guest's nc for ${dir_rc% *} ended with status ${dir_rc#* }" ;;
            esac
        done
        [ "$(value down_bytes)" = "$want" ] || why="$why; L2 received $(value down_bytes) bytes (want $want)"
        [ "$(value down_sha256)" = "$sha" ] || why="$why; L1->L2 sha256 differs"
        [ "$(value up_bytes)" = "$want" ] || why="$why; L2 sent $(value up_bytes) bytes (want $want)"
        [ "${up_size:-0}" = "$want" ] || why="$why; L1 received ${up_size:-0} bytes (want $want)"
        [ -n "$up_sha" ] && [ "$up_sha" = "$(value up_sha256)" ] || why="$why; L2->L1 sha256 differs"
        if [ "$mode" = mq ]; then
            case "$(value queues)" in
            *rx-1*tx-1*) ;;
            *) why="$why; the guest uses queues '$(value queues)' (want rx-0 rx-1 tx-0 tx-1)" ;;
            esac
            [ ! -d /sys/class/net/vmmtap1 ] || why="$why; vmmtap1 outlived the VMM"
        fi
        if [ "$mode" = intx ]; then
            [ -z "$extra" ] || grep -q 'no MSI-X vectors for vhost-net' "$err" ||
                why="$why; the VMM did not say it took over from vhost-net"
            case "$(value irq_chip)" in
            *IO-APIC*) ;;
            *) why="$why; interrupts via '$(value irq_chip)' (want IO-APIC)" ;;
            esac
        fi
    fi
    if [ -n "$why" ] && syscall_gap "$out.txt"; then
        echo "$run: the guest kernel took a double fault at the first instruction of its"
        echo "$run: syscall entry, with interrupts off and the user stack still in RSP:"
        grep -E -m1 -A5 'double fault:' "$out.txt" | sed 's/^/| /'
        echo "$run: a known fault, not seen with QEMU as the VMM; cause not found (docs/harness.md)"
        why="$why; guest double fault in the syscall gap"
    fi
    if [ "${HARNESS_VERBOSE:-0}" = 1 ]; then
        echo "--- $run: guest console"
        sed 's/^/| /' "$out.txt"
        echo "--- $run: VMM log"
        sed 's/^/| /' "$err"
    fi
    if [ -n "$why" ]; then
        echo "FAIL: $name $mode: ${why#; }"
        failed=1
        if [ "${HARNESS_VERBOSE:-0}" != 1 ]; then
            # a guest kernel warning earlier in the run (taint W) may be the first sign
            if grep -qE 'WARNING:|BUG:|Oops' "$out.txt"; then
                echo "--- $run: the guest kernel's warnings and oopses, with 12 lines after each"
                grep -E -A12 'WARNING:|BUG:|Oops' "$out.txt" | head -n 80 | sed 's/^/| /'
            fi
            echo "--- $run: last 40 lines of the guest console"
            tail -n 40 "$out.txt" | sed 's/^/| /'
            echo "--- $run: last 40 lines of the VMM log"
            tail -n 40 "$err" | sed 's/^/| /'
            echo "--- $run: L1 nc"
            cat "$dir/nc-down.err" "$dir/nc-up.err" | sed 's/^/| /'
        fi
    else
        echo "PASS: $name $mode"
    fi
done
wait
rm -f "$dir/down.bin" "$dir/down-mq.bin" "$dir/down-intx.bin" "$dir/up.bin"
tunctl -d "$tap" >/dev/null
exit "$failed"
