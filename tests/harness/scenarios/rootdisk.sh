#!/bin/sh
# Scenario "rootdisk" (runs inside L1): a Debian guest whose root file system
# is a virtio-blk disk. run.sh attaches the minbase Debian image that
# tests/harness/rootfs-image.sh built (cached) to L1 read-only, serial rootfs;
# this boots the guest kernel with the rootdisk initramfs and
#   --disk path=<that disk>,readonly=on,serial=rootfs
#   --cmdline '... root=/dev/vda ro'
# The initramfs (guest-init/rootdisk.sh) finds the disk by serial, mounts it
# and switch_roots into it; Debian's /bin/sh reports and powers off.
# PASS: VMM exit status 0, the guest ran as PID 1 in the Debian root (dash)
# with /etc/debian_version as built (harness.rootfs.version=), the root
# mounted from /dev/vdX as ext4, dpkg answering, and then powered off.
# L1 kernel command line (from run.sh): harness.rootfs.version=V, or
#   harness.rootfs.skip="why" when there is no image (SKIP with that reason).
# Env (set by host-init.sh): VMM GUEST_KERNEL GUEST_INITRD_DIR LOG_DIR
#   HARNESS_TIMEOUT (seconds, default 120; this run gets at most 90)
#   HARNESS_VERBOSE (1: print full logs)
. /lib/harness/scenario.sh # vmm_status_why
name=rootdisk
out=$LOG_DIR/$name.console # guest serial (VMM stdout)
err=$LOG_DIR/$name.vmm     # VMM's own log (stderr)
limit=${HARNESS_TIMEOUT:-120}
[ "$limit" -le 90 ] || limit=90

skip=$(sed -n 's/.*harness\.rootfs\.skip="\([^"]*\)".*/\1/p' /proc/cmdline)
if [ -n "$skip" ]; then
    echo "SKIP: $name: $skip"
    exit 0
fi
version=
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    harness.rootfs.version=*) version=${arg#harness.rootfs.version=} ;;
    esac
done

dev=
i=0
while [ "$i" -lt 50 ]; do
    for b in /sys/block/vd*; do
        if [ -f "$b/serial" ] && [ "$(cat "$b/serial" 2>/dev/null)" = rootfs ]; then
            dev=/dev/${b##*/}
        fi
    done
    [ -z "$dev" ] || break
    sleep 0.1
    i=$((i + 1))
done
if [ -z "$dev" ]; then
    echo "SKIP: $name: L1 has no disk with serial rootfs (tests/harness/run.sh attaches it)"
    exit 0
fi
echo "$name: L1 disk: rootfs=$dev (ro=$(cat "/sys/block/${dev#/dev/}/ro"))"

t0=$(cut -d' ' -f1 /proc/uptime)
timeout -k 5 "$limit" "$VMM" --kernel "$GUEST_KERNEL" \
    --initrd "$GUEST_INITRD_DIR/rootdisk.cpio.gz" \
    --cmdline "console=ttyS0 panic=-1 reboot=k root=/dev/vda ro rootdisk.serial=rootfs" \
    --cpus 1 --memory 512M --disk "path=$dev,readonly=on,serial=rootfs" \
    >"$out" 2>"$err" </dev/null
rc=$?
t1=$(cut -d' ' -f1 /proc/uptime)
secs=$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }")
tr -d '\r' <"$out" >"$out.txt"

grep -E '^GUEST ' "$out.txt"
grep -E '^vmm: ' "$err"
echo "$name: VMM exited with status $rc after $secs s (L1 time)"

# value KEY: the first GUEST line's word KEY=value (a line may hold several).
value() {
    awk -v k="$1=" '$1 == "GUEST" { for (i = 2; i <= NF; i++) if (index($i, k) == 1) { print substr($i, length(k) + 1); exit } }' "$out.txt"
}
why=$(vmm_status_why "$rc" "$limit")
if [ "$(value "done")" != 1 ]; then
    last=$(grep -E '^GUEST ' "$out.txt" | tail -n1)
    why="$why; the guest did not finish (last: ${last:-no GUEST line at all})"
else
    [ "$(value pid)" = 1 ] || why="$why; the command ran as pid $(value pid), not 1"
    case "$(value shell)" in
    */dash) ;;
    *) why="$why; shell $(value shell) (want Debian's dash)" ;;
    esac
    got=$(value debian_version)
    if [ -n "$version" ]; then
        [ "$got" = "$version" ] || why="$why; debian_version=${got:-missing} (the image has $version)"
    else
        case "$got" in
        [0-9]*) ;;
        *) why="$why; debian_version=${got:-missing}" ;;
        esac
    fi
    case "$(value root_dev)" in
    /dev/vd[a-z]) ;;
    *) why="$why; root_dev=$(value root_dev)" ;;
    esac
    [ "$(value root_fstype)" = ext4 ] || why="$why; root_fstype=$(value root_fstype)"
    grep -q "^GUEST dpkg=Debian 'dpkg' package management program version" "$out.txt" ||
        why="$why; dpkg --version: $(sed -n 's/^GUEST dpkg=//p' "$out.txt")"
fi

if [ "${HARNESS_VERBOSE:-0}" = 1 ]; then
    echo "--- $name: guest console"
    sed 's/^/| /' "$out.txt"
    echo "--- $name: VMM log"
    sed 's/^/| /' "$err"
fi
if [ -n "$why" ]; then
    echo "FAIL: $name: ${why#; }"
    if [ "${HARNESS_VERBOSE:-0}" != 1 ]; then
        echo "--- $name: guest kernel lines about virtio/disks"
        grep -iE 'virtio|vd[a-z]|EXT4|I/O error|blk_' "$out.txt" | grep -v '^GUEST ' | tail -n 20 | sed 's/^/| /'
        echo "--- $name: last 40 lines of the guest console"
        tail -n 40 "$out.txt" | sed 's/^/| /'
        echo "--- $name: last 40 lines of the VMM log"
        tail -n 40 "$err" | sed 's/^/| /'
    fi
    exit 1
fi
echo "PASS: $name"
