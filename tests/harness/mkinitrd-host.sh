#!/usr/bin/env bash
# Builds the L1 (outer host) initramfs of the nested test harness: busybox,
# the modules named on host-init.sh's `# harness-modules:` line (kvm-amd for
# /dev/kvm, virtio-blk for the disks run.sh attaches to L1) and whatever else
# modinfo says they need, dependencies first (mkinitrd-guest.sh collects
# them), the static VMM as /vmm, the guest kernel as
# /guest/vmlinuz, the L2 initramfs images as /guest/initrd/*.cpio.gz, the tiny
# test guests (build/guests/*) and tests/guests/run-tiny.sh + host-kind.sh in /tiny, the
# scenarios tests/harness/scenarios/*.sh in /scenarios, their helpers
# tests/harness/scenario-lib.sh as /lib/harness/scenario.sh, the test build of
# the VMM (build/vmm-static-test, make static-test; VMM_STATIC_TEST names
# another) as /vmm-test when there is one, and tests/harness/host-init.sh as
# /init.
#
#   tests/harness/mkinitrd-host.sh VMM_BINARY GUEST_INITRD_DIR OUTPUT
#
# VMM_BINARY may be "none" (image without a VMM, to check L1 and /dev/kvm).
# The image is an uncompressed cpio: most of it (vmlinuz, initrds) is
# compressed already, and inflating under TCG costs more than it saves.
# GUEST_INITRD_DIR's *.cpio.gz and *.cpio files all go to /guest/initrd/.
# Env: BUSYBOX, CC as for mkinitrd-guest.sh; the kernel comes from kernel.sh.
#   HOST_EXTRA=DIR: DIR's tree goes into the image too, over the rest
#   (bench/disk.sh adds its L1 script as /scenarios/bench-disk.sh and QEMU).
set -euo pipefail

if [ "$#" -ne 3 ]; then
    echo "usage: $0 VMM_BINARY|none GUEST_INITRD_DIR OUTPUT" >&2
    exit 2
fi
vmm=$1
guest_initrds=$2
out=$3
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

# shellcheck source=kernel.sh
. "$here/kernel.sh" >/dev/null

extra=$(mktemp -d "${TMPDIR:-/tmp}/mkinitrd-host.XXXXXX")
trap 'rm -rf "$extra"' EXIT
mkdir -p "$extra"/{guest/initrd,tiny,scenarios}

if [ "$vmm" != none ]; then
    cp "$vmm" "$extra/vmm"
    chmod 755 "$extra/vmm"
fi
vmm_test=${VMM_STATIC_TEST:-$top/build/vmm-static-test}
if [ "$vmm" != none ] && [ -x "$vmm_test" ]; then
    cp "$vmm_test" "$extra/vmm-test"
    chmod 755 "$extra/vmm-test"
fi
cp "$KERNEL_IMAGE" "$extra/guest/vmlinuz"
shopt -s nullglob
initrds=("$guest_initrds"/*.cpio.gz "$guest_initrds"/*.cpio)
shopt -u nullglob
[ "${#initrds[@]}" -gt 0 ] || { echo "mkinitrd-host: no *.cpio.gz or *.cpio in $guest_initrds" >&2; exit 1; }
cp "${initrds[@]}" "$extra/guest/initrd/"
if [ -d "$top/build/guests" ]; then
    cp -a "$top/build/guests/." "$extra/tiny/"
fi
if [ -f "$top/tests/guests/run-tiny.sh" ]; then
    cp "$top/tests/guests/run-tiny.sh" "$top/tests/guests/host-kind.sh" "$extra/tiny/"
fi
cp "$here"/scenarios/*.sh "$extra/scenarios/"
mkdir -p "$extra/lib/harness"
cp "$here/scenario-lib.sh" "$extra/lib/harness/scenario.sh"
# `vmm run` finds its guest's virtio drivers the way it does on an installed
# system, in /lib/modules/RELEASE with a modules.dep: the virtio, FUSE and
# overlayfs directories of the kernel's tree, indexed by depmod.
guestmods=$extra/lib/modules/$KERNEL_VERSION
mkdir -p "$guestmods/kernel/drivers/block" "$guestmods/kernel/fs"
cp -r "$KERNEL_MODULES/kernel/drivers/virtio" "$guestmods/kernel/drivers/"
cp "$KERNEL_MODULES"/kernel/drivers/block/virtio_blk.ko* "$guestmods/kernel/drivers/block/"
cp -r "$KERNEL_MODULES/kernel/fs/fuse" "$guestmods/kernel/fs/"
# vmm run's default --overlay puts a tmpfs over the shared /
cp -r "$KERNEL_MODULES/kernel/fs/overlayfs" "$guestmods/kernel/fs/"
cp "$KERNEL_MODULES"/modules.order "$KERNEL_MODULES"/modules.builtin* "$guestmods/" 2>/dev/null || true
"$(command -v depmod || echo /sbin/depmod)" -b "$extra" "$KERNEL_VERSION"
if [ -n "${HOST_EXTRA:-}" ]; then
    cp -a "$HOST_EXTRA/." "$extra/"
fi

"$here/mkinitrd-guest.sh" --extra "$extra" --compress none "$here/host-init.sh" "$out"
