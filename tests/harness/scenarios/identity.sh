#!/bin/sh
# Scenario "identity" (runs inside L1): a VM that knows it is one, and which
# one. Boots the identity-check guest three times on 1 vCPU and 256M:
#   --uuid 12345678-9abc-4def-8123-456789abcdef --name identity-test
#       "identity uuid": the guest's /sys/class/dmi/id/product_uuid is that
#       UUID (Linux prints it in lower case), product_name is identity-test,
#       sys_vendor is minivmm, chassis_type is 1 (Other);
#   twice without --uuid
#       "identity random-uuid": each guest's product_uuid is the UUID its VMM
#       printed as "vmm: uuid <text>" on stderr, and the two differ;
#   all three
#       "identity hypervisor-flag": /proc/cpuinfo has the "hypervisor" flag.
# Every run must end with VMM exit status 0 (ACPI power-off).
# Env (set by host-init.sh): VMM GUEST_KERNEL GUEST_INITRD_DIR LOG_DIR
#   HARNESS_TIMEOUT (seconds, default 120; each run here gets at most 60)
#   HARNESS_VERBOSE (1: print full logs)
. /lib/harness/scenario.sh # vmm_status_why
name=identity
limit=${HARNESS_TIMEOUT:-120}
[ "$limit" -le 60 ] || limit=60
uuid=12345678-9abc-4def-8123-456789abcdef
vm_name=identity-test

# boot LABEL [VMM options...]: one run of the guest; logs in
# $LOG_DIR/identity-LABEL.console (.txt without CRs) and .vmm; sets rc_LABEL.
boot() {
    label=$1
    shift
    out=$LOG_DIR/$name-$label.console
    err=$LOG_DIR/$name-$label.vmm
    t0=$(cut -d' ' -f1 /proc/uptime)
    timeout -k 5 "$limit" "$VMM" --kernel "$GUEST_KERNEL" \
        --initrd "$GUEST_INITRD_DIR/identity-check.cpio.gz" \
        --cmdline "console=ttyS0 panic=-1 reboot=k" --cpus 1 --memory 256M "$@" \
        >"$out" 2>"$err" </dev/null
    rc=$?
    t1=$(cut -d' ' -f1 /proc/uptime)
    tr -d '\r' <"$out" >"$out.txt"
    eval "rc_$(echo "$label" | tr - _)=$rc"
    grep -E '^GUEST ' "$out.txt"
    grep -E '^vmm: ' "$err"
    echo "$name-$label: VMM exited with status $rc after $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") s (L1 time)"
}

# value LABEL KEY: the guest's GUEST KEY=... line of run LABEL.
value() {
    sed -n "s/^GUEST $2=//p" "$LOG_DIR/$name-$1.console.txt" | head -n1
}

# The UUID the VMM of run LABEL said it gave the guest.
vmm_uuid() {
    sed -n 's/^vmm: uuid \([0-9a-fA-F-]*\).*/\1/p' "$LOG_DIR/$name-$1.vmm" | head -n1
}

# status_why LABEL: why run LABEL did not end well, or nothing.
status_why() {
    eval "rc=\$rc_$(echo "$1" | tr - _)"
    vmm_status_why "$rc" "$limit" | sed "s/^; /; $1: /"
    [ "$(value "$1" dmi)" = 1 ] || echo "; $1: no /sys/class/dmi/id in the guest"
}

# fail_logs LABEL...: the last lines of each run's console and VMM log.
fail_logs() {
    [ "${HARNESS_VERBOSE:-0}" != 1 ] || return 0
    for l in "$@"; do
        echo "--- $name-$l: last 40 lines of the guest console"
        tail -n 40 "$LOG_DIR/$name-$l.console.txt" | sed 's/^/| /'
        echo "--- $name-$l: last 40 lines of the VMM log"
        tail -n 40 "$LOG_DIR/$name-$l.vmm" | sed 's/^/| /'
    done
}

boot fixed --uuid "$uuid" --name "$vm_name"
boot random-a
boot random-b

if [ "${HARNESS_VERBOSE:-0}" = 1 ]; then
    for l in fixed random-a random-b; do
        echo "--- $name-$l: guest console"
        sed 's/^/| /' "$LOG_DIR/$name-$l.console.txt"
        echo "--- $name-$l: VMM log"
        sed 's/^/| /' "$LOG_DIR/$name-$l.vmm"
    done
fi
failed=0

# (a) The UUID and name given on the command line.
why=$(status_why fixed)
got=$(value fixed product_uuid)
[ "$got" = "$uuid" ] || why="$why; product_uuid=${got:-missing} (want $uuid)"
got=$(value fixed product_name)
[ "$got" = "$vm_name" ] || why="$why; product_name=${got:-missing} (want $vm_name)"
got=$(value fixed sys_vendor)
[ "$got" = minivmm ] || why="$why; sys_vendor=${got:-missing} (want minivmm)"
got=$(value fixed chassis_type)
[ "$got" = 1 ] || why="$why; chassis_type=${got:-missing} (want 1, Other)"
got=$(vmm_uuid fixed)
[ -z "$got" ] || [ "$got" = "$uuid" ] || why="$why; the VMM printed 'vmm: uuid $got'"
if [ -n "$why" ]; then
    echo "FAIL: $name uuid: ${why#; }"
    fail_logs fixed
    failed=1
else
    echo "PASS: $name uuid"
fi

# (b) A fresh random UUID per start, the one the VMM printed.
why=
for l in random-a random-b; do
    why="$why$(status_why $l)"
    want=$(vmm_uuid $l | tr 'A-F' 'a-f')
    got=$(value $l product_uuid)
    if [ -z "$want" ]; then
        why="$why; $l: no 'vmm: uuid' line on the VMM's stderr"
    elif [ "$got" != "$want" ]; then
        why="$why; $l: product_uuid=${got:-missing} but the VMM printed $want"
    fi
done
u1=$(value random-a product_uuid)
u2=$(value random-b product_uuid)
if [ -n "$u1" ] && [ "$u1" = "$u2" ]; then
    why="$why; both starts gave the guest $u1"
fi
if [ -n "$why" ]; then
    echo "FAIL: $name random-uuid: ${why#; }"
    fail_logs random-a random-b
    failed=1
else
    echo "PASS: $name random-uuid"
fi

# (c) CPUID says "hypervisor" in every run.
why=
for l in fixed random-a random-b; do
    got=$(value $l hypervisor_flag)
    [ "$got" = 1 ] || why="$why; $l: hypervisor_flag=${got:-missing}"
done
if [ -n "$why" ]; then
    echo "FAIL: $name hypervisor-flag: ${why#; }"
    failed=1
else
    echo "PASS: $name hypervisor-flag"
fi
exit "$failed"
