#!/usr/bin/env bash
# Prints the path of a gdb for L1 (the harness's gdb scenario): Debian's gdb-minimal,
# unpacked once into the cache. gdb-minimal leaves out Python and the TUI, so it and its
# libraries add about 30 MB to L1's image where the full gdb would add 80; it conflicts
# with the gdb package, so it is unpacked rather than installed. Exit 1 when it cannot
# be had (no network and no cache): the scenario then SKIPs.
set -euo pipefail
cache=${VMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minivmm}
dir=$cache/gdb-minimal
if [ ! -x "$dir/usr/bin/gdb" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && apt-get download gdb-minimal >/dev/null 2>&1) || {
        echo "gdb-minimal: apt-get download gdb-minimal failed" >&2
        exit 1
    }
    rm -rf "$dir.new"
    dpkg -x "$tmp"/gdb-minimal_*.deb "$dir.new"
    rm -rf "$dir"
    mv "$dir.new" "$dir"
fi
echo "$dir/usr/bin/gdb"
