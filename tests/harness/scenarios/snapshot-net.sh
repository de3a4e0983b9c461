#!/bin/sh
# Scenario "snapshot-net" (runs inside L1): vm.snapshot of a guest whose virtio-net
# is live, and --restore with its network back (guest-init/snapshot-net.sh, 1 vCPU,
# 256M). The guest fetches a blob from L1's busybox httpd every 0.5 s and checks
# its SHA-256, and serves a blob of its own on port 8080. Two modes:
#   user  --net user,hostfwd=tcp::2281-:8080 (the dynamic /usr/bin/vmm: libslirp);
#         L1 reaches the guest's server at 127.0.0.1:2281
#   tap   --net tap=vmmtap5 (a TAP made here, 10.0.3.1/24; the guest 10.0.3.2)
# The guest also starts one download of the blob from /cgi-bin/held, which sends
# half and then waits for L1's word. In each mode: once the guest's fetches are
# ok, its download is held halfway and L1 got the guest's blob, L1 takes a
# snapshot, checks the VM is paused, kills the VMM with SIGKILL, restores with
# the same --net (no mac=: the restored NIC must take the saved one), and lets
# the held download go on. Lines:
#   "snapshot-net MODE save"     200, paused, L1 fetched the guest's blob before
#   "snapshot-net MODE restore"  (tap, with /dev/vhost-net: a restore with
#                                vhost=on is refused, status 2) three
#                                fetches ok after the restore (one cut by
#                                the snapshot may fail: a new user network
#                                forgets the connection), L1 fetches the guest's
#                                blob again, same SHA-256; tap: the held
#                                download completes with the right SHA-256
#                                (its connection lived across the snapshot);
#                                the guest's driver acknowledged the announce
#                                the restore asked for (ctl info: announce_acks
#                                1, and 0 before the snapshot); vm.shutdown:
#                                status 0
# Env (set by host-init.sh): VMM GUEST_KERNEL GUEST_INITRD_DIR LOG_DIR
#   HARNESS_TIMEOUT HARNESS_VERBOSE
. /lib/harness/scenario.sh
name=snapshot-net
limit=${HARNESS_TIMEOUT:-120}
sock=/tmp/snapshot-net.sock
dir=/tmp/snapshot-net.d
www=/tmp/snapshot-net.www
tap=vmmtap5
failed=0
static_vmm=$VMM
ip link set lo up
mkdir -p "$www"
head -c 262144 /dev/urandom >"$www/blob"
sha=$(sha256sum "$www/blob" | cut -c1-64)
# /cgi-bin/held: the blob's first half, then nothing until $www/go exists, then the rest
mkdir -p "$www/cgi-bin"
cat >"$www/cgi-bin/held" <<EOF
#!/bin/sh
printf 'Content-Type: application/octet-stream\r\n\r\n'
head -c 131072 "$www/blob"
touch "$www/held"
i=0
while [ ! -f "$www/go" ] && [ "\$i" -lt 3000 ]; do
    sleep 0.1
    i=\$((i + 1))
done
tail -c +131073 "$www/blob"
EOF
chmod +x "$www/cgi-bin/held"
# -f: httpd stays a child of ours (killed at the end), holding none of our descriptors
httpd -f -p 8000 -h "$www" </dev/null >/dev/null 2>&1 &
httpd_pid=$!

ctl() { "$static_vmm" ctl "$sock" "$@" >/tmp/snapshot-net.out 2>/tmp/snapshot-net.err; }
oks() { tr -d '\r' <"$out" | grep -c '^fetch [0-9]* ok'; }
last_fetch() { tr -d '\r' <"$out" | sed -n 's/^fetch \([0-9]*\) .*/\1/p' | tail -n 1; }
# fetch_guest ADDR: the guest's blob as L1 sees it, by its SHA-256
fetch_guest() {
    rm -f /tmp/snapshot-net.got
    timeout 30 wget -q -O /tmp/snapshot-net.got "http://$1/blob" 2>/dev/null
    sha256sum /tmp/snapshot-net.got 2>/dev/null | cut -c1-64
}
acks() { # the NIC's announce_acks as ctl info reports it, empty if none
    ctl info && sed -n 's/.*"announce_acks": \([0-9]*\).*/\1/p' /tmp/snapshot-net.out | head -n 1
}
wait_oks() { # N SECS: until N fetches are ok on this console
    deadline=$(($(cut -d. -f1 /proc/uptime) + $2))
    while [ "$(oks)" -lt "$1" ]; do
        vmm_alive && [ "$(cut -d. -f1 /proc/uptime)" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

for mode in user tap; do
    if [ "$mode" = user ]; then
        if [ ! -x /usr/bin/vmm ]; then
            echo "SKIP: $name user: no dynamic VMM in L1 (build/vmm missing when the image was made)"
            continue
        fi
        VMM=/usr/bin/vmm
        net="user,hostfwd=tcp::2281-:8080" fwd=127.0.0.1:2281
        cmd="net.mode=user net.host=10.0.2.2"
    else
        VMM=$static_vmm
        if [ ! -c /dev/net/tun ] || ! tunctl -t "$tap" >/dev/null; then
            echo "SKIP: $name tap: L1 cannot make a TAP (/dev/net/tun, tunctl)"
            continue
        fi
        ip addr add 10.0.3.1/24 dev "$tap"
        ip link set "$tap" up
        net="tap=$tap" fwd=10.0.3.2:8080
        cmd="net.mode=tap net.ip=10.0.3.2 net.host=10.0.3.1"
    fi
    rm -rf "$dir" "$sock" "$www/held" "$www/go"
    mkdir -p "$dir"
    vmm_start "$name-$mode-save" --kernel "$GUEST_KERNEL" \
        --initrd "$GUEST_INITRD_DIR/snapshot-net.cpio.gz" \
        --cmdline "console=ttyS0 panic=-1 reboot=k $cmd net.sha256=$sha" \
        --cpus 1 --memory 256M --net "$net" --api-socket "$sock"
    held_wait=0
    while [ ! -f "$www/held" ] && [ "$held_wait" -lt $((limit * 5)) ] && vmm_alive; do
        sleep 0.2
        held_wait=$((held_wait + 1))
    done
    if ! wait_oks 3 "$limit" || [ ! -f "$www/held" ]; then
        touch "$www/go"
        vmm_wait 10
        check false "the guest never had three fetches ok and its download under way"
        finish "$name $mode save"
        failed=1
        continue
    fi
    tr -d '\r' <"$out" >"$out.txt"
    guest_sha=$(guest_value blob_sha256)
    before=$(fetch_guest "$fwd")
    check '[ -n "$guest_sha" ] && [ "$before" = "$guest_sha" ]' "L1 got '$before' from the guest's server before the snapshot (want $guest_sha)"
    acks_before=$(acks)
    check '[ "$acks_before" = 0 ]' "before the snapshot, announce_acks is '${acks_before}' (want 0: only a restore asks)"
    ctl snapshot "$dir"
    c_rc=$?
    check '[ "$c_rc" = 0 ]' "snapshot: $(cat /tmp/snapshot-net.out /tmp/snapshot-net.err)"
    check 'grep -q "\"state\": \"paused\"" /tmp/snapshot-net.out' "snapshot answered $(cat /tmp/snapshot-net.out)"
    saved=$(last_fetch)
    kill -9 "$vmm_pid"
    vmm_wait 10
    finish "$name $mode save" "at fetch $saved" || failed=1

    why=
    if [ "$mode" = tap ] && [ -c /dev/vhost-net ]; then
        # vhost-net cannot take over rings the VMM's threads were serving
        vmm_refused "$name-vhost" --restore "source_url=file://$dir" --cpus 1 --memory 256M \
            --net "$net,vhost=on"
        check '[ "$rc" = 2 ] && echo "$refusal" | grep -q "vhost=on cannot take over"' "a restore with vhost=on: status $rc, $refusal"
    fi
    rm -f "$sock"
    vmm_start "$name-$mode-restore" --restore "source_url=file://$dir" --cpus 1 --memory 256M \
        --net "$net" --api-socket "$sock"
    touch "$www/go" # the held download goes on
    wait_oks 3 "$limit" || check false "fewer than three fetches ok after the restore ($(oks))"
    if [ "$mode" = tap ]; then
        # the TAP and L1's end of the connection outlived the VMM: it must complete
        console_wait '^bulk ' "$limit"
        bulk=$(tr -d '\r' <"$out" | grep '^bulk ' | head -n 1)
        check 'echo "$bulk" | grep -q "^bulk ok"' "the download held across the snapshot: ${bulk:-no result}"
    else
        bulk="(user: not kept)"
    fi
    tr -d '\r' <"$out" >"$out.txt"
    bad=$(grep -c '^fetch [0-9]* BAD' "$out.txt")
    check '[ "$bad" -le 1 ]' "$bad fetches failed after the restore: $(grep '^fetch [0-9]* BAD' "$out.txt" | head -n 3)"
    first=$(sed -n 's/^fetch \([0-9]*\) .*/\1/p' "$out.txt" | head -n 1)
    check '[ "${first:-0}" -ge "${saved:-0}" ]' "the restored guest's first fetch is ${first:-none}, the snapshot was at ${saved:-none}"
    after=$(fetch_guest "$fwd")
    check '[ -n "$guest_sha" ] && [ "$after" = "$guest_sha" ]' "L1 got '$after' from the guest's server after the restore (want $guest_sha)"
    check 'grep -q "mac .* as saved" "$err"' "the restored NIC did not take the saved MAC ($(grep 'virtio-net0' "$err" | head -n 2 | tr '\n' ' '))"
    # GUEST_ANNOUNCE: the restore set the status bit and the driver, having sent its
    # gratuitous ARP, acknowledged on the control queue (long done: fetches went on since)
    acked=$(acks)
    check '[ "$acked" = 1 ]' "the restored guest's announce_acks is '${acked}' (want 1)"
    ctl shutdown
    vmm_wait 30
    check '[ "$rc" = 0 ]' "VMM exit status $rc after vm.shutdown (want 0)"
    finish "$name $mode restore" "fetches $first..$(last_fetch), $bad cut, held download: $bulk, guest's blob $after, announce acks $acks_before then $acked" || failed=1
    [ "$mode" != tap ] || ip link set "$tap" down
done
kill "$httpd_pid" 2>/dev/null
exit "$failed"
