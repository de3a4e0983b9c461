#!/bin/sh
# Scenario "unpack" (runs inside L1): the boot scenario's checks with the guest
# bzImage unpacked on the host, the default (--kernel-unpack host): the first
# run unpacks its payload into an empty cache and says so ("now cached"), the
# second boots the cache entry ("from the cache"); then the bzImage with its
# own decompressor (--kernel-unpack guest), which must say nothing of it, and
# one more of each, interleaved, so that the boot markers' times (VMM start to
# the guest's init, L1 time) compare the two ways under the same load.
# Env (set by host-init.sh): VMM GUEST_KERNEL LOG_DIR, and boot.sh's
name=unpack
cache=/tmp/unpack-cache
why=
XDG_CACHE_HOME=$cache
export XDG_CACHE_HOME
rm -rf "$cache"

# boot_as NAME ARGS WANT: one boot.sh run (its own PASS/FAIL line); WANT is the
# text its VMM log must hold, or '-' for no "unpacked on the host" line at all
boot_as() {
    BOOT_NAME=$1 BOOT_ARGS=$2 sh /scenarios/boot.sh || why="$why; $1: the boot checks failed (above)"
    if [ "$3" = - ]; then
        ! grep -q 'unpacked on the host' "$LOG_DIR/$1.vmm" ||
            why="$why; $1: the VMM unpacked the kernel although told not to"
    else
        grep -q "booting the vmlinux unpacked on the host (.*$3)" "$LOG_DIR/$1.vmm" ||
            why="$why; $1: no 'booting the vmlinux unpacked on the host (..., $3)' line (it said '$(grep -m1 '^kernel: ' "$LOG_DIR/$1.vmm")')"
    fi
}

boot_as unpack-new "" "now cached"
n=$(ls "$cache/minivmm/kernels" 2>/dev/null | grep -c '^[0-9a-f]\{64\}\.vmlinux$')
[ "$n" = 1 ] || why="$why; $n cache entries after the first run (want 1)"
boot_as unpack-guest1 "--kernel-unpack guest" -
boot_as unpack-cached1 "" "from the cache"
boot_as unpack-guest2 "--kernel-unpack guest" -
boot_as unpack-cached2 "" "from the cache"

# the boot marker: milliseconds from the VMM's start to the guest's init
marker() { sed -n 's/^vmm: boot marker 0x.. at \([0-9.]*\) ms$/\1/p' "$LOG_DIR/$1.vmm" | head -n1; }
echo "$name: boot marker (ms, L1 time): host unpack new $(marker unpack-new)," \
    "cached $(marker unpack-cached1) $(marker unpack-cached2);" \
    "guest unpack $(marker unpack-guest1) $(marker unpack-guest2)"

if [ -n "$why" ]; then
    echo "FAIL: $name: ${why#; }"
    exit 1
fi
echo "PASS: $name"
