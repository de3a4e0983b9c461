#!/usr/bin/env bash
# What `make deps` runs: installs the Debian packages needed to build and test
# the VMM (only the missing ones), then fetches the Debian cloud kernel that the
# nested test harness boots (tests/harness/kernel.sh). Idempotent; when all is
# present it touches no network and takes well under a second.
set -euo pipefail

cd "$(dirname "$0")/.."

PACKAGES=(
    build-essential pkg-config musl-tools check libseccomp-dev liburing-dev libslirp-dev libfdt-dev
    zlib1g-dev liblzma-dev libzstd-dev liblz4-dev libbz2-dev
    clang libclang-rt-14-dev clang-format
    qemu-system-x86 busybox-static cpio xz-utils lz4 zstd socat e2fsprogs kmod fio debootstrap
    gdb
    # bench/chart.sh draws the vm benchmark's distributions with it (bench/vm.sh goes on without)
    gnuplot-nox
)

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    SUDO=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive

# True when apt's package lists are missing or more than a week old.
lists_stale() {
    local newest
    newest=$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mtime -7 2>/dev/null | sed -n 1p)
    [ -z "$newest" ]
}

apt_update() {
    echo "deps: apt-get update"
    "${SUDO[@]}" apt-get update -q >/dev/null
}

missing=()
installed=" $({ dpkg-query -W -f='${db:Status-Abbrev}|${Package}\n' "${PACKAGES[@]}" 2>/dev/null || true; } |
    sed -n 's/^ii *|//p' | tr '\n' ' ') "
for p in "${PACKAGES[@]}"; do
    case "$installed" in
    *" $p "*) ;;
    *) missing+=("$p") ;;
    esac
done

if [ "${#missing[@]}" -gt 0 ]; then
    if lists_stale; then
        apt_update
    fi
    echo "deps: installing ${missing[*]}"
    if ! "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; then
        # Lists may name versions the mirror no longer has: refresh once, retry.
        apt_update
        "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
    fi
else
    echo "deps: all ${#PACKAGES[@]} packages present"
fi

# The harness kernel needs apt to know linux-image-cloud-amd64 (only when not cached).
if ! ls -d "${VMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minivmm}"/kernel-* >/dev/null 2>&1 &&
    ! apt-cache show linux-image-cloud-amd64 >/dev/null 2>&1; then
    apt_update
fi
# shellcheck source=harness/kernel.sh
. tests/harness/kernel.sh
echo "deps: kernel $KERNEL_VERSION at $KERNEL_DIR"
# the harness's gdb scenario: gdb-minimal unpacked into the cache, for L1
if gdb_l1=$(tests/harness/gdb-minimal.sh); then
    echo "deps: gdb for the harness at $gdb_l1"
else
    echo "deps: no gdb-minimal for the harness (its gdb scenario will SKIP)"
fi

# arm64 (README, "arm64"): the cross compiler, QEMU for the emulated arm64 host, and
# Debian's arm64 libraries that `make ARCH=arm64 static` links, then the arm64 kernel,
# busybox and libfdt that tests/harness-arm64/fetch.sh unpacks. Optional: where apt cannot
# give them, this says so and `make test` prints SKIP for arm64.
ARM64_PACKAGES=(
    gcc-aarch64-linux-gnu qemu-system-arm libseccomp-dev:arm64 liburing-dev:arm64
    zlib1g-dev:arm64 liblzma-dev:arm64 libzstd-dev:arm64 liblz4-dev:arm64 libbz2-dev:arm64
)
arm64_missing=()
for p in "${ARM64_PACKAGES[@]}"; do
    dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^.i' || arm64_missing+=("$p")
done
if [ "${#arm64_missing[@]}" -gt 0 ]; then
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        "${SUDO[@]}" dpkg --add-architecture arm64
        apt_update || true
    fi
    echo "deps: installing ${arm64_missing[*]} (arm64)"
    if ! "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${arm64_missing[@]}" >/dev/null; then
        echo "deps: the arm64 tools could not be installed; make test will SKIP arm64"
    fi
fi
if command -v aarch64-linux-gnu-gcc >/dev/null && tests/harness-arm64/fetch.sh >/dev/null; then
    echo "deps: arm64 kernel, busybox and libfdt unpacked for the arm64 boot test"
else
    echo "deps: no arm64 packages for the boot test; make test will SKIP arm64"
fi
