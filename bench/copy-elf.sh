#!/usr/bin/env bash
# Copies dynamically linked programs into an image tree, with every shared
# library `ldd` lists for them and the dynamic loader, each at the path ldd
# names (so the copied program runs as it is, no LD_LIBRARY_PATH), symlinks
# resolved to plain files.
#
#   bench/copy-elf.sh ROOT PROGRAM...
#
# ROOT/usr/bin/<name> gets each program; ROOT/lib/x86_64-linux-gnu/... and
# ROOT/lib64/ld-linux-x86-64.so.2 (or wherever ldd says) the libraries.
# A PROGRAM that is a path to a shared library (*.so*) is a library the programs load
# with dlopen(), which ldd cannot see: it goes to its own path, with what it needs.
set -euo pipefail

if [ "$#" -lt 2 ]; then
    echo "usage: $0 ROOT PROGRAM..." >&2
    exit 2
fi
root=$1
shift
mkdir -p "$root/usr/bin"
for prog in "$@"; do
    case "$prog" in
    /*.so*)
        [ -e "$prog" ] || { echo "copy-elf: $prog not found" >&2; exit 1; }
        path=$prog
        mkdir -p "$root$(dirname "$path")"
        cp -L "$path" "$root$path"
        ;;
    *)
        path=$(command -v "$prog") || { echo "copy-elf: $prog not found" >&2; exit 1; }
        cp -L "$path" "$root/usr/bin/$(basename "$path")"
        ;;
    esac
    # "libx.so => /path (addr)", "/lib64/ld-linux-x86-64.so.2 (addr)"; skip the vDSO.
    libs=$(ldd "$path" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
    if ldd "$path" | grep 'not found' >/dev/null; then # all of it: no SIGPIPE under pipefail
        echo "copy-elf: $path: $(ldd "$path" | grep 'not found' | tr '\n' ' ')" >&2
        exit 1
    fi
    for lib in $libs; do
        [ -e "$root$lib" ] && continue
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
    done
done
