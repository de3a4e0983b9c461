#!/usr/bin/env bash
# Unpacks the uncompressed kernel (vmlinux, an x86-64 ELF executable) from a bzImage, for
# the harness's vmlinux scenario: Debian ships only the bzImage, and a bzImage's payload
# is exactly the vmlinux its decompressor would have unpacked, compressed. The setup
# header says where the payload is (payload_offset and payload_length, protocol 2.08+,
# counted from the protected-mode part); its first bytes say how it is compressed.
#
#   tests/harness/vmlinux.sh BZIMAGE OUTPUT
#
# OUTPUT is written only when it is missing or older than BZIMAGE. Needs the tool for
# the kernel's compression (gzip, xz, lz4, zstd or bzip2; make deps installs them).
set -euo pipefail

if [ "$#" -ne 2 ]; then
    echo "usage: $0 BZIMAGE OUTPUT" >&2
    exit 2
fi
bz=$1
out=$2
[ -f "$bz" ] || { echo "vmlinux.sh: $bz: no such file" >&2; exit 2; }
if [ -s "$out" ] && [ "$out" -nt "$bz" ]; then
    exit 0
fi

# u8/u32 OFFSET: little-endian numbers from the bzImage
u8() { od -An -tu1 -j "$1" -N1 "$bz" | tr -d ' '; }
u32() { od -An -tu4 -j "$1" -N4 "$bz" | tr -d ' '; }

[ "$(od -An -c -j $((0x202)) -N4 "$bz" | tr -d ' ')" = HdrS ] ||
    { echo "vmlinux.sh: $bz is not a bzImage" >&2; exit 1; }
sects=$(u8 $((0x1f1)))
[ "$sects" != 0 ] || sects=4
start=$(((sects + 1) * 512 + $(u32 $((0x248)))))
len=$(u32 $((0x24c)))

magic=$(od -An -tx1 -j "$start" -N6 "$bz" | tr -d ' \n')
case $magic in
1f8b*) unpack=(gzip -dc) ;;
fd377a585a00) unpack=(xz -dc --single-stream) ;; # the kernel appends its size after the stream
02214c18*) unpack=(lz4 -dc) ;;                    # lz4's legacy frame, as the kernel writes it
28b52ffd*) unpack=(zstd -dc) ;;
425a68*) unpack=(bzip2 -dc) ;;
*)
    echo "vmlinux.sh: $bz: payload compressed in a way this script does not know (magic $magic)" >&2
    exit 1
    ;;
esac
command -v "${unpack[0]}" >/dev/null ||
    { echo "vmlinux.sh: ${unpack[0]} missing: run make deps" >&2; exit 1; }

tmp=$out.tmp.$$
trap 'rm -f "$tmp"' EXIT
# The tools stop at their stream's end; the bytes the kernel appends after it (its size)
# make some complain, so only a wrong result counts as a failure.
tail -c +$((start + 1)) "$bz" | head -c "$len" | "${unpack[@]}" >"$tmp" 2>/dev/null || true
[ "$(od -An -c -N4 "$tmp" | tr -d ' ')" = '177ELF' ] ||
    { echo "vmlinux.sh: $bz: the payload did not unpack to an ELF file" >&2; exit 1; }
mv "$tmp" "$out"
