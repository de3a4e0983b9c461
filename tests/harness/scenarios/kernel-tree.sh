#!/bin/sh
# Scenario "kernel-tree" (runs inside L1): `vmm run --kernel DIR` with DIR laid out as a
# kernel build tree leaves it, made from Debian's kernel package: the bzImage at
# arch/x86/boot/bzImage, include/config/kernel.release, modules.order with the tree's
# relative paths, and the virtio and FUSE modules at those paths. L1's own
# /lib/modules is hidden behind an empty tmpfs (a mount namespace of the VMM's own), so
# the modules can only come from the tree. The guest must report the tree's release
# and have virtiofs, fuse and virtio_pci loaded, with the command's status passed back.
# Env (set by host-init.sh): VMM GUEST_KERNEL LOG_DIR HARNESS_TIMEOUT HARNESS_VERBOSE
. /lib/harness/scenario.sh
name=kernel-tree
limit=${HARNESS_TIMEOUT:-120}
rel=$(uname -r) # L1 runs the guest's kernel
mods=/lib/modules/$rel
tree=/tmp/linux-build
why=
rm -rf "$tree"
mkdir -p "$tree/include/config" "$tree/arch/x86/boot"
echo "$rel" >"$tree/include/config/kernel.release"
cp "$GUEST_KERNEL" "$tree/arch/x86/boot/bzImage"
# a build tree lists its modules relative to itself, not under kernel/
sed 's#^kernel/##' "$mods/modules.order" >"$tree/modules.order"
(cd "$mods/kernel" && find . -name '*.ko*') | while read -r ko; do
    mkdir -p "$tree/$(dirname "$ko")"
    cp "$mods/kernel/$ko" "$tree/$ko"
done
echo "$name: tree $tree: $(find "$tree" -name '*.ko*' | wc -l) modules, release $rel"

out=$LOG_DIR/$name.out
err=$LOG_DIR/$name.err
t0=$(cut -d' ' -f1 /proc/uptime)
unshare -m sh -c 'mount -t tmpfs none /lib/modules && exec "$0" "$@"' \
    timeout -k 5 "$limit" "$VMM" run --verbose --kernel "$tree" -- \
    sh -c 'uname -r; cat /proc/modules | cut -d" " -f1 | sort | tr "\n" " "; echo; ls /lib/modules | wc -l; exit 5' \
    >"$out" 2>"$err" </dev/null
rc=$?
t1=$(cut -d' ' -f1 /proc/uptime)
echo "$name: VMM exited with status $rc after $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") s (L1 time)"
sed 's/^/| stdout: /' "$out"
echo
grep -iE 'module|virtio|fuse|vmm-run|vmm:' "$err" | tail -n 30 | sed 's/^/| stderr: /'
[ "$rc" = 5 ] || why="$why; exit status $rc, expected the command's 5"
[ "$(sed -n 1p "$out")" = "$rel" ] || why="$why; uname -r said '$(sed -n 1p "$out")', expected $rel"
for m in virtiofs fuse virtio_pci; do
    sed -n 2p "$out" | grep -qw "$m" || why="$why; module $m not loaded"
done
[ "$(sed -n 3p "$out")" = 0 ] || why="$why; the guest saw L1's /lib/modules, not the hidden one"
if [ -z "$why" ]; then
    echo "PASS: $name (release $rel; virtiofs, fuse and virtio_pci from the tree; /lib/modules hidden)"
else
    echo "FAIL: $name: ${why#; }"
fi
rm -rf "$tree"
