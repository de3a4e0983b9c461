#!/usr/bin/env bash
# Wakes an L1 that sleeps through an interrupt QEMU never handed to its vCPU.
#
#   tests/harness/l1-wake.sh MONITOR_SOCKET CONSOLE_LOG
#
# QEMU 7.2's TCG, running L1 on an emulated AMD CPU with SVM, now and then leaves an
# interrupt pending in L1's local APIC without telling the vCPU. A halted vCPU then
# sleeps until some other interrupt comes: in an idle L1, for good. A running one goes
# on without it: one was seen spinning in stop_machine_yield for 200 s with interrupts
# on and the timer's vector pending, waiting for what that interrupt would have brought
# (docs/harness.md). Each 5 s in which CONSOLE_LOG did not grow, this asks QEMU's
# monitor for L1's registers and local APIC. When two looks in a row find interrupts
# enabled and the same deliverable vector pending, and the vCPU halted, or running at the
# same RIP both times (a CPU takes such a vector before its next instruction, so a vCPU
# that spins on with it pending was never offered it), it presses a key (IRQ 1: any new external interrupt makes QEMU look at the
# APIC again) and prints one line saying so. It runs until it is killed; callers start
# it beside QEMU (with -monitor unix:MONITOR_SOCKET,server=on,wait=off) and kill it
# afterwards.
set -u
mon=$1
log=$2
command -v socat >/dev/null || exit 0

ask() { "$(dirname "$0")/qemu-monitor.sh" "$mon" "$@"; }

# wedged: the vector L1's vCPU should be taking, or nothing: interrupts enabled
# (RFLAGS.IF), and the highest vector in IRR in a priority class above the processor
# priority, so the APIC would deliver it. Prints "VECTOR halted" or "VECTOR running@RIP":
# a running vCPU counts as wedged only where two looks find it at the same RIP, spinning
# (a busy one, or one running L2, is elsewhere each time, and may just be between the
# timer's tick and its delivery when a look comes).
wedged() {
    local dump rfl irr=0 ppr=0 v state=running
    dump=$(ask 'info registers' 'info lapic')
    [[ $dump =~ RFL=([0-9a-f]{8})[^$'\n']*HLT=([01]) ]] || return 0
    rfl=$((16#${BASH_REMATCH[1]}))
    [ "${BASH_REMATCH[2]}" = 0 ] || state=halted
    [ "$state" = halted ] || [[ ! $dump =~ RIP=([0-9a-f]+) ]] || state=running@${BASH_REMATCH[1]}
    [[ $dump =~ $'\n'[[:space:]]*IRR[[:space:]]+([0-9 ]+) ]] || return 0
    for v in ${BASH_REMATCH[1]}; do
        [ "$v" -le "$irr" ] || irr=$v
    done
    [[ $dump =~ PPR\ 0x([0-9a-f]+) ]] && ppr=$((16#${BASH_REMATCH[1]}))
    if [ $((rfl & 0x200)) != 0 ] && [ "$irr" -ge 16 ] && [ $((irr & 0xf0)) -gt $((ppr & 0xf0)) ]; then
        echo "$irr $state"
    fi
}

# Ends with the script that started it, even one that died without stopping it: a
# waker left behind would hold that script's lock files and keep other runs waiting.
parent=$PPID
last_size=-1
seen=
while kill -0 "$parent" 2>/dev/null && sleep 5; do
    size=$(stat -c %s "$log" 2>/dev/null || echo -1)
    if [ "$size" != "$last_size" ] || [ ! -S "$mon" ]; then
        last_size=$size
        seen=
        continue
    fi
    vector=$(wedged)
    if [ -n "$vector" ] && [ "$vector" = "$seen" ]; then
        ask 'sendkey shift' >/dev/null
        state=${vector#* }
        echo "L1 was ${state%@*} with vector ${vector%% *} pending in its local APIC, undelivered; woke it with a key press at $(date +%T)"
        vector=
    fi
    seen=$vector
done
