#!/usr/bin/env bash
# Host side of the rootdisk scenario of the nested test harness: a minimal
# Debian root file system (debootstrap --variant=minbase, the suite of the
# build host) as an ext4 image, which run.sh attaches to L1 read-only and the
# scenario hands to our VMM as the guest's root disk.
#
#   tests/harness/rootfs-image.sh
#
# Prints on stdout either
#   ROOTFS_IMAGE=<cache>/rootfs-<suite>-amd64.img
#   ROOTFS_DEBIAN_VERSION=<the tree's /etc/debian_version>
# (exit 0), or, when no image can be had,
#   ROOTFS_SKIP=<why>
# (exit 3): no debootstrap, neither root nor passwordless sudo, or the
# download failed (offline). Progress goes to stderr.
#
# Cache, next to the harness kernel and kept between runs (never in git):
#   ${VMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minivmm}/
#     rootfs-<suite>-amd64/       the debootstrap tree (root-owned; made once)
#     rootfs-<suite>-amd64.img    the ext4 image (remade only when missing)
#     rootfs-<suite>-amd64.log    debootstrap's output, for a failed download
#     rootfs-<suite>-amd64.done   stamp: the tree is complete
# With both in place this does nothing else (no network, no root). Delete
# the two to start over (the tree needs root: sudo rm -rf).
# Mirror: the one apt uses for the suite (/etc/apt/sources.list*, read now),
# else debootstrap's default. Only the ext4 image is made without root.
# Env: ROOTFS_SUITE (default: VERSION_CODENAME of a Debian build host, else
# bookworm), ROOTFS_MIRROR.
set -euo pipefail

PATH=$PATH:/sbin:/usr/sbin # debootstrap, mke2fs for a non-root user

cache=${VMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minivmm}
suite=${ROOTFS_SUITE:-}
if [ -z "$suite" ]; then
    # shellcheck source=/dev/null
    suite=$(. /etc/os-release 2>/dev/null && [ "${ID:-}" = debian ] && echo "${VERSION_CODENAME:-}") || true
    suite=${suite:-bookworm}
fi
name=rootfs-$suite-amd64
tree=$cache/$name
img=$cache/$name.img
log=$cache/$name.log
stamp=$cache/$name.done # the tree is complete

skip() {
    echo "rootfs-image: $*" >&2
    echo "ROOTFS_SKIP=$*"
    exit 3
}
done_ok() {
    echo "ROOTFS_IMAGE=$img"
    echo "ROOTFS_DEBIAN_VERSION=$(cat "$tree/etc/debian_version")"
    exit 0
}

# The fast path: everything cached.
if [ -f "$img" ] && [ -f "$stamp" ]; then
    done_ok
fi

mkdir -p "$cache"
# Harness runs in other trees share the cache: one builder at a time.
exec 8>"$cache/.$name.lock"
if ! flock -n 8; then
    echo "rootfs-image: waiting for another build of $name..." >&2
    flock -w 1800 8 || skip "$cache is locked by another build of $name"
fi
if [ -f "$img" ] && [ -f "$stamp" ]; then
    done_ok
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo=(sudo -n)
    elif [ ! -f "$stamp" ]; then
        skip "debootstrap needs root: run as root or with passwordless sudo (or build $tree once as root)"
    fi
fi

# mirror_for SUITE: the first deb URI apt has for exactly SUITE (one-line
# .list or deb822 .sources files); empty if none.
mirror_for() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        case "$f" in
        *.sources)
            # Stanzas split by blank lines; fields Types, URIs, Suites, Enabled.
            awk -v s="$1" '
                function flush() {
                    if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " s " ") && enabled != "no" && uri != "")
                        { print uri; found = 1; exit }
                    types = suites = uri = enabled = ""
                }
                /^[ \t]*#/ { next }
                /^[ \t]*$/ { flush(); next }
                tolower($1) == "types:" { $1 = ""; types = $0 }
                tolower($1) == "uris:" { uri = $2 }
                tolower($1) == "suites:" { $1 = ""; suites = $0 }
                tolower($1) == "enabled:" { enabled = tolower($2) }
                END { if (!found) flush() }' "$f"
            ;;
        *)
            # deb [options] URI SUITE COMPONENT...
            sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
                awk -v s="$1" '$1 == "deb" && $3 == s && !f { print $2; f = 1 }'
            ;;
        esac
    done | sed -n 1p # reads to the end, so that no writer dies of SIGPIPE under pipefail
}

if [ ! -f "$stamp" ]; then
    command -v debootstrap >/dev/null || skip "debootstrap is not installed (make deps)"
    mirror=${ROOTFS_MIRROR:-$(mirror_for "$suite")}
    echo "rootfs-image: debootstrap --variant=minbase $suite ${mirror:-(default mirror)} -> $tree (a few minutes, once)" >&2
    start=$(date +%s)
    "${sudo[@]}" rm -rf "$tree.tmp"
    rm -f "$stamp"
    # shellcheck disable=SC2086 # no mirror: debootstrap's default
    if ! "${sudo[@]}" debootstrap --variant=minbase --arch=amd64 "$suite" "$tree.tmp" $mirror >"$log" 2>&1; then
        "${sudo[@]}" rm -rf "$tree.tmp"
        why=$(grep -E '^(E|W): ' "$log" | tail -n1)
        skip "debootstrap $suite failed (see $log): ${why:-$(tail -n1 "$log")}"
    fi
    # Smaller image, same system: drop the downloaded .debs, apt's lists and
    # caches, and the documentation (dpkg keeps its own records).
    # shellcheck disable=SC2016 # $1 is the inner shell's
    "${sudo[@]}" sh -c 'cd "$1" && rm -rf var/cache/apt/archives/*.deb var/cache/apt/*.bin \
        var/lib/apt/lists/* usr/share/doc/* usr/share/man/* usr/share/info/* usr/share/locale/* \
        && find var/log -type f -delete' sh "$tree.tmp"
    "${sudo[@]}" rm -rf "$tree"
    "${sudo[@]}" mv "$tree.tmp" "$tree"
    touch "$stamp"
    echo "rootfs-image: debootstrap took $(($(date +%s) - start)) s" >&2
fi

# The ext4 image: what the tree needs plus a tenth and 8 MiB (journal,
# metadata, some room), inodes for every file plus some. mke2fs -d copies owners and
# modes as they are in the tree (root's), so it reads the tree as root.
kib=$("${sudo[@]}" du -sk "$tree" | cut -f1)
files=$("${sudo[@]}" find "$tree" -xdev | wc -l)
size=$((kib + kib / 10 + 8192))
inodes=$((files + files / 4 + 1024))
echo "rootfs-image: mke2fs -t ext4 -d $tree ($((kib / 1024)) MiB, $files files) -> $img, $((size / 1024)) MiB" >&2
rm -f "$img.tmp"
"${sudo[@]}" mke2fs -q -t ext4 -b 4096 -N "$inodes" -L rootfs -d "$tree" -F "$img.tmp" "${size}k" >/dev/null ||
    { "${sudo[@]}" rm -f "$img.tmp"; skip "mke2fs -d $tree failed"; }
if [ "${#sudo[@]}" -gt 0 ]; then
    "${sudo[@]}" chown "$(id -u):$(id -g)" "$img.tmp"
fi
mv "$img.tmp" "$img"
done_ok
