#!/bin/sh
# L2 /init for the net-user scenario (tests/harness/scenarios/net-user.sh):
# loads virtio-net, brings eth0 up with busybox udhcpc, then
#   NAT:     connects to the L1 host through the gateway's host alias
#            (net.host=10.0.2.2, port net.port), sends a line, reads L1's;
#   hostfwd: listens on net.guest_port, says GUEST hostfwd_ready, and
#            exchanges a line with whoever L1 sends through its forwarded port;
# and reports each step as GUEST key=value lines, then powers off.
# Kernel command line: net.host=A net.port=N net.guest_port=N net.token=T
# harness-modules: virtio_pci virtio_net
. /lib/harness/prologue.sh # boot marker, busybox applets, /dev /proc /sys
mkdir -p /tmp /etc/udhcpc

host=10.0.2.2 port=7777 guest_port=8080 token=none
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    net.host=*) host=${arg#net.host=} ;;
    net.port=*) port=${arg#net.port=} ;;
    net.guest_port=*) guest_port=${arg#net.guest_port=} ;;
    net.token=*) token=${arg#net.token=} ;;
    esac
done

for m in $(cat /lib/modules/load-order); do
    msg=$(insmod "/lib/modules/$m.ko" 2>&1) || echo "GUEST insmod $m: $msg"
done
# kernel lines would split GUEST lines from here on
dmesg -n 1

i=0
while [ ! -e /sys/class/net/eth0 ] && [ "$i" -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
echo "GUEST eth0=$([ -e /sys/class/net/eth0 ] && cat /sys/class/net/eth0/address || echo missing)"

# udhcpc hands the lease to a script; this one applies it and reports it.
cat >/etc/udhcpc/apply.sh <<'SCRIPT'
#!/bin/sh
case "$1" in
bound | renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    for r in $router; do ip route add default via "$r" dev "$interface"; break; done
    echo "GUEST dhcp_ip=$ip"
    echo "GUEST dhcp_router=$router"
    echo "GUEST dhcp_dns=$dns"
    ;;
esac
SCRIPT
chmod +x /etc/udhcpc/apply.sh
ip link set lo up
ip link set eth0 up
if udhcpc -i eth0 -s /etc/udhcpc/apply.sh -q -n -t 5 -T 2 >/tmp/udhcpc.log 2>&1; then
    echo "GUEST dhcp=ok"
    grep '^GUEST ' /tmp/udhcpc.log # what the script saw of the lease
else
    echo "GUEST dhcp=failed"
    sed 's/^/GUEST udhcpc: /' /tmp/udhcpc.log
fi

# NAT: the guest opens the connection, slirp makes it from L1's own sockets.
reply=$(echo "guest-$token" | timeout 30 nc -w 10 "$host" "$port" 2>&1)
echo "GUEST nat_reply=$(echo "$reply" | head -n 1)"

# hostfwd: L1 connects to its forwarded port, slirp brings it here.
(echo "guest-fwd-$token" | timeout 60 nc -l -p "$guest_port" >/tmp/fwd.in 2>&1
    echo "$?" >/tmp/fwd.rc) &
sleep 0.5
echo "GUEST hostfwd_ready"
i=0
while [ ! -f /tmp/fwd.rc ] && [ "$i" -lt 600 ]; do
    sleep 0.1
    i=$((i + 1))
done
echo "GUEST hostfwd_got=$(head -n 1 /tmp/fwd.in 2>/dev/null)"
echo "GUEST rx_bytes=$(cat /sys/class/net/eth0/statistics/rx_bytes)"
echo "GUEST tx_bytes=$(cat /sys/class/net/eth0/statistics/tx_bytes)"
sync
poweroff -f
echo "GUEST poweroff failed"
exit 1
