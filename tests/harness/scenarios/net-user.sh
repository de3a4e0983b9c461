#!/bin/sh
# Scenario "net-user" (runs inside L1): user-mode networking (--net user,
# libslirp) end to end. The static /vmm has no libslirp, so this runs the
# dynamic build, which run.sh copies with its libraries to /usr/bin/vmm.
#   DHCP:    the guest's udhcpc gets 10.0.2.15, router 10.0.2.2, DNS 10.0.2.3;
#   NAT:     L1 listens on 127.0.0.1:7777 (busybox nc); the guest connects to
#            10.0.2.2:7777 and the two exchange a line each;
#   hostfwd: --net user,hostfwd=tcp::HOSTPORT-:8080; the guest listens on
#            8080; L1 connects to 127.0.0.1:HOSTPORT and a line goes each way.
# Env (set by host-init.sh): GUEST_KERNEL GUEST_INITRD_DIR LOG_DIR
#   HARNESS_TIMEOUT (seconds, default 120) HARNESS_VERBOSE (1: print full logs)
. /lib/harness/scenario.sh # vmm_status_why
name=net-user
vmm=/usr/bin/vmm
out=$LOG_DIR/$name.console
err=$LOG_DIR/$name.vmm
limit=${HARNESS_TIMEOUT:-120}
[ "$limit" -le 90 ] || limit=90
nat_port=7777
fwd_port=2280
token=$(cut -c1-8 /proc/sys/kernel/random/uuid)

if [ ! -x "$vmm" ]; then
    echo "SKIP: $name: no dynamic VMM in L1 (build/vmm missing when the image was made)"
    exit 0
fi
ip link set lo up

# L1's server for the NAT check: one connection, a line each way.
# Its own output goes to files: a child holding the scenario's stdout would keep
# host-init.sh's tee waiting after a failure.
(echo "l1-$token" | timeout -k 2 "$limit" nc -l -p "$nat_port" >"$LOG_DIR/$name.nat.in" 2>&1
    echo "$?" >"$LOG_DIR/$name.nat.rc") >/dev/null 2>&1 &
server_pid=$!

t0=$(cut -d' ' -f1 /proc/uptime)
timeout -k 5 "$limit" "$vmm" --kernel "$GUEST_KERNEL" \
    --initrd "$GUEST_INITRD_DIR/net-user.cpio.gz" \
    --cmdline "console=ttyS0 panic=-1 reboot=k net.host=10.0.2.2 net.port=$nat_port net.guest_port=8080 net.token=$token" \
    --cpus 1 --memory 256M --net "user,hostfwd=tcp::$fwd_port-:8080" \
    >"$out" 2>"$err" </dev/null &
vmm_pid=$!

# Once the guest listens, L1 connects to its end of the forwarded port.
fwd_reply=
i=0
while kill -0 "$vmm_pid" 2>/dev/null && [ "$i" -lt $((limit * 5)) ]; do
    if grep -q '^GUEST hostfwd_ready' "$out" 2>/dev/null; then
        fwd_reply=$(echo "l1-fwd-$token" | timeout 30 nc -w 10 127.0.0.1 "$fwd_port" 2>&1 | head -n 1)
        break
    fi
    sleep 0.2
    i=$((i + 1))
done
wait "$vmm_pid"
rc=$?
kill "$server_pid" 2>/dev/null
t1=$(cut -d' ' -f1 /proc/uptime)
secs=$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }")
tr -d '\r' <"$out" >"$out.txt"

grep -E '^GUEST ' "$out.txt"
grep -E '^vmm: ' "$err"
echo "$name: L1 got through hostfwd: ${fwd_reply:-nothing}"
echo "$name: L1's NAT server got: $(head -n 1 "$LOG_DIR/$name.nat.in" 2>/dev/null)"
echo "$name: VMM exited with status $rc after $secs s (L1 time)"

value() { sed -n "s/^GUEST $1=//p" "$out.txt" | head -n1; }
why=$(vmm_status_why "$rc" "$limit")
[ "$(value dhcp)" = ok ] || why="$why; dhcp=$(value dhcp)"
[ "$(value dhcp_ip)" = 10.0.2.15 ] || why="$why; dhcp_ip=$(value dhcp_ip) (want 10.0.2.15)"
[ "$(value dhcp_router)" = 10.0.2.2 ] || why="$why; dhcp_router=$(value dhcp_router)"
[ "$(value dhcp_dns)" = 10.0.2.3 ] || why="$why; dhcp_dns=$(value dhcp_dns)"
[ "$(value nat_reply)" = "l1-$token" ] || why="$why; guest got '$(value nat_reply)' from L1 (NAT)"
[ "$(head -n 1 "$LOG_DIR/$name.nat.in" 2>/dev/null)" = "guest-$token" ] ||
    why="$why; L1's server did not get the guest's line (NAT)"
[ "$fwd_reply" = "guest-fwd-$token" ] || why="$why; L1 got '$fwd_reply' through hostfwd"
[ "$(value hostfwd_got)" = "l1-fwd-$token" ] ||
    why="$why; guest got '$(value hostfwd_got)' through hostfwd"
grep -q '^vmm: virtio-net0: mac .* on user' "$err" || why="$why; no 'virtio-net0 ... on user' line"

run=$name # finish's headings
finish "$name" || exit 1
