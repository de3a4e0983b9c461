#!/usr/bin/env bash
# Builds kvmtool's lkvm from a source tree you already have, for the benchmarks that run it
# as a peer, into the user's cache (never into this repository):
#   ${VMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minivmm}/kvmtool/lkvm        (x86, bench/vm.sh)
#   ${VMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minivmm}/kvmtool-arm64/lkvm  (ARCH=arm64,
#                                                                             bench/arm64.sh)
# Fetches nothing: get the source yourself (git clone of kvmtool) and pass its directory.
#
#   [ARCH=arm64] bench/build-kvmtool.sh SRC_DIR
#
# A static lkvm (make lkvm-static) when the toolchain has static libraries for it, else
# the dynamic one, which bench/vm.sh copies into L1 with its libraries
# (bench/copy-elf.sh). The build happens in SRC_DIR (kvmtool builds in its tree; switching
# ARCH in one tree needs `make clean` there first).
# ARCH=arm64 cross-builds with aarch64-linux-gnu-gcc against the arm64 libfdt that
# tests/harness-arm64/fetch.sh unpacked (the same sysroot `make ARCH=arm64` links), handed
# to kvmtool as LIBFDT_DIR: a folder holding libfdt.a and its headers side by side.
# Env: JOBS (make -j, default 2), ARCH (x86, the default, or arm64).
set -euo pipefail

if [ "$#" -ne 1 ] || [ ! -f "$1/builtin-run.c" ]; then
    echo "usage: [ARCH=arm64] $0 KVMTOOL_SOURCE_DIR   (a kvmtool tree: it has builtin-run.c)" >&2
    exit 2
fi
src=$(cd "$1" && pwd)
cache=${VMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minivmm}
jobs=${JOBS:-2}
make_args=()
case ${ARCH:-x86} in
x86 | x86_64) dest=$cache/kvmtool ;;
arm64)
    dest=$cache/kvmtool-arm64
    sysroot=$cache/arm64/root
    if [ ! -f "$sysroot/usr/lib/aarch64-linux-gnu/libfdt.a" ]; then
        echo "build-kvmtool: no arm64 libfdt.a under $sysroot (run tests/harness-arm64/fetch.sh)" >&2
        exit 2
    fi
    command -v aarch64-linux-gnu-gcc >/dev/null ||
        { echo "build-kvmtool: no aarch64-linux-gnu-gcc (Debian: gcc-aarch64-linux-gnu)" >&2; exit 2; }
    mkdir -p "$dest/libfdt"
    cp "$sysroot/usr/lib/aarch64-linux-gnu/libfdt.a" "$sysroot"/usr/include/{fdt.h,libfdt.h,libfdt_env.h} \
        "$dest/libfdt/"
    make_args=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- LIBFDT_DIR="$dest/libfdt")
    ;;
*)
    echo "build-kvmtool: ARCH=$ARCH: x86 or arm64" >&2
    exit 2
    ;;
esac
mkdir -p "$dest"

if make -C "$src" -j"$jobs" "${make_args[@]}" lkvm-static >"$dest/build.log" 2>&1; then
    cp "$src/lkvm-static" "$dest/lkvm.tmp"
    kind=static
elif make -C "$src" -j"$jobs" "${make_args[@]}" lkvm >>"$dest/build.log" 2>&1; then
    cp "$src/lkvm" "$dest/lkvm.tmp"
    kind=dynamic
else
    echo "build-kvmtool: make failed; see $dest/build.log" >&2
    tail -n 20 "$dest/build.log" >&2
    exit 1
fi
mv "$dest/lkvm.tmp" "$dest/lkvm"
# a cross-built lkvm does not run here: its version then comes from the tree it was built in
if ! "$dest/lkvm" version >"$dest/version" 2>/dev/null; then
    ver=$(sed -n 's/^KVMTOOLS_VERSION = //p' "$src/KVMTOOLS-VERSION-FILE" 2>/dev/null || true)
    rev=$(git -C "$src" rev-parse --short=12 HEAD 2>/dev/null || true)
    echo "kvm tool ${ver:-version unknown}${rev:+ (git $rev)}" >"$dest/version"
fi
echo "build-kvmtool: $kind lkvm ($(cat "$dest/version")) in $dest/lkvm"
