#!/bin/sh
# Scenario "vmlinux" (runs inside L1): the boot scenario (2 vCPUs, 512M, both
# CPUs, the memory, no ACPI errors, the boot marker, power-off with status 0)
# with the guest kernel as an uncompressed ELF vmlinux, unpacked from the same
# bzImage by tests/harness/vmlinux.sh; plus the kernel's banner with L1's
# release (L1 runs the same kernel), and `vmm run --kernel vmlinux -- uname -r`,
# which must print the release: `vmm run` reads it from the ELF's banner to
# find the guest's modules. Timing the two formats belongs to bench/vm.sh.
# Env (set by host-init.sh): VMM GUEST_VMLINUX LOG_DIR HARNESS_TIMEOUT
#   HARNESS_VERBOSE, and boot.sh's
name=vmlinux
limit=${HARNESS_TIMEOUT:-120}
release=$(uname -r)
why=

if [ ! -f "$GUEST_VMLINUX" ]; then
    echo "SKIP: $name: no $GUEST_VMLINUX in L1 (tests/harness/vmlinux.sh could not unpack the bzImage; see the harness's output)"
    exit 0
fi
echo "$name: $GUEST_VMLINUX, $(wc -c <"$GUEST_VMLINUX") bytes"

# its own PASS/FAIL line: vmlinux-boot
BOOT_NAME=vmlinux-boot BOOT_KERNEL=$GUEST_VMLINUX sh /scenarios/boot.sh ||
    why="$why; the boot checks failed (above)"
grep -q "Linux version $release " "$LOG_DIR/vmlinux-boot.console.txt" ||
    why="$why; no 'Linux version $release' banner on the console"

# vmm run: the release from the ELF banner finds L1's /lib/modules/RELEASE
t0=$(cut -d' ' -f1 /proc/uptime)
timeout -k 5 "$limit" "$VMM" run --kernel "$GUEST_VMLINUX" -- uname -r \
    >"$LOG_DIR/vmlinux-run.out" 2>"$LOG_DIR/vmlinux-run.err" </dev/null
rc=$?
t1=$(cut -d' ' -f1 /proc/uptime)
echo "vmlinux-run: vmm run -- uname -r exited with status $rc after $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") s, stdout '$(tr '\n' '|' <"$LOG_DIR/vmlinux-run.out")'"
[ "$rc" = 0 ] || why="$why; vmm run: status $rc (want 0)"
[ "$(cat "$LOG_DIR/vmlinux-run.out")" = "$release" ] ||
    why="$why; vmm run: stdout is not the release $release"

if [ -n "$why" ]; then
    echo "FAIL: $name: ${why#; }"
    if [ "${HARNESS_VERBOSE:-0}" != 1 ]; then
        echo "--- $name: vmm run's stderr"
        tail -n 20 "$LOG_DIR/vmlinux-run.err" | sed 's/^/| /'
    fi
    exit 1
fi
echo "PASS: $name"
