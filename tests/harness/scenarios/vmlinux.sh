#!/bin/sh
# Scenario "vmlinux" (runs inside L1): boots the guest kernel as an uncompressed
# ELF vmlinux (unpacked from the same bzImage by tests/harness/vmlinux.sh) with
# the boot-check initramfs on 2 vCPUs and 512M, and checks what the boot
# scenario checks (both CPUs, the memory, no ACPI errors, the boot marker,
# power-off with status 0) plus the kernel's banner with L1's release (L1 runs
# the same kernel). Then the bzImage boots the same way and both times from the
# VMM's start to init's boot marker are printed (not checked: timing belongs to
# bench/). Last, `vmm run --kernel vmlinux -- uname -r` must print the release:
# `vmm run` reads it from the ELF's banner to find the guest's modules.
# Env (set by host-init.sh): VMM GUEST_KERNEL GUEST_VMLINUX GUEST_INITRD_DIR
#   LOG_DIR HARNESS_TIMEOUT (seconds, default 120) HARNESS_VERBOSE
name=vmlinux
limit=${HARNESS_TIMEOUT:-120}
release=$(uname -r)
why=

if [ ! -f "$GUEST_VMLINUX" ]; then
    echo "SKIP: $name: no $GUEST_VMLINUX in L1 (tests/harness/vmlinux.sh could not unpack the bzImage; see the harness's output)"
    exit 0
fi
echo "$name: $GUEST_VMLINUX, $(wc -c <"$GUEST_VMLINUX") bytes; bzImage $(wc -c <"$GUEST_KERNEL") bytes"

# boot RUN KERNEL: the boot-check guest; sets rc, secs and marker (ms to init's marker)
boot() {
    out=$LOG_DIR/$1.console
    err=$LOG_DIR/$1.vmm
    t0=$(cut -d' ' -f1 /proc/uptime)
    timeout -k 5 "$limit" "$VMM" --kernel "$2" \
        --initrd "$GUEST_INITRD_DIR/boot-check.cpio.gz" \
        --cmdline "console=ttyS0 panic=-1 reboot=k" --cpus 2 --memory 512M \
        >"$out" 2>"$err" </dev/null
    rc=$?
    t1=$(cut -d' ' -f1 /proc/uptime)
    secs=$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }")
    tr -d '\r' <"$out" >"$out.txt"
    marker=$(sed -n 's/^vmm: boot marker 0x[0-9a-f]* at \([0-9.]*\) ms$/\1/p' "$err" | head -n1)
    grep -E '^GUEST ' "$out.txt" | sed "s/^/$1: /"
    grep -E '^vmm: ' "$err" | sed "s/^/$1: /"
    echo "$1: VMM exited with status $rc after $secs s (L1 time)"
    if [ "${HARNESS_VERBOSE:-0}" = 1 ]; then
        echo "--- $1: guest console"
        sed 's/^/| /' "$out.txt"
        echo "--- $1: VMM log"
        sed 's/^/| /' "$err"
    fi
}

value() { sed -n "s/^GUEST $1=//p" "$out.txt" | head -n1; }

boot vmlinux-boot "$GUEST_VMLINUX"
case "$rc" in
0) ;;
124 | 137 | 143) why="$why; timed out after ${limit}s" ;;
*) why="$why; exit status $rc" ;;
esac
[ "$(value nproc)" = 2 ] || why="$why; nproc=$(value nproc) (want 2)"
mem=$(value memtotal_kb)
if [ -z "$mem" ] || [ "$mem" -lt 471859 ] || [ "$mem" -gt 576716 ]; then
    why="$why; memtotal_kb=${mem:-missing} (want 512 MiB +-10%)"
fi
[ "$(value acpi_errors)" = 0 ] || why="$why; acpi_errors=$(value acpi_errors)"
[ -n "$marker" ] || why="$why; no 'vmm: boot marker' line"
grep -q "Linux version $release " "$out.txt" ||
    why="$why; no 'Linux version $release' banner on the console"
elf_marker=$marker
elf_secs=$secs
failed_boot=$why

boot bzimage-boot "$GUEST_KERNEL"
[ "$rc" = 0 ] && [ -n "$marker" ] || why="$why; the bzImage boot for comparison failed (status $rc)"
if [ -n "$elf_marker" ] && [ -n "$marker" ]; then
    echo "$name: VMM start to init: vmlinux $elf_marker ms, bzImage $marker ms (ratio $(awk "BEGIN { printf \"%.2f\", $elf_marker / $marker }")); whole runs $elf_secs s and $secs s (one run each, L1 time)"
fi

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
        if [ -n "$failed_boot" ]; then
            echo "--- $name: last 40 lines of the vmlinux guest's console"
            tail -n 40 "$LOG_DIR/vmlinux-boot.console.txt" | sed 's/^/| /'
            echo "--- $name: the vmlinux boot's VMM log"
            tail -n 20 "$LOG_DIR/vmlinux-boot.vmm" | sed 's/^/| /'
        fi
        echo "--- $name: vmm run's stderr"
        tail -n 20 "$LOG_DIR/vmlinux-run.err" | sed 's/^/| /'
    fi
    exit 1
fi
echo "PASS: $name"
