#!/bin/sh
# L2 /init for the net-tap scenario (tests/harness/scenarios/net-tap.sh): loads
# virtio-pci and virtio-net, finds the NIC by the MAC the scenario gave the VMM,
# gives it net.ip/24, pings net.peer (L1's end of the TAP), then moves
# net.bytes bytes each way over TCP with busybox nc, L1 always listening:
#   down: connect to net.peer:5001 and read what L1 sends into /tmp/down.bin
#   up:   write net.bytes random bytes to /tmp/up.bin, send it to net.peer:5002
# and reports GUEST key=value lines (hashes, sizes, seconds), then powers off.
# The judging (hashes against L1's own) is done in L1 by the scenario.
# Kernel command line: net.mode=NAME net.mac=MAC net.ip=A net.peer=A net.bytes=N
# harness-modules: virtio_pci virtio_net
. /lib/harness/prologue.sh # boot marker, busybox applets, /dev /proc /sys
mkdir -p /tmp

mode=unknown mac=none ip=10.0.2.15 peer=10.0.2.1 bytes=1048576
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    net.mode=*) mode=${arg#net.mode=} ;;
    net.mac=*) mac=${arg#net.mac=} ;;
    net.ip=*) ip=${arg#net.ip=} ;;
    net.peer=*) peer=${arg#net.peer=} ;;
    net.bytes=*) bytes=${arg#net.bytes=} ;;
    esac
done
echo "GUEST mode=$mode"

bad=
for m in $(cat /lib/modules/load-order); do
    if ! msg=$(insmod "/lib/modules/$m.ko" 2>&1); then
        bad="$bad,$m"
        echo "GUEST insmod $m: $msg"
    fi
done
echo "GUEST modules=${bad:-ok}"

now() { cut -d' ' -f1 /proc/uptime; }
since() { awk "BEGIN { printf \"%.2f\", $(now) - $1 }"; }

# The NIC is found by its MAC, never by eth0/eth1 order; give the driver 10 s.
dev=
i=0
while [ -z "$dev" ] && [ "$i" -lt 100 ]; do
    for n in /sys/class/net/*; do
        [ "$(cat "$n/address" 2>/dev/null)" = "$mac" ] && dev=${n##*/}
    done
    [ -n "$dev" ] || { sleep 0.1; i=$((i + 1)); }
done
echo "GUEST dev=${dev:-none}"
if [ -n "$dev" ]; then
    pci=$(basename "$(readlink -f "/sys/class/net/$dev/device/..")")
    echo "GUEST pci_id=$(cat "/sys/bus/pci/devices/$pci/vendor"):$(cat "/sys/bus/pci/devices/$pci/device")"
    echo "GUEST features=$(cat "/sys/class/net/$dev/device/features" 2>/dev/null)"
    # the queues the driver set up and uses (after VQ_PAIRS_SET with multi-queue)
    echo "GUEST queues=$(ls "/sys/class/net/$dev/queues" | tr '\n' ' ')"
    ip link set lo up
    ip addr add "$ip/24" dev "$dev"
    ip link set "$dev" up
    # the peer may need a moment to answer ARP; count the replies
    ok=$(ping -c 3 -W 2 "$peer" 2>&1 | sed -n 's/.* \([0-9]*\) packets received.*/\1/p')
    echo "GUEST ping_received=${ok:-0}"
    echo "GUEST link=$(cat "/sys/class/net/$dev/operstate")"

    # down: the receiver's stdin never ends (a FIFO held open read-write), so nc
    # leaves only when L1 closes the connection, after the last byte
    mkfifo /tmp/hold
    t0=$(now)
    timeout 200 nc "$peer" 5001 >/tmp/down.bin <>/tmp/hold
    echo "GUEST down_rc=$?"
    echo "GUEST down_seconds=$(since "$t0")"
    echo "GUEST down_bytes=$(wc -c </tmp/down.bin)"
    echo "GUEST down_sha256=$(sha256sum /tmp/down.bin | cut -d' ' -f1)"
    rm -f /tmp/down.bin

    dd if=/dev/urandom of=/tmp/up.bin bs=1M count=$((bytes / 1048576)) 2>/dev/null
    echo "GUEST up_sha256=$(sha256sum /tmp/up.bin | cut -d' ' -f1)"
    echo "GUEST up_bytes=$(wc -c </tmp/up.bin)"
    t0=$(now)
    timeout 200 nc "$peer" 5002 </tmp/up.bin
    echo "GUEST up_rc=$?"
    echo "GUEST up_seconds=$(since "$t0")"
    sed -n "s/^ *$dev: *//p" /proc/net/dev | awk '{ print "GUEST rx_bytes=" $1 " rx_packets=" $2 " rx_errs=" $3 " rx_drop=" $4 " tx_bytes=" $9 " tx_packets=" $10 " tx_errs=" $11 " tx_drop=" $12 }'
fi
grep -E 'virtio' /proc/interrupts | sed 's/^ */GUEST interrupts: /'
# the chip the NIC's interrupts go through (PCI-MSI, or IO-APIC under pci=nomsi)
echo "GUEST irq_chip=$(grep -E 'virtio' /proc/interrupts | head -n1 | grep -oE 'PCI-MSI|IO-APIC' | head -n1)"
dmesg | grep -iE 'virtio|net|eth' | tail -n 20 | sed 's/^/guest dmesg: /'
echo "GUEST done=1"
poweroff -f
echo "GUEST poweroff failed"
exit 1
