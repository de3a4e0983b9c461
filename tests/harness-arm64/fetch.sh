#!/usr/bin/env bash
# The arm64 packages the arm64 build and its boot test need, downloaded with apt-get download
# and unpacked (dpkg-deb -x) into ${VMM_CACHE:-~/.cache/minivmm}/arm64/root, never installed:
#   linux-image-<version>-cloud-arm64  the kernel, both outer host and guest in boot.sh
#   busybox-static                     the shells of both initramfs
#   libfdt-dev                         libfdt.a for `make ARCH=arm64` (the Makefile looks here;
#                                      Debian's libfdt-dev:arm64 conflicts with the host's)
# apt must know arm64 (dpkg --add-architecture arm64; apt-get update). The kernel is the x86
# harness's version (tests/harness/kernel.sh) built for arm64, or ARM64_KERNEL_PACKAGE.
# With everything cached it touches no network.
# Usage: tests/harness-arm64/fetch.sh  prints KERNEL=, MODULES=, BUSYBOX= and SYSROOT= lines;
#        sourced, it sets and exports them.

_arm64_fetch() {
	local root=$1 name=$2 check=$3 tmp
	[ -e "$root/$check" ] && return 0
	echo "fetch.sh: fetching $name:arm64" >&2
	tmp=$(mktemp -d "$root/../.fetch.XXXXXX") || return 1
	chmod 755 "$tmp" # apt's _apt user writes the .deb
	if ! (cd "$tmp" && apt-get download "$name:arm64" >&2) ||
		! dpkg-deb -x "$tmp"/*.deb "$root"; then
		echo "fetch.sh: cannot fetch $name:arm64 (dpkg --add-architecture arm64;" \
			"apt-get update)" >&2
		rm -rf "$tmp"
		return 1
	fi
	rm -rf "$tmp"
}

_arm64_fetch_main() {
	local cache="${VMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minivmm}"
	local root="$cache/arm64/root" pkg=${ARM64_KERNEL_PACKAGE:-} x86 ver

	mkdir -p "$root" || return 1
	if [ -z "$pkg" ]; then
		x86=$(find "$cache" -maxdepth 1 -name 'kernel-*-cloud-amd64' -printf '%f\n' |
			sort -V | tail -n1)
		[ -n "$x86" ] ||
			x86=kernel-$(tests/harness/kernel.sh | sed -n 's/^KERNEL_VERSION=//p')
		x86=${x86#kernel-}
		pkg=linux-image-${x86%-cloud-amd64}-cloud-arm64
	fi
	ver=${pkg#linux-image-}
	_arm64_fetch "$root" "$pkg" "boot/vmlinuz-$ver" &&
		_arm64_fetch "$root" busybox-static bin/busybox &&
		_arm64_fetch "$root" libfdt-dev usr/lib/aarch64-linux-gnu/libfdt.a || return 1
	chmod a+r "$root/boot/vmlinuz-$ver" # root-only in the package
	KERNEL="$root/boot/vmlinuz-$ver"
	MODULES="$root/lib/modules/$ver"
	BUSYBOX="$root/bin/busybox"
	SYSROOT="$root"
	export KERNEL MODULES BUSYBOX SYSROOT
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	cd "$(dirname "$0")/../.."
	_arm64_fetch_main
	echo "KERNEL=$KERNEL"
	echo "MODULES=$MODULES"
	echo "BUSYBOX=$BUSYBOX"
	echo "SYSROOT=$SYSROOT"
else
	_arm64_fetch_main
fi
