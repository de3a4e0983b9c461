#!/usr/bin/env bash
# Builds the L1 (outer host) initramfs of the nested test harness: busybox,
# the kvm modules (irqbypass, kvm, kvm-amd and whatever else modinfo says they
# need, loaded in that order), the static VMM as /vmm, the guest kernel as
# /guest/vmlinuz, the L2 initramfs images as /guest/initrd/*.cpio.gz, the tiny
# test guests (build/guests/*) and tests/guests/run-tiny.sh in /tiny, the
# scenarios tests/harness/scenarios/*.sh in /scenarios, and
# tests/harness/host-init.sh as /init.
#
#   tests/harness/mkinitrd-host.sh VMM_BINARY GUEST_INITRD_DIR OUTPUT
#
# VMM_BINARY may be "none" (image without a VMM, to check L1 and /dev/kvm).
# The image is an uncompressed cpio: most of it (vmlinuz, initrds) is
# compressed already, and inflating under TCG costs more than it saves.
# Env: BUSYBOX, CC as for mkinitrd-guest.sh; the kernel comes from kernel.sh.
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
mkdir -p "$extra"/{lib/modules,guest/initrd,tiny,scenarios}

# Module closure, dependencies first. No modules.dep in an unpacked package,
# so ask modinfo (kmod) for each module's depends field.
modpath() {
    local f
    f=$(find "$KERNEL_MODULES/kernel" -name "$1.ko" -o -name "$1.ko.xz" -o -name "$1.ko.zst" |
        head -n1)
    if [ -z "$f" ]; then
        f=$(find "$KERNEL_MODULES/kernel" -name "${1//_/-}.ko*" -o -name "${1//-/_}.ko*" | head -n1)
    fi
    [ -n "$f" ] || { echo "mkinitrd-host: module $1 not found in $KERNEL_MODULES" >&2; return 1; }
    echo "$f"
}
modinfo=$(command -v modinfo || echo /sbin/modinfo)
order=()
add_module() {
    local name=$1 f dep seen
    for seen in "${order[@]}"; do
        [ "$seen" = "$name" ] && return 0
    done
    f=$(modpath "$name")
    for dep in $("$modinfo" -F depends "$f" | tr ',' ' '); do
        add_module "$dep"
    done
    case "$f" in
    *.ko.xz) xz -dc "$f" >"$extra/lib/modules/$name.ko" ;;
    *.ko.zst) zstd -dcq "$f" >"$extra/lib/modules/$name.ko" ;;
    *) cp "$f" "$extra/lib/modules/$name.ko" ;;
    esac
    order+=("$name")
}
add_module irqbypass
add_module kvm
add_module kvm-amd
printf '%s\n' "${order[@]}" >"$extra/lib/modules/load-order"

if [ "$vmm" != none ]; then
    cp "$vmm" "$extra/vmm"
    chmod 755 "$extra/vmm"
fi
cp "$KERNEL_IMAGE" "$extra/guest/vmlinuz"
cp "$guest_initrds"/*.cpio.gz "$extra/guest/initrd/"
if [ -d "$top/build/guests" ]; then
    cp -a "$top/build/guests/." "$extra/tiny/"
fi
if [ -f "$top/tests/guests/run-tiny.sh" ]; then
    cp "$top/tests/guests/run-tiny.sh" "$extra/tiny/run-tiny.sh"
fi
cp "$here"/scenarios/*.sh "$extra/scenarios/"

"$here/mkinitrd-guest.sh" --extra "$extra" --compress none "$here/host-init.sh" "$out"
