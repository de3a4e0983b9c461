#!/usr/bin/env bash
# Builds kvmtool's lkvm from a source tree you already have, for the start-up, boot and
# exit benchmarks (bench/vm.sh), into the user's cache (never into this repository):
#   ${VMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minivmm}/kvmtool/lkvm
# Fetches nothing: get the source yourself (git clone of kvmtool) and pass its directory.
#
#   bench/build-kvmtool.sh SRC_DIR
#
# A static lkvm (make lkvm-static) when the toolchain has static libraries for it, else
# the dynamic one, which bench/vm.sh copies into L1 with its libraries
# (bench/copy-elf.sh). The build happens in SRC_DIR (kvmtool builds in its tree).
# Env: JOBS (make -j, default 2).
set -euo pipefail

if [ "$#" -ne 1 ] || [ ! -f "$1/builtin-run.c" ]; then
    echo "usage: $0 KVMTOOL_SOURCE_DIR   (a kvmtool tree: it has builtin-run.c)" >&2
    exit 2
fi
src=$(cd "$1" && pwd)
cache=${VMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minivmm}
dest=$cache/kvmtool
mkdir -p "$dest"
jobs=${JOBS:-2}

if make -C "$src" -j"$jobs" lkvm-static >"$dest/build.log" 2>&1; then
    cp "$src/lkvm-static" "$dest/lkvm.tmp"
    kind=static
elif make -C "$src" -j"$jobs" lkvm >>"$dest/build.log" 2>&1; then
    cp "$src/lkvm" "$dest/lkvm.tmp"
    kind=dynamic
else
    echo "build-kvmtool: make failed; see $dest/build.log" >&2
    tail -n 20 "$dest/build.log" >&2
    exit 1
fi
mv "$dest/lkvm.tmp" "$dest/lkvm"
"$dest/lkvm" version >"$dest/version" 2>/dev/null ||
    echo "version unknown" >"$dest/version"
echo "build-kvmtool: $kind lkvm ($(cat "$dest/version")) in $dest/lkvm"
