#!/bin/sh
# L2 /init for the share scenario (tests/harness/scenarios/share.sh): loads
# virtio-pci and virtiofs, mounts the two shares the VMM exports and reports
# as GUEST key=value lines:
#   rw (tag share.rw): reads the seed file L1 put there, writes from-guest.txt
#     (a line with the token) and from-guest.bin (192 KiB of random bytes, in
#     several writes), prints their sha256 for L1 to compare with the host's
#     copies, then mkdir / rename / ln -s / rm / truncate inside the share;
#   ro (tag share.ro, readonly=on): reads its seed, and a new file, an append,
#     a mkdir, a rm and a touch must all fail;
#   escapes: reading and writing through ../.. from the mount point and through
#     the symlinks L1 made inside the share (to a file outside it, relative and
#     absolute) must not reach L1's file: the guest resolves ".." and symlinks
#     itself, so these paths land in the guest's own root file system.
# Every attempt is printed with its outcome ("GUEST escape: ..."); then both
# shares are unmounted, rw is mounted once more (a second FUSE session on the
# same device) and read back, and the guest powers off. The judging is done in L1 by the scenario.
# Kernel command line: share.token=T share.secret=PATH-IN-L1
# harness-modules: virtio_pci virtiofs
. /lib/harness/prologue.sh # boot marker, busybox applets, /dev /proc /sys
mkdir -p /tmp /mnt/rw /mnt/ro

token=none secret=none
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    share.token=*) token=${arg#share.token=} ;;
    share.secret=*) secret=${arg#share.secret=} ;;
    esac
done

bad=
for m in $(cat /lib/modules/load-order); do
    if ! msg=$(insmod "/lib/modules/$m.ko" 2>&1); then
        bad="$bad,$m"
        echo "GUEST insmod $m: $msg"
    fi
done
[ -z "$bad" ] && echo "GUEST modules=ok" || echo "GUEST modules=failed:${bad#,}"

# The devices probe while init runs: give the tags up to 10 s to appear.
i=0
while [ "$i" -lt 100 ] && ! grep -q virtiofs /proc/filesystems; do
    sleep 0.1
    i=$((i + 1))
done
for tag in rw ro; do
    i=0
    while :; do
        if msg=$(mount -t virtiofs "share.$tag" "/mnt/$tag" 2>&1); then
            echo "GUEST ${tag}_mount=ok"
            break
        fi
        i=$((i + 1))
        if [ "$i" -ge 50 ]; then
            echo "GUEST ${tag}_mount=failed:$msg"
            break
        fi
        sleep 0.2
    done
done
dmesg -n 4
echo "GUEST mounts=$(awk '$3 == "virtiofs" { printf "%s:%s:%s ", $1, $2, substr($4, 1, 2) }' /proc/mounts)"

# result NAME CMD...: run CMD, print GUEST NAME=ok or NAME=failed:<message>.
result() {
    name=$1
    shift
    if msg=$("$@" 2>&1); then
        echo "GUEST $name=ok"
    else
        echo "GUEST $name=failed:$(echo "$msg" | head -n1)"
    fi
}

# ---- the read-write share
echo "GUEST rw_seed=$(cat /mnt/rw/seed.txt 2>&1)"
echo "minivmm share test token=$token" >/mnt/rw/from-guest.txt &&
    dd if=/dev/urandom of=/tmp/data.bin bs=4096 count=48 2>/dev/null &&
    dd if=/tmp/data.bin of=/mnt/rw/from-guest.bin bs=16384 2>/dev/null && sync &&
    echo "GUEST rw_write=ok" || echo "GUEST rw_write=failed"
echo "GUEST rw_txt_sha256=$(sha256sum /mnt/rw/from-guest.txt | cut -d' ' -f1)"
echo "GUEST rw_bin_sha256=$(sha256sum /tmp/data.bin | cut -d' ' -f1)"
echo "GUEST rw_bin_readback_sha256=$(sha256sum /mnt/rw/from-guest.bin | cut -d' ' -f1)"
rw_ops() {
    mkdir /mnt/rw/dir &&
        echo moved >/mnt/rw/dir/a &&
        mv /mnt/rw/dir/a /mnt/rw/dir/b &&
        [ "$(cat /mnt/rw/dir/b)" = moved ] &&
        ln -s b /mnt/rw/dir/link &&
        [ "$(readlink /mnt/rw/dir/link)" = b ] &&
        [ "$(cat /mnt/rw/dir/link)" = moved ] &&
        ln /mnt/rw/dir/b /mnt/rw/dir/hard &&
        [ "$(stat -c %h /mnt/rw/dir/b)" = 2 ] &&
        truncate -s 3 /mnt/rw/dir/hard &&
        [ "$(cat /mnt/rw/dir/b)" = mov ] &&
        chmod 600 /mnt/rw/dir/b &&
        [ "$(stat -c %a /mnt/rw/dir/b)" = 600 ] &&
        ls /mnt/rw/dir | tr '\n' ' ' | grep -q 'b hard link' &&
        rm /mnt/rw/dir/b /mnt/rw/dir/hard /mnt/rw/dir/link &&
        rmdir /mnt/rw/dir &&
        [ ! -e /mnt/rw/dir ]
}
result rw_ops rw_ops
echo "GUEST rw_ls=$(ls /mnt/rw | tr '\n' ' ')"
echo "GUEST rw_df=$(df -k /mnt/rw | awk 'NR == 2 { print $2 }')"

# ---- the read-only share
echo "GUEST ro_seed=$(cat /mnt/ro/seed.txt 2>&1)"
result ro_create sh -c 'echo x >/mnt/ro/new.txt'
result ro_append sh -c 'echo x >>/mnt/ro/seed.txt'
result ro_mkdir mkdir /mnt/ro/newdir
result ro_rm rm -f /mnt/ro/seed.txt
result ro_touch touch /mnt/ro/seed.txt
echo "GUEST ro_seed_after=$(cat /mnt/ro/seed.txt 2>&1)"

# ---- escapes: none may read or write L1's file
attempt() { # WHAT CMD...
    what=$1
    shift
    if out=$("$@" 2>&1); then
        echo "GUEST escape: $what -> succeeded: $(echo "$out" | head -n1)"
    else
        echo "GUEST escape: $what -> failed: $(echo "$out" | head -n1)"
    fi
}
attempt "cat /mnt/rw/../../secret.txt" cat /mnt/rw/../../secret.txt
attempt "cat /mnt/rw/../../../..$secret" cat "/mnt/rw/../../../..$secret"
attempt "ls /mnt/rw/../.." ls /mnt/rw/../..
attempt "cat /mnt/rw/link-rel (-> ../outside/secret.txt)" cat /mnt/rw/link-rel
attempt "cat /mnt/rw/link-abs (-> $secret)" cat /mnt/rw/link-abs
attempt "readlink /mnt/rw/link-abs" readlink /mnt/rw/link-abs
attempt "write through /mnt/rw/link-rel" sh -c 'echo pwned >/mnt/rw/link-rel'
attempt "write through /mnt/rw/link-abs" sh -c 'echo pwned >/mnt/rw/link-abs'
attempt "cat /mnt/rw/link-dir/secret.txt (link-dir -> ../outside)" cat /mnt/rw/link-dir/secret.txt
attempt "cp into /mnt/rw/link-dir/" sh -c 'echo pwned >/mnt/rw/link-dir/planted.txt'
attempt "mknod /mnt/rw/null c 1 3" mknod /mnt/rw/null c 1 3
echo "GUEST escape_guest_root=$(ls / | tr '\n' ' ')"

# ---- FIFOs: the file server must never wait for a FIFO's other end.
# The guest's own open of a FIFO it made stays in the guest (a writer waits for
# a reader there, so timeout ends it). Meanwhile L1 makes and removes rw/race
# as a FIFO as fast as it can: an O_CREAT open here then reaches the server as
# CREATE (no O_EXCL) of a name that may be a FIFO by the time it arrives, which
# used to block the server in open() for ever. Afterwards the share must still
# answer, and poweroff must end the VMM with 0.
result fifo_mkfifo mkfifo /mnt/rw/fifo
echo "GUEST fifo_type=$(stat -c %F /mnt/rw/fifo 2>&1)"
timeout 1 sh -c 'echo x >/mnt/rw/fifo' 2>/dev/null
echo "GUEST fifo_guest_open=$?"
# outcomes: a regular file made (ok), the server's ENXIO for what had become a
# FIFO (the race hit), the guest's own FIFO open ended by timeout, or else
n=0 ok=0 nx=0 to=0 other=
: >/mnt/rw/race-go # L1's loop starts now (it sleeps until then, to leave the boot its CPU)
sleep 1
t0=$(cut -d' ' -f1 /proc/uptime)
while [ "$n" -lt 100 ]; do
    msg=$(timeout 1 sh -c 'echo x >/mnt/rw/race' 2>&1)
    rc=$?
    case "$rc:$msg" in
    0:*) ok=$((ok + 1)) ;;
    *"No such device or address"*) nx=$((nx + 1)) ;;
    124:* | 143:*) to=$((to + 1)) ;;
    *) other="$other $rc:$(echo "$msg" | head -n1)" ;;
    esac
    n=$((n + 1))
done
: >/mnt/rw/race-stop
t1=$(cut -d' ' -f1 /proc/uptime)
echo "GUEST fifo_race_opens=$n"
echo "GUEST fifo_race=regular:$ok enxio:$nx guest_timeout:$to other:${other:-none} in $(awk "BEGIN { print $t1 - $t0 }") s"
# not rw/race: L1's loop may still be between its mkfifo and rm when it reads the stop
# file, so a cached name can vanish under rm; L1 removes it once the loop is gone
result fifo_after sh -c 'echo after >/mnt/rw/after-fifo &&
    [ "$(cat /mnt/rw/after-fifo)" = after ] && rm -f /mnt/rw/after-fifo /mnt/rw/fifo /mnt/rw/race-go /mnt/rw/race-stop'

umount /mnt/rw && umount /mnt/ro && echo "GUEST umount=ok" || echo "GUEST umount=failed"
# Mounting again starts a new FUSE session (DESTROY, then INIT) on the same device.
if mount -t virtiofs share.rw /mnt/rw 2>/dev/null &&
    [ "$(cat /mnt/rw/from-guest.txt 2>&1)" = "minivmm share test token=$token" ] &&
    umount /mnt/rw; then
    echo "GUEST remount=ok"
else
    echo "GUEST remount=failed"
fi
echo "GUEST done=1"
sync
poweroff -f
echo "GUEST poweroff failed"
exit 1
