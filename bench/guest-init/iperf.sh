#!/bin/sh
# L2 /init of the network benchmark (bench/net.sh, bench/l1/net.sh): the same
# image boots under our VMM and under QEMU, on a virtio-net NIC whose TAP is in
# L1. Loads virtio-pci + virtio-net, finds the NIC by its MAC, gives it
# bench.addr/24, waits until L1 (bench.server, running iperf3 -s) answers ping,
# then runs iperf3 as the client, one test after the other:
#   g2h  guest to host (the guest sends)
#   h2g  host to guest (-R: L1 sends)
# each one TCP stream for bench.omit (default 1, left out of the figures) +
# bench.runtime (default 5) seconds, then powers off.
# Output, one line each, on the serial console:
#   BENCH g2h_Mbps=X BENCH h2g_Mbps=X (the receiver's figure, 10^6 bits/s),
#   BENCH error=... on a failure, BENCH done=1 at the end.
# Kernel command line: bench.mac=MAC bench.addr=A bench.server=A
#   bench.runtime=SECS bench.omit=SECS
# iperf3 and the libraries it links (with the dynamic loader) are in the image
# at their usual paths; bench/net.sh puts them there.
# harness-modules: virtio_pci virtio_net
. /lib/harness/prologue.sh # boot marker, busybox applets, /dev /proc /sys
mkdir -p /tmp

mac= addr=10.0.2.15 server=10.0.2.1 runtime=5 omit=1
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    bench.mac=*) mac=${arg#bench.mac=} ;;
    bench.addr=*) addr=${arg#bench.addr=} ;;
    bench.server=*) server=${arg#bench.server=} ;;
    bench.runtime=*) runtime=${arg#bench.runtime=} ;;
    bench.omit=*) omit=${arg#bench.omit=} ;;
    esac
done

finish() {
    echo "BENCH uptime=$(cut -d' ' -f1 /proc/uptime)"
    echo "BENCH done=1"
    sync
    poweroff -f
    echo "BENCH error=poweroff failed"
    exit 1
}

for m in $(cat /lib/modules/load-order); do
    msg=$(insmod "/lib/modules/$m.ko" 2>&1) || echo "BENCH error=insmod $m: $msg"
done
# Kernel lines from here on would split BENCH lines: errors only.
dmesg -n 4

find_nic() {
    for n in /sys/class/net/*; do
        [ "$(cat "$n/address" 2>/dev/null)" = "$mac" ] && echo "${n##*/}" && return 0
    done
    return 1
}
i=0
while ! find_nic >/dev/null && [ "$i" -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
nic=$(find_nic)
if [ -z "$nic" ]; then
    echo "BENCH error=no NIC with MAC $mac ($(ls /sys/class/net | tr '\n' ' '))"
    finish
fi
ip link set lo up
ip addr add "$addr/24" dev "$nic"
ip link set "$nic" up
i=0
until ping -c 1 -W 1 "$server" >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -ge 20 ]; then
        echo "BENCH error=no answer from $server"
        finish
    fi
done
p=$(dirname "$(readlink -f "/sys/class/net/$nic/device")")
echo "BENCH nic=$nic pci_id=$(cat "$p/vendor" 2>/dev/null):$(cat "$p/device" 2>/dev/null) driver=$(basename "$(readlink -f "/sys/class/net/$nic/device/driver")") features=$(cat "/sys/class/net/$nic/device/features" 2>/dev/null)"

for test in g2h h2g; do
    reverse=
    [ "$test" = h2g ] && reverse=-R
    # shellcheck disable=SC2086 # an empty $reverse is no argument
    if ! timeout $((runtime + omit + 30)) iperf3 -c "$server" -t "$runtime" -O "$omit" -f m $reverse \
        >"/tmp/$test.txt" 2>&1; then
        echo "BENCH error=iperf3 $test: $(tail -n 2 "/tmp/$test.txt" | tr '\n' ' ')"
        continue
    fi
    # "[  5]   0.00-5.00   sec  562 MBytes   943 Mbits/sec      receiver"
    v=$(awk '/receiver$/ { for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") print $(i - 1) }' "/tmp/$test.txt" | tail -n 1)
    if [ -n "$v" ]; then
        echo "BENCH ${test}_Mbps=$v"
    else
        echo "BENCH error=no receiver line from iperf3 $test"
    fi
done
finish
