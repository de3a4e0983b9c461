#!/usr/bin/env bash
# Copies QEMU into an L1 image tree for the benchmarks' peer runs:
# qemu-system-x86_64 with its libraries (bench/copy-elf.sh), and in
# ROOT/usr/share/qemu the firmware -kernel opens: SeaBIOS, the linuxboot_dma
# option ROM and kvmvapic for q35 (what QEMU 7.2 opens, per strace), qboot
# for microvm. Looked up where Debian's packages put them, as QEMU does.
#
#   bench/copy-qemu.sh ROOT
set -euo pipefail

if [ "$#" -ne 1 ]; then
    echo "usage: $0 ROOT" >&2
    exit 2
fi
root=$1
here=$(cd "$(dirname "$0")" && pwd)

"$here/copy-elf.sh" "$root" qemu-system-x86_64
mkdir -p "$root/usr/share/qemu"
for f in bios-256k.bin linuxboot_dma.bin kvmvapic.bin qboot.rom; do
    src=
    for d in /usr/share/qemu /usr/share/seabios /usr/lib/ipxe/qemu; do
        if [ -f "$d/$f" ]; then
            src=$d/$f
            break
        fi
    done
    if [ -z "$src" ]; then
        echo "copy-qemu: QEMU firmware $f not found (qemu-system-x86 / seabios packages)" >&2
        exit 1
    fi
    cp -L "$src" "$root/usr/share/qemu/$f"
done
ln -sf qboot.rom "$root/usr/share/qemu/bios-microvm.bin"
