#!/bin/sh
# L2 /init for the snapshot-net scenario (tests/harness/scenarios/snapshot-net.sh):
# a guest whose network is busy when it is snapshotted, and must work after the
# restore without its driver being reset.
#   net.mode=user: udhcpc takes the lease from libslirp (10.0.2.15)
#   net.mode=tap:  a static address, net.ip=A/24
# Then it serves a blob of its own with busybox httpd on port 8080 (L1 fetches it
# through hostfwd or the TAP; its SHA-256 is printed as GUEST blob_sha256=) and,
# every 0.5 s, fetches http://net.host:8000/blob from L1 and checks it against
# net.sha256, printing "fetch N ok UPTIME" or "fetch N BAD why". A fetch cut by
# the snapshot (its TCP connection does not survive a new user network) is BAD
# once; the scenario wants the fetches after the restore to be ok. Beside them,
# one download of the same blob (/cgi-bin/held, which L1 holds halfway until
# after the restore) prints "bulk ok" or "bulk BAD why" when it ends.
# Kernel command line: net.mode=user|tap net.ip=A net.host=A net.sha256=H
# harness-modules: virtio_pci virtio_net
. /lib/harness/prologue.sh # boot marker, busybox applets, /dev /proc /sys
mkdir -p /tmp /etc/udhcpc /www

mode=user ip= host=10.0.2.2 sha=none
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    net.mode=*) mode=${arg#net.mode=} ;;
    net.ip=*) ip=${arg#net.ip=} ;;
    net.host=*) host=${arg#net.host=} ;;
    net.sha256=*) sha=${arg#net.sha256=} ;;
    esac
done
for m in $(cat /lib/modules/load-order); do
    msg=$(insmod "/lib/modules/$m.ko" 2>&1) || echo "GUEST insmod $m: $msg"
done
dmesg -n 1 # kernel lines must not split the fetch lines
i=0
while [ ! -e /sys/class/net/eth0 ] && [ "$i" -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
echo "GUEST eth0=$(cat /sys/class/net/eth0/address 2>/dev/null || echo missing)"
ip link set lo up
ip link set eth0 up
if [ "$mode" = user ]; then
    cat >/etc/udhcpc/apply.sh <<'SCRIPT'
#!/bin/sh
case "$1" in
bound | renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    for r in $router; do ip route add default via "$r" dev "$interface"; break; done
    echo "GUEST dhcp_ip=$ip"
    ;;
esac
SCRIPT
    chmod +x /etc/udhcpc/apply.sh
    udhcpc -i eth0 -s /etc/udhcpc/apply.sh -q -n -t 5 -T 2 >/tmp/udhcpc.log 2>&1 ||
        echo "GUEST dhcp=failed"
    grep '^GUEST ' /tmp/udhcpc.log
else
    ip addr add "$ip/24" dev eth0
fi

head -c 262144 /dev/urandom >/www/blob
echo "GUEST blob_sha256=$(sha256sum /www/blob | cut -c1-64)"
httpd -p 8080 -h /www
echo "GUEST serving"

# One download that L1's server holds open halfway until L1 has snapshotted and
# restored the VM: a connection that lives across the snapshot.
(
    if timeout 300 wget -q -O /tmp/bulk "http://$host:8000/cgi-bin/held" 2>/tmp/bulk.err; then
        got=$(sha256sum /tmp/bulk | cut -c1-64)
        if [ "$got" = "$sha" ]; then
            echo "bulk ok $(cut -d' ' -f1 /proc/uptime)"
        else
            echo "bulk BAD sha256 $got ($(wc -c </tmp/bulk) bytes)"
        fi
    else
        echo "bulk BAD wget: $(head -n 1 /tmp/bulk.err)"
    fi
) &

n=0
while :; do
    n=$((n + 1))
    rm -f /tmp/got
    if timeout 20 wget -q -O /tmp/got "http://$host:8000/blob" 2>/tmp/wget.err; then
        got=$(sha256sum /tmp/got | cut -c1-64)
        if [ "$got" = "$sha" ]; then
            echo "fetch $n ok $(cut -d' ' -f1 /proc/uptime)"
        else
            echo "fetch $n BAD sha256 $got ($(wc -c </tmp/got) bytes)"
        fi
    else
        echo "fetch $n BAD wget: $(head -n 1 /tmp/wget.err)"
    fi
    sleep 0.5
done
