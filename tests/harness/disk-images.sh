#!/usr/bin/env bash
# Host side of the disk scenario of the nested test harness: builds the disk
# images, and afterwards reads what the guest wrote back out of them. No root
# needed (mke2fs -d, debugfs and e2fsck work on image files).
#
#   tests/harness/disk-images.sh build DIR
#       DIR/data1.img  32 MiB ext4 with payload.bin (1 MiB of random bytes):
#                      the read-write disk (serial data1)
#       DIR/data2.img  16 MiB ext4 with payload.bin (256 KiB of random bytes):
#                      the readonly=on disk (serial data2)
#       DIR/disk.env   DISK_TOKEN (random, names this run's writes),
#                      DISK_SHA256, DISK_RO_SHA256 (the two payloads),
#                      DISK_RO_IMAGE_SHA256 (all of data2.img)
#   tests/harness/disk-images.sh check DIR [MODE ...]
#       after the guests ran: for each MODE (msix, intx) the guest said it
#       wrote, /written-MODE.txt in data1.img must hold
#       "minivmm disk test token=$DISK_TOKEN mode=MODE" and /copy-MODE.bin the
#       payload (debugfs); data1.img must be a clean file system (e2fsck -fn);
#       data2.img must be unchanged, byte for byte. Prints PASS:/FAIL: lines,
#       exits 1 on a FAIL.
#   tests/harness/disk-images.sh qemu DIR INITRD
#       reference run without our VMM: boots the disk-check guest (INITRD, from
#       mkinitrd-guest.sh guest-init/disk-check.sh) straight under
#       qemu-system-x86_64 -accel tcg with QEMU's own modern virtio-blk-pci
#       (1af4:1042), once with MSI-X and once with pci=nomsi, on fresh images,
#       then runs `check`. Shows what a correct device gives the guest checks.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
PATH=$PATH:/sbin:/usr/sbin # mke2fs, debugfs, e2fsck for a non-root user

die() { echo "disk-images: $*" >&2; exit 1; }
need() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null || die "$t missing (install e2fsprogs: make deps)"
    done
}

# mkfs_with_payload IMAGE SIZE PAYLOAD_BYTES: ext4 holding payload.bin; prints its sha256.
mkfs_with_payload() {
    local img=$1 size=$2 bytes=$3 root
    root=$(mktemp -d "${TMPDIR:-/tmp}/disk-images.XXXXXX")
    head -c "$bytes" /dev/urandom >"$root/payload.bin"
    echo "minivmm harness test disk ($(basename "$img"))" >"$root/README"
    rm -f "$img"
    # root_owner: files owned by root in the image, whoever builds it.
    mke2fs -q -t ext4 -E root_owner=0:0 -L "$(basename "$img" .img)" -d "$root" -F "$img" "$size" >/dev/null ||
        { rm -rf "$root"; die "mke2fs failed for $img"; }
    sha256sum "$root/payload.bin" | cut -d' ' -f1
    rm -rf "$root"
}

cmd_build() {
    local dir=$1 sha ro_sha token
    need mke2fs sha256sum
    mkdir -p "$dir"
    sha=$(mkfs_with_payload "$dir/data1.img" 32M 1048576)
    ro_sha=$(mkfs_with_payload "$dir/data2.img" 16M 262144)
    token=$(od -An -tx8 -N8 /dev/urandom | tr -d ' \n')
    cat >"$dir/disk.env" <<EOF
DISK_TOKEN=$token
DISK_SHA256=$sha
DISK_RO_SHA256=$ro_sha
DISK_RO_IMAGE_SHA256=$(sha256sum "$dir/data2.img" | cut -d' ' -f1)
EOF
}

cmd_check() {
    local dir=$1 mode want got why failed=0 fsck
    shift
    need debugfs e2fsck sha256sum
    # shellcheck source=/dev/null
    . "$dir/disk.env"
    why=
    [ "$#" -gt 0 ] || why="; the guest wrote nothing to data1"
    for mode in "$@"; do
        want="minivmm disk test token=$DISK_TOKEN mode=$mode"
        got=$(debugfs -R "cat /written-$mode.txt" "$dir/data1.img" 2>/dev/null) || got=
        [ "$got" = "$want" ] || why="$why; /written-$mode.txt holds '${got:0:80}' (want '$want')"
        got=$(debugfs -R "cat /copy-$mode.bin" "$dir/data1.img" 2>/dev/null | sha256sum | cut -d' ' -f1)
        [ "$got" = "$DISK_SHA256" ] || why="$why; /copy-$mode.bin has sha256 $got (want the payload's $DISK_SHA256)"
    done
    if ! fsck=$(e2fsck -fn "$dir/data1.img" 2>&1); then
        why="$why; e2fsck -fn data1.img: $(echo "$fsck" | grep -vE '^(Pass|e2fsck|data1)' | head -n3 | tr '\n' ' ')"
    fi
    if [ -n "$why" ]; then
        echo "FAIL: disk host readback: ${why#; }"
        failed=1
    else
        echo "PASS: disk host readback (debugfs: $(printf '/written-%s.txt ' "$@")and the copies; e2fsck clean)"
    fi
    got=$(sha256sum "$dir/data2.img" | cut -d' ' -f1)
    if [ "$got" = "$DISK_RO_IMAGE_SHA256" ]; then
        echo "PASS: disk host readonly image unchanged"
    else
        echo "FAIL: disk host readonly image unchanged: data2.img changed (sha256 $got, was $DISK_RO_IMAGE_SHA256)"
        failed=1
    fi
    return "$failed"
}

cmd_qemu() {
    local dir=$1 initrd=$2 mode extra log modes=() rc failed=0
    need qemu-system-x86_64
    [ -f "$initrd" ] || die "no initrd $initrd"
    # shellcheck source=kernel.sh
    . "$here/kernel.sh" >/dev/null
    cmd_build "$dir"
    # shellcheck source=/dev/null
    . "$dir/disk.env"
    for mode in msix intx; do
        extra=
        [ "$mode" = intx ] && extra=" pci=nomsi"
        log=$dir/qemu-$mode.log
        rc=0
        timeout -k 5 120 qemu-system-x86_64 -nodefaults -no-user-config -accel tcg -m 512 -smp 2 \
            -display none -monitor none -serial "file:$log" -no-reboot \
            -kernel "$KERNEL_IMAGE" -initrd "$initrd" \
            -append "console=ttyS0 panic=-1 reboot=k$extra disk.mode=$mode disk.token=$DISK_TOKEN disk.sha256=$DISK_SHA256 disk.ro_sha256=$DISK_RO_SHA256" \
            -drive "file=$dir/data1.img,if=none,id=d1,format=raw" \
            -device virtio-blk-pci,drive=d1,serial=data1,disable-legacy=on,disable-modern=off \
            -drive "file=$dir/data2.img,if=none,id=d2,format=raw,readonly=on" \
            -device virtio-blk-pci,drive=d2,serial=data2,disable-legacy=on,disable-modern=off \
            </dev/null || rc=$?
        tr -d '\r' <"$log" >"$log.txt"
        echo "disk-images: qemu $mode: exit status $rc"
        grep -E '^GUEST ' "$log.txt" | sed "s/^/  /"
        if grep -q '^GUEST data1_write=ok' "$log.txt"; then
            modes+=("$mode")
        fi
        grep -q '^GUEST done=1' "$log.txt" || { echo "FAIL: disk qemu $mode: guest did not finish"; failed=1; }
    done
    cmd_check "$dir" "${modes[@]}" || failed=1
    return "$failed"
}

case "${1:-}" in
build) [ "$#" -eq 2 ] || die "usage: $0 build DIR"; cmd_build "$2" ;;
check) [ "$#" -ge 2 ] || die "usage: $0 check DIR [MODE ...]"; shift; cmd_check "$@" ;;
qemu) [ "$#" -eq 3 ] || die "usage: $0 qemu DIR INITRD"; cmd_qemu "$2" "$3" ;;
*) sed -n '2,30p' "$0" >&2; exit 2 ;;
esac
