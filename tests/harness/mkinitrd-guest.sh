#!/usr/bin/env bash
# Builds an L2 (guest) initramfs: a gzip-compressed newc cpio holding
# busybox-static, a tiny static `outb` helper, kernel modules if asked for, and
# the given init script as /init. Needs no root.
#
#   tests/harness/mkinitrd-guest.sh [--extra DIR] [--modules LIST] [--compress gzip|none] INIT_SCRIPT OUTPUT
#
# --extra DIR copies DIR's tree into the image too (mkinitrd-host.sh uses it);
# --compress none writes a plain cpio (the kernel takes both).
# Modules: those named by --modules (comma or space separated) plus those on
# a line `# harness-modules: a b c` in the init script, with everything they
# depend on (modinfo), from the harness kernel (kernel.sh). They land,
# uncompressed, as /lib/modules/NAME.ko, and /lib/modules/load-order lists
# them dependencies first; the init loads them with
#   for m in $(cat /lib/modules/load-order); do insmod /lib/modules/$m.ko; done
#
# The Debian cloud kernel has no /dev/port (CONFIG_DEVPORT is off), so guests
# write the boot marker with `outb 0x440 1` instead of dd to /dev/port.
# /dev/console can't be mknod'ed without root; the archive gets the node from a
# hand-written cpio entry appended after the one cpio(1) produces (the kernel
# unpacks concatenated archives), so the kernel can open the console for /init.
# Inits still mount devtmpfs on /dev first (CONFIG_DEVTMPFS_MOUNT is off and
# does not apply to initramfs anyway).
# Every image also carries guest-prologue.sh as /lib/harness/prologue.sh, which
# each init sources first.
# Programs: a line `# harness-tools: a b` in the init script copies the static
# programs build/guest-tools/a and b (make guests builds them from
# tests/harness/a.c ...) to /bin. One not built yet is left out with a warning:
# the init finds it missing and says so, and its scenario SKIPs.
# Env: BUSYBOX (default: /bin/busybox, must be static), CC (default: cc),
#   GUEST_TOOLS (default: build/guest-tools of this tree).
set -euo pipefail

extra=
modules=
compress=gzip
while [ "$#" -gt 0 ]; do
    case "$1" in
    --extra) extra=$2; shift 2 ;;
    --modules) modules="$modules ${2//,/ }"; shift 2 ;;
    --compress) compress=$2; shift 2 ;;
    --) shift; break ;;
    -*) echo "mkinitrd-guest: unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
done
if [ "$#" -ne 2 ]; then
    echo "usage: $0 [--extra DIR] [--modules LIST] [--compress gzip|none] INIT_SCRIPT OUTPUT" >&2
    exit 2
fi
case "$compress" in
gzip) compressor=(gzip -n) ;;
none) compressor=(cat) ;;
*) echo "mkinitrd-guest: --compress gzip or none" >&2; exit 2 ;;
esac
init_script=$1
out=$2
busybox=${BUSYBOX:-/bin/busybox}
cc=${CC:-cc}

[ -f "$init_script" ] || { echo "mkinitrd-guest: no such init script: $init_script" >&2; exit 1; }
[ -x "$busybox" ] || { echo "mkinitrd-guest: $busybox missing (install busybox-static)" >&2; exit 1; }
# grep without -q reads all of readelf's output: under pipefail, a grep that stops early
# could kill readelf with SIGPIPE and turn a match into a failure
if LC_ALL=C readelf -l "$busybox" 2>/dev/null | grep 'Requesting program interpreter' >/dev/null; then
    echo "mkinitrd-guest: $busybox is dynamically linked (install busybox-static)" >&2
    exit 1
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/mkinitrd-guest.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/root/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,etc,root}

# Only /bin/sh is linked here (a fork per link is slow); each init starts with
# `/bin/busybox --install -s`, which makes the other applet links in-process.
cp "$busybox" "$stage/root/bin/busybox"
ln -s busybox "$stage/root/bin/sh"

# outb PORT VALUE: one byte to an I/O port (numbers in decimal or 0x hex).
# Freestanding: raw syscalls, no libc, so it is a few hundred bytes.
cat >"$stage/outb.c" <<'CEOF'
static long sys3(long n, long a, long b, long c)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return r;
}
static long num(const char *s)
{
    long v = 0, base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    for (; *s; s++) {
        int d = (*s >= '0' && *s <= '9') ? *s - '0'
              : (*s >= 'a' && *s <= 'f') ? *s - 'a' + 10
              : (*s >= 'A' && *s <= 'F') ? *s - 'A' + 10 : 99;
        if (d >= base)
            return -1;
        v = v * base + d;
    }
    return v;
}
__attribute__((used)) void outb_main(long *sp)
{
    char **argv = (char **)(sp + 1);
    long port = sp[0] == 3 ? num(argv[1]) : -1, val = sp[0] == 3 ? num(argv[2]) : -1;
    int rc = 1;
    if (port >= 0 && port < 65536 && val >= 0 && val < 256 && sys3(173 /* ioperm */, port, 1, 1) == 0) {
        __asm__ volatile("outb %b0, %w1" : : "a"(val), "Nd"(port));
        rc = 0;
    }
    sys3(60 /* exit */, rc, 0, 0);
}
__asm__(".globl _start\n_start:\n\tmov %rsp, %rdi\n\tand $-16, %rsp\n\tcall outb_main\n\thlt\n");
CEOF
"$cc" -static -nostdlib -Os -fno-pie -no-pie -fno-stack-protector -fno-asynchronous-unwind-tables \
    -Wl,--build-id=none -Wl,-z,norelro -o "$stage/root/bin/outb" "$stage/outb.c"
strip "$stage/root/bin/outb" 2>/dev/null || true

if [ -n "$extra" ]; then
    cp -a "$extra/." "$stage/root/"
fi

tools_dir=${GUEST_TOOLS:-$(cd "$(dirname "$0")/../.." && pwd)/build/guest-tools}
for tool in $(sed -n 's/^# harness-tools://p' "$init_script" | tr ',' ' '); do
    if [ -x "$tools_dir/$tool" ]; then
        cp "$tools_dir/$tool" "$stage/root/bin/$tool"
    else
        echo "mkinitrd-guest: $tools_dir/$tool missing (make guests): left out of $out" >&2
    fi
done

# Kernel modules: the closure, dependencies first. An unpacked package has no
# modules.dep, so ask modinfo (kmod) for each module's depends field.
modules="$modules $(sed -n 's/^# harness-modules://p' "$init_script" | tr ',' ' ')"
if [ -n "${modules// /}" ]; then
    if [ -z "${KERNEL_MODULES:-}" ]; then
        # shellcheck source=kernel.sh
        . "$(dirname "$0")/kernel.sh" >/dev/null
    fi
    modinfo=$(command -v modinfo || echo /sbin/modinfo)
    moddir=$stage/root/lib/modules
    mkdir -p "$moddir"
    order=()
    # One walk of the modules tree: module name (with _ for -) -> file.
    # (awk builds the table: a bash loop over ~1000 files costs 0.3 s.)
    declare -A kmod=()
    eval "$(find "$KERNEL_MODULES/kernel" \( -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' \) \
        -printf '%f\t%p\n' | awk -F'\t' -v q="'" '{
            m = $1; sub(/\.ko.*/, "", m); gsub(/-/, "_", m)
            if (!(m in seen)) { seen[m] = 1; printf "kmod[%s]=%s%s%s\n", m, q, $2, q }
        }')"
    add_module() {
        local name=$1 f dep seen
        for seen in "${order[@]}"; do
            [ "$seen" = "$name" ] && return 0
        done
        f=${kmod[${name//-/_}]:-}
        [ -n "$f" ] || { echo "mkinitrd-guest: module $name not found in $KERNEL_MODULES" >&2; return 1; }
        for dep in $("$modinfo" -F depends "$f" | tr ',' ' '); do
            add_module "$dep"
        done
        case "$f" in
        *.ko.xz) xz -dc "$f" >"$moddir/$name.ko" ;;
        *.ko.zst) zstd -dcq "$f" >"$moddir/$name.ko" ;;
        *) cp "$f" "$moddir/$name.ko" ;;
        esac
        order+=("$name")
    }
    for m in $modules; do
        add_module "$m"
    done
    printf '%s\n' "${order[@]}" >"$moddir/load-order"
fi
cp "$init_script" "$stage/root/init"
chmod 755 "$stage/root/init"
# what every init sources first
mkdir -p "$stage/root/lib/harness"
cp "$(dirname "$0")/guest-prologue.sh" "$stage/root/lib/harness/prologue.sh"

# One newc entry: NAME MODE(octal) RDEVMAJOR RDEVMINOR (no data).
newc_entry() {
    local name=$1 mode=$2 maj=$3 min=$4 namesize hdr pad
    namesize=$((${#name} + 1))
    hdr=$(printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
        0 $((8#$mode)) 0 0 1 0 0 0 0 "$maj" "$min" "$namesize" 0)
    printf '%s%s\0' "$hdr" "$name"
    pad=$(((4 - (110 + namesize) % 4) % 4))
    head -c "$pad" /dev/zero
}

mkdir -p "$(dirname "$out")"
{
    (cd "$stage/root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --owner 0:0 --quiet)
    newc_entry dev/console 020600 5 1
    newc_entry TRAILER!!! 0 0 0
} | "${compressor[@]}" >"$out.tmp"
mv "$out.tmp" "$out"
