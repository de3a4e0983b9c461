#!/usr/bin/env bash
# What `make musl` runs first: static musl builds of the libraries the static VMM links
# (liburing, libseccomp and the kernel payload's decompressors). Debian ships these only
# for glibc, so each is built from its Debian source package, at the version of the
# installed -dev package when the archive still has it, with musl-gcc: static library
# and headers only, no shared library, no programs.
#
# Cache: ${VMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minivmm}/musl/
#   include/ lib/    the prefix the libraries are installed into
#   kernel-include/  links to the host's Linux UAPI headers (musl-gcc leaves /usr/include
#                    out, and liburing, libseccomp and the VMM need <linux/...>)
#   apt/             apt's lists of source packages, kept apart from the system's
#   built/           one stamp per library: with all seven there this does nothing
# The deb-src lines are the system's own deb lines (sources.list and deb822 .sources), so
# this fetches from wherever apt already does; the system's apt configuration is not changed.
# Usage: tests/deps-musl.sh   prints MUSL_PREFIX=<cache>/musl
set -euo pipefail

cd "$(dirname "$0")/.."

cache=${VMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minivmm}/musl
musl_cc=${MUSL_CC:-musl-gcc}
jobs=${MUSL_JOBS:-2}

# source package, the -dev package the glibc build links, the library it installs
LIBS=(
    "zlib zlib1g-dev libz.a"
    "bzip2 libbz2-dev libbz2.a"
    "xz-utils liblzma-dev liblzma.a"
    "libzstd libzstd-dev libzstd.a"
    "lz4 liblz4-dev liblz4.a"
    "liburing liburing-dev liburing.a"
    "libseccomp libseccomp-dev libseccomp.a"
)

# Every run, as cheap as the check below: <asm/bootparam.h> wants <video/edid.h>.
mkdir -p "$cache/kernel-include"
for d in linux asm-generic video; do
    ln -sfn "/usr/include/$d" "$cache/kernel-include/$d"
done
ln -sfn "/usr/include/$(gcc -print-multiarch)/asm" "$cache/kernel-include/asm"

# One section per function and object, so that the VMM's link (--gc-sections) keeps only
# what it calls: lz4.o, for one, is mostly the compressor. Other flags rebuild them all.
lib_cflags="-O2 -ffunction-sections -fdata-sections"
if [ "$(cat "$cache/built/.cflags" 2>/dev/null)" != "$lib_cflags" ]; then
    rm -rf "$cache/built"
fi

todo=()
for entry in "${LIBS[@]}"; do
    read -r src _ lib <<<"$entry"
    if [ ! -e "$cache/built/$src" ] || [ ! -f "$cache/lib/$lib" ]; then
        todo+=("$entry")
    fi
done
if [ "${#todo[@]}" -eq 0 ]; then
    echo "MUSL_PREFIX=$cache"
    exit 0
fi

if ! command -v "$musl_cc" >/dev/null; then
    echo "deps-musl: no $musl_cc (Debian's musl-tools; make deps installs it)" >&2
    exit 1
fi

# libseccomp's configure insists on gperf, and Debian's newer syscall table makes the build
# regenerate its lookup table with it.
if [ ! -f "$cache/lib/libseccomp.a" ] && ! command -v gperf >/dev/null; then
    SUDO=()
    if [ "$(id -u)" -ne 0 ]; then
        SUDO=(sudo)
    fi
    echo "deps-musl: installing gperf" >&2
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q --no-install-recommends \
        gperf >/dev/null
fi

mkdir -p "$cache/include" "$cache/lib" "$cache/built"
echo "$lib_cflags" >"$cache/built/.cflags"

apt_dir=$cache/apt
APT=(
    -o "Dir::Etc::SourceList=$apt_dir/sources.list"
    -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
    -o "Dir::State::Lists=$apt_dir/lists"
    # the system's package caches stay as they are
    -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
)

# The system's deb sources as deb-src, in apt's private directory.
apt_sources() {
    local f
    rm -rf "$apt_dir/sources.list.d"
    mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial"
    if [ -f /etc/apt/sources.list ]; then
        sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' /etc/apt/sources.list >"$apt_dir/sources.list"
    else
        : >"$apt_dir/sources.list"
    fi
    for f in /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f" >>"$apt_dir/sources.list"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        sed 's/^Types:.*/Types: deb-src/' "$f" >"$apt_dir/sources.list.d/${f##*/}"
    done
}

apt_update() {
    echo "deps-musl: apt-get update (source lists only)" >&2
    apt-get "${APT[@]}" update -q >"$apt_dir/update.log" 2>&1 || {
        cat "$apt_dir/update.log" >&2
        return 1
    }
}

lists_fresh() {
    [ -n "$(find "$apt_dir/lists" -maxdepth 1 -name '*_Sources*' -mtime -7 2>/dev/null | sed -n 1p)" ]
}

# fetch SRC DEV DIR: unpacks SRC's source package into DIR/SRC. The installed DEV's source
# version first, so the musl build is the code the glibc build links; a security mirror may
# lack it (or any given version), so then every version apt knows, newest first.
fetch() {
    local src=$1 dev=$2 dir=$3 want versions v
    want=$(dpkg-query -W -f='${source:Version}' "$dev" 2>/dev/null || true)
    versions=$(apt-cache "${APT[@]}" showsrc "$src" 2>/dev/null | sed -n 's/^Version: //p' |
        sort -rV | uniq)
    for v in $want $versions; do
        rm -rf "$dir" && mkdir -p "$dir"
        chmod 755 "$dir" # apt's _apt user writes the files
        if (cd "$dir" && apt-get "${APT[@]}" source --download-only "$src=$v" \
            >"$dir/fetch.log" 2>&1); then
            (cd "$dir" && dpkg-source -x ./*.dsc "$src" >"$dir/unpack.log" 2>&1) || {
                cat "$dir/unpack.log" >&2
                return 1
            }
            echo "deps-musl: $src $v" >&2
            echo "$v" >"$dir/version"
            return 0
        fi
    done
    echo "deps-musl: no source package for $src could be fetched" >&2
    return 1
}

# Upstream's warning flags stay as they are; the optimisation is ours, like the VMM's.
export CC="$musl_cc"
export CFLAGS="$lib_cflags -isystem $cache/kernel-include"
export AR=ar RANLIB=ranlib

build() {
    local src=$1 s=$2 p=$cache
    case $src in
    zlib)
        (cd "$s" && ./configure --static --prefix="$p" && make -j"$jobs" libz.a)
        cp "$s/libz.a" "$p/lib/"
        cp "$s/zlib.h" "$s/zconf.h" "$p/include/"
        ;;
    bzip2)
        make -C "$s" -j"$jobs" CC="$CC" CFLAGS="$CFLAGS -D_FILE_OFFSET_BITS=64" libbz2.a
        cp "$s/libbz2.a" "$p/lib/"
        cp "$s/bzlib.h" "$p/include/"
        ;;
    xz-utils)
        (cd "$s" && ./configure --prefix="$p" --disable-shared --enable-static --disable-xz \
            --disable-xzdec --disable-lzmadec --disable-lzmainfo --disable-lzma-links \
            --disable-scripts --disable-doc --disable-nls)
        make -C "$s/src/liblzma" -j"$jobs"
        make -C "$s/src/liblzma" install
        ;;
    libzstd)
        make -C "$s/lib" -j"$jobs" libzstd.a
        cp "$s/lib/libzstd.a" "$p/lib/"
        cp "$s/lib/zstd.h" "$s/lib/zstd_errors.h" "$s/lib/zdict.h" "$p/include/"
        ;;
    lz4)
        make -C "$s/lib" -j"$jobs" liblz4.a
        cp "$s/lib/liblz4.a" "$p/lib/"
        cp "$s/lib/lz4.h" "$s/lib/lz4hc.h" "$s/lib/lz4frame.h" "$p/include/"
        ;;
    liburing)
        (cd "$s" && ./configure --prefix="$p" --cc="$CC")
        make -C "$s/src" -j"$jobs" liburing.a
        cp "$s/src/liburing.a" "$p/lib/"
        mkdir -p "$p/include/liburing"
        cp "$s/src/include/liburing.h" "$p/include/"
        cp "$s"/src/include/liburing/*.h "$p/include/liburing/"
        ;;
    libseccomp)
        (cd "$s" && ./configure --prefix="$p" --disable-shared --enable-static \
            --disable-python)
        make -C "$s/src" -j"$jobs" libseccomp.la
        cp "$s/src/.libs/libseccomp.a" "$p/lib/"
        cp "$s/include/seccomp.h" "$s/include/seccomp-syscalls.h" "$p/include/"
        ;;
    esac
}

apt_sources
if ! lists_fresh; then
    apt_update
fi
for entry in "${todo[@]}"; do
    read -r src dev lib <<<"$entry"
    dir=$cache/src/$src
    if ! fetch "$src" "$dev" "$dir"; then
        # The lists may name versions the mirror no longer has: refresh once, retry.
        apt_update
        fetch "$src" "$dev" "$dir"
    fi
    echo "deps-musl: building $lib" >&2
    # In a subshell of its own, not an if: errexit must stop the build at its first error.
    set +e
    (
        set -e
        build "$src" "$dir/$src"
    ) >"$dir/build.log" 2>&1
    rc=$?
    set -e
    if [ "$rc" -ne 0 ]; then
        tail -n 30 "$dir/build.log" >&2
        echo "deps-musl: building $src failed (log: $dir/build.log)" >&2
        exit 1
    fi
    cp "$dir/version" "$cache/built/$src"
    rm -rf "${dir:?}/$src"
done
echo "MUSL_PREFIX=$cache"
