#!/bin/sh
# Scenario "api" (runs inside L1): --api-socket and `vmm ctl` on a running
# Linux guest (guest-init/api-check.sh, 2 vCPUs, 256M), which prints
# "tick N UPTIME" every 0.2 s. Lines, one PASS/FAIL each:
#   "api ping-info"  ping answers the version; info says "running"; the socket
#                    is a socket of mode 0600
#   "api pause"      pause answers 200; for 5 s the console does not grow by a
#                    byte; info says "paused"; a second pause is refused (409);
#                    after resume the ticks go on, and the guest's uptime from
#                    the last tick before the pause to the first after it grew
#                    by less than 1 s plus one tick interval
#   "api bad-requests" an unknown path (404), a wrong method (405), a body that
#                    is not JSON (400), a 70000-byte body (413) and resume
#                    while running (409) are each answered with a JSON error,
#                    and the guest goes on ticking
#   "api stop"       power-button makes the guest power off when its kernel
#                    has the ACPI fixed power button's event device (else
#                    shutdown stops the VM); the VMM exits 0 and the socket
#                    is gone
# Env (set by host-init.sh): VMM GUEST_KERNEL GUEST_INITRD_DIR LOG_DIR
#   HARNESS_TIMEOUT HARNESS_VERBOSE
. /lib/harness/scenario.sh
name=api
limit=${HARNESS_TIMEOUT:-120}
sock=/tmp/api.sock
failed=0

ctl() { "$VMM" ctl "$sock" "$@" >/tmp/api.out 2>/tmp/api.err; }
# ticks: the console's tick lines, as "N UPTIME"
ticks() { tr -d '\r' <"$out" | sed -n 's/^tick \([0-9]*\) \([0-9.]*\)$/\1 \2/p'; }
# expect_refusal STATUS ARGS...: ctl ARGS is refused with STATUS and a JSON error
expect_refusal() {
    want=$1
    shift
    ctl "$@"
    c_rc=$?
    check '[ "$c_rc" = 1 ]' "ctl $*: exit status $c_rc (want 1)"
    check 'grep -q "^vmm ctl: $want " /tmp/api.err' "ctl $*: $(cat /tmp/api.err) (want $want)"
    check 'grep -q "^{\"error\": \"" /tmp/api.out' "ctl $*: answered $(head -c 200 /tmp/api.out)"
}

rm -f "$sock"
vmm_start "$name" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD_DIR/api-check.cpio.gz" \
    --cmdline "console=ttyS0 panic=-1 reboot=k" --cpus 2 --memory 256M --api-socket "$sock"
if ! console_wait '^tick 5 ' "$limit"; then
    vmm_wait 10
    check false "the guest never ticked 5 times"
    finish "$name"
    exit 1
fi

# ping and info
ctl ping
check 'grep -q "\"version\": \"" /tmp/api.out' "ping answered $(cat /tmp/api.out /tmp/api.err)"
ctl info
check 'grep -q "\"state\": \"running\"" /tmp/api.out' "info answered $(head -c 300 /tmp/api.out)"
check 'grep -q "\"cpus\": 2" /tmp/api.out' "info does not say 2 vCPUs"
mode=$(ls -l "$sock" | cut -c1-10)
check '[ "$mode" = srw------- ]' "the socket is $mode (want srw-------)"
finish "$name ping-info" || failed=1

# pause: nothing on the console for 5 s, the guest's clock stopped
why=
before=$(ticks | tail -n 2)
ctl pause
check 'grep -q "\"state\": \"paused\"" /tmp/api.out' "pause answered $(cat /tmp/api.out /tmp/api.err)"
size1=$(wc -c <"$out")
last=$(ticks | tail -n 1)
sleep 5
size2=$(wc -c <"$out")
check '[ "$size1" = "$size2" ]' "the console grew by $((size2 - size1)) bytes while paused"
ctl info
check 'grep -q "\"state\": \"paused\"" /tmp/api.out' "info while paused: $(head -c 200 /tmp/api.out)"
expect_refusal 409 pause
ctl resume
check 'grep -q "\"state\": \"running\"" /tmp/api.out' "resume answered $(cat /tmp/api.out /tmp/api.err)"
n=${last%% *}
if console_wait "^tick $((n + 1)) " 30; then
    next=$(ticks | awk -v n=$((n + 1)) '$1 == n')
    # one tick interval as the guest measured it just before the pause
    interval=$(echo "$before" | awk 'NR == 1 { a = $2 } NR == 2 { print $2 - a }')
    gain=$(awk -v a="${last#* }" -v b="${next#* }" 'BEGIN { printf "%.2f", b - a }')
    echo "$run: guest uptime across the 5 s pause: +$gain s (tick interval before it: ${interval:-?} s)"
    check 'awk -v g="$gain" -v i="${interval:-0.2}" "BEGIN { exit !(g < 1 + i) }"' \
        "the guest's clock gained $gain s across a 5 s pause"
else
    check false "no tick after resume"
fi
finish "$name pause" "uptime +${gain:-?} s across 5 s" || failed=1

# bad requests: answered, and the guest goes on
why=
expect_refusal 404 request GET /api/v1/no.such
expect_refusal 404 request GET /elsewhere
expect_refusal 405 request GET /api/v1/vm.pause
expect_refusal 405 request PUT /api/v1/vm.info
expect_refusal 400 request PUT /api/v1/vm.pause '{"not json'
expect_refusal 400 request PUT /api/v1/vm.pause '{"paused": true}'
expect_refusal 413 request PUT /api/v1/vm.pause "$(head -c 70000 /dev/zero | tr '\0' a)"
expect_refusal 409 resume
n=$(ticks | tail -n 1 | cut -d' ' -f1)
check 'console_wait "^tick $((n + 2)) " 30' "the guest stopped ticking after the bad requests"
ctl info
check 'grep -q "\"state\": \"running\"" /tmp/api.out' "info after them: $(head -c 200 /tmp/api.out)"
finish "$name bad-requests" || failed=1

# stop: the power button if the guest can hear it, else shutdown
why=
button=$(tr -d '\r' <"$out" | sed -n 's/^GUEST power_button=//p' | head -n1)
echo "$run: the guest's power button: $button"
ctl power-button
c_rc=$?
check '[ "$c_rc" = 0 ]' "power-button: $(cat /tmp/api.err)"
how=power-button
case $button in
/dev/*) console_wait '^GUEST power button pressed' 30 || check false "the guest never saw the press" ;;
*)
    how=shutdown
    ctl shutdown
    c_rc=$?
    check '[ "$c_rc" = 0 ]' "shutdown: $(cat /tmp/api.err)"
    ;;
esac
vmm_wait 60
check '[ "$timed_out" = 0 ]' "the VMM did not exit within 60 s of $how"
check '[ "$rc" = 0 ]' "VMM exit status $rc (want 0)"
check '[ ! -e "$sock" ]' "the socket is still there after exit"
finish "$name stop" "by $how" || failed=1
exit "$failed"
