#!/usr/bin/env bash
# Fetches the Debian cloud kernel used by the nested test harness (it is both
# the L1 host kernel that loads kvm_amd and the L2 guest kernel our VMM boots).
#
# The package linux-image-<version>-cloud-amd64 is downloaded with
# `apt-get download` and unpacked with `dpkg-deb -x` into a cache directory;
# it is never installed on the build host. Cache:
#   ${VMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minivmm}/kernel-<version>/
# A second run with the cache in place does nothing (no network).
#
# Usage as a command:  tests/harness/kernel.sh        prints KEY=value lines
#   KERNEL_VERSION=6.1.0-NN-cloud-amd64
#   KERNEL_IMAGE=<cache>/kernel-<version>/boot/vmlinuz-<version>
#   KERNEL_MODULES=<cache>/kernel-<version>/lib/modules/<version>
# Usage sourced:       . tests/harness/kernel.sh      sets and exports those
#   three variables (and KERNEL_DIR) in the calling shell; progress goes to stderr.
# KERNEL_PACKAGE=linux-image-<version> overrides the package (default: what
# linux-image-cloud-amd64 depends on; if apt knows nothing or the download
# fails, the newest cached one).

# _kernel_sh_fetch PACKAGE DIR VERSION CACHE: download and unpack into DIR.
_kernel_sh_fetch() {
    local pkg=$1 dir=$2 ver=$3 cache=$4 tmp
    echo "kernel.sh: fetching $pkg into $dir" >&2
    mkdir -p "$cache"
    tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
    chmod 755 "$tmp" # lets apt's _apt user write the .deb (no warning)
    if ! (cd "$tmp" && apt-get download "$pkg" >&2) ||
        ! dpkg-deb -x "$tmp"/linux-image-*.deb "$tmp/root" ||
        [ ! -f "$tmp/root/boot/vmlinuz-$ver" ]; then
        echo "kernel.sh: fetching $pkg failed" >&2
        rm -rf "$tmp"
        return 1
    fi
    # The kernel image is root-only (0600) in the package; make it readable.
    chmod a+r "$tmp/root/boot/vmlinuz-$ver"
    touch "$tmp/root/.complete"
    rm -rf "$dir"
    mv "$tmp/root" "$dir"
    rm -rf "$tmp"
}

_kernel_sh_main() {
    local cache="${VMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minivmm}"
    local pkg="${KERNEL_PACKAGE:-}" ver dir

    # Resolving the version costs ~1 s of apt-cache; remember it in $cache/resolved
    # until apt's lists change.
    if [ -z "$pkg" ] && [ -s "$cache/resolved" ] &&
        [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -newer "$cache/resolved" 2>/dev/null | head -n1)" ]; then
        pkg=$(cat "$cache/resolved")
    fi
    if [ -z "$pkg" ]; then
        pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
            sed -n 's/^ *Depends: *\(linux-image-[^ ]*-cloud-amd64\)$/\1/p' | head -n1) || true
        if [ -n "$pkg" ]; then
            mkdir -p "$cache" && echo "$pkg" >"$cache/resolved"
        fi
    fi
    if [ -z "$pkg" ]; then
        # No apt metadata: fall back to whatever is cached already.
        dir=$(ls -d "$cache"/kernel-*-cloud-amd64/.complete 2>/dev/null | sort -V | tail -n1) || true
        if [ -z "$dir" ]; then
            echo "kernel.sh: cannot resolve linux-image-cloud-amd64 (run apt-get update?)" >&2
            return 1
        fi
        dir=${dir%/.complete}
        ver=${dir##*/kernel-}
    else
        ver=${pkg#linux-image-}
        dir="$cache/kernel-$ver"
    fi

    if [ ! -f "$dir/.complete" ] && ! _kernel_sh_fetch "$pkg" "$dir" "$ver" "$cache"; then
        # Offline, or the mirror dropped that version: an older cached kernel will do.
        local old
        old=$(ls -d "$cache"/kernel-*-cloud-amd64/.complete 2>/dev/null | sort -V | tail -n1) || true
        if [ -z "$old" ]; then
            echo "kernel.sh: no kernel: $pkg could not be fetched and none is cached" >&2
            return 1
        fi
        dir=${old%/.complete}
        ver=${dir##*/kernel-}
        echo "kernel.sh: using the cached kernel $ver instead" >&2
    fi

    KERNEL_VERSION=$ver
    KERNEL_DIR=$dir
    KERNEL_IMAGE=$dir/boot/vmlinuz-$ver
    KERNEL_MODULES=$dir/lib/modules/$ver
    export KERNEL_VERSION KERNEL_DIR KERNEL_IMAGE KERNEL_MODULES
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    _kernel_sh_main
    echo "KERNEL_VERSION=$KERNEL_VERSION"
    echo "KERNEL_IMAGE=$KERNEL_IMAGE"
    echo "KERNEL_MODULES=$KERNEL_MODULES"
else
    _kernel_sh_main
fi
