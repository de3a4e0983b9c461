#!/usr/bin/env bash
# What `make run` calls: boots the default interactive guest (the Debian cloud
# kernel + a busybox shell initramfs, 2 vCPUs, 512M) on the serial console.
# With a usable /dev/kvm and VT-x/AMD-V it runs build/vmm directly. Without
# (like the build machines) it boots the nested harness interactively: QEMU-TCG
# with an emulated AMD-V CPU runs an L1 Linux whose init starts build/vmm-static
# in the foreground on the console, and the terminal is passed straight through.
# Keys: Ctrl-A X quits the VMM; Ctrl-] X kills QEMU (nested mode only).
# Env: HARNESS_L1_SHELL=1 gives a shell in L1 instead (debugging the harness).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=$top/build/harness
cmdline="console=ttyS0 panic=-1 reboot=k"

# shellcheck source=kernel.sh
. "$here/kernel.sh" >/dev/null
mkdir -p "$out"
# One harness at a time per tree: runs share build/harness/.
exec 9>"$out/.lock"
if ! flock -n 9; then
    echo "harness: waiting for another harness run in this tree to finish..."
    flock -w 900 9 || { echo "FAIL: harness: build/harness is locked by another run" >&2; exit 1; }
fi
# HARNESS_LOCK names a lock file shared by several checkouts on one machine, so their
# nested QEMU runs take turns instead of starving each other of cores.
if [ -n "${HARNESS_LOCK:-}" ]; then
    exec 7>"$HARNESS_LOCK"
    flock -n 7 || { echo "harness: waiting for $HARNESS_LOCK..."; flock -w 3600 7; }
fi
mkdir -p "$out/guest"
"$here/mkinitrd-guest.sh" "$here/guest-init/shell.sh" "$out/guest/shell.cpio.gz"

if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] &&
    grep -qwE 'vmx|svm' /proc/cpuinfo && [ -z "${HARNESS_L1_SHELL:-}" ]; then
    [ -x "$top/build/vmm" ] || { echo "run-default: build/vmm missing: run make" >&2; exit 1; }
    exec "$top/build/vmm" --kernel "$KERNEL_IMAGE" --initrd "$out/guest/shell.cpio.gz" \
        --cmdline "$cmdline" --cpus 2 --memory 512M
fi

echo "run-default: this host has no VT-x/AMD-V (/dev/kvm), so the guest boots inside the nested harness (QEMU-TCG with emulated AMD-V); about 15 s to the prompt."
vmm=$top/build/vmm-static
mode=1
if [ -n "${HARNESS_L1_SHELL:-}" ]; then
    mode=shell
    [ -x "$vmm" ] || vmm=none
elif [ ! -x "$vmm" ]; then
    echo "run-default: build/vmm-static missing: run make static" >&2
    exit 1
fi
for init in "$here"/guest-init/*.sh; do
    name=$(basename "$init" .sh)
    [ "$name" = shell ] || "$here/mkinitrd-guest.sh" "$init" "$out/guest/$name.cpio.gz"
done
"$here/mkinitrd-host.sh" "$vmm" "$out/guest" "$out/host.cpio"
echo "run-default: Ctrl-A X quits the VMM, Ctrl-] X kills QEMU."

# The console is a mux whose escape is Ctrl-] (not Ctrl-A, which must reach the
# inner VMM); signal=off lets Ctrl-C through to the guest.
exec qemu-system-x86_64 -nodefaults -no-user-config \
    -accel tcg -cpu max,+svm,+npt -smp "${HARNESS_SMP:-1}" -m 2048 \
    -display none -echr 0x1d \
    -chardev stdio,id=con,mux=on,signal=off -serial chardev:con \
    -mon chardev=con,mode=readline -no-reboot \
    -kernel "$KERNEL_IMAGE" -initrd "$out/host.cpio" \
    -append "$cmdline quiet harness.interactive=$mode"
