#!/bin/sh
# Scenario "boot" (runs inside L1): boots the guest kernel with the
# boot-check initramfs on 2 vCPUs and 512M, and checks that the guest sees
# both CPUs and its memory, that ACPI reports no errors, that the guest's first
# write to the debug port 0x440 was logged, and that the ACPI power-off ends
# the VMM with status 0.
# Env (set by host-init.sh): VMM GUEST_KERNEL GUEST_INITRD_DIR LOG_DIR
#   HARNESS_TIMEOUT (seconds, default 120) HARNESS_VERBOSE (1: print full logs)
#   BOOT_NAME, BOOT_KERNEL: another name and kernel (the vmlinux scenario's)
#   BOOT_ARGS: more VMM options, split on spaces (the unpack scenario's)
. /lib/harness/scenario.sh # vmm_status_why
name=${BOOT_NAME:-boot}
out=$LOG_DIR/$name.console # guest serial (VMM stdout)
err=$LOG_DIR/$name.vmm     # VMM's own log (stderr)
limit=${HARNESS_TIMEOUT:-120}

t0=$(cut -d' ' -f1 /proc/uptime)
timeout -k 5 "$limit" "$VMM" --kernel "${BOOT_KERNEL:-$GUEST_KERNEL}" \
    --initrd "$GUEST_INITRD_DIR/boot-check.cpio.gz" \
    --cmdline "console=ttyS0 panic=-1 reboot=k" --cpus 2 --memory 512M ${BOOT_ARGS:-} \
    >"$out" 2>"$err" </dev/null
rc=$?
t1=$(cut -d' ' -f1 /proc/uptime)
secs=$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }")
tr -d '\r' <"$out" >"$out.txt"

# The interesting lines, always.
grep -E '^GUEST ' "$out.txt"
grep -E '^vmm: ' "$err"
echo "$name: VMM exited with status $rc after $secs s (L1 time)"

value() { sed -n "s/^GUEST $1=//p" "$out.txt" | head -n1; }
nproc=$(value nproc)
mem=$(value memtotal_kb)
acpi=$(value acpi_errors)
why=$(vmm_status_why "$rc" "$limit")
[ "$nproc" = 2 ] || why="$why; nproc=${nproc:-missing} (want 2)"
# 512 MiB = 524288 kB, +-10%.
if [ -z "$mem" ] || [ "$mem" -lt 471859 ] || [ "$mem" -gt 576716 ]; then
    why="$why; memtotal_kb=${mem:-missing} (want 512 MiB +-10%)"
fi
[ "$acpi" = 0 ] || why="$why; acpi_errors=${acpi:-missing}"
grep -q '^vmm: boot marker' "$err" || why="$why; no 'vmm: boot marker' line"

run=$name # finish's headings
finish "$name" || exit 1
